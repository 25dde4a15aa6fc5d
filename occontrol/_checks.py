"""Argument checks shared by the public constructors.

Every check raises ``ValueError`` or ``TypeError`` whose message names the
argument and says what was expected, so that bad input is refused before any
NLP is built.
"""

from __future__ import annotations

import numbers
from typing import Any, Collection

import numpy as np


def as_finite_array(value: Any, name: str, shape: tuple[int, ...] | None = None,
                    allow_inf: bool = False) -> np.ndarray:
    """Return ``value`` as a float array, checking shape and finiteness.

    A scalar is broadcast to ``shape``; anything else must have exactly
    ``shape`` elements (a flat list for a matrix is read column-major, as
    CasADi stores it). ``allow_inf`` admits +-inf (used for bounds), never NaN.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name}: expected a number or an array of numbers, got {value!r}")
    if holds_bool(value):  # numpy would read True as 1.0
        raise TypeError(f"{name}: expected numbers, got a boolean in {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected a number or an array of numbers, got {value!r}") from exc
    except OverflowError as exc:  # a Python int beyond float range
        raise ValueError(f"{name}: a number is too large for a float") from exc
    if np.isnan(arr).any():  # numpy reads a None inside a list as NaN
        raise ValueError(f"{name}: contains NaN (or None)")
    if not allow_inf and np.isinf(arr).any():
        raise ValueError(f"{name}: contains inf; expected finite numbers")
    if shape is None:
        return arr
    if arr.ndim == 0:
        return np.full(shape, float(arr))
    if arr.shape == shape:
        return arr
    size = int(np.prod(shape))
    if arr.size == size and (arr.ndim == 1 or sorted(arr.shape) == sorted(shape) and 1 in shape):
        return arr.reshape(shape, order="F")
    raise ValueError(f"{name}: expected shape {shape} (or a scalar), got shape {arr.shape}")


def holds_bool(value: Any) -> bool:
    """Whether ``value`` is a boolean or a (nested) list, tuple or array holding one.

    Parameters
    ----------
    value : Any
        What a caller passed where numbers are expected (numpy would read True as 1.0).

    Returns
    -------
    bool
        True for a bool or numpy bool, a bool array, or a list, tuple or object array holding one.
    """
    if isinstance(value, (bool, np.bool_)):
        return True
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            return True
        return value.dtype == object and any(holds_bool(v) for v in value.ravel())
    if isinstance(value, (list, tuple)):
        return any(holds_bool(v) for v in value)
    return False


def as_bound(value: Any, name: str, shape: tuple[int, ...], default: float) -> np.ndarray:
    """A bound array: ``None`` means unbounded (``default`` = +-inf)."""
    if value is None:
        return np.full(shape, default)
    arr = as_finite_array(value, name, shape, allow_inf=True)
    # -inf is "no bound" for a lower bound, +inf for an upper; the opposite sign admits nothing.
    if np.any(arr == -default):
        raise ValueError(f"{name}: {-default} admits no value; expected a finite number or {default}")
    return arr


def check_bounds_order(lower: np.ndarray, upper: np.ndarray, name: str) -> None:
    """Refuse lower > upper anywhere."""
    bad = lower > upper
    if bad.any():
        idx = np.argwhere(bad)[0]
        raise ValueError(
            f"{name}: lower bound {lower[tuple(idx)]} exceeds upper bound "
            f"{upper[tuple(idx)]} at index {tuple(int(i) for i in idx)}")


def as_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def as_finite_float(value: Any, name: str, minimum: float | None = None) -> float:
    """A finite real number, optionally >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {value!r}")
    try:
        value = float(value)
    except OverflowError as exc:  # a Python int beyond float range
        raise ValueError(f"{name}: expected a finite number, got {value}") from exc
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected a number >= {minimum}, got {value}")
    return value


def as_choice(value: Any, name: str, choices: Collection[str], *, alternative: str = "", note: str = "") -> str:
    """One of a fixed set of strings (the one "expected one of" check).

    Parameters
    ----------
    value : Any
        What the caller passed.
    name : str
        The argument's name, which starts the message.
    choices : collection of str
        The accepted strings, named in this order in the message (a dict gives its keys).
    alternative : str, optional
        Something else the caller accepts and checks itself, named after the choices
        ("... or a HessianStrategy").
    note : str, optional
        Why ``value`` is refused, appended to the message.

    Returns
    -------
    str
        ``value``.

    Raises
    ------
    ValueError
        ``value`` is not one of ``choices`` (also when it is not a string).
    """
    # `in` alone would let an array through (np.array(['a']) == 'a' is truthy), and fail on unhashable values.
    if not isinstance(value, str) or value not in choices:
        expected = ", ".join(map(repr, choices)) + (f" or {alternative}" if alternative else "")
        raise ValueError(f"{name}: expected one of {expected}, got {value!r}" + (f": {note}" if note else ""))
    return value
