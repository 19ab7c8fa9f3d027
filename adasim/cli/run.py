"""`adasim run`: simulate a counterexample with several optimizers and report where each ends."""

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from adasim.cli.console import EXIT_NUMERICAL, fallback_warnings, progress_bar, results_table, stdout, warning_line
from adasim.cli.estimate import refuse_long
from adasim.cli.options import SpecOptions, with_spec_options
from adasim.io import dumps, prepare_out_dir, provenance, runs_to_arrays, write_figure, write_npz, write_record
from adasim.spec import Spec

ONE_SEED = "verdict from one seed; --seeds N for a median and quartiles"  # under the table of a noisy problem's run


def describe(spec: Spec, run: bool = True, swept: Sequence[str] = ()) -> str:
    """A figure title that states the settings (`run`: with the steps and seeds); settings in
    `swept` (problem fields, lr) are named as swept, not shown at their fixed value."""
    cfg = spec.problem.config()
    skip = {"name", "domain", "optimum", "mean_gradient", *swept}
    params = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in cfg.items() if k not in skip and v is not None
    )
    opt = spec.optimizers[0].config()
    sched = spec.optimizers[0].schedule.describe()
    if "lr" not in swept:
        sched = sched.replace("= α", f"= {opt['lr']:g}", 1)
    settings = spec.run_settings
    seeds = f"{settings.lanes} seeds" if settings.lanes > 1 else f"seed {settings.seeds[0]}"
    text = f"{spec.name}: {params}, domain {spec.problem.domain.describe()}; {sched}"
    if "seed" in swept:
        seeds = "seeds swept"
    return text + (f"; T = {settings.steps:,}, {seeds}" if run else "")


@with_spec_options
def run(
    spec: SpecOptions,
    out: Annotated[Path | None, typer.Option("--out", help="Write trace.npz, summary.json and run.png/.svg here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout and nothing else.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Start even when the run is estimated to take over an hour.")] = False,
) -> None:
    """Run PROBLEM (default: Reddi et al.'s Theorem 1 with C = 10) with each optimizer.

    Prints where each optimizer ends (median over seeds), its average regret R_T/T
    and a verdict: optimum, worst point or between.
    Exit codes: 2 for bad input, 3 when a run hit NaN or overflow.
    """
    resolved = spec.build()
    refuse_long(resolved, yes)
    out_dir = prepare_out_dir(out, record="summary.json") if out is not None else None
    with progress_bar(resolved.total_steps, "simulating", enabled=not json_out, lanes=resolved.run_settings.lanes) as tick:
        runs = resolved.run(progress=tick)
    fallback_warnings(resolved)  # after the work: a run that fails says only why
    summary = {"problem": resolved.config(), "results": [r.summary() for r in runs], "provenance": provenance()}
    if out_dir is not None:
        write_npz(out_dir / "trace.npz", runs_to_arrays(runs, summary))
        from adasim.plots import figure_run

        fig = figure_run(runs, describe(resolved))
        write_figure(out_dir / "run.png", fig, dpi=120)
        write_figure(out_dir / "run.svg", fig)
        write_record(out_dir, "summary.json", summary)
    if json_out:
        print(dumps(summary))
    else:
        console = stdout()
        console.print(f"[dim]{describe(resolved)}[/]")
        if resolved.source:
            console.print(f"[dim]source: {resolved.source}[/]")
        console.print(results_table(summary))
        if resolved.run_settings.lanes == 1 and resolved.problem.uses_seeds:
            console.print(f"[dim]{ONE_SEED}[/]")
        if out_dir is not None:
            console.print(f"wrote {out_dir}/trace.npz, summary.json, run.png, run.svg")
    failed = [r for r in runs if r.failed]
    for r in failed:
        warning_line(f"{r.optimizer.name}: {r.health()}; those lanes are left out of the medians and the figure")
    if failed:
        raise typer.Exit(EXIT_NUMERICAL)
