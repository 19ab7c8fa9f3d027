"""Adam's (β1, β2) phase map against the mini-batch size b on the ADOPT toy problem (k = 10:
g = 100 w.p. 0.1, else −10; E g = 1, optimum −1). A mini-batch of b draws keeps the mean and
divides the variance by b; the rare spike becomes a frequent, smaller one, and the region of
(β1, β2) where Adam reaches the optimum grows with b. Each cell: the median over seeds of x_T
(−1: the optimum, +1: the worst point), with α_t = 0.01/√(1 + 0.01 t) as in the ADOPT paper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from adasim import Adam, Schedule, Stochastic, simulate
from adasim.experiments import counter

NAME = "batch-phase"
TITLE = "Adam's convergent (β1, β2) region grows with the mini-batch: the ADOPT toy problem (k = 10)"
SOURCE = "adasim's own experiment; problem: Taniguchi et al. 2024 (NeurIPS), toy problem with k = 10; docs/REFERENCE.md §4"


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the mini-batch sizes (each a run of every cell's seeds)."""
    steps, seeds = (20_000, 2) if quick else (200_000, 8)
    batches = (1, 8) if quick else (1, 2, 4, 8)
    tick = counter(progress, len(batches))
    beta1 = np.array([0.0, 0.5, 0.9]) if quick else np.array([0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99])
    one_minus_beta2 = np.logspace(-0.3, -4, 4 if quick else 10)  # 1 − β2 from 0.5 to 10⁻⁴: log-spaced
    B1, OM = np.meshgrid(beta1, one_minus_beta2, indexing="xy")  # rows: β2, columns: β1
    cells = B1.size
    lanes_b1 = np.repeat(B1.ravel(), seeds)
    lanes_b2 = np.repeat(1.0 - OM.ravel(), seeds)
    fig = Figure(figsize=(4 * len(batches) + 1, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(batches), sharey=True))
    norm = Normalize(-1.0, 1.0)
    numbers: dict[str, Any] = {"settings": {"steps": steps, "runs_per_cell": seeds, "beta1": beta1.tolist(),
                                            "beta2": (1.0 - one_minus_beta2).tolist(), "batches": list(batches)}}  # fmt: skip
    image = None
    for ax, b in zip(axes, batches, strict=True):
        problem = Stochastic(C=100.0, s=10.0, p=0.1, b=b)
        opt = Adam(lr=0.01, schedule=Schedule("inv-sqrt-affine"), beta1=lanes_b1, beta2=lanes_b2)
        final = simulate(problem, opt, steps, seeds=np.arange(cells * seeds)).final_x[:, 0]
        median = np.median(final.reshape(cells, seeds), axis=1).reshape(B1.shape)
        tick()
        image = ax.pcolormesh(np.arange(beta1.size + 1) - 0.5, np.arange(one_minus_beta2.size + 1) - 0.5, median,
                              cmap="PuOr_r", norm=norm, shading="flat")  # fmt: skip
        ax.contour(np.arange(beta1.size), np.arange(one_minus_beta2.size), median, levels=[0.0], colors="black",
                   linewidths=1.2)  # fmt: skip
        ax.set_xticks(range(beta1.size), [f"{v:g}" for v in beta1], fontsize=8)
        ax.set_yticks(range(one_minus_beta2.size), [f"{1 - v:.4g}" for v in one_minus_beta2], fontsize=8)
        ax.set_xlabel("β1")
        ax.set_title(f"mini-batch b = {b}", fontsize=9)
        numbers[f"b={b}"] = {"median_final_x": median.tolist(),
                             "cells_below_0": int(np.sum(median < 0.0)), "cells": int(cells)}  # fmt: skip
    axes[0].set_ylabel("β2 (log-spaced in 1 − β2; black line: x_T = 0)")
    fig.colorbar(image, ax=axes.tolist(), label="median x_T (−1 optimum, +1 worst point)")
    numbers["published"] = "no published phase map for this problem; Taniguchi et al. show Adam failing at b = 1"
    fig.suptitle(f"{TITLE} ({seeds} runs per cell, {steps:,} steps)", fontsize=10)
    return {NAME: fig}, numbers
