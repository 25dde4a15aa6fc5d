"""The deep-limit ladder with adaptive layer placement, beside the uniform one.

The adaptive ladder has the same numbers of layers N as the uniform ladder.
Its first level is the uniform one (there is no previous level to place
by); each next level places its N layers by
:func:`~occontrol.resnet.placement.variation_equidistributed_grid` on the
previous adaptive level's network and starts from that network's theta(t)
sampled on the new layers (:meth:`ResNet.resample`). Both ladders are
measured against one reference, the uniform ladder's Richardson limit
objective E_limit: per N, |E_N - E_limit| and the accuracies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..datasets import Dataset
from ..records import KeyedRecord, markdown_table
from ..refinement import ConvergenceStudy
from ..solver import solve
from .network import ResNet
from .placement import variation_equidistributed_grid
from .problem import DeepLimitProblem
from .train import guess_from_network, network_from_solution, training_labels

__all__ = ["PlacementLevel", "PlacementStudy", "adaptive_ladder", "PLACEMENTS"]

PLACEMENTS = ("uniform", "adaptive")


@dataclass
class PlacementLevel(KeyedRecord):
    """One level of a ladder, as study.json's ``placement`` sections have it.

    Attributes
    ----------
    N : int
    objective : float
        The NLP's objective E_N at the level's minimiser.
    error : float or None
        |E_N - E_limit| (None without a limit, or for a failed solve).
    status : str
    success : bool
    iterations : int
    train_accuracy, test_accuracy : float
    min_step, max_step : float
        Smallest and largest layer step h_k.
    nodes : list of float
        The layer boundaries on [0, T].
    """

    N: int
    objective: float
    error: float | None
    status: str
    success: bool
    iterations: int
    train_accuracy: float
    test_accuracy: float
    min_step: float
    max_step: float
    nodes: list[float] = field(default_factory=list)


@dataclass
class PlacementStudy(KeyedRecord):
    """Uniform and adaptive ladders side by side (study.json's ``placement``).

    Attributes
    ----------
    limit_objective : float or None
        The uniform ladder's Richardson limit, against which both placements are measured.
    limit_note : str
        How the limit was obtained, or why there is none.
    floor : float
        The floor of the variation indicator (:func:`variation_equidistributed_grid`).
    uniform, adaptive : list of PlacementLevel
        One record per N of each ladder.
    indicator : str
        What the adaptive layers equidistribute.
    networks : dict
        The adaptive levels' networks by N (in memory only).
    """

    limit_objective: float | None
    limit_note: str
    floor: float
    uniform: list[PlacementLevel]
    adaptive: list[PlacementLevel]
    indicator: str = ("equidistribution of int |theta'(t)| dt + floor * V / T over the layers, measured on the "
                      "previous adaptive level (occontrol.resnet.placement)")
    # the adaptive levels' networks (in memory only; the study writes them as weights_adaptive_N*.npz)
    networks: dict[int, ResNet] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        del out["networks"]
        out["uniform"] = [lv.as_dict() for lv in self.uniform]
        out["adaptive"] = [lv.as_dict() for lv in self.adaptive]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PlacementStudy":
        return cls(data["limit_objective"], data["limit_note"], data["floor"],
                   [PlacementLevel.from_dict(lv) for lv in data["uniform"]],
                   [PlacementLevel.from_dict(lv) for lv in data["adaptive"]], data.get("indicator", cls.indicator))

    def table(self) -> str:
        """Markdown: per N, both placements' |E_N - E_limit| and accuracies."""
        adaptive = {lv.N: lv for lv in self.adaptive}
        rows = []
        for u in self.uniform:
            a = adaptive.get(u.N)
            rows.append([u.N, *_cells(u), *(_cells(a) if a is not None else ["not run"] * 4),
                         "" if a is None else f"{a.min_step:.3g} / {a.max_step:.3g}"])
        head = ["N", "uniform E", "uniform abs(E - E_limit)", "uniform train acc", "uniform test acc", "adaptive E",
                "adaptive abs(E - E_limit)", "adaptive train acc", "adaptive test acc", "adaptive min / max h"]
        limit = "none" if self.limit_objective is None else f"{self.limit_objective:.10g}"
        return (f"Layer placement, uniform vs adaptive (E_limit = {limit}: {self.limit_note}):\n\n"
                + markdown_table(head, rows))


def _cells(lv: PlacementLevel) -> list[str]:
    if not lv.success:
        return [f"FAILED ({lv.status})", "", "", ""]
    error = "" if lv.error is None else f"{lv.error:.3g}"
    return [f"{lv.objective:.10g}", error, f"{lv.train_accuracy:.4g}", f"{lv.test_accuracy:.4g}"]


def _level(net: ResNet, objective: float, status: str, success: bool, iterations: int, limit: float | None,
           deep: DeepLimitProblem, data: Dataset) -> PlacementLevel:
    error = None if limit is None or not success else abs(objective - limit)
    return PlacementLevel(net.N, objective, error, status, success, iterations,
                          net.score(data.X_train, training_labels(deep)), net.score(data.X_test, data.y_test),
                          float(net.steps.min()), float(net.steps.max()), [float(t) for t in net.nodes])


def adaptive_ladder(grids: list[int], deep: DeepLimitProblem, data: Dataset, study: ConvergenceStudy,
                    networks: Mapping[int, ResNet], transcription: Any, solver: Any, hess_lag: Any,
                    floor: float = 1.0, scheme: str | None = None,
                    progress: Callable[[str], None] | None = None) -> PlacementStudy:
    """The adaptive ladder beside the uniform ``study`` (whose converged networks are ``networks``).

    The adaptive ladder stops at its first failed level (a failed solve is no
    network to place the next layers by); the uniform ladder's first level is
    the adaptive one's, so nothing runs when it failed.
    """
    say = progress or (lambda line: None)
    limit = study.limit_objective()
    uniform = [_level(networks[lv.N], lv.objective, lv.status, lv.success, lv.iterations, limit, deep, data)
               for lv in study.levels if lv.N in networks]
    adaptive: list[PlacementLevel] = []
    nets: dict[int, ResNet] = {}
    first = next((lv for lv in uniform if lv.N == grids[0]), None)
    if first is not None and first.success:
        adaptive.append(first)
        net = nets[grids[0]] = networks[grids[0]]
        for N in grids[1:]:
            grid = variation_equidistributed_grid(net, N, floor)
            start = net.resample(grid)
            sol = solve(deep.ocp, transcription, grid=grid, guess=guess_from_network(deep, start), solver=solver,
                        hess_lag=hess_lag)
            net = nets[N] = network_from_solution(deep, sol, scheme=scheme)
            adaptive.append(_level(net, sol.objective, sol.status, sol.success, sol.iterations, limit, deep, data))
            lv = adaptive[-1]
            say(f"adaptive N={N:<4d} {'ok' if sol.success else 'FAILED':<6s} {sol.status:<28s} objective "
                f"{sol.objective:.10g}  iter {sol.iterations:<4d} h {lv.min_step:.3g}..{lv.max_step:.3g}  "
                f"test_accuracy {lv.test_accuracy:.4g}")
            if not sol.success:
                break
    return PlacementStudy(limit, study.limit_note(), float(floor), uniform, adaptive, networks=nets)


def placement_nodes(placement: PlacementStudy) -> dict[int, np.ndarray]:
    """The adaptive levels' layer boundaries on [0, T], by N."""
    return {lv.N: np.asarray(lv.nodes) for lv in placement.adaptive}
