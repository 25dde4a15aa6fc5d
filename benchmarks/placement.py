"""Layer placement on the deep-limit ladder: uniform, by the error indicators, by the variation of theta(t).

For each case, ``run_deep_limit(config, placement='all')``: the uniform
ladder (which gives the reference E_limit, its Richardson limit), the
``adaptive`` ladder (each level's layers equidistributing the error density
of ``oc.estimate_error``'s indicators on the previous level) and the
``variation`` ladder (equidistributing the variation of theta(t)), all with
the same N. Cases:

- ``default``: the default problem (two moons n = 200, tanh, logistic,
  tau1 = 1e-3, tau2 = 1e-2, Euler, Gauss-Newton);
- ``steep``: the same with tau2 = 1e-4 (a weak H1 regulariser, so theta(t)
  may vary fast) and tau1 = 1e-2: of the variants tried (tau2 = 1e-3, 1e-4 on
  moons and circles, width 3, T = 4), the one with the largest
  max |theta'(t)| / mean |theta'(t)| (3.0 at N = 32, against 1.4 to 2.2) whose
  ladder converged from N = 4 (tau2 = 1e-4 alone failed at N = 4 from seed 0;
  T = 4 failed below N = 32). That ratio is recorded per case;
- further cases by ``--case NAME:key=value,...`` (DeepLimitConfig fields).

Writes benchmarks/results/placement.json and placement.md: per case and N,
|E_N - E_limit| and train/test accuracies of every ladder, and each ladder's
wall seconds (solves; the adaptive one's error estimates separately); and
placement_<case>.png, where each ladder put its layers under theta(t).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import casadi as cs
import numpy as np

from occontrol.io import atomic_write, read_json, write_json
from occontrol.resnet.deep_limit import DeepLimitConfig, run_deep_limit
from occontrol.resnet.figures import placement_figure
from occontrol.resnet.placement import variation_density
from occontrol.resnet.placement_study import LADDERS

RESULTS = Path(__file__).resolve().parent / "results"
CASES = {"default": {}, "steep": {"tau2": 1e-4, "tau1": 1e-2}}


def _parse_case(text: str) -> tuple[str, dict]:
    name, _, body = text.partition(":")
    values: dict = {}
    for item in filter(None, body.split(",")):
        key, _, value = item.partition("=")
        try:
            values[key] = int(value)
        except ValueError:
            try:
                values[key] = float(value)
            except ValueError:
                values[key] = value
    return name, values


def _steepness(net) -> float:
    """max |theta'(t)| / mean |theta'(t)| of a network (1 for theta linear in t, large for a steep layer)."""
    breaks, density = variation_density(net)
    mean = float(np.sum(density * np.diff(breaks))) / net.T
    return float(density.max() / mean) if mean > 0 else 1.0


def _walls(pl: dict) -> dict:
    """Wall seconds of each ladder's levels above the first (the first is the uniform one, shared), and of the
    adaptive ladder's error estimates."""
    walls = {}
    for kind in ("uniform", *LADDERS):
        levels = pl[kind]
        walls[kind] = {"solve_seconds": sum(lv["seconds"] for lv in levels[1:]),
                       "estimate_seconds": sum(lv["estimate_seconds"] for lv in levels)}
    return walls


def run_case(name: str, overrides: dict, grids: tuple[int, ...], n_starts: int) -> dict:
    config = DeepLimitConfig(grids=grids, n_starts=n_starts, **overrides)
    start = time.perf_counter()
    result = run_deep_limit(config, out=None, progress=lambda line: print(f"[{name}] {line}", flush=True),
                            placement="all")
    seconds = time.perf_counter() - start
    pl = result.placement
    assert pl is not None
    finest = max((N for N in result.networks if any(lv.N == N and lv.success for lv in pl.uniform)), default=None)
    if finest is not None:  # where the layers went, under theta(t) of the finest uniform network
        RESULTS.mkdir(exist_ok=True)
        placement_figure(pl, result.networks[finest], RESULTS / f"placement_{name}.png")
    return {"name": name, "overrides": overrides, "config": config.to_dict(), "seconds": seconds,
            "success": result.success, "failed": result.failed, "wall": _walls(pl.to_dict()),
            "steepness_finest_uniform": None if finest is None else _steepness(result.networks[finest]),
            "placement": pl.to_dict(), "table": pl.table()}


