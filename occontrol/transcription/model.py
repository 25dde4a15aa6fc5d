"""CasADi functions of the continuous model on packed vectors.

The OCP is written in MX symbols, one per variable. Transcriptions want
functions of packed vectors z (all states, column-major), u (all controls),
p (all static variables, then all parameters), t and tf. This module builds them once per OCP:

- each expression is turned into an SX function (``expand``), which
  evaluates fastest for the small per-step graphs of an OCP;
- a matrix state whose dynamics act column by column (the ensemble) gets a
  per-column function applied with ``Function.map`` instead of one graph
  unrolled over its columns; that is decided by the structure of the
  expression and confirmed numerically.
"""

from __future__ import annotations

from dataclasses import dataclass

import os

import casadi as cs
import numpy as np

from ..problem import OCP, Variable

__all__ = ["ModelFunctions", "mapped"]


def mapped(fn: cs.Function, n: int, parallelization: str = "serial",
           shared: tuple[int, ...] = ()) -> cs.Function:
    """``fn`` mapped over n columns, serially or on one thread per core.

    Parameters
    ----------
    fn : casadi.Function
        The per-column function.
    n : int
        Number of columns.
    parallelization : {'serial', 'thread'}
    shared : tuple of int
        Inputs given once and shared by every column (not repeated n times).

    Threads run contiguous chunks, each a serial map: CasADi's thread map of n
    single columns costs about 6 ms per call in fixed overhead on two cores
    (benchmarks/thread_map.py), more than the whole serial evaluation of
    small maps; chunked, the threads pay off at every size measured.
    """
    reduced = list(shared)
    threads = min(os.cpu_count() or 1, n)
    if parallelization != "thread" or threads < 2:
        return fn.map(f"{fn.name()}_map", "serial", n, reduced, [])
    chunk, rest = divmod(n, threads)
    inner = fn.map(f"{fn.name()}_chunk", "serial", chunk, reduced, [])
    threaded = inner.map(f"{fn.name()}_threads", "thread", threads, reduced, [], {"max_num_threads": threads})
    if rest == 0:
        return threaded
    # the last n mod threads columns serially after the threaded block, in column order
    tail = fn.map(f"{fn.name()}_tail", "serial", rest, reduced, [])
    args = [cs.MX.sym(fn.name_in(i), fn.size1_in(i), fn.size2_in(i) * (1 if i in shared else n))
            for i in range(fn.n_in())]
    cut = [chunk * threads * fn.size2_in(i) for i in range(fn.n_in())]  # where the tail's columns start
    head_args = [a if i in shared else a[:, :cut[i]] for i, a in enumerate(args)]
    tail_args = [a if i in shared else a[:, cut[i]:] for i, a in enumerate(args)]
    outs = [cs.horzcat(h, t) for h, t in zip(threaded.call(head_args), tail.call(tail_args))]
    return cs.Function(f"{fn.name()}_map", args, outs, fn.name_in(), fn.name_out())


@dataclass(frozen=True)
class Block:
    """Where one variable sits in its packed vector."""

    var: Variable
    offset: int

    @property
    def stop(self) -> int:
        return self.offset + self.var.size


def _blocks(variables: list[Variable]) -> tuple[list[Block], int]:
    blocks, offset = [], 0
    for var in variables:
        blocks.append(Block(var, offset))
        offset += var.size
    return blocks, offset


