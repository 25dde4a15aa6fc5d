"""Typed descriptors of a discrete problem's decision vector.

Each decision block says what it holds (:class:`BlockKind`) and where in time
it is sampled (:class:`Sampling`), so code outside ``transcription/`` reads
the layout by kind and never by a block's name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

import casadi as cs
import numpy as np

__all__ = ["BlockKind", "Sampling", "Block", "VariableIndex", "NodeValues", "DenseOutput"]


class BlockKind(enum.Enum):
    """What a decision block holds."""

    STATE = "state"
    CONTROL = "control"
    STATIC = "static"  # decision variables constant in time (``ocp.variable``)
    FINAL_TIME = "final_time"
    INITIAL_STATE = "initial_state"  # the free rows of the initial state


class Sampling(enum.Enum):
    """Where in time the columns of a block sit."""

    NODES = "nodes"  # t_0 .. t_N
    LATER_NODES = "later_nodes"  # t_1 .. t_N (the start is the initial state)
    INTERVALS = "intervals"  # interval midpoints
    COLLOCATION_POINTS = "collocation_points"  # d points per interval
    ONCE = "once"  # one column, at t_0


# Packed variable kind (ModelFunctions.pack) of each block kind that holds OCP variables.
VARIABLE_KIND = {BlockKind.STATE: "state", BlockKind.CONTROL: "control", BlockKind.STATIC: "variable",
                 BlockKind.INITIAL_STATE: "state"}


@dataclass
class Block:
    """One decision-variable block.

    Attributes
    ----------
    kind : BlockKind
        What it holds.
    sampling : Sampling
        Where its columns sit in time.
    symbol : casadi.MX
        The symbol the transcription wrote the NLP in, shape (rows, cols).
    lower, upper : ndarray
        Bounds, of the symbol's shape.
    per_interval : int
        Columns per grid interval; 0 for a block that does not live on the grid.
    rows : ndarray of int or None
        Rows of the packed variables of its kind that it holds (None: all).
    index : ndarray of int or None
        Positions of vec(block) in the decision vector, once laid out.
    """

    kind: BlockKind
    sampling: Sampling
    symbol: cs.MX
    lower: np.ndarray
    upper: np.ndarray
    per_interval: int = 0
    rows: np.ndarray | None = None
    index: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the block."""
        return self.symbol.shape

    @property
    def positions(self) -> np.ndarray:
        """``index``, which exists once the decision vector is laid out."""
        if self.index is None:
            raise RuntimeError("block: the decision vector is not laid out yet")
        return self.index


def _positions(blocks: tuple[Block, ...], kind: BlockKind, sampling: Sampling | None = None) -> np.ndarray:
    parts = [b.positions for b in blocks if b.kind is kind and (sampling is None or b.sampling is sampling)]
    return np.concatenate(parts).astype(int) if parts else np.zeros(0, dtype=int)


@dataclass(frozen=True)
class VariableIndex:
    """Where each kind of variable sits in the decision vector w (column-major per block).

    Attributes
    ----------
    controls, statics, tf, initial_states : ndarray of int
        Positions of the control values, static variables, the free final
        time and the free initial states (empty when there are none).
    states : ndarray of int
        Positions of the node states t_1..t_N (multiple shooting and collocation).
    collocation_states : ndarray of int
        Positions of the states at the collocation points.
    """

    controls: np.ndarray
    statics: np.ndarray
    states: np.ndarray
    collocation_states: np.ndarray
    tf: np.ndarray
    initial_states: np.ndarray

    @classmethod
    def of(cls, blocks: tuple[Block, ...]) -> "VariableIndex":
        """The index of laid-out ``blocks``."""
        return cls(controls=_positions(blocks, BlockKind.CONTROL),
                   statics=_positions(blocks, BlockKind.STATIC),
                   states=_positions(blocks, BlockKind.STATE, Sampling.LATER_NODES),
                   collocation_states=_positions(blocks, BlockKind.STATE, Sampling.COLLOCATION_POINTS),
                   tf=_positions(blocks, BlockKind.FINAL_TIME),
                   initial_states=_positions(blocks, BlockKind.INITIAL_STATE))


@dataclass(frozen=True)
class NodeValues:
    """The discrete trajectories of one decision vector, packed.

    Attributes
    ----------
    states : ndarray, shape (nz, N + 1)
        States at the nodes.
    controls : ndarray, shape (nu, N) or (nu, N + 1)
        Per interval (piecewise constant) or per node (piecewise linear).
    statics : ndarray, shape (np,)
        The static decision variables, then the parameters' values.
    tf : float
        The final time.
    t : ndarray, shape (N + 1,)
        The node times.
    w : ndarray
        The decision vector they were read from.
    """

    states: np.ndarray
    controls: np.ndarray
    statics: np.ndarray
    tf: float
    t: np.ndarray
    w: np.ndarray = field(repr=False)


class DenseOutput(Protocol):
    """States between the nodes, consistent with the scheme."""

    def states(self, values: NodeValues, k: np.ndarray, s: np.ndarray) -> np.ndarray:
        """States at t_k + s (0 <= s <= h_k); shape (nz, len(k))."""
        ...
