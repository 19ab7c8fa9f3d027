"""Schedule-free AdamW (Defazio et al., NeurIPS 2024): no schedule, an average of the iterates instead.

The gradient is taken at y_t = (1−β1) z_t + β1 x_t, where z takes RMSProp-like steps
(z ← z − α_t g/(√v̂ + ε)) and x is the weighted running average of z. adasim's iterate is the
point the gradient is taken at, y (the parameters PyTorch holds in train mode); z is state, and
x = (y − (1−β1) z)/β1 follows from both. Its scale is RMSProp's v_t, which contains g_t², so the
schedule-free average inherits RMSProp's failure on Reddi's problems.
"""

from __future__ import annotations

from collections import namedtuple
from typing import NamedTuple

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.adam import Corrections, corrections
from adasim.optimizers.base import Definition, check_moments, no_kernel, out


class ScheduleFreeHyper(NamedTuple):
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    r: float = 0.0
    weight_lr_power: float = 2.0


class ScheduleFreeState(NamedTuple):
    z: float = 0.0
    v: float = 0.0
    lr_max: float = 0.0
    weight_sum: float = 0.0


# Adam's bias corrections (Corrections' fields) and tr = t^r: the same for every lane that shares
# β1, β2 and r (ticked once per step, not per cell)
ScheduleFreeClock = namedtuple("ScheduleFreeClock", [*Corrections._fields, "tr"], defaults=(1.0,) * 7, module=__name__)


def sf_clock(c: ScheduleFreeClock, hp: ScheduleFreeHyper, t: int) -> ScheduleFreeClock:
    b = corrections(Corrections(c.p1, c.p2, c.a1, c.r2, c.q2, c.k), hp, t)
    return ScheduleFreeClock(b.p1, b.p2, b.a1, b.r2, b.q2, b.k, ops.pow(float(t), hp.r))


def sf_adamw_step(s: ScheduleFreeState, hp: ScheduleFreeHyper, g, t: int, alpha, clock: ScheduleFreeClock, x):
    """z_1 = y_1;  v_t = β2 v + (1−β2) g_t²;  ĝ = g_t/(√(v_t/(1−β2^t)) + ε) + λ y_t;
    γ_t = max_{i≤t} α_i;  w_t = t^r γ_t^p;  c_t = w_t/Σ_{i≤t} w_i;
    y ← Π(y + c_t (z − y) + α_t (β1 (1 − c_t) − 1) ĝ);  z ← z − α_t ĝ
    (schedulefree 1.4's AdamWScheduleFree with warmup_steps = 0: a warm-up is adasim's schedule)."""
    z = ops.where(t == 1, x, s.z)
    v = (1.0 - hp.beta2) * (g * g) + hp.beta2 * s.v
    post = ops.recip(ops.sqrt(v * clock.q2) + hp.eps)
    gn = g * post + hp.weight_decay * x
    lr_max = ops.maximum(alpha, s.lr_max)
    weight = clock.tr * ops.pow(lr_max, hp.weight_lr_power)
    weight_sum = s.weight_sum + weight
    c = weight / weight_sum
    y = x + c * (z - x) + alpha * (hp.beta1 * (1.0 - c) - 1.0) * gn
    return ScheduleFreeState(z - alpha * gn, v, lr_max, weight_sum), out(x - y, m=gn, v=v, post=post)


def _check(hp: ScheduleFreeHyper) -> None:
    check_moments(hp)
    check_range("weight_decay", hp.weight_decay, 0.0)
    check_range("r", hp.r, 0.0)
    check_range("weight_lr_power", hp.weight_lr_power, 0.0)


ScheduleFreeAdamW = Definition(
    "sf-adamw",
    ScheduleFreeHyper,
    ScheduleFreeState,
    sf_adamw_step,
    rule="z ← z − α_t ĝ, ĝ = g/(√v̂ + ε);  x = weighted average of z;  gradient at y = (1−β1) z + β1 x",
    source="Defazio et al. 2024 (NeurIPS), schedulefree 1.4 AdamWScheduleFree (lr 2.5e-3 in optax's alias)",
    clock=ScheduleFreeClock,
    tick=sf_clock,
    kernel=no_kernel,
    validate=_check,
    lr=2.5e-3,
)
"""Schedule-free AdamW: z ← z − α_t ĝ with ĝ = g/(√v̂ + ε);  x = a weighted average of z;  the gradient is taken
at y = (1−β1) z + β1 x (Defazio et al. 2024).

Examples
--------
At step 1 the average is z_1 = z_0 − α·g_1/√v̂_1 = 0.5 − 0.1.

>>> from adasim import ScheduleFreeAdamW, Online, simulate
>>> run = simulate(Online(C=2.0), ScheduleFreeAdamW(lr=0.1), steps=1, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> round(float(run.final_x[0, 0]), 6)  # 0.5 − 0.1·2/2
0.4
"""