class ModelFunctions:
    """Packed CasADi functions of one OCP.

    Attributes
    ----------
    f : casadi.Function
        (z[nz], u[nu], p[np], t, tf) -> dz/dt[nz].
    running : casadi.Function
        (z, u, p, t, tf) -> running-cost integrand (scalar).
    path : casadi.Function
        (z, u, p, t, tf) -> path-constraint expressions[ng], bounds in
        ``path_lower`` / ``path_upper``.
    terminal_cost : casadi.Function
        (z, p, tf) -> terminal cost.
    terminal : casadi.Function
        (z, p, tf) -> terminal-constraint expressions.
    boundary, boundary_cost : casadi.Function
        (z0, u0, zN, uN, p, tf) -> boundary-condition expressions (bounds in
        ``boundary_lower`` / ``boundary_upper``; ``boundary_rows`` are those
        given to the solver) and the cost of the at_t0/at_tf values.
    ensemble : dict
        State name -> number of columns integrated by a mapped per-column function.
    """

    def __init__(self, ocp: OCP, map_parallelization: str = "serial") -> None:
        ocp.check()
        self.ocp = ocp
        self.state_blocks, self.nz = _blocks(ocp.states)
        self.control_blocks, self.nu = _blocks(ocp.controls)
        self.static_blocks, self.n_static = _blocks(ocp.static_variables)
        # Parameters follow the static variables in p: every function of p sees both.
        param_blocks, n_param = _blocks(ocp.parameters)
        self.parameter_blocks = [Block(b.var, b.offset + self.n_static) for b in param_blocks]
        self.n_parameters = n_param
        self.np = self.n_static + n_param
        self.map_parallelization = map_parallelization
        self._raw_inputs = [v.symbol for v in ocp.declarations] + [ocp.t, ocp.tf_symbol]

        z, u, p = cs.MX.sym("z", self.nz), cs.MX.sym("u", self.nu), cs.MX.sym("p", self.np)
        t, tf = cs.MX.sym("t"), cs.MX.sym("tf")
        args = self._unpack(z, u, p) + [t, tf]

        self.ensemble: dict[str, int] = {}
        pieces = [cs.vec(self._state_rhs(block.var, args)) for block in self.state_blocks]
        self.f = cs.Function("f", [z, u, p, t, tf], [cs.vertcat(*pieces)], ["z", "u", "p", "t", "tf"], ["dz"])

        running = sum(ocp.running_costs, cs.MX(0.0))
        self.running = self._packed("running", running, z, u, p, t, tf)
        path = [c.expr for c in ocp.path_constraints]
        self.path = self._packed("path", cs.vertcat(*path) if path else cs.MX(0, 1), z, u, p, t, tf)
        self.path_lower = np.concatenate([c.lower for c in ocp.path_constraints] or [np.zeros(0)])
        self.path_upper = np.concatenate([c.upper for c in ocp.path_constraints] or [np.zeros(0)])
        # Rows imposed at t0: a constraint of fixed data alone was checked by OCP.check and would
        # be a constant row there (a satisfied equality on it leaves IPOPT too few degrees of freedom).
        self.path_rows_t0 = np.flatnonzero(np.concatenate(
            [np.full(c.lower.size, not c.fixed_at_t0) for c in ocp.path_constraints] or [np.zeros(0, bool)]))

        terminal_cost = sum(ocp.terminal_costs, cs.MX(0.0))
        self.terminal_cost = self._packed("terminal_cost", terminal_cost, z, u, p, t, tf, final=True)
        terms = [c.expr for c in ocp.terminal_constraints]
        self.terminal = self._packed("terminal", cs.vertcat(*terms) if terms else cs.MX(0, 1),
                                     z, u, p, t, tf, final=True)
        self.terminal_lower = np.concatenate([c.lower for c in ocp.terminal_constraints] or [np.zeros(0)])
        self.terminal_upper = np.concatenate([c.upper for c in ocp.terminal_constraints] or [np.zeros(0)])
        self._boundary_functions(ocp)

    def _boundary_functions(self, ocp: OCP) -> None:
        """The boundary conditions and costs (from at_t0/at_tf) as functions of both ends' packed values."""
        ends = {"t0": (cs.MX.sym("z0", self.nz), cs.MX.sym("u0", self.nu)),
                "tf": (cs.MX.sym("zN", self.nz), cs.MX.sym("uN", self.nu))}
        p, tf = cs.MX.sym("p", self.np), cs.MX.sym("tf")
        blocks = {id(b.var): b for b in self.state_blocks + self.control_blocks}
        inputs, values = [], []
        for bv in ocp.boundary_values.values():
            z, u = ends[bv.end]
            b = blocks[id(bv.var)]
            inputs.append(bv.symbol)
            values.append(cs.reshape((z if bv.var.kind == "state" else u)[b.offset:b.stop], *bv.var.shape))
        statics = self.static_blocks + self.parameter_blocks
        inputs += [b.var.symbol for b in statics] + [ocp.tf_symbol]
        values += [cs.reshape(p[b.offset:b.stop], *b.var.shape) for b in statics] + [tf]
        packed = [ends["t0"][0], ends["t0"][1], ends["tf"][0], ends["tf"][1], p, tf]
        names = ["z0", "u0", "zN", "uN", "p", "tf"]
        cons = ocp.boundary_constraints

        def function(name: str, expr: cs.MX) -> cs.Function:
            raw = cs.Function(name, inputs, [expr]).expand()
            return cs.Function(name, packed, [raw(*values)], names, [name])

        self.boundary = function("boundary", cs.vertcat(*[c.expr for c in cons]) if cons else cs.MX(0, 1))
        self.boundary_cost = function("boundary_cost", sum(ocp.boundary_costs, cs.MX(0.0)))
        self.boundary_lower = np.concatenate([c.lower for c in cons] or [np.zeros(0)])
        self.boundary_upper = np.concatenate([c.upper for c in cons] or [np.zeros(0)])
        # Rows of fixed data alone were checked by OCP.check; they would be constant rows for the solver.
        self.boundary_rows = np.flatnonzero(np.concatenate(
            [~c.fixed_rows if c.fixed_rows is not None else np.ones(c.lower.size, bool) for c in cons]
            or [np.zeros(0, bool)]))

    # ----------------------------------------------------------- packing
    def _unpack(self, z, u, p) -> list:
        """Per-variable values (in OCP declaration order) from packed vectors."""
        packed = {"state": (z, self.state_blocks), "control": (u, self.control_blocks),
                  "variable": (p, self.static_blocks), "parameter": (p, self.parameter_blocks)}
        where = {}
        for vec, blocks in packed.values():
            for b in blocks:
                where[id(b.var)] = cs.reshape(vec[b.offset:b.stop], *b.var.shape)
        return [where[id(v)] for v in self.ocp.declarations]

    def _raw(self, name: str, expr: cs.MX) -> cs.Function:
        """SX function of the OCP's own symbols (declaration order, then t, tf)."""
        return cs.Function(name, self._raw_inputs, [expr]).expand()

    def _packed(self, name, expr, z, u, p, t, tf, final: bool = False) -> cs.Function:
        raw = self._raw(name, expr)
        if final:  # no controls at the final time, and t = tf there
            out = raw(*self._unpack(z, cs.MX.zeros(self.nu), p), tf, tf)
            return cs.Function(name, [z, p, tf], [out], ["z", "p", "tf"], [name])
        out = raw(*self._unpack(z, u, p), t, tf)
        return cs.Function(name, [z, u, p, t, tf], [out], ["z", "u", "p", "t", "tf"], [name])

    def pack(self, values: dict[str, np.ndarray], kind: str) -> np.ndarray:
        """Pack {name: value} of one kind into its vector (column-major)."""
        blocks = self.blocks(kind)
        start = blocks[0].offset if blocks else 0
        out = np.zeros(blocks[-1].stop - start if blocks else 0)
        for b in blocks:
            out[b.offset - start:b.stop - start] = np.reshape(values[b.var.name], b.var.size, order="F")
        return out

    def blocks(self, kind: str) -> list[Block]:
        """The blocks of one kind of variable ('state', 'control', 'variable', 'parameter')."""
        return {"state": self.state_blocks, "control": self.control_blocks, "variable": self.static_blocks,
                "parameter": self.parameter_blocks}[kind]

    def initial_function(self) -> cs.Function:
        """(parameters packed) -> the packed initial states (the fixed values; 0 where free)."""
        q = cs.MX.sym("q", self.n_parameters)
        symbols = [b.var.symbol for b in self.parameter_blocks]
        values = [cs.reshape(q[b.offset - self.n_static:b.stop - self.n_static], *b.var.shape)
                  for b in self.parameter_blocks]
        pieces = []
        for b in self.state_blocks:
            init = b.var.initial
            if init is None:
                pieces.append(cs.MX.zeros(b.var.size))
            elif isinstance(init, cs.MX):
                pieces.append(cs.vec(cs.substitute([init], symbols, values)[0]))
            else:
                pieces.append(cs.MX(cs.DM(np.reshape(init, (-1, 1), order="F"))))
        return cs.Function("initial", [q], [cs.vertcat(*pieces) if pieces else cs.MX(0, 1)], ["q"], ["z0"])

    # ---------------------------------------------------------- dynamics
    def _state_rhs(self, var: Variable, args: list) -> cs.MX:
        if var.rhs is None:  # not reached: the OCP's check refuses states without dynamics first
            raise ValueError(f"dynamics: state {var.name!r} has no dynamics")
        raw = self._raw(f"rhs_{var.name}", var.rhs)
        column = self._column_function(var, raw) if var.shape[1] > 1 else None
        if column is None:
            return raw(*args)
        rows, cols = var.shape
        self.ensemble[var.name] = cols
        index = self.ocp.declarations.index(var)
        return mapped(column, cols, self.map_parallelization)(args[index], *self._non_state(args))

    def _non_state(self, seq: list) -> list:
        """The items of a raw-input-ordered list that are not states (controls, parameters, t, tf)."""
        kinds = [v.kind for v in self.ocp.declarations] + ["time", "time"]
        return [item for item, kind in zip(seq, kinds) if kind != "state"]

    def _column_function(self, var: Variable, raw: cs.Function) -> cs.Function | None:
        """The per-column function of a matrix state's rhs, or None if columns couple."""
        sx_in = [cs.SX.sym(s.name(), *s.shape) for s in self._raw_inputs]
        rhs = raw(*sx_in)
        index = self.ocp.declarations.index(var)
        own = sx_in[index]
        others = [own[:, 1:]] + [sx_in[i] for i, v in enumerate(self.ocp.declarations)
                                 if v.kind == "state" and i != index]
        first = rhs[:, 0]
        if any(cs.depends_on(first, o) for o in others if o.numel() > 0):
            return None
        column = cs.Function(f"rhs_{var.name}_column", [own[:, 0]] + self._non_state(sx_in), [first])
        # The structure of column 0 says nothing of the others (numeric data may
        # differ per column), so confirm the map reproduces the full rhs.
        rng = np.random.default_rng(0)
        values = [rng.uniform(0.1, 0.9, s.shape) for s in sx_in]
        full = np.asarray(raw(*values))
        mapped = np.asarray(column.map(var.shape[1])(values[index], *self._non_state(values)))
        if not np.allclose(full, mapped, rtol=1e-12, atol=1e-12, equal_nan=True):
            return None
        return column
