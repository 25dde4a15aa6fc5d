"""Tables and figures of the gradient-vs-optimal-control comparison.

The markdown is rendered from the compare.json document alone (so it can be
rebuilt from disk); the figures need the in-memory result (histories and
networks).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...plot import colors, new_figure, save_figure
from ...records import markdown_table
from ..figures import theta_figure, theta_names

__all__ = ["markdown", "compare_figures", "summary_table", "distance_table"]


def _f(x, spec: str = ".4g") -> str:
    return "-" if x is None else format(x, spec)


def _reach_cell(row: dict, key: str) -> str:
    reach = row.get("time_to_reach")
    if reach is None:
        return "n/a" if row["method"] != "ipopt" else ""
    r = reach[key]
    if r["reached"] is None:
        return "n/a (no target)"
    return f"{r['seconds']:.2f} s ({r['steps']} st)" if r["reached"] else "not reached"


def _status(row: dict) -> str:
    if row["method"] == "ipopt":
        return row["status"] + (" (reused)" if row.get("reused") else "")
    if row["status"] == "diverged":
        return "DIVERGED"
    still = row.get("constant_from_step")
    return row["status"] + (f"; E_N constant from step {still}" if still else "")


def summary_table(rows: list[dict]) -> str:
    """One markdown row per (N, method) of one setting."""
    head = ["N", "method", "status", "E_N", "gap to IPOPT", "rel gap", "seconds", "iter / steps",
            "t to 1e-3", "t to 1e-6", "train acc", "test acc", "abs grad", "L2 to IPOPT"]
    out = []
    for r in sorted(rows, key=lambda r: (r["N"], r["method"] != "ipopt")):
        ipopt = r["method"] == "ipopt"
        seconds = (f"{r['seconds']:.2f} (ladder {r['ladder_seconds']:.1f})" if ipopt else _f(r["seconds"], ".2f"))
        count = str(r["iterations"]) if ipopt else _f(r["steps"], "d")
        gap = ("(reference)" if r["success"] else "-") if ipopt else _f(r["gap"], "+.3g")
        cells = [str(r["N"]), r["method"], _status(r), _f(r["objective"], ".8g"), gap,
                 "" if ipopt else _f(r["rel_gap"], "+.2e"), seconds, count,
                 _reach_cell(r, "1e-3"), _reach_cell(r, "1e-6"),
                 _f(r["train_accuracy"], ".3f"), _f(r["test_accuracy"], ".3f"), _f(r["grad_norm"], ".1e"),
                 "" if ipopt else _f(r["l2_to_ipopt"], ".3g")]
        out.append(cells)
    return markdown_table(head, out)


def distance_table(distances: dict, grids: list[int]) -> str:
    """L2 distances ||theta_N - theta_2N|| (H1 seminorm in brackets), one row per (setting, method)."""
    pairs = list(zip(grids, grids[1:]))
    head = ["setting", "method"] + [f"{a} to {b}" for a, b in pairs]
    out = []
    for setting, methods in distances.items():
        for method, ds in methods.items():
            by_pair = {(d["N"], d["N_next"]): d for d in ds}
            cells = [f"{by_pair[p]['l2']:.3g} [{by_pair[p]['h1']:.3g}]" if p in by_pair else "-" for p in pairs]
            out.append([setting, method] + cells)
    return markdown_table(head, out)


def _detail_table(distances: dict) -> str:
    head = ["setting", "method", "N to N'", "L2", "sup", "H1 seminorm", "L2 ratio"]
    out = [[setting, method, f"{d['N']} to {d['N_next']}", f"{d['l2']:.4g}", f"{d['sup']:.4g}", f"{d['h1']:.4g}",
            _f(d["l2_ratio"], ".3g")]
           for setting, methods in distances.items() for method, ds in methods.items() for d in ds]
    return markdown_table(head, out)


def markdown(doc: dict) -> str:
    """compare.md from the compare.json document."""
    p, c = doc["problem"], doc["config"]
    lrs = {"adam": f"Adam lr {c['lr_adam']:g}", "sgd": f"SGD lr {c['lr_sgd']:g} momentum {c['momentum']:g}",
           "lbfgs": f"L-BFGS (strong Wolfe) lr {c['lr_lbfgs']:g}"}
    budget = " and ".join(x for x in [f"{c['steps']} steps" if c["steps"] else "",
                                      f"{c['seconds']:g} s" if c["seconds"] else ""] if x)
    lines = ["# Gradient training vs optimal control", ""]
    if not doc.get("complete", True):
        lines += ["**Incomplete: the run was interrupted or is still going; only finished settings are shown.**", ""]
    lines += [f"Problem: {p['dataset']} (n = {p['n_train']} training, {p['n_test']} test samples, "
              f"noise {p['noise']:g}, seed {p['seed']}), {p['activation']}, {p['loss']} loss, "
              f"tau1 = {p['tau1']:g}, tau2 = {p['tau2']:g}, "
              f"tau_w = {p['tau_w']:g}, width m = {p['m']}, T = {p['horizon']:g}, explicit Euler (the ResNet), "
              f"float64.",
              f"IPOPT: {p['strategy']}, tol {p['tol']:g}, {p['n_starts']} starts at N = {p['grids'][0]}, "
              f"{'warm-started' if p['warm'] else 'cold'} ladder N = {', '.join(map(str, p['grids']))}.",
              f"Gradient: {'; '.join(lrs[m] for m in c['methods'])}; "
              f"{'full batch' if c['batch_size'] is None else 'minibatch ' + str(c['batch_size']) + ' (L-BFGS full)'}; "
              f"budget {budget} per run; torch threads {p['machine']['torch_threads']}; "
              f"record every {c['record_every']} steps.",
              "", "Notes: " + "; ".join(f"*{k}*: {v}" for k, v in doc["notes"].items()) + ".", ""]
    for s in doc["settings"]:
        rows = [r for r in doc["rows"] if r["setting"] == s["name"]]
        if not rows:
            continue
        lines += [f"## {s['name']}: tau2 = {s['tau2']:g}, {s['init']} initialisation (seed {s['init_seed']})", "",
                  summary_table(rows), ""]
    if doc["distances"]:
        lines += ["## Deep limit: L2 distance between theta_N and theta_2N (H1 seminorm in brackets)", "",
                  distance_table(doc["distances"], p["grids"]), "", "### All distances", "",
                  _detail_table(doc["distances"]), ""]
    if doc["failed"]:
        fatal = doc.get("success") is False  # files written before "success" existed: the old heading
        lines += ["## FAILED IPOPT solves" + ("" if fatal or "success" not in doc else
                                              " (starts not followed: reported, not fatal)"), ""]
        lines += [f"- {f}" for f in doc["failed"]] + [""]
    if doc["diverged"]:
        lines += ["## Diverged gradient runs", ""] + [f"- {d}" for d in doc["diverged"]] + [""]
    return "\n".join(lines)


# ------------------------------------------------------------------ figures
def objective_time_figure(result, setting: str, N: int, path: str | os.PathLike) -> bool:
    """E_N against training seconds at one N, one curve per method, IPOPT as markers."""
    runs = {m: r for (s, m, n), r in result.runs.items() if s == setting and n == N}
    ipopt = next((r for r in result.rows if r["setting"] == setting and r["N"] == N and r["method"] == "ipopt"), None)
    if not runs:
        return False
    target = ipopt["objective"] if ipopt is not None and ipopt["success"] else None
    fig = new_figure(figsize=(12, 4.4), layout="constrained")
    ax0, ax1 = fig.subplots(1, 2)
    for method, run in runs.items():
        h = np.asarray(run.history, dtype=float)
        ax0.plot(h[:, 1], h[:, 2], label=method)
        if target is not None:
            ax1.plot(h[:, 1], (h[:, 2] - target) / abs(target), label=method)
    if ipopt is not None:
        mark = "o" if ipopt["success"] else "x"
        label = "IPOPT" if ipopt["success"] else "IPOPT (FAILED)"
        ax0.plot([ipopt["solve_seconds"]], [ipopt["objective"]], mark, color="k", ms=8, label=f"{label}, this level")
        ax0.plot([ipopt["ladder_seconds"]], [ipopt["objective"]], mark, color="k", ms=8, mfc="none",
                 label=f"{label}, whole ladder")
        if target is not None:
            ax0.axhline(target, color="k", ls="--", lw=0.8)
    ax0.set_yscale("log")
    ax0.set_xlabel("seconds")
    ax0.set_ylabel("E_N")
    ax0.set_title(f"E_N against wall time, N = {N} ({setting})")
    if target is not None:
        ax1.set_yscale("symlog", linthresh=1e-7)
        for rel in (1e-3, 1e-6):
            ax1.axhline(rel, color="grey", ls=":", lw=0.8)
        ax1.axhline(0, color="k", lw=0.8)
        ax1.set_title("(E_N - E_IPOPT) / |E_IPOPT|  (symlog; dotted: 1e-3, 1e-6)")
    else:
        ax1.set_title("no IPOPT target (failed)")
    ax1.set_xlabel("seconds")
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    save_figure(fig, path)
    return True


def deep_limit_figure(distances: dict, path: str | os.PathLike, horizon: float = 1.0) -> None:
    """||theta_N - theta_2N|| in L2 against h, one panel per setting, one curve per method."""
    names = list(distances)
    cols = min(len(names), 2)
    rows = int(np.ceil(len(names) / cols))
    fig = new_figure(figsize=(6 * cols, 4.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for k, name in enumerate(names):
        ax = axes[k // cols, k % cols]
        for method, ds in distances[name].items():
            if ds:
                h = [horizon / d["N_next"] for d in ds]
                ax.loglog(h, [d["l2"] for d in ds], "o-" if method == "ipopt" else "s--", label=method)
        ipopt = distances[name].get("ipopt")
        if ipopt:
            hs = np.array([horizon / d["N_next"] for d in ipopt])
            ax.loglog(hs, ipopt[-1]["l2"] * hs / hs.min(), "k:", lw=0.8, label="slope 1")
        ax.set_title(name)
        ax.set_xlabel("h of the finer grid")
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    for k in range(len(names), rows * cols):
        axes[k // cols, k % cols].set_visible(False)
    axes[0, 0].set_ylabel("L2 distance between theta_N and theta_2N")
    save_figure(fig, path)


def theta_pair_figure(ipopt: dict, other: dict, label: str, path: str | os.PathLike, title: str) -> None:
    """theta(t) of IPOPT (solid) and of another method (dashed) overlaid, at up to three N."""
    Ns = sorted(set(ipopt) & set(other))
    Ns = sorted({Ns[0], Ns[len(Ns) // 2], Ns[-1]}) if Ns else []
    if not Ns:
        return
    m = ipopt[Ns[0]].width
    names = theta_names(m)
    cols = min(len(names), 3)
    rows = int(np.ceil(len(names) / cols))
    fig = new_figure(figsize=(4.2 * cols, 2.8 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for N, color in zip(Ns, colors("viridis", np.linspace(0, 0.85, len(Ns)))):
        for nets, style, who in ((ipopt, "-", "IPOPT"), (other, "--", label)):
            net = nets[N]
            nodes = net.nodes
            for j in range(len(names)):
                axes[j // cols, j % cols].stairs(net.theta[:, j], nodes, baseline=None, color=color, ls=style,
                                                 lw=1.2, label=f"{who} N={N}")
    for j in range(rows * cols):
        ax = axes[j // cols, j % cols]
        if j >= len(names):
            ax.set_visible(False)
            continue
        ax.set_title(names[j], fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.suptitle(title)
    save_figure(fig, path)


def compare_figures(result, out: str | os.PathLike) -> list[Path]:
    """Write every figure of a comparison into ``out``; return their paths."""
    out = Path(out)
    paths = []
    finest = max(result.config.deep.grids)
    for setting in result.config.settings:
        path = out / f"objective_time_{setting}.png"
        if objective_time_figure(result, setting, finest, path):
            paths.append(path)
    shown = "adam" if "adam" in result.config.methods else result.config.methods[0]
    done = set()
    for setting in result.config.settings:
        reg = "h1" if setting.startswith("h1") else "noh1"
        for method, label in (("ipopt", reg), (shown, setting)):
            nets = {N: net for (s, m, N), net in result.networks.items() if s == setting and m == method}
            if not nets or (method, label) in done:
                continue
            done.add((method, label))
            paths.append(out / f"theta_{method}_{label}.png")
            theta_figure(nets, paths[-1], f"theta(t), {'IPOPT' if method == 'ipopt' else method}, {label}")
    for setting in result.config.settings:
        ipopt = {N: net for (s, m, N), net in result.networks.items() if s == setting and m == "ipopt"}
        other = {N: net for (s, m, N), net in result.networks.items() if s == setting and m == shown}
        path = out / f"theta_ipopt_vs_{shown}_{setting}.png"
        theta_pair_figure(ipopt, other, shown, path, f"theta(t): IPOPT (solid) and {shown} (dashed), {setting}")
        paths.append(path)
    if result.distances:
        paths.append(out / "deep_limit.png")
        deep_limit_figure(result.distances, paths[-1], result.config.deep.horizon)
    return [p for p in paths if p.exists()]
