"""The AdaShift paper's "critical C": the spike size at which Adam's drift changes sign, against
β2 for several β1, on the sequential problem (C, −1, −1, ...) and on the stochastic one (δ = 0.02,
p = (1+δ)/(C+1)), all from adasim's closed forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adasim.analysis.drift import critical_value
from adasim.errors import AdasimError
from adasim.experiments import counter
from adasim.optimizers import make_optimizer
from adasim.plots.run import plain_log_ticks
from adasim.problems.online import Online
from adasim.problems.stochastic import Stochastic

NAME = "critical-c"
TITLE = "AdaShift paper: the critical C of Adam against β1 and β2 (closed forms)"
SOURCE = "Zhou et al. 2019 (ICLR), §3 (critical C); docs/REFERENCE.md §3–4"


def _critical(problem: Any, beta1: float, beta2: float, points: int) -> float | None:
    try:
        res = critical_value(problem, make_optimizer("adam", beta1=beta1, beta2=float(beta2), eps=0.0), "C", points=points)
    except AdasimError:
        return None
    return res.critical


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    beta2s = np.array([0.01, 0.1, 0.5, 0.9]) if quick else 1.0 - np.geomspace(0.99, 1e-3, 12)
    beta1s = (0.0, 0.9) if quick else (0.0, 0.5, 0.9)
    tick = counter(progress, 2 * len(beta1s))
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    numbers: dict[str, Any] = {"beta2": beta2s.tolist(), "sequential": {}, "stochastic": {}}
    for ax, family in zip(axes, ("sequential", "stochastic"), strict=True):
        for beta1 in beta1s:
            if family == "sequential":
                crit = [_critical(Online(d=3, k=1), beta1, b2, 60 if quick else 120) for b2 in beta2s]
            else:
                crit = [_critical(Stochastic(C=10.0, delta=0.02), beta1, b2, 10 if quick else 16) for b2 in beta2s]
            numbers[family][str(beta1)] = crit
            tick()
            ax.plot(1.0 - beta2s, [np.nan if c is None else c for c in crit], "o-", label=f"β1 = {beta1}")
        ax.set_xscale("log")
        if any(c is not None for c in numbers[family].values() for c in c):
            ax.set_yscale("log")
            plain_log_ticks(ax.yaxis)
        ax.set_xlabel("1 − β2")
        ax.set_ylabel("critical C (Adam's drift changes sign)")
        ax.set_title(
            "sequential: C, −1, −1, ..." if family == "sequential" else "stochastic: C w.p. (1+δ)/(C+1), δ = 0.02", fontsize=10
        )
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(TITLE, fontsize=10)
    return {NAME: fig}, numbers
