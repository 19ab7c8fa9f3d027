"""The counter-based generator: SplitMix64 test vectors, range, independence, random access."""

import numpy as np

from adasim.random import GAMMA, mix64, uniform


def test_splitmix64_reference_outputs():
    # SplitMix64 seeded with 0 (Steele, Lea & Flood 2014; Vigna's splitmix64.c): the first two
    # outputs are mix(γ) and mix(2γ).
    assert int(mix64(np.array([GAMMA]))[0]) == 0xE220A8397B1DCDAF
    with np.errstate(over="ignore"):
        assert int(mix64(np.array([GAMMA * np.uint64(2)]))[0]) == 0x6E789E6AA1B965F4


def test_uniform_range_mean_and_lane_independence():
    u = uniform(np.arange(8), np.arange(1, 50_001), stream=1)
    assert u.shape == (50_000, 8)
    assert u.min() >= 0.0
    assert u.max() < 1.0
    np.testing.assert_allclose(u.mean(axis=0), 0.5, atol=0.01)
    corr = np.corrcoef(u.T)[np.triu_indices(8, 1)]
    assert np.abs(corr).max() < 0.03


def test_random_access_and_streams():
    seeds = np.array([3, 7])
    full = uniform(seeds, np.arange(1, 101), stream=1)
    part = uniform(seeds, np.arange(40, 61), stream=1)
    np.testing.assert_array_equal(full[39:60], part)
    assert not np.array_equal(full, uniform(seeds, np.arange(1, 101), stream=2))
    np.testing.assert_array_equal(uniform(seeds[1:], np.arange(1, 101), stream=1)[:, 0], full[:, 1])
