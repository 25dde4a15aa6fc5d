"""Figures of the deep-limit study: theta(t) for every N, convergence, and the
decision boundary with sample trajectories."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..plot import colors, control_overlay, convergence_plot, new_figure, save_figure
from .network import ResNet

__all__ = ["theta_figure", "boundary_figure", "study_figures"]


def theta_names(m: int) -> list[str]:
    return [f"A[{i},{j}]" for j in range(m) for i in range(m)] + [f"b[{i}]" for i in range(m)]


def theta_figure(networks: dict[int, ResNet], path: str | os.PathLike, title: str = "") -> None:
    """theta(t) components of every N overlaid: the picture of the deep limit."""
    series = []
    for N in sorted(networks):
        net = networks[N]
        series.append((f"N={N}", net.nodes, net.theta))
    m = next(iter(networks.values())).width
    control_overlay(series, theta_names(m), path, title or "theta(t) for every N (piecewise constant per layer)")


def boundary_figure(net: ResNet, X: np.ndarray, y: np.ndarray, path: str | os.PathLike, n_paths: int = 40) -> None:
    """Decision regions in the input plane and trajectories of some samples (d = 2 only)."""
    if X.shape[1] != 2:
        return
    fig = new_figure(figsize=(11, 4.6))
    ax0, ax1 = fig.subplots(1, 2)
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    if net.loss == "squared":
        Z = net.predict(grid)
    else:
        Z = net.predict_proba(grid)[:, -1]
    ax0.contourf(gx, gy, Z.reshape(gx.shape), levels=20, cmap="RdBu_r", alpha=0.6)
    if net.loss != "squared":
        ax0.contour(gx, gy, Z.reshape(gx.shape), levels=[0.5], colors="k", linewidths=1.5)
    ax0.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=14)
    ax0.set_title(f"Decision regions, N={net.N}")
    traj = net.trajectory(X)  # (N + 1, m, n)
    rng = np.random.default_rng(0)
    pick = rng.choice(X.shape[0], size=min(n_paths, X.shape[0]), replace=False)
    for i, c in zip(pick, colors("RdBu_r", (y[pick] - y.min()) / max(1, y.max() - y.min()))):
        ax1.plot(traj[:, 0, i], traj[:, 1, i], color=c, lw=0.8)
        ax1.plot(traj[-1, 0, i], traj[-1, 1, i], "o", color=c, ms=3)
    ax1.set_title("Sample trajectories X(t) (state components 0, 1)")
    for ax in (ax0, ax1):
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def study_figures(result, out: str | os.PathLike) -> list[Path]:
    """Write the three figures of a deep-limit run into ``out``; return their paths."""
    out = Path(out)
    paths = []
    ok = {N: net for N, net in result.networks.items()
          if any(lv.N == N and lv.success for lv in result.study.levels)}
    if ok:
        paths.append(out / "theta.png")
        theta_figure(ok, paths[-1])
    paths.append(out / "convergence.png")
    convergence_plot(result.study, paths[-1], title="Distances between consecutive minimisers")
    if ok and result.data is not None:
        finest = ok[max(ok)]
        paths.append(out / "boundary.png")
        boundary_figure(finest, result.data.X_train, result.data.y_train, paths[-1])
    return [p for p in paths if p.exists()]
