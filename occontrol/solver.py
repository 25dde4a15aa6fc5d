"""NLP solver choice and options, and :func:`solve`.

IPOPT with MUMPS and the exact Hessian is the default. Other solvers that
CasADi ships (sqpmethod, fatrop, ...) are reachable through
:class:`CasadiSolver`. A transcription or application may hand the solver
its own Hessian of the Lagrangian (``hess_lag``), for example a generalised
Gauss-Newton matrix.
"""

from __future__ import annotations

import functools
import numbers
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import casadi as cs
import numpy as np

from ._checks import as_choice, as_finite_float, as_positive_int
from .grid import as_grid
from .guess import initial_guess, warm_multipliers
from .parameters import ParameterSetter, parameter_values
from .problem import OCP
from .solution import Solution, flat_vector
from .start_check import check_initial_point
from .transcription.discrete import DiscreteProblem, Transcription
from .transcription.runge_kutta import RK4

__all__ = ["Ipopt", "CasadiSolver", "CompiledProblem", "compile", "solve", "discretize"]

# IPOPT's linear solvers that CasADi's wheel loads (pardiso is absent); the HSL ones are accepted
# when IPOPT can load the HSL library at run time (probed in a subprocess: see _hsl_refusal).
LINEAR_SOLVERS = ("mumps", "spral")
HSL_SOLVERS = ("ma27", "ma57", "ma77", "ma86", "ma97")
# the library IPOPT loads for the HSL solvers when its option hsllib is not given (IPOPT 3.14 in CasADi)
HSL_DEFAULT_LIBRARY = "libhsl.so"
# the probe: one variable, min (x - 1)^2, solved with the HSL solver; prints IPOPT's status and the
# loader's message (print level 1 shows it). A crash there is a nonzero exit code, not ours.
_HSL_PROBE = """
import sys, casadi as cs
x = cs.MX.sym("x")
opts = {"linear_solver": sys.argv[1], "print_level": 1}
if sys.argv[2]:
    opts["hsllib"] = sys.argv[2]
s = cs.nlpsol("probe", "ipopt", {"x": x, "f": (x - 1) ** 2}, {"ipopt": opts, "print_time": False})
s(x0=0)
print("OCCONTROL-HSL-PROBE", s.stats()["return_status"], flush=True)
"""
# IPOPT stores integer options in a C int; CasADi truncates a larger value (2**33 + 3 becomes 3).
INT_MAX = 2**31 - 1
# IPOPT's integer options (IPOPT 3.14 option reference) and their documented lower limits;
# the print levels also have an upper one, which the toy check cannot see (it runs at level 0).
PRINT_LEVELS = ("print_level", "file_print_level")
INTEGER_OPTIONS = {
    "max_iter": 0, "acceptable_iter": 0, "print_level": 0, "file_print_level": 0,
    "print_frequency_iter": 1, "max_soc": 0, "max_resto_iter": 0, "watchdog_shortened_iter_trigger": 0,
    "watchdog_trial_iter_max": 1, "limited_memory_max_history": 0, "limited_memory_max_skipping": 1,
    "max_refinement_steps": 0, "min_refinement_steps": 0, "mumps_mem_percent": 0,
    "mumps_permuting_scaling": 0, "mumps_pivot_order": 0, "mumps_scaling": -2,
    "accept_after_max_steps": -1, "soc_method": 0, "max_filter_resets": 0, "filter_reset_trigger": 1,
    "quality_function_max_section_steps": 0, "adaptive_mu_kkterror_red_iters": 0, "num_linear_variables": 0,
}


