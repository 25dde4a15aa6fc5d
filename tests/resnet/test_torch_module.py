"""The torch side of the ResNet without an import cycle: the layer map in its own module,
a module-level TorchResNet class, and ResNet.from_torch as the inverse of ResNet.to_torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from occontrol.resnet import ResNet

torch = pytest.importorskip("torch", reason="PyTorch (extra occontrol[torch]) is needed here")


def _net(scheme: str = "euler") -> ResNet:
    rng = np.random.default_rng(3)
    return ResNet(rng.normal(size=(5, 3, 3)), rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=2),
                  0.2, "tanh", np.eye(3)[:, :2], "softmax", np.array([4, 7]), scheme)


@pytest.mark.parametrize("scheme", ["euler", "heun", "rk4"])
def test_from_torch_inverts_to_torch(scheme):
    net = _net(scheme)
    module = net.to_torch()
    back = ResNet.from_torch(module)
    for name in ("A", "b", "W", "c", "lift", "classes"):
        assert np.array_equal(getattr(back, name), getattr(net, name)), name
    assert (back.h, back.activation, back.loss, back.scheme) == (net.h, net.activation, net.loss, net.scheme)
    X = np.random.default_rng(0).normal(size=(7, 2))
    # the torch forward pass against the numpy one (a separate implementation of the same layer map)
    scores = module(torch.tensor(X)).detach().numpy()
    np.testing.assert_allclose(scores, net.decision_function(X).reshape(scores.shape), rtol=1e-12, atol=1e-12)


def test_non_finite_weights_are_seen_as_such_and_refused():
    module = _net().to_torch()
    assert module.finite()
    with torch.no_grad():
        module.A[2, 0, 1] = float("nan")
    assert not module.finite()
    with pytest.raises(ValueError, match="A"):
        ResNet.from_torch(module)


def test_the_network_module_does_not_import_torch_and_the_torch_module_not_the_network():
    probe = ("import sys, importlib; importlib.import_module({mod!r}); "
             "print(sorted(m for m in ({a!r}, {b!r}) if m in sys.modules))")
    run = [sys.executable, "-c"]
    out = subprocess.run(run + [probe.format(mod="occontrol.resnet.network", a="torch",
                                             b="occontrol.resnet.torch_export")],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
    out = subprocess.run(run + [probe.format(mod="occontrol.resnet.torch_export", a="occontrol.resnet.network",
                                             b="torch")], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "['torch']"  # torch, not the network module: the cycle is gone
