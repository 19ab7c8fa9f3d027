"""Each optimizer's look in the explorer: a colour, a dash pattern for its x_t line and a marker for
its (g_t, v_t) points. One definition for both sides that draw: the page (explorer.js reads the
styles from the page's config) and the matplotlib explorer (adasim.demos.explorer).

The colours are matplotlib's qualitative tab10 palette (the static figures' colours,
adasim.plots.run.COLORS, are tab10's: an optimizer keeps the colour it has there); ten colours
do not tell 30 optimizers apart, so each (colour, dash) pair is used once: solid lines first, then
dashed, dotted and dash-dotted ones. The marker follows the dash (a dashed optimizer draws squares),
so that the scatter tells apart two optimizers that share a colour too.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.colors import to_hex

from adasim.optimizers import OPTIMIZERS
from adasim.plots.run import COLORS

PALETTE: tuple[str, ...] = tuple(to_hex(c) for c in matplotlib.colormaps["tab10"].colors)
# dash patterns in units of the line width (matplotlib's convention; the page scales them by its
# stroke width); () is a solid line. MARKERS[i] goes with DASHES[i].
DASHES: tuple[tuple[float, ...], ...] = ((), (3.0, 1.5), (0.8, 1.6), (4.0, 1.5, 1.0, 1.5))
MARKERS: tuple[str, ...] = ("o", "s", "^", "D")


@dataclass(frozen=True)
class Style:
    """How one optimizer is drawn: `color` (hex), `dash` (on/off lengths in line widths, () solid)
    and `marker` (matplotlib's code: o circle, s square, ^ triangle, D diamond)."""

    color: str
    dash: tuple[float, ...]
    marker: str

    def linestyle(self) -> Any:
        """The dash as matplotlib's linestyle."""
        return "-" if not self.dash else (0, self.dash)

    def as_dict(self) -> dict[str, Any]:
        return {"color": self.color, "dash": list(self.dash), "marker": self.marker}


def _pairs() -> list[tuple[str, int]]:
    """Every (colour, dash index) pair, solid ones first, in palette order."""
    return [(color, dash) for dash, color in itertools.product(range(len(DASHES)), PALETTE)]


def styles(names: Sequence[str] = ()) -> dict[str, Style]:
    """The style of every name of `names` (all built-in optimizers when empty). A built-in's style
    does not depend on `names`: the built-ins are assigned first, in the registry's order, then the
    other names (user optimizers) in their order. A name with a colour in the static figures keeps
    it, solid; each other one takes the next free (colour, dash) pair. Distinct for up to
    len(PALETTE) × len(DASHES) = 40 names; beyond, the pairs repeat."""
    everyone = list(dict.fromkeys([*OPTIMIZERS, *names]))
    taken = {n: (COLORS[n], 0) for n in everyone if n in COLORS}
    pairs = _pairs()
    free = [p for p in pairs if p not in set(taken.values())]
    for i, name in enumerate(n for n in everyone if n not in taken):
        taken[name] = free[i] if i < len(free) else pairs[i % len(pairs)]
    wanted = names or everyone
    return {n: Style(taken[n][0], DASHES[taken[n][1]], MARKERS[taken[n][1]]) for n in wanted}


def style(name: str) -> Style:
    """The style of one optimizer (a built-in, or a user optimizer after the built-ins)."""
    return styles([name])[name]