@dataclass(frozen=True)
class Ipopt:
    """IPOPT through ``casadi.nlpsol``.

    Parameters
    ----------
    tol : float
        IPOPT's convergence tolerance.
    max_iter : int
        Iteration limit.
    max_wall_time : float or None
        Wall-time limit in seconds.
    hessian : {'exact', 'limited-memory'}
        Exact Hessian of the Lagrangian (or a supplied ``hess_lag``), or L-BFGS.
    print_level : int
        IPOPT's print level, 0 (silent) to 12.
    linear_solver : {'mumps', 'spral', 'ma27', 'ma57', 'ma77', 'ma86', 'ma97'}
        The HSL solvers (``ma*``) when IPOPT can load the HSL library: the one named by the IPOPT
        option ``hsllib`` in ``options``, else libhsl.so on the loader path. Checked once per process
        in a subprocess; refused with a ValueError naming the library when it cannot be loaded.
    options : mapping
        Further IPOPT options by their IPOPT names, e.g. ``{'mu_strategy': 'adaptive'}``.
    expand : bool
        Expand the whole NLP to CasADi SX before IPOPT sees it (``casadi.nlpsol``'s ``expand``):
        a longer build, cheaper evaluations in every iteration, which pays where one NLP is
        solved many times (``oc.compile``, model predictive control) and stays small.
    """

    tol: float = 1e-8
    max_iter: int = 1000
    max_wall_time: float | None = None
    hessian: str = "exact"
    print_level: int = 0
    linear_solver: str = "mumps"
    options: Mapping[str, Any] = field(default_factory=dict)
    expand: bool = False

    def __post_init__(self) -> None:
        as_finite_float(self.tol, "tol")
        if not isinstance(self.expand, bool):
            raise TypeError(f"expand: expected True or False, got {self.expand!r}")
        if self.tol <= 0:
            raise ValueError(f"tol: expected a positive number, got {self.tol}")
        _as_ipopt_int(self.max_iter, "max_iter", minimum=0)
        if self.max_wall_time is not None and as_finite_float(self.max_wall_time, "max_wall_time") <= 0:
            raise ValueError(f"max_wall_time: expected a positive number of seconds, got {self.max_wall_time}")
        as_choice(self.hessian, "hessian", ("exact", "limited-memory"))
        as_positive_int(self.print_level, "print_level", minimum=0)
        if self.print_level > 12:
            raise ValueError(f"print_level: expected 0 to 12, got {self.print_level}")
        hsllib = self.options.get("hsllib") if isinstance(self.options, Mapping) else None
        _check_linear_solver(self.linear_solver, "linear_solver", hsllib)
        if not isinstance(self.options, Mapping):
            raise TypeError(f"options: expected a mapping of IPOPT option names, got {self.options!r}")
        for key, value in self.options.items():
            _check_option_value(key, value, hsllib)
        _check_ipopt_options(self.ipopt_options())

    name = "ipopt"

    def ipopt_options(self) -> dict:
        opts = {"tol": self.tol, "max_iter": self.max_iter, "print_level": self.print_level,
                "hessian_approximation": self.hessian,
                "linear_solver": self.linear_solver, "sb": "yes"}
        if self.max_wall_time is not None:
            opts["max_wall_time"] = float(self.max_wall_time)
        opts.update(self.options)
        return opts

    def nlpsol(self, warm_start: bool = False) -> tuple[str, dict]:
        """The plugin name and the nlpsol options dict."""
        ipopt = self.ipopt_options()
        if warm_start:
            ipopt = {"warm_start_init_point": "yes", "warm_start_bound_push": 1e-9,
                     "warm_start_mult_bound_push": 1e-9, "mu_init": 1e-6, **ipopt}
        options: dict[str, Any] = {"ipopt": ipopt, "print_time": False}
        if self.expand:  # only when set: the options (and fingerprints) of other solves stay as they were
            options["expand"] = True
        return "ipopt", options


def _as_ipopt_int(value: Any, name: str, minimum: int) -> int:
    """An integer IPOPT can hold: ``minimum`` to the C int maximum."""
    value = as_positive_int(value, name, minimum=minimum)
    if value > INT_MAX:
        raise ValueError(f"{name}: expected an integer from {minimum} to {INT_MAX} (IPOPT's integer range), "
                         f"got {value}")
    return value


def _check_linear_solver(value: Any, name: str, hsllib: Any = None) -> None:
    """MUMPS or SPRAL; an HSL solver when IPOPT can load the HSL library (``hsllib``, IPOPT's option
    naming it, or libhsl.so on the loader path), else a ValueError naming the library."""
    if isinstance(value, str) and value.lower() in HSL_SOLVERS:
        if hsllib is not None and (not isinstance(hsllib, str) or not hsllib.strip()):
            raise TypeError(f"options['hsllib']: expected the path of the HSL library, got {hsllib!r}")
        refusal = _hsl_refusal(value.lower(), hsllib or "")
        if refusal is None:
            return
        note = (f"the HSL library that provides it is not bundled with CasADi, and IPOPT could not load it "
                f"({refusal}); give its path as the IPOPT option hsllib (Ipopt(options={{'hsllib': ...}})) "
                f"or put it on the loader path as {HSL_DEFAULT_LIBRARY}")
        as_choice(value, name, LINEAR_SOLVERS, note=note)
    as_choice(value, name, LINEAR_SOLVERS)


