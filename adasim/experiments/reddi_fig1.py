"""Reddi et al. 2018, Fig. 1: the online problem (1010 / −10, period 101) — R_t/t and x_t — and
the stochastic one (1010 w.p. 0.01, else −10) — x_t; β1 = 0.9, β2 = 0.99. The paper does not
state α, T or x_1: adasim uses α_t = 0.5/√t, x_1 = 0 and T = 10^6 (its presets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adasim.experiments import counter
from adasim.plots.run import COLORS, STYLES, label_ends
from adasim.settings import RunSettings
from adasim.spec import build_spec

NAME = "reddi-fig1"
TITLE = "Reddi et al. 2018, Fig. 1: Adam goes to +1 on both problems, AMSGrad to −1"
SOURCE = "Reddi, Kale & Kumar 2018 (ICLR), Fig. 1; docs/REFERENCE.md §4"


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    steps = 100_000 if quick else 1_000_000
    seeds = 4 if quick else 16
    opts = ["adam", "amsgrad", "adashift"]
    tick = counter(progress, 2)
    online = build_spec("reddi-fig1-online", optimizers=opts, run=RunSettings(steps=steps)).run()
    tick()
    stoch = build_spec("reddi-fig1-stochastic", optimizers=opts, run=RunSettings(steps=steps, seeds=range(seeds))).run()
    tick()
    fig = Figure(figsize=(14, 4), layout="constrained")
    ax_r, ax_x, ax_s = fig.subplots(1, 3)
    numbers: dict[str, Any] = {
        "settings": {"steps": steps, "seeds_stochastic": seeds, "lr": "0.5/√t", "x1": 0.0},
        "online": {},
        "stochastic": {},
    }
    for i, r in enumerate(online):
        c, ls = COLORS[r.optimizer.name], STYLES[i % len(STYLES)]
        ax_r.plot(r.trace.t, r.trace.average_regret[:, 0], color=c, ls=ls, label=r.optimizer.name)
        ax_x.plot(r.trace.t, r.trace.x[:, 0, 0], color=c, ls=ls, label=r.optimizer.name)
        numbers["online"][r.optimizer.name] = {"final_x": float(r.final_x[0, 0]), "average_regret": float(r.average_regret[0])}
    for i, r in enumerate(stoch):
        c, ls = COLORS[r.optimizer.name], STYLES[i % len(STYLES)]
        x = r.trace.x[:, :, 0]
        ax_s.plot(r.trace.t, np.median(x, axis=1), color=c, ls=ls, label=r.optimizer.name)
        ax_s.fill_between(r.trace.t, *np.quantile(x, [0.25, 0.75], axis=1), color=c, alpha=0.2, lw=0)
        numbers["stochastic"][r.optimizer.name] = {"median_final_x": float(np.median(r.final_x[:, 0]))}
    # R_t/t of the optimizers that reach x* turns negative (x* beats the best fixed point of a
    # prefix of the sequence): a log axis would drop them, so the axis is linear near 0
    ax_r.axhline(0.0, color="black", lw=0.6)
    ax_r.set_yscale("symlog", linthresh=1e-3)
    ax_r.set_ylabel("R_t / t (linear within ±10⁻³)")
    ax_x.set_ylabel("x_t")
    ax_s.set_ylabel("x_t")
    ax_r.set_title("online: R_t / t", fontsize=10)
    ax_x.set_title("online: x_t", fontsize=10)
    ax_s.set_title(f"stochastic: x_t (median, 25–75 % of {seeds} seeds)", fontsize=10)
    for ax in (ax_r, ax_x, ax_s):
        ax.set_xscale("log")
        ax.set_xlabel("step t")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        label_ends(ax, ax.get_lines())
    fig.suptitle(TITLE, fontsize=10)
    return {NAME: fig}, numbers
