"""The momentum kernel K(t, s) of docs/REFERENCE.md §3 as numbers: EMA coefficients, window weights, and
how many lags carry all but a given fraction of its mass."""

from __future__ import annotations

import math

import numpy as np

from adasim.optimizers.base import Kernel


def lane(value: object) -> np.ndarray:
    """A per-lane setting shaped to broadcast against (B, L, D) blocks."""
    arr = np.asarray(value, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def ema_coefficients(kernel: Kernel, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """m_t = a_t m_{t−1} + b_t u_t with a_t = β1·λ^(t−1), b_t = 1 − a_t, shaped (B, L or 1, 1)."""
    tc = np.asarray(t, dtype=np.float64)[:, None, None]
    a = lane(kernel.beta1) * np.power(lane(kernel.lam), tc - 1.0)
    return a, 1.0 - a


def window_weights(kernel: Kernel) -> np.ndarray:
    """ω_i = β1^i / Σ_{j<w} β1^j for i < w (0 beyond a lane's own w), shaped (W, L or 1, 1)."""
    w = np.asarray(kernel.window).reshape(-1)
    beta1 = np.asarray(kernel.beta1, dtype=np.float64).reshape(-1)
    n = max(w.size, beta1.size)
    w, beta1 = np.broadcast_to(w, (n,)), np.broadcast_to(beta1, (n,))
    i = np.arange(int(w.max()), dtype=np.float64)[:, None]
    raw = np.where(i < w[None, :], np.power(beta1[None, :], i), 0.0)
    return (raw / raw.sum(axis=0))[:, :, None]


def horizon(kernel: Kernel, tol: float) -> int:
    """Lags after which the kernel's remaining mass is below tol (for a constant β1)."""
    if kernel.kind == "identity":
        return 1
    if kernel.kind == "window":
        return int(np.max(kernel.window))
    beta1 = float(np.max(kernel.beta1))
    if beta1 == 0.0:
        return 1
    return math.ceil(math.log(tol) / math.log(beta1)) + 1


def limit_weights(kernel: Kernel, tol: float = 1e-15) -> np.ndarray:
    """K_i = K(s + i, s) as t → ∞ for a scalar kernel, i = 0, 1, ... until the mass left is < tol.
    With λ < 1, β1t → 0 and the kernel becomes the identity."""
    if kernel.kind == "identity" or (kernel.kind == "ema" and float(kernel.lam) < 1.0):
        return np.array([1.0])
    beta1 = float(kernel.beta1)
    if kernel.kind == "window":
        raw = beta1 ** np.arange(int(kernel.window), dtype=np.float64)
        return raw / raw.sum()
    n = horizon(kernel, tol)
    return (1.0 - beta1) * beta1 ** np.arange(n, dtype=np.float64)
