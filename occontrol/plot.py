"""Figures with matplotlib (files written atomically).

Figures are built as ``matplotlib.figure.Figure`` objects with their own
canvas, never through pyplot: the package changes no global plotting state
(backend, rcParams, pyplot's figure list), so a notebook user's setup is
left as it was.
"""

from __future__ import annotations

import os
from typing import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .io import atomic_write

__all__ = ["new_figure", "colors", "save_figure", "control_overlay", "convergence_plot", "solution_figure"]


def new_figure(**kwargs) -> Figure:
    """A figure outside pyplot (``Figure`` keyword arguments: figsize, layout, ...)."""
    return Figure(**kwargs)


def colors(name: str, values: np.ndarray) -> np.ndarray:
    """RGBA colours of a named colormap at ``values`` in [0, 1] (read from the registry, not pyplot)."""
    return matplotlib.colormaps[name](values)


def save_figure(fig, path: str | os.PathLike) -> None:
    """Save ``fig`` atomically (format from the file suffix)."""
    suffix = os.path.splitext(str(path))[1] or ".png"
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight", format=suffix[1:]),
                 suffix=suffix)


def control_overlay(series: Sequence[tuple[str, np.ndarray, np.ndarray]], names: Sequence[str],
                    path: str | os.PathLike, title: str = "", nodal: bool = False) -> None:
    """One panel per control component, every grid's function overlaid.

    Parameters
    ----------
    series : sequence of (label, nodes (N + 1,), values (N, p) or (N + 1, p) when nodal)
    names : the p component names
    """
    p = len(names)
    cols = min(p, 3)
    rows = int(np.ceil(p / cols))
    fig = new_figure(figsize=(4.2 * cols, 2.8 * rows))
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for (label, nodes, values), color in zip(series, colors("viridis", np.linspace(0, 0.9, len(series)))):
        values = np.reshape(values, (values.shape[0], -1))
        for j in range(p):
            ax = axes[j // cols, j % cols]
            if nodal:
                ax.plot(nodes, values[:, j], color=color, lw=1.2, label=label)
            else:
                ax.stairs(values[:, j], nodes, baseline=None, color=color, lw=1.2, label=label)
    for j in range(rows * cols):
        ax = axes[j // cols, j % cols]
        if j >= p:
            ax.set_visible(False)
            continue
        ax.set_title(names[j], fontsize=10)
        ax.grid(alpha=0.3)
        if j // cols == rows - 1:
            ax.set_xlabel("t")
    axes[0, 0].legend(fontsize=7, ncol=2)
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def convergence_plot(study, path: str | os.PathLike, title: str = "") -> None:
    """Log-log distances between consecutive minimisers and objective gaps against h,
    with reference slopes 1 and 1/2 through the last point."""
    fig = new_figure(figsize=(6, 4.2))
    ax = fig.subplots()
    h_of = {lv.N: lv.h for lv in study.levels}
    if study.distances:
        h = np.array([h_of[d.N_next] for d in study.distances])
        for metric, marker in (("l2", "o"), ("sup", "s"), ("h1", "^"), ("objective_gap", "D")):
            values = np.array([getattr(d, metric) for d in study.distances])
            label = {"l2": "L2 distance", "sup": "sup distance", "h1": "H1 seminorm",
                     "objective_gap": "|E_N - E_2N|"}[metric]
            ax.loglog(h, values, marker=marker, label=label)
        jumps = [h_of[d.N_next] for d in study.distances if d.branch_jump]
        for hj in jumps:
            ax.axvline(hj, color="red", ls=":", lw=1)
        ref = np.array([h.min(), h.max()])
        anchor = study.distances[-1].l2
        ax.loglog(ref, anchor * (ref / h.min()), "k--", lw=0.8, label="slope 1")
        ax.loglog(ref, anchor * np.sqrt(ref / h.min()), "k:", lw=0.8, label="slope 1/2")
    ax.set_xlabel("h (finer grid of each pair)")
    ax.set_ylabel("distance")
    ax.grid(alpha=0.3, which="both")
    if ax.get_legend_handles_labels()[0]:  # no distances (failed ladder): nothing to label
        ax.legend(fontsize=8)
    ax.set_title(title or "Convergence of the minimisers")
    save_figure(fig, path)


def solution_figure(sol) -> Figure:
    """States and controls of a :class:`occontrol.Solution` against time, one panel per variable.

    Every component is one line (a matrix state: one thin line per entry);
    piecewise-constant controls are drawn as steps (their last value repeated
    to tf), piecewise-linear ones as lines through the nodes.
    """
    ocp = sol.problem.ocp
    variables = [v for v in ocp.declarations if v.kind in ("state", "control")]
    fig = new_figure(figsize=(6.4, 1.9 * max(len(variables), 1)), layout="constrained")
    axes = fig.subplots(max(len(variables), 1), 1, squeeze=False, sharex=True)[:, 0]
    constant = sol.problem.transcription.controls == "constant"
    for ax, var in zip(axes, variables):
        values = np.reshape(np.asarray(sol.value(var.symbol)), (-1, var.size))
        thin = var.size > 6  # an ensemble: many thin lines
        if var.kind == "control" and constant:
            values = np.vstack([values, values[-1:]])
        style = "steps-post" if var.kind == "control" and constant else "default"
        for j in range(var.size):
            ax.plot(sol.t, values[:, j], drawstyle=style, lw=0.6 if thin else 1.3,
                    label=None if thin or var.size == 1 else f"{var.name}[{j}]")
        ax.set_ylabel(var.name)
        ax.grid(alpha=0.3)
        if 1 < var.size <= 6:
            ax.legend(fontsize=7)
    axes[-1].set_xlabel("t")
    fig.suptitle(f"{'' if sol.success else 'FAILED: '}objective {sol.objective:.6g}, N = {sol.N}")
    return fig
