"""`adasim explore --export DIR`: the explorer as one self-contained page (DIR/index.html) whose
sliders are limited to a stated grid, every view of which is computed now and embedded; it opens
from file:// with no server and no network."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adasim.errors import AdasimError, unknown_name
from adasim.explorer.page import config, page
from adasim.explorer.view import BY_NAME, CONTROLS, DEFAULT_OPTIMIZERS, STEPS, Position, parse_position, phase, runnable, view
from adasim.io import atomic_file
from adasim.settings import number_text

# the default grid: Reddi et al.'s Theorem 1 (C = 10, d = 3, β1 = 0, β2 = 1/(1 + C²) ≈ 0.0099) and
# its neighbours, β2 on a log grid that crosses every critical value of these C (0.47 at C = 3,
# 0.098 at C = 10, ...)
GRID: dict[str, tuple[str, ...]] = {
    "C": ("3", "5", "10", "20"),
    "beta1": ("0", "0.5", "0.9"),
    "beta2": tuple(sorted({*(number_text(float(f"{b:.2g}")) for b in np.geomspace(1e-3, 0.99, 16)), "0.0099"}, key=float)),
}
MAX_VIEWS = 600  # about 17 kB a view: at most ~10 MB


@dataclass(frozen=True)
class Export:
    """What an export wrote: the page, its views and bytes, and the grid."""

    path: Path
    views: int
    bytes: int
    grid: dict[str, tuple[str, ...]]


def parse_grid(items: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """`--grid NAME=V1,V2,...` options (each replaces the default grid of NAME)."""
    grid = dict(GRID)
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not values.strip():
            raise AdasimError(f"--grid must look like 'beta2=0.01,0.1,0.5', got {item!r}")
        if name not in BY_NAME:
            raise unknown_name("explorer setting", name, list(BY_NAME))
        grid[name] = tuple(v.strip() for v in values.split(",") if v.strip())
    return grid


def canonical(grid: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Every control's values on the grid as the page spells them (the shortest float text),
    checked as `adasim run` checks them; controls not in `grid` hold their default."""
    family = tuple(grid.get("family", ("online",)))
    if len(family) != 1:
        raise AdasimError("an export holds one problem family: give --grid family=online or family=stochastic")
    out = {}
    for c in CONTROLS:
        values = tuple(grid.get(c.name, (c.default_for(family[0]),)))
        out[c.name] = tuple(dict.fromkeys(v if c.choices else number_text(c.parse(v)) for v in values))
    return out


@dataclass(frozen=True)
class Plan:
    """The views of an export, every one checked: `keys` name the controls of a view's key."""

    axes: dict[str, tuple[str, ...]]
    keys: tuple[str, ...]
    positions: tuple[Position, ...]
    optimizers: tuple[str, ...]
    steps: int


def plan(grid: Mapping[str, Sequence[str]] | None = None, optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
         steps: int = STEPS) -> Plan:  # fmt: skip
    """Check a grid (the controls' values; the others stay at their defaults) and list its
    views; refuses grids of more than MAX_VIEWS views. Nothing is computed yet."""
    axes = canonical(GRID if grid is None else grid)
    count = math.prod(len(v) for v in axes.values())
    if count > MAX_VIEWS:
        raise AdasimError(f"the grid has {count:,} views; an export holds at most {MAX_VIEWS} (about 17 kB each)")
    keys = tuple(axes)
    todo = []
    for values in itertools.product(*axes.values()):
        position = parse_position({**dict(zip(keys, values, strict=True)), "optimizers": ",".join(optimizers)}, steps=steps)
        runnable(position)  # every view of the grid can be drawn (k < d, p in (0, 1), ...) before any is computed
        todo.append(position)
    return Plan(axes, keys, tuple(todo), tuple(optimizers), steps)


@dataclass(frozen=True)
class Views:
    """The computed views and phases of a plan, keyed as the page looks them up."""

    views: dict[str, dict]
    phases: dict[str, dict]


def compute(todo: Plan, progress: Callable[[int, int], None] | None = None) -> Views:
    """Every view and phase of the plan (the long part of an export; nothing is written)."""
    views, phases = {}, {}
    for i, position in enumerate(todo.positions):
        query = position.query()
        key = "&".join(f"{k}={query[k]}" for k in todo.keys)
        views[key], phases[key] = view(position), phase(position)
        if progress is not None:
            progress(i + 1, len(todo.positions))
    return Views(views, phases)


def write(out_dir: Path, todo: Plan, done: Views, name: str = "index.html") -> Export:
    """Write the page of the computed views as DIR/NAME (atomically)."""
    axes, keys, optimizers, steps = todo.axes, todo.keys, todo.optimizers, todo.steps
    family = axes["family"][0]
    controls, start = [], {}
    for c in CONTROLS:
        values = axes[c.name]
        wanted = c.default_for(family) if c.choices else number_text(c.parse(c.default_for(family)))
        start[c.name] = wanted if wanted in values else values[0]
        kind = {"choices": values} if c.choices else {"stops": values}
        controls.append(dataclasses.replace(c, default=start[c.name], defaults=(), **kind))
    shown = ", ".join(f"{BY_NAME[k].label} ∈ {{{', '.join(v)}}}" for k, v in axes.items() if len(v) > 1)
    cfg = config(optimizers, parse_position({**start, "optimizers": ",".join(optimizers)}, steps=steps), controls,
                 mode_note=f"static export: {len(todo.positions)} precomputed views ({shown}), {steps:,} steps each; "
                           "pip install 'adasim[explore]' and run adasim explore for every setting")  # fmt: skip
    text = page(cfg, {"keys": keys, "views": done.views, "phases": done.phases}, title="adasim explorer (static)")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    with atomic_file(path, "w") as fh:
        fh.write(text)
    return Export(path, len(todo.positions), len(text.encode("utf-8")), axes)


def export(out_dir: Path, todo: Plan, name: str = "index.html", progress: Callable[[int, int], None] | None = None) -> Export:
    """Compute every view of the plan and write DIR/NAME (atomically)."""
    return write(out_dir, todo, compute(todo, progress), name)
