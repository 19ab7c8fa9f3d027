"""The analysis's time-axis recurrences (EMA filter, affine scan) against plain loops, including carried state."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adasim.analysis.recurrences import affine_scan, ema

finite = st.floats(-1e3, 1e3, allow_nan=False)


def loop(step, z0, xs):
    out, z = [], z0
    for x in xs:
        z = step(z, x)
        out.append(z)
    return np.array(out)


@given(arrays(float, (37, 3), elements=finite), st.floats(0, 1, exclude_max=True), finite)
def test_ema_is_the_recurrence(x, a, z0):
    got = ema(a, 1 - a, x[:, :, None], np.full((3, 1), z0))[:, :, 0]
    want = np.stack([loop(lambda z, xi: a * z + (1 - a) * xi, z0, x[:, j]) for j in range(3)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_ema_per_lane_coefficients_and_blocks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 4, 2))
    a = np.array([0.0, 0.5, 0.9, 0.999])[:, None]
    whole = ema(a, 1 - a, x, np.zeros((4, 2)))
    first = ema(a, 1 - a, x[:40], np.zeros((4, 2)))
    second = ema(a, 1 - a, x[40:], first[-1])
    np.testing.assert_array_equal(np.concatenate([first, second]), whole)
    lane2 = ema(0.9, 1 - 0.9, x[:, 2:3], np.zeros((1, 2)))
    np.testing.assert_array_equal(lane2, whole[:, 2:3])


@given(arrays(float, (29,), elements=st.floats(0, 1)), arrays(float, (29,), elements=finite), finite)
def test_affine_scan_is_the_recurrence(a, u, z0):
    got = affine_scan(a[:, None], u[:, None], z0)[:, 0]
    want, z = [], z0
    for ai, ui in zip(a, u, strict=True):
        z = ai * z + ui
        want.append(z)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
