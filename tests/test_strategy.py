"""Hessian strategies as objects and the one registry of scheme names.

The strategies are checked against independent references: the Gauss-Newton
matrix of single-shooting Heun equals CasADi's exact Hessian of the NLP where
the residuals vanish (squared loss, targets = the network's own scores), and
Gauss-Newton and exact Heun solves end at the same minimum. The light name
registries the command line reads are checked against the real factories.
"""

from __future__ import annotations

import argparse
import dataclasses

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from occontrol import cli
from occontrol.datasets import DATASETS, SHAPES, load_dataset
from occontrol.guess import initial_guess
from occontrol.resnet import ACTIVATIONS, LOSSES, DeepLimitProblem, DeepLimitSettings, ResNet
from occontrol.resnet.config import ACTIVATION_NAMES, LOSS_CHOICES, LOSS_NAMES, TRANSCRIPTIONS
from occontrol.resnet.deep_limit import DeepLimitConfig
from occontrol.resnet.estimator import ODEResNetClassifier
from occontrol.resnet.gauss_newton import GaussNewtonHessian
from occontrol.resnet.network import SCHEMES
from occontrol.resnet.strategy import (STRATEGY_NAMES, ExactHessian, GaussNewton, HessianStrategy, as_strategy)
from occontrol.resnet.train import guess_from_network, network_from_solution, random_network, solve_layers
from occontrol.transcription.registry import EXPLICIT_SCHEMES, SCHEME_NAMES, make_transcription, scheme_factory


# ------------------------------------------------------------------ registries
def test_scheme_names_build_their_transcriptions():
    expected = {"euler": oc.ExplicitEuler, "heun": oc.Heun, "ralston": oc.Ralston, "rk4": oc.RK4,
                "collocation": oc.Collocation}
    assert SCHEME_NAMES == tuple(expected)
    for name, cls in expected.items():
        assert scheme_factory(name) is cls
        assert type(make_transcription(name)) is cls
    # the explicit schemes are the ResNet layer maps, under the same names
    assert EXPLICIT_SCHEMES == tuple(SCHEMES)
    for name in EXPLICIT_SCHEMES:
        assert make_transcription(name).tableau.name == name
    coll = make_transcription("collocation")
    assert (coll.degree, coll.scheme) == (3, "radau")
    assert make_transcription("heun", shooting="single").shooting == "single"
    expected = r"^scheme: expected one of 'euler', 'heun', 'ralston', 'rk4', 'collocation', got 'rk5'"
    with pytest.raises(ValueError, match=expected):
        make_transcription("rk5")


def test_light_name_lists_agree_with_the_factories():
    assert ACTIVATION_NAMES == tuple(ACTIVATIONS)
    assert LOSS_NAMES == tuple(LOSSES)
    assert LOSS_CHOICES == ("auto", *LOSSES)
    assert TRANSCRIPTIONS == SCHEME_NAMES
    assert set(DATASETS) == set(SHAPES)


def _parser() -> argparse.ArgumentParser:
    parser = cli._Parser(prog="occontrol")
    sub = parser.add_subparsers(dest="command", required=True)
    cli._deep_limit_parser(sub)
    cli._compare_parser(sub)
    return parser


def _choices(parser: argparse.ArgumentParser, command: str) -> dict[str, tuple]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {a.option_strings[0]: tuple(a.choices) for a in sub._actions if a.choices is not None and a.option_strings}


@pytest.mark.parametrize("command", ["deep-limit", "compare"])
def test_cli_choices_come_from_the_registries(command):
    choices = _choices(_parser(), command)
    assert choices["--dataset"] == DATASETS
    assert choices["--activation"] == tuple(ACTIVATIONS)
    assert choices["--loss"] == ("auto", *LOSSES)
    assert choices["--strategy"] == STRATEGY_NAMES == ("gauss-newton", "exact", "gauss-newton-secant")
    if command == "deep-limit":
        assert choices["--transcription"] == SCHEME_NAMES


