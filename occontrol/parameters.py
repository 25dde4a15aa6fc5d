"""Values of an OCP's parameters (``ocp.parameter``), given per solve.

Keys may be the parameter's symbol or its name, as for guesses; every
parameter needs a finite value of its shape. All checks run before any NLP
is built.
"""

from __future__ import annotations

from typing import Any

import casadi as cs
import numpy as np

from ._checks import as_finite_array
from .problem import OCP

__all__ = ["parameter_values", "ParameterSetter"]


def _name_of(ocp: OCP, key: Any) -> str:
    """The name of the parameter a key of ``parameters=`` stands for."""
    if isinstance(key, str):
        var = next((v for v in ocp.declarations if v.name == key), None)
        if var is None:
            raise ValueError(f"parameters: {key!r} is not declared by this OCP "
                             f"(its parameters: {[v.name for v in ocp.parameters]})")
    elif isinstance(key, cs.MX):
        var = ocp._by_hash.get(hash(key))
        if var is None:
            raise ValueError(f"parameters: the key {key!r} is not a symbol declared by this OCP")
    else:
        raise TypeError(f"parameters: expected parameter symbols or names as keys, got {key!r}")
    if var.kind != "parameter":
        raise ValueError(f"parameters: {var.name!r} is a {var.kind}, not a parameter (ocp.parameter); "
                         "the optimiser chooses it")
    return var.name


def parameter_values(ocp: OCP, parameters: Any) -> dict[str, np.ndarray]:
    """{name: value} for every parameter of ``ocp``, checked.

    Parameters
    ----------
    ocp : OCP
    parameters : dict or None
        {parameter symbol or name: value}; a value is a number or an array of
        the parameter's shape.

    Raises
    ------
    TypeError
        ``parameters`` is not a dict, or a key is neither a symbol nor a name.
    ValueError
        A parameter has no value, a key is not a parameter of ``ocp``, or a
        value has the wrong shape or is not finite (the parameter is named).
    """
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise TypeError(f"parameters: expected a dict {{parameter: value}}, got {type(parameters).__name__}")
    given: dict[str, Any] = {}
    for key, value in parameters.items():
        name = _name_of(ocp, key)
        if name in given:
            raise ValueError(f"parameters: {name!r} is given twice (by its symbol and by its name)")
        given[name] = value
    missing = [v.name for v in ocp.parameters if v.name not in given]
    if missing:
        raise ValueError(f"parameters: no value for the parameter(s) {', '.join(map(repr, missing))}; "
                         "give parameters={p: value}")
    return {v.name: as_finite_array(given[v.name], f"parameters[{v.name!r}]", v.shape) for v in ocp.parameters}


