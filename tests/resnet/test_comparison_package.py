"""The gradient comparison as one subpackage behind occontrol.resnet: the README's
names come from the packages' __init__, and no module is shadowed by a function of the same name."""

from __future__ import annotations

import importlib
import types
from pathlib import Path

import occontrol as oc
import occontrol.resnet as resnet


def test_the_taught_names_come_from_the_packages():
    comparison = importlib.import_module("occontrol.resnet.comparison")
    assert resnet.compare is comparison.compare and resnet.CompareConfig is comparison.CompareConfig
    assert resnet.sweep_deep_limit is importlib.import_module("occontrol.resnet.sweep").sweep_deep_limit
    estimator = importlib.import_module("occontrol.resnet.estimator")
    assert resnet.ODEResNetClassifier is estimator.ODEResNetClassifier
    assert resnet.ODEResNetRegressor is estimator.ODEResNetRegressor
    datasets = importlib.import_module("occontrol.datasets")
    assert (oc.load_dataset, oc.Dataset, oc.DATASETS) == (datasets.load_dataset, datasets.Dataset, datasets.DATASETS)
    for name in ("compare", "CompareConfig", "sweep_deep_limit", "ODEResNetClassifier", "ODEResNetRegressor"):
        assert name in resnet.__all__ and name in dir(resnet)
    for name in ("load_dataset", "Dataset", "DATASETS"):
        assert name in oc.__all__


def test_no_module_is_shadowed_by_a_function():
    import occontrol.resnet.comparison as comparison  # the import statement yields the package
    assert isinstance(comparison, types.ModuleType) and callable(resnet.compare)
    for package in (oc, resnet):
        for name in package.__all__:
            value = getattr(package, name)
            if not isinstance(value, types.ModuleType):
                # no submodule carries the name of an exported function or class
                folder = Path(package.__path__[0])
                clash = (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()
                assert not clash, name
