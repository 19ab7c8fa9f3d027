"""The probe's figure: per layer, the correlation of g² with v beside its i.i.d. value and the
shifted estimator's, the factors' correlation with |g|, and the decoupled and spiking shares;
and the correlation over the windows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def probe_figure(report: Any) -> Figure:
    """Three panels from a ProbeReport (adasim.probe)."""
    layers = report.layers
    names = [row["layer"] for row in layers]
    y = np.arange(len(names))
    fig = Figure(figsize=(11, 1.2 + 0.35 * max(len(names), 3)), constrained_layout=True)
    ax1, ax2, ax3 = fig.subplots(1, 3, sharey=False)
    iid = report.settings.get("iid_pearson")
    ax1.barh(y - 0.2, [row["pearson_g2_v"] for row in layers], height=0.4, color="#d62728", label="r(g², v)")
    ax1.barh(y + 0.2, [row["pearson_g2_v_shifted"] for row in layers], height=0.4, color="#2ca02c", label="r(g², v shifted)")
    if iid is not None and not math.isnan(iid):
        ax1.axvline(iid, color="k", lw=1, ls="--", label=f"i.i.d. √(1−β2²) = {iid:.3f}")
    ax1.set_yticks(y, names, fontsize=7)
    ax1.invert_yaxis()
    ax1.set_title("correlation of v with g²", fontsize=9)
    ax1.legend(fontsize=7)
    ax2.barh(y, [row["kappa_abs_g"] for row in layers], color="#9467bd")
    ax2.axvline(0, color="k", lw=0.8)
    ax2.set_yticks(y, [""] * len(names))
    ax2.invert_yaxis()
    ax2.set_title("r(κ, |g|): < 0 is large gradient, small step", fontsize=9)
    steps = [w["step"] for w in report.windows]
    for name in names[:8]:
        series = [_layer_mean(w["tensors"], report.tensors, name) for w in report.windows]
        ax3.plot(steps, series, lw=1, label=name)
    if iid is not None and not math.isnan(iid):
        ax3.axhline(iid, color="k", lw=1, ls="--")
    ax3.set_xlabel("step")
    ax3.set_title("r(g², v) per window", fontsize=9)
    if steps:
        ax3.legend(fontsize=6)
    fig.suptitle(f"adasim probe: {report.settings.get('optimizer')}, {report.settings.get('steps')} steps, "
                 f"β2 = {report.settings.get('beta2')}", fontsize=10)  # fmt: skip
    return fig


def _layer_mean(window_rows: dict[str, dict[str, Any]], tensors: list[dict[str, Any]], layer: str) -> float:
    pairs = [(t["sampled"], window_rows[t["tensor"]]["pearson_g2_v"]) for t in tensors
             if t["layer"] == layer and t["tensor"] in window_rows]  # fmt: skip
    pairs = [(n, x) for n, x in pairs if x is not None and not math.isnan(x)]
    return sum(n * x for n, x in pairs) / sum(n for n, _ in pairs) if pairs else math.nan
