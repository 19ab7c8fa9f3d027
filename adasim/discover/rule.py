"""The scale rule of `adasim discover`: one definition whose genes — every numeric hyper-parameter,
one value per lane — spell a rule for v_t, for the order in which the scale and the momentum act,
and for the momentum's window (docs/REFERENCE.md §9, the grammar and its typing rule).

Per step t (1-based), with g_{t−i} = 0 before step 1 and ε = 0 by default:

    u_t   = pool_{0 ≤ i < r} φ(g²_{t−n−i})                       (shift n, span r, pool mean | max)
    v_t   = β2 v + (1−β2) u_t | max(β2 v, u_t) | mean of the u's  (accumulator ema | max-ema | mean),
            updated only once u_t exists (t > n); v_init: 0, bias-corrected by 1/(1−β2^updates),
            or seeded with the first u
    v̂_t   = v_t, or max_{s≤t} v_s (keep_max, AMSGrad's); the scale S_t = 1/(√v̂ + ε) is refreshed
            only at t ≡ 1 (mod k) and held in between (refresh k, Shampoo's staleness)
    order adam : m_t = Σ_{i<w} β1^i g_{t−i} + τ β1^w Σ_{j≥0} β1^j g_{t−w−j}, divided by the weights
                 of the gradients seen (m_correct) or by all of them;  x ← Π(x − α_t S_t m_t)
    order adopt: ĝ_t = S_t g_t (clipped to ±(t−1)^(1/4) when clip); m_t the same kernel on ĝ (w = 0);
                 x ← Π(x − α_t m_t)

**Typing.** Every production of v is a non-negative combination or a maximum of squared
gradients, so v is homogeneous of degree 2 in the gradients: S is of degree −1, m of degree 1, and
every step of every rule is scale-invariant at ε = 0 (a test scales the gradients by 10^±6).

Adam, RMSProp, Reddi's Adam, AMSGrad, AdamNC's v, AdaShift (EMA and max rules, φ), ADOPT,
Adam-mini's block mean and Shampoo's stale 1 × 1 scale are points of this grammar (grammar.BUILT_INS;
tests hold each to the built-in definition's iterates).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, check_range
from adasim.optimizers.base import PHI, TINY_POWER, Definition, Kernel, ScaleLimit, out

# the choice genes: small whole numbers, one per lane (the names are what reports and files show)
CHOICES: dict[str, tuple[str, ...]] = {
    "order": ("adam", "adopt"),
    "pool": ("mean", "max"),
    "accumulator": ("ema", "max-ema", "mean"),
    "v_init": ("zero", "corrected", "seeded"),
    "keep_max": ("no", "yes"),
    "clip": ("no", "yes"),
    "m_correct": ("no", "yes"),
}


class ScaleRuleHyper(NamedTuple):
    beta1: float = 0.9
    window: int = 0  # w: the most recent gradients in m with weights β1^i
    tail: float = 1.0  # τ: the weight of the older gradients (1: the EMA goes on, 0: dropped)
    m_correct: int = 1
    order: int = 0
    clip: int = 0
    shift: int = 0  # n
    span: int = 1  # r
    pool: int = 0
    accumulator: int = 0
    beta2: float = 0.999
    v_init: int = 1
    keep_max: int = 0
    refresh: int = 1  # k
    eps: float = 0.0
    phi: str = "identity"


class ScaleRuleState(NamedTuple):
    E: float = 0.0  # Σ_j β1^j (gradient or ĝ)_{t−w−j}
    Z: float = 0.0  # Σ_j β1^j over the gradients in E that exist
    v: float = 0.0
    count: float = 0.0  # updates of v so far
    p2: float = 1.0  # β2^count, for the bias correction
    v_max: float = 0.0
    scale: float = 0.0  # S, as last refreshed


def scale_rule_step(s: ScaleRuleState, hp: ScaleRuleHyper, g, t: int, alpha, past, blocks=None):
    """The rule of the module text, for one step."""
    n, r = hp.shift, hp.span
    u_sum = 0.0 * g
    u_max = 0.0 * g
    for i in range(ops.most(r)):
        k = n + i
        gi = ops.where(k == 0, g, ops.lag(past, k, t))
        sq = ops.where(i < r, ops.reduce(gi * gi, hp.phi, blocks), 0.0)
        u_sum = u_sum + sq
        u_max = ops.maximum(u_max, sq)
    u = ops.where(hp.pool == 1, u_max, u_sum / r)
    due = t > n
    first = s.count == 0.0
    ema = ops.where((hp.v_init == 2) & first, u, hp.beta2 * s.v + (1.0 - hp.beta2) * u)
    running_max = ops.maximum(hp.beta2 * s.v, u)
    mean = s.v + (u - s.v) / (s.count + 1.0)
    v_new = ops.where(hp.accumulator == 0, ema, ops.where(hp.accumulator == 1, running_max, mean))
    v = ops.where(due, v_new, s.v)
    q = s.p2 * hp.beta2
    p2 = ops.where(due, ops.where(q < TINY_POWER, 0.0, q), s.p2)
    count = s.count + ops.where(due, 1.0, 0.0)
    corrected = (hp.v_init == 1) & (hp.accumulator == 0)
    v_hat = v * ops.where(corrected, ops.recip(1.0 - p2), 1.0)
    v_max = ops.maximum(s.v_max, v_hat)
    fresh = ops.recip(ops.sqrt(ops.where(hp.keep_max == 1, v_max, v_hat)) + hp.eps)
    scale = ops.where((t - 1) % hp.refresh == 0, fresh, s.scale)

    adopt = hp.order == 1
    g_hat = g * ops.where(adopt, scale, 1.0)
    bound = ops.sqrt(ops.sqrt(ops.maximum(t - 1.0, 0.0)))
    g_hat = ops.where(adopt & (hp.clip == 1), ops.clip(g_hat, -bound, bound), g_hat)
    pre = ops.where(adopt, ops.where(g != 0.0, g_hat / ops.where(g != 0.0, g, 1.0), scale), 1.0)
    b1 = hp.beta1
    window = 0.0 * g
    seen = 0.0
    full = 0.0
    weight = 1.0
    bw = 1.0  # β1^w
    for i in range(ops.most(hp.window)):
        inside = i < hp.window
        w_i = ops.where(inside, weight, 0.0)
        window = window + w_i * ops.where(i == 0, g, ops.lag(past, i, t))
        full = full + w_i
        seen = seen + ops.where(i < t, w_i, 0.0)
        weight = weight * b1
        bw = ops.where(inside, bw * b1, bw)
    older = t > hp.window
    E = b1 * s.E + ops.where(older, ops.where(hp.window == 0, g_hat, ops.lag(past, hp.window, t)), 0.0)
    Z = b1 * s.Z + ops.where(older, 1.0, 0.0)
    tail = hp.tail * bw
    norm = ops.where(hp.m_correct == 1, seen + tail * Z, full + tail / (1.0 - b1))
    m = (window + tail * E) / norm
    post = ops.where(adopt, 1.0, scale)
    state = ScaleRuleState(E, Z, v, count, p2, v_max, scale)
    return state, out(alpha * post * m, m=m, v=v_hat, pre=pre, post=post)


def _choice(name: str, value) -> None:
    check_range(name, value, 0, len(CHOICES[name]) - 1, integer=True)


def validate(hp: ScaleRuleHyper) -> None:
    """Every gene in its range, and the grammar's two constraints: the adopt order has no window
    (its m is the kernel over ĝ, which the ring of raw gradients does not hold), and m has weight
    somewhere (a window or a tail)."""
    check_range("beta1", hp.beta1, 0.0, 1.0, hi_open=True)
    check_range("beta2", hp.beta2, 0.0, 1.0, hi_open=True)
    check_range("tail", hp.tail, 0.0, 1.0)
    check_range("eps", hp.eps, 0.0)
    w = check_range("window", hp.window, 0, 64, integer=True)
    check_range("shift", hp.shift, 0, 1024, integer=True)
    check_range("span", hp.span, 1, 64, integer=True)
    check_range("refresh", hp.refresh, 1, 10**6, integer=True)
    for name in CHOICES:
        _choice(name, getattr(hp, name))
    order, tail = np.asarray(hp.order), np.asarray(hp.tail)
    if np.any((order == 1) & (w != 0)):
        raise AdasimError("scale rule: the adopt order takes no window (window = 0: its m is the EMA of ĝ)")
    if np.any((w == 0) & (tail == 0.0)):
        raise AdasimError("scale rule: m needs a window (w ≥ 1) or a tail (τ > 0)")


def history(hp: ScaleRuleHyper) -> int:
    return max(ops.most(hp.shift) + ops.most(hp.span) - 1, ops.most(hp.window), 1)


def kernel(hp: ScaleRuleHyper) -> Kernel:
    """EMA (no window), AdaShift's window (no tail), or `none` for a window with a tail."""
    if int(hp.window) == 0:
        return Kernel("ema", beta1=hp.beta1)
    if float(hp.tail) == 0.0:
        return Kernel("window", beta1=hp.beta1, window=hp.window)
    return Kernel("none")


