"""Your own data: ``occontrol deep-limit --data PATH [--target NAME]`` on a CSV and an npz written here,
the loss chosen from the labels, the split and standardisation recorded in study.json with the file's
sha256, a changed file refused on resume, and one-line errors for what real files contain."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from occontrol.resnet.deep_limit import DeepLimitConfig
from occontrol.userdata import MAX_HESSIAN_GB, file_dataset, hessian_cost

SMALL = ["deep-limit", "--grids", "4,8", "--starts", "1", "--tau-w", "1e-3", "--no-figures"]


def _binary_csv(path, n=60, seed=1):
    """Three features, text labels 'no'/'yes' from a noisy linear rule (a fifth flipped: not separable)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0) ^ (rng.random(n) < 0.2)
    lines = ["first,second,label,third"]  # the target is not the last column: --target names it
    lines += [f"{a:.6f},{b:.6f},{'yes' if t else 'no'},{c:.6f}" for (a, b, c), t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return X, np.where(y, "yes", "no")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_csv_study_records_the_data_and_refuses_a_changed_file(run_cli, strict_json, tmp_path):
    data, out = tmp_path / "mine.csv", tmp_path / "out"
    _binary_csv(data)
    code, stdout, stderr = run_cli(SMALL + ["--data", str(data), "--target", "label", "--out", str(out)])
    assert code == 0, stderr
    assert f"sha256 {_sha(data)}" in stdout
    assert "target 'label': 2 classes (no, yes) -> loss logistic" in stdout
    assert "45 training, 15 test samples" in stdout  # a quarter of 60 held out
    problem = strict_json((out / "study.json").read_text())["problem"]
    assert problem["dataset"] == str(data) and problem["target"] == "label"
    assert problem["data_sha256"] == _sha(data)
    assert problem["loss"] == "logistic" and problem["data_labels"] == "classes"
    assert problem["data_classes"] == ["no", "yes"]
    assert problem["data_standardize"] is True and "stratified by class, seed 0" in problem["data_split"]
    assert (problem["d"], problem["K"], problem["n_train"], problem["data_n_test"]) == (3, 1, 45, 15)
    assert json.loads((out / "settings.json").read_text())["data_sha256"] == _sha(data)

    # the same file resumes (every level reused); a changed one is refused by its hash, in one line
    code, stdout, stderr = run_cli(SMALL + ["--data", str(data), "--target", "label", "--out", str(out)])
    assert code == 0, stderr
    assert "(reused)" in stdout
    lines = data.read_text().splitlines()
    lines[1] = lines[1].replace(",yes,", ",no,") if ",yes," in lines[1] else lines[1].replace(",no,", ",yes,")
    data.write_text("\n".join(lines) + "\n")
    code, stdout, stderr = run_cli(SMALL + ["--data", str(data), "--target", "label", "--out", str(out)])
    assert code == 2
    assert stderr.count("\n") == 1 and "error: --out:" in stderr and "differs in data_sha256" in stderr


def test_npz_real_targets_get_the_squared_loss_and_their_own_test_set(run_cli, strict_json, tmp_path):
    rng = np.random.default_rng(2)
    X, X_test = rng.normal(size=(40, 2)), rng.normal(size=(12, 2))
    data, out = tmp_path / "reg.npz", tmp_path / "out"
    np.savez(data, X=X, y=np.sin(X[:, 0]) + 0.3 * X[:, 1], X_test=X_test, y_test=np.sin(X_test[:, 0]))
    code, stdout, stderr = run_cli(SMALL + ["--data", str(data), "--out", str(out)])
    assert code == 0, stderr
    assert "target 'y': real targets -> loss squared" in stdout
    problem = strict_json((out / "study.json").read_text())["problem"]
    assert problem["loss"] == "squared" and problem["data_labels"] == "real"
    assert problem["data_sha256"] == _sha(data)
    assert problem["data_split"] == "the file's own test set (X_test, y_test)"
    assert (problem["n_train"], problem["data_n_test"]) == (40, 12)


def test_standardisation_uses_the_training_part_only(tmp_path):
    rng = np.random.default_rng(3)
    X, X_test = rng.normal(3.0, 2.0, size=(30, 2)), rng.normal(size=(10, 2))
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=np.arange(30) % 3, X_test=X_test, y_test=np.arange(10) % 3)
    data = file_dataset(path)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    np.testing.assert_allclose(data.X_train, (X - mean) / scale, atol=1e-12)
    np.testing.assert_allclose(data.X_test, (X_test - mean) / scale, atol=1e-12)
    assert list(data.y_train) == list(np.arange(30) % 3)
    assert DeepLimitConfig(dataset=str(path)).loss == "softmax"  # three classes


