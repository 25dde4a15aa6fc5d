"""Package hygiene (issue 11, section 2): no module shadowed by an exported name."""

from __future__ import annotations

import importlib
import importlib.machinery

import pytest

import occontrol as oc
import occontrol.resnet as resnet


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
