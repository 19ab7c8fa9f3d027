"""The compiled versions of `adasim.ops` (and of `adasim.optimizers.base.out`), registered with
numba: on one float they are the scalar expression (so loops over lanes vectorise), on arrays
the NumPy operation. Imported only when the compiled executor runs, so that nothing else pays
for importing numba. Each must give the floats of its NumPy counterpart."""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload, register_jitable

from adasim import elementary, ops
from adasim.optimizers import base

INLINE = "never"  # LLVM inlines these small overloads itself; numba-level inlining only costs compile time


def _array(*ts: types.Type) -> bool:
    return any(isinstance(t, types.Array) for t in ts)


@overload(ops.where, inline=INLINE)
def _where(c, a, b):
    if _array(c, a, b):

        def arrays(c, a, b):
            return np.where(c, a, b)

        return arrays

    def scalars(c, a, b):
        if c:
            return a
        return b

    return scalars


@overload(ops.maximum, inline=INLINE)
def _maximum(a, b):
    if _array(a, b):

        def arrays(a, b):
            return np.maximum(a, b)

        return arrays

    def scalars(a, b):
        if a >= b or a != a:
            return a
        return b

    return scalars


@overload(ops.minimum, inline=INLINE)
def _minimum(a, b):
    if _array(a, b):

        def arrays(a, b):
            return np.minimum(a, b)

        return arrays

    def scalars(a, b):
        if a <= b or a != a:
            return a
        return b

    return scalars


@overload(ops.clip, inline=INLINE)
def _clip(x, lo, hi):
    if _array(x, lo, hi):

        def arrays(x, lo, hi):
            return np.minimum(np.maximum(x, lo), hi)

        return arrays

    def scalars(x, lo, hi):
        y = x if (x >= lo or x != x) else lo
        if y <= hi or y != y:
            return y
        return hi

    return scalars


@overload(ops.recip, inline=INLINE)
def _recip(x):
    if _array(x):

        def arrays(x):
            out = np.zeros(x.shape)
            flat, res = x.ravel(), out.ravel()
            for i in range(flat.size):
                if flat[i] != 0.0:
                    res[i] = 1.0 / flat[i]
            return out

        return arrays

    def scalars(x):
        if x == 0.0:
            return 0.0
        return 1.0 / x

    return scalars


@overload(ops.most, inline=INLINE)
def _most(n):
    if _array(n):

        def arrays(n):
            return n.max()

        return arrays

    def scalars(n):
        return n

    return scalars


@overload(ops.lag, inline=INLINE)
def _lag(past, k, t):
    def impl(past, k, t):
        return past[(t - k) % past.shape[0]]

    return impl


def _identity(x, blocks):
    return x


def _no_reduction(x, phi, blocks):
    return x


def _block_overload(fn) -> None:
    @overload(fn, inline=INLINE)
    def _impl(x, blocks):
        return _identity  # the compiled executor runs one coordinate at a time: a block of one


for _fn in (ops.block_sum, ops.block_mean, ops.block_max, ops.column_mean):
    _block_overload(_fn)


@overload(ops.block_rms, inline=INLINE)
def _block_rms(x, blocks):
    def impl(x, blocks):
        return np.abs(x)  # one coordinate: √(x²)

    return impl


@overload(ops.reduce, inline=INLINE)
def _reduce(x, phi, blocks):
    return _no_reduction


@overload(base.out, inline=INLINE)
def _out(step, m=math.nan, v=math.nan, pre=1.0, post=1.0):
    def impl(step, m=math.nan, v=math.nan, pre=1.0, post=1.0):
        return base.Out(step, m, v, pre, post)

    return impl


# log, exp and pow: the bodies NumPy runs (adasim.elementary), compiled; frexp and ldexp from the
# float's bits (exact, as C's), not calls into the C library, so that LLVM can vectorise and hoist them
@overload(elementary.signbit, inline=INLINE)
def _signbit(x):
    def impl(x):
        return math.copysign(1.0, x) < 0.0

    return impl


@intrinsic
def _bits(typingctx, x):
    """The 64 bits of a float, as an integer (LLVM's bitcast: no call, so loops stay vectorisable)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, n):
    """The float whose 64 bits are the integer n."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


EXPONENT = 0x7FF << 52


@overload(elementary.frexp, inline=INLINE)
def _frexp(x):
    """C's frexp from the bits (exact): m·2^e = x with ½ ≤ |m| < 1; (x, 0) at 0, ±∞ and NaN."""

    def impl(x):
        b = _bits(x)
        field = (b >> 52) & 0x7FF
        if x == 0.0 or field == 0x7FF:
            return x, 0
        shift = 0
        if field == 0:  # subnormal: scale into the normal range first (exact)
            b = _bits(x * 18014398509481984.0)  # 2^54
            field = (b >> 52) & 0x7FF
            shift = 54
        return _from_bits((b & ~EXPONENT) | (1022 << 52)), field - 1022 - shift

    return impl


@overload(elementary.ldexp, inline=INLINE)
def _ldexp(p, k):
    """p·2^k rounded once, as C's ldexp, by two exact powers of two built from their bits
    (k is clamped to ±2044..2046, beyond which p·2^k is 0 or ∞ for |p| in [½, 2))."""

    def impl(p, k):
        n = min(max(int(k), -2044), 2046)
        a = n >> 1
        return p * _from_bits((a + 1023) << 52) * _from_bits((n - a + 1023) << 52)

    return impl


_JITABLE = (elementary._two_sum, elementary._two_prod, elementary._log_parts, elementary._log_pair,
            elementary._exp_pair, elementary.log_body, elementary.exp_body, elementary.pow_body)  # fmt: skip
for _fn in _JITABLE:
    register_jitable(_fn)


@overload(ops.log, inline=INLINE)
def _log(x):
    def impl(x):
        return elementary.log_body(x)

    return impl


@overload(ops.exp, inline=INLINE)
def _exp(x):
    def impl(x):
        return elementary.exp_body(x)

    return impl


@overload(ops.pow, inline=INLINE)
def _pow(a, b):
    def impl(a, b):
        return elementary.pow_body(a, b)

    return impl


OVERLOADED = frozenset(
    {ops.where, ops.maximum, ops.minimum, ops.clip, ops.recip, ops.most, ops.lag, ops.block_sum, ops.block_mean,
     ops.block_max, ops.block_rms, ops.column_mean, ops.reduce, base.out, ops.log, ops.exp, ops.pow,
     elementary.frexp, elementary.ldexp, elementary.signbit}
)  # fmt: skip