@functools.lru_cache(maxsize=None)
def _hsl_refusal(solver: str, hsllib: str) -> str | None:
    """Why IPOPT cannot solve with the HSL ``solver`` (loading ``hsllib``, or its default library), or None.

    Asked once per process for each solver and library: selecting an HSL solver whose library is
    missing has been seen to end the process with a segmentation fault, so the probe runs in a
    subprocess, where a crash is only a nonzero exit code.
    """
    library = hsllib or HSL_DEFAULT_LIBRARY
    try:
        done = subprocess.run([sys.executable, "-c", _HSL_PROBE, solver, hsllib], capture_output=True, text=True,
                              timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{library}: the probe could not run: {exc}"
    status = [line.split()[1] for line in done.stdout.splitlines()
              if line.startswith("OCCONTROL-HSL-PROBE") and len(line.split()) > 1]
    if status and status[-1] == "Solve_Succeeded":
        return None  # a crash at the probe's exit, after solving, does not matter here
    loader = [line.split("Exception message:", 1)[1].strip() for line in done.stdout.splitlines()
              if "Exception message:" in line]
    if loader:
        return loader[-1]
    if status:
        return f"{library}: IPOPT's status {status[-1]}"
    return f"{library}: the probe ended with exit code {done.returncode}"


def _check_option_value(key: Any, value: Any, hsllib: Any = None) -> None:
    """Types and ranges of one entry of ``options``, where IPOPT or CasADi would not say."""
    if not isinstance(key, str):
        raise TypeError(f"options: expected IPOPT option names (strings) as keys, got {key!r}")
    name = f"options[{key!r}]"
    if key == "linear_solver":
        _check_linear_solver(value, name, hsllib)
        return
    if key in INTEGER_OPTIONS:
        _as_ipopt_int(value, name, INTEGER_OPTIONS[key])
        if key in PRINT_LEVELS and value > 12:
            raise ValueError(f"{name}: expected 0 to 12, got {value}")
        return
    if isinstance(value, str):
        return  # IPOPT checks string settings itself
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number or a string setting, got {value!r}")
    if isinstance(value, numbers.Integral) and not -INT_MAX - 1 <= int(value) <= INT_MAX:
        raise ValueError(f"{name}: the integer {value} is outside IPOPT's integer range; write a real "
                         "option's value as a float")
    # IPOPT's range checks let NaN through (every comparison with it is false).
    as_finite_float(value, name)


def _ipopt_refusal(options: dict) -> str | None:
    """IPOPT's reason for refusing ``options`` on a toy problem, or None if it accepts them."""
    x = cs.MX.sym("x")
    try:
        cs.nlpsol("check", "ipopt", {"x": x, "f": x ** 2},
                  {"ipopt": {**options, "print_level": 0}, "print_time": False})
    except RuntimeError as exc:
        return str(exc).splitlines()[-1]
    return None


def _check_ipopt_options(options: dict) -> None:
    """Refuse unknown options and out-of-range values now, not after an NLP is built.

    IPOPT checks names, string settings and documented ranges when the solver
    is created, but writes which option it refused to stdout only; so on a
    refusal each option is tried alone to name it.
    """
    reason = _ipopt_refusal(options)
    if reason is None:
        return
    for key, value in options.items():
        alone = _ipopt_refusal({key: value})
        if alone is not None:
            raise ValueError(f"options: IPOPT refused {key}={value!r} (an unknown option, or a value outside "
                             f"its documented range or settings): {alone}")
    raise ValueError(f"options: IPOPT refused the options {options}: {reason}")


@dataclass(frozen=True)
class CasadiSolver:
    """Another NLP solver shipped with CasADi, e.g. ``'sqpmethod'`` or ``'fatrop'``.

    Parameters
    ----------
    plugin : str
        The ``casadi.nlpsol`` plugin name.
    options : mapping
        Options passed to ``casadi.nlpsol`` as they are.
    """

    plugin: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.plugin, str) or not cs.has_nlpsol(self.plugin):
            raise ValueError(f"plugin: expected an NLP solver CasADi ships (e.g. 'sqpmethod', "
                             f"'fatrop'), got {self.plugin!r}")
        if not isinstance(self.options, Mapping):
            raise TypeError(f"options: expected a mapping, got {self.options!r}")

    @property
    def name(self) -> str:
        return self.plugin

    def nlpsol(self, warm_start: bool = False) -> tuple[str, dict]:
        return self.plugin, {"print_time": False, **self.options}


