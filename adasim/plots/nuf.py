"""Figures for net update factors, the v–g correlation and the drift against β2 (or C)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from adasim.analysis.drift import Critical
from adasim.analysis.report import CorrelationReport, NUFReport
from adasim.plots.run import COLORS, plain_log_ticks, suptitle, wrap_text


def _settings(cfg: dict) -> str:
    keys = [k for k in ("beta1", "beta2", "n", "eps") if cfg.get(k) is not None]
    return ", ".join(f"{k}={cfg[k]:.4g}" if isinstance(cfg[k], float) else f"{k}={cfg[k]}" for k in keys)


def figure_nuf(report: NUFReport, title: str = "") -> Figure:
    """One panel per optimizer. Periodic problems: κ per phase (bars: measured, ◆: closed form).
    i.i.d. problems: the distribution of κ per gradient value (violins), its mean (●) and the
    closed form (◆). κ is the net update factor in units of α_s."""
    results = report.results
    cols = min(len(results), 3)
    rows = -(-len(results) // cols)
    fig = Figure(figsize=(4.6 * cols, 3.8 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, sharey=True)).ravel()  # one scale: panels compare
    for ax, res in zip(axes, results, strict=False):
        color = COLORS.get(res.optimizer.name, "black")
        groups = res.empirical.groups
        if res.empirical.trouble:  # numerical trouble is reported, not plotted
            ax.set_axis_off()
            ax.set_title(res.optimizer.name)
            ax.text(0.5, 0.5, "not measured:\n" + res.empirical.trouble.replace(" (", "\n("), ha="center", va="center",
                    wrap=True, fontsize=9, transform=ax.transAxes)  # fmt: skip
            continue
        periodic = groups[0].phase is not None
        rows_ = res.as_dict()["nuf"]
        x = np.arange(len(groups))
        if periodic:
            ax.bar(x, [g.mean for g in groups], color=color, alpha=0.6, label="measured")
            labels = [f"{g.phase}\n{g.gradient:g}" for g in groups]
            ax.set_xlabel("phase j / gradient c_j")
        else:
            data = [np.concatenate(g.samples) if g.samples else np.array([g.mean]) for g in groups]
            parts = ax.violinplot(data, positions=x, showextrema=False, widths=0.8)
            for body in parts["bodies"]:
                body.set_facecolor(color)
                body.set_alpha(0.35)
            ax.plot(x, [g.mean for g in groups], "o", color=color, label="measured mean")
            labels = [f"g = {g.gradient:g}\n(n = {g.n:,})" for g in groups]
            ax.set_xlabel("gradient value")
        analytic = [r["analytic"] for r in rows_]
        if any(a is not None for a in analytic):
            ax.plot(x, [np.nan if a is None else a for a in analytic], "D", color="black", ms=6, mfc="none", label="closed form")
        ax.set_xticks(x, labels, fontsize=8 if len(groups) > 6 else 9)
        if len(groups) > 12:
            ax.set_xticks(x[:: max(1, len(groups) // 12)])
        if res.reason:  # a caption under the x label, clear of the data
            note = wrap_text("no closed form: " + res.reason.split(": ", 1)[-1], 4.4, 7)
            ax.annotate(note, xy=(0.5, 0.0), xycoords=ax.xaxis.label, xytext=(0, -3), textcoords="offset points",
                        ha="center", va="top", fontsize=7, color="0.25")  # fmt: skip
        drift = res.as_dict()["drift"]
        closed = "" if drift["analytic"] is None else f", closed form {drift['analytic']:+.3g}"
        head = f"{res.optimizer.name} ({_settings(res.optimizer.config())})"
        ax.set_title(f"{head}\ndrift/α: measured {drift['empirical']:+.3g}{closed}", fontsize=9)
        ax.set_ylabel("net update factor κ = k_s/α_s")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7)
    for ax in axes[len(results) :]:
        ax.remove()  # no empty slot
    suptitle(fig, title)
    return fig


def figure_correlation(report: CorrelationReport, title: str = "") -> Figure:
    """Pearson(g², v) against the shift n with its 95 % interval; the closed form where it exists."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for c in report.results:
        color = COLORS.get(c.optimizer, "black")
        offset = {"adam": -0.08, "adopt": 0.08}.get(c.optimizer, 0.0)  # keep coinciding markers apart
        x = (c.shift if c.shift is not None else -1) + offset
        lo, hi = c.pearson_g2_v_ci
        err = [[c.pearson_g2_v - lo], [hi - c.pearson_g2_v]] if np.isfinite(lo) else None
        marker = {"adam": "s", "adopt": "^"}.get(c.optimizer, "o")
        ax.errorbar([x], [c.pearson_g2_v], yerr=err, fmt=marker, color=color, capsize=3, label=c.optimizer)
        if c.analytic_pearson_g2_v is not None:
            ax.plot([x], [c.analytic_pearson_g2_v], "D", mfc="none", color="black", ms=8)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    if any(c.analytic_pearson_g2_v is not None for c in report.results):
        from matplotlib.lines import Line2D

        unique["closed form"] = Line2D([], [], marker="D", mfc="none", color="black", ls="none")
    ax.legend(unique.values(), unique.keys(), fontsize=8)
    ax.axhline(0.0, color="black", lw=0.6)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("shift $n$ (the scale $v_t$ is built from $g_{t-n}$ and older)")
    ax.set_ylabel("Pearson correlation of $g_t^2$ and $v_t$")
    ax.grid(alpha=0.3)
    ax.set_title(title or "correlation of $g_t^2$ with the $v_t$ that scales it", fontsize=10)
    return fig


