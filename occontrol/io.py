"""Results on disk, written atomically: a temp file in the same folder, then
a rename, so an interrupted run never leaves a half-written file.

A results folder is used by one run at a time: :func:`folder_lock` holds an
OS lock on ``<folder>/.lock`` (released by the kernel when the process ends,
however it ends) and, once it holds it, removes the temp files a killed run
left behind. Temp files are named ``.occontrol-tmp.<name>.<random>`` so that
they are recognisable.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: folders are not locked
    fcntl = None  # type: ignore[assignment]

__all__ = ["atomic_write", "write_json", "read_json", "write_npz", "json_safe", "folder_lock", "FolderInUse",
           "DamagedFile", "clean_temps", "check_npz", "TEMP_PREFIX", "LOCK_NAME"]

TEMP_PREFIX = ".occontrol-tmp."  # every temp file of atomic_write starts with this
LOCK_NAME = ".lock"              # the lock file of a results folder


class FolderInUse(RuntimeError):
    """Another process holds the results folder's lock."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        self.folder, self.pid = folder, pid
        who = f" (pid {pid})" if pid is not None else ""
        super().__init__(f"{folder} is in use by another run{who}; wait for it or choose another --out")


class DamagedFile(ValueError):
    """A results file that cannot be read (empty, truncated, not what it should be)."""

    def __init__(self, path: str | os.PathLike, why: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path} is damaged ({why}); delete it (or its folder) to recompute")


def json_safe(x: Any, other: Callable[[Any], Any] | None = None) -> Any:
    """Plain Python containers with non-finite floats as None (strict JSON): the one JSON sanitiser.

    Mappings become dicts with string keys, tuples and arrays lists, numpy
    (and other ``tolist()``) values plain numbers. A value of any other type
    is kept as it is, or passed through ``other`` when given (``repr`` makes
    anything writable).
    """
    if isinstance(x, Mapping):
        return {str(k): json_safe(v, other) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v, other) for v in x]
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if hasattr(x, "tolist") and callable(x.tolist):  # numpy arrays, torch tensors
        return json_safe(x.tolist(), other)
    return x if other is None else other(x)


def atomic_write(path: str | os.PathLike, write: Callable[[str], object], suffix: str = "") -> Path:
    """Call ``write(tmp_path)`` (its return value is ignored), then move the temp file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Strict JSON: NaN and inf are stored as null (numpy values as plain numbers)."""
    text = json.dumps(json_safe(data), indent=2, allow_nan=False)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return atomic_write(path, write)


def read_json(path: str | os.PathLike) -> Any:
    """The JSON document at ``path``; an unreadable one raises :class:`DamagedFile` naming it."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DamagedFile(path, f"not valid JSON: {exc}") from exc


def check_npz(path: str | os.PathLike, keys: tuple[str, ...] = ()) -> None:
    """Open the .npz at ``path`` and read every array; :class:`DamagedFile` if that fails
    or one of ``keys`` is missing."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            for name in data.files:
                data[name]
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        raise DamagedFile(path, f"{type(exc).__name__}: {exc}") from exc
    if missing:
        raise DamagedFile(path, f"missing {', '.join(missing)}")


def clean_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove the temp files of :func:`atomic_write` under ``folder``; return them.

    Call it only while holding the folder's lock. Subfolders with a lock file
    of their own belong to their own runs and are left alone.
    """
    folder = Path(folder)
    removed = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = [d for d in dirs if not (here / d / LOCK_NAME).exists()]
        for name in files:
            if name.startswith(TEMP_PREFIX):
                with contextlib.suppress(FileNotFoundError):
                    (here / name).unlink()
                    removed.append(here / name)
    return removed


def _holder(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold ``<folder>/.lock`` (created, with the folder) for the block; clean stale temp files first.

    The lock is an ``fcntl.flock`` on an open file: the kernel releases it
    when the process exits or is killed, so a dead run never blocks the next
    one. A second process gets :class:`FolderInUse` at once (no waiting). The
    lock file stays, holding the last holder's pid.

    Raises
    ------
    ValueError
        ``folder`` is empty.
    FolderInUse
        Another process holds the lock.
    OSError
        The folder cannot be created or written.
    """
    if not str(folder).strip():
        raise ValueError(f"out: expected a folder path, got {str(folder)!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FolderInUse(folder, _holder(path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        clean_temps(folder)
        yield folder
    finally:
        os.close(fd)  # releases the lock


def write_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """np.savez, atomically (the temp name ends in .npz so numpy keeps it)."""
    return atomic_write(path, lambda tmp: np.savez(tmp, **arrays), suffix=".npz")
