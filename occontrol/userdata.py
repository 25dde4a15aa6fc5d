"""Your own data for the deep-limit study: a CSV file or an ``.npz`` archive.

- CSV: a header row, then one sample per row; every column numeric except
  perhaps the target (text labels are class names). The target is the
  column named by ``target``, by default the last.
- ``.npz``: arrays ``X`` (n, d) and ``y`` (n,), and optionally a held-out
  set ``X_test``, ``y_test`` (both or neither).

The labels decide the loss that ``loss='auto'`` picks: text, or whole numbers
with at most :data:`MAX_CLASSES` distinct values, are class labels (logistic
for two classes, softmax for more); other numbers are real targets (squared
loss). Without a held-out set, a quarter of the samples (stratified by class,
seeded) is held out; the features are standardised with the training part's
mean and scale. The file's sha256 is part of the study's settings, so a
changed file is never taken for the same data.

Errors are ``ValueError`` naming ``data`` (``target`` for a target column that
is not there), before anything is solved.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DataFile", "read_data_file", "is_data_file", "file_dataset", "hessian_cost", "MAX_CLASSES",
           "MAX_HESSIAN_GB", "TEST_SIZE", "SUFFIXES"]

SUFFIXES = (".csv", ".npz")
# whole-number targets with at most this many distinct values are class labels
MAX_CLASSES = 20
# the held-out fraction when the file has no test set
TEST_SIZE = 0.25
# the largest dense Hessian of the training parameters a second-order solve is allowed to need
MAX_HESSIAN_GB = 4.0
# cells read as missing values in a CSV
MISSING = {"", "na", "nan", "n/a", "null", "none", "?"}


@dataclass(frozen=True)
class DataFile:
    """The arrays of a data file, as read (not split, not standardised).

    Attributes
    ----------
    path : str
    sha256 : str
        Of the file's bytes.
    target : str
        The target column (``'y'`` for an npz).
    X, y : ndarray
        Features (n, d) and targets (n,): numbers, or text labels.
    X_test, y_test : ndarray or None
        The file's own held-out set (npz only).
    """

    path: str
    sha256: str
    target: str
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    def labels(self) -> np.ndarray:
        """Every target, the held-out ones included."""
        return self.y if self.y_test is None else np.concatenate([self.y, self.y_test])

    def classes(self) -> np.ndarray | None:
        """The sorted class labels, or None when the targets are real numbers."""
        y = self.labels()
        if y.dtype.kind in "US":
            return np.unique(y)
        values = np.unique(y)
        if np.all(values == np.round(values)) and values.size <= MAX_CLASSES:
            return values
        return None


def is_data_file(name: object) -> bool:
    """True when a dataset name is a path to a data file (.csv or .npz) rather than a built-in set."""
    return isinstance(name, (str, os.PathLike)) and Path(name).suffix.lower() in SUFFIXES


def read_data_file(path: str | os.PathLike, target: str | None = None) -> DataFile:
    """Read a CSV or npz data file, checked (see the module's notes); read once while it is unchanged."""
    file = Path(path)
    if not is_data_file(file):
        raise ValueError(f"data: expected a .csv or .npz file, got {str(path)!r}")
    if not file.is_file():
        raise ValueError(f"data: {path} is not a file" if file.exists() else f"data: {path} does not exist")
    stat = file.stat()
    return _read(str(file), target, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _read(path: str, target: str | None, _mtime: int, _size: int) -> DataFile:
    raw = Path(path).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if path.lower().endswith(".npz"):
        if target is not None:
            raise ValueError(f"target: an npz file holds its targets in y; --target is for CSV files, got {target!r}")
        return _read_npz(path, digest)
    return _read_csv(path, raw, target, digest)


def _read_csv(path: str, raw: bytes, target: str | None, digest: str) -> DataFile:
    try:
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"data: {path} is not a readable CSV file: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise ValueError(f"data: {path} needs a header row and at least one sample")
    header = [h.strip() for h in rows[0]]
    if len(header) < 2:
        raise ValueError(f"data: {path} needs at least two columns (features and a target), got {header}")
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"data: {path} line {i} has {len(row)} cells, the header {len(header)}")
    name = header[-1] if target is None else target
    if name not in header:
        raise ValueError(f"target: no column {name!r} in {path}; its columns are {', '.join(header)}")
    columns = list(zip(*rows[1:]))
    y_cells = [c.strip() for c in columns[header.index(name)]]
    features = [h for h in header if h != name]
    X = np.column_stack([_numeric(path, h, columns[header.index(h)]) for h in features])
    _no_missing(path, name, y_cells)
    try:
        y = np.array([float(c) for c in y_cells])
    except ValueError:
        y = np.array(y_cells)  # text: class names
    return DataFile(path, digest, name, X, y)


def _no_missing(path: str, column: str, cells) -> None:
    missing = [i for i, c in enumerate(cells) if c.strip().lower() in MISSING]
    if missing:
        raise ValueError(f"data: {path} has {len(missing)} missing value(s) in column {column!r} "
                         f"(first on line {missing[0] + 2}); fill or drop them first")


def _numeric(path: str, column: str, cells) -> np.ndarray:
    """A feature column as numbers; refuses missing values and text."""
    _no_missing(path, column, cells)
    values = []
    for i, cell in enumerate(cells):
        try:
            values.append(float(cell))
        except ValueError:
            raise ValueError(f"data: {path} column {column!r} is not numeric (line {i + 2}: {cell.strip()!r}); "
                             "encode it as numbers or drop it") from None
    out = np.array(values)
    if not np.isfinite(out).all():
        raise ValueError(f"data: {path} column {column!r} holds inf or NaN")
    return out


def _read_npz(path: str, digest: str) -> DataFile:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"data: {path} is not a readable npz archive: {exc}") from None
    missing = [k for k in ("X", "y") if k not in arrays]
    if missing:
        raise ValueError(f"data: {path} lacks the array(s) {', '.join(missing)}; expected X, y "
                         f"(and optionally X_test, y_test), got {', '.join(sorted(arrays)) or 'none'}")
    if ("X_test" in arrays) != ("y_test" in arrays):
        raise ValueError(f"data: {path} has one of X_test, y_test; give both or neither")
    X, y = _npz_pair(path, arrays["X"], arrays["y"], "X", "y")
    X_test = y_test = None
    if "X_test" in arrays:
        X_test, y_test = _npz_pair(path, arrays["X_test"], arrays["y_test"], "X_test", "y_test")
        if X_test.shape[1] != X.shape[1]:
            raise ValueError(f"data: {path} X_test has {X_test.shape[1]} features, X {X.shape[1]}")
        if (y_test.dtype.kind in "US") != (y.dtype.kind in "US"):
            raise ValueError(f"data: {path} y and y_test must both be numbers or both text labels")
    return DataFile(path, digest, "y", X, y, X_test, y_test)


