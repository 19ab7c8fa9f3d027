"""The interactive explorer behind `adasim demo`: sliders for β1, β2, C, d, the shift n and α,
toggles for the optimizers; every move re-simulates the online problem and redraws x_t, v_t
against g_t, and the per-phase net update factors beside their closed forms. The numbers are the
browser explorer's (`adasim.explorer.view.view`); this module only draws them with matplotlib, each
optimizer in the browser explorer's colour, dash and marker (`adasim.explorer.style`)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter
from matplotlib.widgets import CheckButtons, Slider

from adasim.explorer.style import styles
from adasim.explorer.view import DEFAULT_OPTIMIZERS, Position, view

OPTIMIZERS = DEFAULT_OPTIMIZERS  # the toggles: the four of every problem's default
STYLES = styles(OPTIMIZERS)  # the browser explorer's look of each

SLIDERS = {
    # name: (label, lo, hi, start, step)
    "beta1": ("β1", 0.0, 0.99, 0.0, 0.01),
    "beta2": ("β2", 0.0, 0.999, 1.0 / 101.0, 0.001),
    "C": ("C", 2.5, 50.0, 10.0, 0.5),
    "d": ("period d", 2, 30, 3, 1),
    "n": ("shift n", 0, 10, 1, 1),
    "log_lr": ("log10 α", -3.0, 0.0, np.log10(0.5), 0.05),
}


class Explorer:
    """Builds the figure; `update()` re-simulates with the current slider values."""

    def __init__(self, fig: Figure | None = None, steps: int = 10_000, **start: float) -> None:
        self.steps = steps
        self.fig = fig if fig is not None else Figure(figsize=(13, 8))
        fig = self.fig
        self.ax_x = fig.add_axes((0.065, 0.56, 0.385, 0.35))  # room on the left for its y label
        self.ax_v = fig.add_axes((0.52, 0.56, 0.30, 0.35))
        self.ax_k = fig.add_axes((0.05, 0.25, 0.77, 0.22))  # room above for x_t's x label
        self.sliders: dict[str, Slider] = {}
        for i, (name, (label, lo, hi, init, step)) in enumerate(SLIDERS.items()):
            col, row = divmod(i, 3)
            ax = fig.add_axes((0.08 + 0.42 * col, 0.14 - 0.045 * row, 0.30, 0.03))
            value = start.get(name, init)
            self.sliders[name] = Slider(ax, label, lo, hi, valinit=value, valstep=step)
            self.sliders[name].on_changed(self._changed)
        ax_check = fig.add_axes((0.85, 0.62, 0.13, 0.25))
        colors = [STYLES[name].color for name in OPTIMIZERS]  # each toggle in its optimizer's colour, as its lines
        self.checks = CheckButtons(ax_check, list(OPTIMIZERS), [True] * len(OPTIMIZERS),
                                   label_props={"color": colors}, frame_props={"edgecolor": colors},
                                   check_props={"facecolor": colors})  # fmt: skip
        self.checks.on_clicked(self._changed)
        self.lines: dict[str, Any] = {}
        self.data: dict[str, dict[str, Any]] = {}
        self.seconds = 0.0
        self.update()

    # -- state --------------------------------------------------------------------------
    def params(self) -> dict[str, float]:
        v = {k: float(s.val) for k, s in self.sliders.items()}
        v["d"], v["n"] = round(v["d"]), round(v["n"])
        v["lr"] = 10 ** v.pop("log_lr")
        return v

    def active(self) -> list[str]:
        return [name for name, on in zip(OPTIMIZERS, self.checks.get_status(), strict=True) if on]

    def position(self) -> Position:
        """The sliders as the browser explorer's position (the same computation draws both)."""
        p = self.params()
        return Position(C=p["C"], d=p["d"], k=1, beta1=p["beta1"], beta2=p["beta2"], n=p["n"], lr=p["lr"],
                        schedule="inv-sqrt", eps="1e-12", optimizers=tuple(self.active()), steps=self.steps)  # fmt: skip

    # -- work -----------------------------------------------------------------------------
    def _changed(self, _: object) -> None:
        self.update()

    def compute(self) -> dict[str, dict[str, Any]]:
        """Every active optimizer's x_t, last steps' (g, v), measured and closed-form κ and drift:
        `adasim.explorer.view.view` (6 significant digits), as arrays."""
        if not self.active():
            return {}
        out = {}
        for o in view(self.position())["optimizers"]:
            out[o["name"]] = {
                "t": np.array(o["t"]),
                "x": np.array(o["x"], dtype=float),
                "g": np.array(o["g"], dtype=float),
                "v": np.array(o["v"], dtype=float),
                "kappa": np.array([r["measured"] for r in o["nuf"]], dtype=float),
                "closed": np.array([r["closed"] for r in o["nuf"]], dtype=float),
                "drift": o["drift"]["closed"],
                "final_x": o["final_x"],
            }
        return out

    def update(self) -> None:
        began = time.perf_counter()
        self.data = self.compute()
        self.draw()
        self.seconds = time.perf_counter() - began

    def _setup_axes(self) -> None:
        """Artists that live as long as the figure; `draw` only moves their data."""
        self.ax_x.axhline(-1.0, color="black", ls="--", lw=0.8)
        self.ax_x.set_xscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")  # no mathtext: cheaper to redraw on every move
        self.ax_x.xaxis.set_major_formatter(plain)
        self.ax_x.xaxis.set_minor_formatter(NullFormatter())
        self.ax_x.set_ylim(-1.1, 1.1)
        self.ax_x.set_title("x_t (x* = −1; drift > 0 climbs to the worst point)", fontsize=9)
        self.ax_x.set_xlabel("step t", fontsize=8)
        self.ax_x.set_ylabel("x_t", fontsize=8)
        self.ax_v.set_yscale("log")
        self.ax_v.yaxis.set_major_formatter(plain)
        self.ax_v.yaxis.set_minor_formatter(NullFormatter())
        self.ax_v.set_xlabel("g_t", fontsize=8)
        self.ax_v.set_ylabel("v_t (divides g_t)", fontsize=8)
        self.ax_v.set_title("v_t against the g_t it scales (last steps)", fontsize=9)
        self.ax_k.set_title("net update factor per phase κ_j = k/α (bars: measured, ◇: closed form)", fontsize=9)
        self.ax_k.set_xlabel("phase j (phase 0 is the spike C)", fontsize=8)
        self.ax_k.set_ylabel("κ_j = k/α", fontsize=8)
        self.ax_k.axhline(0.0, color="black", lw=0.6)
        for name in OPTIMIZERS:
            st = STYLES[name]
            (self.lines[f"x:{name}"],) = self.ax_x.plot([], [], color=st.color, ls=st.linestyle(), lw=1.4)
            (self.lines[f"v:{name}"],) = self.ax_v.plot([], [], st.marker, ms=4, alpha=0.6, color=st.color)
        self._k_artists: list[Any] = []
        self._title = self.fig.suptitle("", fontsize=10, y=0.985)

    def draw(self) -> None:
        if not self.lines:
            self._setup_axes()
        p = self.params()
        names = list(self.data)
        width = 0.8 / max(len(names), 1)
        layout = (tuple(names), p["d"])
        if layout != getattr(self, "_k_layout", None):  # new bars only when their number changes
            for artist in self._k_artists:
                artist.remove()
            self._k_artists, self._bars, self._marks = [], {}, {}
            for i, name in enumerate(names):
                offset = (i - (len(names) - 1) / 2) * width
                x = np.arange(p["d"]) + offset
                bars = self.ax_k.bar(x, np.zeros(p["d"]), width=width, color=STYLES[name].color, alpha=0.7)
                (marks,) = self.ax_k.plot(x, np.zeros(p["d"]), "D", ms=5, mfc="none", color="black")
                self._bars[name], self._marks[name] = bars, marks
                self._k_artists.extend([*bars.patches, marks])
            self._k_layout = layout
        for name in OPTIMIZERS:
            self.lines[f"x:{name}"].set_visible(name in self.data)
            self.lines[f"v:{name}"].set_visible(name in self.data)
        for i, name in enumerate(names):
            d = self.data[name]
            line = self.lines[f"x:{name}"]
            line.set_data(d["t"], d["x"])
            line.set_label(f"{name}: drift {d['drift']:+.3f}α")
            jitter = (i - (len(names) - 1) / 2) * 0.15
            self.lines[f"v:{name}"].set_data(d["g"] + jitter, d["v"])
            for rect, height in zip(self._bars[name].patches, d["kappa"], strict=True):
                rect.set_height(height)
            self._marks[name].set_ydata(d["closed"])
        self.ax_x.set_xlim(1, self.steps)
        visible = [self.lines[f"x:{n}"] for n in names]
        self.ax_x.legend(visible, [ln.get_label() for ln in visible], fontsize=7, loc="center right")
        for ax in (self.ax_v, self.ax_k):
            ax.relim(visible_only=True)
            ax.autoscale_view()
        self.ax_k.set_xticks(np.arange(p["d"]))
        self._title.set_text(
            f"online problem: C = {p['C']:g}, d = {p['d']}, k = 1;  β1 = {p['beta1']:.2f}, β2 = {p['beta2']:.4f}, "
            f"shift n = {p['n']}, α_t = {p['lr']:.3g}/√t;  {self.steps:,} steps"
        )
        if self.fig.canvas is not None:
            self.fig.canvas.draw_idle()
