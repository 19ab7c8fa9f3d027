"""The ADOPT paper's toy problem (Taniguchi et al. 2024): g = k² w.p. 1/k else −k (E g = 1),
α_t = 0.01/√(1 + 0.01 t), β1 = 0.9, β2 ∈ {0.1, 0.5, 0.999}, k ∈ {10, 50}; median and 25–75 %
band of x_t for Adam, AMSGrad and ADOPT — with the official clip (t−1)^(1/4) and without it (the
original release). 1000 runs × 2·10^6 steps as the paper (about 15 minutes on one core with the
compiled engine); the quick version 16 × 2·10^4."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adasim.experiments import counter
from adasim.plots.run import COLORS, STYLES, suptitle
from adasim.settings import RunSettings
from adasim.spec import build_spec

NAME = "adopt-toy"
TITLE = "ADOPT toy problem: Adam fails for small β2; whether ADOPT converges depends on its clip and k"
SOURCE = "Taniguchi et al. 2024 (NeurIPS), toy problem; docs/REFERENCE.md §4"


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    steps, seeds = (20_000, 16) if quick else (2_000_000, 1000)
    beta2s = (0.1, 0.5, 0.999)
    tick = counter(progress, 2 * len(beta2s))
    fig = Figure(figsize=(13, 7), layout="constrained")
    grid = fig.subplots(2, 3, sharex=True, sharey=True)
    numbers: dict[str, Any] = {"settings": {"steps": steps, "runs": seeds}}
    for row, k in enumerate((10, 50)):
        for col, beta2 in enumerate(beta2s):
            ax = grid[row, col]
            runs = build_spec(f"adopt-toy-k{k}", hyper={"beta2": beta2}, run=RunSettings(steps=steps, seeds=range(seeds))).run()
            unclipped = build_spec(
                f"adopt-toy-k{k}",
                optimizers=["adopt"],
                hyper={"beta2": beta2, "clip": False},
                run=RunSettings(steps=steps, seeds=range(seeds)),
            ).run()
            cell = {}
            drawn = [
                *((r, r.optimizer.name, STYLES[i % len(STYLES)]) for i, r in enumerate(runs)),
                (unclipped[0], "adopt, no clip", ":"),
            ]
            for r, label, style in drawn:
                x = r.trace.x[:, :, 0]
                c = COLORS[r.optimizer.name]
                ax.plot(r.trace.t, np.median(x, axis=1), style, color=c, label=label)
                ax.fill_between(r.trace.t, *np.quantile(x, [0.25, 0.75], axis=1), color=c, alpha=0.15, lw=0)
                cell[label] = {"median_final_x": float(np.median(r.final_x[:, 0]))}
            numbers[f"k={k},beta2={beta2}"] = cell
            tick()
            ax.axhline(-1.0, color="black", ls="--", lw=0.8)
            ax.set_xscale("log")
            ax.set_title(f"k = {k}, β2 = {beta2}", fontsize=10)
            ax.grid(alpha=0.3)
            if row == 1:
                ax.set_xlabel("step t")
            if col == 0:
                ax.set_ylabel("x_t")
    grid[0, 0].legend(fontsize=8)
    suptitle(fig, f"ADOPT toy problem ({seeds} runs, {steps:,} steps, median x_T < −0.5 counts as reaching x* = −1): "
             + verdicts(numbers))  # fmt: skip
    return {NAME: fig}, numbers


def verdicts(numbers: dict[str, Any]) -> str:
    """What the panels show, from their numbers: for each optimizer, the (k, β2) where the median
    x_T reached x* — so that the title never claims more than the figure."""
    cells = {key: cell for key, cell in numbers.items() if key.startswith("k=")}
    words = []
    for label in next(iter(cells.values())):
        reached = [
            key.replace("beta2", "β2").replace(",", " ") for key, cell in cells.items() if cell[label]["median_final_x"] < -0.5
        ]
        where = "every panel" if len(reached) == len(cells) else "nowhere" if not reached else ", ".join(reached)
        words.append(f"{label} reaches x* in {where}")
    return "; ".join(words)
