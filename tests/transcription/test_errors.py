"""Bad transcriptions (collocation and Runge-Kutta options, Butcher tableaus, objects of the wrong type)
get a clear ValueError or TypeError naming the argument, before any NLP is built.

Each case checks the exception type and the argument named in the message (see tests/helpers.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import occontrol as oc
from helpers import IPOPT, NAN, lq


# ----------------------------------------------------------- transcriptions
@pytest.mark.parametrize("kwargs, error, match", [
    ({"scheme": "gauss"}, ValueError, r"scheme: expected one of 'radau', 'legendre', got 'gauss'"),
    ({"scheme": None}, ValueError, r"scheme: expected one of"),
    ({"scheme": np.array(["radau"])}, ValueError, r"scheme: expected one of"),
    ({"degree": 0}, ValueError, r"degree: expected an integer >= 1, got 0"),
    ({"degree": 6}, ValueError, r"degree: expected 1 to 5, got 6"),
    ({"degree": -2}, ValueError, r"degree: expected an integer >= 1"),
    ({"degree": 2.0}, TypeError, r"degree: expected an integer >= 1"),
    ({"degree": True}, TypeError, r"degree: expected an integer >= 1"),
    ({"controls": "quadratic"}, ValueError, r"controls: expected one of 'constant', 'linear'"),
    ({"expand": "yes"}, TypeError, r"expand: expected True or False"),
])
def test_bad_collocation(kwargs, error, match):
    with pytest.raises(error, match=match):
        oc.Collocation(**kwargs)


@pytest.mark.parametrize("cls", [oc.ExplicitEuler, oc.Heun, oc.RK4])
@pytest.mark.parametrize("kwargs, error, match", [
    ({"shooting": "double"}, ValueError, r"shooting: expected one of 'multiple', 'single', got 'double'"),
    ({"shooting": None}, ValueError, r"shooting: expected one of"),
    ({"controls": "cubic"}, ValueError, r"controls: expected one of 'constant', 'linear', got 'cubic'"),
    ({"controls": ["constant"]}, ValueError, r"controls: expected one of"),
    ({"expand": 1}, TypeError, r"expand: expected True or False"),
])
def test_bad_runge_kutta_options(cls, kwargs, error, match):
    with pytest.raises(error, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("tableau", ["rk4", None, oc.RK4()])
def test_explicit_runge_kutta_needs_a_tableau(tableau):
    with pytest.raises(TypeError, match=r"tableau: expected an oc.ButcherTableau"):
        oc.ExplicitRungeKutta(tableau)


@pytest.mark.parametrize("A, b, c, match", [
    (((0.5,),), (1.0,), (0.5,), r"tableau A: an explicit scheme needs a strictly lower-triangular A"),
    (((0.0, 0.0), (1.0, 0.5)), (0.5, 0.5), (0.0, 1.0), r"tableau A: .*strictly lower-triangular"),
    (((0.0, 0.5), (0.0, 0.0)), (0.5, 0.5), (0.0, 1.0), r"tableau A: .*strictly lower-triangular"),
    (((0.0, 0.0), (1.0, 0.0)), (0.5, 0.6), (0.0, 1.0), r"tableau b: weights must sum to 1"),
    (((0.0, 0.0), (1.0, 0.0)), (0.5, 0.4), (0.0, 1.0), r"tableau b: weights must sum to 1"),
    (((0.0, 0.0), (1.0, 0.0)), (0.5, 0.5), (0.0,), r"tableau: expected A of shape \(2, 2\) and c of length 2"),
    (((0.0, 0.0), (NAN, 0.0)), (0.5, 0.5), (0.0, 1.0), r"tableau: entries must be finite"),
    ((), (), (), r"tableau b: expected a non-empty vector of weights"),
])
def test_bad_butcher_tableau(A, b, c, match):
    with pytest.raises(ValueError, match=match):
        oc.ButcherTableau(A=A, b=b, c=c)


@pytest.mark.parametrize("transcription", ["rk4", oc.RK4, 1, oc.Ipopt()])
def test_transcription_of_the_wrong_type(transcription, no_graph):
    ocp, _, _ = lq()
    with pytest.raises(TypeError, match=r"transcription: expected a transcription such as oc.RK4\(\)"):
        oc.solve(ocp, transcription, grid=4, solver=IPOPT)
    with pytest.raises(TypeError, match=r"transcription: expected a transcription"):
        oc.discretize(ocp, transcription, grid=4)
