"""adasim.elementary: log, exp and pow give the same bits in NumPy (arrays and numbers) and in
numba, and are within 1 ulp of the C library's (Python's math module), whose values — not
adasim's — are the reference. NumPy's own SIMD versions are what they replace: on an AVX-512
machine np.log, np.exp and np.power differ from math.log, math.exp and math.pow in the last bit for
some arguments, so a step written with them gave other floats on the NumPy and compiled executors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adasim import ops
from adasim.engine import jit as compiled

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 3.0, -3.0, 5e-324, 1e-310, 1.7976931348623157e308, np.inf, -np.inf, np.nan]


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got − want| in units of the last place of want (0 where both are equal, inf or NaN alike)."""
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(all="ignore"):
        return np.where(same, 0.0, np.abs(got - want) / np.spacing(np.abs(want)))


@pytest.fixture(scope="module")
def jitted():
    """log, exp and pow as the compiled executor runs them: numba, one number at a time."""
    if not compiled.available():
        pytest.skip(f"the compiled engine is not available: {compiled.unavailable_reason()}")
    import numba

    import adasim.engine.numba_ops  # noqa: F401 (registers the compiled versions)

    @numba.njit(error_model="numpy")
    def each(x, y):
        out = np.empty((5, x.size))
        for i in range(x.size):
            out[0, i] = ops.log(x[i])
            out[1, i] = ops.exp(y[i])
            out[2, i] = ops.pow(x[i], y[i])
            out[3, i] = ops.cos(y[i])
            out[4, i] = ops.sin(y[i])
        return out

    return each


def samples(seed: int = 0, size: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(0.0, 1.0, size), np.exp(rng.uniform(-700.0, 700.0, size)), rng.uniform(0.9, 1.1, size)])
    y = np.concatenate([rng.uniform(-5.0, 5.0, size), rng.uniform(-745.0, 709.0, size), rng.uniform(-40.0, 40.0, size)])
    return x, y


def test_numpy_numbers_and_numba_give_the_same_bits(jitted):
    x, y = samples()
    x = np.concatenate([x, SPECIAL, SPECIAL[::-1]])
    y = np.concatenate([y, SPECIAL[::-1], SPECIAL])
    in_numba = jitted(x, y)
    with np.errstate(invalid="ignore"):  # cos and sin of ±∞ (NumPy's own: they agree with the C library's)
        arrays = [ops.log(x), ops.exp(y), ops.pow(x, y), ops.cos(y), ops.sin(y)]
    for name, got, want in zip(("log", "exp", "pow", "cos", "sin"), in_numba, arrays, strict=True):
        np.testing.assert_array_equal(got, want, err_msg=f"{name}: numba vs NumPy arrays")
    for i in range(0, x.size, 97):  # and on single numbers (the Python executor's)
        assert np.array_equal([ops.log(x[i]), ops.exp(y[i]), ops.pow(x[i], y[i])], in_numba[:3, i], equal_nan=True)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_any_number_gives_the_same_bits_in_numba(jitted, x, y):
    got = jitted(np.array([x]), np.array([y]))[:3, 0]
    assert np.array_equal(got, [ops.log(x), ops.exp(y), ops.pow(x, y)], equal_nan=True)


def test_log_and_exp_are_within_one_ulp_of_the_c_library():
    x, y = samples(1)
    assert ulps(ops.log(x), np.array([math.log(v) for v in x])).max() <= 1.0
    assert ulps(ops.exp(y), np.array([math.exp(v) for v in y])).max() <= 1.0
    sub = np.array([5e-324, 1e-320, 2.2250738585072014e-308, 1e-300])  # subnormal and tiny arguments
    assert ulps(ops.log(sub), np.array([math.log(v) for v in sub])).max() <= 1.0


@pytest.mark.parametrize(("bound", "ulp"), [(5.0, 1.0), (40.0, 1.0 + 40.0 / 6), (700.0, 1.0 + 700.0 / 6)])
def test_pow_is_within_one_ulp_for_moderate_exponents_and_degrades_slowly_beyond(bound, ulp):
    """a^b = e^(b·ln a): within 1 ulp while |b·ln a| ≤ 5, about |b·ln a|/8 ulp beyond (ln a is carried
    to about 2^−56 of itself) — measured on 200 000 draws of a in [e^−3, e^3]."""
    rng = np.random.default_rng(2)
    a = np.exp(rng.uniform(-3.0, 3.0, 50000))
    b = rng.uniform(-bound, bound, a.size) / np.log(a)
    want = np.array([math.pow(p, q) for p, q in zip(a, b, strict=True)])
    assert ulps(ops.pow(a, b), want).max() <= ulp


def test_the_special_values_are_the_c_library_s():
    """ln and e^x at 0, ±∞, NaN, and pow's C99 special cases, compared with NumPy's scalar (C library) values."""
    with np.errstate(all="ignore"):
        for v in SPECIAL:
            assert ulps(ops.log(v), np.log(np.float64(v))) <= (0.0 if v in (0.0, 1.0) or not np.isfinite(v) else 1.0), v
            assert ulps(ops.exp(v), np.exp(np.float64(v))) <= (0.0 if v == 0.0 or not np.isfinite(v) else 1.0), v
        for edge in (709.78, 709.79, 710.0, -745.13, -745.14, -800.0):
            assert ops.exp(edge) == math.exp(edge) if edge < 709.79 else ops.exp(edge) == np.inf
        for a in SPECIAL:
            for b in [*SPECIAL, 0.25, -0.25, 2.5, 1e300, -1e300]:
                want = np.float64(a) ** np.float64(b)
                got = ops.pow(a, b)
                if np.isfinite(want) and want not in (0.0, 1.0, -1.0):  # an ordinary value: within 1 ulp
                    assert ulps(got, want) <= 1.0, (a, b, got, want)
                else:  # 0 (with its sign), ±1, ±∞, NaN: exactly C's
                    assert (got == want and np.signbit(got) == np.signbit(want)) or (np.isnan(got) and np.isnan(want)), (a, b)


def test_the_functions_keep_the_shape_and_return_numpy_floats():
    assert isinstance(ops.log(2.0), np.float64)
    assert isinstance(ops.pow(2, 3), np.float64)
    assert (ops.pow(2.0, 10.0), ops.exp(0.0), ops.log(1.0)) == (1024.0, 1.0, 0.0)
    grid = np.full((3, 4), 2.0)
    assert ops.log(grid).shape == (3, 4)
    assert ops.pow(grid, np.arange(4.0)).tolist()[0] == [1.0, 2.0, 4.0, 8.0]
