"""Your own problem from a script: ``SCRIPT.py:FUNCTION`` names a function that takes no arguments and
returns an :class:`~occontrol.OCP`, or ``(OCP, guess)``.

The script is imported as a module (its ``if __name__ == "__main__":`` block does not run), with its
folder first on ``sys.path`` while it is imported, so it can import its neighbours as it does when run.
Errors are ``ValueError``/``TypeError`` naming ``problem``: a missing file, a function that is not
there, a result that is not an OCP, or an exception raised while importing or calling.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["UserProblem", "load_problem", "parse_problem"]


@dataclass(frozen=True)
class UserProblem:
    """A problem read from a script.

    Attributes
    ----------
    spec : str
        ``SCRIPT.py:FUNCTION`` as given.
    path : Path
        The script, resolved.
    function : str
    sha256 : str
        Of the script's bytes (recorded with the results).
    ocp : OCP
    guess : object or None
        The guess the function returned with the OCP.
    """

    spec: str
    path: Path
    function: str
    sha256: str
    ocp: Any
    guess: Any = None


def parse_problem(spec: str) -> tuple[Path, str]:
    """``SCRIPT.py:FUNCTION`` as (the script's path, the function's name), checked for form only."""
    expected = "expected SCRIPT.py:FUNCTION (a Python file and the function in it that returns the OCP)"
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(f"problem: {expected}, got {spec!r}")
    script, function = spec.rsplit(":", 1)
    if not script.endswith(".py") or not function.isidentifier():
        raise ValueError(f"problem: {expected}, got {spec!r}")
    return Path(script), function


def load_problem(spec: str) -> UserProblem:
    """Import the script of ``spec``, call its function and check what it returns."""
    from .problem import OCP
    script, function = parse_problem(spec)
    if not script.is_file():
        raise ValueError(f"problem: {script} " + ("is not a file" if script.exists() else "does not exist"))
    module = _import(script)
    func = getattr(module, function, None)
    if not callable(func):
        found = sorted(name for name, v in vars(module).items() if callable(v) and not name.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        raise ValueError(f"problem: {script} has no function {function!r}"
                         + (f" (its functions: {', '.join(found)})" if found else ""))
    try:
        result = func()
    except (Exception, SystemExit) as exc:  # the user's code (a main() that parses sys.argv exits): one line
        raise ValueError(f"problem: {spec} raised {type(exc).__name__}: {exc}") from exc
    guess = None
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], OCP):
        result, guess = result
    if not isinstance(result, OCP):
        raise TypeError(f"problem: {spec} returned {type(result).__name__}, expected an occontrol.OCP "
                        "or (OCP, guess)")
    return UserProblem(spec, script.resolve(), function, hashlib.sha256(script.read_bytes()).hexdigest(),
                       result, guess)


def _import(script: Path) -> Any:
    """The script as a fresh module (a name of its own, so two scripts called alike do not clash)."""
    digest = hashlib.sha256(str(script.resolve()).encode()).hexdigest()[:12]
    name = f"occontrol_user_{script.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise ValueError(f"problem: {script} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(script.resolve().parent)
    sys.path.insert(0, folder)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise ValueError(f"problem: importing {script} raised {type(exc).__name__}: {exc}") from exc
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module
