"""The numbers behind `adasim nuf`, `adasim correlate` and `adasim critical`, as plain dicts
(the JSON the commands write) plus the objects the figures need. Front ends only format them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.analysis.correlation import Correlation, measure_correlation
from adasim.analysis.drift import Critical, analytic_nuf, critical_value, is_periodic
from adasim.analysis.empirical import DEFAULT_TOL, EmpiricalNUF, empirical_nuf
from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer
from adasim.spec import Spec
from adasim.tables import Tabular


@dataclass(frozen=True)
class NUFResult:
    optimizer: Optimizer
    empirical: EmpiricalNUF
    analytic: Any  # PeriodicNUF | StationaryNUF | None
    reason: str | None  # why there is no closed form

    def as_dict(self) -> dict[str, Any]:
        rows = []
        for g in self.empirical.groups:
            row: dict[str, Any] = {"gradient": g.gradient}
            if g.phase is not None:
                row["phase"] = g.phase
            row["analytic"] = _analytic_value(self.analytic, g.gradient, g.phase)
            row["empirical"] = g.mean
            row["empirical_std"] = g.std
            row["empirical_ci"] = list(g.ci())
            row["count"] = g.n
            rows.append(row)
        out: dict[str, Any] = {
            "optimizer": self.optimizer.name,
            "config": self.optimizer.config(),
            "nuf": rows,
            "drift": {"analytic": None if self.analytic is None else self.analytic.drift, "empirical": self.empirical.drift},
        }
        if self.analytic is not None and hasattr(self.analytic, "error"):  # the stationary limit's error bound
            out["analytic_error"] = float(np.max(self.analytic.error))
            out["analytic_note"] = self.analytic.note
        if self.reason:
            out["analytic_unavailable"] = self.reason
        if self.empirical.trouble:
            out["trouble"] = self.empirical.trouble
        return out


def _analytic_value(analytic: Any, gradient: float, phase: int | None) -> float | None:
    if analytic is None or analytic.kappa is None:  # (a sign of a mix has a drift but no factor per gradient)
        return None
    if getattr(analytic, "values", None) is None:  # per phase (PeriodicNUF, a periodic SignFactors)
        return float(analytic.kappa[phase]) if phase is not None else None
    match = np.flatnonzero(analytic.values == gradient)
    return float(analytic.kappa[match[0]]) if match.size else None


def closed_form(spec_problem: Any, optimizer: Optimizer) -> tuple[Any, str | None]:
    """The closed-form factors (and drift) of the optimizer on the problem, or why there are none.
    Sign methods (signSGD, Signum, Lion) have their drift in closed form (adasim.analysis.sign)."""
    try:
        if optimizer.lanes() == 1 and optimizer.sign_weights() is not None:
            from adasim.analysis.sign import sign_factors

            return sign_factors(spec_problem, optimizer), None
        return analytic_nuf(spec_problem, optimizer), None
    except AdasimError as err:
        return None, str(err)


@dataclass(frozen=True)
class NUFReport(Tabular):
    spec: Spec
    results: list[NUFResult] = field(default_factory=list)

    def columns(self) -> dict[str, np.ndarray]:
        """One row per optimizer and group (phase or gradient value): the measured factor, its
        spread, interval and count, and the closed form."""
        rows = [(r["optimizer"], row) for r in (res.as_dict() for res in self.results) for row in r["nuf"]]
        nan = float("nan")
        phases = {"phase": np.array([row["phase"] for _, row in rows])} if rows and "phase" in rows[0][1] else {}
        return {
            "optimizer": np.array([o for o, _ in rows]),
            **phases,
            "gradient": np.array([row["gradient"] for _, row in rows], dtype=float),
            "measured": np.array([row["empirical"] for _, row in rows], dtype=float),
            "std": np.array([row["empirical_std"] for _, row in rows], dtype=float),
            "ci_low": np.array([row["empirical_ci"][0] for _, row in rows], dtype=float),
            "ci_high": np.array([row["empirical_ci"][1] for _, row in rows], dtype=float),
            "count": np.array([row["count"] for _, row in rows]),
            "closed_form": np.array([nan if row["analytic"] is None else row["analytic"] for _, row in rows], dtype=float),
        }

    def as_dict(self) -> dict[str, Any]:
        first = self.results[0].empirical
        problem = self.spec.config() | {"burn_in": first.burn_in, "excluded_tail": first.excluded_tail, "tol": first.tol}
        return {"problem": problem, "results": [r.as_dict() for r in self.results]}


def nuf_report(
    spec: Spec,
    *,
    burn_in: int | None = None,
    tol: float = DEFAULT_TOL,
    progress: Callable[[int], None] | None = None,
) -> NUFReport:
    """Empirical and analytic factors of every optimizer of the spec (one lane per seed)."""
    results = []
    for opt in spec.optimizers:
        emp = empirical_nuf(spec.problem, opt, run=spec.run_settings, burn_in=burn_in, tol=tol)
        analytic, reason = closed_form(spec.problem, opt)
        results.append(NUFResult(opt, emp, analytic, reason))
        if progress is not None:
            progress(spec.run_settings.steps + spec.run_settings.warmup)
    return NUFReport(spec, results)


MAX_SHIFTS = 64  # shifts per correlation report: one run of every shifted optimizer each


def parse_shifts(text: str, steps: int | None = None) -> list[int]:
    """'0,1,2,4' or '0:8' (inclusive) to a list of at most MAX_SHIFTS shifts 0 ≤ n < steps,
    checked before anything is built or run."""
    try:
        if ":" in text:
            lo, hi = (int(p) for p in text.split(":"))
            shifts = range(lo, hi + 1)  # not built yet: its length is checked first
        else:
            shifts = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise AdasimError(f"shifts must be like '0,1,2,4' or '0:8', got '{text}'") from None
    if len(shifts) > MAX_SHIFTS:
        raise AdasimError(f"shifts '{text}' ask for {len(shifts):,} runs per optimizer (at most {MAX_SHIFTS}): "
                          "give fewer, e.g. '0,1,2,4,8,16'")  # fmt: skip
    shifts = list(shifts)
    if not shifts or min(shifts) < 0:
        raise AdasimError(f"shifts must be whole numbers ≥ 0, got '{text}'")
    if steps is not None and max(shifts) >= steps:
        raise AdasimError(f"shift n = {max(shifts):,} is not shorter than the run ({steps:,} steps): v_t would never see a "
                          "gradient; use more --steps or smaller shifts")  # fmt: skip
    return shifts


def per_shift(optimizers: Sequence[Optimizer], shifts: Sequence[int]) -> list[Optimizer]:
    """Every optimizer that has a shift setting n once per shift (its window following n), the
    others once, in order."""
    out: list[Optimizer] = []
    for o in optimizers:
        if o.definition.accepts("n"):
            out += [o.replace(n=n, window=None) if o.definition.accepts("window") else o.replace(n=n) for n in shifts]
        else:
            out.append(o)
    return out


@dataclass(frozen=True)
class CorrelationReport:
    spec: Spec
    results: list[Correlation]

    def as_dict(self) -> dict[str, Any]:
        return {"problem": self.spec.config(), "results": [c.as_dict() for c in self.results]}


def correlation_report(
    spec: Spec,
    optimizers: Sequence[Optimizer],
    *,
    burn_in: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> CorrelationReport:
    """The correlation of g_t with the scale v_t for each optimizer, on the spec's problem and seeds."""
    results = []
    for opt in optimizers:
        result = measure_correlation(spec.problem, opt, run=spec.run_settings, burn_in=burn_in)
        results.append(result)
        if progress is not None:
            progress(spec.run_settings.steps)
    return CorrelationReport(spec, results)


@dataclass(frozen=True)
class CriticalReport:
    spec: Spec
    optimizer: Optimizer
    result: Critical

    def as_dict(self) -> dict[str, Any]:
        out = self.result.as_dict()
        out["optimizer"] = self.optimizer.name
        out["config"] = self.optimizer.config() | ({"beta2": None} if self.result.parameter == "beta2" else {})
        out["problem"] = self.spec.problem.config() | ({"C": None} if self.result.parameter == "C" else {})
        out["family"] = "periodic" if is_periodic(self.spec.problem) else "i.i.d."
        return out


def critical_report(
    spec: Spec,
    solve_for: str,
    lo: float | None = None,
    hi: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CriticalReport:
    """Where the closed-form drift of the spec's one optimizer changes sign (`progress(done, total)`:
    the drifts evaluated, as critical_value tells them)."""
    if len(spec.optimizers) != 1:
        raise AdasimError("critical takes one optimizer (-o NAME)")
    opt = spec.optimizers[0]
    return CriticalReport(spec, opt, critical_value(spec.problem, opt, solve_for, lo=lo, hi=hi, progress=progress))
