"""The rotated 2-D embedding: two copies of a counterexample in y = Rᵀx."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from adasim import SGD, Adam, AdasimError, Online, Rotated, Stochastic, simulate
from adasim.random import uniform01

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
from test_executors import assert_same, runs


def test_gradient_is_R_times_the_copies():
    problem = Rotated(base="stochastic", C=20.0, p=0.3, theta=0.7)
    g = problem.gradients(np.arange(1, 201), np.arange(2))  # (T, L, 2)
    keys = problem.keys(np.arange(2))[:, 0]
    R = problem.rotation()
    for t in range(1, 201):
        with np.errstate(over="ignore"):
            gy = np.array([[20.0 if uniform01(k, 2 * t + i) < 0.3 else -1.0 for i in (0, 1)] for k in keys])
        np.testing.assert_allclose(g[t - 1], gy @ R.T, rtol=1e-14, atol=1e-14)


def test_theta_0_is_two_copies_of_the_one_dimensional_problem():
    flat = Online(C=10.0, d=3, domain=Rotated().domain)
    for opt in (SGD(lr=0.01), Adam(lr=0.01, beta1=0.0, beta2=0.01)):
        one = simulate(flat, opt, 2_000).final_x[0, 0]
        two = simulate(Rotated(theta=0.0), opt, 2_000).final_x[0]
        np.testing.assert_allclose(two, [one, one], rtol=1e-12)


@pytest.mark.parametrize("base", ["online", "stochastic"])
def test_sgd_is_rotation_invariant_adam_is_not(base):
    def y_path(opt, theta):
        problem = Rotated(base=base, theta=theta, p=0.2)
        return problem.to_y(simulate(problem, opt, 3_000, seeds=np.arange(2), stride=100).trace.x)

    sgd = [y_path(SGD(lr=0.01), th) for th in (0.0, math.pi / 6, 1.2)]
    for other in sgd[1:]:
        np.testing.assert_allclose(other, sgd[0], rtol=1e-9, atol=1e-9)
    adam = [y_path(Adam(lr=0.01, beta1=0.0, beta2=0.01), th) for th in (0.0, math.pi / 6)]
    assert np.max(np.abs(adam[1] - adam[0])) > 1e-2


def test_every_executor_gives_the_same_floats_with_an_angle_per_lane():
    problem = Rotated(base="stochastic", theta=np.array([0.0, 0.4, 1.3]), p=0.2)
    assert_same(runs(problem, Adam(lr=0.01), seeds=np.arange(3)))


def test_the_preset_shows_adam_failing_where_sgd_and_adashift_do_not():
    from adasim.settings import RunSettings
    from adasim.spec import build_spec

    results = {r.optimizer.name: r for r in build_spec("rotated-reddi", run=RunSettings(steps=5_000)).run()}
    direction = -Rotated().rotation() @ np.ones(2) / math.sqrt(2)  # toward the optimum
    for name, sign in (("sgd", 1), ("adashift", 1), ("adam", -1)):
        assert np.sign(results[name].final_x[0] @ direction) == sign, name


def test_bad_base_is_refused():
    with pytest.raises(AdasimError, match="base"):
        Rotated(base="layered")
    with pytest.raises(AdasimError):
        Rotated(base="stochastic", p=1.5)
    assert Stochastic  # the base problems validate their own parameters
