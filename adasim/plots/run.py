"""x_t and R_t/t per optimizer: the median over seeds with the 25–75 % band."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure

from adasim.run import Run

COLORS = {
    "adam": "#d62728",
    "rmsprop": "#ff7f0e",
    "amsgrad": "#1f77b4",
    "adashift": "#2ca02c",
    "adopt": "#9467bd",
    "adamnc": "#8c564b",
    "adagrad": "#e377c2",
    "momentum": "#7f7f7f",
    "sgd": "#17becf",
}


def suptitle(fig: Figure, title: str, fontsize: float = 10) -> None:
    """The figure's title, wrapped to the figure's width (long run descriptions would be cut off)."""
    if not title:
        return
    width = int(fig.get_figwidth() * 72 / (0.55 * fontsize))  # characters per line at this size
    fig.suptitle("\n".join(textwrap.wrap(title, width)), fontsize=fontsize)


STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)))


def _band(ax, t: np.ndarray, values: np.ndarray, color: str, label: str, style: object = "-") -> None:
    """Median line and 25–75 % band over the columns (lanes) of values (R, L)."""
    med = np.median(values, axis=1)
    ax.plot(t, med, color=color, lw=1.5, ls=style, label=label)
    if values.shape[1] > 1:
        lo, hi = np.quantile(values, [0.25, 0.75], axis=1)
        ax.fill_between(t, lo, hi, color=color, alpha=0.2, lw=0)


def figure_run(runs: list[Run], title: str = "") -> Figure:
    """Two panels: x_t and the average regret R_t/t, one colour per optimizer. Lanes that hit
    NaN or overflow are left out and named in the legend."""
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_x, ax_r = fig.subplots(1, 2)
    regret_min = np.inf
    for i, run in enumerate(runs):
        style = STYLES[i % len(STYLES)]
        color = COLORS.get(run.optimizer.name) or "black"
        label = run.optimizer.name
        ok = run.ok
        if not ok.all():
            label += f" ({run.health()})"
        if not ok.any():
            ax_x.plot([], [], color=color, label=label + ": not plotted")
            continue
        t = run.trace.t
        if run.problem.dim > 1:  # several coordinates: the distance to the optimum
            opt = np.broadcast_to(run.problem.optimum(), run.final_x.shape)[0]
            dist = np.linalg.norm(np.nan_to_num(run.trace.x[:, ok, :] - opt), axis=-1)
            _band(ax_x, t, dist, color, label, style)
        else:
            _band(ax_x, t, run.trace.x[:, ok, 0], color, label, style)
        regret = run.trace.average_regret[:, ok]
        if np.isfinite(regret).any():
            regret_min = min(regret_min, float(np.nanmin(regret[len(regret) // 10 :])))
            _band(ax_r, t, regret, color, label, style)
    problem = runs[0].problem
    opt = float(np.atleast_2d(problem.optimum())[0, 0])
    if problem.dim > 1:
        ax_x.set_ylabel("‖x_t − x*‖")
        ax_x.set_yscale("symlog", linthresh=1e-3)
    elif np.isfinite(opt):
        ax_x.axhline(opt, color="black", ls="--", lw=0.8, label=f"x* = {opt:g}")
    ax_x.set_xlabel("step t")
    if problem.dim == 1:
        ax_x.set_ylabel("x_t")
    ax_x.set_title("iterate x_t" + (" (median, 25–75 % over seeds)" if runs[0].lanes > 1 else ""))
    ax_x.legend(fontsize=8, loc="best")
    ax_r.set_xlabel("step t")
    ax_r.set_ylabel("R_t / t")
    ax_r.set_title("average regret R_t / t")
    if np.isfinite(regret_min):
        if regret_min > 0:
            ax_r.set_yscale("log")
        else:
            ax_r.axhline(0.0, color="black", lw=0.6)
            ax_r.set_yscale("symlog", linthresh=1e-3)
    else:
        ax_r.text(0.5, 0.5, "regret is undefined:\nthe domain is unbounded", ha="center", va="center", transform=ax_r.transAxes)
    for ax in (ax_x, ax_r):
        ax.grid(alpha=0.3)
        if runs[0].steps >= 1000:
            ax.set_xscale("log")
    suptitle(fig, title)
    return fig
