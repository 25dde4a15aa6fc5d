"""PyTorch, the optional dependency (extra occontrol[torch]), imported when needed; the device,
dtype and thread settings of gradient training."""

from __future__ import annotations

import os
from typing import Any

from .._checks import as_choice, as_positive_int

__all__ = ["import_torch", "DEVICES", "DTYPES", "check_device", "torch_device", "torch_dtype", "resolve_threads"]

DEVICES = ("cpu", "cuda")
DTYPES = ("float32", "float64")


def import_torch() -> Any:
    """The torch module; an ImportError that says how to install it when it is missing."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("PyTorch is needed here: pip install 'occontrol[torch]'") from exc
    return torch


def check_device(device: Any) -> str:
    """'cpu', or 'cuda' when torch sees a CUDA device; a ValueError naming ``device`` otherwise."""
    as_choice(device, "device", DEVICES)
    if device == "cuda":
        try:
            torch = import_torch()
        except ImportError as exc:
            raise ValueError(f"device: 'cuda' needs PyTorch ({exc})") from None
        if not torch.cuda.is_available():
            raise ValueError(f"device: 'cuda' asked for, but torch {torch.__version__} sees no CUDA device "
                             "(torch.cuda.is_available() is False); use cpu")
    return device


def torch_device(torch: Any, device: str) -> Any:
    return torch.device(check_device(device))


def torch_dtype(torch: Any, dtype: str) -> Any:
    return {"float32": torch.float32, "float64": torch.float64}[as_choice(dtype, "dtype", DTYPES)]


def resolve_threads(threads: Any) -> int:
    """torch's intra-op threads: ``threads``, or the machine's cores for 0."""
    threads = as_positive_int(threads, "threads", minimum=0)
    return threads if threads > 0 else (os.cpu_count() or 1)
