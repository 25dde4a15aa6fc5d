"""Figures of the deep-limit study: theta(t) for every N, convergence, depth
transfer, and the decision boundary with sample trajectories."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..plot import colors, control_overlay, convergence_plot, new_figure, save_figure
from .depth_transfer import DepthTransfer
from .network import ResNet
from .placement import variation_density
from .placement_study import PlacementStudy

__all__ = ["theta_figure", "depth_transfer_figure", "placement_figure", "boundary_figure", "study_figures"]


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


def depth_transfer_figure(transfer: DepthTransfer, path: str | os.PathLike) -> None:
    """E, the training loss and the test accuracy against the run depth, one line per trained depth
    (a square at the depth it was trained at)."""
    fig = new_figure(figsize=(15, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    run = np.asarray(transfer.run, dtype=float)
    panels = ((transfer.objective, "objective E on the training data"),
              (transfer.loss, "training loss (E without the regulariser)"),
              (transfer.test_accuracy, "test accuracy"))
    palette = colors("viridis", np.linspace(0, 0.85, len(transfer.trained)))
    for i, (N, color) in enumerate(zip(transfer.trained, palette)):
        own = transfer.run.index(N) if N in transfer.run else None
        for ax, (matrix, _) in zip(axes, panels):
            values = matrix[i]
            ax.plot(run, values, "o-", color=color, ms=3, lw=1.2, label=f"trained N={N}")
            if own is not None:
                ax.plot(run[own], values[own], "s", color=color, ms=8, mfc="none")
    for ax, (_, label) in zip(axes, panels):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("run depth N (layers)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[0].set_title("Depth transfer: each trained network run at every depth")
    axes[1].set_title("squares: the depth each network was trained at")
    axes[0].legend(fontsize=8)
    save_figure(fig, path)


def placement_figure(placement: PlacementStudy, net: ResNet, path: str | os.PathLike) -> None:
    """Where the placed ladders put their layers (ticks at the layer boundaries, one row per ladder and N)
    under theta(t) of ``net`` (the finest uniform network) and its variation density |theta'(t)|."""
    fig = new_figure(figsize=(9, 7), layout="constrained")
    ax0, ax1, ax2 = fig.subplots(3, 1, sharex=True, height_ratios=[2, 1, 2])
    names = theta_names(net.width)
    for j, color in enumerate(colors("tab10", np.linspace(0, 1, len(names)))):
        ax0.stairs(net.theta[:, j], net.nodes, baseline=None, color=color, lw=1.0, label=names[j])
    ax0.set_ylabel("theta(t)")
    kinds = placement.ladders
    ax0.set_title(f"theta(t) of the uniform N={net.N} network, and where the {' and '.join(kinds)} ladder"
                  f"{'s' if len(kinds) > 1 else ''} put the layers")
    ax0.legend(fontsize=7, ncol=min(len(names), 6))
    breaks, density = variation_density(net)
    ax1.stairs(density, breaks, color="k", lw=1.0)
    ax1.set_ylabel("|theta'(t)|")
    labels: list[str] = []
    for kind, color in zip(kinds, ("C0", "C2")):
        for lv in placement.ladder(kind):
            row = len(labels)
            ax2.vlines(lv.nodes, row - 0.4, row + 0.4, color=color if lv.success else "C3", lw=0.6)
            labels.append(f"{kind} N={lv.N}" + ("" if lv.success else " FAILED"))
    ax2.set_yticks(range(len(labels)), labels, fontsize=7)
    ax2.set_xlabel("t")
    ax2.set_ylabel("placed layers")
    for ax in (ax0, ax1, ax2):
        ax.grid(alpha=0.3)
    save_figure(fig, path)


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
    """Write the figures of a deep-limit run into ``out`` (theta, convergence, depth transfer, the adaptive
    placement when run, boundary);
    return their paths."""
    out = Path(out)
    paths = []
    ok = {N: net for N, net in result.networks.items()
          if any(lv.N == N and lv.success for lv in result.study.levels)}
    if ok:
        paths.append(out / "theta.png")
        theta_figure(ok, paths[-1])
    paths.append(out / "convergence.png")
    convergence_plot(result.study, paths[-1], title="Distances between consecutive minimisers")
    transfer = getattr(result, "depth_transfer", None)
    if transfer is not None and transfer.trained:
        paths.append(out / "depth_transfer.png")
        depth_transfer_figure(transfer, paths[-1])
    placement = getattr(result, "placement", None)
    if placement is not None and placement.ladders and ok:
        paths.append(out / "placement.png")
        placement_figure(placement, ok[max(ok)], paths[-1])
    if ok and result.data is not None:
        finest = ok[max(ok)]
        paths.append(out / "boundary.png")
        boundary_figure(finest, result.data.X_train, result.data.y_train, paths[-1])
    return [p for p in paths if p.exists()]