def figure_drift(res: Critical, optimizer: str, title: str = "") -> Figure:
    """The wrong-way drift (drift × sign of the mean gradient; > 0 moves away from the optimum)
    against β2 (or C), with the critical value marked."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    x = res.grid if res.parameter == "C" else 1.0 - res.grid
    ax.plot(x, res.wrong_way, "-", color=COLORS.get(optimizer, "black"), label=optimizer)
    ax.axhline(0.0, color="black", lw=0.6)
    if res.critical is not None:
        xc = res.critical if res.parameter == "C" else 1.0 - res.critical
        ax.axvline(xc, color="black", ls="--", lw=0.8, label=f"critical {res.parameter} = {res.critical:.6g}")
    ax.set_xscale("log")
    ax.set_xlabel("C" if res.parameter == "C" else "1 − β2")
    ax.set_ylabel("drift away from the optimum, per step / α")
    ax.fill_between(x, 0, np.maximum(res.wrong_way, 0), color="red", alpha=0.1, label="moves the wrong way")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(title or f"analytic drift of {optimizer}", fontsize=10)
    return fig


NOT_COMPUTED = "#8c8c8c"  # cells without a ratio: mid grey, apart from the white of ρ ≈ 0


def figure_wrong_way(cx, region: dict, title: str = "") -> Figure:
    """The wrong-way ratio ρ over (d, C) for the counterexample's k (red: away from the optimum,
    blue: toward it, white: ρ ≈ 0, grey: not computed, where x* = −1 does not hold with the margin
    or d ≤ k), the returned problem marked."""
    from matplotlib import colormaps
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.patches import Patch

    fig = Figure(figsize=(7.5, 5), layout="constrained")
    ax = fig.subplots()
    ratio = region["ratio"]
    finite = ratio[np.isfinite(ratio)]
    lim = float(np.max(np.abs(finite))) if finite.size else 1.0
    norm = TwoSlopeNorm(vmin=-max(lim, 1e-9), vcenter=0.0, vmax=max(lim, 1e-9))
    cmap = colormaps["RdBu_r"].with_extremes(bad=NOT_COMPUTED)
    mesh = ax.pcolormesh(region["periods"], region["C"], np.ma.masked_invalid(ratio.T), cmap=cmap, norm=norm, shading="nearest")
    fig.colorbar(mesh, ax=ax, label="wrong-way ratio ρ = drift/ḡ")
    if np.any(finite > 0) and np.any(finite < 0):
        ax.contour(region["periods"], region["C"], ratio.T, levels=[0.0], colors="black", linewidths=0.8)
    if cx.problem is not None and hasattr(cx.problem, "d"):
        ax.plot(
            [int(cx.problem.d)],
            [float(cx.problem.C)],
            "*",
            ms=16,
            color="gold",
            mec="black",
            label=f"returned (k = {int(cx.problem.k)})",
        )
    handles = ax.get_legend_handles_labels()[0]
    if not np.isfinite(ratio).all():
        handles.append(Patch(facecolor=NOT_COMPUTED, label="not computed (x* = −1 not assured, or d ≤ k)"))
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="lower right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("period d")
    ax.set_ylabel("spike C (small gradient s = 1)")
    ax.set_title(title or f"{cx.optimizer.name}: where the drift points away from x* = −1 (k = {region['k']})", fontsize=10)
    return fig


def figure_dilution(rows: list, optimizer: str, phi: str, title: str = "") -> Figure:
    """Left: Pearson(g_j², v) against the block size k with √((1−β2²)/k); middle: the drift;
    right: the end points (share of coordinates at x*, and the mean final x on its own axis)."""
    fig = Figure(figsize=(14, 4), layout="constrained")
    ax_c, ax_d, ax_e = fig.subplots(1, 3)
    k = np.array([r.k for r in rows])
    r = np.array([r.pearson_g2_v for r in rows])
    lo = np.array([r.pearson_g2_v_ci[0] for r in rows])
    hi = np.array([r.pearson_g2_v_ci[1] for r in rows])
    color = COLORS.get(optimizer, "black")
    ax_c.errorbar(k, r, yerr=[r - lo, hi - r], fmt="o", color=color, capsize=3, label="measured (95 %)")
    closed = [r.analytic_pearson_g2_v for r in rows]
    if all(c is not None for c in closed):
        kk = np.geomspace(k.min(), k.max(), 100)
        ax_c.plot(kk, closed[0] * np.sqrt(k[0] / kk), "--", color="black", label="√((1−β2²)/k)")
    ax_c.set_ylabel("Pearson(g_j², v)")
    ax_c.set_title(f"{optimizer}, φ = {phi}: the correlation is diluted", fontsize=10)
    ax_c.legend(fontsize=8)
    ax_d.plot(k, [r.drift for r in rows], "s--", color="gray")
    ax_d.axhline(0.0, color="black", lw=0.6)
    ax_d.set_ylabel("drift per step / α (> 0: away from x* = −1)")
    ax_d.set_title("the drift", fontsize=10)
    ax_e.plot(k, [r.at_optimum for r in rows], "o-", color=color, label="share at x* (left axis)")
    ax_e.set_ylim(-0.03, 1.03)
    ax_e.set_ylabel("share of coordinates ending at x*")
    ax_e.set_title("the end points", fontsize=10)
    twin = ax_e.twinx()
    twin.plot(k, [r.mean_final_x for r in rows], "^:", color="black", label="mean final x (right axis)")
    twin.set_ylim(-1.05, 1.05)
    twin.set_ylabel("mean final x (x* = −1, worst point +1)")
    handles = ax_e.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax_e.legend(handles, [h.get_label() for h in handles], fontsize=8)
    for ax in (ax_c, ax_d, ax_e):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("block size k (coordinates sharing v)")
        ax.grid(alpha=0.3)
    suptitle(fig, title)
    return fig


def is_geometric(values: np.ndarray) -> bool:
    """A grid spaced by a constant ratio over at least a decade (log:lo:hi:count): drawn on a log axis."""
    v = np.asarray(values, dtype=float)
    if v.size < 3 or np.any(v <= 0) or v.max() / v.min() < 10:
        return False
    steps = np.diff(np.log(v))
    return bool(np.allclose(steps, steps[0], rtol=1e-6))


def points_on_scale(axis, lo: float, hi: float, num: int = 200) -> np.ndarray:
    """`num` values from lo to hi spaced evenly on the axis's own scale (geometrically on a log
    axis, linearly on a linear one), so that a curve drawn through them is smooth on that axis."""
    scale = axis.get_transform()
    return scale.inverted().transform(np.linspace(*scale.transform(np.array([lo, hi], dtype=float)), num))


def sweep_grid(panels: int) -> tuple[int, int]:
    """(rows, columns) of a sweep figure's panels: one row up to three, 2 × 2 for four, then rows of three."""
    cols = 2 if panels == 4 else min(panels, 3)
    return -(-panels // cols), cols


UNIT_INTERVAL = frozenset({"beta1", "beta2", "beta3", "p", "q", "slope"})  # settings that lie in [0, 1]


@dataclass(frozen=True)
class CellAxis:
    """How one swept axis is drawn: the cells' centres and edges in the axis's coordinates, its scale,
    its view (the edges clipped to the setting's plausible range) and, for listed values, the ticks."""

    centres: np.ndarray
    edges: np.ndarray
    scale: str  # "linear" or "log"
    view: tuple[float, float]
    ticks: tuple[np.ndarray, list[str]] | None = None


def geometric_edges(values: np.ndarray) -> np.ndarray:
    """Cell edges at the geometric midpoints of positive values (equal cells on a log axis)."""
    return np.exp(linear_edges(np.log(values)))


def linear_edges(values: np.ndarray) -> np.ndarray:
    """Cell edges at the arithmetic midpoints, the outer ones half a step beyond the ends."""
    mid = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - mid[0]], mid, [2 * values[-1] - mid[-1]]])


