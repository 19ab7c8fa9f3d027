"""Linear recurrences along the time axis (axis 0) that the analysis runs over recorded blocks:
an EMA with constant coefficients (a compiled linear filter) and an affine scan with
coefficients that vary in time. (The engine does not use them: optimizers are single steps.)"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def _lfilter():  # scipy.signal takes half a second to import: only analyses pay for it
    from scipy.signal import lfilter

    return lfilter


def ema(a: np.ndarray | float, b: np.ndarray | float, x: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """z_t = a·z_{t−1} + b·x_t along axis 0, z_0 = z0; a, b constant in time (broadcast over the
    other axes). One linear filter per distinct (a, b); returns z for every step."""
    x = np.asarray(x, dtype=np.float64)
    if np.ndim(a) == 0 and np.ndim(b) == 0:
        zi = (float(a) * np.broadcast_to(np.asarray(z0, dtype=np.float64), x.shape[1:]))[None]
        return _lfilter()([float(b)], [1.0, -float(a)], x, axis=0, zi=zi)[0]
    tail = x.shape[1:]
    a_full = np.broadcast_to(np.asarray(a, dtype=np.float64), tail).reshape(-1)
    b_full = np.broadcast_to(np.asarray(b, dtype=np.float64), tail).reshape(-1)
    z0_full = np.broadcast_to(np.asarray(z0, dtype=np.float64), tail).reshape(-1)
    cols = x.reshape(x.shape[0], -1)
    out = np.empty_like(cols)
    pairs = np.stack([a_full, b_full], axis=1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for j, (aj, bj) in enumerate(uniq):
        idx = np.flatnonzero(inverse == j)
        zi = (aj * z0_full[idx])[None, :]
        out[:, idx], _ = _lfilter()([bj], [1.0, -aj], cols[:, idx], axis=0, zi=zi)
    return out.reshape(x.shape)


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
