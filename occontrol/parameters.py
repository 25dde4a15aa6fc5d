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

__all__ = ["parameter_values"]


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