def _npz_pair(path: str, X: np.ndarray, y: np.ndarray, xname: str, yname: str) -> tuple[np.ndarray, np.ndarray]:
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"data: {path} {xname} must be a 2-D array (samples, features), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"data: {path} {xname} is not numeric (dtype {X.dtype}); encode it as numbers")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"data: {path} {yname} must be 1-D with one target per row of {xname} "
                         f"({X.shape[0]}), got shape {y.shape}")
    if y.dtype.kind not in "biufUS":
        raise ValueError(f"data: {path} {yname} holds neither numbers nor text labels (dtype {y.dtype})")
    X = X.astype(float)
    if np.isnan(X).any() or (y.dtype.kind == "f" and np.isnan(y).any()):
        raise ValueError(f"data: {path} has missing values (NaN) in {xname if np.isnan(X).any() else yname}; "
                         "fill or drop them first")
    if not np.isfinite(X).all() or (y.dtype.kind == "f" and not np.isfinite(y).all()):
        raise ValueError(f"data: {path} has infinite values in {xname} or {yname}")
    return X, (y.astype(float) if y.dtype.kind in "biuf" else y)


def shape_of(data: DataFile, loss: str) -> tuple[int, int]:
    """(features, classes) of the file for ``loss``; classes 0 for real targets.

    Raises ValueError for a single class, for a classification loss on real
    targets and for the squared loss on text labels.
    """
    classes = data.classes()
    if loss == "squared":
        if data.y.dtype.kind in "US":
            raise ValueError(f"loss: 'squared' needs numeric targets, and column {data.target!r} of {data.path} "
                             "holds text labels")
        return data.d, 0
    if classes is None:
        if loss != "auto":
            raise ValueError(f"loss: {loss!r} needs class labels, and column {data.target!r} of {data.path} holds "
                             "real numbers (use squared, or auto)")
        return data.d, 0
    if classes.size < 2:
        raise ValueError(f"data: the target column {data.target!r} of {data.path} has one class "
                         f"({_label(classes[0])!r}); classification needs at least two")
    if data.X_test is None:  # the split is stratified by class
        counts = [int(np.sum(data.y == c)) for c in classes]
        if min(counts) < 2:
            lonely = _label(classes[int(np.argmin(counts))])
            raise ValueError(f"data: class {lonely!r} of column {data.target!r} of {data.path} has a single "
                             "sample; a stratified split needs two per class (or give X_test, y_test in an npz)")
    return data.d, int(classes.size)


