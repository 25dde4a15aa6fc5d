"""Error estimates for a solved discrete problem: |J_h - J*| and where on the grid it comes from.

Why this method (discretise-then-optimise)
------------------------------------------
The number a user wants is |J_h - J*|: how far the optimal value of the NLP on
grid h is from the optimal value of the continuous problem. In
discretise-then-optimise the NLP's minimiser is *not* the continuous optimum
integrated more or less accurately: the controls themselves are optimised in a
finite-dimensional space (piecewise constant or linear on the grid), and with
piecewise-constant controls that control discretisation often dominates the
state-integration error (a bang-bang switch inside an interval, a boundary
layer that one control value per interval cannot follow). An estimate built
only from the state defect of the dense output against an accurate integration
under the solution's controls measures J(u_h) - J_h, the integration error of a
*fixed* control, and misses J(u_h) - J*, the error of the control
parametrisation; it can be zero (a scheme exact on the dynamics) while the
objective is far off.

So the objective estimate re-optimises: the problem is solved again on the
bisected grid (every interval split in two, warm-started by prolongation of
the solution), and Richardson's argument on the scheme's order p gives

    J_h - J*  ~  (J_h - J_{h/2}) 2^p / (2^p - 1),

with p the smaller of the objective orders of the integration scheme and of the
control parametrisation (:func:`effective_order`). This covers both error
sources, because both are re-optimised, and needs nothing but a second solve
(the same NLP family, warm-started: typically a few IPOPT iterations).

Richardson needs the two grids in the asymptotic regime, which a bang-bang
switch defeats: when the switch lies nearer an old node than the new midpoint,
bisection leaves its distance to the grid, and so the error, unchanged, and
J_h = J_{h/2} although both are off. The safeguard is the Pontryagin gap
G = int H(x, u_h, p, t) - min_{v in U} H(x, v, p, t) dt >= 0 (H = L + p . f,
the costate p read from the multipliers of the continuity constraints): the
first-order cost of holding the control at its discrete values. If the
bisected solve's gap does not even halve under bisection, the grids are not
asymptotic and the estimate is |J_h - J_{h/2}| + G_{h/2} instead.

Per-interval indicators (objective units), to say where to refine:

- integration: for each interval, the discrete state and running cost from
  the node before, against a CVODES integration of the continuous dynamics
  and running cost over that interval from the same discrete state under the
  solution's controls; the state defect d_k enters the objective weighted by
  the multipliers lambda_{k+1} of the continuity constraints (their
  sensitivity of the optimal value, the dual-weighted residual):
  |Q_k - q_k| + |lambda_{k+1} . d_k|. Without such multipliers (single
  shooting) the state defects, scaled per state, share the remainder below;
- control: the Pontryagin gap of the interval (when there are multipliers),
  and whatever of the estimate the integration part and the gaps do not
  explain, shared among the intervals in proportion to
  int_{I_k} |u_h - u_{h/2}|^2 dt, how much the control changed inside
  interval k when it was allowed two values there.

The indicators guide :func:`occontrol.adaptation.adapt`; the objective
estimate is the Richardson one. Tests (tests/test_error_estimate.py) check it
within a factor of 10 of the true error on problems with known optima for
each scheme order (smooth, boundary layer, singular arc, bang-bang, minimum
time), and on 168 cases (7 problems, 4 schemes, 6 grid sizes) while it was
developed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import casadi as cs
import numpy as np

from .records import Record
from .solution import Solution

__all__ = ["ErrorEstimate", "estimate_error", "effective_order"]


@dataclass
class ErrorEstimate(Record):
    """An estimate of |J_h - J*| for one solution and its per-interval indicators.

    Attributes
    ----------
    objective_error : float
        Estimated |J_h - J*| (NaN when the bisected solve failed).
    indicators : ndarray, shape (N,)
        Per-interval error indicators in objective units (integration + control parts).
    integration : ndarray, shape (N,)
        The integration part of the indicators (dual-weighted defect and cost defect).
    control : ndarray, shape (N,)
        The control-discretisation part.
    order : float
        The order p used in the Richardson factor 2^p / (2^p - 1).
    objective : float
        J_h, the objective of the solution estimated.
    objective_fine : float
        J_{h/2}, the objective of the bisected solve.
    fine_status : str
        IPOPT's status of the bisected solve.
    success : bool
        Whether the bisected solve succeeded (otherwise the estimate is NaN).
    method : str
        How the estimate was obtained.
    fine_iterations, fine_seconds
        Work of the bisected solve (iterations, build + solve seconds).
    fine_solution : Solution or None
        The bisected solve (in memory only; not written by ``to_dict``).
    """

    objective_error: float
    indicators: np.ndarray
    integration: np.ndarray
    control: np.ndarray
    order: float
    objective: float
    objective_fine: float
    fine_status: str
    success: bool
    method: str
    fine_iterations: int = 0
    fine_seconds: float = 0.0
    fine_solution: Any = field(default=None, repr=False)

    @property
    def fine_error(self) -> float:
        """Estimated |J_{h/2} - J*| of the bisected solve: |J_h - J_{h/2}| / (2^p - 1)."""
        return abs(self.objective - self.objective_fine) / (2.0 ** self.order - 1.0)

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.pop("fine_solution")
        return out


def effective_order(transcription: Any) -> float:
    """The order p of J_h - J* assumed by the Richardson factor.

    The minimum of the scheme's order (Euler 1, Heun and Ralston 2, RK4 4, a
    tableau's by its order conditions up to 4; Radau collocation of degree d
    2d - 1, Legendre 2d) and the control parametrisation's order for the
    objective (2 for piecewise-constant controls: at a minimiser the objective
    is quadratic in the O(h) control error; 4 for piecewise-linear ones).
    """
    from .transcription.collocation import Collocation
    from .transcription.runge_kutta import ExplicitRungeKutta
    if isinstance(transcription, Collocation):
        scheme = 2 * transcription.degree - (1 if transcription.scheme == "radau" else 0)
    elif isinstance(transcription, ExplicitRungeKutta):
        scheme = _tableau_order(transcription.tableau)
    else:
        raise TypeError(f"transcription: expected an explicit Runge-Kutta or collocation transcription, "
                        f"got {type(transcription).__name__}")
    control = 2 if transcription.controls == "constant" else 4
    return float(min(scheme, control))


def _tableau_order(tab: Any) -> int:
    """The order of an explicit tableau from its conditions (up to 4)."""
    A, b, c = (np.asarray(v, dtype=float) for v in (tab.A, tab.b, tab.c))
    conditions = [
        [b.sum() - 1.0],
        [b @ c - 1 / 2],
        [b @ c ** 2 - 1 / 3, b @ A @ c - 1 / 6],
        [b @ c ** 3 - 1 / 4, b @ (c * (A @ c)) - 1 / 8, b @ A @ c ** 2 - 1 / 12, b @ A @ A @ c - 1 / 24],
    ]
    order = 0
    for conds in conditions:
        if max(abs(v) for v in conds) > 1e-12:
            break
        order += 1
    return max(order, 1)


def estimate_error(solution: Solution, *, solver: Any = None, fine: Solution | None = None,
                   hess_lag: Any = None) -> ErrorEstimate:
    """Estimate |J_h - J*| of ``solution`` and per-interval error indicators.

    Parameters
    ----------
    solution : Solution
        A successful solve (of any transcription, on any grid).
    solver : Ipopt or CasadiSolver, optional
        For the solve on the bisected grid (default ``oc.Ipopt()``).
    fine : Solution, optional
        That solve, when already done (a solution of the same OCP and
        transcription on ``solution.problem.grid.refined(2)``).
    hess_lag : casadi.Function or callable, optional
        The Hessian of the Lagrangian for the bisected solve, as for
        :func:`occontrol.solve` (e.g. the Gauss-Newton one the solution was
        solved with; default CasADi's exact Hessian).

    Returns
    -------
    ErrorEstimate
        ``objective_error`` is NaN and ``success`` False when the bisected
        solve failed (its status is in ``fine_status``).

    Raises
    ------
    TypeError
        ``solution`` is not a Solution, ``fine`` not a Solution.
    ValueError
        ``solution`` did not converge, or ``fine`` is not on the bisected grid.
    """
    from .refinement import prolonged_guess  # refinement.py imports this package's solver
    from .solver import solve
    if not isinstance(solution, Solution):
        raise TypeError(f"solution: expected an oc.Solution, got {type(solution).__name__}")
    if not solution.success:
        raise ValueError(f"solution: expected a converged solve, got status {solution.status!r}")
    problem = solution.problem
    p = effective_order(problem.transcription)  # refuses a transcription it has no order for, before solving
    bisected = problem.grid.refined(2)
    if fine is not None:
        if not isinstance(fine, Solution):
            raise TypeError(f"fine: expected an oc.Solution, got {type(fine).__name__}")
        if fine.problem.grid != bisected or fine.problem.ocp is not problem.ocp:
            raise ValueError(f"fine: expected a solution of the same OCP on the bisected grid "
                             f"(N={bisected.N}), got N={fine.N}")
    else:
        fine = solve(problem.ocp, problem.transcription, grid=bisected,
                     guess=prolonged_guess(solution, bisected, "constant"), solver=solver, hess_lag=hess_lag)
    integration, unexplained_states = _integration_indicators(solution)
    work: dict[str, Any] = {"fine_iterations": fine.iterations,
                            "fine_seconds": fine.build_seconds + fine.solve_seconds}
    if not fine.success:
        nan = np.full(solution.N, np.nan)
        return ErrorEstimate(math.nan, nan, integration, nan, p, solution.objective, fine.objective,
                             fine.status, False, "bisected solve FAILED: no estimate", fine_solution=fine, **work)
    change = abs(solution.objective - fine.objective)
    estimate = change * 2.0 ** p / (2.0 ** p - 1.0)
    method = (f"Richardson on the bisected grid (N={bisected.N}, warm-started), order {p:g}: "
              f"|J_h - J_h/2| * 2^p / (2^p - 1)")
    gap, gap_fine = _hamiltonian_gap(solution), _hamiltonian_gap(fine)
    if gap is not None and gap_fine is not None:
        coarse_sum, fine_sum = float(gap.sum()), float(gap_fine.sum())
        # Richardson assumes J_h/2 - J* = (J_h - J_h/2) / (2^p - 1). A control gap that does not even halve
        # under bisection (a switch as far from the nearest node as before) says the grids are not yet
        # asymptotic there: the bisected solve's own gap then stands for its error instead.
        if fine_sum > coarse_sum / 2 and fine_sum > change / (2.0 ** p - 1.0):
            estimate = change + fine_sum
            method = (f"|J_h - J_h/2| (bisected grid N={bisected.N}) + the Pontryagin gap of the bisected solve "
                      f"(its gap {fine_sum:.3g} did not contract from {coarse_sum:.3g}: not asymptotic, so no "
                      f"Richardson at order {p:g})")
    control = np.zeros(solution.N) if gap is None else gap.copy()
    remainder = max(estimate - float(integration.sum()) - float(control.sum()), 0.0)
    shares = [s for s in (_control_variation(solution, fine), unexplained_states) if s is not None and s.sum() > 0]
    for share in shares:
        control += remainder / len(shares) * share / share.sum()
    if not shares:  # nothing local to attribute it to: spread evenly
        control += remainder / solution.N
    return ErrorEstimate(float(estimate), integration + control, integration, control, p, solution.objective,
                         fine.objective, fine.status, True, method, fine_solution=fine, **work)


# ------------------------------------------------------------------ integration part
def _integration_indicators(sol: Solution) -> tuple[np.ndarray, np.ndarray | None]:
    """(|Q_k - q_k| + |lambda_{k+1} . d_k| per interval, scaled state defects when there are no multipliers)."""
    nodes = sol.nodes
    exact_z, exact_q = _exact_intervals(sol)
    z_next = nodes.states[:, 1:]
    defect = exact_z - z_next
    q = _discrete_quadrature(sol)
    cost = np.abs(exact_q - q)
    lam = _continuity_multipliers(sol)
    if lam is not None:
        return cost + np.abs(np.sum(lam * defect, axis=0)), None
    scale = np.maximum(np.max(np.abs(nodes.states), axis=1, keepdims=True), 1e-12)
    states = np.sqrt(np.sum((defect / scale) ** 2, axis=0))
    return cost, states if states.sum() > 0 else None


def _control_parameters(sol: Solution) -> tuple[np.ndarray, np.ndarray]:
    """Controls at the start and end of every interval, shape (nu, N) each."""
    U = sol.nodes.controls
    if sol.problem.transcription.controls == "constant":
        return U, U
    return U[:, :-1], U[:, 1:]


def _exact_intervals(sol: Solution) -> tuple[np.ndarray, np.ndarray]:
    """CVODES over each interval from the discrete node state: (states at its end [nz x N], running cost [N])."""
    problem = sol.problem
    model = problem.model
    nz, nu, npar = model.nz, model.nu, model.np
    z = cs.SX.sym("z", nz)
    s = cs.SX.sym("s")  # normalised time in the interval
    u0, u1 = cs.SX.sym("u0", nu), cs.SX.sym("u1", nu)
    P, t, h, tf = cs.SX.sym("P", npar), cs.SX.sym("t"), cs.SX.sym("h"), cs.SX.sym("tf")
    u = u0 if problem.transcription.controls == "constant" else u0 + s * (u1 - u0)
    ts = t + s * h
    dae = {"x": z, "t": s, "p": cs.vertcat(u0, u1, P, t, h, tf),
           "ode": h * model.f(z, u, P, ts, tf), "quad": h * model.running(z, u, P, ts, tf)}
    # quad_err_con: the running cost's error is controlled too (with a linear state CVODES takes one long step)
    options = {"abstol": 1e-12, "reltol": 1e-12, "quad_err_con": True}
    flow = cs.integrator("interval_flow", "cvodes", dae, 0.0, 1.0, options)
    a, b = _control_parameters(sol)
    N = sol.N
    params = np.vstack([a, b, np.repeat(sol.nodes.statics.reshape(-1, 1), N, axis=1),
                        sol.t[None, :-1], np.diff(sol.t)[None, :], np.full((1, N), sol.tf)])
    out = flow.map(N)(x0=sol.nodes.states[:, :-1], p=params)
    return np.asarray(out["xf"]).reshape(nz, N), np.asarray(out["qf"]).reshape(N)


def _discrete_quadrature(sol: Solution) -> np.ndarray:
    """The transcription's running-cost quadrature on every interval, shape (N,)."""
    from .transcription.collocation import Collocation, CollocationDenseOutput
    from .transcription.runge_kutta import ExplicitRungeKutta
    problem = sol.problem
    tr, model, N = problem.transcription, problem.model, sol.N
    a, b = _control_parameters(sol)
    statics = np.repeat(sol.nodes.statics.reshape(-1, 1), N, axis=1)
    t, h, tf = sol.t[None, :-1], np.diff(sol.t)[None, :], np.full((1, N), sol.tf)
    z = sol.nodes.states[:, :-1]
    if isinstance(tr, Collocation):
        assert isinstance(problem.dense_output, CollocationDenseOutput)
        block = problem.dense_output.points
        Xc = np.reshape(sol.w[block.positions], block.shape, order="F")
        fn = tr.interval_function(model).map(N)
        return np.asarray(fn(z, Xc, a, b, statics, t, h, tf)[2]).reshape(N)
    if not isinstance(tr, ExplicitRungeKutta):
        raise TypeError(f"transcription: no per-interval quadrature for {type(tr).__name__}")
    fn = tr.step_function(model).map(N)
    return np.asarray(fn(z, a, b, statics, t, h, tf)[1]).reshape(N)


def _continuity_multipliers(sol: Solution) -> np.ndarray | None:
    """The multipliers of the continuity constraints x_{k+1} = z_next(x_k, ...), shape (nz, N), or None."""
    rows = sol.problem.constraint_slices.get("dynamics")
    if rows is None or sol.lam_g is None:
        return None
    lam = np.asarray(sol.lam_g)[rows]
    return lam.reshape(sol.problem.model.nz, sol.N, order="F")


# ------------------------------------------------------------------ control part
def _control_variation(coarse: Solution, fine: Solution) -> np.ndarray | None:
    """int over each coarse interval of |u_h - u_{h/2}|^2 dt (exact for the nested piecewise functions)."""
    if coarse.problem.model.nu == 0:
        return None
    tf_ = fine.problem.grid.tau
    Uc, Uf = coarse.nodes.controls, fine.nodes.controls
    N = coarse.N
    out = np.zeros(N)
    if coarse.problem.transcription.controls == "constant":
        for half in (0, 1):  # fine interval 2k + half lies in coarse interval k
            d = Uf[:, half::2] - Uc
            out += np.sum(d ** 2, axis=0) * np.diff(tf_)[half::2]
        return out
    # piecewise linear: on each fine interval the difference is linear, int |d|^2 = dt/3 (a^2 + ab + b^2)
    mid = (Uc[:, :-1] + Uc[:, 1:]) / 2
    coarse_at_fine = np.empty_like(Uf)
    coarse_at_fine[:, 0::2] = Uc
    coarse_at_fine[:, 1::2] = mid
    d = Uf - coarse_at_fine
    left, right = d[:, :-1], d[:, 1:]
    per_fine = np.diff(tf_) / 3 * np.sum(left ** 2 + left * right + right ** 2, axis=0)
    return per_fine[0::2] + per_fine[1::2]


# ------------------------------------------------------------------ Pontryagin gap
GAUSS_POINTS = 5  # Gauss-Legendre points per interval for the gap's quadrature
NEWTON_STEPS = 4  # projected Newton steps towards the pointwise minimiser of the Hamiltonian


def _hamiltonian_gap(sol: Solution) -> np.ndarray | None:
    """Per interval, int_{I_k} H(x, u_h, p, t) - min_{v in U} H(x, v, p, t) dt >= 0, or None without multipliers.

    H = L + p . f with the costate p(t_k+1) = -lambda_k (the multipliers of the continuity constraints in
    IPOPT's sign convention), linear in t inside an interval (p(t0) taken as p(t1)); x(t) is the scheme's
    dense output. The pointwise minimum over the control bounds (not over path constraints) is approached by
    projected Newton steps on the diagonal of H_uu, taken to the bound that decreases H where H is affine in
    u. It is the first-order cost of holding the control at its discrete values on the interval, which
    Richardson on nested grids can miss (a switch that stays at the same distance from a node when the grid
    is bisected).
    """
    problem = sol.problem
    model = problem.model
    lam = _continuity_multipliers(sol)
    if lam is None or model.nu == 0:
        return None
    N = sol.N
    x_gl, w_gl = np.polynomial.legendre.leggauss(GAUSS_POINTS)
    frac, weights = (x_gl + 1) / 2, w_gl / 2
    k = np.repeat(np.arange(N), GAUSS_POINTS)
    f = np.tile(frac, N)
    h = np.diff(sol.t)
    times = sol.t[k] + f * h[k]
    states = problem.dense_output.states(sol.nodes, k, f * h[k])
    p_nodes = np.hstack([-lam[:, :1], -lam])
    costate = p_nodes[:, k] * (1 - f) + p_nodes[:, k + 1] * f
    U = sol.nodes.controls
    u = U[:, k] if problem.transcription.controls == "constant" else U[:, k] + (U[:, k + 1] - U[:, k]) * f
    lower = model.pack({v.name: v.lower for v in problem.ocp.controls}, "control")[:, None]
    upper = model.pack({v.name: v.upper for v in problem.ocp.controls}, "control")[:, None]
    hamiltonian = _hamiltonian_function(model).map(k.size)
    statics = np.repeat(sol.nodes.statics.reshape(-1, 1), k.size, axis=1)
    tf = np.full((1, k.size), sol.tf)

    def evaluate(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        H, Hu, Huu = hamiltonian(states, v, statics, times[None, :], tf, costate)
        return np.asarray(H).ravel(), np.asarray(Hu), np.asarray(Huu)

    H0, Hu, Huu = evaluate(u)
    best, v = H0.copy(), u.copy()
    for _ in range(NEWTON_STEPS):
        curved = Huu > 1e-12
        newton = np.where(curved, v - Hu / np.where(curved, Huu, 1.0), v)
        # where H is affine in a control, its minimum is at the bound against the gradient (if finite)
        toward = np.where(Hu > 0, lower, upper)
        newton = np.where(~curved & (np.abs(Hu) > 0) & np.isfinite(toward), toward, newton)
        v = np.clip(newton, lower, upper)
        H, Hu, Huu = evaluate(v)
        best = np.minimum(best, H)
    gap = np.maximum(H0 - best, 0.0)
    return (gap.reshape(N, GAUSS_POINTS) @ weights) * h


def _hamiltonian_function(model: Any) -> cs.Function:
    """(z, u, p, t, tf, costate) -> (H, dH/du, diagonal of d2H/du2), H = L + costate . f."""
    z, u = cs.SX.sym("z", model.nz), cs.SX.sym("u", model.nu)
    P, t, tf, costate = cs.SX.sym("P", model.np), cs.SX.sym("t"), cs.SX.sym("tf"), cs.SX.sym("costate", model.nz)
    H = model.running(z, u, P, t, tf) + cs.dot(costate, model.f(z, u, P, t, tf))
    Hu = cs.gradient(H, u)
    Huu = cs.vertcat(*[cs.gradient(Hu[i], u)[i] for i in range(model.nu)])
    return cs.Function("hamiltonian", [z, u, P, t, tf, costate], [H, Hu, Huu])