# ------------------------------------------------------------------ strategies
def test_strings_map_to_strategies_and_bad_names_are_refused():
    assert as_strategy("gauss-newton") == GaussNewton() and as_strategy("exact") == ExactHessian()
    gn = GaussNewton()
    assert as_strategy(gn) is gn
    for bad in ("newton", None, 3):
        with pytest.raises(ValueError, match=r"^strategy: expected one of 'gauss-newton', 'exact'"):
            as_strategy(bad)
    assert isinstance(gn, HessianStrategy) and gn.name == "gauss-newton"


@pytest.mark.parametrize("scheme", ["euler", "heun", "ralston", "rk4"])
def test_each_strategy_knows_its_transcription(scheme):
    gn = GaussNewton().transcription_for(scheme)
    assert (gn.tableau.name, gn.shooting, gn.controls, gn.parallelization) == (scheme, "single", "constant", "thread")
    ex = ExactHessian().transcription_for(scheme)
    assert (ex.tableau.name, ex.shooting) == (scheme, "multiple")


def test_gauss_newton_takes_any_explicit_tableau_and_refuses_collocation():
    ralston = oc.ButcherTableau(A=((0.0, 0.0), (2 / 3, 0.0)), b=(0.25, 0.75), c=(0.0, 2 / 3), name="ralston")
    tr = GaussNewton().transcription_for(ralston)
    assert isinstance(tr, oc.ExplicitRungeKutta) and tr.tableau is ralston and tr.shooting == "single"
    with pytest.raises(ValueError, match=r"^strategy: 'gauss-newton' needs an explicit scheme; use strategy='exact'"):
        GaussNewton().transcription_for("collocation")
    assert isinstance(ExactHessian().transcription_for("collocation"), oc.Collocation)
    with pytest.raises(ValueError, match=r"^transcription: expected one of"):
        ExactHessian().transcription_for("rk5")


def test_ipopt_options_per_strategy():
    solver = oc.Ipopt(tol=1e-6)
    assert ExactHessian().ipopt(solver) is solver and ExactHessian().ipopt(None) is None
    gn = GaussNewton().ipopt(solver)
    assert gn.options["watchdog_shortened_iter_trigger"] == 0 and gn.tol == 1e-6
    assert "watchdog_shortened_iter_trigger" not in solver.options  # not changed in place
    assert GaussNewton().ipopt(None).options["watchdog_shortened_iter_trigger"] == 0
    assert ExactHessian().hess_lag(None) is None


@pytest.fixture(scope="module")
def heun_zero_residual():
    """A squared-loss problem whose targets are the scores of a Heun network: zero residuals there."""
    ds = load_dataset("moons", n=20, seed=0)
    probe = DeepLimitProblem(ds.X_train, ds.y_train.astype(float), DeepLimitSettings(loss="squared", tau_w=1e-3))
    euler = random_network(probe, 3, seed=1)
    heun = ResNet(euler.A, euler.b, euler.W, euler.c, euler.h, euler.activation, euler.lift, "squared",
                  scheme="heun")
    scores = heun.decision_function(ds.X_train)
    deep = DeepLimitProblem(ds.X_train, scores, DeepLimitSettings(loss="squared", tau_w=1e-3))
    return deep, heun


def test_heun_gauss_newton_matrix_is_the_exact_hessian_at_zero_residual(heun_zero_residual):
    """Heun with Gauss-Newton: single-shooting Heun with the GGN of Heun's own layer map. Where the
    residuals vanish the GGN is the exact Hessian, which CasADi differentiates independently."""
    deep, net = heun_zero_residual
    problem = oc.discretize(deep.ocp, GaussNewton().transcription_for("heun"), grid=3)
    w = initial_guess(problem, guess_from_network(deep, net, with_states=False))
    f, x, p = problem.nlp["f"], problem.nlp["x"], problem.nlp["p"]
    H = np.asarray(cs.Function("H", [x, p], [cs.hessian(f, x)[0]])(w, problem.parameters))
    G = GaussNewtonHessian(problem, deep).matrix(w)
    assert np.abs(H).max() > 1e-3  # not vacuous
    assert np.max(np.abs(G - H)) < 1e-9 * max(1.0, np.abs(H).max())


