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


def wrap_text(text: str, width: float, fontsize: float) -> str:
    """`text` broken into lines that fit `width` inches at `fontsize` points (a character is about
    0.55 em wide)."""
    return "\n".join(textwrap.wrap(text, max(10, int(width * 72 / (0.55 * fontsize)))))


def suptitle(fig: Figure, title: str, fontsize: float = 10) -> None:
    """The figure's title, wrapped to the figure's width (long run descriptions would be cut off)."""
    if not title:
        return
    fig.suptitle(wrap_text(title, fig.get_figwidth(), fontsize), fontsize=fontsize)


STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)))


def plain_log_ticks(axis) -> None:
    """A log axis ticked at 1, 2, 5 × 10^k and labelled in plain numbers (2, 5, 10, 20, ...)
    instead of mathtext such as 2×10⁰."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def label_ends(ax, lines: list, min_gap: float = 0.06) -> None:
    """Name each line at its right end, in its colour, the names moved apart so that lines that
    end together stay told apart (call after the axes' scales and limits are final)."""
    ends = []
    for line in lines:
        x, y = (np.asarray(a, dtype=float) for a in line.get_data())
        keep = np.isfinite(x) & np.isfinite(y)
        if not keep.any() or not line.get_label() or line.get_label().startswith("_"):
            continue
        at = ax.transAxes.inverted().transform(ax.transData.transform((x[keep][-1], y[keep][-1])))[1]
        ends.append([float(np.clip(at, 0.0, 1.0)), line])
    ends.sort(key=lambda e: e[0])
    for i in range(1, len(ends)):
        ends[i][0] = max(ends[i][0], ends[i - 1][0] + min_gap)
    shift = max(0.0, ends[-1][0] - 1.0) if ends else 0.0
    for at, line in ends:
        ax.annotate(line.get_label(), xy=(1.0, at - shift), xycoords="axes fraction", xytext=(4, 0), textcoords="offset points",
                    color=line.get_color(), fontsize=8, va="center", annotation_clip=False)  # fmt: skip


def _band(ax, t: np.ndarray, values: np.ndarray, color: str, label: str, style: object = "-") -> None:
    """Median line and 25–75 % band over the columns (lanes) of values (R, L)."""
    med = np.median(values, axis=1)
    ax.plot(t, med, color=color, lw=1.5, ls=style, label=label)
    if values.shape[1] > 1:
        lo, hi = np.quantile(values, [0.25, 0.75], axis=1)
        ax.fill_between(t, lo, hi, color=color, alpha=0.2, lw=0)


def has_regret(run: Run) -> bool:
    """Whether any healthy lane of the run has a finite average regret to draw (an unbounded domain has none)."""
    ok = run.ok
    return bool(ok.any() and np.isfinite(run.trace.average_regret[:, ok]).any())


def figure_run(runs: list[Run], title: str = "") -> Figure:
    """x_t and the average regret R_t/t, one colour per optimizer; the regret panel only when
    some run has a regret (an unbounded domain has none: the title of x_t says so). Lanes that
    hit NaN or overflow are left out and named in the legend."""
    regret_drawn = any(has_regret(run) for run in runs)
    fig = Figure(figsize=(10, 4.2) if regret_drawn else (6.5, 4.2), layout="constrained")
    panels = np.atleast_1d(fig.subplots(1, 2 if regret_drawn else 1))
    ax_x, ax_r = panels[0], (panels[1] if regret_drawn else None)
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
        if ax_r is not None and has_regret(run):
            regret = run.trace.average_regret[:, ok]
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
    head = "iterate x_t" + (" (median, 25–75 % over seeds)" if runs[0].lanes > 1 else "")
    ax_x.set_title(head if regret_drawn else head + "\n(no regret panel: R_t is undefined on an unbounded domain)")
    ax_x.legend(fontsize=8, loc="best")
    if ax_r is not None:
        ax_r.set_xlabel("step t")
        ax_r.set_ylabel("R_t / t")
        ax_r.set_title("average regret R_t / t")
        if regret_min > 0:
            ax_r.set_yscale("log")
        else:
            ax_r.axhline(0.0, color="black", lw=0.6)
            ax_r.set_yscale("symlog", linthresh=1e-3)
    for ax in panels:
        ax.grid(alpha=0.3)
        if runs[0].steps >= 1000:
            ax.set_xscale("log")
    for ax in panels:
        label_ends(ax, [ln for ln in ax.get_lines() if ln.get_label() in {r.optimizer.name for r in runs}])
    suptitle(fig, title)
    return fig