HessLag = cs.Function | Callable[[DiscreteProblem], cs.Function]


def discretize(ocp: OCP, transcription: Transcription | None = None, *, grid: Any,
               parameters: Any = None) -> DiscreteProblem:
    """Check the problem and arguments, then build the NLP without solving it.

    ``parameters`` ({parameter: value}) are checked before anything is built;
    without them an OCP with parameters gives a problem whose parameter
    values are unset (see :meth:`DiscreteProblem.with_parameters`).

    Parameters
    ----------
    ocp : OCP
        The continuous problem.
    transcription : Transcription or None
        The scheme; None for ``oc.RK4()``.
    grid : int or Grid
        N uniform intervals, or an ``oc.Grid``.
    parameters : dict or None
        Values of the OCP's parameters (``ocp.parameter``), ``{parameter: value}``.

    Returns
    -------
    DiscreteProblem
        The NLP, its bounds and how to read its solution; ``oc.solve`` solves the same problem.
    """
    problem, values = _discretize(ocp, transcription, grid, parameters, require=parameters is not None)
    return problem if values is None else problem.with_parameters(values)


def checked_ocp_and_transcription(ocp: Any, transcription: Any) -> Transcription:
    """The transcription to use (default ``RK4()``), once ``ocp`` and it are of the right types."""
    if not isinstance(ocp, OCP):
        raise TypeError(f"ocp: expected an oc.OCP, got {type(ocp).__name__}")
    transcription = RK4() if transcription is None else transcription
    if not isinstance(transcription, Transcription):
        raise TypeError(f"transcription: expected a transcription such as oc.RK4() or "
                        f"oc.Collocation(), got {transcription!r}")
    return transcription


def _discretize(ocp: OCP, transcription: Transcription | None, grid: Any, parameters: Any,
                require: bool = True) -> tuple[DiscreteProblem, dict[str, np.ndarray] | None]:
    """The symbolic NLP and the checked parameter values (None when not required and not given)."""
    transcription = checked_ocp_and_transcription(ocp, transcription)
    grid = as_grid(grid)
    values = parameter_values(ocp, parameters) if require or not ocp.parameters else None
    ocp.check()
    if values is not None:
        ocp.check_values(values, ocp.initial_values(values))
    return transcription.discretize(ocp, grid), values


def _hessian_option(problem: DiscreteProblem, hess_lag: HessLag | None) -> dict:
    if hess_lag is None:
        return {}
    fn = hess_lag if isinstance(hess_lag, cs.Function) else hess_lag(problem)
    if not isinstance(fn, cs.Function):
        raise TypeError("hess_lag: expected a casadi.Function (x, p, lam_f, lam_g) -> Hessian, "
                        "or a callable of the DiscreteProblem returning one")
    nx, ng, npar = problem.lbx.size, problem.lbg.size, problem.parameters.size
    expected = [(nx, 1), (npar, 1), (1, 1), (ng, 1)]
    got = [tuple(fn.size_in(i)) for i in range(fn.n_in())]
    if got != expected or fn.n_out() < 1 or tuple(fn.size_out(0)) != (nx, nx):
        raise ValueError(f"hess_lag: expected inputs {expected} and a {nx}x{nx} output, got inputs "
                         f"{got} and outputs {[fn.size_out(i) for i in range(fn.n_out())]}")
    if fn.n_out() == 1 and fn.sparsity_out(0).is_triu():
        return {"hess_lag": fn}
    # IPOPT reads the upper triangle only; take it here so users may give the full matrix.
    args = [cs.MX.sym(n, *s) for n, s in zip(("x", "p", "lam_f", "lam_g"), expected)]
    out = fn(*args)
    triu = cs.Function("hess_lag", args, [cs.triu(out[0] if fn.n_out() > 1 else out)],
                       ["x", "p", "lam_f", "lam_g"], ["triu_hess_gamma_x_x"])
    return {"hess_lag": triu}


