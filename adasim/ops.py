"""The elementwise vocabulary that optimizer steps and problem gradients are written in.

Every function here is valid on a float and on an array of lanes, and gives the same floats on
both: a step written with them runs unchanged on the compiled executor (numba, one lane at a
time; `adasim.engine.numba_ops` registers the compiled versions), on the NumPy executor (arrays
over lanes) and in plain Python. Use them instead of `if` on values that may differ between lanes,
and instead of `max`/`min` (whose NaN behaviour depends on the argument order). `log`, `exp` and
`pow` are adasim.elementary's (basic IEEE operations), not NumPy's: NumPy's SIMD versions differ
from the C library's that numba calls; use `pow(a, b)` rather than `a ** b` on per-lane values.

>>> from adasim import ops
>>> float(ops.where(2.0 > 1.0, 3.0, 4.0)), ops.where([True, False], 1.0, 0.0).tolist()
(3.0, [1.0, 0.0])
>>> float(ops.recip(0.0)), float(ops.recip(4.0))
(0.0, 0.25)
>>> float(ops.maximum(float("nan"), 1.0))  # NaN propagates, whatever the order
nan
"""

from __future__ import annotations

from typing import Any

import numpy as np

# log, exp and pow are adasim's own, from IEEE basic operations: NumPy's SIMD versions (AVX-512)
# differ from the C library's that numba calls, in the last bit; `where` (a where c holds, b
# elsewhere) is defined beside them, which are written with it (adasim.elementary)
from adasim.elementary import _scalar, exp, log, pow, where  # noqa: F401

sqrt = np.sqrt
abs = np.abs  # the elementwise |x| (this module shadows the builtin on purpose)
sign = np.sign
floor = np.floor
isnan = np.isnan
isfinite = np.isfinite
cos = np.cos
sin = np.sin


def maximum(a: Any, b: Any) -> Any:
    """The larger of a and b; NaN if either is NaN (np.maximum)."""
    return np.maximum(a, b)


def minimum(a: Any, b: Any) -> Any:
    """The smaller of a and b; NaN if either is NaN (np.minimum)."""
    return np.minimum(a, b)


def clip(x: Any, lo: Any, hi: Any) -> Any:
    """min(max(x, lo), hi), NaN-propagating: the projection onto [lo, hi]."""
    return minimum(maximum(x, lo), hi)


def recip(x: Any) -> Any:
    """1/x, and 0 where x = 0 (a scale of v = 0 means every gradient so far was 0: no step)."""
    if _scalar(x):
        return 0.0 if x == 0.0 else 1.0 / x
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape)
    np.divide(1.0, x, out=out, where=x != 0.0)
    return out


def most(n: Any) -> int:
    """The largest value of a per-lane integer (a loop bound that covers every lane)."""
    return int(np.max(n))


def lag(past: Any, k: Any, t: int) -> Any:
    """g_{t−k} from the ring of earlier gradients that the executor keeps for optimizers that
    declare a history (past[(t − i) mod depth] = g_{t−i} for 1 ≤ i ≤ depth; 0 before step 1)."""
    depth = past.shape[0]
    if np.ndim(k) == 0:
        return past[(t - int(k)) % depth]
    index = (t - np.asarray(k, dtype=np.int64)) % depth
    index = np.broadcast_to(index, past.shape[1:])
    return np.take_along_axis(past, index[None], axis=0)[0]


# -- block reductions (coordinates share a scale within a block, docs/REFERENCE.md §2 φ) -----------------


def _block_apply(x: Any, blocks: Any, reduce_at: Any, finish: Any = None) -> Any:
    """Reduce each block of the last axis (`reduce_at`: a ufunc's reduceat) and broadcast the
    result back over the block. (The executors that run block-coupled steps, NumPy and Python,
    both reduce with this function, so they agree to the bit.)"""
    if _scalar(x) or blocks is None:
        return x
    x = np.asarray(x, dtype=np.float64)
    sizes = np.asarray([int(b) for b in blocks])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    acc = reduce_at(x, starts, axis=-1)
    if finish is not None:
        acc = finish(acc, sizes)
    return np.repeat(acc, sizes, axis=-1)


def block_sum(x: Any, blocks: Any) -> Any:
    """Σ over each block, shared by its coordinates."""
    return _block_apply(x, blocks, np.add.reduceat)


def block_mean(x: Any, blocks: Any) -> Any:
    """The mean over each block, shared by its coordinates."""
    return _block_apply(x, blocks, np.add.reduceat, lambda acc, sizes: acc / sizes)


def block_max(x: Any, blocks: Any) -> Any:
    """The maximum over each block (NaN-propagating), shared by its coordinates."""
    return _block_apply(x, blocks, np.maximum.reduceat)


def block_rms(x: Any, blocks: Any) -> Any:
    """√(mean of x² over each block): the root mean square, shared by its coordinates."""
    return np.sqrt(block_mean(x * x, blocks))


def column_mean(x: Any, blocks: Any) -> Any:
    """The blocks read as the rows of one matrix (all of one length C): the mean of each column
    over the rows, shared by the column's coordinates (Adafactor's factored second moment)."""
    if _scalar(x) or blocks is None:
        return x
    sizes = {int(b) for b in blocks}
    if len(sizes) != 1:
        from adasim.errors import AdasimError

        raise AdasimError(f"a factored matrix needs blocks (rows) of one length, got block sizes {sorted(sizes)}")
    x = np.asarray(x, dtype=np.float64)
    rows, cols = len(blocks), sizes.pop()
    matrix = x.reshape((*x.shape[:-1], rows, cols))
    mean = matrix.mean(axis=-2, keepdims=True)
    return np.broadcast_to(mean, matrix.shape).reshape(x.shape)


