"""Datasets for the deep-limit experiments: thin wrappers over scikit-learn's
generators and bundled sets, with a seeded split and standardisation fitted
on the training part only."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_choice, as_finite_float, as_positive_int

__all__ = ["Dataset", "load_dataset", "DATASETS", "SHAPES"]

SYNTHETIC = ("moons", "circles", "blobs")
BUNDLED = ("iris", "wine", "breast_cancer")
DATASETS = SYNTHETIC + BUNDLED
"""The names :func:`load_dataset` takes: synthetic (moons, circles, blobs) and scikit-learn's bundled sets."""
# (features, classes) of each set, known before loading it (scikit-learn is imported only to load):
# settings can then be checked against the data before anything runs
SHAPES = {"moons": (2, 2), "circles": (2, 2), "blobs": (2, 3), "iris": (4, 3), "wine": (13, 3),
          "breast_cancer": (30, 2)}


@dataclass
class Dataset:
    """Standardised train and test arrays.

    Attributes
    ----------
    X_train, X_test : ndarray, shape (n, d)
    y_train, y_test : ndarray, shape (n,)
        Integer class labels 0..K-1 (real numbers for a data file's real targets).
    name : str
    settings : dict
        Everything needed to regenerate the data.
    mean, scale : ndarray or None
        The standardisation (from the training split): features are (raw - mean) / scale.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str
    settings: dict = field(default_factory=dict)
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max() if self.y_test.size else 0)) + 1


def load_dataset(name: str = "moons", n: int = 200, noise: float = 0.2, seed: int = 0,
                 n_test: int | None = None, test_size: float = 0.25, standardize: bool = True,
                 target: str | None = None, loss: str = "auto") -> Dataset:
    """Load or generate a dataset and split it.

    Parameters
    ----------
    name : {'moons', 'circles', 'blobs', 'iris', 'wine', 'breast_cancer'} or a path
        A built-in set, or a .csv or .npz data file (:func:`occontrol.userdata.file_dataset`,
        which reads ``target`` and ``loss``; ``n``, ``noise``, ``n_test`` and ``test_size``
        are the built-in sets').
    n : int
        Training samples for the synthetic sets (ignored for the bundled ones).
    noise : float
        Noise of the synthetic generators (standard deviation for blobs).
    seed : int
        Seeds the generator and the split.
    n_test : int, optional
        Test samples for the synthetic sets; default ``n``.
    test_size : float
        Test fraction for the bundled sets.
    standardize : bool
        Scale features to zero mean and unit variance, fitted on the training split.
    target : str, optional
        A CSV file's target column (default: its last column); not for the built-in sets or an npz.
    loss : {'auto', 'logistic', 'softmax', 'squared'}
        The loss the labels of a data file are checked against; ``'auto'`` takes classes from text
        or whole-number labels and real targets otherwise.
    """
    from .userdata import file_dataset, is_data_file
    if is_data_file(name):
        return file_dataset(name, target=target, loss=loss, seed=as_positive_int(seed, "seed", minimum=0),
                            standardize=standardize)
    as_choice(name, "name", DATASETS)
    from sklearn import datasets as skd  # here, not at import: the command line answers without it
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    seed = as_positive_int(seed, "seed", minimum=0)
    noise = as_finite_float(noise, "noise", minimum=0.0)
    if name in SYNTHETIC:
        n = as_positive_int(n, "n", minimum=2)
        n_test = n if n_test is None else as_positive_int(n_test, "n_test", minimum=1)
        total = n + n_test
        if name == "moons":
            X, y = skd.make_moons(total, noise=noise, random_state=seed)
        elif name == "circles":
            X, y = skd.make_circles(total, noise=noise, factor=0.5, random_state=seed)
        else:
            X, y = skd.make_blobs(total, centers=3, cluster_std=max(noise, 1e-3) * 5, random_state=seed)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=n_test, random_state=seed, stratify=y)
        settings = {"name": name, "n": n, "n_test": n_test, "noise": noise, "seed": seed}
    else:
        test_size = as_finite_float(test_size, "test_size")
        if not 0 < test_size < 1:
            raise ValueError(f"test_size: expected a fraction in (0, 1), got {test_size}")
        X, y = getattr(skd, f"load_{name}")(return_X_y=True)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
        settings = {"name": name, "test_size": test_size, "seed": seed}
    settings["standardize"] = bool(standardize)
    mean = scale = None
    if standardize:
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
        mean, scale = scaler.mean_, scaler.scale_
    return Dataset(np.asarray(X_tr, float), np.asarray(y_tr, int), np.asarray(X_te, float),
                   np.asarray(y_te, int), name, settings, mean, scale)
