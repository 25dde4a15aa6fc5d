"""What every transcription shares: decision-variable bookkeeping, controls on
the grid, regularisation, path and terminal conditions, and the
:class:`DiscreteProblem` it returns (a CasADi NLP plus what is needed to read
a solution back)."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import casadi as cs
import numpy as np

from .._checks import as_choice
from ..grid import Grid
from ..problem import OCP
from .layout import Block, BlockKind, DenseOutput, NodeValues, Sampling, VariableIndex
from .model import ModelFunctions, mapped

__all__ = ["Transcription", "DiscreteProblem", "NlpBuilder", "BuildContext"]

CONTROL_KINDS = ("constant", "linear")
PARALLELIZATIONS = ("serial", "thread")


class NlpBuilder:
    """Collects decision variables (with bounds) and constraints (with bounds).

    Blocks are declared as separate symbols while the NLP is written; at the
    end :meth:`decision_vector` lays them out interval by interval (static
    blocks first, then interval k's controls and states, then k + 1, ...),
    which the sparse factorisation in IPOPT measured about 1.5x faster on
    than block-by-block order.
    """

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.constraints: list[tuple[str, cs.MX, np.ndarray, np.ndarray]] = []

    def variable(self, name: str, kind: BlockKind, sampling: Sampling, rows: int, cols: int,
                 lower: np.ndarray, upper: np.ndarray, per_interval: int = 0,
                 packed_rows: np.ndarray | None = None) -> cs.MX:
        """A decision-variable block of shape (rows, cols); bounds broadcast to that shape.

        ``name`` only names the CasADi symbol. ``per_interval`` columns of the
        block belong to each grid interval, in order (0 for a block that does
        not live on the grid); ``packed_rows`` are the rows of its kind's packed
        variables that it holds (None: all of them).
        """
        sym = cs.MX.sym(name, rows, cols)
        lo = np.broadcast_to(lower, (rows, cols)).astype(float)
        up = np.broadcast_to(upper, (rows, cols)).astype(float)
        self.blocks.append(Block(kind, sampling, sym, lo, up, per_interval, packed_rows))
        return sym

    def constrain(self, name: str, expr: cs.MX, lower, upper) -> None:
        """lower <= vec(expr) <= upper."""
        expr = cs.vec(expr)
        n = expr.numel()
        if n == 0:
            return
        lo = np.broadcast_to(np.ravel(np.asarray(lower, dtype=float), order="F"), (n,))
        up = np.broadcast_to(np.ravel(np.asarray(upper, dtype=float), order="F"), (n,))
        self.constraints.append((name, expr, lo.copy(), up.copy()))

    def decision_vector(self) -> tuple[cs.MX, list[cs.MX]]:
        """Lay the blocks out; return w and, per block, the expression in w that replaces it."""
        order: list[tuple[int, int, int]] = []  # (interval, block rank, column)
        for rank, b in enumerate(self.blocks):
            cols = b.symbol.shape[1]
            for c in range(cols):
                order.append((-1 if b.per_interval == 0 else c // b.per_interval, rank, c))
        order.sort()
        position, offset = {}, 0
        for _, rank, c in order:
            position[(rank, c)] = offset
            offset += self.blocks[rank].symbol.shape[0]
        w = cs.MX.sym("w", offset)
        replacements = []
        for rank, b in enumerate(self.blocks):
            rows, cols = b.symbol.shape
            b.index = np.concatenate([position[(rank, c)] + np.arange(rows) for c in range(cols)]
                                     or [np.zeros(0, dtype=int)]).astype(int)
            replacements.append(cs.reshape(w[b.index.tolist()], rows, cols))
        return w, replacements

    def bounds(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        lo, up = np.empty(size), np.empty(size)
        for b in self.blocks:
            lo[b.positions] = b.lower.ravel(order="F")
            up[b.positions] = b.upper.ravel(order="F")
        return lo, up

    def constraint_slices(self) -> dict[str, slice]:
        out, offset = {}, 0
        for name, expr, _, _ in self.constraints:
            out[name] = slice(offset, offset + expr.numel())
            offset += expr.numel()
        return out


@dataclass
class DiscreteProblem:
    """An NLP from (OCP, grid, transcription) and how to read its solution.

    Attributes
    ----------
    nlp : dict
        CasADi NLP {'x', 'p', 'f', 'g'} in MX.
    lbx, ubx, lbg, ubg : ndarray
        Bounds on the decision vector and the constraints.
    parameters : ndarray
        Value of the NLP parameter vector: the fixed initial states, then the
        OCP's parameters (see :meth:`with_parameters`; NaN until they are given).
    parameter_values : dict or None
        The values of the OCP's parameters by name that ``parameters`` holds
        (None while an OCP with parameters has none given yet).
    initial_function : casadi.Function
        (OCP parameters packed) -> the packed initial states (fixed values, 0 where free).
    layout : tuple of Block
        The decision-variable blocks in declaration order, each with its
        kind, sampling rule and positions in the decision vector.
    index : VariableIndex
        Where each kind of variable sits in the decision vector.
    dense_output : DenseOutput
        The scheme's states between the nodes (an RK step, the collocation polynomial).
    fixed_initial : ndarray of bool, shape (nz,)
        Which initial states are fixed (NLP parameters) rather than free decision variables.
    readout : casadi.Function
        (w, p) -> (states at nodes [nz x N+1], controls, static variables then
        parameters, tf, running cost, terminal cost, regularisation).
    ocp, grid, transcription
        What was discretised.
    model : ModelFunctions
        The OCP's dynamics and costs as CasADi functions.
    constraint_slices : dict
        Constraint group name -> its rows in g.

    ``oc.discretize`` makes one (``oc.solve`` too, internally).
    """

    ocp: OCP
    grid: Grid
    transcription: "Transcription"
    model: ModelFunctions
    nlp: dict
    lbx: np.ndarray
    ubx: np.ndarray
    lbg: np.ndarray
    ubg: np.ndarray
    parameters: np.ndarray
    layout: tuple[Block, ...]
    constraint_slices: dict[str, slice]
    readout: cs.Function
    fixed_initial: np.ndarray
    dense_output: DenseOutput
    initial_function: cs.Function
    parameter_values: dict[str, np.ndarray] | None = None
    index: VariableIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = VariableIndex.of(self.layout)

    def parameter_vector(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """The NLP parameter vector for the OCP's parameter ``values`` (by name, checked shapes).

        Raises ValueError for values that put the fixed data out of bounds or
        constraints at t0 (:meth:`occontrol.OCP.check_values`).
        """
        model = self.model
        q = model.pack(values, "parameter")
        z0 = np.asarray(self.initial_function(q), dtype=float).ravel()
        initial = {b.var.name: np.reshape(z0[b.offset:b.stop], b.var.shape, order="F") for b in model.state_blocks}
        self.ocp.check_values(values, initial)
        return np.concatenate([z0[self.fixed_initial], q])

    def with_parameters(self, values: dict[str, np.ndarray]) -> "DiscreteProblem":
        """This problem (sharing its NLP and functions) with the OCP's parameters set to ``values``
        (by name, as :func:`occontrol.parameters.parameter_values` returns them)."""
        out = copy.copy(self)  # shares the NLP, the layout and the cached functions
        out.parameters = self.parameter_vector(values)
        out.parameter_values = {k: np.array(v, dtype=float) for k, v in values.items()}
        return out

    @property
    def N(self) -> int:
        return self.grid.N

    @cached_property
    def _objective_function(self) -> cs.Function:
        return cs.Function("objective", [self.nlp["x"], self.nlp["p"]], [self.nlp["f"]])

    def objective(self, w: np.ndarray) -> float:
        """The NLP objective at the decision vector ``w`` (with this problem's fixed initial states)."""
        return float(self._objective_function(w, self.parameters))

    def initial_point(self, guess: Any = None) -> np.ndarray:
        """The decision vector that :func:`occontrol.solve` starts from for ``guess``.

        Parameters
        ----------
        guess : dict or Solution, optional
            As for :func:`occontrol.solve` (see :mod:`occontrol.guess`).
        """
        from ..guess import initial_guess  # guess.py reads this module
        return initial_guess(self, guess)

    def evaluate(self, w: np.ndarray) -> tuple[NodeValues, dict[str, float]]:
        """The packed discrete trajectories of the decision vector ``w`` and the parts of its
        objective (``running``, ``terminal``, ``regularization``, ``reg_l2``, ``reg_h1``), from one
        evaluation of :attr:`readout`."""
        w = np.asarray(w, dtype=float).ravel()
        out = {k: np.asarray(v, dtype=float) for k, v in self.readout(w=w, p=self.parameters).items()}
        tf = float(out["tf"].item())
        nodes = NodeValues(states=out["z"], controls=out["u"], statics=out["params"].ravel(), tf=tf,
                           t=self.grid.times(self.ocp.t0, tf), w=w)
        parts = {k: float(out[k].item()) for k in ("running", "terminal", "regularization", "reg_l2", "reg_h1")}
        return nodes, parts

    def node_values(self, w: np.ndarray) -> NodeValues:
        """The packed discrete trajectories of the decision vector ``w``."""
        return self.evaluate(w)[0]

    def block_value(self, w: np.ndarray, kind: BlockKind, sampling: Sampling | None = None) -> np.ndarray:
        """The block of ``w`` holding ``kind`` (sampled by ``sampling``), shaped as declared."""
        matches = [b for b in self.layout if b.kind is kind and (sampling is None or b.sampling is sampling)]
        if len(matches) != 1:
            raise ValueError(f"kind: expected one block of kind {kind.value}"
                             f"{'' if sampling is None else ' sampled at ' + sampling.value}, "
                             f"found {len(matches)}")
        b = matches[0]
        return np.reshape(np.asarray(w)[b.positions], b.shape, order="F")

    def assemble(self, fill: Callable[[Block], np.ndarray]) -> np.ndarray:
        """A decision vector from per-block values given by ``fill`` (broadcast to each block's shape)."""
        w = np.zeros(self.lbx.size)
        for b in self.layout:
            w[b.positions] = np.ravel(np.broadcast_to(fill(b), b.shape), order="F")
        return w


class Transcription(ABC):
    """Turns (OCP, grid) into a :class:`DiscreteProblem`.

    Parameters
    ----------
    controls : {'constant', 'linear'}
        Piecewise-constant controls, one value per interval, or continuous
        piecewise-linear through the nodes.
    parallelization : {'serial', 'thread'}
        How CasADi evaluates the mapped functions (over the grid and over
        ensemble columns); 'thread' uses one thread per core.
    expand : bool
        Expand the per-interval function to SX before mapping it over the grid
        (measured faster to build and to evaluate; see benchmarks/).
    """

    family = "abstract"

    def __init__(self, controls: str = "constant", parallelization: str = "serial", expand: bool = True) -> None:
        self.controls = as_choice(controls, "controls", CONTROL_KINDS)
        self.parallelization = as_choice(parallelization, "parallelization", PARALLELIZATIONS)
        if not isinstance(expand, bool):
            raise TypeError(f"expand: expected True or False, got {expand!r}")
        self.expand = expand

    def map(self, fn: cs.Function, n: int) -> cs.Function:
        """``fn`` mapped n times with this transcription's parallelization."""
        return mapped(fn, n, self.parallelization)

    # ------------------------------------------------------------ interface
    @abstractmethod
    def _dynamics(self, ctx: "BuildContext") -> tuple[cs.MX, cs.MX, DenseOutput]:
        """Add the dynamics; return (states at nodes [nz x N+1], running cost, dense output)."""

    def sample_times(self, sampling: Sampling, t: np.ndarray) -> np.ndarray:
        """The times at which a block sampled by ``sampling`` sits, for node times ``t``.

        Parameters
        ----------
        sampling : Sampling
            The block's sampling rule.
        t : ndarray, shape (N + 1,)
            The node times.
        """
        if sampling is Sampling.NODES:
            return t
        if sampling is Sampling.LATER_NODES:
            return t[1:]
        if sampling is Sampling.INTERVALS:
            return (t[:-1] + t[1:]) / 2
        if sampling is Sampling.ONCE:
            return t[:1]
        raise ValueError(f"sampling: {type(self).__name__} has no {sampling.value}")

    def describe(self) -> dict:
        """JSON-safe settings of this transcription."""
        return {"family": self.family, "controls": self.controls, "parallelization": self.parallelization}

    # -------------------------------------------------------------- assembly
    def discretize(self, ocp: OCP, grid: Grid, model: ModelFunctions | None = None) -> DiscreteProblem:
        """Build the NLP of ``ocp`` on ``grid``."""
        model = model or ModelFunctions(ocp, self.parallelization)
        ctx = BuildContext(ocp, grid, model, self.controls)
        states, running, dense_output = self._dynamics(ctx)
        b = ctx.builder

        terminal_cost = model.terminal_cost(states[:, -1], ctx.P, ctx.tf)
        reg_l2, reg_h1 = ctx.regularization()
        regularization = reg_l2 + reg_h1
        if model.path_lower.size:
            u_nodes = ctx.control_nodes()
            path = model.path.map(grid.N + 1)(states, u_nodes, ctx.P, ctx.T, ctx.tf)
            rows = model.path_rows_t0
            b.constrain("path_t0", path[rows.tolist(), 0], model.path_lower[rows], model.path_upper[rows])
            b.constrain("path", path[:, 1:], np.tile(model.path_lower, grid.N),
                        np.tile(model.path_upper, grid.N))
            if ctx.path_points is not None:  # where the state bounds also hold (collocation points)
                X, U, T = ctx.path_points
                m = X.shape[1]
                inner = model.path.map(m)(X, U, ctx.P, T, ctx.tf)
                b.constrain("path_inner", inner, np.tile(model.path_lower, m), np.tile(model.path_upper, m))
        if model.terminal_lower.size:
            b.constrain("terminal", model.terminal(states[:, -1], ctx.P, ctx.tf),
                        model.terminal_lower, model.terminal_upper)
        if ocp.boundary_constraints or ocp.boundary_costs:  # from at_t0 / at_tf: node 0 and node N
            u_nodes = ctx.control_nodes()
            ends = (states[:, 0], u_nodes[:, 0], states[:, -1], u_nodes[:, -1], ctx.P, ctx.tf)
            terminal_cost = terminal_cost + model.boundary_cost(*ends)
            rows = model.boundary_rows
            b.constrain("boundary", model.boundary(*ends)[rows.tolist()], model.boundary_lower[rows],
                        model.boundary_upper[rows])

        objective = running + terminal_cost + regularization
        g = cs.vertcat(*[c[1] for c in b.constraints]) if b.constraints else cs.MX(0, 1)
        lbg = np.concatenate([c[2] for c in b.constraints] or [np.zeros(0)])
        ubg = np.concatenate([c[3] for c in b.constraints] or [np.zeros(0)])
        outputs = [objective, g, states, ctx.U, ctx.P, ctx.tf, running, terminal_cost, regularization,
                   reg_l2, reg_h1]
        w, replacements = b.decision_vector()
        outputs = cs.substitute(outputs, [blk.symbol for blk in b.blocks], replacements)
        objective, g = outputs[:2]
        lbx, ubx = b.bounds(w.numel())
        initial = model.initial_function()
        values: dict[str, np.ndarray] | None = None if model.n_parameters else {}
        q = np.full(model.n_parameters, np.nan)  # set by with_parameters
        p_values = np.concatenate([np.asarray(initial(q), dtype=float).ravel()[ctx.fixed_initial], q])
        readout = cs.Function("readout", [w, ctx.p_nlp], outputs[2:],
                              ["w", "p"], ["z", "u", "params", "tf", "running", "terminal", "regularization",
                                                     "reg_l2", "reg_h1"])
        return DiscreteProblem(
            ocp=ocp, grid=grid, transcription=self, model=model,
            nlp={"x": w, "p": ctx.p_nlp, "f": objective, "g": g},
            lbx=lbx, ubx=ubx, lbg=lbg, ubg=ubg, parameters=p_values,
            layout=tuple(b.blocks), constraint_slices=b.constraint_slices(), readout=readout,
            fixed_initial=ctx.fixed_initial, dense_output=dense_output, initial_function=initial,
            parameter_values=values)


class BuildContext:
    """Shared pieces of one discretisation: controls, parameters, time, initial state.

    Built by :meth:`Transcription.discretize` and handed to a transcription's
    ``_dynamics``, which adds its state variables and continuity constraints.

    Parameters
    ----------
    ocp : OCP
        The continuous problem.
    grid : Grid
        The time grid (normalised nodes on [0, 1]).
    model : ModelFunctions
        The OCP's CasADi functions, packed.
    controls : str
        "constant" (one value per interval) or "linear" (values at the nodes).
    """

    def __init__(self, ocp: OCP, grid: Grid, model: ModelFunctions, controls: str) -> None:
        self.ocp, self.grid, self.model, self.control_kind = ocp, grid, model, controls
        self.builder = b = NlpBuilder()
        # (states, controls, times) at the points between nodes where state bounds hold,
        # so that path constraints hold there too; set by transcriptions that have such points.
        self.path_points: tuple[cs.MX, cs.MX, cs.MX] | None = None
        N = grid.N

        ncols = N if controls == "constant" else N + 1
        lo = model.pack({v.name: v.lower for v in ocp.controls}, "control")
        up = model.pack({v.name: v.upper for v in ocp.controls}, "control")
        sampling = Sampling.INTERVALS if controls == "constant" else Sampling.NODES
        self.U = b.variable("U", BlockKind.CONTROL, sampling, model.nu, ncols, lo[:, None], up[:, None],
                            per_interval=1)

        lo = model.pack({v.name: v.lower for v in ocp.static_variables}, "variable")
        up = model.pack({v.name: v.upper for v in ocp.static_variables}, "variable")
        P_static = b.variable("P", BlockKind.STATIC, Sampling.ONCE, model.n_static, 1, lo[:, None], up[:, None])

        if ocp.free_time is not None:
            ft = ocp.free_time
            self.tf = b.variable("tf", BlockKind.FINAL_TIME, Sampling.ONCE, 1, 1, np.array([[ft.lower]]),
                                 np.array([[ft.upper]]))
            duration = self.tf - ocp.t0
            self.T = ocp.t0 + duration * cs.DM(grid.tau).T
            self.H = duration * cs.DM(grid.dtau).T
        else:
            self.tf = cs.MX(ocp.fixed_tf)
            self.T = cs.MX(cs.DM(grid.times(ocp.t0, ocp.fixed_tf)).T)
            self.H = cs.MX(cs.DM(grid.steps(ocp.t0, ocp.fixed_tf)).T)

        # The NLP parameter vector: the fixed initial states, then the OCP's parameters (the model's
        # functions see the latter after the static variables in their p).
        fixed = np.concatenate([np.full(v.size, v.initial is not None) for v in ocp.states])
        self.fixed_initial = fixed
        n_fixed = int(fixed.sum())
        self.p_nlp = cs.MX.sym("p", n_fixed + model.n_parameters)
        self.P = cs.vertcat(P_static, self.p_nlp[n_fixed:]) if model.n_parameters else P_static
        self.state_lower = model.pack({v.name: v.lower for v in ocp.states}, "state")
        self.state_upper = model.pack({v.name: v.upper for v in ocp.states}, "state")
        z0_free = b.variable("Z0", BlockKind.INITIAL_STATE, Sampling.ONCE, int((~fixed).sum()), 1,
                             self.state_lower[~fixed, None], self.state_upper[~fixed, None],
                             packed_rows=np.flatnonzero(~fixed))
        pieces, i_fixed, i_free = [], 0, 0
        for is_fixed in fixed:  # interleave in state order
            if is_fixed:
                pieces.append(self.p_nlp[i_fixed])
                i_fixed += 1
            else:
                pieces.append(z0_free[i_free])
                i_free += 1
        self.z0 = cs.vertcat(*pieces) if pieces else cs.MX(0, 1)

    # Controls as seen by one interval (left and right values) and at the nodes.
    def control_intervals(self) -> tuple[cs.MX, cs.MX]:
        if self.control_kind == "constant":
            return self.U, self.U
        return self.U[:, :-1], self.U[:, 1:]

    def control_nodes(self) -> cs.MX:
        if self.control_kind == "constant":
            return cs.horzcat(self.U, self.U[:, -1])
        return self.U

    def regularization(self) -> tuple[cs.MX, cs.MX]:
        """(l2 int |u|^2, h1 int |u'|^2) summed over the controls, discretised for the control kind
        (the forms are stated in :meth:`occontrol.OCP.regularize`)."""
        l2_total, h1_total = cs.MX(0.0), cs.MX(0.0)
        H = self.H
        for block in self.model.control_blocks:
            l2, h1 = self.ocp.regularization.get(hash(block.var.symbol), (0.0, 0.0))
            if l2 == 0.0 and h1 == 0.0:
                continue
            Uc = self.U[block.offset:block.stop, :]
            if self.control_kind == "constant":
                sq = cs.sum1(Uc ** 2)
                l2_total += l2 * cs.sum2(H * sq)
                if Uc.shape[1] > 1:
                    diff = cs.sum1((Uc[:, 1:] - Uc[:, :-1]) ** 2)
                    # distance between interval midpoints; h on a uniform grid
                    spacing = (H[:, 1:] + H[:, :-1]) / 2
                    h1_total += h1 * cs.sum2(diff / spacing)
            else:
                a, c = Uc[:, :-1], Uc[:, 1:]
                l2_total += l2 * cs.sum2(H / 3 * cs.sum1(a ** 2 + a * c + c ** 2))
                h1_total += h1 * cs.sum2(cs.sum1((c - a) ** 2) / H)
        return l2_total, h1_total

    def node_states(self, name: str, sampling: Sampling, cols: int, per_interval: int) -> cs.MX:
        """A block of states within their bounds, ``cols`` columns, ``per_interval`` per interval."""
        return self.builder.variable(name, BlockKind.STATE, sampling, self.model.nz, cols,
                                     self.state_lower[:, None], self.state_upper[:, None],
                                     per_interval=per_interval)

    def state_bounds_on(self, states: cs.MX, name: str) -> None:
        """State bounds as constraints on eliminated states (single shooting)."""
        rows = np.flatnonzero(np.isfinite(self.state_lower) | np.isfinite(self.state_upper))
        if rows.size == 0 or states.shape[1] == 0:
            return
        n = states.shape[1]
        self.builder.constrain(name, states[rows.tolist(), :],
                               np.repeat(self.state_lower[rows, None], n, axis=1),
                               np.repeat(self.state_upper[rows, None], n, axis=1))
