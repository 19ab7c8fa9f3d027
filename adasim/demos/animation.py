"""`adasim animate`: x_t together with each step's contribution −α_s κ_s g_s (the displacement
gradient g_s causes over the whole run), built from the net update factors of the run."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter, writers
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from adasim.analysis.empirical import empirical_nuf
from adasim.engine import simulate
from adasim.errors import AdasimError
from adasim.optimizers.base import Optimizer
from adasim.plots.run import COLORS, wrap_text
from adasim.problems.base import Problem

UP, DOWN = "#E69F00", "#0072B2"  # Okabe–Ito orange and blue


def build_animation(
    problem: Problem, optimizer: Optimizer, steps: int, frames: int = 120, window: int = 60, title: str = ""
) -> FuncAnimation:
    """Frames sweep over the first `steps` steps: top, x_t so far; bottom, the last `window`
    contributions −α_s κ_s g_s (orange: pushes x up, blue: down; colour-blind safe). The key (x*,
    the bars' colours) and the running sum of the contributions sit in a strip under the axes,
    over no data. The title names the optimizer (and `title`, the run's settings)."""
    run = simulate(problem, optimizer, steps, stride=1)
    nuf = empirical_nuf(problem, optimizer, steps, burn_in=0, keep_all=True, samples=0)
    if nuf.all_steps is None:
        raise AdasimError("too few steps to animate")
    t_k = nuf.all_steps.t
    contrib = -run.trace.alpha[t_k - 1, 0, 0] * nuf.all_steps.kappa[:, 0] * nuf.all_steps.g[:, 0]
    contrib = np.nan_to_num(contrib)
    t = run.trace.t
    x = run.trace.x[:, 0, 0]
    color = COLORS.get(optimizer.name, "black")
    fig = Figure(figsize=(8, 6.2), layout="constrained")
    panels, strip = fig.subfigures(2, 1, height_ratios=[1, 0.1])  # the strip: the key and the running sum
    ax_x, ax_c = panels.subplots(2, 1, height_ratios=[1.2, 1])
    (line,) = ax_x.plot([], [], color=color, lw=1.5)
    (dot,) = ax_x.plot([], [], "o", color=color)
    opt = float(np.atleast_2d(problem.optimum())[0, 0])
    key = [Patch(color=UP, label="moves x up"), Patch(color=DOWN, label="moves x down")]
    if np.isfinite(opt):
        key.insert(0, ax_x.axhline(opt, color="black", ls="--", lw=0.8, label=f"x* = {opt:g}"))
    ax_x.set_xlim(1, steps)
    lo, hi = float(np.min(x)), float(np.max(x))
    if np.isfinite(opt):
        lo, hi = min(lo, opt), max(hi, opt)
    ax_x.set_ylim(lo - 0.1 * (hi - lo + 1e-9), hi + 0.1 * (hi - lo + 1e-9))
    ax_x.set_xlabel("step t")
    ax_x.set_ylabel("x_t")
    named = f"{optimizer.name}: x_t and each gradient's net contribution"
    ax_x.set_title(
        wrap_text(f"{named} — {title}" if title else named, fig.get_figwidth() - 0.6, 10), fontsize=10
    )  # fits the figure
    ax_c.set_ylabel("−α_s κ_s g_s")
    ax_c.set_xlabel("step s")
    ax_c.set_title("each bar: how far step s's gradient moves x over the whole run (its net update factor κ_s × α_s × g_s)",
                   fontsize=8)  # fmt: skip
    strip.legend(handles=key, loc="upper center", ncols=len(key), fontsize=8)
    ax_c.axhline(0.0, color="black", lw=0.6)
    text = strip.text(0.5, 0.04, "", ha="center", va="bottom", fontsize=8)
    ends = np.unique(np.linspace(1, len(t_k), frames).astype(int))

    def frame(i: int) -> tuple:
        end = int(ends[i])
        line.set_data(t[:end], x[:end])
        dot.set_data([t[end - 1]], [x[end - 1]])
        start = max(0, end - window)
        for bar in list(ax_c.patches):
            bar.remove()
        segment = contrib[start:end]
        ax_c.bar(t_k[start:end], segment, color=np.where(segment > 0, UP, DOWN), width=0.9)
        ax_c.set_xlim(t_k[start] - 0.5, t_k[start] + window - 0.5)
        limit = float(np.max(np.abs(segment))) if segment.size else 1.0
        ax_c.set_ylim(-1.2 * (limit or 1.0), 1.2 * (limit or 1.0))
        text.set_text(f"sum of contributions so far: {contrib[:end].sum():+.4f}  (up = away from x* when x* = −1)")
        return line, dot, text

    return FuncAnimation(fig, frame, frames=len(ends), blit=False)


def check_target(path: str | os.PathLike[str]) -> Path:
    """Fail before any work: the format must be .gif or .mp4 (with ffmpeg present) and the folder writable."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise AdasimError(f"animations are written as .gif or .mp4, not '{target.suffix or target.name}'")
    if suffix == ".mp4" and (not writers.is_available("ffmpeg") or shutil.which("ffmpeg") is None):
        raise AdasimError("MP4 needs ffmpeg, which was not found on this machine: install it or write a .gif")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise AdasimError(f"cannot write to '{parent}': no such folder or not writable")
    return target


def save_animation(
    anim: FuncAnimation, path: str | os.PathLike[str], fps: int = 12, progress: Callable[[int, int], None] | None = None
) -> Path:
    """GIF through Pillow (no system tools); MP4 through ffmpeg, with a clear error when it is
    missing. Written to a temporary file and renamed, so no half-written animation is left.
    `progress(done, total)` is told of the frames drawn."""
    target = check_target(path)
    suffix = target.suffix.lower()
    writer = PillowWriter(fps=fps) if suffix == ".gif" else writers["ffmpeg"](fps=fps)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        anim.save(tmp, writer=writer, progress_callback=None if progress is None else lambda i, n: progress(i + 1, n))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