def _check_solver_arguments(solver: Any, hess_lag: Any) -> Ipopt | CasadiSolver:
    solver = Ipopt() if solver is None else solver
    if not isinstance(solver, (Ipopt, CasadiSolver)):
        raise TypeError(f"solver: expected oc.Ipopt(...) or oc.CasadiSolver(...), got {solver!r}")
    if hess_lag is not None and not callable(hess_lag):  # a cs.Function is callable too
        raise TypeError(f"hess_lag: expected a casadi.Function or a callable of the DiscreteProblem, "
                        f"got {hess_lag!r}")
    return solver


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return value


class CompiledProblem:
    """An NLP and its solver instance, built once and solved for many parameter values and guesses.

    Made by :func:`compile`. Each :meth:`solve` maps the guess to a start
    point, the parameter values to the NLP's parameter vector, calls the
    solver and reads the Solution: numpy work and calls of prebuilt
    functions, nothing is built.

    Attributes
    ----------
    problem : DiscreteProblem
        The NLP, its parameter values unset (each solve sets its own).
    solver : Ipopt or CasadiSolver
    build_seconds : float
        Wall time of :func:`compile` (the NLP and the solver instance).
    hess_lag : casadi.Function, callable or None
        The Hessian of the Lagrangian handed to the solver, as for :func:`solve`.
    """

    def __init__(self, problem: DiscreteProblem, solver: Ipopt | CasadiSolver,
                 hess_lag: HessLag | None) -> None:
        self.problem = problem
        self.solver = solver
        self.build_seconds = 0.0
        self._hess_lag = hess_lag
        self._hessian: dict | None = None
        self._instances: dict[bool, cs.Function] = {}
        self._setter: ParameterSetter | None = None  # made on the first solve
        # the bounds as CasADi matrices, converted once rather than in every solver call
        self._bounds = {k: cs.DM(getattr(problem, k)) for k in ("lbx", "ubx", "lbg", "ubg")}

    def _instance(self, warm_start: bool) -> cs.Function:
        """The solver instance with or without IPOPT's multiplier warm start (built on first use:
        IPOPT fixes ``warm_start_init_point`` when an instance is made)."""
        instance = self._instances.get(warm_start)
        if instance is None:
            if self._hessian is None:
                self._hessian = _hessian_option(self.problem, self._hess_lag)
            plugin, options = self.solver.nlpsol(warm_start=warm_start)
            try:
                instance = cs.nlpsol("occontrol", plugin, self.problem.nlp, {**options, **self._hessian})
            except RuntimeError as exc:
                raise ValueError(f"solver: {plugin} refused the problem or options: "
                                 f"{str(exc).splitlines()[-1]}") from exc
            self._instances[warm_start] = instance
        return instance

    def solve(self, parameters: Any = None, guess: Any = None, multipliers: bool = False) -> Solution:
        """Solve for ``parameters``, starting from ``guess``.

        Parameters
        ----------
        parameters : dict, optional
            {parameter symbol or name: value}, one for every ``ocp.parameter``.
        guess : dict or Solution, optional
            As for :func:`occontrol.solve`; a Solution must come from this
            problem (same OCP, grid and transcription), e.g. the previous
            solve or its :meth:`~occontrol.Solution.shifted` form, and is
            then taken as it is (its decision vector).
        multipliers : bool
            Also start from the guess's multipliers (a Solution with them);
            the first such solve builds the warm-start solver instance.

        Returns
        -------
        Solution
            ``build_seconds`` is the bookkeeping time of this solve before the
            solver call (checking the parameters, mapping the guess),
            ``solve_seconds`` the solver's.

        Raises
        ------
        ValueError
            Bad parameters or guess (before the solver runs); or the objective
            or a constraint is NaN/inf at the start point, named as
            :func:`occontrol.start_check.check_initial_point` names it. For a
            Solution of this problem as guess (a previous optimum, or its
            shifted form) that check runs only when the solve fails, which a
            non-finite start point makes it do: a converging re-solve does not
            pay for it.
        """
        return self._solve(parameters, guess, multipliers, build_seconds=0.0)

    def _with_parameters(self, parameters: Any) -> DiscreteProblem:
        """The problem with ``parameters`` set (checked as :meth:`DiscreteProblem.with_parameters` checks)."""
        if self._setter is None:
            self._setter = ParameterSetter(self.problem)
        values, vector = self._setter(parameters)
        # a shallow copy (as copy.copy makes, without its protocol): shares the NLP, the layout
        # and the cached functions
        problem = object.__new__(type(self.problem))
        problem.__dict__.update(self.problem.__dict__)
        problem.parameters, problem.parameter_values = vector, values
        return problem

    def _solve(self, parameters: Any, guess: Any, multipliers: bool, build_seconds: float,
               interpolate: bool = False) -> Solution:
        """One solve; ``interpolate`` maps a Solution guess through its ``at`` (any grid, as
        :func:`solve` does) instead of copying its decision vector."""
        start = time.perf_counter()
        _check_flag(multipliers, "multipliers")
        if multipliers and not hasattr(guess, "lam_g"):
            raise ValueError("multipliers: needs a previous Solution as guess")
        problem = self._with_parameters(parameters)
        # A Solution of this very layout is copied as it is (a previous optimum, a shifted one):
        # its start point is checked only if the solve fails (below); any other guess is checked first.
        copied = not interpolate and isinstance(guess, Solution)
        w0 = initial_guess(problem, guess) if interpolate else self._start(problem, guess)
        nlp_solver = self._instance(multipliers)
        if not copied:
            check_initial_point(problem, nlp_solver, w0)
        lam = None
        if multipliers:
            lam = _copied_multipliers(problem, guess) if copied else warm_multipliers(problem, guess)
        sol = run(problem, nlp_solver, w0, solver_name=self.solver.name,
                  build_seconds=build_seconds + time.perf_counter() - start, multipliers=lam,
                  bounds=self._bounds)
        if copied and (not sol.success or not np.isfinite(sol.w).all()):
            # IPOPT stops with Invalid_Number_Detected at a NaN/inf start point, naming nothing:
            # the check names the objective part or constraint (and raises), as it would have up front.
            check_initial_point(problem, nlp_solver, w0)
        return sol

    def _start(self, problem: DiscreteProblem, guess: Any) -> np.ndarray:
        """The start point: a Solution of this very NLP layout is copied, anything else mapped."""
        if isinstance(guess, Solution):
            if guess.problem.ocp is not problem.ocp:
                raise ValueError("guess: expected a Solution of this OCP, got one of another OCP")
            # a solve of this compiled problem shares its layout; anything else is compared
            if guess.problem.layout is not problem.layout and not same_layout(guess.problem, problem):
                raise ValueError("guess: expected a Solution of this compiled problem (same grid and "
                                 "transcription); oc.solve(..., guess=solution) interpolates across grids")
            return np.clip(guess.w, problem.lbx, problem.ubx)
        return initial_guess(problem, guess)

    def __repr__(self) -> str:
        return (f"CompiledProblem(N={self.problem.N}, transcription={self.problem.transcription.describe()}, "
                f"solver={self.solver.name})")


