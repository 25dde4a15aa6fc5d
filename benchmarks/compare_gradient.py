"""Gradient training against optimal control on the default deep-limit problem (issue 5).

The problem is the deep-limit main job: two moons (n = 200 training and 200 test
samples, noise 0.2, seed 0), tanh, logistic loss, tau1 = 1e-3, tau2 = 1e-2,
tau_w = 0, width 2, T = 1, explicit Euler (the ResNet exactly). For every N of
the ladder 8, 16, ..., 256:

- IPOPT: the warm-started deep-limit ladder (Gauss-Newton, 5 starts at N = 8);
- Adam (lr 1e-2), SGD (lr 0.1, momentum 0.9) and L-BFGS (strong Wolfe, lr 1), in
  float64, full batch, 3000 steps each, from the same initial weights;

under the four settings (H1 regulariser on / off) x (depth-consistent / i.i.d.
initialisation). The issue's reference run is the Adam run at N = 256 with the
H1 regulariser and the depth-consistent start.

Writes benchmarks/results/compare_gradient.json (the compare.json document plus
a "benchmark" section) and compare_gradient.md, atomically; --quick writes
compare_gradient_quick.*. Figures, weights and training histories stay in the
work folder (--out). Exit code 1 if any IPOPT solve failed.

Usage:
    python benchmarks/compare_gradient.py            # the full run (the better part of an hour on 2 cores)
    python benchmarks/compare_gradient.py --quick    # N = 8, 16, 200 steps (a minute or two)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from occontrol.io import atomic_write, write_json
from occontrol.resnet import CompareConfig, compare
from occontrol.resnet.comparison import markdown
from occontrol.resnet.deep_limit import DeepLimitConfig

HERE = Path(__file__).resolve().parent
# The throwaway prototype, for the record (another machine).
PROTOTYPE = {"adam_seconds_3000_steps_N256": 53.0, "ipopt_iterations_N256": 17, "ipopt_solve_seconds_N256": 3.0,
             "adam_noh1_l2_between_depths": [3.0, 14.0]}


def reference(doc: dict, N: int) -> dict:
    """The issue's reference run (Adam, N, H1, depth-consistent) next to IPOPT's level."""
    rows = {r["method"]: r for r in doc["rows"] if r["setting"] == "h1-consistent" and r["N"] == N}
    adam, ipopt = rows.get("adam"), rows.get("ipopt")
    noh1 = [d["l2"] for s in ("noh1-consistent", "noh1-iid") for d in doc["distances"].get(s, {}).get("adam", [])]
    return {"N": N, "adam": adam, "ipopt": ipopt, "prototype": PROTOTYPE,
            "adam_noh1_l2_between_depths": [min(noh1), max(noh1)] if noh1 else None}


def reference_md(ref: dict) -> str:
    adam, ipopt = ref["adam"], ref["ipopt"]
    if adam is None or ipopt is None:
        return ""
    ok = ipopt["success"]
    lines = ["## The issue's reference run", "",
             f"- Adam (lr 1e-2, full batch, float64), {adam['steps']} steps at N = {ref['N']}: "
             f"{adam['seconds']:.1f} s of training, E_N = {adam['objective']:.8g}"
             + (f", {adam['gap']:+.3g} from IPOPT's objective (relative {adam['rel_gap']:+.2e})" if ok else "")
             + f"; |grad E_N| = {adam['grad_norm']:.1e}.",
             f"- IPOPT at N = {ref['N']} ({'ok' if ok else 'FAILED'}: {ipopt['status']}): E_N = "
             f"{ipopt['objective']:.8g} in {ipopt['iterations']} iterations, {ipopt['solve_seconds']:.1f} s of "
             f"solving ({ipopt['build_seconds']:.1f} s build; {ipopt['ladder_seconds']:.1f} s for the whole ladder "
             f"up to here); |grad E_N| = {ipopt['grad_norm']:.1e}.",
             f"- The prototype of the issue (another machine): Adam {PROTOTYPE['adam_seconds_3000_steps_N256']:g} s, "
             f"IPOPT {PROTOTYPE['ipopt_iterations_N256']} iterations and {PROTOTYPE['ipopt_solve_seconds_N256']:g} s.",
             ]
    if ref["adam_noh1_l2_between_depths"]:
        lo, hi = ref["adam_noh1_l2_between_depths"]
        lines.append(f"- Adam without the H1 regulariser: L2 distances between successive depths {lo:.3g} to "
                     f"{hi:.3g} (prototype: 3 to 14).")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 8, 16 and 200 steps: a small version")
    parser.add_argument("--grids", type=int, nargs="+", default=None, help="the ladder (default 8 ... 256)")
    parser.add_argument("--steps", type=int, default=None, help="steps per training run (default 3000)")
    parser.add_argument("--out", default=None,
                        help="work folder: IPOPT levels, weights, histories, figures "
                             "(default occontrol-results/benchmark-compare[-quick])")
    parser.add_argument("--results", default=str(HERE / "results"), help="where the JSON and markdown go")
    args = parser.parse_args(argv)
    grids = tuple(args.grids or ((8, 16) if args.quick else (8, 16, 32, 64, 128, 256)))
    steps = args.steps or (200 if args.quick else 3000)
    suffix = "_quick" if args.quick else ""
    out = Path(args.out or f"occontrol-results/benchmark-compare{suffix.replace('_', '-')}")
    config = CompareConfig(deep=DeepLimitConfig(grids=grids), steps=steps)
    print(f"compare_gradient: N = {list(grids)}, {steps} steps per run; work folder {out}", flush=True)
    start = time.perf_counter()
    result = compare(config, out, progress=lambda line: print(line, flush=True))
    doc = result.to_dict()
    doc["benchmark"] = {"name": "compare_gradient", "quick": args.quick, "command": " ".join(["python"] + sys.argv),
                        "work_folder": str(out), "elapsed_seconds": time.perf_counter() - start,
                        "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
                        "reference": reference(doc, max(grids))}
    results = Path(args.results)
    json_path = write_json(results / f"compare_gradient{suffix}.json", doc)
    text = markdown(doc) + "\n" + reference_md(doc["benchmark"]["reference"])
    md_path = atomic_write(results / f"compare_gradient{suffix}.md",
                           lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    print(f"written: {json_path}\nwritten: {md_path}")
    if result.failed:
        print("FAILED IPOPT solves:\n  " + "\n  ".join(result.failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
