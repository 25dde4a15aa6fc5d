"""What one closed-loop MPC step of occontrol spends outside the solver call.

The cart-pole controller of benchmarks/mpc.py (N = 20, Radau collocation of
degree 3, ``oc.Ipopt(expand=True)`` by default) runs K closed-loop steps; each
step is split into the parts the user's loop pays for:

- ``shift``: ``sol.shifted(1)`` (primal-dual mode only, as in benchmarks/mpc.py),
- ``before``: the re-solve's work before the solver call (``Solution.build_seconds``:
  checking the parameter values, mapping the guess, any start-point check),
- ``solver``: the solver call (``Solution.solve_seconds``: IPOPT and CasADi's argument conversion),
- ``after``: from the solver's return to the Solution (stats, wrapping),
- ``readout``: ``sol.value(F)[0]``, the first control.

Reported per mode: the median of each part in ms and its median share of the
step; ``outside`` is everything but the solver call. Wall times move with the
machine's load; compare shares and runs made back to back.

Usage: ``python benchmarks/resolve_overhead.py [--K 50] [--label after] [--no-expand] [--no-write]``;
writes benchmarks/results/resolve_overhead_<label>.json and .md (with the rows of
resolve_overhead_before.json, a run of the code before the re-solve work, when it exists).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mpc  # noqa: E402  (benchmarks/mpc.py: the same controller and plant)

import occontrol as oc  # noqa: E402
from occontrol.io import atomic_write, write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = ("shift", "before", "solver", "after", "readout")
HEADERS = {"before": "pre-solve"}


def closed_loop(N: int, K: int, dual: bool, expand: bool) -> dict[str, list[float]]:
    """Per-step timings of the parts, K steps of the closed loop from mpc.X0."""
    controller = mpc.OccontrolMPC(N, shift=dual, expand=expand, dual=dual)
    plant = mpc.make_plant(mpc.T_HORIZON / N)
    x, sol = mpc.X0.copy(), None
    rows: dict[str, list[float]] = {k: [] for k in (*PARTS, "step")}
    for _ in range(K):
        t0 = time.perf_counter()
        guess = None if sol is None else (sol.shifted(1) if dual else sol)
        t1 = time.perf_counter()
        sol = controller.controller.solve(parameters={controller.x0: x}, guess=guess,
                                          multipliers=dual and guess is not None)
        t2 = time.perf_counter()
        u = float(sol.value(controller.F)[0])
        t3 = time.perf_counter()
        if not sol.success:
            raise RuntimeError(f"resolve_overhead: a solve failed ({sol.status})")
        rows["shift"].append(t1 - t0)
        rows["before"].append(sol.build_seconds)
        rows["solver"].append(sol.solve_seconds)
        rows["after"].append(t2 - t1 - sol.build_seconds - sol.solve_seconds)
        rows["readout"].append(t3 - t2)
        rows["step"].append(t3 - t0)
        x = np.asarray(plant(x0=x, p=u)["xf"]).ravel()
    return rows


def summarise(rows: dict[str, list[float]]) -> dict:
    step = np.array(rows["step"])
    out = {"median_step_ms": 1e3 * float(np.median(step))}
    for k in PARTS:
        part = np.array(rows[k])
        out[k] = {"median_ms": 1e3 * float(np.median(part)), "median_share": float(np.median(part / step))}
    outside = step - np.array(rows["solver"])
    out["outside"] = {"median_ms": 1e3 * float(np.median(outside)), "median_share": float(np.median(outside / step))}
    return out


def write(doc: dict, label: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / f"resolve_overhead_{label}.json", doc)
    lines = [f"# Re-solve overhead ({label})", "",
             f"Cart-pole MPC of benchmarks/mpc.py, N = {doc['N']}, K = {doc['K']} steps, "
             f"expand = {doc['expand']}; medians over the steps. Machine: {doc['machine']} (shared; "
             "absolute times move with the load).", "",
             "Parts: shift = sol.shifted(1); pre-solve = Solution.build_seconds (the re-solve's work before "
             "the solver call); solver = Solution.solve_seconds (IPOPT and CasADi's argument conversion); "
             "after = from the solver's return to the Solution; readout = sol.value(F)[0]; outside = all "
             "but the solver call. Rows 'main': the code before the re-solve work (resolve_overhead_before.json).",
             "",
             "| mode | step ms | " + " | ".join(f"{HEADERS.get(k, k)} ms (share)" for k in (*PARTS, "outside"))
             + " |",
             "|---|---|" + "---|" * (len(PARTS) + 1)]
    docs = [doc]
    before = RESULTS / "resolve_overhead_before.json"
    if label != "before" and before.exists():  # the run of the code before this change, for comparison
        docs.insert(0, json.loads(before.read_text()))
    for d in docs:
        for mode, s in d["modes"].items():
            cells = " | ".join(f"{s[k]['median_ms']:.3f} ({100 * s[k]['median_share']:.1f} %)"
                               for k in (*PARTS, "outside"))
            which = "main" if d["label"] == "before" else d["label"]
            lines.append(f"| {mode} ({which}) | {s['median_step_ms']:.2f} | {cells} |")
    atomic_write(RESULTS / f"resolve_overhead_{label}.md", lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=20)
    parser.add_argument("--K", type=int, default=50)
    parser.add_argument("--label", default="after", help="results file suffix (default %(default)s)")
    parser.add_argument("--no-expand", action="store_true", help="oc.Ipopt() instead of oc.Ipopt(expand=True)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    expand = not args.no_expand
    modes = {}
    for mode, dual in (("primal", False), ("primal-dual", True)):
        modes[mode] = s = summarise(closed_loop(args.N, args.K, dual, expand))
        print(f"{mode:>12}: step {s['median_step_ms']:.2f} ms; " + ", ".join(
            f"{k} {s[k]['median_ms']:.3f} ms ({100 * s[k]['median_share']:.1f} %)" for k in (*PARTS, "outside")),
            flush=True)
    doc = {"schema": 1, "benchmark": "resolve_overhead", "label": args.label, "N": args.N, "K": args.K,
           "expand": expand, "machine": platform.platform(), "occontrol": oc.__file__, "modes": modes}
    if not args.no_write:
        write(doc, args.label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