def _copied_multipliers(problem: DiscreteProblem, guess: Solution) -> tuple[np.ndarray, np.ndarray]:
    """The multipliers of a Solution of this very layout, as they are (zeros where it has none)."""
    if guess.lam_x is None or guess.lam_g is None:
        return np.zeros(problem.lbx.size), np.zeros(problem.lbg.size)
    return guess.lam_x, guess.lam_g


def same_layout(a: DiscreteProblem, b: DiscreteProblem) -> bool:
    """Whether two discrete problems have the same decision vector (grid, transcription, sizes)."""
    return (a.grid == b.grid and a.transcription.describe() == b.transcription.describe()
            and a.lbx.size == b.lbx.size and a.lbg.size == b.lbg.size)


def compile(ocp: OCP, transcription: Transcription | None = None, *, grid: Any,
            solver: Ipopt | CasadiSolver | None = None, hess_lag: HessLag | None = None,
            warm_start: bool = False) -> CompiledProblem:
    """Build the NLP of ``ocp`` and its solver instance once, for many :meth:`CompiledProblem.solve`.

    Parameters
    ----------
    ocp, transcription, grid, solver, hess_lag
        As for :func:`solve`.
    warm_start : bool
        Build now the instance that starts from given multipliers (IPOPT's
        ``warm_start_init_point``, fixed per instance) rather than the cold
        one; the other is built the first time a solve asks for it.

    Returns
    -------
    CompiledProblem
    """
    solver = _check_solver_arguments(solver, hess_lag)
    _check_flag(warm_start, "warm_start")
    start = time.perf_counter()
    problem, _ = _discretize(ocp, transcription, grid, None, require=False)
    compiled = CompiledProblem(problem, solver, hess_lag)
    compiled._instance(warm_start)
    compiled.build_seconds = time.perf_counter() - start
    return compiled


