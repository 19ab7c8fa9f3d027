"""`adasim sweep`: a grid over settings and seeds, in chunks, resumable."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adasim.cli.console import progress_bar, stdout
from adasim.cli.estimate import refuse_long
from adasim.cli.options import SpecOptions, with_spec_options
from adasim.cli.output import print_json
from adasim.cli.run import describe
from adasim.io import prepare_out_dir, write_figure, write_record
from adasim.sweep import DEFAULT_LIMIT, SweepPlan, check_parallel, make_plan, run_sweep, write_table


def parallel_workers(workers: int | None, scheduler: str | None) -> int:
    """How many cells run at once, for the estimate: the processes asked for, else every core (a Dask
    cluster's size is not known here: counted as this machine's)."""
    import os

    return max(1, workers if workers is not None else (os.cpu_count() or 1))


SYMBOLS = {"beta1": "β1", "beta2": "β2", "eps": "ε", "n": "n", "beta3": "β3", "mix": "a", "weight_decay": "λ"}


def _value(v: object) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def relation_text(key: str, relation: object) -> str:
    """A preset's relation as the title states it ("d = C", "β2 = 1/(1+C²)")."""
    from adasim.problems.presets import beta2_of_C, period_of_C

    known = {period_of_C: "d = C", beta2_of_C: "β2 = 1/(1+C²)"}
    return known.get(relation, f"{SYMBOLS.get(key, key)} follows the swept settings")  # type: ignore[call-overload]


def followers(plan: SweepPlan) -> dict[str, dict[str, str]]:
    """Per swept axis, the preset's settings that follow it (they change along it) with their
    relation's text: d = C in Shi et al.'s problem, β2 = 1/(1+C²) in Reddi et al.'s."""
    import numpy as np

    from adasim.settings import sweep_axes
    from adasim.sweep import derived_settings

    swept_fields = {sweep_axes()[name].field for name in plan.axes}
    relations = {**plan.spec.problem_relations, **plan.spec.hyper_relations}
    shape = [len(v) for v in plan.axes.values()]
    out: dict[str, dict[str, str]] = {name: {} for name in plan.axes}
    for key, values in derived_settings(plan, 0, plan.cells).items():
        if key not in relations or key in swept_fields:
            continue
        grid = np.broadcast_to(values, (plan.cells,)).reshape(shape)  # the last axis varies fastest
        for i, name in enumerate(plan.axes):
            if np.any(np.diff(grid, axis=i) != 0):
                out[name][key] = relation_text(key, relations[key])
    return out


def optimizer_settings_text(plan: SweepPlan, skip: set[str]) -> str:
    """The optimizers' fixed settings (β1, β2, ε, AdaShift's n, ...) but those in `skip`: one value
    where the optimizers share it, the exceptions named ("β2 = 0.999 (adopt 0.9999)")."""
    from collections import Counter

    configs = {o.name: o.config() for o in plan.spec.optimizers}
    parts = []
    for key, symbol in SYMBOLS.items():
        have = {name: cfg[key] for name, cfg in configs.items() if cfg.get(key) is not None}
        if key in skip or not have:
            continue
        if len(have) < len(configs):
            parts += [f"{name} {symbol} = {_value(v)}" for name, v in have.items()]
            continue
        common = Counter(map(_value, have.values())).most_common(1)[0][0]
        others = [f"{name} {_value(v)}" for name, v in have.items() if _value(v) != common]
        parts.append(f"{symbol} = {common}" + (f" ({', '.join(others)})" if others else ""))
    return ", ".join(parts)


