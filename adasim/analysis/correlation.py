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

from adasim.analysis.kernel import horizon
from adasim.arguments import takes_records
from adasim.display import Shown
from adasim.engine import iterate
from adasim.errors import AdasimError, NumericalError
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem
from adasim.settings import RunSettings, run_settings


def fisher_ci(r: float, n: int, z: float = 1.96) -> list[float]:
    """Fisher's z interval for a Pearson correlation of n pairs. For i.i.d. g_t the products of
    centred pairs are uncorrelated in time, so n is the number of pairs even though v is not i.i.d."""
    if n < 4 or not math.isfinite(r):
        return [float("nan"), float("nan")]
    r = min(max(r, -0.999999999), 0.999999999)
    zr = math.atanh(r)
    half = z / math.sqrt(n - 3)
    return [math.tanh(zr - half), math.tanh(zr + half)]


@takes_records
def analytic_pearson_g2_v(problem: Problem, optimizer: Optimizer) -> float | None:
    """√(1−β2²) for an unshifted EMA, 0 for a shifted one; None where there is no such closed form."""
    if problem.law() is None or optimizer.lanes() != 1:
        return None
    limit = optimizer.scale_limit()
    if limit.statistic != "ema":
        return None
    if limit.where == "pre" or limit.shift >= 1:
        return 0.0
    return math.sqrt(1.0 - limit.beta2**2)


@dataclass(frozen=True, repr=False)
class Correlation(Shown):
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
    lag_pearson_g2_v: list[float] | None = None  # Pearson(g²_{t−i}, v_t), i = 0, 1, ... over m_t's span
    depends_on_lags: list[int] | None = None  # lags whose 95 % interval excludes 0 (i.i.d. problems only)
    flag: str | None = None
    per_block: list[dict[str, Any]] | None = None  # Pearson(g², v) within each block of a layered problem
    n: int | list[int] | None = None  # the shift hyper-parameter n this run used; None: the optimizer has none

    def setting(self) -> str:
        """What the run's scale was: "n = 2" for an optimizer with a shift n, else its own rule
        (with how far back its newest gradient is, where the closed form knows it)."""
        if self.n is not None:
            return f"n = {self.n}"
        return "its own rule" if self.shift is None else f"{self.shift} (its own rule)"

    def flag_line(self) -> str | None:
        """The flag as a line that names the optimizer, and the n used when it has one."""
        if self.flag is None:
            return None
        return f"{self.optimizer} (n = {self.n}): {self.flag}" if self.n is not None else f"{self.optimizer}: {self.flag}"

    def _shown(self) -> tuple[str, dict[str, Any]]:
        return f"Correlation {self.optimizer}", {"shift": self.shift, "pearson(g², v)": self.pearson_g2_v,
                                                 "95 % CI": self.pearson_g2_v_ci, "closed form": self.analytic_pearson_g2_v,
                                                 "pairs": self.pairs}  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    from scipy import stats  # imported here: scipy.stats costs ~1 s, which `adasim --help` should not pay

    return float(stats.spearmanr(x, y).statistic)


def shift_n(optimizer: Optimizer) -> int | list[int] | None:
    """The optimizer's shift hyper-parameter n (per lane, a list), or None when its definition has none."""
    if not optimizer.definition.accepts("n"):
        return None
    n = np.asarray(optimizer.hp.n)
    return int(n) if n.ndim == 0 else [int(x) for x in n]


def shift_of(optimizer: Optimizer) -> int | None:
    """How many steps back the scale's newest gradient is (Adam 0, AdaShift n, ADOPT 1); for a
    rule the closed forms do not know, its shift n if it has one scalar n, else None."""
    limit = optimizer.scale_limit()
    if limit.statistic not in ("ema", "max-ema"):
        n = shift_n(optimizer)
        return n if isinstance(n, int) else None
    return int(limit.shift)