def test_heun_gauss_newton_and_exact_reach_the_same_minimum():
    ds = load_dataset("moons", n=30, seed=0)
    deep = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(tau_w=1e-3))
    ref = solve_layers(deep, 3, guess=random_network(deep, 3, seed=2), strategy="exact", scheme="heun")
    assert ref.success, ref.status
    net = network_from_solution(deep, ref)
    rng = np.random.default_rng(0)  # a start near that minimiser, so both solves stay in its basin
    start = ResNet(net.A + 0.05 * rng.normal(size=net.A.shape), net.b + 0.05 * rng.normal(size=net.b.shape),
                   net.W, net.c, net.h, net.activation, net.lift, net.loss, net.classes, scheme="heun")
    sols = {s: solve_layers(deep, 3, guess=start, strategy=s, scheme="heun") for s in ("gauss-newton", "exact")}
    assert all(s.success for s in sols.values()), {k: s.status for k, s in sols.items()}
    assert sols["gauss-newton"].problem.transcription.shooting == "single"
    assert sols["exact"].problem.transcription.shooting == "multiple"
    assert sols["gauss-newton"].objective == pytest.approx(sols["exact"].objective, abs=1e-9)
    assert sols["exact"].objective == pytest.approx(ref.objective, abs=1e-9)
    nets = {k: network_from_solution(deep, s) for k, s in sols.items()}
    assert nets["gauss-newton"].scheme == nets["exact"].scheme == "heun"
    assert np.max(np.abs(nets["gauss-newton"].theta - nets["exact"].theta)) < 1e-4


def test_config_and_estimator_take_a_strategy_object():
    config = DeepLimitConfig(strategy=ExactHessian(), transcription="heun")
    assert config.strategy == "exact" and config.to_dict()["strategy"] == "exact"  # settings.json keeps the name
    assert config.transcription_object().shooting == "multiple"
    gn = DeepLimitConfig(transcription="rk4")
    assert gn.transcription_object().shooting == "single"
    assert gn.solver().options["watchdog_shortened_iter_trigger"] == 0
    with pytest.raises(ValueError, match=r"^strategy: 'gauss-newton' needs an explicit scheme"):
        DeepLimitConfig(transcription="collocation")
    ds = load_dataset("moons", n=20, seed=0)
    clf = ODEResNetClassifier(n_layers=2, n_starts=1, transcription="heun", strategy=GaussNewton(), max_iter=300)
    assert clf.fit(ds.X_train, ds.y_train).network_.scheme == "heun"


# ------------------------------------------------------ refine(), grouped
@pytest.fixture
def _lq(lq_problem):
    """Builds the LQ problem's OCP."""
    return lambda: lq_problem()[0]


def test_refine_groups_run_the_study(_lq, tmp_path):
    """The grouped call: cold levels are the separate solves; the LQ optimum tanh(1) is approached."""
    lines: list[str] = []
    grouped = oc.refine(_lq(), oc.RK4(), [8, 16, 32], start=oc.StartPolicy(warm=False, prolongation="constant"),
                        store=tmp_path / "levels", reporter=oc.Reporter(progress=lines.append, label="rk4"))
    separate = [oc.solve(_lq(), oc.RK4(), grid=N) for N in (8, 16, 32)]
    assert [lv.objective for lv in grouped.levels] == [sol.objective for sol in separate]
    assert grouped.label == "rk4" and len(lines) == 3 and lines[0].startswith("N=8")
    errors = [abs(lv.objective - np.tanh(1.0)) for lv in grouped.levels]  # piecewise-constant u: first order
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-4
    resumed = oc.refine(_lq(), oc.RK4(), [8, 16, 32], start=oc.StartPolicy(warm=False, prolongation="constant"),
                        store=tmp_path / "levels")
    assert [lv.reused for lv in resumed.levels] == [True, True, True]


def test_refine_groups_are_checked(_lq):
    with pytest.raises(ValueError, match=r"^prolongation: expected one of 'linear', 'constant'"):
        oc.StartPolicy(prolongation="cubic")
    with pytest.raises(TypeError, match=r"^warm: expected True or False"):
        oc.StartPolicy(warm="yes")
    with pytest.raises(TypeError, match=r"^start: expected an oc.StartPolicy"):
        oc.refine(_lq(), oc.RK4(), [8], start={"warm": False})
    with pytest.raises(TypeError, match=r"^reporter: expected an oc.Reporter"):
        oc.refine(_lq(), oc.RK4(), [8], reporter=print)
    with pytest.raises(TypeError, match=r"^refine: unexpected keyword arguments \['bogus'\]"):
        oc.refine(_lq(), oc.RK4(), [8], bogus=1)