def sweep_title(plan: SweepPlan) -> str:
    """The sweep's figure title and header: the fixed problem and optimizer settings, then each swept
    axis with its range and spacing, and the settings that follow it (d = C), and the seeds the
    medians are over. Nothing is shown at a fixed value that the sweep varies."""
    from adasim.settings import sweep_axes

    fields = {name: sweep_axes()[name].field for name in plan.axes if name != "seed"}
    follow = followers(plan)
    skip = {*fields.values(), *plan.axes, *(k for keys in follow.values() for k in keys)}
    fixed = describe(plan.spec, run=False, swept=sorted(skip))
    settings = optimizer_settings_text(plan, skip)
    steps = plan.spec.run_settings.steps
    seeds = plan.axes.get("seed")
    if seeds is None:
        run = f"T = {steps:,}, seed {plan.spec.run_settings.seeds[0]}"
    else:
        run = f"T = {steps:,}, medians over {len(seeds)} seeds ({_value(seeds.min())}…{_value(seeds.max())})"
    parts = []
    for name, values in plan.axes.items():
        if name == "seed":
            continue
        relations = list(follow[name].values())
        if len(values) > 2 and plan.spacing_of(name) != "list":
            spacing = "log-spaced" if plan.spacing_of(name) == "log" else "linear"
            text, notes = f"{name} {_value(values[0])}…{_value(values[-1])}", [f"{len(values)}, {spacing}", *relations]
        else:
            text, notes = f"{name} ∈ {{{', '.join(_value(v) for v in values)}}}", relations
        parts.append(text + (f" ({'; '.join(notes)})" if notes else ""))
    swept = ", ".join(parts)
    return f"{fixed}; {settings}; {run}. Swept: {swept}" if settings else f"{fixed}; {run}. Swept: {swept}"


@with_spec_options
def sweep(
    spec: SpecOptions,
    grid: Annotated[
        list[str],
        typer.Option("--grid", "-g", help="An axis: name=lo:hi:count, name=log:lo:hi:count or name=a,b,c (repeatable)."),
    ],
    out: Annotated[Path | None, typer.Option("--out", help="Write sweep.npz, sweep.csv, sweep.json and heat maps here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print sweep.json to stdout and nothing else.")] = False,
    rule: Annotated[str, typer.Option("--rule", help="Convergence rule: shi | distance.")] = "shi",
    resume: Annotated[bool, typer.Option("--resume", help="Reuse the finished chunks in --out.")] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="Processes (default: all cores; 1 runs inline).")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="A Dask scheduler address, tcp://host:port.")] = None,
    force: Annotated[bool, typer.Option("--force", help=f"Allow grids over {DEFAULT_LIMIT:,} cells.")] = False,
    no_drift: Annotated[bool, typer.Option("--no-drift", help="Skip the closed-form drift per cell.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Start even when the run is estimated to take over an hour.")] = False,
) -> None:
    """Sweep PROBLEM over a grid of settings (and seeds): final x, distance to x*, regret, converged, closed-form drift per cell.

    Each finished chunk is written to OUT/chunks at once; --resume continues an interrupted sweep.
    """
    check_parallel(resume, out, workers, scheduler, "sweep")
    plan = make_plan(spec.problem, grid, rule=rule, force=force, with_drift=not no_drift, **spec.spec_kwargs())
    refuse_long(plan.spec, yes, "this sweep", repeats=plan.cells / parallel_workers(workers, scheduler))
    out_dir = prepare_out_dir(out, record="sweep.json") if out is not None else None
    total = plan.cells * len(plan.spec.optimizers)
    with progress_bar(total * plan.spec.run_settings.steps, "sweeping", enabled=not json_out) as tick:
        step_tick = (lambda lanes: tick(lanes * plan.spec.run_settings.steps)) if tick else None
        result = run_sweep(plan, out_dir, resume=resume, workers=workers, scheduler=scheduler, progress=step_tick)
    files: dict[str, str] = {}
    if out_dir is not None:
        files = write_table(result, out_dir)
        from adasim.plots.nuf import figure_sweep

        fig = figure_sweep(result, sweep_title(plan))
        write_figure(out_dir / "sweep.png", fig, dpi=110)
        write_figure(out_dir / "sweep.svg", fig)
        files |= {"figure": "sweep.png", "figure_svg": "sweep.svg"}
    summary = result.summary(files)
    if out_dir is not None:
        write_record(out_dir, "sweep.json", summary)
    if json_out:
        print_json(summary)
        return
    console = stdout()
    console.print(f"[dim]{sweep_title(plan)}; rule: {summary['rule']['text']}[/]")
    table = Table(header_style="bold")
    for col in ("optimizer", "cells", "converged", "diverged"):
        table.add_column(col, justify="right")
    for name, c in summary["counts"].items():
        table.add_row(name, f"{c['cells']:,}", f"{c['converged']:,}", f"{c['diverged']:,}")
    console.print(table)
    rejected = f" ({result.rejected} damaged or from another sweep, recomputed)" if result.rejected else ""
    console.print(f"chunks: {result.computed} computed{rejected}, {result.reused} reused")
    if out_dir is not None:
        console.print(f"wrote {out_dir}/" + ", ".join(files.values()) + ", sweep.json")
