"""Exactness, the claim of the mission (DESIGN.md).

Explicit Euler with piecewise-constant controls *is* the ResNet

    X_{k+1} = X_k + h sigma(A_k X_k + b_k),   h = T / N,
    E_N = (1/n) sum_i loss(W X_N + c, y_i) + tau1 h sum_k |theta_k|^2
          + tau2 / h sum_k |theta_{k+1} - theta_k|^2 + tau_w (|W|^2 + |c|^2),

so the Euler NLP evaluated at given weights must reproduce, to rounding
(1e-12 in float64), both the library's numpy forward pass
(``ResNet.forward`` / ``ResNet.objective``) and an independent float64
``torch.nn.Module`` written here from those formulas (not ``to_torch()``),
with torch's own activations and losses (``torch.sigmoid``,
``torch.logaddexp``, ``binary_cross_entropy_with_logits``, ``cross_entropy``).

Checked for every activation (tanh, sigmoid, softplus, smooth_relu, and relu
with its warning) and every loss (logistic on two moons, softmax on three
blobs, squared error with two targets), for random weights and for weights
returned by IPOPT, in single and multiple shooting. In multiple shooting the
node states are decision variables, so there the claim is that the dynamics
defects vanish at the forward-pass states.

Measured here (max over all cases, n = 40, width 3, N = 8; torch 2.13,
casadi 3.8.2; absolute differences, the largest ones at solved softplus /
smooth_relu / relu weights whose final states reach |X_N| ~ 10-50, i.e. a
few ulp relative; at random weights everything is <= 1e-15):

- final states X_N, NLP vs numpy forward: 5.3e-15; NLP vs independent torch: 5.3e-15
- objective E_N, NLP vs ResNet.objective: 1.8e-15; NLP vs independent torch: 1.8e-15
- multiple-shooting dynamics defects at the forward-pass states: 3.6e-15
- to_torch() vs the independent module: 2.7e-15 (scores), 5.6e-17 (objective)
- Heun / RK4 transcription node states vs ResNet(scheme=...).trajectory: 4.4e-16
  (objective 2.2e-16, defects 2.2e-16)
- NLP gradient (CasADi) vs torch autograd of the independent E_N: 9.2e-16
"""

from __future__ import annotations

import functools
import warnings

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.resnet import (DeepLimitProblem, DeepLimitSettings, ResNet, guess_from_network,
                              network_from_solution, random_network, solve_layers)
from occontrol.resnet.activations import SMOOTH_RELU_EPS

torch = pytest.importorskip("torch", reason="PyTorch (extra occontrol[torch]) is needed for the torch references")
F = torch.nn.functional

TOL = 1e-12
ACTIVATIONS = ["tanh", "sigmoid", "softplus", "smooth_relu", "relu"]
LOSSES = ["logistic", "softmax", "squared"]
TAUS = dict(tau1=1e-3, tau2=1e-2, tau_w=1e-3)
N_LAYERS = 8
WIDTH = 3


