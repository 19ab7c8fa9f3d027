"""Recurrences along the time axis (axis 0) of a block of steps: the pieces every optimizer is
built from. Each takes the carried value from the previous block and returns the new one, so a run
processed in blocks of any size follows the same step-by-step recurrence."""

from __future__ import annotations

from functools import cache

import numpy as np

MANY_FILTERS = 16


@cache
def _lfilter():  # scipy.signal takes half a second to import: only runs pay for it
    from scipy.signal import lfilter

    return lfilter


def ema(a: np.ndarray | float, b: np.ndarray | float, x: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """z_t = a·z_{t−1} + b·x_t along axis 0, z_0 = z0; a, b constant in time (broadcast over lanes).

    Runs as a compiled linear filter per distinct (a, b); returns z for every step of the block.
    """
    x = np.asarray(x, dtype=np.float64)
    if np.ndim(a) == 0 and np.ndim(b) == 0 and x.shape[0] > 1:  # one filter for every lane
        a_s, b_s = float(a), float(b)
        zi = (a_s * np.broadcast_to(np.asarray(z0, dtype=np.float64), x.shape[1:]))[None]
        return _lfilter()([b_s], [1.0, -a_s], x, axis=0, zi=zi)[0]
    tail = x.shape[1:]
    a_full = np.broadcast_to(np.asarray(a, dtype=np.float64), tail).reshape(-1)
    b_full = np.broadcast_to(np.asarray(b, dtype=np.float64), tail).reshape(-1)
    z0_full = np.broadcast_to(np.asarray(z0, dtype=np.float64), tail).reshape(-1)
    cols = x.reshape(x.shape[0], -1)
    if x.shape[0] == 1:  # one step: the recurrence itself
        out = a_full * z0_full + b_full * cols[0]
        return out.reshape(x.shape)
    out = np.empty_like(cols)
    pairs = np.stack([a_full, b_full], axis=1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(uniq) > MANY_FILTERS:  # many distinct coefficients: one pass over time, all columns at once
        z = a_full * z0_full
        for t in range(cols.shape[0]):  # fl(fl(b·x) + fl(a·y)): the same floats as the filter's
            z = b_full * cols[t] + z
            out[t] = z
            z = a_full * z
        return out.reshape(x.shape)
    for j, (aj, bj) in enumerate(uniq):
        idx = np.flatnonzero(inverse == j)
        sel = slice(None) if idx.size == cols.shape[1] else idx
        zi = (aj * z0_full[sel])[None, :]
        out[:, sel], _ = _lfilter()([bj], [1.0, -aj], cols[:, sel], axis=0, zi=zi)
    return out.reshape(x.shape)


def running_sum(z0: np.ndarray, x: np.ndarray) -> np.ndarray:
    """z_t = z_{t−1} + x_t along axis 0 from the carried z_0: one cumulative sum that starts at z_0,
    so the floats are the step-by-step recurrence's whatever the block size."""
    x = np.asarray(x, dtype=np.float64)
    tail = np.broadcast_shapes(np.shape(z0), x.shape[1:])
    seq = np.empty((x.shape[0] + 1, *tail))
    seq[0] = z0
    seq[1:] = x
    return np.cumsum(seq, axis=0)[1:]


def affine_scan(a: np.ndarray, u: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """z_t = a_t·z_{t−1} + u_t along axis 0 with coefficients that vary in time (a prefix scan)."""
    a = np.array(np.broadcast_to(a, np.broadcast_shapes(np.shape(a), np.shape(u))), dtype=np.float64)
    u = np.array(np.broadcast_to(u, a.shape), dtype=np.float64)
    n = a.shape[0]
    shift = 1
    while shift < n:  # Hillis–Steele: compose each map with the one `shift` steps earlier
        u[shift:] = a[shift:] * u[:-shift] + u[shift:]
        a[shift:] = a[shift:] * a[:-shift]
        shift *= 2
    return a * z0 + u


def running_max(x: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """z_t = max(z_{t−1}, x_t) along axis 0, z_0 = z0."""
    x = np.asarray(x, dtype=np.float64)
    first = np.broadcast_to(z0, x.shape[1:])[None]
    return np.maximum.accumulate(np.concatenate([first, x], axis=0), axis=0)[1:]


def clip_scan(x0: np.ndarray, c: np.ndarray, lo: np.ndarray, hi: np.ndarray, sequential: bool = False) -> np.ndarray:
    """x_t = clip(x_{t−1} + c_t, lo, hi) along axis 0 (projected steps onto a box).

    `sequential` runs the recurrence step by step over all lanes at once (cheap for wide batches,
    and the same floats whatever the block size); otherwise:

    Without bounds it is a running sum (the same floats either way). Otherwise each step is the
    map x ↦ clip(x + c, lo, hi); such maps are closed under composition:
    clip(clip(x + c1, l1, h1) + c2, l2, h2) = clip(x + c1 + c2, clip(l1 + c2, l2, h2), clip(h1 + c2, l2, h2)),
    so the prefix compositions come from a Hillis–Steele scan.
    """
    c = np.asarray(c, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    if not (np.any(np.isfinite(lo)) or np.any(np.isfinite(hi))):
        return running_sum(x0, c)
    if sequential:
        out = np.empty(np.broadcast_shapes(c.shape, (1, *np.shape(x0))))
        x = np.asarray(x0, dtype=np.float64)
        for t in range(c.shape[0]):
            x = np.minimum(np.maximum(x + c[t], lo), hi)
            out[t] = x
        return out
    cc = c.copy()
    low = np.array(np.broadcast_to(lo, c.shape))
    high = np.array(np.broadcast_to(hi, c.shape))
    n = c.shape[0]
    shift = 1
    while shift < n:
        c2, l2, h2 = cc[shift:], low[shift:], high[shift:]
        new_low = np.minimum(np.maximum(low[:-shift] + c2, l2), h2)
        new_high = np.minimum(np.maximum(high[:-shift] + c2, l2), h2)
        cc[shift:] = cc[:-shift] + c2
        low[shift:] = new_low
        high[shift:] = new_high
        shift *= 2
    return np.minimum(np.maximum(x0 + cc, low), high)


def decayed_max(a: float | np.ndarray, x: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """z_t = max(a·z_{t−1}, x_t) along axis 0 for x ≥ 0, 0 < a ≤ 1: in logs a running maximum,
    z_t = a^t · max(z_0, max_{s≤t} x_s a^(−s)), so it runs as one accumulate."""
    x = np.asarray(x, dtype=np.float64)
    a = np.broadcast_to(np.asarray(a, dtype=np.float64), x.shape[1:])
    log_a = np.log(a)
    s = np.arange(1, x.shape[0] + 1, dtype=np.float64).reshape((-1,) + (1,) * (x.ndim - 1))
    with np.errstate(divide="ignore"):
        logs = np.log(x) - s * log_a
        start = np.log(np.broadcast_to(z0, x.shape[1:]))
    best = np.maximum.accumulate(np.concatenate([start[None], logs], axis=0), axis=0)[1:]
    return np.exp(best + s * log_a)