def solve(ocp: OCP, transcription: Transcription | None = None, *, grid: Any, guess: Any = None,
          solver: Ipopt | CasadiSolver | None = None, hess_lag: HessLag | None = None,
          warm_start_multipliers: bool = False, parameters: Any = None) -> Solution:
    """Transcribe ``ocp`` on ``grid`` and solve the NLP (:func:`compile`, then one solve).

    Parameters
    ----------
    ocp : OCP
    transcription : Transcription, optional
        Default ``oc.RK4()`` (multiple shooting, piecewise-constant controls).
    grid : int or Grid
        N uniform intervals, or a Grid of given nodes.
    guess : dict or Solution, optional
        Per symbol: a constant, an array over the grid, a callable of t or a
        Solution; or one Solution for everything (interpolated onto the grid).
    solver : Ipopt or CasadiSolver, optional
        Default ``oc.Ipopt()``.
    hess_lag : casadi.Function or callable, optional
        The Hessian of the Lagrangian to hand the solver instead of CasADi's
        exact one: (x, p, lam_f, lam_g) -> nx-by-nx matrix, or a callable
        taking the DiscreteProblem and returning such a function.
    warm_start_multipliers : bool
        With a Solution as guess, also start from its multipliers.
    parameters : dict, optional
        {parameter symbol or name: value} for every ``ocp.parameter``.

    Returns
    -------
    Solution
        Also when the solver fails: then ``success`` is False and ``status``
        holds the solver's reason.
    """
    solver = _check_solver_arguments(solver, hess_lag)
    _check_flag(warm_start_multipliers, "warm_start_multipliers")
    if warm_start_multipliers and not hasattr(guess, "lam_g"):
        raise ValueError("warm_start_multipliers: needs a previous Solution as guess")
    start = time.perf_counter()
    problem, _ = _discretize(ocp, transcription, grid, parameters)  # the values are checked before the build
    # the solver instance is built in the solve, after the guess is checked (errors before any NLP is built)
    compiled = CompiledProblem(problem, solver, hess_lag)
    return compiled._solve(parameters, guess, warm_start_multipliers, time.perf_counter() - start,
                           interpolate=True)


def run(problem: DiscreteProblem, nlp_solver: cs.Function, w0: np.ndarray, *, solver_name: str,
        build_seconds: float, multipliers: tuple[np.ndarray, np.ndarray] | None = None,
        bounds: dict[str, cs.DM] | None = None) -> Solution:
    """Call a built CasADi NLP solver and wrap the outcome in a :class:`Solution`.

    ``bounds``: the problem's lbx, ubx, lbg, ubg already converted to ``casadi.DM``
    (a compiled problem's, made once); by default they are converted in the call.
    """
    args: dict[str, Any] = dict(x0=w0, p=problem.parameters, lbx=problem.lbx, ubx=problem.ubx,
                                lbg=problem.lbg, ubg=problem.ubg)
    if bounds is not None:
        args.update(bounds)
    if multipliers is not None:
        args["lam_x0"], args["lam_g0"] = multipliers
    start = time.perf_counter()
    try:
        result = nlp_solver(**args)
    except RuntimeError as exc:  # e.g. a NaN at the start point with error_on_fail set
        solve_seconds = time.perf_counter() - start
        return Solution(problem, w0, status=f"Exception: {str(exc).splitlines()[-1]}", success=False,
                        iterations=0, build_seconds=build_seconds, solve_seconds=solve_seconds,
                        solver=solver_name)
    solve_seconds = time.perf_counter() - start
    stats = nlp_solver.stats()  # once: CasADi converts the whole record to Python on every call
    history = stats.get("iterations") or {}  # Solution.history converts it when read
    return Solution(problem, flat_vector(result["x"]), status=str(stats.get("return_status", "unknown")),
                    success=bool(stats.get("success", False)), iterations=int(stats.get("iter_count", 0)),
                    build_seconds=build_seconds, solve_seconds=solve_seconds, solver=solver_name,
                    lam_x=result["lam_x"], lam_g=result["lam_g"], history=history)  # converted when read
