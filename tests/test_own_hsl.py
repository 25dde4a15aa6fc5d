"""The HSL linear solvers: accepted when IPOPT can load the HSL library, refused naming the library
when it cannot, and the probe that decides never crashes the process (it runs in a subprocess)."""

from __future__ import annotations

import ctypes.util

import pytest

import occontrol as oc
from occontrol import solver as solver_module

# this machine has no HSL build: IPOPT's default library is not on the loader path
NO_HSL = ctypes.util.find_library("hsl") is None


@pytest.fixture
def fresh_probe():
    solver_module._hsl_refusal.cache_clear()
    yield
    solver_module._hsl_refusal.cache_clear()


@pytest.mark.skipif(not NO_HSL, reason="an HSL library is installed here")
@pytest.mark.parametrize("name", ["ma27", "ma57", "ma77", "ma86", "ma97", "MA57"])
def test_hsl_refused_naming_the_library(name):
    # ma97 ends its probe process with a segmentation fault here: a refusal, not a crash of ours
    with pytest.raises(ValueError, match=rf"^linear_solver: .*got '{name}': .*IPOPT could not load it "
                                         r"\(libhsl\.so: cannot open shared object file.*hsllib"):
        oc.Ipopt(linear_solver=name)


@pytest.mark.skipif(not NO_HSL, reason="an HSL library is installed here")
def test_explicit_hsllib_is_the_library_probed(tmp_path):
    missing = tmp_path / "libcoinhsl.so"
    with pytest.raises(ValueError, match=rf"^options\['linear_solver'\]: .*\({missing}: cannot open"):
        oc.Ipopt(options={"linear_solver": "ma57", "hsllib": str(missing)})
    with pytest.raises(ValueError, match=rf"^linear_solver: .*\({missing}: cannot open"):
        oc.Ipopt(linear_solver="ma27", options={"hsllib": str(missing)})
    with pytest.raises(TypeError, match=r"^options\['hsllib'\]: expected the path of the HSL library"):
        oc.Ipopt(linear_solver="ma27", options={"hsllib": 3})


def test_a_crashing_probe_is_a_refusal(fresh_probe, monkeypatch):
    # the probe process dies of SIGSEGV before it reports: the caller gets a ValueError, and lives
    monkeypatch.setattr(solver_module, "_HSL_PROBE", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(ValueError, match=r"^linear_solver: .*got 'ma86': .*could not load it "
                                         r"\(libhsl\.so: the probe ended with exit code -11\)"):
        oc.Ipopt(linear_solver="ma86")


def test_the_probe_is_cached_per_solver(fresh_probe, monkeypatch):
    calls = []
    real = solver_module.subprocess.run

    def counting(*args, **kwargs):
        calls.append(args[0][3:])
        return real(*args, **kwargs)
    monkeypatch.setattr(solver_module.subprocess, "run", counting)
    for _ in range(3):
        with pytest.raises(ValueError):
            oc.Ipopt(linear_solver="ma27")
    with pytest.raises(ValueError):
        oc.Ipopt(linear_solver="ma57")
    assert calls == [["ma27", ""], ["ma57", ""]]


def test_an_hsl_solver_the_probe_accepts_reaches_ipopt(fresh_probe, monkeypatch):
    # a probe that reports a converged solve stands in for an installed HSL library
    monkeypatch.setattr(solver_module, "_HSL_PROBE", "print('OCCONTROL-HSL-PROBE Solve_Succeeded')")
    solver = oc.Ipopt(linear_solver="ma57", options={"hsllib": "/opt/hsl/lib/libcoinhsl.so"})
    opts = solver.ipopt_options()
    assert opts["linear_solver"] == "ma57" and opts["hsllib"] == "/opt/hsl/lib/libcoinhsl.so"