# ------------------------------------------------------- independent reference
class IndependentResNet(torch.nn.Module):
    """The N-layer ResNet of DESIGN.md in float64, written from the formulas only.

    States are kept as columns (m x n), as in DESIGN.md: X <- X + h sigma(A_k X + b_k).
    """

    def __init__(self, A, b, W, c, h, activation, lift):
        super().__init__()
        t = functools.partial(torch.tensor, dtype=torch.float64)
        self.A = torch.nn.Parameter(t(np.asarray(A)))   # (N, m, m)
        self.b = torch.nn.Parameter(t(np.asarray(b)))   # (N, m)
        self.W = torch.nn.Parameter(t(np.asarray(W)))   # (K, m)
        self.c = torch.nn.Parameter(t(np.asarray(c)))   # (K,)
        self.lift = t(np.asarray(lift))                 # (m, d)
        self.h = float(h)
        self.activation = activation

    def sigma(self, x):
        if self.activation == "tanh":
            return torch.tanh(x)
        if self.activation == "sigmoid":
            return torch.sigmoid(x)
        if self.activation == "softplus":
            return torch.logaddexp(x, torch.zeros_like(x))  # log(1 + e^x), no threshold
        if self.activation == "smooth_relu":
            return 0.5 * (x + torch.sqrt(x ** 2 + SMOOTH_RELU_EPS ** 2))
        if self.activation == "relu":
            return torch.relu(x)
        raise AssertionError(self.activation)

    def states(self, X):
        """All node states, (N + 1, m, n), for features X (n, d)."""
        Z = self.lift @ torch.as_tensor(X, dtype=torch.float64).T
        out = [Z]
        for k in range(self.A.shape[0]):
            Z = Z + self.h * self.sigma(self.A[k] @ Z + self.b[k][:, None])
            out.append(Z)
        return torch.stack(out)

    def forward(self, X):
        """Scores W X_N + c, shape (n, K)."""
        return (self.W @ self.states(X)[-1] + self.c[:, None]).T

    def objective(self, X, y, loss, tau1, tau2, tau_w):
        """E_N of DESIGN.md against raw targets y (class labels, or (n, K) regression targets)."""
        S = self.forward(X)
        if loss == "logistic":
            labels = np.unique(y)
            target = torch.tensor((np.asarray(y) == labels[1]).astype(float), dtype=torch.float64)
            data = F.binary_cross_entropy_with_logits(S[:, 0], target, reduction="mean")
        elif loss == "softmax":
            index = np.searchsorted(np.unique(y), y)
            data = F.cross_entropy(S, torch.tensor(index, dtype=torch.long), reduction="mean")
        else:
            Y = torch.tensor(np.asarray(y, dtype=float).reshape(len(y), -1), dtype=torch.float64)
            data = torch.mean(torch.sum((S - Y) ** 2, dim=1))
        theta = torch.cat([self.A.reshape(self.A.shape[0], -1), self.b], dim=1)  # |theta_k|^2 ignores order
        l2 = tau1 * self.h * torch.sum(theta ** 2)
        h1 = tau2 / self.h * torch.sum((theta[1:] - theta[:-1]) ** 2)
        decay = tau_w * (torch.sum(self.W ** 2) + torch.sum(self.c ** 2))
        return data + l2 + h1 + decay


def independent(net: ResNet, lift=None) -> IndependentResNet:
    return IndependentResNet(net.A, net.b, net.W, net.c, net.h, net.activation,
                             net.lift if lift is None else lift)


# ------------------------------------------------------------------- problems
def data(loss: str, n: int = 40):
    if loss == "softmax":
        ds = load_dataset("blobs", n=n, seed=0)
        return ds.X_train, ds.y_train
    ds = load_dataset("moons", n=n, seed=0)
    if loss == "logistic":
        return ds.X_train, ds.y_train
    X = ds.X_train
    return X, np.column_stack([np.sin(2 * X[:, 0]), X[:, 1] ** 2])


def build(activation: str, loss: str, **kw) -> tuple[DeepLimitProblem, np.ndarray, np.ndarray]:
    X, y = data(loss)
    settings = DeepLimitSettings(width=kw.pop("width", WIDTH), activation=activation, loss=loss, **TAUS, **kw)
    if activation == "relu":
        with pytest.warns(UserWarning, match="not differentiable"):
            deep = DeepLimitProblem(X, y, settings)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            deep = DeepLimitProblem(X, y, settings)
    return deep, X, y


