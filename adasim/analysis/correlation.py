"""The correlation between g_t and the v_t that scales it (AdaShift's diagnosis), measured on a
run and, for i.i.d. gradients in the stationary limit, in closed form.

For an EMA statistic v_t = β2 V + (1−β2) g_t² with V independent of g_t (Adam, shift 0):
Cov(g², v) = (1−β2) Var(g²) and Var(v) = (1−β2)² Var(g²)/(1−β2²), so Pearson(g², v) = √(1−β2²).
With a shift n ≥ 1 (AdaShift) or v_{t−1} (ADOPT), v is independent of g_t: the correlation is 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from adasim.analysis.drift import is_iid
from adasim.engine import iterate
from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem


def fisher_ci(r: float, n: int, z: float = 1.96) -> list[float]:
    """Fisher's z interval for a Pearson correlation of n pairs. For i.i.d. g_t the products of
    centred pairs are uncorrelated in time, so n is the number of pairs even though v is not i.i.d."""
    if n < 4 or not math.isfinite(r):
        return [float("nan"), float("nan")]
    r = min(max(r, -0.999999999), 0.999999999)
    zr = math.atanh(r)
    half = z / math.sqrt(n - 3)
    return [math.tanh(zr - half), math.tanh(zr + half)]


def analytic_pearson_g2_v(problem: Problem, optimizer: Optimizer) -> float | None:
    """√(1−β2²) for an unshifted EMA, 0 for a shifted one; None where there is no such closed form."""
    if not is_iid(problem) or optimizer.lanes() != 1:
        return None
    limit = optimizer.scale_limit()
    if limit.statistic != "ema":
        return None
    if limit.where == "pre" or limit.shift >= 1:
        return 0.0
    return math.sqrt(1.0 - limit.beta2**2)


@dataclass(frozen=True)
class Correlation:
    optimizer: str
    shift: int | None
    pairs: int
    pearson_g2_v: float
    pearson_g2_v_ci: list[float]
    spearman_g2_v: float
    pearson_g_v: float
    pearson_g_v_ci: list[float]
    pearson_g_inv_sqrt_v: float
    pearson_g_inv_sqrt_v_ci: list[float]
    spearman_g_inv_sqrt_v: float
    analytic_pearson_g2_v: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def shift_of(optimizer: Optimizer) -> int | None:
    """How many steps back the scale's newest gradient is (Adam 0, AdaShift n, ADOPT 1)."""
    limit = optimizer.scale_limit()
    if limit.statistic not in ("ema", "max-ema"):
        return None
    return int(limit.shift)


def measure_correlation(
    problem: Problem,
    optimizer: Optimizer,
    steps: int,
    seeds: Any = 0,
    x0: Any = 0.0,
    *,
    burn_in: int | None = None,
    max_pairs: int = 1_000_000,
    block: int = 4096,
) -> Correlation:
    """Pearson and Spearman correlations of g_t and g_t² with v_t and 1/√v_t over the steps after
    burn-in (pooled over lanes), with Fisher-z intervals and the closed form where one exists."""
    if burn_in is None:
        beta2 = float(np.max(getattr(optimizer, "beta2", 0.0)))
        burn_in = min(steps // 2, math.ceil(math.log(1e-6) / math.log(beta2)) if beta2 > 0 else 0)
    if burn_in >= steps:
        raise AdasimError(f"burn-in ({burn_in}) must be below the number of steps ({steps})")
    lanes_hint = max(1, np.size(seeds))
    every = max(1, (steps - burn_in) * lanes_hint // max_pairs)
    gs, vs = [], []
    for blk in iterate(problem, optimizer, steps, seeds, x0, block=block):
        use = np.flatnonzero((blk.t > burn_in) & ((blk.t - burn_in) % every == 0))
        if use.size:
            gs.append(blk.g[use, :, 0].ravel())
            vs.append(np.broadcast_to(blk.update.v, blk.g.shape)[use, :, 0].ravel())
    g = np.concatenate(gs)
    v = np.concatenate(vs)
    ok = np.isfinite(v) & (v > 0) & np.isfinite(g)
    if ok.sum() < 10:
        raise AdasimError(f"{optimizer.name}: no second-moment statistic v to correlate with")
    g, v = g[ok], v[ok]
    n = int(g.size)
    inv = 1.0 / np.sqrt(v)
    p_g2v = _pearson(g * g, v)
    p_gv = _pearson(g, v)
    p_ginv = _pearson(g, inv)
    return Correlation(
        optimizer=optimizer.name,
        shift=shift_of(optimizer),
        pairs=n,
        pearson_g2_v=p_g2v,
        pearson_g2_v_ci=fisher_ci(p_g2v, n),
        spearman_g2_v=_spearman(g * g, v),
        pearson_g_v=p_gv,
        pearson_g_v_ci=fisher_ci(p_gv, n),
        pearson_g_inv_sqrt_v=p_ginv,
        pearson_g_inv_sqrt_v_ci=fisher_ci(p_ginv, n),
        spearman_g_inv_sqrt_v=_spearman(g, inv),
        analytic_pearson_g2_v=analytic_pearson_g2_v(problem, optimizer),
    )
