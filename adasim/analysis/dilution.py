"""Sharing v over a block of k coordinates (φ = mean, max or norm) dilutes the correlation between
v and each coordinate's g²: for i.i.d. coordinates and an unshifted EMA, with φ = mean (or norm,
which is k·mean and has the same correlation),

    v = β2 V + (1−β2)·(1/k) Σ_i g_i²  ⇒  Pearson(g_j², v) = √((1−β2²)/k),

k times less covariance over √k times less spread. This module measures it for k = 1, 2, 4, ...
together with what it does to convergence (how many coordinates reach the optimum)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from adasim.analysis.correlation import fisher_ci
from adasim.analysis.empirical import NUF_FIELDS, NUFObserver
from adasim.engine import iterate
from adasim.engine.observers import observe
from adasim.errors import AdasimError, require_finite_squares
from adasim.optimizers.base import Optimizer
from adasim.problems.layered import Layered
from adasim.settings import RunSettings, run_settings


@dataclass(frozen=True)
class DilutionRow:
    k: int
    pearson_g2_v: float
    pearson_g2_v_ci: list[float]
    analytic_pearson_g2_v: float | None
    kappa: dict[str, float]  # mean net update factor per gradient value
    drift: float
    at_optimum: float  # fraction of (lane, coordinate) pairs within 5 % of the domain's width of x*
    mean_final_x: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def analytic_dilution(optimizer: Optimizer, k: int, iid: bool) -> float | None:
    """√((1−β2²)/k) for an unshifted EMA with φ ∈ {mean, norm} (identity: k = 1); 0 when shifted."""
    limit = optimizer.scale_limit()
    if not iid or limit.statistic != "ema":
        return None
    if limit.where == "pre" or limit.shift >= 1:
        return 0.0
    phi = getattr(optimizer, "phi", "identity")
    if phi == "identity":
        return math.sqrt(1.0 - limit.beta2**2)
    if phi in ("mean", "norm"):
        return math.sqrt((1.0 - limit.beta2**2) / k)
    return None


def dilution(
    problem: Layered,
    optimizer: Optimizer,
    ks: Sequence[int] = (1, 2, 4, 8, 16, 32),
    steps: int | None = None,
    seeds: Any = None,
    *,
    run: RunSettings | None = None,
    burn_in: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[DilutionRow]:
    """For each k: one block of k copies of the problem's base counterexample, v shared over it.
    The run settings come as `run` or as steps (default 20 000) and seeds. `progress(done, total)`
    is told of the coordinate-steps done (a run of k coordinates counts k per step)."""
    run = run_settings(run, steps=steps, seeds=seeds).resolve({"steps": 20_000})
    steps, warmup = int(run.steps), int(run.warmup)  # type: ignore[arg-type]
    if not ks or min(ks) < 1:
        raise AdasimError("block sizes k must be whole numbers ≥ 1")
    if not hasattr(optimizer, "phi"):
        raise AdasimError(f"{optimizer.name} has no spatial reduction φ: use adam, rmsprop, amsgrad or adashift")
    burn = steps // 4 if burn_in is None else burn_in
    iid = problem.base == "stochastic"
    require_finite_squares([problem.C, problem.s], "dilution")
    rows = []
    count = _Count(progress, (steps + warmup) * sum(int(k) for k in ks))
    for k in ks:
        prob = problem.replace(blocks=((int(k), 1.0),))
        opt = optimizer.replace(blocks=(int(k),))
        pairs, nuf = _Pairs(burn), NUFObserver(prob, opt, steps, warmup=warmup, burn_in=burn, samples=0)
        blocks = iterate(prob, opt, run=run, fields=(*NUF_FIELDS, "v"), min_block=nuf.min_block, prefetch=True)
        # one pass per k: the correlation, the factors and where x ends
        last = observe(blocks, [pairs, nuf], warmup, count.weighted(int(k)))
        assert last is not None
        nuf_k = nuf.result()
        g, v = pairs.arrays()
        r = float(np.corrcoef(g * g, v)[0, 1]) if np.std(v) > 0 else float("nan")
        final_x = last.x_end
        opt_x = np.broadcast_to(prob.optimum(), final_x.shape)
        width = float(prob.domain.hi) - float(prob.domain.lo)
        at = float(np.mean(np.abs(final_x - opt_x) <= 0.05 * width))
        rows.append(
            DilutionRow(
                k=int(k),
                pearson_g2_v=r,
                pearson_g2_v_ci=fisher_ci(r, int(g.size)),
                analytic_pearson_g2_v=analytic_dilution(opt, int(k), iid),
                kappa={f"{grp.gradient:g}": grp.mean for grp in nuf_k.groups},
                drift=nuf_k.drift,
                at_optimum=at,
                mean_final_x=float(np.mean(final_x)),
            )
        )
    return rows


class _Count:
    """The coordinate-steps done so far, told to `progress(done, total)`."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def weighted(self, k: int) -> Callable[[int], None] | None:
        """observe's callback for a run of k coordinates (None without a progress)."""
        if self.progress is None:
            return None
        report = self.progress

        def tick(n: int) -> None:
            self.done += n * k
            report(self.done, self.total)

        return tick


class _Pairs:
    """Observer: every (g_t, v_t) after the burn-in, pooled over lanes and coordinates."""

    def __init__(self, burn: int) -> None:
        self.burn = burn
        self.gs: list[np.ndarray] = []
        self.vs: list[np.ndarray] = []

    def block(self, blk: Any, t: np.ndarray) -> None:
        use = t > self.burn
        if np.any(use):
            self.gs.append(blk.g[use].reshape(-1))
            self.vs.append(blk.v[use].reshape(-1))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.gs), np.concatenate(self.vs)