def test_hessian_cost_formula():
    # N (m^2 + m) + K (m + 1) parameters: N = 2 layers of A (2 x 2) and b (2), W (1 x 2) and c
    assert hessian_cost(2, 2, 1) == (2 * 6 + 3, 15 ** 2 * 8 / 1e9)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


BAD = [  # (file name, contents, extra options, the option the error names, words of the message)
    ("miss.csv", "a,b,y\n1,,0\n2,3,1\n3,4,0\n", [], "--data", "1 missing value(s) in column 'b' (first on line 2)"),
    ("miss2.csv", "a,b,y\n1,2,0\n2,NA,1\n3,4,0\n", [], "--data", "missing value(s) in column 'b' (first on line 3)"),
    ("text.csv", "a,b,y\n1,x,0\n2,3,1\n", [], "--data", "column 'b' is not numeric (line 2: 'x')"),
    ("one.csv", "a,b,y\n1,2,0\n2,3,0\n", [], "--data", "has one class (0)"),
    ("single.csv", "a,y\n1,a\n2,a\n3,b\n4,b\n5,c\n", [], "--data", "class 'c' of column 'y' of"),
    ("t.csv", "a,b,y\n1,2,0\n2,3,1\n", ["--target", "nope"], "--target", "no column 'nope'"),
    ("r.csv", "a,y\n1,0.5\n2,1.7\n3,2.25\n", ["--loss", "softmax"], "--loss", "'softmax' needs class labels"),
    ("none.csv", None, [], "--data", "does not exist"),
    ("data.txt", "a,b\n", [], "--data", "expected one of"),
]


@pytest.mark.parametrize("name, text, extra, option, words", BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_one_line_usage_errors(run_cli, no_nlp, tmp_path, name, text, extra, option, words):
    path = _write(tmp_path, name, text) if text is not None else tmp_path / name
    code, stdout, stderr = run_cli(SMALL + ["--data", str(path), *extra, "--out", str(tmp_path / "out")])
    assert code == 2
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"occontrol deep-limit: error: {option}: "), stderr
    assert words in stderr


def test_bad_npz_arrays(run_cli, no_nlp, tmp_path):
    cases = [({"X": np.array([[1.0, np.nan], [2.0, 3.0]]), "y": np.array([0, 1])}, "missing values (NaN) in X"),
             ({"X": np.ones((3, 2))}, "lacks the array(s) y"),
             ({"X": np.ones((3, 2)), "y": np.array([0, 1, 0]), "X_test": np.ones((2, 2))}, "give both or neither"),
             ({"X": np.array([["a", "b"], ["c", "d"]]), "y": np.array([0, 1])}, "X is not numeric")]
    for i, (arrays, words) in enumerate(cases):
        path = tmp_path / f"bad{i}.npz"
        np.savez(path, **arrays)
        code, _, stderr = run_cli(SMALL + ["--data", str(path), "--out", str(tmp_path / "out")])
        assert code == 2 and stderr.startswith("occontrol deep-limit: error: --data: "), stderr
        assert words in stderr, stderr


def test_too_many_features_for_a_second_order_method(run_cli, no_nlp, tmp_path):
    path = tmp_path / "wide.npz"
    np.savez(path, X=np.random.default_rng(0).normal(size=(40, 60)), y=np.arange(40) % 2)
    code, _, stderr = run_cli(["deep-limit", "--data", str(path), "--grids", "4,8", "--out", str(tmp_path / "o")])
    assert code == 2 and stderr.startswith("occontrol deep-limit: error: --data: "), stderr
    variables = 8 * (60 * 60 + 60) + 1 * 61  # N = 8 layers of A, b; W, c of the logistic score
    assert f"variables = N (m^2 + m) + K (m + 1) = {variables}" in stderr
    assert f"{variables ** 2 * 8 / 1e9:.3g} GB (limit {MAX_HESSIAN_GB:g} GB)" in stderr
    # a narrower problem fits: 3 features at the same grids
    assert hessian_cost(8, 3, 1)[1] < MAX_HESSIAN_GB


def test_data_and_dataset_together_and_target_without_data(run_cli, no_nlp, tmp_path):
    path = _write(tmp_path, "d.csv", "a,b,y\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n")
    code, _, stderr = run_cli(SMALL + ["--data", str(path), "--dataset", "iris", "--out", str(tmp_path / "o")])
    assert code == 2 and "error: --data: give your own data (--data) or a built-in --dataset, not both" in stderr
    code, _, stderr = run_cli(SMALL + ["--target", "y", "--out", str(tmp_path / "o")])
    assert code == 2 and "error: --target: names a column of a data file (--data)" in stderr
