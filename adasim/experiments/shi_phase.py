"""Shi et al. 2021, Fig. 1: where RMSProp converges on the two-spike period-C problem, over
(C, β2), η_t = 1/√t, converged when the mean log10|x − x*| over the second half is below −2;
the closed-form boundary (drift = 0) drawn on top. Shi et al. report the transition for C = 10
between β2 = 0.63 and 0.64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from adasim.analysis.drift import critical_value
from adasim.experiments import counter, sweep_cells
from adasim.optimizers import make_optimizer
from adasim.plots.run import plain_log_ticks
from adasim.problems.online import Online
from adasim.settings import RunSettings
from adasim.sweep import make_plan, run_sweep

NAME = "shi-phase"
TITLE = "Shi et al. 2021, Fig. 1: RMSProp's convergence map over (C, β2) and its closed-form boundary"
SOURCE = "Shi, Li, Hong & Sun 2021 (ICLR), Fig. 1; docs/REFERENCE.md §4"
OUTCOMES = ListedColormap(["#0072B2", "#E69F00"], name="not-converged-converged")  # Okabe–Ito blue, orange: colour-blind safe
NOT_SIMULATED = "0.88"  # light grey, hatched: apart from the white background and from both outcomes


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the simulated cells, then the closed-form boundary's points."""
    Cs, b2s, steps = ("4,10,20,40", "0.3:0.95:8", 100_000) if quick else ("log:3:100:24", "0.3:0.99:24", 100_000)
    plan = make_plan("shi-two-spike", [f"C={Cs}", f"beta2={b2s}"], run=RunSettings(steps=steps))
    C_axis, b2_axis = plan.axes["C"], plan.axes["beta2"]
    boundary_C = np.unique(np.round(np.geomspace(C_axis.min(), C_axis.max(), 40)))
    tick = counter(progress, sweep_cells(plan) + len(boundary_C) + 1)
    table = run_sweep(plan, workers=1 if quick else None, progress=tick).table
    conv = np.zeros((len(C_axis), len(b2_axis)))
    for i, c in enumerate(C_axis):
        for j, b in enumerate(b2_axis):
            conv[i, j] = float(table["converged"][(table["C"] == c) & (table["beta2"] == b)][0])
    boundary = []
    for c in boundary_C:
        boundary.append(_critical_beta2(float(c)))
        tick()
    c10 = _critical_beta2(10.0)
    tick()
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
    return {NAME: figure(C_axis, b2_axis, conv, boundary_C, boundary, c10)}, numbers


def _critical_beta2(C: float) -> float | None:
    """The β2 at which RMSProp's closed-form drift on the two-spike problem of period C changes sign."""
    return critical_value(Online(C=C, d=int(C), k=2), make_optimizer("rmsprop", eps=0.0)).critical


def _edges(centres: np.ndarray, log: bool = False) -> np.ndarray:
    """The cells' edges around their centres: midpoints (geometric ones on a log axis), the ends a half cell out."""
    v = np.log(centres) if log else np.asarray(centres, dtype=float)
    inner = (v[1:] + v[:-1]) / 2
    edges = np.concatenate([[2 * v[0] - inner[0]], inner, [2 * v[-1] - inner[-1]]])
    return np.exp(edges) if log else edges


def figure(
    C_axis: np.ndarray,
    b2_axis: np.ndarray,
    conv: np.ndarray,
    boundary_C: np.ndarray,
    boundary: list[float | None],
    c10: float | None,
) -> Figure:
    """The map over β2 ∈ [0, 1] (x) and C (y, log): simulated cells orange (converged) or blue, the
    β2 range left of the simulated cells hatched grey and named "not simulated", the closed-form
    boundary over all of it; the legend below the axes, over no data."""
    fig = Figure(figsize=(6.5, 5.2), layout="constrained")
    ax = fig.subplots()
    b2_edges = np.clip(_edges(b2_axis), 0.0, 1.0)
    ax.pcolormesh(b2_edges, _edges(C_axis, log=True), conv, shading="flat", cmap=OUTCOMES, vmin=0, vmax=1)
    skipped = ax.axvspan(0.0, b2_edges[0], facecolor=NOT_SIMULATED, edgecolor="none", hatch="//", hatchcolor="0.6",
                         zorder=0.5, label=f"not simulated (β2 < {b2_axis[0]:g})")  # fmt: skip
    drawn = [(b, c) for b, c in zip(boundary, boundary_C, strict=True) if b is not None]
    ax.plot([b for b, _ in drawn], [c for _, c in drawn], "k-", lw=1.5, label="closed form: drift = 0")
    if c10 is not None:
        ax.plot([c10], [10], "o", color="black", label=f"C = 10: β2* = {c10:.4f} (paper: 0.63–0.64)")
    ax.set_xlim(0.0, 1.0)
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)  # C = 2, 5, 10, 20, ... (not 2×10⁰)
    ax.set_xlabel("β2")
    ax.set_ylabel("C (period C, two spikes)")
    ax.set_title("orange: converged (simulated), blue: not", fontsize=10)
    cells = [
        Patch(color=OUTCOMES.colors[1], label="converged (simulated)"),
        Patch(color=OUTCOMES.colors[0], label="not converged"),
        skipped,
    ]
    fig.legend(handles=[*ax.get_lines(), *cells], fontsize=8, loc="outside lower center", ncols=2)
    fig.suptitle(TITLE, fontsize=9)
    return fig
