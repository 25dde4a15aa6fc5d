"""The API reference covers every public name, and every public name has a numpy-style docstring.

Walks ``occontrol.__all__`` and ``occontrol.resnet.__all__``: each name needs a docstring, each callable
with parameters a ``Parameters`` section naming them, and each name a ``::: module.NAME`` line in a page
under docs/reference/, so that the site's API reference cannot fall behind the package.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import occontrol
import occontrol.resnet

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
MODULES = {"occontrol": occontrol, "occontrol.resnet": occontrol.resnet}
# plain data exported next to the API (a dict of datasets, of activations, ...): documented on their page
NOT_CALLABLE_DATA = (dict, tuple, frozenset, set, list, str)


def _public() -> list[tuple[str, str]]:
    return [(module, name) for module, mod in MODULES.items() for name in mod.__all__ if name != "__version__"]


def _documented_object(obj: object) -> bool:
    return not isinstance(obj, NOT_CALLABLE_DATA)


def _parameters_section(doc: str, heading: str = "Parameters") -> str | None:
    """The text of a numpy-style section (``Parameters`` by default), or None without one."""
    pattern = rf"^\s*{heading}\n\s*-{{3,}}\n(.*?)(?=^\s*\w[\w ]*\n\s*-{{3,}}\n|\Z)"
    match = re.search(pattern, doc, re.M | re.S)
    return match.group(1) if match else None


def _documented_parameters(obj: object, doc: str) -> str | None:
    """Where a callable names its parameters: ``Parameters``; for a class also ``Attributes``, the numpy
    convention for records (dataclasses), whose fields are the constructor's parameters."""
    sections = [_parameters_section(doc)]
    if inspect.isclass(obj):
        sections.append(_parameters_section(doc, "Attributes"))
    found = [section for section in sections if section is not None]
    return "\n".join(found) if found else None


def _named_parameters(obj: object) -> list[str]:
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.name != "self" and p.kind not in skip]


def _documents(section: str, name: str) -> bool:
    # "name : type", "name", or "a, name : type" at the start of an entry
    return re.search(rf"^\s*(?:\w+,\s*)*{re.escape(name)}(?:\s*,\s*\w+)*\s*(?::|$)", section, re.M) is not None


def _with_docstrings() -> list[tuple[str, str]]:
    """The public names that carry their own docstring (plain data is described on its reference page)."""
    return [(m, n) for m, n in _public() if _documented_object(getattr(MODULES[m], n))]


def _callables() -> list[tuple[str, str]]:
    return [(m, n) for m, n in _with_docstrings() if callable(getattr(MODULES[m], n))]


@pytest.mark.parametrize(("module", "name"), _with_docstrings())
def test_public_name_has_a_docstring(module: str, name: str) -> None:
    obj = getattr(MODULES[module], name)
    doc = inspect.getdoc(obj)
    assert doc and len(doc.split()) >= 3, f"{module}.{name} has no docstring"


@pytest.mark.parametrize(("module", "name"), _callables())
def test_parameters_are_documented(module: str, name: str) -> None:
    obj = getattr(MODULES[module], name)
    parameters = _named_parameters(obj)
    if not parameters:
        return
    doc = inspect.getdoc(obj) or ""
    section = _documented_parameters(obj, doc)
    assert section is not None, f"{module}.{name} takes {parameters} but its docstring has no Parameters section"
    missing = [p for p in parameters if not _documents(section, p)]
    assert not missing, f"{module}.{name}: Parameters section does not name {missing}"


def _reference_targets() -> set[str]:
    text = "\n".join(page.read_text() for page in REFERENCE.glob("*.md"))
    return set(re.findall(r"^:::\s*([\w.]+)", text, re.M))


@pytest.mark.parametrize(("module", "name"), _public())
def test_public_name_is_in_the_reference(module: str, name: str) -> None:
    assert f"{module}.{name}" in _reference_targets(), f"no '::: {module}.{name}' under docs/reference/"


def test_the_check_finds_a_missing_parameter() -> None:
    """The section parser is not vacuous: a documented and an undocumented parameter are told apart."""

    def f(alpha: int, beta: int) -> None:
        """Do it.

        Parameters
        ----------
        alpha : int
            The first.

        Returns
        -------
        None
        """

    section = _parameters_section(inspect.getdoc(f) or "")
    assert section is not None
    assert _documents(section, "alpha") and not _documents(section, "beta")


def _deep_limit_options() -> set[str]:
    """The long options ``occontrol deep-limit --help`` lists."""
    import contextlib
    import io

    from occontrol.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["deep-limit", "--help"])
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", out.getvalue())) - {"--help"}


def test_every_deep_limit_option_is_on_its_page() -> None:
    options = _deep_limit_options()
    assert {"--grids", "--tau2", "--verbose"} <= options  # the help was read
    page = (ROOT / "docs" / "deep-limit.md").read_text()
    missing = sorted(option for option in options if f"`{option}`" not in page)
    assert not missing, f"docs/deep-limit.md does not describe {missing}"


def test_every_results_schema_is_on_the_results_page() -> None:
    from occontrol.records import OUTCOMES, SCHEMAS

    page = (ROOT / "docs" / "guide" / "results.md").read_text()
    missing = sorted(name for name in [*SCHEMAS, *OUTCOMES] if f"| `{name}` |" not in page)
    assert not missing, f"docs/guide/results.md does not describe {missing}"


def _attribute_docstring(module_name: str, name: str) -> str | None:
    """The string literal right after ``name = ...`` at the top level of a module (an attribute docstring)."""
    import ast
    import importlib

    module = importlib.import_module(module_name)
    tree = ast.parse(Path(module.__file__).read_text())  # type: ignore[arg-type]
    for node, following in zip(tree.body, tree.body[1:]):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                return str(following.value.value)
    return None


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, n in _public()
                                              if not _documented_object(getattr(MODULES[m], n))])
def test_public_data_has_an_attribute_docstring(module: str, name: str) -> None:
    exports = MODULES[module]._EXPORTS  # type: ignore[attr-defined]
    doc = _attribute_docstring(f"{module}.{exports[name]}", name)
    assert doc and len(doc.split()) >= 3, f"{module}.{name} has no attribute docstring (a string after it)"