def hessian_cost(N: int, m: int, K: int) -> tuple[int, float]:
    """(training parameters, GB of their dense Hessian in float64) of the N-layer network of width m
    with K scores: N (m^2 + m) + K (m + 1) parameters."""
    variables = N * (m * m + m) + K * (m + 1)
    return variables, variables * variables * 8 / 1e9


def check_hessian(N: int, m: int, K: int, d: int, path: str) -> None:
    """Refuse a network whose dense Hessian at the finest grid exceeds :data:`MAX_HESSIAN_GB`."""
    variables, gb = hessian_cost(N, m, K)
    if gb > MAX_HESSIAN_GB:
        raise ValueError(f"data: {path} has {d} features, too many for a second-order method at width m = {m} "
                         f"and N = {N}: variables = N (m^2 + m) + K (m + 1) = {variables}, and their dense "
                         f"Hessian is a matrix of {gb:.3g} GB (limit {MAX_HESSIAN_GB:g} GB); use fewer features "
                         "or coarser --grids")


def file_dataset(path: str | os.PathLike, target: str | None = None, loss: str = "auto", seed: int = 0,
                 standardize: bool = True):
    """The :class:`~occontrol.datasets.Dataset` of a data file: split (unless the file has a test set),
    standardised on the training part, with its provenance in ``settings``."""
    from sklearn.model_selection import train_test_split  # here: the command line answers without it

    from .datasets import Dataset
    data = read_data_file(path, target)
    _, K = shape_of(data, loss)
    classes = data.classes() if K else None

    def encode(y: np.ndarray) -> np.ndarray:  # class labels as 0..K-1 in sorted order; real targets as they are
        return np.searchsorted(classes, y).astype(int) if classes is not None else np.asarray(y, float)

    if data.X_test is not None and data.y_test is not None:
        X_tr, X_te, y_tr, y_te = data.X, data.X_test, encode(data.y), encode(data.y_test)
        split = "the file's own test set (X_test, y_test)"
    else:
        y = encode(data.y)
        stratify = y if classes is not None else None
        if classes is not None and np.bincount(y).min() < 2:
            raise ValueError(f"data: a class of column {data.target!r} of {data.path} has a single sample; "
                             "a stratified split needs two per class (or give X_test, y_test in an npz)")
        try:
            X_tr, X_te, y_tr, y_te = train_test_split(data.X, y, test_size=TEST_SIZE, random_state=seed,
                                                      stratify=stratify)
        except ValueError as exc:
            raise ValueError(f"data: {data.path} cannot be split into training and test parts: {exc}") from None
        split = (f"{TEST_SIZE:g} of the samples held out{' stratified by class' if stratify is not None else ''}, "
                 f"seed {seed}")
    mean = scale = None
    if standardize:
        mean = X_tr.mean(axis=0)
        scale = X_tr.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)  # a constant column stays constant (zero), as StandardScaler does
        X_tr, X_te = (X_tr - mean) / scale, (X_te - mean) / scale
    labels = "classes" if classes is not None else "real"
    settings = {"name": str(path), "path": str(Path(path).resolve()), "sha256": data.sha256, "target": data.target,
                "features": data.d, "labels": labels, "seed": seed, "split": split, "standardize": bool(standardize),
                "n_train": int(X_tr.shape[0]), "n_test": int(X_te.shape[0])}
    if classes is not None:
        settings["classes"] = [_label(c) for c in classes]
    return Dataset(np.asarray(X_tr, float), y_tr, np.asarray(X_te, float), y_te, str(path), settings, mean, scale)


def _label(value) -> object:
    """A class label as plain Python (0 rather than np.float64(0.0))."""
    value = value.item() if hasattr(value, "item") else value
    return int(value) if isinstance(value, float) and value.is_integer() else value
