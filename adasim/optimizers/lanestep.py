"""The per-lane, per-step form of the optimizers, for the compiled path (adasim.compiled).

Each `*_step(s, p, g, t, alpha, aux, h)` takes one lane's state s (5 floats), its settings p
(6 floats), one gradient g at step t with step size alpha, the step's shared value aux and the
ring h of the lane's past gradients (for the optimizers that read them), and
returns (s, step, m, v, pre, post) as the optimizer's `update` does for that lane and step. The
operations are those of `update`, in the same order, so both give the same floats; the tests
hold every optimizer and convention to that. Plain Python on floats that numba compiles; without
numba the NumPy path runs instead.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from adasim.optimizers.base import TINY_POWER  # below it 1 − p is exactly 1

EPS_CODE = {"outside": 0.0, "inside": 1.0, "hat": 2.0}
CONVENTION_CODE = {"paper": 0.0, "pytorch": 1.0, "optax": 2.0}
STATE_SIZE = 5
PARAM_SIZE = 6


class CompiledForm(NamedTuple):
    """An optimizer's lane-step function, its settings (≤ 6 values, each a scalar or one per lane),
    its initial state (≤ 5 floats), `aux(t)`: a value per step shared by every lane (or None),
    whether each coordinate's scale is its own (otherwise the form holds for one coordinate only),
    and how many past gradients it reads from the ring h that the loop keeps for it."""

    step: Any
    params: tuple
    state: tuple = ()
    aux: Any = None
    coordinatewise: bool = True
    history: int = 0  # past gradients the step reads (h[(t − k) % len(h)] = g_{t−k}, 1 ≤ k ≤ len(h))


def power_step(p: float, beta: float) -> float:
    """p_t = β·p_{t−1}, 0 once below TINY_POWER (as base.powers)."""
    p = p * beta
    return 0.0 if p < TINY_POWER else p


def recip(x: float) -> float:
    """1/x, with 0 where x = 0 (as base.reciprocal)."""
    return 0.0 if x == 0.0 else 1.0 / x


def maximum(a: float, b: float) -> float:
    """max(a, b), NaN if either is NaN (as np.maximum)."""
    return a if (a > b or a != a) else b


def at_least(a: float, b: float) -> float:
    """max(a, b) for b never NaN: NaN when a is (as np.maximum), as one comparison."""
    return b if b > a else a


def at_most(a: float, b: float) -> float:
    """min(a, b) for b never NaN: NaN when a is (as np.minimum), as one comparison."""
    return b if b < a else a


def denom(v_hat: float, eps: float, mode: float) -> float:
    """√v̂ + ε, or √(v̂ + ε) for mode 1 (`inside`) (as base.denominator)."""
    return math.sqrt(v_hat + eps) if mode == 1.0 else math.sqrt(v_hat) + eps


def sgd_step(s: tuple, p: tuple, g: float, t: int, alpha: float, aux: float, h: Any) -> tuple:
    """x ← x − α_t g_t."""
    return s, alpha * g, g, math.nan, 1.0, 1.0


def momentum_step(s: tuple, p: tuple, g: float, t: int, alpha: float, aux: float, h: Any) -> tuple:
    """m_t = β1 m + (1−β1) g;  step α_t m_t."""
    beta1 = p[0]
    m = (1.0 - beta1) * g + beta1 * s[0]
    return (m, s[1], s[2], s[3], s[4]), alpha * m, m, math.nan, 1.0, 1.0


def adagrad_step(s: tuple, p: tuple, g: float, t: int, alpha: float, aux: float, h: Any) -> tuple:
    """v_t = v + g²;  step α_t g/(√v + ε)."""
    v = 1.0 * (g * g) + s[1]
    post = recip(denom(v, p[2], p[3]))
    return (s[0], v, s[2], s[3], s[4]), alpha * post * g, g, v, 1.0, post


def adam_step(s: tuple, p: tuple, g: float, t: int, alpha: float, aux: float, h: Any) -> tuple:
    """m, v EMAs;  step α_t P_t m_t with P_t of adam_post (p: β1, β2, ε, ε mode, correction)."""
    beta1, beta2, eps, mode, correct = p[0], p[1], p[2], p[3], p[4]
    m = (1.0 - beta1) * g + beta1 * s[0]
    v = (1.0 - beta2) * (g * g) + beta2 * s[1]
    p1 = power_step(s[2], beta1)
    p2 = power_step(s[3], beta2)
    if correct == 0.0:
        post = recip(denom(v, eps, mode))
    elif mode == 2.0:
        post = math.sqrt(1.0 - p2) * recip((1.0 - p1) * (math.sqrt(v) + eps))
    else:
        post = recip((1.0 - p1) * denom(v / (1.0 - p2), eps, mode))
    return (m, v, p1, p2, s[4]), alpha * post * m, m, v, 1.0, post


def amsgrad_step(s: tuple, p: tuple, g: float, t: int, alpha: float, aux: float, h: Any) -> tuple:
    """m, v EMAs;  v̂ = max(v̂, v) (p: β1, β2, ε, ε mode, convention: 0 paper, 1 pytorch, 2 optax)."""
    beta1, beta2, eps, mode, convention = p[0], p[1], p[2], p[3], p[4]
    m = (1.0 - beta1) * g + beta1 * s[0]
    v = (1.0 - beta2) * (g * g) + beta2 * s[1]
    p1, p2 = s[3], s[4]
    if convention == 0.0:
        v_max = maximum(s[2], v)
        post = recip(denom(v_max, eps, mode))
    else:
        p1 = power_step(p1, beta1)
        p2 = power_step(p2, beta2)
        c1, c2 = 1.0 - p1, 1.0 - p2
        if convention == 1.0:
            v_max = maximum(s[2], v)
            v_hat = v_max / c2
        else:
            v_max = maximum(s[2], v / c2)
            v_hat = v_max
        post = recip(c1 * denom(v_hat, eps, mode))
    return (m, v, v_max, p1, p2), alpha * post * m, m, v_max, 1.0, post


def adopt_step(s: tuple, p: tuple, g: float, t: int, alpha: float, aux: float, h: Any) -> tuple:
    """ĝ = clip(g/max(√v_{t−1}, ε), ±aux) (aux = ∞ without the clip), m EMA of ĝ, step α_t m;
    at t = 1 only v = g² (p: β1, β2, ε)."""
    beta1, beta2, eps = p[0], p[1], p[2]
    v_prev = s[1]
    if t == 1:
        v = g * g
        g_hat = 0.0
        pre = 0.0
    else:
        v = (1.0 - beta2) * (g * g) + beta2 * v_prev
        pre = 1.0 / at_least(math.sqrt(v_prev), eps)
        g_hat = g * pre
        if aux != math.inf:
            g_hat = at_most(at_least(g_hat, -aux), aux)
            if g != 0.0:
                pre = g_hat / g
    m = (1.0 - beta1) * g_hat + beta1 * s[0]
    return (m, v, s[2], s[3], s[4]), alpha * m, m, v_prev, pre, 1.0


def adamnc_step(s: tuple, p: tuple, g: float, t: int, alpha: float, aux: float, h: Any) -> tuple:
    """m EMA (λ = 1);  v_t = Σ_{s≤t} g_s² / t;  step α_t m/(√v + ε) (p: β1, –, ε, ε mode)."""
    beta1, eps, mode = p[0], p[2], p[3]
    m = (1.0 - beta1) * g + beta1 * s[0]
    total = 1.0 * (g * g) + s[1]
    v = total / t
    post = recip(denom(v, eps, mode))
    return (m, total, s[2], s[3], s[4]), alpha * post * m, m, v, 1.0, post


def adashift_step(s: tuple, p: tuple, g: float, t: int, alpha: float, aux: float, h: Any) -> tuple:
    """m = Σ_{i<w} β1^i g_{t−i} / Σ β1^i;  v = β2 v + (1−β2) g²_{t−n};  step α_t m/(√(v/(1−β2^(t−n))) + ε)
    once t > n, else 0 (p: β1, β2, ε, ε mode, n, w; h holds g_{t−1}, …, g_{t−len(h)})."""
    beta1, beta2, eps, mode = p[0], p[1], p[2], p[3]
    n, w = int(p[4]), int(p[5])
    depth = h.shape[0]
    shifted = g if n == 0 else h[(t - n) % depth]
    v = (1.0 - beta2) * (shifted * shifted) + beta2 * s[1]
    m = 0.0
    total = 0.0
    power = 1.0
    for i in range(w):
        m = m + power * (g if i == 0 else h[(t - i) % depth])
        total = total + power
        power = power * beta1
    m = m / total
    h[t % depth] = g
    p2 = s[2]
    post = 0.0
    if t > n:
        p2 = power_step(p2, beta2)
        post = recip(denom(v / (1.0 - p2), eps, mode))
    return (s[0], v, p2, s[3], s[4]), alpha * post * m, m, v, 1.0, post


def lane_values(values: tuple, lanes: int) -> np.ndarray:
    """Settings as a (6, L) float array (unused rows 0)."""
    out = np.zeros((PARAM_SIZE, lanes))
    for i, value in enumerate(values):
        out[i] = np.broadcast_to(np.asarray(value, dtype=np.float64), (lanes,))
    return out
