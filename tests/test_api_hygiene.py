"""Package hygiene (issue 11, section 2): no module shadowed by an exported name, no private
helper imported across modules, one checker for choices, no docstring pointing at a file users lack."""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
from pathlib import Path

import numpy as np
import pytest

import occontrol as oc
import occontrol.resnet as resnet

PACKAGE = Path(oc.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _exported(package):
    return [(package.__name__, name) for name in package.__all__ if not name.startswith("__")]


@pytest.mark.parametrize(("package", "name"), _exported(oc) + _exported(resnet))
def test_no_exported_name_is_also_a_module(package, name):
    # `import occontrol.<name> as m` could hand back the function instead of the module: there is no such module.
    # Searched in the package's own folder: an editable install of another checkout may answer the plain import.
    folders = importlib.import_module(package).__path__
    assert importlib.machinery.PathFinder.find_spec(f"{package}.{name}", folders) is None


def test_importing_every_submodule_leaves_the_exports_in_place():
    exports = {name: getattr(oc, name) for name in oc.__all__}
    for module in ("refinement", "sweeps", "solver", "grid", "problem", "solution", "transcription", "datasets"):
        importlib.import_module(f"occontrol.{module}")
    assert {name: getattr(oc, name) for name in oc.__all__} == exports
    assert callable(oc.refine) and oc.refine.__module__ == "occontrol.refinement"
    assert callable(oc.sweep) and oc.sweep.__module__.startswith("occontrol.sweeps")


def _private_imports(path: Path, root: Path = PACKAGE) -> list[str]:
    """`from X import _name` in ``path`` where _name is not a submodule of X (a package's own private module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        source = base.joinpath(*(node.module or "").split(".")) if node.level else None
        for alias in node.names:
            name = alias.name
            if not name.startswith("_") or name.startswith("__"):
                continue
            submodule = source is not None and ((source / f"{name}.py").exists() or (source / name).is_dir())
            if not submodule:
                found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}: {name}")
    return found


def test_no_private_helper_is_imported_from_another_module():
    assert any(p.name == "_checks.py" for p in SOURCES)
    found = [hit for path in SOURCES for hit in _private_imports(path)]
    assert found == []


def test_the_private_import_scan_tells_a_helper_from_a_private_module(tmp_path):
    # the scan above is not vacuous: a helper imported by its private name is reported, a private module is not
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "_own.py").write_text("", encoding="utf-8")
    (package / "sub" / "user.py").write_text("from ..train import _hidden, public\nfrom .. import _own\n",
                                             encoding="utf-8")
    assert _private_imports(package / "sub" / "user.py", tmp_path) == ["pkg/sub/user.py:1: _hidden"]


def test_choices_are_checked_by_the_one_checker_only():
    hand_written = [str(p.relative_to(PACKAGE)) for p in SOURCES
                    if "expected one of" in p.read_text(encoding="utf-8") and p.name != "_checks.py"]
    assert hand_written == []


def test_the_choice_messages_name_the_argument_the_choices_and_the_alternative():
    from occontrol.resnet.network import ResNet
    from occontrol.resnet.strategy import as_strategy

    with pytest.raises(ValueError, match=r"^strategy: expected one of 'gauss-newton', 'exact', 'gauss-newton-secant' "
                                         r"or a HessianStrategy, got 'newton'$"):
        as_strategy("newton")
    with pytest.raises(ValueError, match=r"^linear_solver: expected one of 'mumps', 'spral', got 'ma27': "
                                         r"the HSL library that provides it is not bundled with CasADi, "
                                         r"and IPOPT could not load it "
                                         r"\(libhsl\.so: .*\); give its path as the IPOPT option hsllib .*$"):
        oc.Ipopt(linear_solver="ma27")
    with pytest.raises(ValueError, match=r"^kind: expected one of 'constant', 'linear', got 'cubic'$"):
        oc.grid.prolong(np.linspace(0, 1, 3), np.zeros(2), np.linspace(0, 1, 5), kind="cubic")
    weights = (np.zeros((1, 2, 2)), np.zeros((1, 2)), np.zeros((1, 2)), np.zeros(1), 1.0)
    # an unhashable value is refused by name, not by a TypeError from a dict lookup
    with pytest.raises(ValueError, match=r"^activation: expected one of 'tanh', .*got \['tanh'\]$"):
        ResNet(*weights, activation=["tanh"])
    with pytest.raises(ValueError, match=r"^scheme: expected one of 'euler', .*got 'gauss'$"):
        ResNet(*weights, activation="tanh", scheme="gauss")


def test_no_file_of_the_package_points_at_the_design_notes():
    # DESIGN.md is not shipped: docstrings and comments quote the formulas instead
    assert [str(p.relative_to(PACKAGE)) for p in SOURCES if "DESIGN" in p.read_text(encoding="utf-8")] == []


def test_fixed_tf_is_the_number_of_a_fixed_horizon_and_refused_when_free():
    assert oc.OCP(t0=0.5, tf=2.0).fixed_tf == 2.0
    free = oc.OCP(tf=oc.FreeTime(guess=1.0, lower=0.5, upper=3.0))
    with pytest.raises(ValueError, match=r"^tf: the final time is free"):
        _ = free.fixed_tf
    assert free.tf is free.tf_symbol
