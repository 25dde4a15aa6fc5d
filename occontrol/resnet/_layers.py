"""The layer map shared by the numpy, CasADi and torch versions of the ResNet:
one step of an explicit Runge-Kutta scheme for dZ/dt = sigma(A Z + b)."""

from __future__ import annotations

from typing import Any, Callable

from ..transcription.runge_kutta import TABLEAUS, ButcherTableau, weighted_sum

__all__ = ["SCHEMES", "rk_layer"]

# Layer maps: explicit Euler is the ResNet; Heun and RK4 are the same flow under other schemes.
SCHEMES = TABLEAUS


def rk_layer(Z: Any, field: Callable[..., Any], h: Any, scheme: str | ButcherTableau) -> Any:
    """One layer: a step of size ``h`` of ``scheme`` for dZ/dt = field(Z), with the transcription's
    operations in the same order (numpy arrays, torch tensors or CasADi SX; ``h`` a number or an SX symbol)."""
    tab = SCHEMES[scheme] if isinstance(scheme, str) else scheme
    k: list[Any] = []
    for i in range(tab.stages):
        incr = weighted_sum(tab.A[i][:i], k)
        k.append(field(Z if incr is None else Z + h * incr))
    return Z + h * weighted_sum(tab.b, k)