# -- matrices (a lane's coordinates read as one matrix: the problem's blocks are its rows) --------------


def matrix_shape(blocks: Any, size: int) -> tuple[int, int]:
    """(rows m, columns n) of the matrix whose rows are the blocks (all of one length); without
    blocks the `size` coordinates are one row (1, size)."""
    if blocks is None:
        return 1, int(size)
    sizes = {int(b) for b in blocks}
    if len(sizes) != 1:
        from adasim.errors import AdasimError

        raise AdasimError(f"a matrix step needs blocks (rows) of one length, got block sizes {sorted(sizes)}")
    return len(blocks), sizes.pop()


def _matrices(x: Any, blocks: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m, n = matrix_shape(blocks, x.shape[-1] if x.ndim else 1)
    return x.reshape((*x.shape[:-1], m, n)) if x.ndim else x.reshape(1, 1)


def _svd(X: np.ndarray, compute_uv: bool = True) -> tuple[np.ndarray, Any]:
    """Which matrices are finite, and the SVD of each (a non-finite one taken as 0: LAPACK refuses NaN)."""
    finite = np.isfinite(X).all(axis=(-2, -1))
    return finite, np.linalg.svd(np.where(finite[..., None, None], X, 0.0), full_matrices=False, compute_uv=compute_uv)


NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # Jordan et al. 2024 (Muon), torch.optim.Muon 2.13's defaults


def newton_schulz(x: Any, blocks: Any, steps: int = 5, coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
                  eps: float = 1e-7, eps_added: bool = False) -> Any:  # fmt: skip
    """Muon's orthogonalisation of each lane's matrix X (m × n): X₀ = X/max(‖X‖_F, ε) (torch's
    clamp; X/(‖X‖_F + ε) with `eps_added`, optax's) (transposed when m > n, so that the Gram matrix
    is the smaller one), then `steps` times

        A = X Xᵀ,  X ← a X + (b A + c A²) X,

    which maps every singular value σ of X₀ to p(σ) = aσ + bσ³ + cσ⁵ (iterated), leaving the
    singular vectors alone: with the quintic's coefficients the values land near 1 (about
    0.7–1.2), not at 1. torch.optim.Muon runs it in bfloat16; here it is float64. X = 0 gives 0."""
    a, b, c = coefficients
    X = _matrices(x, blocks)
    m, n = X.shape[-2:]
    wide = X if m <= n else np.swapaxes(X, -1, -2)
    frobenius = np.sqrt(np.sum(wide * wide, axis=(-2, -1), keepdims=True))
    norm = frobenius + eps if eps_added else np.maximum(frobenius, eps)
    Y = wide / np.where(norm > 0.0, norm, 1.0)  # (ε = 0 and X = 0: the orthogonalisation of 0 is 0)
    for _ in range(int(steps)):  # (in place where it saves a temporary: the same floats, additions commute)
        A = Y @ np.swapaxes(Y, -1, -2)
        B = A @ A
        B *= c
        B += b * A
        Z = B @ Y
        Z += a * Y
        Y = Z
    Y = Y if m <= n else np.swapaxes(Y, -1, -2)
    return Y.reshape(np.shape(x)) if np.ndim(x) else float(Y[0, 0])


RANK_RTOL = 1e-12  # msign: singular values below σ_max·max(m, n)·RANK_RTOL are zero


def msign(x: Any, blocks: Any) -> Any:
    """The exact orthogonalisation of each lane's matrix X = U Σ Vᵀ: U sign(Σ) Vᵀ (the polar
    factor, with the directions of zero singular values left out — so that a 1 × 1 or diagonal
    matrix gives sign(x) per entry, 0 at 0). Singular values at most σ_max·max(m, n)·RANK_RTOL
    count as zero: rounding leaves a computed rank-r matrix (c·u vᵀ with dense u, v) with further
    singular values near 1e-15·σ_max, above NumPy's matrix_rank cut-off (max(m, n)·ε), and each
    would become a unit step in a direction that means nothing. A matrix with a NaN or ±inf gives NaN."""
    X = _matrices(x, blocks)
    finite, (U, sv, Vt) = _svd(X)
    keep = sv > np.max(sv, axis=-1, keepdims=True) * max(X.shape[-2:]) * RANK_RTOL
    Y = np.where(finite[..., None, None], (U * keep[..., None, :]) @ Vt, np.nan)
    return Y.reshape(np.shape(x)) if np.ndim(x) else float(Y[0, 0])


def nuclear_norm(x: Any, blocks: Any) -> Any:
    """‖X‖_* = Σ σ_i of each lane's matrix, broadcast over its coordinates (NaN for a matrix with
    a NaN or ±inf)."""
    finite, sv = _svd(_matrices(x, blocks), compute_uv=False)
    norm = np.where(finite, sv.sum(axis=-1), np.nan)
    return float(norm) if np.ndim(x) == 0 else (norm[..., None] if np.ndim(x) > 1 else float(norm))


PHI = {
    "identity": "φ(g²) = g² per coordinate",
    "max": "φ(g²) = max of g² over the block (the AdaShift authors' default)",
    "mean": "φ(g²) = mean of g² over the block",
    "norm": "φ(g²) = Σ g² over the block (the squared norm)",
}


def reduce(x: Any, phi: str, blocks: Any) -> Any:
    """The spatial reduction φ of docs/REFERENCE.md §2 over each block: identity, max, mean or norm (Σ)."""
    if phi == "mean":
        return block_mean(x, blocks)
    if phi == "max":
        return block_max(x, blocks)
    if phi == "norm":
        return block_sum(x, blocks)
    return x
