"""The result of a run: a value object that knows its configuration, and the summary it yields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.display import Shown
from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer
from adasim.problems.base import Problem
from adasim.tables import Tabular

VERDICT_TOLERANCE = 0.05


@dataclass(frozen=True, eq=False, repr=False)
class Trace(Shown):
    """Recorded rows (R) of a run: t (R,), per-lane arrays (R, L, D) and R_t/t (R, L). A field
    that was not asked for (simulate's `record`) is None.

    Examples
    --------
    >>> from adasim import SGD, Online, Trace, simulate
    >>> run = simulate(Online(C=2.0), SGD(lr=0.1), steps=3, x0=0.5, record=["x", "g"], engine="numpy")
    >>> isinstance(run.trace, Trace), run.trace.t.tolist(), run.trace.g[:, 0, 0].tolist(), run.trace.v is None
    (True, [1, 2, 3], [2.0, -1.0, -1.0], True)
    """

    t: np.ndarray
    x: np.ndarray | None
    g: np.ndarray | None
    m: np.ndarray | None
    v: np.ndarray | None
    step: np.ndarray | None
    alpha: np.ndarray | None
    pre: np.ndarray | None
    post: np.ndarray | None
    average_regret: np.ndarray | None

    def _shown(self) -> tuple[str, dict[str, Any]]:
        a = self.arrays()
        rows = len(a["t"]) if "t" in a else 0
        span = [int(a["t"][0]), int(a["t"][-1])] if rows else None
        return "Trace", {"rows": rows, "fields": ", ".join(k for k in a if k != "t"), "t": span}

    def arrays(self) -> dict[str, np.ndarray]:
        """The recorded fields (a run made with `record=` leaves the others None)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if getattr(self, k) is not None}


def verdict(x: float, optimum: float, worst: float, lo: float, hi: float, x0: float, tol: float = VERDICT_TOLERANCE) -> str:
    """`optimum` / `worst point` / `between` by distance (within tol × the domain's width).
    On an unbounded side there is no point to reach: the verdict names the direction x went —
    `toward x*` (the optimum's side, which may be at ±∞), `away from x*`, `off x*` (it started at a
    finite x* and ended more than tol from it), or `stayed` (it moved
    less than tol) — or `optimum` when it sits at a finite optimum."""
    if not np.isfinite(x):
        return "failed"
    if np.isfinite(lo) and np.isfinite(hi):
        width = hi - lo
        if np.isfinite(optimum) and abs(x - optimum) <= tol * width:
            return "optimum"
        if np.isfinite(worst) and abs(x - worst) <= tol * width:
            return "worst point"
        return "between"
    if np.isnan(optimum):
        return "between"
    direction = np.sign(optimum - x0) if np.isfinite(optimum) else np.sign(optimum)
    moved = x - x0
    if np.isfinite(optimum) and abs(x - optimum) <= tol:
        return "optimum"
    if abs(moved) <= tol:
        return "stayed"
    if direction == 0:  # it started at a finite x* and left it
        return "off x*"
    return "toward x*" if np.sign(moved) == direction else "away from x*"