@takes_records
def measure_correlation(
    problem: Problem,
    optimizer: Optimizer,
    steps: int | None = None,
    seeds: Any = None,
    x0: Any = None,
    *,
    warmup: int | None = None,
    run: RunSettings | None = None,
    burn_in: int | None = None,
    max_pairs: int = 1_000_000,
    block: int | None = None,
    engine: str | None = None,
) -> Correlation:
    """Pearson and Spearman correlations of g_t and g_t² with v_t and 1/√v_t over the steps after
    burn-in (pooled over lanes), with Fisher-z intervals and the closed form where one exists. The
    run settings come as `run` or as steps, seeds, x0, warmup and engine (as in `simulate`)."""
    run = run_settings(run, steps=steps, seeds=seeds, x0=x0, warmup=warmup, engine=engine).resolve()
    steps = int(run.steps)  # type: ignore[arg-type]
    if burn_in is None:
        beta2 = float(np.max(getattr(optimizer, "beta2", 0.0)))
        burn_in = min(steps // 2, math.ceil(math.log(1e-6) / math.log(beta2)) if beta2 > 0 else 0)
    if burn_in >= steps:
        raise AdasimError(f"burn-in ({burn_in}) must be below the number of steps ({steps})")
    lanes_hint = max(1, run.lanes)
    last = min(steps, burn_in + max(max_pairs // lanes_hint, 64))  # a contiguous stretch, so lags can be read
    gs, vs = [], []
    for blk in iterate(problem, optimizer, run=run.replace(steps=last), block=block, fields=("g", "v")):
        if blk.warmup:
            continue
        use = np.flatnonzero(blk.t > run.warmup + burn_in)  # t counts the warm-up steps first
        if use.size:
            gs.append(blk.g[use].reshape(len(use), -1))  # every (lane, coordinate) is a sample path
            vs.append(blk.v[use].reshape(len(use), -1))
    g_steps = np.concatenate(gs)  # (steps, lanes × coordinates)
    v_steps = np.concatenate(vs)
    if not (np.isfinite(v_steps).all() and np.isfinite(g_steps).all()):
        raise NumericalError(f"{optimizer.name}: v_t or g_t is not finite in this run (overflow: g_t² beyond the largest "
                             "float), so there is no correlation to measure; use a smaller C or s")  # fmt: skip
    per_block = _per_block(problem, g_steps, v_steps)
    _lags, lag_r, depends, flag = _lag_dependence(problem, optimizer, g_steps, v_steps)
    g, v = g_steps.ravel(), v_steps.ravel()
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
        lag_pearson_g2_v=lag_r,
        depends_on_lags=depends,
        flag=flag,
        per_block=per_block,
        n=shift_n(optimizer),
    )


def _per_block(problem: Problem, g: np.ndarray, v: np.ndarray) -> list[dict[str, Any]] | None:
    """Pearson(g², v) pooled over the coordinates of each block (columns are lane-major, coordinate-minor)."""
    sizes = problem.block_sizes()
    if sizes is None or len(sizes) < 2:
        return None
    D = problem.dim
    g3, v3 = g.reshape(g.shape[0], -1, D), v.reshape(v.shape[0], -1, D)
    out = []
    start = 0
    for b, size in enumerate(sizes):
        x = (g3[..., start : start + size] ** 2).ravel()
        y = v3[..., start : start + size].ravel()
        r = _pearson(x, y)
        out.append({"block": b, "size": int(size), "pearson_g2_v": r, "pearson_g2_v_ci": fisher_ci(r, int(x.size))})
        start += size
    return out


def _momentum_span(optimizer: Optimizer, cap: int = 32) -> int:
    """How many of the latest gradients are still inside m_t (kernel weight ≥ 1e-3 of the first)."""
    if optimizer.scale_limit().where == "pre":
        return 1  # the scale divides g_t itself, before the momentum
    return min(cap, horizon(optimizer.kernel(), 1e-3))


def _lag_dependence(
    problem: Problem, optimizer: Optimizer, g: np.ndarray, v: np.ndarray
) -> tuple[list[int], list[float] | None, list[int] | None, str | None]:
    """Pearson(g²_{t−i}, v_t) for the lags i whose gradients are still in m_t. On i.i.d.
    gradients any nonzero value means v_t depends on a gradient it scales: flag it."""
    span = _momentum_span(optimizer)
    lags = list(range(min(span, max(g.shape[0] - 10, 1))))
    values = []
    depends = []
    for i in lags:
        x = (g[: g.shape[0] - i] ** 2).ravel()
        y = v[i:].ravel()
        ok = np.isfinite(y) & (y > 0)
        r = _pearson(x[ok], y[ok]) if ok.sum() > 10 else float("nan")
        values.append(r)
        lo, hi = fisher_ci(r, int(ok.sum()))
        if math.isfinite(lo) and (lo > 0 or hi < 0):
            depends.append(i)
    if problem.law() is None:
        return lags, values, None, None
    flag = None
    if depends:
        first = depends[0]
        which = "g_t itself" if first == 0 else f"g_(t−{first}), which is still inside m_t"
        flag = f"v_t depends on {which}: this scale re-introduces the correlation AdaShift removes"
    return lags, values, depends, flag
