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


def sweep_title(plan: SweepPlan) -> str:
    """The fixed settings, then each swept one with its range and spacing (not its default)."""
    from adasim.plots.nuf import is_geometric
    from adasim.settings import sweep_axes

    fields = {name: sweep_axes()[name].field for name in plan.axes}
    parts = []
    for name, values in plan.axes.items():
        spacing = "log-spaced" if is_geometric(values) else "values"
        parts.append(f"{name} {values.min():g}…{values.max():g} ({len(values)} {spacing})" if len(values) > 2 else
                     f"{name} ∈ {{{', '.join(f'{v:g}' for v in values)}}}")  # fmt: skip
    return describe(plan.spec, swept=list(fields.values()) + list(plan.axes)) + "; swept: " + ", ".join(parts)


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
    console.print(f"[dim]{describe(plan.spec)}; rule: {summary['rule']['text']}[/]")
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
