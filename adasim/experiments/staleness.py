"""Staleness as a shift: v refreshed only every k steps (Shampoo's and SOAP's "precondition
frequency") against AdaShift's n = 1, on the stochastic problem where Adam drifts the wrong way.

The optimizer is adasim's Shampoo on the scalar problem (a 1 × 1 matrix): RMSProp with ε inside the
root, no bias correction, and the scale's root recomputed at t = 1, k + 1, 2k + 1, … only
(docs/REFERENCE.md §7). At a refresh step the scale contains g_t (Adam's correlation); at the
k − 1 steps after it the scale is the stationary EMA of earlier gradients, independent of g_t —
AdaShift n = 1's situation, with the same stationary law. So the drift is the mix

    drift(k) = drift_Adam/k + (1 − 1/k)·drift_AdaShift(n=1),

exactly in the stationary limit (both closed forms from docs/REFERENCE.md §3), and staleness fixes
the wrong-way drift once k exceeds k* = 1 − drift_Adam/drift_AdaShift. Measured: the drift of
x_t over the second half of runs at each k, beside the mix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from adasim import Adam, AdaShift, Domain, Shampoo, Stochastic, simulate
from adasim.analysis import analytic_drift
from adasim.experiments import counter

NAME = "staleness"
TITLE = "Staleness as a shift: refreshing v every k steps mixes Adam's drift with AdaShift n = 1's"
SOURCE = ("adasim's own experiment: Shampoo/SOAP's precondition frequency; AdaShift: Zhou et al. 2019; "
          "docs/REFERENCE.md §3 and §7")  # fmt: skip

C, DELTA, BETA2, EPS, LR = 10.0, 0.1, 0.9, 1e-8, 1e-3


def _problem() -> Stochastic:
    return Stochastic(C=C, delta=DELTA, domain=Domain(-np.inf, np.inf))


def closed_forms() -> tuple[float, float]:
    """(Adam's drift, AdaShift n = 1's), β1 = 0, ε inside, no bias correction, per α."""
    problem = _problem()
    adam = Adam(beta1=0.0, beta2=BETA2, eps=EPS, eps_mode="inside", bias_correction=False)
    shift = AdaShift(n=1, beta1=0.0, beta2=BETA2, eps=EPS, eps_mode="inside", phi="identity")
    return analytic_drift(problem, adam), analytic_drift(problem, shift)


def measured_drift(k: int, steps: int, seeds: int) -> tuple[float, float]:
    """The mean −Δx/α per step over the second half (positive: up, away from x* = −∞), and its
    standard error over the seeds."""
    run = simulate(_problem(), Shampoo(beta2=BETA2, eps=EPS, refresh=k, lr=LR), steps, seeds=np.arange(seeds),
                   record=("x",))  # fmt: skip
    x, t = run.trace.x[:, :, 0], run.trace.t
    half = int(np.searchsorted(t, steps // 2))
    per_lane = (x[-1] - x[half]) / (LR * (t[-1] - t[half]))
    return float(per_lane.mean()), float(per_lane.std() / np.sqrt(seeds))


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the refresh intervals k measured."""
    ks = [1, 2, 8] if quick else [1, 2, 3, 4, 6, 8, 16, 32]
    steps, seeds = (20_000, 8) if quick else (200_000, 16)
    tick = counter(progress, len(ks))
    adam, shift = closed_forms()
    k_star = 1.0 - adam / shift if shift < 0 < adam else None
    rows = {}
    for k in ks:
        drift, se = measured_drift(k, steps, seeds)
        rows[str(k)] = {"measured": drift, "se": se, "closed_form": adam / k + (1 - 1 / k) * shift}
        tick()
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.subplots()
    grid = np.geomspace(1, max(ks), 200)
    ax.plot(grid, adam / grid + (1 - 1 / grid) * shift, color="C0", label="closed form: Adam/k + (1 − 1/k)·AdaShift(n=1)")
    ax.errorbar(ks, [rows[str(k)]["measured"] for k in ks], yerr=[2 * rows[str(k)]["se"] for k in ks], fmt="o",
                color="C1", label=f"measured (Shampoo refresh k, 1 × 1; ±2 se, {seeds} seeds)")  # fmt: skip
    ax.axhline(adam, color="C3", linestyle=":", label=f"Adam (β1 = 0): {adam:+.3f}")
    ax.axhline(shift, color="C2", linestyle="--", label=f"AdaShift n = 1: {shift:+.3f}")
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    if k_star is not None:
        ax.axvline(k_star, color="0.5", linestyle="-.", linewidth=0.8, label=f"k* = {k_star:.2f}")
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("refresh interval k (steps)")
    ax.set_ylabel("drift per step / α (> 0: away from x*)")
    ax.set_title(f"g = {C:g} w.p. {1 + DELTA:g}/{C + 1:g}, else −1; β1 = 0, β2 = {BETA2:g}", fontsize=10)
    ax.legend(fontsize=8)
    numbers = {"settings": {"C": C, "delta": DELTA, "beta2": BETA2, "eps": EPS, "lr": LR, "steps": steps, "seeds": seeds},
               "adam": adam, "adashift_n1": shift, "k_star": k_star, "by_k": rows}  # fmt: skip
    return {NAME: fig}, numbers
