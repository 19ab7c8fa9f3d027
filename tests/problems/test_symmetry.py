"""The symmetry problem (adasim/problems/symmetry.py): RMSProp's stationary point is biased by
−(1 − β2)·κ₃/(2σ²) on skewed data (docs/REFERENCE.md §8), and a scale that does not contain g_t
is not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adasim import AdaShift, AMSGrad, RMSProp, simulate
from adasim.errors import AdasimError
from adasim.problems.symmetry import Symmetry, stationary_bias


def test_the_two_point_law_has_the_stated_moments():
    problem = Symmetry(mu=0.5, sigma=2.0, q=0.1)
    seeds = np.arange(4000)
    x = np.zeros((4000, 1))
    draws = np.concatenate([x[:, 0] - problem.gradient(x, t, seeds)[:, 0] for t in range(1, 26)])  # X_t = θ − g_t
    assert draws.mean() == pytest.approx(0.5, abs=0.03)
    assert draws.std() == pytest.approx(2.0, rel=0.02)
    q = 0.1
    assert problem.skewness() == pytest.approx((1 - 2 * q) / math.sqrt(q * (1 - q)))
    assert np.mean((draws - 0.5) ** 3) == pytest.approx(problem.third_moment(), rel=0.08)
    assert Symmetry(q=0.5).skewness() == 0.0


def _bias(optimizer, problem, lanes=400):
    """θ̄ − μ over the last three quarters of a run of 40/α steps (small steps: α = (1 − β2)/20)."""
    steps = int(40 / float(optimizer.lr))
    run = simulate(problem, optimizer, steps, seeds=np.arange(lanes), record=("x",))
    keep = run.trace.t > steps // 4
    per_lane = run.trace.x[keep, :, 0].mean(axis=0)
    return per_lane.mean() - float(problem.mu), per_lane.std() / math.sqrt(lanes)


@pytest.mark.parametrize("beta2", [0.97, 0.997])
def test_rmsprop_is_biased_by_the_third_moment_as_derived(beta2):
    """Two decades of 1 − β2 here (the third, 1 − β2 = 3·10⁻⁴, is in `python benchmarks/bench_symmetry.py`;
    measured ratios 0.98, 0.977, 0.966)."""
    problem = Symmetry(q=0.1)
    opt = RMSProp(beta2=beta2, eps=0.0, lr=(1 - beta2) / 20)
    measured, se = _bias(opt, problem)
    predicted = stationary_bias(problem, opt)
    assert predicted == pytest.approx(-(1 - beta2) * problem.skewness() / 2)
    assert measured == pytest.approx(predicted, rel=0.1)
    assert se < 0.05 * abs(predicted)


@pytest.mark.parametrize(
    "optimizer",
    [AMSGrad(beta1=0.0, beta2=0.97, eps=1e-12, lr=1.5e-3), AdaShift(n=1, beta1=0.0, beta2=0.97, phi="identity", lr=1.5e-3)],
    ids=["amsgrad", "adashift-n1"],
)
def test_a_scale_without_the_current_gradient_is_not_biased(optimizer):
    problem = Symmetry(q=0.1)
    assert stationary_bias(problem, optimizer) == 0.0
    measured, se = _bias(optimizer, problem)
    rmsprop_bias = abs(stationary_bias(problem, RMSProp(beta2=0.97)))
    assert abs(measured) < max(4 * se, 0.1 * rmsprop_bias)


def test_symmetric_data_give_no_bias_and_no_closed_form_without_a_declared_scale():
    from adasim import Lion

    assert stationary_bias(Symmetry(q=0.5), RMSProp(beta2=0.9)) == 0.0
    assert stationary_bias(Symmetry(), Lion()) is None


@pytest.mark.parametrize(("kwargs", "message"), [({"q": 0.0}, "q must lie in"), ({"sigma": 0.0}, "sigma must lie in"),
                                                 ({"q": np.array([0.1, 0.2])}, "one number")])  # fmt: skip
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(AdasimError, match=message):
        Symmetry(**kwargs)


def test_a_run_that_starts_at_x_star_and_leaves_it_says_so():
    """x_1 = μ = θ*: RMSProp's biased fixed point is `off x*` (not `away from x*`, which names a
    direction that an unbounded problem's x* has only when x_1 is not x*)."""
    from adasim.run import verdict

    assert verdict(-0.118, 0.0, np.nan, -np.inf, np.inf, 0.0) == "off x*"
    assert verdict(0.01, 0.0, np.nan, -np.inf, np.inf, 0.0) == "optimum"
    run = simulate(Symmetry(q=0.1), RMSProp(beta2=0.9, lr=1e-3), 20_000, seeds=np.arange(4))
    assert run.summary()["verdict"] == "off x*"
