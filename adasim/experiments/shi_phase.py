"""Shi et al. 2021, Fig. 1: where RMSProp converges on the two-spike period-C problem, over
(C, β2), η_t = 1/√t, converged when the mean log10|x − x*| over the second half is below −2;
the closed-form boundary (drift = 0) drawn on top. Shi et al. report the transition for C = 10
between β2 = 0.63 and 0.64."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from adasim.analysis.drift import critical_value
from adasim.optimizers import make_optimizer
from adasim.problems.online import Online
from adasim.settings import RunSettings
from adasim.sweep import make_plan, run_sweep

NAME = "shi-phase"
TITLE = "Shi et al. 2021, Fig. 1: RMSProp's convergence map over (C, β2) and its closed-form boundary"
SOURCE = "Shi, Li, Hong & Sun 2021 (ICLR), Fig. 1; docs/REFERENCE.md §4"
OUTCOMES = ListedColormap(["#0072B2", "#E69F00"], name="not-converged-converged")  # Okabe–Ito blue, orange: colour-blind safe


def run(quick: bool = False) -> tuple[dict[str, Figure], dict[str, Any]]:
    Cs, b2s, steps = ("4,10,20,40", "0.3:0.95:8", 100_000) if quick else ("log:3:100:24", "0.3:0.99:24", 100_000)
    plan = make_plan("shi-two-spike", [f"C={Cs}", f"beta2={b2s}"], run=RunSettings(steps=steps))
    result = run_sweep(plan, workers=1 if quick else None)
    table = result.table
    C_axis, b2_axis = plan.axes["C"], plan.axes["beta2"]
    conv = np.zeros((len(C_axis), len(b2_axis)))
    for i, c in enumerate(C_axis):
        for j, b in enumerate(b2_axis):
            conv[i, j] = float(table["converged"][(table["C"] == c) & (table["beta2"] == b)][0])
    boundary_C = np.unique(np.round(np.geomspace(C_axis.min(), C_axis.max(), 40)))
    boundary = [
        critical_value(Online(C=float(c), d=int(c), k=2), make_optimizer("rmsprop", eps=0.0)).critical for c in boundary_C
    ]
    c10 = critical_value(Online(C=10.0, d=10, k=2), make_optimizer("rmsprop", eps=0.0)).critical
    fig = Figure(figsize=(6.5, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.pcolormesh(b2_axis, C_axis, conv, shading="nearest", cmap=OUTCOMES, vmin=0, vmax=1)
    ax.plot(boundary, boundary_C, "k-", lw=1.5, label="closed form: drift = 0")
    ax.plot([c10], [10], "o", color="black", label=f"C = 10: β2* = {c10:.4f} (paper: 0.63–0.64)")
    ax.set_yscale("log")
    ax.set_xlabel("β2")
    ax.set_ylabel("C (period C, two spikes)")
    ax.set_title("orange: converged (simulated), blue: not", fontsize=10)
    cells = [
        Patch(color=OUTCOMES.colors[1], label="converged (simulated)"),
        Patch(color=OUTCOMES.colors[0], label="not converged"),
    ]
    ax.legend(handles=ax.get_legend_handles_labels()[0] + cells, fontsize=8, loc="upper left")
    fig.suptitle(TITLE, fontsize=9)
    numbers = {
        "settings": {
            "steps": steps,
            "C": C_axis.tolist(),
            "beta2": b2_axis.tolist(),
            "rule": "mean log10|x − x*| over the second half < −2",
        },
        "converged": conv.tolist(),
        "critical_beta2_C10": c10,
        "paper_transition_C10": [0.63, 0.64],
        "boundary": {"C": boundary_C.tolist(), "beta2": boundary},
    }
    return {NAME: fig}, numbers