def _median(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else None


@dataclass(frozen=True, eq=False, repr=False)
class Run(Shown, Tabular):
    """A finished run: its configuration, final state, health per lane and trace.

    Examples
    --------
    >>> from adasim import Adam, Online, Run, simulate
    >>> run = simulate(Online(C=10.0), Adam(lr=0.1), steps=100, seeds=[0, 1], engine="numpy")
    >>> isinstance(run, Run), run.lanes, run.final_x.shape, run.status.tolist()  # two lanes, one coordinate
    (True, 2, (2, 1), ['ok', 'ok'])
    >>> run.summary()["optimizer"], run.steps
    ('adam', 100)
    """

    problem: Problem
    optimizer: Optimizer
    steps: int
    warmup: int
    seeds: np.ndarray
    x0: np.ndarray
    stride: int
    trace: Trace
    final_x: np.ndarray  # (L, D)
    average_regret: np.ndarray  # (L,) R_T/T, NaN where undefined
    status: np.ndarray  # (L,) "ok" | "nan" | "overflow"
    bad_step: np.ndarray  # (L,) first step that was not finite, 0 if none
    seconds: float
    engine: str = "numpy"  # the path that ran it: "numpy" or "compiled" (the same recurrences)

    @property
    def lanes(self) -> int:
        return len(self.seeds)

    def columns(self) -> dict[str, np.ndarray]:
        """The trace as a tidy table: one row per recorded step t, lane and coordinate, with the
        lane's seed and every recorded field (x_t, g_t, m_t, v_t, ...)."""
        arrays = self.trace.arrays()
        t = np.asarray(arrays.pop("t"))
        fields = {k: np.asarray(v) for k, v in arrays.items() if np.ndim(v) == 3}
        R, L, D = len(t), self.lanes, self.problem.dim
        out: dict[str, np.ndarray] = {
            "optimizer": np.full(R * L * D, self.optimizer.name),
            "t": np.repeat(t, L * D),
            "lane": np.tile(np.repeat(np.arange(L), D), R),
            "seed": np.tile(np.repeat(self.seeds, D), R),
            "coordinate": np.tile(np.arange(D), R * L),
        }
        out.update({k: v.reshape(-1) for k, v in fields.items()})
        return out

    def _shown(self) -> tuple[str, dict[str, Any]]:
        s = self.summary()
        rows = {"steps": self.steps, "lanes": self.lanes, "engine": self.engine, "final x": s.get("final_x"),
                "verdict": s.get("verdict"), "health": self.health()}  # fmt: skip
        return f"Run {self.optimizer.name} on {self.problem.name}", rows

    @property
    def ok(self) -> np.ndarray:
        return self.status == "ok"

    @property
    def failed(self) -> bool:
        return bool(np.any(~self.ok))

    def health(self) -> str:
        """One line: all lanes finite, or which failed how and when."""
        if not self.failed:
            return "ok"
        bad = np.flatnonzero(~self.ok)
        kinds = sorted(set(self.status[bad]))
        first = int(self.bad_step[bad].min())
        return f"{len(bad)} of {self.lanes} lanes hit {'/'.join(kinds)} (first at step {first})"

    def _header(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.name,
            "config": self.optimizer.config(),
            "lanes": self.lanes,
            "seeds": self.seeds.tolist(),
            "status": "ok" if not self.failed else "failed",
            "engine": self.engine,
        }

    def summary(self, tol: float = VERDICT_TOLERANCE) -> dict[str, Any]:
        """The run's line of `summary.json`: medians over the lanes (seeds) that stayed finite."""
        ok = self.ok
        if self.problem.dim > 1:
            return self._summary_multi(tol)
        x = self.final_x[:, 0]
        out = self._header()
        median_x = _median(x[ok])
        out["final_x"] = median_x
        if self.lanes > 1:
            good = x[ok & np.isfinite(x)]
            out["final_x_quantiles"] = np.quantile(good, [0.25, 0.75]).tolist() if good.size else None
        out["average_regret"] = _median(self.average_regret[ok])
        lo, hi = float(np.min(self.problem.domain.lo)), float(np.max(self.problem.domain.hi))
        opt = float(np.atleast_2d(self.problem.optimum())[0, 0])
        worst = float(np.atleast_2d(self.problem.worst())[0, 0])
        out["verdict"] = None if median_x is None else verdict(median_x, opt, worst, lo, hi, float(self.x0[0, 0]), tol)
        groups = self.settings_per_lane()
        if len(groups) > 1:  # lanes with different settings: a median over all of them would mean nothing
            out["final_x"], out["verdict"] = None, "per setting"
            out.pop("final_x_quantiles", None)
            out["by_setting"] = []
            for settings, lanes in groups:
                good = x[lanes][ok[lanes]]
                med = _median(good)
                out["by_setting"].append({
                    "settings": settings, "lanes": int(lanes.size), "final_x": med,
                    "final_x_quantiles": np.quantile(good, [0.25, 0.75]).tolist() if good.size > 1 else None,
                    "verdict": None if med is None else verdict(med, opt, worst, lo, hi, float(self.x0[lanes[0], 0]), tol),
                })  # fmt: skip
        if self.failed:
            out["health"] = self.health()
        out["seconds"] = round(self.seconds, 4)
        return out

    def settings_per_lane(self) -> list[tuple[dict[str, Any], np.ndarray]]:
        """The distinct settings among the lanes (the optimizer's and problem's per-lane values)
        and the lanes of each, in order of first appearance; one group when only seeds differ."""
        values = {**self.problem.params(), **self.optimizer.config()}
        varying = {k: np.asarray(v) for k, v in values.items() if isinstance(v, list | np.ndarray) and np.ndim(v) == 1
                   and len(v) == self.lanes}  # fmt: skip
        if not varying:
            return [({}, np.arange(self.lanes))]
        keys = list(varying)
        table = np.stack([varying[k].astype(float) for k in keys], axis=1)
        _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)
        return [({k: table[first[g], j].item() for j, k in enumerate(keys)}, np.flatnonzero(inverse.ravel() == g)) for g in order]

    def _summary_multi(self, tol: float) -> dict[str, Any]:
        """Several coordinates: per-coordinate medians, the distance to the optimum, and a verdict
        that is `optimum`/`worst point` only when every coordinate agrees."""
        ok = self.ok
        out = self._header()
        if not ok.any():
            out |= {"final_x": None, "distance": None, "average_regret": None, "verdict": None, "health": self.health()}
            return out
        x = np.median(self.final_x[ok], axis=0)
        opt = np.broadcast_to(self.problem.optimum(), self.final_x.shape)[0]
        worst = np.broadcast_to(self.problem.worst(), self.final_x.shape)[0]
        lo = np.broadcast_to(np.asarray(self.problem.domain.lo, float), x.shape)
        hi = np.broadcast_to(np.asarray(self.problem.domain.hi, float), x.shape)
        x0 = self.x0[0]
        verdicts = [
            verdict(float(x[j]), float(opt[j]), float(worst[j]), float(lo[j]), float(hi[j]), float(x0[j]), tol)
            for j in range(len(x))
        ]
        out["final_x"] = x.tolist()
        finite = np.isfinite(opt)
        out["distance"] = float(np.median(np.linalg.norm((self.final_x[ok] - opt)[:, finite], axis=1))) if finite.any() else None
        out["average_regret"] = _median(self.average_regret[ok])
        out["coordinates_at_optimum"] = sum(v == "optimum" for v in verdicts)
        out["verdict"] = verdicts[0] if len(set(verdicts)) == 1 else "between"  # every coordinate agrees, or between
        if not finite.any():  # no per-coordinate x* (a rotated problem): read the one number it reports
            try:
                y = np.asarray(self.problem.sweep_coordinate(self.final_x[ok]), dtype=float)
                y0 = float(np.asarray(self.problem.sweep_coordinate(self.x0[:1]))[0])
                y_opt = float(np.asarray(self.problem.sweep_optimum()).ravel()[0])
            except (AdasimError, NotImplementedError):
                pass
            else:
                out["y"] = _median(y)
                out["verdict"] = verdict(out["y"], y_opt, -y_opt, -np.inf, np.inf, y0, tol) if out["y"] is not None else None
        if self.failed:
            out["health"] = self.health()
        out["seconds"] = round(self.seconds, 4)
        return out
