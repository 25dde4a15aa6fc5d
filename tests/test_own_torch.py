"""Gradient training's hardware options: --device (cuda refused clearly when torch sees none),
--dtype float32|float64, --threads (0: the machine's cores), recorded by the comparison."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from occontrol.datasets import load_dataset
from occontrol.resnet import DeepLimitProblem, DeepLimitSettings, random_network

torch = pytest.importorskip("torch", reason="PyTorch (extra occontrol[torch]) is needed for gradient training")

from occontrol.resnet._torch import resolve_threads  # noqa: E402
from occontrol.resnet.gradient import GradientSettings, train_gradient  # noqa: E402

TAUS = dict(tau1=1e-3, tau2=1e-2, tau_w=1e-2)


@pytest.fixture(scope="module")
def deep() -> DeepLimitProblem:
    data = load_dataset("moons", n=40, seed=0)
    return DeepLimitProblem(data.X_train, data.y_train, DeepLimitSettings(**TAUS))


def test_float32_training_follows_float64(deep):
    net = random_network(deep, 8, seed=1)
    runs = {dtype: train_gradient(net, deep.X_data, deep.Y, **TAUS,
                                  settings=GradientSettings(max_steps=30, record_every=5, dtype=dtype))
            for dtype in ("float64", "float32")}
    start = net.objective(deep.X_data, deep.Y, **TAUS)["objective"]  # numpy, float64
    assert runs["float64"].history[0][2] == pytest.approx(start, rel=1e-12)
    assert runs["float32"].history[0][2] == pytest.approx(start, rel=1e-5)  # single precision: ~7 digits
    # the weights come back as float64 arrays, and their float64 objective is what float32 training reported
    trained = runs["float32"].network
    assert trained.A.dtype == np.float64
    assert trained.objective(deep.X_data, deep.Y, **TAUS)["objective"] == pytest.approx(runs["float32"].objective,
                                                                                        rel=1e-5)
    assert runs["float32"].objective == pytest.approx(runs["float64"].objective, rel=1e-4)
    assert runs["float32"].objective < start


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch sees a CUDA device here")
def test_cuda_is_refused_when_torch_sees_none():
    with pytest.raises(ValueError, match=r"^device: 'cuda' asked for, but torch .* sees no CUDA device"):
        GradientSettings(device="cuda")
    with pytest.raises(ValueError, match=r"^device: expected one of 'cpu', 'cuda', got 'tpu'"):
        GradientSettings(device="tpu")
    with pytest.raises(ValueError, match=r"^dtype: expected one of 'float32', 'float64', got 'float16'"):
        GradientSettings(dtype="float16")


def test_threads_zero_is_the_machines_cores_and_is_restored(deep):
    assert resolve_threads(0) == os.cpu_count()
    assert resolve_threads(3) == 3
    with pytest.raises(ValueError, match=r"^threads: expected an integer >= 0"):
        GradientSettings(threads=-1)
    before = torch.get_num_threads()
    seen = []
    train_gradient(random_network(deep, 4, seed=0), deep.X_data, deep.Y, **TAUS,
                   settings=GradientSettings(max_steps=2, record_every=1, threads=0),
                   progress=lambda *_: seen.append(torch.get_num_threads()))
    assert seen and set(seen) == {os.cpu_count()}
    assert torch.get_num_threads() == before


def test_compare_records_device_dtype_and_threads(run_cli, tmp_path):
    out = tmp_path / "cmp"
    code, _, stderr = run_cli(["compare", "--n", "40", "--tau-w", "1e-2", "--starts", "1", "--grids", "4,8",
                               "--methods", "adam", "--settings", "h1-consistent", "--steps", "10",
                               "--dtype", "float32", "--threads", "0", "--no-figures", "--out", str(out)])
    assert code == 0, stderr
    problem = json.loads((out / "compare.json").read_text())["problem"]
    assert problem["machine"]["torch_threads"] == os.cpu_count()
    assert problem["machine"]["torch_device"] == "cpu" and problem["machine"]["torch_dtype"] == "float32"
    assert problem["float"] == "float64 (IPOPT), float32 (torch)"
    code, _, stderr = run_cli(["compare", "--device", "cuda", "--out", str(tmp_path / "c2")])
    if not torch.cuda.is_available():
        assert code == 2 and stderr.startswith("occontrol compare: error: --device: 'cuda' asked for")