@functools.lru_cache(maxsize=None)
def _problem(activation: str, loss: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the relu warning is asserted in build() itself
        return build(activation, loss)


@functools.lru_cache(maxsize=None)
def solved_network(activation: str, loss: str) -> ResNet:
    """Weights from a short Gauss-Newton solve (exactness does not depend on the status)."""
    deep, _, _ = _problem(activation, loss)
    sol = solve_layers(deep, N_LAYERS, guess=random_network(deep, N_LAYERS, seed=1),
                       solver=oc.Ipopt(max_iter=8))
    assert sol.iterations > 0
    return network_from_solution(deep, sol)


def nlp_at(deep: DeepLimitProblem, net: ResNet, transcription) -> dict:
    """The transcription's node states, objective, constraints and gradient at the network's weights."""
    pr = oc.discretize(deep.ocp, transcription, grid=net.N)
    w = pr.initial_point(guess_from_network(deep, net))
    z = np.asarray(pr.readout(w, pr.parameters)[0])  # outputs: z (states per node, packed), u, params, ...
    fun = cs.Function("fg", [pr.nlp["x"], pr.nlp["p"]],
                      [pr.nlp["f"], pr.nlp["g"], cs.gradient(pr.nlp["f"], pr.nlp["x"])])
    f, g, grad = fun(w, pr.parameters)
    states = np.stack([z[:, k].reshape(deep.m, deep.n, order="F") for k in range(z.shape[1])])
    return {"states": states, "f": float(f), "g": np.asarray(g).ravel(), "grad": np.asarray(grad).ravel(),
            "w": w, "problem": pr}


def assert_exact(deep, X, y, net, shooting):
    out = nlp_at(deep, net, oc.ExplicitEuler(shooting=shooting))
    XN = out["states"][-1]
    ref = independent(net)
    with torch.no_grad():
        XN_torch = ref.states(X)[-1].numpy()
        f_torch = float(ref.objective(X, y, deep.settings.loss, **TAUS))
    f_numpy = net.objective(X, deep.Y, **TAUS)["objective"]

    assert np.max(np.abs(XN - net.forward(X))) <= TOL
    assert np.max(np.abs(XN - XN_torch)) <= TOL
    assert abs(out["f"] - f_numpy) <= TOL
    assert abs(out["f"] - f_torch) <= TOL
    if shooting == "multiple":
        assert out["g"].size == deep.m * deep.n * net.N
        assert np.max(np.abs(out["g"])) <= TOL
        # and every node, not only the last, is the forward pass
        assert np.max(np.abs(out["states"] - net.trajectory(X))) <= TOL
    else:
        assert out["g"].size == 0
        assert np.max(np.abs(out["states"] - ref.states(X).detach().numpy())) <= TOL


# ---------------------------------------------------------------------- tests
@pytest.mark.parametrize("shooting", ["single", "multiple"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_euler_nlp_is_the_resnet_at_random_weights(activation, loss, shooting):
    deep, X, y = build(activation, loss)
    net = random_network(deep, N_LAYERS, seed=3)
    assert np.abs(net.A).max() > 0.1 and np.abs(np.diff(net.theta, axis=0)).max() > 1e-3  # non-trivial
    assert_exact(deep, X, y, net, shooting)


@pytest.mark.parametrize("shooting", ["single", "multiple"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_euler_nlp_is_the_resnet_at_solved_weights(activation, loss, shooting):
    deep, X, y = _problem(activation, loss)
    assert_exact(deep, X, y, solved_network(activation, loss), shooting)


def test_euler_nlp_is_the_resnet_at_a_converged_solution():
    """A converged solve (exact strategy, multiple shooting): its weights, and the
    single-shooting solution's own states, are the ResNet's."""
    deep, X, y = build("tanh", "logistic")
    start = random_network(deep, N_LAYERS, seed=1)
    sol = solve_layers(deep, N_LAYERS, guess=start, strategy="exact", solver=oc.Ipopt(max_iter=200))
    assert sol.status == "Solve_Succeeded"
    net = network_from_solution(deep, sol)
    for shooting in ("single", "multiple"):
        assert_exact(deep, X, y, net, shooting)
    # the solution's objective is the network's E_N up to the constraint tolerance only
    assert net.objective(X, deep.Y, **TAUS)["objective"] == pytest.approx(sol.objective, abs=1e-7)

    sol_ss = solve_layers(deep, N_LAYERS, guess=start, strategy="gauss-newton", solver=oc.Ipopt(max_iter=5))
    net_ss = network_from_solution(deep, sol_ss)
    states = np.reshape(sol_ss.value(deep.state), (N_LAYERS + 1, deep.m, deep.n))
    assert np.max(np.abs(states - net_ss.trajectory(X))) <= TOL
    assert abs(sol_ss.objective - net_ss.objective(X, deep.Y, **TAUS)["objective"]) <= TOL


@pytest.mark.parametrize("shooting", ["single", "multiple"])
def test_exactness_at_the_prototype_size(shooting):
    """Two moons, n = 200, N = 64, tanh, logistic (the prototype measured 2.2e-16 / 1.1e-16 there)."""
    ds = load_dataset("moons", n=200, noise=0.2, seed=0)
    deep = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(**TAUS))
    assert_exact(deep, ds.X_train, ds.y_train, random_network(deep, 64, seed=0), shooting)


@pytest.mark.parametrize("shooting", ["single", "multiple"])
def test_exactness_with_random_lift_and_horizon(shooting):
    """h = T / N with T != 1, and a fixed orthonormal lift instead of zero padding."""
    deep, X, y = build("tanh", "softmax", width=4, lift="random", horizon=2.5)
    net = random_network(deep, 5, seed=7)
    assert net.h == pytest.approx(2.5 / 5, abs=0)
    assert_exact(deep, X, y, net, shooting)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_nlp_gradient_equals_torch_autograd(activation, loss):
    """Single shooting: the NLP gradient is autograd of the independent E_N (a consequence of exactness)."""
    deep, X, y = _problem(activation, loss)
    net = random_network(deep, N_LAYERS, seed=5)
    out = nlp_at(deep, net, oc.ExplicitEuler(shooting="single"))
    ref = independent(net)
    ref.objective(X, y, loss, **TAUS).backward()
    N, m = net.N, deep.m
    U = np.vstack([ref.A.grad.numpy().transpose(0, 2, 1).reshape(N, m * m).T, ref.b.grad.numpy().T])
    pr = out["problem"]
    expected = np.empty(out["w"].size)
    expected[pr.index.controls] = U.ravel(order="F")
    expected[pr.index.statics] = np.concatenate([ref.W.grad.numpy().ravel(order="F"), ref.c.grad.numpy()])
    assert np.max(np.abs(out["grad"] - expected)) <= 1e-12 * max(1.0, np.abs(expected).max())


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_to_torch_equals_independent_module(activation, loss):
    deep, X, y = _problem(activation, loss)
    net = solved_network(activation, loss)
    exported = net.to_torch()
    ref = independent(net)
    assert all(p.dtype == torch.float64 for p in exported.parameters())
    with torch.no_grad():
        S_exp = exported(torch.tensor(X, dtype=torch.float64)).numpy()
        S_ref = ref(X).numpy()
        Y_rows = torch.tensor(deep.Y.T, dtype=torch.float64)
        f_exp = float(exported.objective(torch.tensor(X, dtype=torch.float64), Y_rows, **TAUS))
        f_ref = float(ref.objective(X, y, loss, **TAUS))
    assert S_exp.shape == (deep.n, deep.K)
    assert np.max(np.abs(S_exp - S_ref)) <= TOL
    assert np.max(np.abs(S_exp - net.decision_function(X))) <= TOL
    assert abs(f_exp - f_ref) <= TOL


@pytest.mark.parametrize("shooting", ["single", "multiple"])
@pytest.mark.parametrize("scheme, transcription", [("heun", oc.Heun), ("rk4", oc.RK4)])
def test_other_schemes_forward_equals_transcription(scheme, transcription, shooting):
    deep, X, y = _problem("tanh", "softmax")
    base = random_network(deep, N_LAYERS, seed=2)
    net = ResNet(base.A, base.b, base.W, base.c, base.h, "tanh", base.lift, "softmax", base.classes, scheme=scheme)
    out = nlp_at(deep, net, transcription(shooting=shooting))
    traj = net.trajectory(X)
    assert np.max(np.abs(out["states"] - traj)) <= TOL
    assert abs(out["f"] - net.objective(X, deep.Y, **TAUS)["objective"]) <= TOL
    if shooting == "multiple":
        assert np.max(np.abs(out["g"])) <= TOL
    # a different scheme really is a different map: Heun/RK4 are not Euler on these weights
    assert np.max(np.abs(traj[-1] - base.forward(X))) > 1e-6
