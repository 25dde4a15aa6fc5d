"""Fixtures shared by the ResNet application's tests."""

from __future__ import annotations

import pytest

import occontrol as oc


@pytest.fixture
def no_nlp(monkeypatch):
    """Fail the test if anything tries to transcribe an OCP (and so build an NLP or call a solver).

    Here it replaces the ``no_nlp`` of tests/conftest.py: the ResNet layer transcribes through the
    Runge-Kutta and collocation classes, so refusing their ``discretize`` covers every route to a solve.
    """
    def refuse(*args, **kwargs):
        raise AssertionError("an NLP was built before the bad input was refused")
    monkeypatch.setattr(oc.ExplicitRungeKutta, "discretize", refuse)
    monkeypatch.setattr(oc.Collocation, "discretize", refuse)
