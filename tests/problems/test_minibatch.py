"""The stochastic problem's mini-batch b: the gradient is the mean of b i.i.d. draws."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adasim import Adam, AdasimError, Stochastic, simulate
from adasim.analysis import analytic_drift
from adasim.random import uniform01


def test_b1_is_the_single_draw():
    """b = 1 replays the stream of a single draw per step: C where u_t < p, else −s."""
    problem = Stochastic(C=20.0, s=2.0, p=0.1)
    t = np.arange(1, 5001)
    g = problem.gradients(t, np.arange(3))[:, :, 0]
    keys = problem.keys(np.arange(3))[:, 0]
    with np.errstate(over="ignore"):  # the generator's 64-bit arithmetic wraps on purpose
        u = np.array([[uniform01(k, int(tt)) for k in keys] for tt in t])
    np.testing.assert_array_equal(g, np.where(u < 0.1, 20.0, -2.0))


def test_batch_is_the_mean_of_consecutive_draws():
    """b = 3: draws 3(t−1)+1 .. 3t of the lane's stream, averaged."""
    problem = Stochastic(C=20.0, s=2.0, p=0.3, b=3)
    key = problem.keys(np.arange(1))[0, 0]
    g = problem.gradients(np.arange(1, 101), np.arange(1))[:, 0, 0]
    for t in range(1, 101):
        with np.errstate(over="ignore"):
            draws = [20.0 if uniform01(key, 3 * (t - 1) + j + 1) < 0.3 else -2.0 for j in range(3)]
        assert g[t - 1] == pytest.approx(np.mean(draws), rel=1e-15)


@settings(max_examples=25, deadline=None)
@given(b=st.integers(1, 40), p=st.floats(0.01, 0.99), C=st.floats(0.5, 50.0))
def test_law_keeps_the_mean_and_divides_the_variance(b, p, C):
    law = Stochastic(C=C, s=1.0, p=p, b=b).law()
    assert law.probs.sum() == pytest.approx(1.0)
    assert law.mean == pytest.approx(p * C - (1 - p), abs=1e-9 * C)
    var1 = p * C**2 + (1 - p) - (p * C - (1 - p)) ** 2
    assert law.moment(2) - law.mean**2 == pytest.approx(var1 / b, rel=1e-8, abs=1e-12)


def test_sampled_gradients_follow_the_law():
    problem = Stochastic(C=10.0, s=1.0, p=0.2, b=4)
    g = problem.gradients(np.arange(1, 50_001), np.arange(8)).ravel()
    law = problem.law()
    for value, prob in zip(law.values, law.probs, strict=True):
        freq = np.mean(np.isclose(g, value))
        assert abs(freq - prob) < 5 * np.sqrt(prob * (1 - prob) / g.size) + 1e-12


def test_a_batch_changes_adams_closed_form_drift_as_the_simulation_does():
    """Adam (β1 = 0) on g = 100 w.p. 0.1 else −10: fails with b = 1, converges with b = 8."""
    adam = Adam(lr=0.01, beta1=0.0, beta2=0.9, eps=0.0, bias_correction=False)
    for b, sign in ((1, 1), (8, -1)):
        problem = Stochastic(C=100.0, s=10.0, p=0.1, b=b)
        assert np.sign(analytic_drift(problem, adam)) == sign
        final = simulate(problem, adam, 20_000, seeds=np.arange(8)).final_x
        assert np.sign(np.median(final)) == sign


@pytest.mark.parametrize("bad", [0, -3, 2.5, 1_000_001])
def test_bad_batch_sizes_are_refused(bad):
    with pytest.raises(AdasimError, match="mini-batch size b"):
        Stochastic(b=bad)
