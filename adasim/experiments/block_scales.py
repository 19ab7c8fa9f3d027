"""Spatial dilution against temporal decorrelation on a layered problem: two layers of 8
coordinates whose gradients differ by a factor 1000 (each coordinate its own stream of Reddi's
stochastic counterexample with C = 30, p = 0.05 and C = 100, p = 0.015: E g > 0, optimum −1). Adam keeps one v
per coordinate, Adam-mini one per layer (the block mean of g_t², no shift), AdaShift (n = 1, φ =
mean) one per layer from g_{t−1}; Adam-mini with a single block for both layers shows what a
partition that mixes scales does. Left: Pearson(g², v) per layer with the closed forms
√(1−β2²) (Adam), √((1−β2²)/k) (a block of k, docs/REFERENCE.md §3 and adasim.analysis.dilution)
and 0 (shifted). Middle, right: the median final x per layer. Dilution rescues Adam-mini on the
first problem (Adam fails) and not on the second; the shift rescues AdaShift on both."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adasim import Adam, AdamMini, AdaShift, Layered, simulate
from adasim.analysis.correlation import measure_correlation
from adasim.experiments import counter

NAME = "block-scales"
TITLE = "Adam-mini dilutes the v–g correlation over a block, AdaShift removes it: a layered problem with two scales"
SOURCE = ("adasim's own experiment; Adam-mini: Zhang et al. 2025 (ICLR); AdaShift: Zhou et al. 2019 (ICLR) §5; "
          "docs/REFERENCE.md §3, §6")  # fmt: skip

SIZE = 8
BETA2 = 0.9


def _optimizers() -> dict[str, Any]:
    common = {"lr": 0.01, "beta1": 0.0, "beta2": BETA2, "eps": 1e-12}
    return {
        "adam": Adam(**common),
        "adam-mini": AdamMini(**common),
        "adam-mini, one block": AdamMini(**common, blocks=(2 * SIZE,)),
        "adashift n=1, φ=mean": AdaShift(**common, n=1, phi="mean"),
    }


PROBLEMS = {"C = 30, p = 0.05": (30.0, 0.05), "C = 100, p = 0.015": (100.0, 0.015)}
COLORS = ("#1f77b4", "#ff7f0e")
LAYERS = ("layer 1 (scale 1)", "layer 2 (scale 10⁻³)")


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the runs: every optimizer on both problems, and its correlation measured on the first."""
    steps, seeds = (4_000, 2) if quick else (100_000, 32)
    fig = Figure(figsize=(15, 4.8), layout="constrained")
    axes = fig.subplots(1, 3)
    axes[2].sharey(axes[1])  # both show the median x_T: one scale, labelled once
    ax_r = axes[0]
    numbers: dict[str, Any] = {"settings": {"steps": steps, "runs": seeds, "beta1": 0.0, "beta2": BETA2, "lr": 0.01}}
    names = list(_optimizers())
    tick = counter(progress, (len(PROBLEMS) + 1) * len(names))
    width = 0.38
    for col, (label, (C, p)) in enumerate(PROBLEMS.items()):
        problem = Layered(blocks=((SIZE, 1.0), (SIZE, 1e-3)), base="stochastic", C=C, s=1.0, p=p)
        ax_x = axes[col + 1]
        rows = {}
        for i, (name, opt) in enumerate(_optimizers().items()):
            final = simulate(problem, opt, steps, seeds=np.arange(seeds)).final_x  # (lanes, 16)
            tick()
            per_layer = [float(np.median(final[:, :SIZE])), float(np.median(final[:, SIZE:]))]
            row: dict[str, Any] = {"median_final_x_per_layer": per_layer, "settings": opt.config()}
            for layer in range(2):
                ax_x.bar(i + (layer - 0.5) * width, per_layer[layer], width, color=COLORS[layer],
                         label=LAYERS[layer] if i == 0 else None)  # fmt: skip
            if col == 0:  # the correlation does not depend on C and p's balance: measured on the first problem
                corr = measure_correlation(problem, opt, steps, seeds=np.arange(seeds))
                tick()
                r = [b["pearson_g2_v"] for b in corr.per_block]
                ci = np.array([b["pearson_g2_v_ci"] for b in corr.per_block])
                for layer in range(2):
                    ax_r.bar(i + (layer - 0.5) * width, r[layer], width, color=COLORS[layer],
                             yerr=[[r[layer] - ci[layer, 0]], [ci[layer, 1] - r[layer]]], capsize=2,
                             label=LAYERS[layer] if i == 0 else None)  # fmt: skip
                row.update(pearson_g2_v_per_layer=r, pearson_g2_v_ci_per_layer=ci.tolist())
            rows[name] = row
        ax_x.axhline(-1.0, color="black", ls="--", lw=0.8)
        ax_x.set_ylim(-1.05, 1.05)
        if col == 0:
            ax_x.set_ylabel(f"median x_T over the layer\n(T = {steps:,}; x* = −1)")
        else:
            ax_x.tick_params(labelleft=False)
        ax_x.set_title(f"where each layer ends: g = {C:g} w.p. {p:g}, else −1 (E g = {C * p - (1 - p):.2f})", fontsize=9)
        ax_x.legend(fontsize=7)
        numbers[label] = {"problem": problem.params(), "results": rows}
    closed = {"adam": math.sqrt(1 - BETA2**2), "block of 8": math.sqrt((1 - BETA2**2) / SIZE), "shifted": 0.0}
    ax_r.axhline(closed["adam"], color="black", ls="--", lw=0.9, label="√(1−β2²): one v per coordinate")
    ax_r.axhline(closed["block of 8"], color="black", ls=":", lw=0.9, label="√((1−β2²)/8): a block of 8")
    ax_r.axhline(0.0, color="black", lw=0.6)
    for ax in axes:
        ax.set_xticks(range(len(names)), [n.replace(", ", ",\n").replace(" n=", "\nn=") for n in names], fontsize=8)
        ax.set_xlabel("optimizer (its scale: one v per coordinate, per block, shifted)", fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    ax_r.set_ylabel("Pearson(g_t², v_t) within the layer")
    ax_r.set_title(f"v–g² correlation per layer (β1 = 0, β2 = {BETA2}; 95 % intervals)", fontsize=9)
    ax_r.legend(fontsize=7)
    numbers["closed_form_pearson"] = closed
    numbers["published"] = "none: the Adam-mini paper does not study these counterexamples"
    fig.suptitle(f"{TITLE} ({seeds} runs, {steps:,} steps, α = 0.01)", fontsize=10)
    return {NAME: fig}, numbers
