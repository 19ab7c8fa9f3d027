"""Running one case of the battery on any stepper, and what is measured without the optimizer's
internals.

**Model-free net update factor.** The run carries, beside each seed's lane, "twin" lanes that see
the same gradients except at one step s, where the twin's gradient is −g_s. The factor of g_s is

    κ_s = Σ_{t=s}^{s+H−1} (u_t − u'_t) / (2 α_s g_s),

u the lane's unprojected steps and u' the twin's: the displacement that g_s causes over its future
(H steps), in units of α_s. For a method whose scale depends on g² only and whose momentum is
linear in g (Adam, RMSProp, AMSGrad, AdaShift, ADOPT, ...) the flip changes the momentum alone, so
κ_s is exactly adasim's net update factor k_s/α_s, truncated after H steps (for β1 = 0 it is the
scale P_s itself; with momentum it includes α_t/α_s over the kernel's span, which a decaying
schedule makes slightly smaller than the constant-α closed form). Factors are averaged per phase
(periodic problems with a short period) or per gradient value (i.i.d. problems, long periods),
with a 95 % interval over the occurrences.

**Effective scale.** The immediate response (u_s − u'_s)/(2 α_s g_s) is the step per unit gradient
that g_s receives in its own step; its correlation with g_s² over the twins is the correlation
the AdaShift paper blames (negative: large gradients get small steps).

**Drift.** The mean of −u_t/α_t over the second half of the run (per coordinate, averaged; for a
rotated case in the unrotated coordinates): positive when x moves up.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.checks.adapters import CaseError, Loaded
from adasim.checks.cases import Case
from adasim.display import Shown
from adasim.errors import AdasimError

Z95 = 1.959963984540054
SECOND_COPY = 1_000_003  # the seed offset of the rotated case's second coordinate (an independent copy)


def rotation(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


@dataclass
class FactorRow:
    """The model-free factor of one phase or gradient value."""

    group: str  # "phase 0" or "g = 10"
    gradient: float
    mean: float
    std: float
    ci: tuple[float, float]
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "gradient": self.gradient, "mean": self.mean, "std": self.std,
                "ci95": list(self.ci), "count": self.count}  # fmt: skip


@dataclass(repr=False)
class CaseResult(Shown):
    """What one case measured (see the module text)."""

    case: Case
    quick: bool
    passed: bool | None  # None: the case errored
    error: str | None = None
    final_x: dict[str, Any] = field(default_factory=dict)
    distance: float = math.nan
    average_regret: float = math.nan
    drift: float = math.nan
    nuf: list[FactorRow] = field(default_factory=list)
    correlation: dict[str, Any] = field(default_factory=dict)
    verdict: str = ""
    seconds: float = 0.0
    trace_t: np.ndarray | None = None
    trace_x: np.ndarray | None = None  # (rows, seeds, D) of the seeds' lanes

    @property
    def status(self) -> str:
        return "error" if self.passed is None else ("pass" if self.passed else "FAIL")

    def _shown(self) -> tuple[str, dict[str, Any]]:
        rows = {"result": self.status, "distance to x*": self.distance, "drift": self.drift,
                "verdict": self.verdict or self.error}  # fmt: skip
        return f"CaseResult {self.case.name}", rows

    def as_dict(self) -> dict[str, Any]:
        c = self.case
        return {
            "case": c.name,
            "source": c.source,
            "about": c.about,
            "problem": c.problem.config(),
            "settings": c.settings(self.quick),
            "passed": self.passed,
            "status": self.status,
            "error": self.error,
            "final_x": self.final_x,
            "distance": _num(self.distance),
            "average_regret": _num(self.average_regret),
            "drift": _num(self.drift),
            "nuf": [r.as_dict() for r in self.nuf],
            "correlation": self.correlation,
            "verdict": self.verdict,
            "seconds": round(self.seconds, 3),
        }


def _num(v: float) -> float | None:
    return None if not math.isfinite(v) else float(v)


class _Geometry:
    """The case's gradients for the seeds' lanes, its projection and its optimum, in x-space."""

    def __init__(self, case: Case, seeds: np.ndarray) -> None:
        self.case = case
        self.problem = case.problem
        self.seeds = seeds
        self.R = None if case.rotate is None else rotation(case.rotate)
        self.lo = np.asarray(self.problem.domain.lo, dtype=float)
        self.hi = np.asarray(self.problem.domain.hi, dtype=float)
        y_star = np.broadcast_to(self.problem.optimum()[0], (self.problem.dim,))
        if self.R is not None:
            y_star = np.repeat(y_star, 2)
        self.y_star = np.asarray(y_star, dtype=float)
        self.x_star = self.y_star if self.R is None else self.R @ self.y_star
        self.width = float(np.max(self.hi - self.lo))

    def gradients(self, t: np.ndarray) -> np.ndarray:
        """g_t in y-coordinates for a block of steps: (B, S, D) (x-independent problems)."""
        g = self.problem.gradients(t, self.seeds)
        if self.R is not None:
            g = np.concatenate([g, self.problem.gradients(t, self.seeds + SECOND_COPY)], axis=-1)
        return g

    def to_x(self, gy: np.ndarray) -> np.ndarray:
        return gy if self.R is None else gy @ self.R.T

    def to_y(self, x: np.ndarray) -> np.ndarray:
        return x if self.R is None else x @ self.R

    def project(self, x: np.ndarray) -> np.ndarray:
        return self.to_x(np.clip(self.to_y(x), self.lo, self.hi)) if self.R is not None else np.clip(x, self.lo, self.hi)


def _flip_times(case: Case, geo: _Geometry, T: int, H: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """The steps whose gradient the twins negate: all phases of a period in turn, or for i.i.d.
    problems an equal number at occurrences of each gradient value (so that rare spikes are
    measured too), all within [T/2, T − H]."""
    first, last = T // 2 + 1, T - H
    pattern = case.problem.pattern()
    if pattern is not None:
        d = pattern.d
        start = first + (-(first - 1)) % d  # the first step of phase 0 after T/2
        return np.array([start + i % max(d, 1) + (i // d) * d for i in range(count)], dtype=np.int64)
    g = geo.gradients(np.arange(first, last + 1, dtype=np.int64))[:, 0, 0]  # the first seed's sequence
    values = np.unique(g)
    per = max(count // len(values), 1)
    chosen: list[int] = []
    for v in values:
        where = np.flatnonzero(g == v) + first
        chosen += list(rng.choice(where, size=min(per, len(where)), replace=False))
    while len(chosen) < count:
        chosen.append(int(rng.integers(first, last + 1)))
    return np.sort(np.array(chosen[:count], dtype=np.int64))


def run_case(loaded: Loaded, case: Case, quick: bool = False, twins: int | None = None, lr: float | None = None) -> CaseResult:
    """Run `case` on the loaded optimizer (see the module text for what is measured)."""
    began = time.perf_counter()
    T = case.quick_steps if quick else case.steps
    S = case.seeds
    seeds = np.arange(S, dtype=np.uint64)
    geo = _Geometry(case, seeds)
    D = case.dim
    lr = loaded.user_lr if lr is None else lr
    lr = case.lr if lr is None else lr
    measure = case.problem.x_independent and case.rotate is None and D == 1
    H = min(max(T // 10, 50), 2000)
    K = 0 if not measure else (twins if twins is not None else (4 if quick else 12))
    rng = np.random.default_rng(12345)
    flips = _flip_times(case, geo, T, H, S * K, rng) if K else np.zeros(0, dtype=np.int64)
    L = S + S * K
    owner = np.concatenate([np.arange(S), np.repeat(np.arange(S), K)])  # the seed of each lane
    flip_at = np.concatenate([np.zeros(S, dtype=np.int64), flips.reshape(S, K).ravel() if K else flips])
    twin = np.arange(S, L)
    first_flip, last_flip = (int(flips.min()), int(flips.max())) if K else (0, 0)
    x = np.full((L, D), float(case.x0))
    x = geo.project(x)
    result = CaseResult(case, quick, passed=None)
    try:
        stepper = loaded.make(x, lr)
        stepper.set_x(x)
    except AdasimError as err:
        result.error = str(err)
        return result
    sigma = case.schedule(np.arange(1, T + 1))
    acc = np.zeros(len(twin))
    immediate = np.zeros(len(twin))
    g_flip = np.zeros(len(twin))
    drift_sum = np.zeros(S)
    x_sum = np.zeros((S, D))
    regret = np.zeros(S)
    rows = np.unique(np.concatenate([np.geomspace(1, T, 200).astype(np.int64), np.linspace(1, T, 200).astype(np.int64)]))
    trace = np.empty((len(rows), S, D))
    r = 0
    block = 1024
    try:
        for t0 in range(1, T + 1, block):
            t_block = np.arange(t0, min(t0 + block, T + 1), dtype=np.int64)
            G = geo.gradients(t_block) if case.problem.x_independent else None
            for b, t in enumerate(t_block):
                gy = G[b][owner] if G is not None else geo.problem.gradient(x[:S], int(t), seeds)[owner]
                flipped = flip_at == t
                if K:
                    gy = np.where(flipped[:, None], -gy, gy)
                g = geo.to_x(gy)
                alpha = lr * float(sigma[t - 1])
                u = np.asarray(stepper.step(g, int(t), alpha), dtype=float)
                if u.shape != (L, D):
                    raise CaseError(f"step {t}: the update has shape {u.shape}, expected {(L, D)}")
                if not np.all(np.isfinite(u)):
                    bad = "NaN" if np.isnan(u).any() else "an overflow (inf)"
                    raise CaseError(f"numerical trouble: the step went non-finite ({bad}) at step {t}")
                y_before = geo.to_y(x[:S])
                if case.problem.linear:
                    regret += np.sum(gy[:S] * (y_before - geo.y_star), axis=-1)
                else:
                    regret += geo.problem.loss(y_before, int(t), gy[:S])
                x = geo.project(x - u)
                stepper.set_x(x)
                if 2 * t > T:
                    drift_sum += np.mean(-geo.to_y(u[:S]), axis=-1) / alpha
                    x_sum += x[:S]
                if K and first_flip <= t < last_flip + H:
                    active = (t >= flip_at[twin]) & (t < flip_at[twin] + H)
                    diff = u[owner[twin], 0] - u[twin, 0]
                    acc += np.where(active, diff, 0.0)
                    now = flipped[twin]
                    immediate = np.where(now, diff / (2.0 * alpha), immediate)
                    g_flip = np.where(now, G[b][owner[twin], 0] if G is not None else 0.0, g_flip)
                if r < len(rows) and rows[r] == t:
                    trace[r] = x[:S]
                    r += 1
    except AdasimError as err:
        result.error = str(err)
        result.seconds = time.perf_counter() - began
        return result
    result.trace_t, result.trace_x = rows, trace
    y_end = geo.to_y(x[:S])
    dist = np.linalg.norm(x[:S] - geo.x_star, axis=-1)
    result.final_x = {
        "median": np.median(x[:S], axis=0).tolist(),
        "q25": np.quantile(x[:S], 0.25, axis=0).tolist(),
        "q75": np.quantile(x[:S], 0.75, axis=0).tolist(),
        "x_star": geo.x_star.tolist(),
    }
    x_bar = x_sum / (T - T // 2)  # the average iterate over the second half
    result.final_x["mean_second_half"] = np.median(x_bar, axis=0).tolist()
    result.distance = float(np.median(dist))
    result.average_regret = float(np.mean(regret) / T)
    result.drift = float(np.mean(drift_sum) / (T - T // 2))
    result.passed = passes(case, geo, x_bar)
    if K:
        alpha_s = lr * sigma[flip_at[twin] - 1]
        kappa = acc / (2.0 * alpha_s * g_flip)
        scale = immediate / g_flip
        result.nuf = _factor_rows(case, flip_at[twin], g_flip, kappa)
        result.correlation = _correlation(g_flip**2, scale)
    result.verdict = _verdict(result, y_end, geo)
    result.seconds = time.perf_counter() - began
    return result


def passes(case: Case, geo: _Geometry, x_bar: np.ndarray) -> bool:
    """The case's expected outcome, on the average iterate of the second half (the last iterate
    of SGD keeps jumping on these problems; its average converges): `converge` — the median
    distance to x* at most tol × the width. For problems whose noise needs more steps than a
    check runs (Reddi's Fig. 1, AdaShift's and ADOPT's problems: the mean gradient is 10⁻³–10⁻⁴ of
    a spike), two weaker outcomes: `toward` — the median covers at least a quarter of the way from
    x_1 to x*; `avoid` — the median stays at least a quarter of the width from the worst point."""
    D = x_bar.shape[1]
    if case.expect == "avoid":
        worst = np.broadcast_to(geo.problem.worst()[0], (D,))
        return bool(np.median(np.linalg.norm(x_bar - worst, axis=-1)) >= 0.25 * geo.width)
    if case.expect == "toward":
        x0 = geo.project(np.full((1, D), float(case.x0)))[0]
        way = geo.x_star - x0
        covered = (x_bar - x0) @ way / float(way @ way)
        return bool(np.median(covered) >= 0.25)
    dist = np.linalg.norm(x_bar - geo.x_star, axis=-1)
    return bool(np.median(dist) <= case.tol * geo.width * math.sqrt(D))


def _mean_ci(values: np.ndarray) -> tuple[float, float, tuple[float, float]]:
    n = len(values)
    mean = float(np.mean(values))
    std = float(np.std(values, ddof=1)) if n > 1 else 0.0
    half = Z95 * std / math.sqrt(n) if n > 1 else math.inf
    return mean, std, (mean - half, mean + half)


def _factor_rows(case: Case, s: np.ndarray, g: np.ndarray, kappa: np.ndarray) -> list[FactorRow]:
    pattern = case.problem.pattern()
    rows = []
    if pattern is not None and pattern.d <= 16:
        phase = (s - 1) % pattern.d
        for j in range(pattern.d):
            pick = phase == j
            if pick.any():
                mean, std, ci = _mean_ci(kappa[pick])
                rows.append(FactorRow(f"phase {j}", float(pattern.c[j]), mean, std, ci, int(pick.sum())))
        return rows
    for v in np.unique(g):
        pick = g == v
        mean, std, ci = _mean_ci(kappa[pick])
        rows.append(FactorRow(f"g = {v:g}", float(v), mean, std, ci, int(pick.sum())))
    return rows


def _correlation(g2: np.ndarray, scale: np.ndarray) -> dict[str, Any]:
    n = len(g2)
    if n < 4 or np.std(g2) == 0 or np.std(scale) == 0:
        return {"pearson_g2_scale": None, "ci95": None, "count": n,
                "note": "the gradient or the effective scale does not vary: no correlation to measure"}  # fmt: skip
    rho = float(np.corrcoef(g2, scale)[0, 1])
    z = math.atanh(max(min(rho, 1 - 1e-15), -1 + 1e-15))
    half = Z95 / math.sqrt(n - 3)
    return {"pearson_g2_scale": rho, "ci95": [math.tanh(z - half), math.tanh(z + half)], "count": n}


def _verdict(res: CaseResult, y_end: np.ndarray, geo: _Geometry) -> str:
    """One sentence: what happened, and (when it failed) the mechanism in the factors."""
    where = f"x_T at median distance {res.distance:.3g} from x*"
    if res.passed:
        done = {"converge": "converged", "toward": "moved toward x*", "avoid": "kept away from the worst point"}
        return f"{done[res.case.expect]} ({where})"
    text = f"did not converge: {where}, drift {res.drift:+.3g}·α per step"
    mean = float(np.mean(geo.problem.mean_gradient()))
    wrong_way = mean != 0 and np.sign(res.drift) == np.sign(mean)  # x* lies down the mean gradient
    if not wrong_way:
        return text + " (toward x*, but too slowly)"
    text += ", away from x*"
    if res.nuf and len(res.nuf) >= 2:
        spike = max(res.nuf, key=lambda r: abs(r.gradient))
        small = [r for r in res.nuf if np.sign(r.gradient) != np.sign(spike.gradient)]
        if small:
            other = max(small, key=lambda r: r.count)
            if spike.mean < other.mean:
                text += (f"; the gradient {spike.gradient:g} moves x {spike.mean:.2g}·α while each {other.gradient:g} moves it "
                         f"{other.mean:.2g}·α: the small gradients win")  # fmt: skip
    return text
