"""Reproductions of published figures. Each module defines `NAME`, `TITLE`, `SOURCE` and
`run(quick) -> (figures, numbers)`; `experiments/NAME.py` and `adasim experiment NAME` call it
through `main` and write NAME.png, NAME.svg and NAME.json (every number shown, and the settings)."""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from adasim.errors import AdasimError, unknown_name
from adasim.io import prepare_out_dir, write_figure, write_record

EXPERIMENTS = {
    "adashift-stochastic": "adasim.experiments.adashift_stochastic",
    "reddi-fig1": "adasim.experiments.reddi_fig1",
    "shi-phase": "adasim.experiments.shi_phase",
    "nuf-correlation": "adasim.experiments.nuf_correlation",
    "zhang-heatmap": "adasim.experiments.zhang_heatmap",
    "critical-c": "adasim.experiments.critical_c",
    "adopt-toy": "adasim.experiments.adopt_toy",
    "sign-methods": "adasim.experiments.sign_methods",
    "block-scales": "adasim.experiments.block_scales",
    "shift-spikes": "adasim.experiments.shift_spikes",
    "batch-phase": "adasim.experiments.batch_phase",
    "staleness": "adasim.experiments.staleness",
}


def load(name: str) -> Any:
    if name not in EXPERIMENTS:
        raise unknown_name("experiment", name, EXPERIMENTS)
    return importlib.import_module(EXPERIMENTS[name])


def run_experiment(
    name: str,
    out: str | Path,
    quick: bool = False,
    figures: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run one experiment and write its files; returns its numbers, and under "files" the names
    of the files written (figures first, the JSON record last). A `figures` dict receives the
    Figure objects (the tests check their structure). `progress(done, total)` is passed to the
    experiment's `run` when it takes one (it counts its own units of work)."""
    module = load(name)
    out_dir = prepare_out_dir(out, record=f"{name}.json")
    takes = progress is not None and "progress" in inspect.signature(module.run).parameters
    made, numbers = module.run(quick=quick, progress=progress) if takes else module.run(quick=quick)
    if quick:
        for fig in made.values():
            mark_quick(fig)
    if figures is not None:
        figures.update(made)
    figures = made
    numbers = {"experiment": name, "title": module.TITLE, "source": module.SOURCE, "quick": quick, **numbers}
    files = []
    for stem, fig in figures.items():
        write_figure(out_dir / f"{stem}.png", fig, dpi=110)
        write_figure(out_dir / f"{stem}.svg", fig)
        files += [f"{stem}.png", f"{stem}.svg"]
    write_record(out_dir, f"{name}.json", numbers)
    return {**numbers, "files": [*files, f"{name}.json"]}


QUICK_NOTE = "quick version (fewer steps): see the full run, without --quick, for the claim"


def mark_quick(fig: Any) -> None:
    """Put QUICK_NOTE above a quick run's figure title (as the title when there is none), wrapped to
    the figure's width, the figure made taller by the note's lines so that its panels keep their
    size: the title states the full run's claim, which the quick numbers need not show."""
    from adasim.plots.run import wrap_text

    title = fig._suptitle  # matplotlib keeps the title's Text here; fig.suptitle() would reset its size
    if title is not None and QUICK_NOTE in " ".join(title.get_text().split()):
        return
    size = title.get_fontsize() if title is not None else 10
    note = wrap_text(QUICK_NOTE, fig.get_figwidth(), size)
    if title is None or not title.get_text().strip():
        fig.suptitle(note, fontsize=size)
    else:
        title.set_text(f"{note}\n{title.get_text()}")
    fig.set_figheight(fig.get_figheight() + (note.count("\n") + 1) * 1.25 * size / 72)


def counter(progress: Callable[[int, int], None] | None, total: int) -> Callable[..., None]:
    """`tick(n=1)`: n more units of an experiment's work done, told to `progress(done, total)`
    (nothing without one). An experiment states its `total` before the work and ticks it exactly."""
    done = [0]

    def tick(n: int = 1) -> None:
        done[0] += int(n)
        if progress is not None:
            progress(done[0], total)

    return tick


def sweep_cells(plan: Any) -> int:
    """The cells `run_sweep(plan, progress=...)` reports over the whole sweep (every optimizer's)."""
    return sum(end - start for _, _, start, end in plan.chunks())


def main(name: str, argv: Sequence[str] | None = None) -> int:
    """The command line of experiments/NAME.py: --out DIR and --quick."""
    parser = argparse.ArgumentParser(prog=f"experiments/{name.replace('-', '_')}.py", description=load(name).TITLE)
    parser.add_argument("--out", default=f"out/{name}", help="folder for the figures and the JSON of numbers")
    parser.add_argument("--quick", action="store_true", help="a reduced version that runs in seconds")
    args = parser.parse_args(argv)
    try:
        numbers = run_experiment(name, args.out, quick=args.quick)
    except AdasimError as err:
        print(f"adasim: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}/: {', '.join(numbers['files'])}")
    return 0
