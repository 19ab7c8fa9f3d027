"""log, exp and pow from IEEE basic operations only (+, −, ×, ÷, floor, frexp, ldexp), so that
they give the same bits on every executor and every machine.

NumPy evaluates np.log, np.exp and np.power on arrays with its own SIMD code where the CPU has
it (AVX-512), and those differ from the C library's in the last bit for some arguments — on one
AVX-512 machine for 0.3 % of logs and 5 % of exps and powers of uniform draws — while numba (and
NumPy on a single number) call the C library. A step or a gradient written with np.log would then
give other floats on the NumPy executor than on the compiled one. These functions are the same
arithmetic on a float and on an array, in NumPy and in numba (no fused multiply-add: numba
compiles without fastmath). log and exp are within 1 ulp of the C library's values, pow while
|b·ln a| ≤ 5 and about |b·ln a|/8 ulp beyond (tests/test_elementary.py measures them).

    log x:  x = m·2^e with m ∈ [√½, √2);  f = m − 1,  s = f/(2 + f),  so that
            ln m = 2 artanh s = f − (f²/2 − s·(f²/2 + R)),  R = Σ_{k=1}^{11} 2·s^{2k}/(2k + 1)
            (|s| ≤ 0.172: the first term left out is below 2^−58 of the sum);
            ln x = e·ln 2 + ln m, with ln 2 in two parts (e·LN2_HI is exact).
    exp x:  k = ⌊x/ln 2 + ½⌋,  r = x − k·ln 2 (two parts, |r| ≤ 0.347),
            e^x = 2^k · ((1 + r) + r²·Σ_{j=2}^{13} r^{j−2}/j!)  (the remainder is below 2^−57).
    pow:    a^b = exp(b·ln a), with ln a carried as a pair of doubles (hi + lo) and b·hi by
            Dekker's exact product (ln a is good to about 2^−56 of itself: that is what grows with |b·ln a|).

The entry points `log`, `exp` and `pow` take floats or arrays (NumPy); `adasim.engine.numba_ops`
compiles the same bodies for numba, with `math.frexp`/`math.ldexp` for NumPy's. They are written
with `where`, the branchless select defined here (this module imports nothing of adasim's) and
handed on by adasim.ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_NUMBERS = frozenset({float, int, bool, np.float64, np.bool_, np.int64})


def _scalar(*values: Any) -> bool:
    return all(type(v) in _NUMBERS or np.ndim(v) == 0 for v in values)  # the type first: np.ndim costs a µs


def where(c: Any, a: Any, b: Any) -> Any:
    """a where c holds, b elsewhere (adasim.ops.where)."""
    if _scalar(c, a, b):
        return a if c else b
    return np.where(c, a, b)


# ln 2 = LN2_HI + LN2_LO: LN2_HI is ln 2 with the last 12 bits of its significand cleared, so
# k·LN2_HI is exact for |k| < 2^12; LN2_LO is the rest, rounded (computed with 50 decimal digits).
LN2_HI = 0.693147180559663  # 0x1.62e42fefa3000p-1
LN2_LO = 2.8235290563031577e-13  # 0x1.3de6af278ece6p-42
INV_LN2 = 1.4426950408889634
SQRT_HALF = 0.7071067811865476
SPLIT = 134217729.0  # 2^27 + 1: Veltkamp's split of a double into two halves of 26 bits
EXP_MAX = 710.0  # e^x overflows above 709.78 and is 0 below −745.14: beyond these, the clamped value's
EXP_MIN = -746.0  # 2^k·p still overflows (or underflows) exactly as e^x does

# Σ 2 s^{2k}/(2k+1) and Σ r^j/j! (their coefficients, innermost last)
_LOG_C = tuple(2.0 / (2 * k + 1) for k in range(1, 12))
_EXP_C = tuple(1.0 / float(np.prod(np.arange(1, j + 1, dtype=np.float64))) for j in range(0, 14))


# -- the formulas, on floats or arrays (no branches: where() picks) -----------------------------


def frexp(x: Any) -> Any:
    """(m, e) with x = m·2^e, ½ ≤ |m| < 1 (numba: math.frexp)."""
    return math.frexp(x) if isinstance(x, float) else np.frexp(x)


def ldexp(p: Any, k: Any) -> Any:
    """p·2^k, k a whole number held as a float (numba: math.ldexp), rounded once (∞ on overflow)."""
    if isinstance(p, float):
        return np.ldexp(p, int(k))
    return np.ldexp(p, np.asarray(k).astype(np.int64))


def signbit(x: Any) -> Any:
    """Whether x's sign bit is set (−0.0 and −∞ included)."""
    return math.copysign(1.0, x) < 0.0 if isinstance(x, float) else np.signbit(x)