def scale_limit(hp: ScaleRuleHyper) -> ScaleLimit:
    """The closed forms' structure (docs/REFERENCE.md §3) where the rule has one: an EMA of the
    squared gradient n steps back (post-scale in the adam order, pre-scale in the adopt order),
    its running maximum, or the mean; `unknown` for spans, pools, max-EMA rules and stale scales."""
    plain = int(hp.span) == 1 and int(hp.refresh) == 1 and kernel(hp).kind != "none"
    if not plain:
        return ScaleLimit("unknown")
    acc, keep = int(hp.accumulator), int(hp.keep_max) == 1
    where = "pre" if int(hp.order) == 1 else "post"
    common = {"beta2": float(hp.beta2), "shift": int(hp.shift), "phi": hp.phi, "eps": float(hp.eps), "where": where,
              "form": "max" if where == "pre" else "outside"}  # fmt: skip
    if acc == 0 and not keep:
        return ScaleLimit("ema", **common)
    if acc == 0 and keep and where == "post":
        return ScaleLimit("max-ema", corrected_max=int(hp.v_init) == 1, **common)
    if acc == 2 and where == "post":
        return ScaleLimit("mean", **common)
    return ScaleLimit("unknown")


ScaleRule = Definition(
    "scale-rule",
    ScaleRuleHyper,
    ScaleRuleState,
    scale_rule_step,
    rule="u_t = pool φ(g²_{t−n…t−n−r+1});  v_t = accumulate(u);  S_t = 1/√v̂ (refreshed every k);  "
    "x ← Π(x − α_t S_t m_t) or, in the adopt order, m over S_s g_s",
    source="adasim discover's grammar (docs/REFERENCE.md §9)",
    history=history,
    coupled=lambda hp: hp.phi != "identity",
    kernel=kernel,
    scale_limit=scale_limit,
    validate=validate,
    conventions={"phi": PHI},
    lr=1e-3,
)
