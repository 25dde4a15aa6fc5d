"""Check the objective and the constraints at the initial guess before the solver runs.

A NaN or inf there makes IPOPT stop at once with ``Invalid_Number_Detected``,
which names nothing. One evaluation of f and g (the solver's own functions)
finds it; only then is the culprit located: which part of the objective, or
which constraint at which node.
"""

from __future__ import annotations

import casadi as cs
import numpy as np

from .problem import Constraint
from .transcription.discrete import DiscreteProblem

__all__ = ["check_initial_point"]


def _nlp_function(nlp_solver: cs.Function, problem: DiscreteProblem, name: str) -> cs.Function:
    """The solver's f or g function of (x, p); built from the NLP if the plugin has none."""
    try:
        return nlp_solver.get_function(f"nlp_{name}")
    except RuntimeError:
        nlp = problem.nlp
        return cs.Function(f"nlp_{name}", [nlp["x"], nlp["p"]], [nlp[name]])


def _kind(value: float) -> str:
    return "NaN" if np.isnan(value) else "inf"


def check_initial_point(problem: DiscreteProblem, nlp_solver: cs.Function, w0: np.ndarray) -> None:
    """Raise ValueError naming the objective part or constraint that is NaN/inf at ``w0``."""
    p = problem.parameters
    f = float(_nlp_function(nlp_solver, problem, "f")(w0, p))
    if not np.isfinite(f):
        raise ValueError(_objective_message(problem, w0, f))
    if problem.lbg.size == 0:
        return
    g = np.asarray(_nlp_function(nlp_solver, problem, "g")(w0, p), dtype=float).ravel()
    bad = np.flatnonzero(~np.isfinite(g))
    if bad.size:
        raise ValueError(_constraint_message(problem, w0, int(bad[0]), g[bad[0]]))


def _objective_message(problem: DiscreteProblem, w0: np.ndarray, f: float) -> str:
    ocp = problem.ocp
    _, parts = problem.evaluate(w0)
    terminal = ocp.terminal_costs + ocp.boundary_costs
    texts = {"running": [str(c) for c in ocp.running_costs], "terminal": [str(c) for c in terminal],
             "regularization": []}
    calls = {"running": "minimize_integral", "terminal": "minimize_terminal", "regularization": "regularize"}
    culprits = [k for k in calls if not np.isfinite(parts[k])] or ["running"]
    part = culprits[0]
    detail = f" ({calls[part]}: {' + '.join(texts[part])})" if texts[part] else ""
    return f"guess: the objective is {_kind(f)} at the initial guess, in its {part} cost{detail}"


def _constraint_message(problem: DiscreteProblem, w0: np.ndarray, i: int, value: float) -> str:
    ocp, model = problem.ocp, problem.model
    block, start = next((name, sl.start) for name, sl in problem.constraint_slices.items()
                        if sl.start <= i < sl.stop)
    local = i - start
    kind = _kind(value)
    if block in ("path_t0", "path", "path_inner"):
        ng = model.path_lower.size
        if block == "path_t0":
            column, row = 0, int(model.path_rows_t0[local])
        else:
            column, row = divmod(local, ng)
            column += block == "path"  # the path block starts at node 1
        text = _constraint_at(ocp.path_constraints, row).text
        if block != "path_inner":
            tf = problem.node_values(w0).tf
            where = f"at node {column} (t = {problem.grid.times(ocp.t0, tf)[column]:.6g})"
        else:
            sl = problem.constraint_slices[block]
            per = (sl.stop - sl.start) // (ng * problem.N)  # inner points per interval
            where = f"at collocation point {column % per} of interval {column // per}"
        return f"guess: path constraint {text!r} is {kind} at the initial guess {where}"
    if block == "terminal":
        con = _constraint_at(ocp.terminal_constraints, local)
        label = "constraint on static variables" if con.static else "terminal constraint"
        return f"guess: {label} {con.text!r} is {kind} at the initial guess"
    if block == "boundary":
        con = _constraint_at(ocp.boundary_constraints, int(model.boundary_rows[local]))
        return f"guess: boundary condition {con.text!r} is {kind} at the initial guess"
    # Dynamics, collocation defects or single-shooting state bounds: one row per state entry.
    nz = model.nz
    row, column = local % nz, local // nz
    state = next(b.var.name for b in model.state_blocks if b.offset <= row < b.stop)
    return (f"guess: the dynamics of state {state!r} are {kind} at the initial guess "
            f"({block} constraints, column {column})")


def _constraint_at(constraints: list[Constraint], row: int) -> Constraint:
    """The constraint that stacked row ``row`` belongs to."""
    offset = 0
    for con in constraints:
        if row < offset + con.lower.size:
            return con
        offset += con.lower.size
    raise IndexError(row)

