"""AdaShift (Zhou et al., ICLR 2019), as in the authors' TensorFlow code: v_t is built from the
gradient n steps back, so it is independent of every gradient it scales."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, check_range
from adasim.optimizers.base import PHI, Definition, Kernel, ScaleLimit, check_beta, check_eps, denominator, out, power

V_RULES = {
    "ema": "v_t = β2 v_{t−1} + (1−β2) φ(g²_{t−n}), bias-corrected by 1 − β2^(t−n) (the paper)",
    "max": "v_t = max(β2 v_{t−1}, φ(g²_{t−n})), no correction (the authors' later code)",
}
EPS_MODES = {"outside": "α·m/(√v̂ + ε)", "inside": "α·m/√(v̂ + ε) (the authors' script)"}


class AdaShiftHyper(NamedTuple):
    n: int = 10
    window: int | None = None
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eps_mode: str = "outside"
    phi: str = "max"
    v_rule: str = "ema"


class AdaShiftState(NamedTuple):
    v: float = 0.0


class ShiftedCorrection(NamedTuple):
    """β2^(t−n) once t > n (1 before), and 1/(1−β2^(t−n)), 1/√(1−β2^(t−n)) (0 while t ≤ n)."""

    p2: float = 1.0
    q2: float = 0.0
    r2: float = 0.0


def shifted_correction(c: ShiftedCorrection, hp: AdaShiftHyper, t: int) -> ShiftedCorrection:
    p2 = ops.where(t > hp.n, power(c.p2, hp.beta2), c.p2)
    c2 = 1.0 - p2
    return ShiftedCorrection(p2, ops.recip(c2), ops.recip(ops.sqrt(c2)))


def adashift_step(s: AdaShiftState, hp: AdaShiftHyper, g, t: int, alpha, clock: ShiftedCorrection, past, blocks=None):
    """m_t = Σ_{i<w} β1^i g_{t−i} / Σ_{i<w} β1^i;  v_t = β2 v_{t−1} + (1−β2) φ(g_{t−n}²);
    x ← Π(x − α_t m_t/(√(v_t/(1−β2^(t−n))) + ε)), no update while t ≤ n. The window w defaults
    to n (to 1 for n = 0, which is Adam's own v); the max rule is v_t = max(β2 v_{t−1}, φ(g²_{t−n}))."""
    shifted = ops.where(hp.n == 0, g, ops.lag(past, hp.n, t))
    u = ops.reduce(shifted * shifted, hp.phi, blocks)
    v = ops.maximum(hp.beta2 * s.v, u) if hp.v_rule == "max" else (1.0 - hp.beta2) * u + hp.beta2 * s.v
    m = g  # the window's β1-weighted average, β1^i as a running product
    total = 1.0
    weight = 1.0
    for i in range(1, ops.most(hp.window)):
        weight = weight * hp.beta1
        w_i = ops.where(i < hp.window, weight, 0.0)
        m = m + w_i * ops.lag(past, i, t)
        total = total + w_i
    m = m / total
    if hp.v_rule == "max":
        scale = ops.recip(denominator(v, hp.eps, hp.eps_mode))
    elif hp.eps_mode == "inside":
        scale = ops.recip(ops.sqrt(v * clock.q2 + hp.eps))
    else:
        scale = ops.recip(ops.sqrt(v) * clock.r2 + hp.eps)
    post = ops.where(t > hp.n, scale, 0.0)
    return AdaShiftState(v), out(alpha * post * m, m=m, v=v, post=post)


def _prepare(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("window") is None and values.get("n") is not None:
        n = values["n"]
        values["window"] = np.maximum(np.asarray(n), 1) if np.ndim(n) else max(int(n), 1)
    return values


def _check(hp: AdaShiftHyper) -> None:
    n = check_range("shift n", hp.n, 0, integer=True)
    w = check_range("window", hp.window, 1, integer=True)
    check_beta("beta1", hp.beta1)
    check_beta("beta2", hp.beta2)
    check_eps(hp.eps)
    if hp.v_rule == "max" and np.any(np.asarray(hp.beta2) == 0.0):
        raise AdasimError("the max rule needs β2 > 0")
    if np.any(np.broadcast_to(w, np.broadcast_shapes(w.shape, n.shape)) > np.maximum(n, 1)):
        raise AdasimError("window must not exceed the shift n (the gradients in m_t must not be in v_t)")


def _limit(hp: AdaShiftHyper) -> ScaleLimit:
    if hp.v_rule == "max":  # no closed form for the max rule: analyses measure instead
        return ScaleLimit("unknown")
    return ScaleLimit("ema", beta2=float(hp.beta2), shift=int(hp.n), phi=hp.phi, eps=float(hp.eps), form=hp.eps_mode)


AdaShift = Definition(
    "adashift",
    AdaShiftHyper,
    AdaShiftState,
    adashift_step,
    rule="m_t = window average of g_{t−w+1..t};  v_t = β2 v + (1−β2) φ(g_{t−n}²);  x ← Π(x − α_t m_t/(√v̂_t + ε))",
    source="Zhou et al. 2019 (ICLR), the authors' TensorFlow code",
    clock=ShiftedCorrection,
    tick=shifted_correction,
    history=lambda hp: max(ops.most(hp.n), ops.most(hp.window) - 1, 1),
    coupled=lambda hp: hp.phi != "identity",
    kernel=lambda hp: Kernel("window", beta1=hp.beta1, window=hp.window),
    scale_limit=_limit,
    validate=_check,
    prepare=_prepare,
    conventions={"eps_mode": EPS_MODES, "phi": PHI, "v_rule": V_RULES},
)
"""AdaShift: m_t = the window average of g_{t−w+1..t};  v_t = β2 v_{t−1} + (1−β2) φ(g_{t−n}²);
x ← Π(x − α_t m_t/(√v̂_t + ε)) (Zhou et al. 2019): v sees the gradients n steps late.

Examples
--------
With n = 1 there is no v at step 1 (x stays); step 2 divides g_2 = −1 by √v̂ built from g_1² = 4 only.

>>> from adasim import AdaShift, Online, simulate
>>> run = simulate(Online(C=2.0), AdaShift(lr=0.1, n=1), steps=2, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()  # 0.5 + 0.1·1/2
[0.5, 0.55]
"""
