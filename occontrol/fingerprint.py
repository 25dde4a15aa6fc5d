"""Fingerprints of solved discrete problems, so that stored levels are reused
only for exactly the problem that produced them.

A fingerprint hashes everything that determines a minimiser: the discrete
problem (its objective and constraints evaluated at two fixed pseudo-random
points, the bounds and the parameter values, which carry the data), the
transcription's settings, the grid, the solver options that change the
answer, and the start. Solver *limits* (iteration and time limits, printing)
are left out on purpose: a converged level stays valid when they change, and
a failed level is never reused anyway.

Numbers are rounded to about 10 significant digits before hashing, so the
fingerprint is the same in every process on the machine (checked in
tests/test_trust_study.py), while any change of the problem beyond rounding
changes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import casadi as cs
import numpy as np

__all__ = ["array_digest", "problem_fingerprint", "solver_fingerprint", "combine"]

# Options that bound or report a run rather than define its answer.
LIMIT_OPTIONS = frozenset({"max_iter", "max_wall_time", "max_cpu_time", "print_level", "print_time", "sb",
                           "print_timing_statistics", "print_user_options", "output_file", "file_print_level",
                           "print_frequency_iter", "print_frequency_time", "verbose", "print_header",
                           "print_iteration", "print_status", "record_time"})


def array_digest(values: Any) -> str:
    """sha256 of an array's shape and values rounded to ~10 significant digits (NaN and inf kept)."""
    arr = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    finite = np.isfinite(arr)
    mantissa, exponent = np.frexp(np.where(finite, arr, 0.0))
    h = hashlib.sha256()
    h.update(str(arr.shape).encode())
    h.update(np.round(mantissa, 10).astype("<f8").tobytes())
    h.update(exponent.astype("<i8").tobytes())
    # non-finite entries: which and what (nan, +inf, -inf), not their bit patterns
    h.update(np.where(finite, 0, np.where(np.isnan(arr), 1, np.sign(arr) + 2)).astype("<i1").tobytes())
    return h.hexdigest()


def _points(lbx: np.ndarray, ubx: np.ndarray) -> list[np.ndarray]:
    """Two pseudo-random points in the box (fixed seed): values in [0.1, 1] clipped to the bounds."""
    rng = np.random.default_rng(20261129)
    return [np.clip(rng.uniform(0.1, 1.0, lbx.size), lbx, ubx) for _ in range(2)]


def problem_fingerprint(problem) -> str:
    """Fingerprint of a :class:`~occontrol.transcription.discrete.DiscreteProblem`."""
    nlp = problem.nlp
    fg = cs.Function("fingerprint", [nlp["x"], nlp["p"]], [nlp["f"], nlp["g"]])
    values = []
    for x in _points(problem.lbx, problem.ubx):
        f, g = fg(x, problem.parameters)
        values.append(np.concatenate([np.ravel(np.asarray(f, dtype=float)), np.ravel(np.asarray(g, dtype=float))]))
    describe = {k: v for k, v in problem.transcription.describe().items() if k != "parallelization"}
    return combine({"transcription": describe, "N": problem.N, "tau": array_digest(problem.grid.tau),
                    "t0": problem.ocp.t0, "free_time": problem.ocp.free_time is not None,
                    "lbx": array_digest(problem.lbx), "ubx": array_digest(problem.ubx),
                    "lbg": array_digest(problem.lbg), "ubg": array_digest(problem.ubg),
                    "parameters": array_digest(problem.parameters),
                    "f_g": [array_digest(v) for v in values]})


def _answer_options(options: Any) -> Any:
    if isinstance(options, dict) or hasattr(options, "items"):
        return {str(k): _answer_options(v) for k, v in sorted(options.items(), key=lambda kv: str(kv[0]))
                if k not in LIMIT_OPTIONS}
    if isinstance(options, (list, tuple)):
        return [_answer_options(v) for v in options]
    if isinstance(options, (str, bool, int, float)) or options is None:
        return options
    return repr(options)


def solver_fingerprint(solver, hess_lag: Any = None, warm_start: bool = False) -> dict:
    """The solver settings that change the answer (limits and printing left out)."""
    plugin, options = solver.nlpsol(warm_start=warm_start)
    if hess_lag is None:
        hessian = None
    elif isinstance(hess_lag, cs.Function):
        hessian = f"function {hess_lag.name()}"
    else:
        hessian = f"callable {getattr(hess_lag, '__qualname__', type(hess_lag).__name__)}"
    return {"plugin": plugin, "options": _answer_options(options), "hess_lag": hessian}


def combine(parts: Any) -> str:
    """sha256 of JSON-serialisable parts (keys sorted)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()
