"""The probe's figure: per layer, the correlation of g² with v beside its i.i.d. value and the
shifted estimator's, the factors' correlation with |g|, and the decoupled and spiking shares;
and the correlation over the windows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def probe_figure(report: Any) -> Figure:
    """Three panels from a ProbeReport (adasim.probe): per layer (rows, shared by the first two),
    r(g², v) beside the shifted v's and the i.i.d. value √(1−β2²); r(κ, |g|); and r(g², v) per
    window against the step, for up to eight layers. At least 4.2 inches tall, taller with the layers."""
    layers = report.layers
    names = [row["layer"] for row in layers]
    y = np.arange(len(names))
    fig = Figure(figsize=(12, max(4.2, 1.8 + 0.32 * len(names))), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    ax2.sharey(ax1)  # the layers' rows line up; the windows' panel has its own y axis
    iid = report.settings.get("iid_pearson")
    ax1.barh(y - 0.2, [row["pearson_g2_v"] for row in layers], height=0.4, color="#d62728", label="r(g², v)")
    ax1.barh(y + 0.2, [row["pearson_g2_v_shifted"] for row in layers], height=0.4, color="#2ca02c", label="r(g², v shifted)")
    if iid is not None and not math.isnan(iid):
        ax1.axvline(iid, color="k", lw=1, ls="--", label=f"i.i.d. √(1−β2²) = {iid:.3f}")
    ax1.set_yticks(y, names, fontsize=9 if len(names) <= 20 else 7)
    ax1.invert_yaxis()
    ax1.set_ylabel("layer")
    ax1.set_xlabel("Pearson correlation over the run")
    ax1.set_title("correlation of v with g²", fontsize=10)
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower left", ncols=3, fontsize=8, frameon=False)  # off the bars
    ax2.barh(y, [row["kappa_abs_g"] for row in layers], color="#9467bd")
    ax2.axvline(0, color="k", lw=0.8)
    ax2.tick_params(axis="y", labelleft=False)  # the layers are named on the left panel
    ax2.set_xlabel("r(κ, |g|) over the run")
    ax2.set_title("r(κ, |g|): < 0 is large gradient, small step", fontsize=10)
    steps = [w["step"] for w in report.windows]
    for name in names[:8]:
        series = [_layer_mean(w["tensors"], report.tensors, name) for w in report.windows]
        ax3.plot(steps, series, "o-" if len(steps) < 20 else "-", lw=1, ms=3, label=name)
    if iid is not None and not math.isnan(iid):
        ax3.axhline(iid, color="k", lw=1, ls="--", label="i.i.d.")
    if not steps:
        ax3.text(0.5, 0.5, "no window finished", ha="center", va="center", transform=ax3.transAxes)
    ax3.set_xlabel("step (end of the window)")
    ax3.set_ylabel("r(g², v) in the window")
    ax3.set_title("r(g², v) per window" + (" (first 8 layers)" if len(names) > 8 else ""), fontsize=10)
    if steps:
        ax3.legend(fontsize=8, title="layer", title_fontsize=8)
    for ax in (ax1, ax2, ax3):
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3, axis="x" if ax is not ax3 else "both")
    fig.suptitle(f"adasim probe: {report.settings.get('optimizer')}, {report.settings.get('steps')} steps, "
                 f"β2 = {report.settings.get('beta2')}", fontsize=11)  # fmt: skip
    return fig


def _layer_mean(window_rows: dict[str, dict[str, Any]], tensors: list[dict[str, Any]], layer: str) -> float:
    pairs = [(t["sampled"], window_rows[t["tensor"]]["pearson_g2_v"]) for t in tensors
             if t["layer"] == layer and t["tensor"] in window_rows]  # fmt: skip
    pairs = [(n, x) for n, x in pairs if x is not None and not math.isnan(x)]
    return sum(n * x for n, x in pairs) / sum(n for n, _ in pairs) if pairs else math.nan
