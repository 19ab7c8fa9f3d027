"""Gradient sequences, optima and validation of every problem."""

import numpy as np
import pytest

from adasim import AdasimError, Domain, FiniteSum, Online, Stochastic

SEEDS = np.arange(4)


def test_online_pattern_and_optimum():
    p = Online(C=10.0, s=1.0, d=3, k=1)
    g = p.gradients(np.arange(1, 10), SEEDS)
    assert g.shape == (9, 4, 1)
    np.testing.assert_array_equal(g[:, 0, 0], [10, -1, -1] * 3)
    assert p.mean_gradient() == pytest.approx(8 / 3)
    assert p.optimum()[0, 0] == -1
    assert p.worst()[0, 0] == 1


def test_online_two_spikes_shi():
    p = Online(C=10.0, s=1.0, d=10, k=2)
    np.testing.assert_array_equal(p.gradients(np.arange(1, 11), SEEDS[:1])[:, 0, 0], [10, 10] + [-1] * 8)


def test_online_optimum_flips_when_small_gradients_dominate():
    p = Online(C=1.0, s=1.0, d=3, k=1)  # mean −1/3: the optimum is the upper bound
    assert p.optimum()[0, 0] == 1.0


def test_online_per_lane_parameters():
    p = Online(C=np.array([3.0, 5.0]), d=np.array([3, 4]))
    g = p.gradients(np.arange(1, 9), np.array([0, 1]))
    np.testing.assert_array_equal(g[:, 0, 0], [3, -1, -1] * 2 + [3, -1])
    np.testing.assert_array_equal(g[:, 1, 0], [5, -1, -1, -1] * 2)


def test_stochastic_frequency_and_delta():
    p = Stochastic(C=101.0, s=1.0, delta=0.02)
    assert p.probability() == pytest.approx(1.02 / 102)
    assert p.mean_gradient() == pytest.approx(0.02)
    g = p.gradients(np.arange(1, 200_001), SEEDS)
    freq = (g == 101.0).mean()
    assert freq == pytest.approx(0.01, abs=0.001)
    assert set(np.unique(g)) == {101.0, -1.0}
    # lanes see different draws; a lane alone sees the same draws as in the batch
    assert not np.array_equal(g[:, 0], g[:, 1])
    np.testing.assert_array_equal(p.gradients(np.arange(1, 1001), SEEDS[2:3])[:, 0], g[:1000, 2])


def test_finite_sum_cyclic_is_online_with_d_equal_n():
    fs = FiniteSum(n=7, sampling="cyclic").gradients(np.arange(1, 50), SEEDS)
    on = Online(C=7.0, s=1.0, d=7, k=1).gradients(np.arange(1, 50), SEEDS)
    np.testing.assert_array_equal(fs, on)


def test_finite_sum_shuffle_has_one_spike_per_epoch_at_varying_places():
    n = 8
    g = FiniteSum(n=n, sampling="shuffle").gradients(np.arange(1, 80 * n + 1), SEEDS)[:, :, 0]
    epochs = g.reshape(80, n, len(SEEDS))
    assert np.all((epochs == n).sum(axis=1) == 1)
    positions = np.argmax(epochs == n, axis=1)
    assert len(np.unique(positions[:, 0])) > 3
    # blocks that start mid-epoch agree with the whole sequence
    part = FiniteSum(n=n, sampling="shuffle").gradients(np.arange(13, 40), SEEDS)[:, :, 0]
    np.testing.assert_array_equal(part, g[12:39])


def test_finite_sum_iid_frequency():
    g = FiniteSum(n=10, sampling="iid").gradients(np.arange(1, 100_001), SEEDS)
    assert (g == 10).mean() == pytest.approx(0.1, abs=0.005)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Online(d=3, k=3), "k < d"),
        (lambda: Online(d=3, k=5), "k < d"),
        (lambda: Online(C=-1.0), "C must lie in"),
        (lambda: Online(d=2.5), "whole number"),
        (lambda: Stochastic(p=1.5), "p must lie in"),
        (lambda: Stochastic(p=0.0), "p must lie in"),
        (lambda: Stochastic(p=0.1, delta=0.1), "either p or delta"),
        (lambda: Stochastic(C=1.0, delta=1.5), "p must lie in"),
        (lambda: FiniteSum(n=1), "n functions"),
        (lambda: FiniteSum(sampling="random"), "sampling"),
        (lambda: Domain(1.0, -1.0), "empty domain"),
        (lambda: Domain(0.0, 0.0), "empty domain"),
        (lambda: Domain.parse("1,2,3"), "domain must be"),
        (lambda: Domain.parse("a,b"), "domain must be"),
    ],
)
def test_invalid_parameters_are_one_line_errors(build, message):
    with pytest.raises(AdasimError, match=message) as err:
        build()
    assert "\n" not in str(err.value)


def test_domain_parse():
    assert Domain.parse("-1,1") == Domain(-1.0, 1.0)
    assert Domain.parse("none").unconstrained
    d = Domain.parse("-inf, 2")
    assert not d.bounded
    assert d.hi == 2.0


def test_config_is_complete():
    cfg = Stochastic(C=1010.0, s=10.0, p=0.01).config()
    assert cfg["optimum"] == -1.0
    assert cfg["p"] == 0.01
    assert cfg["C"] == 1010.0
    assert cfg["domain"] == [-1.0, 1.0]
    assert Stochastic(domain=Domain(-np.inf, np.inf)).config()["optimum"] is None
