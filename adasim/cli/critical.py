"""`adasim critical`: the β2 (or C) at which the analytic drift changes sign."""

from pathlib import Path
from typing import Annotated

import typer

from adasim.analysis.report import critical_report
from adasim.cli.console import fmt, progress_count, stdout
from adasim.cli.options import SpecOptions, with_closed_form_options
from adasim.cli.output import finish
from adasim.cli.run import describe
from adasim.errors import check_choice
from adasim.io import prepare_out_dir


@with_closed_form_options
def critical(
    spec: SpecOptions,
    solve_for: Annotated[str, typer.Option("--solve-for", help="beta2, beta1 (sign methods' memory) or C.")] = "beta2",
    lo: Annotated[float | None, typer.Option("--lo", help="Lower end of the search bracket.")] = None,
    hi: Annotated[float | None, typer.Option("--hi", help="Upper end of the search bracket.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write critical.json and drift.png/.svg here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print critical.json to stdout and nothing else.")] = False,
) -> None:
    """Where the closed-form drift of one optimizer (-o, default adam) changes sign as β2 or C varies.

    Below or above the critical value the optimizer moves away from the optimum; 'wrong_way_below' says which side.
    """
    check_choice("--solve-for", solve_for, ("beta2", "beta1", "C"))
    if not spec.optimizer:
        spec.optimizer = ["adam"]
    resolved = spec.build()
    out_dir = prepare_out_dir(out, record="critical.json") if out is not None else None
    with progress_count(f"solving for the critical {solve_for}", enabled=not json_out) as tick:
        report = critical_report(resolved, solve_for, lo, hi, progress=tick)
    data = report.as_dict()

    def figures() -> dict:
        from adasim.plots.nuf import figure_drift

        return {"drift": figure_drift(report.result, report.optimizer.name, describe(resolved, run=False))}

    written = finish(out_dir, "critical.json", data, figures, json_out)
    if written is None:
        return
    console = stdout()
    console.print(f"[dim]{describe(resolved, run=False)}[/]")
    if data["critical"] is None:
        console.print(
            f"{report.optimizer.name}: the drift keeps one sign for {solve_for} in {data['bracket']}: no critical value"
        )
    else:
        side = "below" if data["wrong_way_below"] else "above"
        console.print(
            f"{report.optimizer.name}: critical {solve_for} = {fmt(data['critical'], 10)} (moves away from the optimum {side} it)"
        )
        if len(data["roots"]) > 1:
            console.print(f"  all sign changes: {', '.join(fmt(r, 8) for r in data['roots'])}")
    if written:
        console.print(f"wrote {out_dir}/" + ", ".join(written))
