"""PyTorch, the optional dependency (extra occontrol[torch]), imported when needed."""

from __future__ import annotations

from typing import Any

__all__ = ["import_torch"]


def import_torch() -> Any:
    """The torch module; an ImportError that says how to install it when it is missing."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("PyTorch is needed here: pip install 'occontrol[torch]'") from exc
    return torch
