"""Sign methods against Adam and SGD where the gradient's mean and median disagree: the skewed-noise
preset (g = 4 w.p. 0.3 else −1: mean 0.5, median −1) and Reddi et al.'s Fig. 1 stochastic problem
(g = 1010 w.p. 0.01 else −10: mean 0.2, median −10). Left, middle: median and 25–75 % band of x_t.
Right: the closed-form drift −E[sign m_t] of Signum against its memory β (docs/REFERENCE.md §6,
the interval drawn as a band), with long-run measurements; signSGD is β = 0. A sign method
follows the median's side unless its EMA remembers enough gradients for the mean to win."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adasim import Domain, Signum, Stochastic, simulate
from adasim.analysis.sign import sign_drift
from adasim.experiments import counter
from adasim.plots.run import COLORS
from adasim.settings import RunSettings
from adasim.spec import build_spec

NAME = "sign-methods"
TITLE = "Sign methods follow the median unless their memory is long: signSGD, Signum, Lion against Adam and SGD"
SOURCE = ("adasim's own experiment; problems: skewed-noise preset and Reddi, Kale & Kumar 2018, Fig. 1 (right); "
          "sign methods: Bernstein et al. 2018, Chen et al. 2023; docs/REFERENCE.md §6")  # fmt: skip

OPTIMIZERS = ("sgd", "adam", "signsgd", "signum", "lion")
STYLES = {"sgd": "-", "adam": "-", "signsgd": "--", "signum": "-.", "lion": ":"}
EXTRA = {"signsgd": "#7f7f7f", "signum": "#8c564b", "lion": "#e377c2"}


def _color(name: str) -> str:
    return COLORS.get(name, EXTRA.get(name, "black"))


def _runs(ax: Any, preset: str, steps: int, seeds: int, tick: Callable[..., None]) -> dict[str, Any]:
    """Median and 25–75 % band of x_t of every optimizer on the preset, drawn on `ax`; `tick()` after each run."""
    spec = build_spec(preset, optimizers=list(OPTIMIZERS), run=RunSettings(steps=steps, seeds=range(seeds)))
    runs = []
    for opt in spec.optimizers:  # what spec.run() does, one optimizer at a time
        runs.append(simulate(spec.problem, opt, run=spec.run_settings))
        tick()
    out = {}
    for r in runs:
        name = r.optimizer.name
        x = r.trace.x[:, :, 0]
        ax.plot(r.trace.t, np.median(x, axis=1), STYLES[name], color=_color(name), label=name, lw=1.4)
        ax.fill_between(r.trace.t, *np.quantile(x, [0.25, 0.75], axis=1), color=_color(name), alpha=0.12, lw=0)
        out[name] = {"median_final_x": float(np.median(r.final_x[:, 0])), "settings": r.optimizer.config()}
    ax.axhline(-1.0, color="black", lw=0.8, ls="--")
    ax.text(r.trace.t[-1], -1.0, " optimum", va="bottom", ha="right", fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("step t")
    ax.grid(alpha=0.3)
    return out


def _measured(problem: Stochastic, beta: float, steps: int, seeds: int) -> tuple[float, float]:
    """Mean Δx/α per step on the unconstrained problem after a warm-up, and its standard error."""
    free = Stochastic(C=problem.C, s=problem.s, p=problem.p, domain=Domain(-np.inf, np.inf))
    run = simulate(free, Signum(lr=1.0, beta1=beta), steps, seeds=np.arange(seeds), warmup=min(20_000, 20 * int(1 / (1 - beta))))
    per = run.final_x[:, 0] / steps
    return float(per.mean()), float(per.std(ddof=1) / np.sqrt(seeds))


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the runs: each optimizer on both problems, then each measured β on both."""
    steps, seeds = (4_000, 8) if quick else (200_000, 64)
    betas = np.array([0.0, 0.5, 0.9, 0.97]) if quick else np.array([0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99])
    measured_betas = (0.5, 0.9) if quick else (0.0, 0.5, 0.9, 0.99)
    problems = {"skewed-noise": Stochastic(C=4.0, s=1.0, p=0.3), "reddi-fig1-stochastic": Stochastic(C=1010.0, s=10.0, p=0.01)}
    tick = counter(progress, len(problems) * (len(OPTIMIZERS) + len(measured_betas)))
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    ax_skew, ax_reddi, ax_drift = fig.subplots(1, 3)
    numbers: dict[str, Any] = {"settings": {"steps": steps, "runs": seeds, "optimizers": list(OPTIMIZERS)}}
    numbers["skewed-noise"] = _runs(ax_skew, "skewed-noise", steps, seeds, tick)
    ax_skew.set_title("skewed noise: g = 4 w.p. 0.3, else −1 (mean 0.5, median −1)", fontsize=9)
    ax_skew.set_ylabel("x_t (median, 25–75 %)")
    ax_reddi.set_ylabel("x_t (median, 25–75 %)")
    numbers["reddi-fig1-stochastic"] = _runs(ax_reddi, "reddi-fig1-stochastic", steps, seeds, tick)
    ax_reddi.set_title("Reddi Fig. 1: g = 1010 w.p. 0.01, else −10 (mean 0.2, median −10)", fontsize=9)
    ax_skew.legend(fontsize=8, loc="center left")
    closed: dict[str, Any] = {}
    for (label, problem), color in zip(problems.items(), ("#1f77b4", "#d62728"), strict=True):
        bounds = np.array([(d.lo, d.hi) for d in (sign_drift(problem, Signum(beta1=float(b))) for b in betas)])
        ax_drift.fill_between(betas, bounds[:, 0], bounds[:, 1], color=color, alpha=0.35, lw=0)
        ax_drift.plot(betas, bounds.mean(axis=1), color=color, lw=1.2, label=f"{label}: closed form")
        meas = []
        for b in measured_betas:
            meas.append((b, *_measured(problem, b, steps, seeds)))
            tick()
        ax_drift.errorbar([m[0] for m in meas], [m[1] for m in meas], yerr=[4 * m[2] for m in meas], fmt="o", color=color,
                          ms=4, capsize=2, label=f"{label}: measured (±4 s.e.)")  # fmt: skip
        closed[label] = {"beta": betas.tolist(), "drift_interval": bounds.tolist(),
                         "measured": [{"beta": b, "drift": m, "stderr": e} for b, m, e in meas]}  # fmt: skip
    ax_drift.axhline(0.0, color="black", lw=0.8)
    ax_drift.text(betas[0], 0.02, "x climbs (toward the worst point)", fontsize=8, va="bottom")
    ax_drift.text(betas[0], -0.02, "x descends (toward the optimum)", fontsize=8, va="top")
    ax_drift.set_xlabel("Signum's β (β = 0: signSGD)")
    ax_drift.set_ylabel("drift −E[sign m_t] per step, units of α")
    ax_drift.set_title("closed-form drift of Signum against its memory", fontsize=9)
    ax_drift.legend(fontsize=7, loc="lower left")
    ax_drift.grid(alpha=0.3)
    numbers["closed_form"] = closed
    numbers["published"] = "no published numbers for sign methods on these problems; Reddi et al. 2018 Fig. 1 shows Adam at +1"
    fig.suptitle(f"{TITLE} ({seeds} runs, {steps:,} steps)", fontsize=10)
    return {NAME: fig}, numbers