def _two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """s + err = a + b exactly, s = fl(a + b) (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: Any, b: Any) -> tuple[Any, Any]:
    """p + err = a·b exactly, p = fl(a·b) (Dekker, with Veltkamp's split; no fused multiply-add)."""
    p = a * b
    ca = SPLIT * a
    a1 = ca - (ca - a)
    a2 = a - a1
    cb = SPLIT * b
    b1 = cb - (cb - b)
    b2 = b - b1
    return p, ((a1 * b1 - p) + a1 * b2 + a2 * b1) + a2 * b2


def _log_parts(x: Any) -> tuple[Any, Any, Any, Any, Any]:
    """For x > 0 finite: e, f, s, f²/2 and R of the log's formula (module docstring)."""
    m, e = frexp(x)
    low = m < SQRT_HALF
    m = where(low, m + m, m)
    e = where(low, e - 1.0, e + 0.0)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    q = _LOG_C[10]
    for c in _LOG_C[9::-1]:
        q = c + z * q
    return e, f, s, 0.5 * f * f, z * q


def log_body(x: Any) -> Any:
    """ln x (+∞ at +∞, −∞ at 0, NaN below 0 and at NaN)."""
    ok = (x > 0.0) & (x < np.inf)
    xs = where(ok, x, 1.0)
    e, f, s, hfsq, R = _log_parts(xs)
    value = e * LN2_HI - ((hfsq - (s * (hfsq + R) + e * LN2_LO)) - f)
    special = where(x == 0.0, -np.inf, where(x == np.inf, np.inf, np.nan))
    return where(ok, value, special)


def _log_pair(x: Any) -> tuple[Any, Any]:
    """ln x as hi + lo (x > 0 finite), to about 2^−60 relative."""
    e, f, s, hfsq, R = _log_parts(x)
    sq, sq_err = _two_prod(f, f)
    a, a_err = _two_sum(f, -0.5 * sq)  # f − f²/2, exactly as a pair
    lo = a_err + (s * (hfsq + R) - 0.5 * sq_err)
    b = a + lo
    lo = lo - (b - a)
    c, c_err = _two_sum(e * LN2_HI, b)
    lo = c_err + lo + e * LN2_LO
    hi = c + lo
    return hi, lo - (hi - c)


def _exp_pair(y: Any, y_lo: Any) -> Any:
    """e^(y + y_lo) for finite y in [EXP_MIN, EXP_MAX], |y_lo| ≤ ulp(y)."""
    k = (y * INV_LN2 + 0.5) // 1.0  # ⌊·⌋ (floor division by 1 is floor, exactly)
    r = ((y - k * LN2_HI) - k * LN2_LO) + y_lo
    q = _EXP_C[13]
    for c in _EXP_C[12:1:-1]:
        q = c + r * q
    one, err = _two_sum(1.0, r)  # 1 + r exactly as a pair: the last rounding is the only large one
    return ldexp(one + (err + r * r * q), k)


def exp_body(x: Any) -> Any:
    """e^x (+∞ above 709.78, 0 below −745.14, NaN at NaN)."""
    xs = where(x != x, 0.0, where(x < EXP_MIN, EXP_MIN, where(x > EXP_MAX, EXP_MAX, x)))
    return where(x != x, np.nan, _exp_pair(xs, 0.0))


def pow_body(a: Any, b: Any) -> Any:
    """a^b, with C's special values: 1 when b = 0 or a = 1; NaN for a < 0 and b not a whole number;
    (−a)^b with the sign of an odd whole b for a < 0; 0, ±∞ at zero and infinite a or b."""
    mag = abs(a)
    whole = b // 1.0 == b
    odd = whole & ((0.5 * b) // 1.0 * 2.0 != b) & (abs(b) < 2.0**53)
    general = (mag > 0.0) & (mag < np.inf) & (abs(b) < np.inf)
    hi, lo = _log_pair(where(general, mag, 1.0))
    bs = where(general, b, 0.0)
    y = bs * hi
    # Dekker's split overflows for |b| ≥ 2^996: then b·ln a is 0 (a = ±1) or far beyond e^x's range
    fine = (abs(bs) < 2.0**996) & (abs(y) < 1e300)
    yh, yl = _two_prod(where(fine, bs, 0.0), where(fine, hi, 0.0))
    yl = yl + where(fine, bs * lo, 0.0)
    y_hi = where(fine, yh + yl, y)
    y_lo = where(fine, yl - (y_hi - yh), 0.0)
    inside = (y_hi >= EXP_MIN) & (y_hi <= EXP_MAX)
    value = where(inside, _exp_pair(where(inside, y_hi, 0.0), where(inside, y_lo, 0.0)),
                      where(y > 0.0, np.inf, 0.0))  # fmt: skip
    value = where(a < 0.0, where(whole, where(odd, -value, value), np.nan), value)
    # the special values (C99 Annex F)
    big = where(b > 0.0, np.inf, 0.0)  # |a|^b for |a| = ∞ (or 0 with the inverse)
    at_zero = where(b > 0.0, 0.0, np.inf)
    at_inf_b = where(mag == 1.0, 1.0, where((mag > 1.0) == (b > 0.0), np.inf, 0.0))
    negative_odd = odd & signbit(a)  # (−0)^b and (−∞)^b keep the sign for odd whole b
    edge = where(mag == 0.0, where(negative_odd, -at_zero, at_zero),
                     where(mag == np.inf, where(negative_odd, -big, big), at_inf_b))  # fmt: skip
    value = where(general, value, edge)
    value = where((a != a) | (b != b), np.nan, value)
    return where((b == 0.0) | (a == 1.0), 1.0, value)


# -- the entry points for NumPy (arrays and floats); numba compiles the bodies ------------------


def _run(body: Any, *args: Any) -> Any:
    numbers = all(np.ndim(a) == 0 for a in args)  # numbers: Python's float arithmetic (the same operations, faster)
    values = [float(a) if numbers else np.asarray(a, dtype=np.float64) for a in args]
    with np.errstate(all="ignore"):  # ops.where evaluates both sides: the unused one may be inf or NaN
        out = body(*values)
    return np.float64(out) if np.ndim(out) == 0 else out


def log(x: Any) -> Any:
    """The natural logarithm ln x, elementwise (module docstring)."""
    return _run(log_body, x)


def exp(x: Any) -> Any:
    """e^x, elementwise (module docstring)."""
    return _run(exp_body, x)


def pow(a: Any, b: Any) -> Any:
    """a^b, elementwise (module docstring)."""
    return _run(pow_body, a, b)