class ParameterSetter:
    """The checked parameter values of one solve of a compiled problem, and its NLP parameter vector.

    Built once per compiled problem: the lookups of keys, the packing and the
    bounds of the initial states given by parameters are prepared, so that a
    re-solve pays numpy work and one call of the problem's ``initial_function``.
    Every check of :func:`parameter_values` and :meth:`OCP.check_values` is
    made; where one fails (or path constraints must be checked per solve) the
    original functions run, so the errors are theirs.

    Parameters
    ----------
    problem : DiscreteProblem
        The compiled NLP (its parameter values unset).
    """

    def __init__(self, problem: Any) -> None:
        ocp, model = problem.ocp, problem.model
        self.problem, self.ocp = problem, ocp
        self.by_key: dict[Any, Any] = {}
        for v in ocp.parameters:
            self.by_key[v.name] = v
            self.by_key[("symbol", hash(v.symbol))] = v
        n_static = model.n_static
        self.slices = [(b.var, slice(b.offset - n_static, b.stop - n_static)) for b in model.parameter_blocks]
        # (variable, symbol, name, shape, size, slice of q): Variable.shape asks CasADi on every read
        self.entries = [(v, v.symbol, v.name, v.shape, v.size, sl) for v, sl in self.slices]
        self.n_parameters = model.n_parameters
        # packed rows of the initial states that parameters give, and their bounds (OCP.check_values)
        rows = [np.arange(b.offset, b.stop) for b in model.state_blocks if isinstance(b.var.initial, cs.MX)]
        self.initial_rows = np.concatenate(rows).astype(int) if rows else np.zeros(0, dtype=int)
        lower = model.pack({v.name: v.lower for v in ocp.states}, "state")
        upper = model.pack({v.name: v.upper for v in ocp.states}, "state")
        self.lower, self.upper = lower[self.initial_rows], upper[self.initial_rows]
        self.per_solve_constraints = any(c.checked_per_solve for c in ocp.path_constraints)
        self.fixed = problem.fixed_initial
        # Initial states that are a parameter itself (ocp.initial(x, p)) are copies of q: then the
        # constant initial states are taken once and those copied, with no call of initial_function.
        hashes = {hash(v.symbol): sl for v, sl in self.slices}
        self.copies: list[tuple[slice, slice]] | None = []
        for b in model.state_blocks:
            init = b.var.initial
            if isinstance(init, cs.MX):
                sl = hashes.get(hash(init)) if init.is_symbolic() else None
                if sl is None or sl.stop - sl.start != b.stop - b.offset:
                    self.copies = None  # an expression of parameters: evaluate initial_function
                    break
                self.copies.append((slice(b.offset, b.stop), sl))
        self.constant_z0 = np.asarray(problem.initial_function(np.full(self.n_parameters, np.nan)),
                                      dtype=float).ravel()
        self.bounded = bool(np.isfinite(self.lower).any() or np.isfinite(self.upper).any())
        if self.copies is not None:
            # the NLP parameter vector (fixed initial states, then q) as a template and one gather:
            # p[n_fixed + j] = q[j], and the fixed rows that are copies of q take q[source]
            n_fixed = int(self.fixed.sum())
            position = np.full(self.fixed.size, -1)
            position[self.fixed] = np.arange(n_fixed)  # packed state row -> its place in p
            self.template = np.concatenate([self.constant_z0[self.fixed], np.zeros(self.n_parameters)])
            dst = [position[np.arange(rows.start, rows.stop)] for rows, _ in self.copies]
            src = [np.arange(sl.start, sl.stop) for _, sl in self.copies]
            self.copy_to = np.concatenate(dst + [np.zeros(0, dtype=int)]).astype(int)
            self.copy_from = np.concatenate(src + [np.zeros(0, dtype=int)]).astype(int)
            self.n_fixed = n_fixed

    def _variable(self, key: Any) -> Any:
        """The parameter a key stands for; the original lookup (and its error) for anything unusual."""
        for var, symbol, *_ in self.entries:  # the symbol itself, the common key: no hashing
            if key is symbol:
                return var
        var = self.by_key.get(("symbol", hash(key)) if isinstance(key, cs.MX) else key) \
            if isinstance(key, (str, cs.MX)) else None
        if var is None:
            name = _name_of(self.ocp, key)  # raises the error that names the key
            var = self.by_key[name]
        return var

    def __call__(self, parameters: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """({name: value}, the NLP parameter vector) for ``parameters``, checked as
        :func:`parameter_values` and :meth:`DiscreteProblem.parameter_vector` check them."""
        if parameters is None or not isinstance(parameters, dict) or len(parameters) != len(self.slices):
            values = parameter_values(self.ocp, parameters)  # the wrong type or count: its error
            values = {k: np.array(v, dtype=float) for k, v in values.items()}
        else:
            given: dict[str, Any] = {}
            for key, value in parameters.items():
                var = self._variable(key)
                if var.name in given:
                    raise ValueError(f"parameters: {var.name!r} is given twice (by its symbol and by its name)")
                given[var.name] = value
            values = {name: _finite_copy(given[name], name, shape, size) for _, _, name, shape, size, _ in self.entries}
        q = np.empty(self.n_parameters)
        for _, _, name, _, _, sl in self.entries:
            q[sl] = np.ravel(values[name], order="F")
        if self.copies is not None and not self.bounded and not self.per_solve_constraints:
            p = self.template.copy()  # nothing to check: the vector by copies alone
            p[self.n_fixed:] = q
            p[self.copy_to] = q[self.copy_from]
            return values, p
        if self.copies is None:
            z0 = np.asarray(self.problem.initial_function(q), dtype=float).ravel()
        else:
            z0 = self.constant_z0.copy()
            for rows, sl in self.copies:
                z0[rows] = q[sl]
        start = z0[self.initial_rows]
        if self.per_solve_constraints or ((start < self.lower) | (start > self.upper)).any():
            self.problem.parameter_vector(values)  # the full check, which raises with its message
        return values, np.concatenate([z0[self.fixed], q])


def _finite_copy(value: Any, name: str, shape: tuple[int, int], size: int) -> np.ndarray:
    """A copy of one parameter's value (the caller's array may change later), checked as
    :func:`occontrol._checks.as_finite_array` checks it; a finite float array of the parameter's
    shape, or flat with its size, is taken directly, anything else goes through that checker."""
    if (isinstance(value, np.ndarray) and value.dtype == np.float64
            and (value.shape == shape or value.ndim == 1 and value.size == size)
            and np.isfinite(value).all()):
        return value.reshape(shape, order="F").copy()
    return np.array(as_finite_array(value, f"parameters[{name!r}]", shape), dtype=float)