def _summary(case: dict) -> list[str]:
    pl = case["placement"]
    lines = [f"## {case['name']} ({', '.join(f'{k}={v}' for k, v in case['overrides'].items()) or 'defaults'})", "",
             f"E_limit = {pl['limit_objective']} ({pl['limit_note']}); max/mean |theta'(t)| of the finest uniform "
             f"network: {case['steepness_finest_uniform']:.3g}; study {'succeeded' if case['success'] else 'FAILED'}"
             f"{'' if case['success'] else ': ' + '; '.join(case['failed'])}.", "",
             "| N | uniform err | adaptive err | variation err | adaptive: estimated err | uniform train / test "
             "| adaptive train / test | variation train / test | adaptive h min / max | variation h min / max |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    by_n = {k: {lv["N"]: lv for lv in pl[k]} for k in ("uniform", *LADDERS)}

    def err(lv):
        if lv is None:
            return "not run"
        return f"FAILED ({lv['status']})" if not lv["success"] else f"{lv['error']:.3g}"

    def acc(lv):
        return "" if lv is None or not lv["success"] else f"{lv['train_accuracy']:.3f} / {lv['test_accuracy']:.3f}"

    def steps(lv):
        return "" if lv is None or not lv["success"] else f"{lv['min_step']:.3g} / {lv['max_step']:.3g}"

    for u in pl["uniform"]:
        a, v = by_n["adaptive"].get(u["N"]), by_n["variation"].get(u["N"])
        estimated = "" if a is None or a.get("estimated_error") is None else f"{a['estimated_error']:.3g}"
        lines.append(f"| {u['N']} | {err(u)} | {err(a)} | {err(v)} | {estimated} | {acc(u)} | {acc(a)} | {acc(v)} "
                     f"| {steps(a)} | {steps(v)} |")
    w = _walls(pl)
    lines += ["", "adaptive: estimated err is oc.estimate_error's |E_N - E*| of the level, computed to place the "
              "next one.", "",
              f"Wall seconds (build + solve of the levels above the first, which all ladders share): uniform "
              f"{w['uniform']['solve_seconds']:.1f}, adaptive {w['adaptive']['solve_seconds']:.1f} "
              f"+ {w['adaptive']['estimate_seconds']:.1f} for the error estimates, variation "
              f"{w['variation']['solve_seconds']:.1f}; whole case {case['seconds']:.1f}.", ""]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", default="4,8,16,32,64,128", help="ladder (default %(default)s)")
    parser.add_argument("--starts", type=int, default=5, help="random starts at the coarsest N (default 5)")
    parser.add_argument("--case", action="append", default=None,
                        help="NAME or NAME:key=value,... (default: default and steep); repeatable")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--render", action="store_true", help="only write the .md again from the .json")
    args = parser.parse_args(argv)
    name = "placement" + (f"_{args.tag}" if args.tag else "")
    if args.render:
        doc = read_json(RESULTS / f"{name}.json")
    else:
        grids = tuple(int(g) for g in args.grids.split(","))
        cases = [(c, CASES[c]) if c in CASES else _parse_case(c) for c in (args.case or list(CASES))]
        docs = [run_case(case, overrides, grids, args.starts) for case, overrides in cases]
        doc = {"schema": 1, "benchmark": "placement", "machine": platform.platform(),
               "python": platform.python_version(), "casadi": cs.__version__, "grids": list(grids),
               "n_starts": args.starts, "command": " ".join(["python", "benchmarks/placement.py", *(argv or
                                                                                                    sys.argv[1:])]),
               "cases": docs}
        RESULTS.mkdir(exist_ok=True)
        write_json(RESULTS / f"{name}.json", doc)
    docs = doc["cases"]
    lines = ["# Layer placement on the deep-limit ladder: uniform, adaptive (error indicators), variation", "",
             "err = abs(E_N - E_limit), E_limit the uniform ladder's Richardson limit. Command: "
             f"`{doc.get('command', 'python benchmarks/placement.py --grids 4,8,16,32,64,128 --starts 5')}` "
             f"({doc['machine']}, 2 cores shared with other jobs: wall times are indicative).", ""]
    for case in docs:
        lines += _summary(case)
    atomic_write(RESULTS / f"{name}.md", lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    print("\n".join(lines))
    return 0 if all(c["success"] for c in docs) else 1


if __name__ == "__main__":
    sys.exit(main())
