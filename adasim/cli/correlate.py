"""`adasim correlate`: how strongly v_t depends on the gradient it scales, for each shift n of an
optimizer that has one (the others once, at their own rule)."""

import dataclasses
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adasim.analysis.report import correlation_report, parse_shifts, per_shift
from adasim.cli.console import fallback_warnings, fmt, progress_bar, stdout
from adasim.cli.estimate import refuse_long
from adasim.cli.options import SpecOptions, with_spec_options
from adasim.cli.output import finish
from adasim.cli.run import describe
from adasim.io import prepare_out_dir


@with_spec_options
def correlate(
    spec: SpecOptions,
    shifts: Annotated[
        str,
        typer.Option(
            "--shifts", help="Shifts n for every optimizer with a shift n (AdaShift's, a rule's n): '0,1,2,4' or '0:8'."
        ),
    ] = "0,1,2,4",
    out: Annotated[Path | None, typer.Option("--out", help="Write correlation.json and correlation.png/.svg here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print correlation.json to stdout and nothing else.")] = False,
    burn_in: Annotated[int | None, typer.Option("--burn-in", help="Steps left out at the start.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Start even when the run is estimated to take over an hour.")] = False,
) -> None:
    """Pearson and Spearman correlation of g_t (and g_t²) with v_t and 1/√v_t, with 95 % intervals.

    Runs Adam, AdaShift at every shift n and ADOPT (or the optimizers given with -o): an optimizer whose
    definition has a shift n runs at each shift, the others once, at their own rule; shift 0 is Adam's own v.
    On i.i.d. problems the closed form is shown beside the measurement.
    """
    if not spec.optimizer:
        spec.optimizer = ["adam", "adashift", "adopt"]
    resolved = spec.build()
    shift_list = parse_shifts(shifts, resolved.run_settings.steps)
    optimizers = per_shift(resolved.optimizers, shift_list)  # AdaShift at every shift n (n = 0 is Adam's own v)
    shifted = dataclasses.replace(resolved, optimizers=tuple(optimizers))
    refuse_long(shifted, yes, lower_bound=True)
    out_dir = prepare_out_dir(out, record="correlation.json") if out is not None else None
    run = resolved.run_settings
    with progress_bar(run.steps * len(optimizers), "correlations", enabled=not json_out, lanes=run.lanes) as tick:
        report = correlation_report(resolved, optimizers, burn_in=burn_in, progress=tick)
    fallback_warnings(shifted)  # after the work: a run that fails says only why
    data = report.as_dict()

    def figures() -> dict:
        from adasim.plots.nuf import figure_correlation

        return {"correlation": figure_correlation(report, describe(resolved))}

    written = finish(out_dir, "correlation.json", data, figures, json_out)
    if written is None:
        return
    console = stdout()
    console.print(f"[dim]{describe(resolved)}[/]")
    table = Table(header_style="bold")
    columns = ("optimizer", "shift n", "pearson(g², v)", "95 % CI", "closed form", "spearman(g², v)", "pearson(g, 1/√v)", "pairs")
    for col in columns:
        table.add_column(col, justify="right", no_wrap=col in ("optimizer", "shift n"))
    for c in report.results:
        lo, hi = c.pearson_g2_v_ci
        table.add_row(
            c.optimizer,
            "its own rule" if c.n is None else str(c.n),
            fmt(c.pearson_g2_v, 4),
            f"[{fmt(lo, 3)}, {fmt(hi, 3)}]",
            fmt(c.analytic_pearson_g2_v, 4),
            fmt(c.spearman_g2_v, 4),
            fmt(c.pearson_g_inv_sqrt_v, 4),
            f"{c.pairs:,}",
        )
    console.print(table)
    for c in report.results:
        if c.per_block:
            parts = ", ".join(f"block {b['block']} (k = {b['size']}): {fmt(b['pearson_g2_v'], 4)}" for b in c.per_block)
            console.print(f"{c.optimizer} ({c.setting()}) pearson(g², v) per block: {parts}")
        if c.flag:
            console.print(f"[yellow]{c.flag_line()}[/]", markup=True, highlight=False)
    if written:
        console.print(f"wrote {out_dir}/" + ", ".join(written))
