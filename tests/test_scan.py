"""The time-axis recurrences against plain loops, including carried state across blocks."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adasim.scan import affine_scan, clip_scan, ema, running_max

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


@given(arrays(float, (23,), elements=finite), finite)
def test_running_max(x, z0):
    np.testing.assert_array_equal(running_max(x[:, None], np.array([z0]))[:, 0], np.maximum.accumulate(np.r_[z0, x])[1:])


@settings(max_examples=200)
@given(
    arrays(float, (61,), elements=st.floats(-0.7, 0.7)),
    st.floats(-1, 1),
    st.sampled_from([(-1.0, 1.0), (0.0, 0.5), (-np.inf, 0.2), (-0.3, np.inf), (-np.inf, np.inf)]),
)
def test_clip_scan_is_sequential_projection(c, x0, box):
    lo, hi = box
    x0 = min(max(x0, lo), hi)
    got = clip_scan(np.array([x0]), c[:, None], lo, hi)[:, 0]
    want = loop(lambda x, ci: min(max(x + ci, lo), hi), x0, c)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.all(got >= lo)
    assert np.all(got <= hi)