# ------------------------------------------------------ one set of settings
def _defaults(cls) -> dict:
    return {f.name: f.default for f in dataclasses.fields(cls)}


def test_the_study_settings_compose_the_model_and_solver_settings():
    from occontrol.resnet.config import DataFields, DeepLimitFields, LadderFields, ModelFields, SolverFields
    parts = [DataFields, ModelFields, LadderFields, SolverFields]
    assert [f.name for f in dataclasses.fields(DeepLimitConfig)] == [n for p in parts for n in _defaults(p)]
    study, model = _defaults(DeepLimitFields), _defaults(ModelFields)
    assert {k: v for k, v in study.items() if k in model and k != "loss"} == {k: v for k, v in model.items()
                                                                               if k != "loss"}
    assert (study["loss"], model["loss"]) == ("auto", "logistic")  # the study resolves 'auto' per dataset
    settings = _defaults(DeepLimitSettings)
    assert {k: settings[k] for k in model} == model and set(settings) - set(model) == {"lift", "lift_seed"}
    ipopt = oc.Ipopt()
    # IPOPT's names and defaults, but the study's tolerance is tighter (SolverFields says why)
    assert {k: getattr(ipopt, k) for k in _defaults(SolverFields)} == {**_defaults(SolverFields), "tol": ipopt.tol}
    assert (_defaults(SolverFields)["tol"], ipopt.tol) == (1e-10, 1e-8)
    assert _defaults(LadderFields)["strategy"] == "gauss-newton-secant"
    config = DeepLimitConfig(tau1=0.5, width=3, tol=1e-6, max_iter=7, max_wall_time=9.0, strategy="exact")
    assert config.model_settings() == DeepLimitSettings(tau1=0.5, width=3)
    assert (config.solver().tol, config.solver().max_iter, config.solver().max_wall_time) == (1e-6, 7, 9.0)
    est = ODEResNetClassifier().get_params()
    assert {k: est[k] for k in ("tau1", "tau2", "activation", "width", "horizon")} == \
        {k: model[k] for k in ("tau1", "tau2", "activation", "width", "horizon")}
    assert (est["transcription"], est["strategy"], est["tol"]) == ("euler", "gauss-newton-secant", 1e-10)


def test_cli_options_are_the_fields_with_their_defaults():
    from occontrol.resnet.config import DeepLimitFields
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["deep-limit"]
    actions = {a.dest: a for a in sub._actions}
    for f in dataclasses.fields(DeepLimitFields):
        if f.name == "warm":
            assert actions["cold"].option_strings == ["--cold"] and actions["cold"].default is False
            continue
        action = actions[f.name]
        assert action.default == f.default and action.help == f.metadata["help"], f.name
    assert actions["n_starts"].option_strings == ["--starts"]
    args = parser.parse_args(["deep-limit", "--starts", "2", "--cold", "--tau-w", "0.1", "--strategy", "exact"])
    config = cli._config_from(args)
    assert config == DeepLimitConfig(n_starts=2, warm=False, tau_w=0.1, strategy="exact")
    assert cli._config_from(parser.parse_args(["deep-limit"])) == DeepLimitConfig()


def test_compare_options_are_the_gradient_fields_with_their_defaults():
    from occontrol.resnet.config import CompareFields
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["compare"]
    actions = {a.dest: a for a in sub._actions}
    for f in dataclasses.fields(CompareFields):
        if f.name == "deep":  # the problem and ladder: the deep-limit fields, checked above
            continue
        action = actions[f.name]
        assert action.default == f.default and action.help == f.metadata["help"], f.name
    args = parser.parse_args(["compare", "--methods", "adam,lbfgs", "--lr-sgd", "0.5", "--settings", "all",
                              "--init-seed", "3"])
    assert (args.methods, args.lr_sgd, args.settings, args.init_seed) == (
        ("adam", "lbfgs"), 0.5, CompareFields().settings, 3)