def cell_axis(name: str, values: np.ndarray, spacing: str) -> CellAxis:
    """The cells of a swept axis given as 'log', 'linear' or 'list' (adasim.sweep.axis_spacing): log
    ranges (and listed values spaced geometrically over a decade) get equal cells on a log axis,
    linear ranges equal linear cells, other lists one equal cell per value, ticked with the values.
    The view stops at the setting's plausible range (≥ 0 for a grid of non-negative values, ≤ 1
    for β and probabilities)."""
    v = np.asarray(values, dtype=float)
    listed = (np.arange(v.size, dtype=float), [f"{x:g}" for x in v])
    if v.size >= 2 and (spacing == "log" or (spacing == "list" and is_geometric(v))) and np.all(v > 0):
        centres, edges, scale = v, geometric_edges(v), "log"
    elif v.size >= 2 and spacing == "linear":
        centres, edges, scale = v, linear_edges(v), "linear"
    else:
        edges = np.arange(v.size + 1, dtype=float) - 0.5
        return CellAxis(listed[0], edges, "linear", (edges[0], edges[-1]), listed)
    lo, hi = min(edges[0], edges[-1]), max(edges[0], edges[-1])
    if np.all(v >= 0):
        lo = max(lo, 0.0)
    if name in UNIT_INTERVAL:
        hi = min(hi, 1.0)
    ticks = (v, listed[1]) if spacing == "list" else None
    return CellAxis(centres, edges, scale, (lo, hi), ticks)


