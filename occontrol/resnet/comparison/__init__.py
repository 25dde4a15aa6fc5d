"""Gradient training against optimal control, on the very same E_N (issue 5).

The public names of the comparison live here; the modules behind them are
private: the driver (:func:`compare`, :class:`CompareConfig`,
:class:`CompareResult`), the metrics (initialisations, distances, gradient
norms) and the report (markdown and figures, imported on first use:
matplotlib only when drawing). :func:`occontrol.resnet.compare` is
:func:`occontrol.resnet.comparison.compare`.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._driver import SCHEMA, SETTINGS, CompareConfig, CompareResult, Setting, compare
from ._metrics import constant_from, gradient_norm, iid_network, initial_network, theta_distance
from ._rows import OUTCOMES, GradientRow, IpoptRow, row_from_dict

_REPORT = ("markdown", "compare_figures", "summary_table", "distance_table", "objective_time_figure",
           "deep_limit_figure", "theta_pair_figure")

__all__ = ["compare", "CompareConfig", "CompareResult", "Setting", "SETTINGS", "SCHEMA", "iid_network",
           "initial_network", "theta_distance", "gradient_norm", "constant_from", "OUTCOMES", "IpoptRow",
           "GradientRow", "row_from_dict", *_REPORT]


def __getattr__(name: str) -> Any:
    if name not in _REPORT:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module("._report", __name__), name)
