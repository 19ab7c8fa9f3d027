"""The AdaShift paper's stochastic problem (Zhou et al. 2019, the authors' script): C = 101,
δ = 0.02, unconstrained, α = 1e-3, β2 = 0.999, ε = 1e-8 inside the root, 10^4 warm-up steps,
10^7 steps. Left: Adam, AMSGrad (max over the bias-corrected v) and AdaShift (n = 1), β1 = 0.
Right: Adam at (β1, β2) = (0.9, 0.999), (0.9, 0.9999), (0.9999, 0.999). Median and 25–75 % band
over seeds (the script shows one run: Adam ends near +32.9, AMSGrad −6.5, AdaShift −17.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adasim.engine import simulate
from adasim.experiments import counter
from adasim.plots.run import COLORS
from adasim.settings import RunSettings
from adasim.spec import build_spec

NAME = "adashift-stochastic"
TITLE = "AdaShift paper, stochastic problem: Adam drifts up, AMSGrad and AdaShift down"
SOURCE = "Zhou et al. 2019 (ICLR), the authors' stochastic script; docs/REFERENCE.md §4"
PAPER = {"adam": 32.9, "amsgrad": -6.5, "adashift": -17.4}  # one seed of the authors' script


def _band(ax, run, label, color, style="-"):
    t = run.trace.t
    x = run.trace.x[:, :, 0]
    ax.plot(t, np.median(x, axis=1), style, color=color, label=label)
    ax.fill_between(t, *np.quantile(x, [0.25, 0.75], axis=1), color=color, alpha=0.2, lw=0)


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the optimizer runs (each `seeds` lanes × `steps`)."""
    steps, seeds = (200_000, 8) if quick else (10_000_000, 32)
    left_spec = build_spec("adashift-stochastic", run=RunSettings(steps=steps, seeds=range(seeds)))
    right_settings = [(0.9, 0.999), (0.9, 0.9999), (0.9999, 0.999)]
    tick = counter(progress, len(left_spec.optimizers) + len(right_settings))
    left = []
    for opt in left_spec.optimizers:  # what left_spec.run() does, one optimizer at a time
        left.append(simulate(left_spec.problem, opt, run=left_spec.run_settings))
        tick()
    right = []
    for b1, b2 in right_settings:
        right += build_spec("adashift-stochastic", optimizers=["adam"], hyper={"beta1": b1, "beta2": b2},
                            run=RunSettings(steps=steps, seeds=range(seeds))).run()  # fmt: skip
        tick()
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_l, ax_r = fig.subplots(1, 2)
    numbers: dict[str, Any] = {"settings": {"steps": steps, "seeds": seeds, "warmup": 10_000}, "left": {}, "right": {}}
    for r in left:
        _band(ax_l, r, r.optimizer.name, COLORS[r.optimizer.name])
        xs = r.final_x[:, 0]
        numbers["left"][r.optimizer.name] = {"median": float(np.median(xs)), "q25": float(np.quantile(xs, 0.25)),
                                             "q75": float(np.quantile(xs, 0.75)), "paper_one_seed": PAPER.get(r.optimizer.name)}  # fmt: skip
    for (b1, b2), r, style in zip(right_settings, right, ("-", "--", ":"), strict=True):
        _band(ax_r, r, f"adam β1={b1}, β2={b2}", "#d62728", style)
        numbers["right"][f"{b1},{b2}"] = {"median": float(np.median(r.final_x[:, 0]))}
    for ax, title in ((ax_l, "β1 = 0, β2 = 0.999"), (ax_r, "Adam: other (β1, β2)")):
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xlabel("step t")
        ax.set_ylabel("x_t (x* is at −∞: the gradient mean is +0.02)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{TITLE} ({seeds} seeds, {steps:,} steps)", fontsize=10)
    return {NAME: fig}, numbers