def _draw_cells(axis, cells: CellAxis) -> None:
    """Set a matplotlib axis (ax.xaxis or ax.yaxis) to the cells' scale, view and ticks."""
    ax = axis.axes
    which = "x" if axis is ax.xaxis else "y"
    getattr(ax, f"set_{which}scale")(cells.scale)
    getattr(ax, f"set_{which}lim")(*cells.view)
    if cells.ticks is not None:
        from matplotlib.ticker import NullLocator

        getattr(ax, f"set_{which}ticks")(*cells.ticks)
        axis.set_minor_locator(NullLocator())
    elif cells.scale == "log" and cells.view[1] <= 1e3 * cells.view[0]:  # a few decades: 2, 5, 10, 20 rather than 10¹
        plain_log_ticks(axis)


def figure_sweep(result, title: str = "") -> Figure:
    """A heat map of the final distance |x_T − x*| per optimizer over the first two swept axes
    (medians over the others, seeds included), on one colour scale with one colour bar, the
    analytic boundary (drift = 0) where there is a closed form, and β1 = √β2 when the axes are β1
    and β2. Cells as the axes were given (cell_axis): log, linear, or one equal cell per listed
    value. Up to three panels in a row, four as 2 × 2, more in rows of three (≤ ~1 600 px at 110 dpi)."""
    table = result.table
    plan = result.plan
    axes = [a for a in plan.axes if a != "seed"]
    cells = {a: cell_axis(a, plan.axes[a], plan.spacing_of(a)) for a in axes[:2]}
    names = list(dict.fromkeys(table["optimizer"].tolist()))
    top = np.nanmax(table["distance"]) if np.isfinite(table["distance"]).any() else 1.0  # one colour scale for every panel
    rows, cols = sweep_grid(len(names))
    fig = Figure(figsize=(max(6.5, 4.3 * cols + 1.0), 3.7 * rows + 0.6), layout="constrained")
    grid = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in grid[len(names) :]:
        ax.remove()  # no empty slot
    panels = grid[: len(names)]
    mesh = None
    for ax, name in zip(panels, names, strict=True):
        mine = table["optimizer"] == name
        if len(axes) == 1:
            xs, cx = plan.axes[axes[0]], cells[axes[0]]
            med = [np.nanmedian(table["distance"][mine & (table[axes[0]] == x)]) for x in xs]
            ax.plot(cx.centres, med, "o-", color=COLORS.get(name, "black"))
            ax.set_xscale(cx.scale)
            if cx.ticks is not None:
                _draw_cells(ax.xaxis, cx)
            elif cx.scale == "log" and max(xs) <= 1e3 * min(xs):
                plain_log_ticks(ax.xaxis)
            ax.set_xlabel(axes[0])
            ax.set_ylabel("median |x_T − x*|")
            ax.set_title(name, fontsize=10)
            continue
        a, b = axes[0], axes[1]
        xa, xb = plan.axes[a], plan.axes[b]
        ca, cb = cells[a], cells[b]
        dist = np.full((len(xa), len(xb)), np.nan)
        drift = np.full((len(xa), len(xb)), np.nan)
        for i, va in enumerate(xa):
            for j, vb in enumerate(xb):
                cell = mine & (table[a] == va) & (table[b] == vb)
                if cell.any():
                    dist[i, j] = np.nanmedian(table["distance"][cell])
                    drift[i, j] = np.nanmedian(table["drift"][cell]) if np.isfinite(table["drift"][cell]).any() else np.nan
        mesh = ax.pcolormesh(cb.edges, ca.edges, dist, shading="flat", cmap="viridis", vmin=0.0, vmax=top)  # colour-blind safe
        _draw_cells(ax.xaxis, cb)
        _draw_cells(ax.yaxis, ca)
        if np.isfinite(drift).sum() > 3 and np.nanmin(drift) < 0 < np.nanmax(drift) and min(len(xa), len(xb)) >= 2:
            from matplotlib import patheffects

            edge = [patheffects.withStroke(linewidth=2.6, foreground="black")]  # visible on light and dark cells
            boundary = ax.contour(cb.centres, ca.centres, drift, levels=[0.0], colors="white", linewidths=1.2)
            boundary.set(path_effects=edge)
            ax.plot([], [], color="white", lw=1.2, path_effects=edge, label="drift = 0 (closed form)")
        if {a, b} == {"beta1", "beta2"} and ca.ticks is None and cb.ticks is None:  # a curve needs numeric axes
            if b == "beta2":  # β2 across, β1 up: β2 spaced on the x axis's scale, over the whole view
                beta2 = points_on_scale(ax.xaxis, *ax.get_xlim())
                ax.plot(beta2, np.sqrt(beta2), "--", color="red", label="β1 = √β2")
            else:
                beta2 = points_on_scale(ax.yaxis, *ax.get_ylim())
                ax.plot(np.sqrt(beta2), beta2, "--", color="red", label="β1 = √β2")
        ax.set_xlabel(b)
        ax.set_ylabel(a)
        ax.set_title(name, fontsize=10)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left")
    if mesh is not None:  # every panel on the same scale: one colour bar for all
        fig.colorbar(mesh, ax=list(panels), label="median |x_T − x*|", shrink=0.9 if rows == 1 else 0.6)
    suptitle(fig, title)
    return fig
