"""AdaGrad: the scale is the sum of all squared gradients so far."""

from __future__ import annotations

from typing import NamedTuple

from adasim import ops
from adasim.optimizers.base import Definition, ScaleLimit, check_eps, denominator, out


class AdagradHyper(NamedTuple):
    eps: float = 1e-10
    eps_mode: str = "outside"


class AdagradState(NamedTuple):
    v: float = 0.0


def adagrad_step(s: AdagradState, hp: AdagradHyper, g: float, t: int, alpha: float):
    """v_t = v_{t−1} + g_t²;  x ← Π(x − α_t·g_t/(√v_t + ε))  (ε inside the root with eps_mode="inside")."""
    v = g * g + s.v
    post = ops.recip(denominator(v, hp.eps, hp.eps_mode))
    return AdagradState(v), out(alpha * post * g, m=g, v=v, post=post)


def _check(hp: AdagradHyper) -> None:
    check_eps(hp.eps)


Adagrad = Definition(
    "adagrad",
    AdagradHyper,
    AdagradState,
    adagrad_step,
    rule="v_t = v_{t−1} + g_t²;  x ← Π(x − α_t g_t/(√v_t + ε))",
    source="Duchi, Hazan & Singer 2011 (defaults as PyTorch: lr 1e-2, ε 1e-10)",
    scale_limit=lambda hp: ScaleLimit("sum", eps=float(hp.eps), form=hp.eps_mode),
    validate=_check,
    conventions={"eps_mode": {k: v for k, v in {"outside": "α·g/(√v + ε)", "inside": "α·g/√(v + ε)"}.items()}},
    lr=1e-2,
)
"""AdaGrad: v_t = v_{t−1} + g_t²;  x ← Π(x − α_t g_t/(√v_t + ε)).

Examples
--------
v sums every g²: after g = 2 and −1, v_2 = 5.

>>> from adasim import Adagrad, Online, simulate
>>> run = simulate(Online(C=2.0), Adagrad(lr=0.1), steps=2, x0=0.5, engine="numpy")  # g_t = 2, −1, −1, 2, …
>>> run.trace.x[:, 0, 0].round(6).tolist()  # 0.5 − 0.1·2/2, then + 0.1/√5
[0.4, 0.444721]
"""
