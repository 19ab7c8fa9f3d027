"""Zhang et al. 2022 (NeurIPS): where Adam converges on the finite-sum problem (f_0 = n·x,
f_i = −x), as a (β1, β2) heat map of |x_T − x*| after 5·10^4 steps, for n = 10 and 50, with the
curve β1 = √β2 drawn. Sampling: reshuffled every epoch; α_t = 1/√t and x_1 = 0 are adasim's
choices (not stated in REFERENCE)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adasim.experiments import counter, sweep_cells
from adasim.schedules import Schedule
from adasim.settings import RunSettings
from adasim.sweep import make_plan, run_sweep

NAME = "zhang-heatmap"
TITLE = "Zhang et al. 2022: Adam on the finite-sum problem over (β1, β2), n = 10 and 50"
SOURCE = "Zhang, Chen, Shi, Sun & Luo 2022 (NeurIPS); docs/REFERENCE.md §4"


def _plan(n: int, axes: list[str], steps: int) -> Any:
    """A sweep of Adam on the finite-sum problem with n, reshuffled every epoch, α_t = 1/√t, over `axes`."""
    return make_plan("finite-sum", axes, problem={"n": n, "sampling": "shuffle"}, optimizers=["adam"],
                     hyper={"lr": 1.0, "schedule": Schedule("inv-sqrt")}, rule="distance", with_drift=False,
                     run=RunSettings(steps=steps))  # fmt: skip


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the runs of `steps` steps (a cell of the longer check counts longer/steps)."""
    steps, points, seeds = (5_000, 6, 1) if quick else (50_000, 24, 4)
    longer = 500_000
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    axes = fig.subplots(1, 2)
    numbers: dict[str, Any] = {"settings": {"steps": steps, "grid": points, "seeds": seeds, "sampling": "shuffle", "lr": "1/√t"}}
    beta2_axis = ",".join(f"{b:.6g}" for b in 1.0 - np.geomspace(0.5, 1e-4, points))
    plans = {
        n: _plan(n, [f"beta1=0:0.99:{points}", f"beta2={beta2_axis}", f"seed=0:{seeds - 1}:{seeds}"], steps) for n in (10, 50)
    }
    check = None if quick else _plan(50, ["beta1=0,0.9", "beta2=0.999,0.9999", f"seed=0:{seeds - 1}:{seeds}"], longer)
    weight = longer // steps
    tick = counter(progress, sum(sweep_cells(p) for p in plans.values()) + (0 if check is None else weight * sweep_cells(check)))
    for ax, (n, plan) in zip(axes, plans.items(), strict=True):
        result = run_sweep(plan, workers=1 if quick else None, progress=tick)
        b1, b2 = plan.axes["beta1"], plan.axes["beta2"]
        dist = np.zeros((len(b1), len(b2)))
        t = result.table
        for i, a in enumerate(b1):
            for j, b in enumerate(b2):
                dist[i, j] = np.nanmedian(t["distance"][(t["beta1"] == a) & (t["beta2"] == b)])
        mesh = ax.pcolormesh(1.0 - b2, b1, dist, shading="nearest", cmap="viridis", vmin=0, vmax=2)
        grid = np.geomspace((1.0 - b2).min(), (1.0 - b2).max(), 200)
        ax.plot(grid, np.sqrt(1.0 - grid), "--", color="red", label="β1 = √β2")
        ax.set_xscale("log")
        ax.set_ylim(b1.min(), b1.max())
        ax.set_xlabel("1 − β2")
        ax.set_ylabel("β1")
        ax.set_title(f"n = {n}: |x_T − x*| (0 = converged)", fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
        numbers[f"n={n}"] = {"beta1": b1.tolist(), "beta2": b2.tolist(), "distance": dist.tolist()}
    if check is not None:  # with α_t = 1/√t the n = 50 region needs more steps than the paper's 5·10^4
        plan = check
        t = run_sweep(plan, workers=None, progress=lambda cells: tick(weight * cells)).table
        numbers[f"n=50,steps={longer}"] = [
            {
                "beta1": float(a),
                "beta2": float(b),
                "median_distance": float(np.nanmedian(t["distance"][(t["beta1"] == a) & (t["beta2"] == b)])),
            }
            for a in plan.axes["beta1"]
            for b in plan.axes["beta2"]
        ]
    fig.colorbar(mesh, ax=axes, label="median |x_T − x*|")
    fig.suptitle(TITLE, fontsize=10)
    return {NAME: fig}, numbers
