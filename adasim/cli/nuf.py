"""`adasim nuf`: every gradient's net update factor, measured and in closed form."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adasim.analysis.report import nuf_report
from adasim.cli.console import EXIT_NUMERICAL, fallback_warnings, fmt, progress_bar, stdout, warning_line
from adasim.cli.estimate import refuse_long
from adasim.cli.options import SpecOptions, with_spec_options
from adasim.cli.output import finish
from adasim.cli.run import describe
from adasim.io import prepare_out_dir


@with_spec_options
def nuf(
    spec: SpecOptions,
    out: Annotated[Path | None, typer.Option("--out", help="Write nuf.json and nuf.png/.svg here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print nuf.json to stdout and nothing else.")] = False,
    burn_in: Annotated[
        int | None, typer.Option("--burn-in", help="Steps left out at the start (default: the transient).")
    ] = None,
    tol: Annotated[float, typer.Option("--tol", help="Kernel mass a factor may still miss at the end of the run.")] = 1e-12,
    yes: Annotated[bool, typer.Option("--yes", help="Start even when the run is estimated to take over an hour.")] = False,
) -> None:
    """Net update factors κ = k_s/α_s of every gradient: measured on the run and in closed form.

    Periodic problems report one factor per phase; i.i.d. problems one per gradient value,
    with the spread and a confidence interval.
    Drift is the expected change of x per step divided by α (positive: x moves up).
    """
    resolved = spec.build()
    refuse_long(resolved, yes, lower_bound=True)
    out_dir = prepare_out_dir(out, record="nuf.json") if out is not None else None
    lanes = resolved.run_settings.lanes
    with progress_bar(resolved.total_steps, "net update factors", enabled=not json_out, lanes=lanes) as tick:
        report = nuf_report(resolved, burn_in=burn_in, tol=tol, progress=tick)
    fallback_warnings(resolved)  # after the work: a run that fails says only why
    data = report.as_dict()

    def figures() -> dict:
        from adasim.plots.nuf import figure_nuf

        return {"nuf": figure_nuf(report, describe(resolved))}

    troubled = [r for r in data["results"] if r.get("trouble")]
    written = finish(out_dir, "nuf.json", data, figures, json_out)
    if written is None:
        if troubled:
            raise typer.Exit(EXIT_NUMERICAL)
        return
    console = stdout()
    console.print(f"[dim]{describe(resolved)}; burn-in {data['problem']['burn_in']:,} steps[/]")
    for res in data["results"]:
        if res.get("trouble"):
            console.print(f"[bold]{res['optimizer']}[/]: not measured ({res['trouble']})")
            continue
        table = Table(title=f"{res['optimizer']}", header_style="bold", title_justify="left")
        periodic = "phase" in res["nuf"][0]
        for col in (["phase"] if periodic else []) + ["gradient", "closed form", "measured", "std", "95 % CI", "count"]:
            table.add_column(col, justify="right")
        for row in res["nuf"]:
            ci = row["empirical_ci"]
            cells = [str(row["phase"])] if periodic else []
            cells += [fmt(row["gradient"]), fmt(row["analytic"], 6), fmt(row["empirical"], 6), fmt(row["empirical_std"], 3)]
            cells += [f"[{fmt(ci[0], 5)}, {fmt(ci[1], 5)}]", f"{row['count']:,}"]
            table.add_row(*cells)
        console.print(table)
        drift = res["drift"]
        line = f"  drift/α per step: measured {fmt(drift['empirical'], 5)}, closed form {fmt(drift['analytic'], 5)}"
        if res.get("analytic_unavailable"):
            line += f"  [dim](no closed form: {res['analytic_unavailable']})[/]"
        console.print(line)
    if written:
        console.print(f"wrote {out_dir}/" + ", ".join(written))
    for res in troubled:
        warning_line(f"{res['optimizer']}: {res['trouble']}; its measured factors are not numbers and are not drawn")
    if troubled:
        raise typer.Exit(EXIT_NUMERICAL)
