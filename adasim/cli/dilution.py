"""`adasim dilution`: how sharing v over a block of k coordinates dilutes the v–g correlation."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adasim.analysis.dilution import dilution
from adasim.cli.console import fmt, progress_count, stdout
from adasim.cli.options import SpecOptions, with_spec_options
from adasim.cli.output import finish
from adasim.errors import AdasimError
from adasim.io import prepare_out_dir
from adasim.problems.layered import Layered


@with_spec_options(defaults={"steps": 20_000, "seeds": 2, "phi": "mean"})
def dilution_command(
    spec: SpecOptions,
    ks: Annotated[str, typer.Option("--ks", help="Block sizes k: '1,2,4,8,16,32'.")] = "1,2,4,8,16,32",
    out: Annotated[Path | None, typer.Option("--out", help="Write dilution.json and dilution.png/.svg here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print dilution.json to stdout and nothing else.")] = False,
) -> None:
    """For each k, share v over a block of k independent copies of the layered problem's base (φ from --phi, mean here).

    Reports Pearson(g_j², v) with its interval and the closed form √((1−β2²)/k), the factors per gradient value,
    the drift and how many coordinates reach the optimum.
    """
    try:
        k_values = [int(k) for k in ks.split(",") if k.strip()]
    except ValueError:
        raise AdasimError(f"--ks must be whole numbers like '1,2,4,8', got '{ks}'") from None
    if spec.problem in ("reddi-thm1", "layered") or spec.problem is None:
        spec.problem = "layered"
    if spec.problem != "layered":
        raise AdasimError("dilution works on the layered problem (its --base stochastic | online coordinates)")
    if spec.optimizer is None:
        spec.optimizer = ["adam"]
    resolved = spec.build()
    if len(resolved.optimizers) != 1:
        raise AdasimError("dilution takes one optimizer (-o NAME)")
    assert isinstance(resolved.problem, Layered)
    opt = resolved.optimizers[0]
    out_dir = prepare_out_dir(out, record="dilution.json") if out is not None else None
    with progress_count("dilution over k", enabled=not json_out) as tick:
        rows = dilution(resolved.problem, opt, k_values, run=resolved.run_settings, progress=tick)
    data = {"problem": resolved.config(), "optimizer": opt.name, "config": opt.config(), "results": [r.as_dict() for r in rows]}

    def figures() -> dict:
        from adasim.plots.nuf import figure_dilution

        return {"dilution": figure_dilution(rows, opt.name, getattr(opt, "phi", "identity"))}

    written = finish(out_dir, "dilution.json", data, figures, json_out)
    if written is None:
        return
    table = Table(header_style="bold", title=f"{opt.name}, φ = {getattr(opt, 'phi', 'identity')}")
    for col in ("k", "pearson(g², v)", "95 % CI", "√((1−β2²)/k)", "κ per gradient", "drift/α", "at x*"):
        table.add_column(col, justify="right")
    for r in rows:
        kappa = ", ".join(f"{g}: {fmt(v, 4)}" for g, v in r.kappa.items())
        lo, hi = r.pearson_g2_v_ci
        table.add_row(str(r.k), fmt(r.pearson_g2_v, 4), f"[{fmt(lo, 3)}, {fmt(hi, 3)}]", fmt(r.analytic_pearson_g2_v, 4),
                      kappa, fmt(r.drift, 4), f"{r.at_optimum:.0%}")  # fmt: skip
    console = stdout()
    console.print(table)
    if written:
        console.print(f"wrote {out_dir}/" + ", ".join(written))
