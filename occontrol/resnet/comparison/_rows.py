"""The rows of a comparison, typed: one per (setting, N, method).

A row's ``outcome`` is one word of :data:`OUTCOMES` (the words of the one
vocabulary, :data:`occontrol.records.OUTCOMES`, that a finished run can have);
what the solver or the trainer said is kept as ``detail``. In compare.json a row is the dictionary
of :meth:`to_dict`, whose ``status`` is the text the file has always had
(IPOPT's status, ``FAILED: <status>``, ``diverged``, ``steps budget``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Mapping

from ..._checks import as_choice
from ...records import OUTCOMES as ALL_OUTCOMES
from ...records import Record

__all__ = ["OUTCOMES", "IpoptRow", "GradientRow", "row_from_dict"]

# converged: IPOPT met its tolerance; failed: IPOPT stopped without it; diverged: a gradient run's E_N or weights
# went non-finite; budget: a gradient run used its steps or seconds (it has no convergence test)
OUTCOMES = tuple(o for o in ALL_OUTCOMES if o != "incomplete")


@dataclass
class _Row(Record):
    """What every row has.

    Attributes
    ----------
    setting : str
    N : int
    method : str
        'ipopt', 'adam', 'sgd' or 'lbfgs'.
    outcome : str
        One of :data:`OUTCOMES`.
    detail : str
        The solver's or the trainer's own words (IPOPT's status, 'steps budget', ...).
    objective, loss, reg_l2, reg_h1 : float or None
        E_N and its parts at the final weights (None: no finite value).
    target, gap, rel_gap : float or None
        IPOPT's E_N at the same N and setting, and the gaps to it (None: no target).
    seconds : float or None
    steps : int or None
    time_to_reach : dict or None
        Per relative tolerance: reached, seconds, steps.
    train_accuracy, test_accuracy, grad_norm, l2_to_ipopt : float or None
    """

    setting: str
    N: int
    method: str
    outcome: str
    detail: str
    objective: float | None = None
    loss: float | None = None
    reg_l2: float | None = None
    reg_h1: float | None = None
    target: float | None = None
    gap: float | None = None
    rel_gap: float | None = None
    seconds: float | None = None
    steps: int | None = None
    time_to_reach: dict | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    grad_norm: float | None = None
    l2_to_ipopt: float | None = None

    _SUCCESS: ClassVar[tuple[str, ...]] = ("converged", "budget")

    def __post_init__(self) -> None:
        as_choice(self.outcome, "outcome", OUTCOMES)

    @property
    def success(self) -> bool:
        """True when the run has a result: IPOPT converged, or a gradient run used its budget."""
        return self.outcome in self._SUCCESS

    @property
    def status(self) -> str:
        """The status text of compare.json and compare.md."""
        if self.outcome == "failed":
            return f"FAILED: {self.detail}"
        return "diverged" if self.outcome == "diverged" else self.detail

    def to_dict(self) -> dict[str, Any]:
        """The row as compare.json has it (``status`` and ``success`` included)."""
        out = self.as_dict()
        return {"setting": self.setting, "N": self.N, "method": self.method, "status": self.status,
                "success": self.success, **out}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> "_Row":
        """A row from compare.json (files written before ``outcome`` existed too)."""
        values: dict[str, Any] = {f.name: doc.get(f.name) for f in fields(cls)}
        if values["outcome"] is None:
            values["outcome"], values["detail"] = _legacy(doc)
        return cls(**values)

    def __getitem__(self, key: str) -> Any:
        """A row reads like its compare.json dictionary too (``row["gap"]``)."""
        return self.to_dict()[key]


def _legacy(doc: Mapping[str, Any]) -> tuple[str, str]:
    """(outcome, detail) of a row written before ``outcome`` existed, from its status text."""
    status = str(doc.get("status"))
    if doc.get("method") == "ipopt":
        return ("converged", status) if doc.get("success") else ("failed", status.removeprefix("FAILED: "))
    return ("diverged", status) if status == "diverged" else ("budget", status)


@dataclass
class IpoptRow(_Row):
    """A level of IPOPT's ladder.

    Attributes
    ----------
    build_seconds, solve_seconds : float
        This level's NLP build and solve.
    ladder_seconds : float
        Every build and solve of the ladder up to this level, coarse multi-start included.
    iterations : int
    reused : bool
        Read from disk, solved by an earlier run.
    """

    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    ladder_seconds: float = 0.0
    iterations: int = 0
    reused: bool = False


@dataclass
class GradientRow(_Row):
    """A torch.optim training run.

    Attributes
    ----------
    init : str
        'consistent' or 'iid'.
    lr : float
    batch_size : int or None
    initial_objective : float or None
    torch_objective : float or None
        E_N as torch evaluated it at the final weights.
    constant_from_step : int or None
        The step from which the recorded E_N never changed again.
    """

    init: str = "consistent"
    lr: float = 0.0
    batch_size: int | None = None
    initial_objective: float | None = None
    torch_objective: float | None = None
    constant_from_step: int | None = None


def row_from_dict(doc: dict[str, Any]) -> IpoptRow | GradientRow:
    """The typed row of a compare.json row."""
    cls = IpoptRow if doc.get("method") == "ipopt" else GradientRow
    return cls.from_dict(doc)  # type: ignore[return-value]
