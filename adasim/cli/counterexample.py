"""`adasim find-counterexample`: construct the problem an optimizer fails on."""

from pathlib import Path
from typing import Annotated

import typer

from adasim.analysis.synthesis import find_counterexample, wrong_way_map
from adasim.cli.console import EXIT_NUMERICAL, fmt, stdout
from adasim.cli.options import SpecOptions, with_optimizer_options
from adasim.cli.output import print_json, write_outputs
from adasim.errors import AdasimError, check_range
from adasim.io import prepare_out_dir
from adasim.optimizers import make_optimizer
from adasim.spec import optimizer_settings


@with_optimizer_options
def find(
    spec: SpecOptions,
    family: Annotated[str, typer.Option("--family", help="online | stochastic | both.")] = "online",
    max_period: Annotated[int, typer.Option("--max-period", help="Largest period d searched (online family).")] = 10_000,
    steps: Annotated[
        int | None, typer.Option("--steps", help="Steps of the confirming simulation (2 000 000; matrix optimizers: 100 000).")
    ] = None,
    screen_steps: Annotated[int, typer.Option("--screen-steps", help="Matrix optimizers: steps of each screening run.")] = 4000,
    no_simulation: Annotated[bool, typer.Option("--no-simulation", help="Skip the confirming simulation.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write counterexample.json and wrong_way.png/.svg here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print counterexample.json to stdout and nothing else.")] = False,
) -> None:
    """Find a problem on which the optimizer (-o, default adam) moves away from the optimum.

    Searches the online family (period d, k spikes, spike C, s = 1) and/or the stochastic family (C, p) with the
    closed-form drift, for the largest wrong-way ratio ρ = drift/ḡ subject to x* = −1 (ḡ ≥ 5 % of E|g|).
    Confirms it by simulation, with AMSGrad and AdaShift on the same problem, and prints an `adasim run` command.
    """
    names = spec.optimizer or ["adam"]
    if len(names) != 1:
        raise AdasimError("find-counterexample takes one optimizer (-o NAME)")
    given = {k: v for k, v in spec.hyper().items() if v is not None}
    optimizer = make_optimizer(names[0], **optimizer_settings(names[0], given))
    refused = [k for k in given if not optimizer.definition.accepts(k)]
    if refused:
        raise AdasimError(f"{optimizer.name} has no setting {', '.join(refused)}")
    check_range("steps of a screening run", screen_steps, 100, 10**6, integer=True)  # (read by matrix optimizers only)
    if optimizer.definition.matrix:
        _find_matrix(optimizer, 100_000 if steps is None else steps, screen_steps, not no_simulation, out, json_out)
        return
    shared = {k: v for k, v in optimizer.config().items() if k in ("beta1", "beta2", "eps", "eps_mode")}
    # the confirming simulation runs the fixes beside it: AMSGrad (the paper's maximum) and AdaShift with n = 1
    compare = (
        make_optimizer("amsgrad", **optimizer_settings("amsgrad", shared), convention="paper"),
        make_optimizer("adashift", **optimizer_settings("adashift", shared), n=1),
    )
    compare = tuple(o for o in compare if o.name != optimizer.name)
    out_dir = prepare_out_dir(out, record="counterexample.json") if out is not None else None
    cx = find_counterexample(optimizer, family, max_period, simulate_check=not no_simulation,
                             max_steps=2_000_000 if steps is None else steps, compare=compare)  # fmt: skip
    data = cx.as_dict()
    figures = {}
    if out_dir is not None and cx.problem is not None and hasattr(cx.problem, "d"):
        from adasim.plots.nuf import figure_wrong_way

        figures["wrong_way"] = figure_wrong_way(cx, wrong_way_map(optimizer, int(cx.problem.k), max_period))
    written = write_outputs(out_dir, "counterexample.json", data, figures)
    if json_out:
        print_json(data)
    else:
        console = stdout()
        console.print(f"[dim]objective: {data['objective']}[/]")
        if not cx.found:
            console.print(f"[yellow]no counterexample found for {optimizer.name}[/]: {cx.reason}")
        else:
            p = data["problem"]
            desc = ", ".join(f"{k}={fmt(v, 8)}" for k, v in p.items() if k not in ("name", "domain", "optimum"))
            console.print(f"[bold]{optimizer.name}[/] fails on [bold]{p['name']}[/] ({desc})")
            how = "closed form" if cx.method == "closed form" else "measured by simulation (no closed form)"
            console.print(f"  {how}: drift {fmt(cx.drift, 5)}·α per step, ρ = {fmt(cx.ratio, 5)} (> 0: away from x* = −1)")
            for name, crit in data["critical"].items():
                if crit.get("critical") is not None:
                    side = "below" if crit["wrong_way_below"] else "above"
                    console.print(f"  critical {name} = {fmt(crit['critical'], 8)} (fails {side} it)")
            if data["simulation"]:
                ends = ", ".join(f"{k} {fmt(v, 4)}" for k, v in data["simulation"]["end_x"].items())
                verdict = "[green]confirmed[/]" if cx.confirmed else "[red]not confirmed[/]"
                steps = data["simulation"]["steps"]
                console.print(f"  simulation ({steps:,} steps from x = 0): median x over the last 10 % {ends} — {verdict}")
            if data["simplest"]:
                sp = data["simplest"]["problem"]
                rho = fmt(data["simplest"]["ratio"], 3)
                console.print(f"  simplest found: d = {sp['d']}, k = {sp['k']}, C = {fmt(sp['C'], 6)} (ρ = {rho})")
            console.print(f"  reproduce: {data['command']}", soft_wrap=True, highlight=False)  # one line, pasteable
        if written:
            console.print(f"wrote {out_dir}/" + ", ".join(written))
    if cx.found and data["simulation"] and not cx.confirmed:
        raise typer.Exit(EXIT_NUMERICAL if any(v != v for v in data["simulation"]["end_x"].values()) else 0)


def _find_matrix(optimizer, steps: int, screen_steps: int, simulate_check: bool, out: Path | None, json_out: bool) -> None:
    """A matrix optimizer: the simulation screen of adasim.analysis.matrix_search, confirmed under
    three schedules beside error-feedback Muon and momentum SGD with the optimizer's μ."""
    from adasim.analysis.matrix_search import GRID_C, GRID_DELTA, SCHEDULE_KINDS, TRIES, find_matrix_counterexample
    from adasim.cli.console import progress_bar

    mu = optimizer.config().get("beta1", 0.95)
    same = {k: v for k, v in optimizer.config().items() if k in ("nesterov", "polar", "ns_steps")}
    compare = tuple(o for o in (make_optimizer("ef-muon", beta1=mu, **same), make_optimizer("momentum", beta1=mu))
                    if o.name != optimizer.name)  # fmt: skip
    out_dir = prepare_out_dir(out, record="counterexample.json") if out is not None else None
    total = len(GRID_C) * len(GRID_DELTA) + (TRIES * len(SCHEDULE_KINDS) * (1 + len(compare)) if simulate_check else 0)
    with progress_bar(total, "screening and confirming", enabled=not json_out, lanes=10**6) as tick:
        cx = find_matrix_counterexample(optimizer, compare, steps=steps, screen_steps=screen_steps,
                                        simulate_check=simulate_check, progress=tick)  # fmt: skip
    data = cx.as_dict()
    written = write_outputs(out_dir, "counterexample.json", data, {})
    if json_out:
        print_json(data)
        return
    console = stdout()
    console.print(f"[dim]objective: {data['objective']}[/]")
    if not cx.found:
        best = max(r["ratio"] for r in cx.screened)
        console.print(f"[yellow]no counterexample found for {optimizer.name}[/]: over {len(cx.screened)} problems of the "
                      f"stochastic family on W's diagonal the largest wrong-way ratio was {fmt(best, 4)} ≤ 0")  # fmt: skip
    else:
        p = cx.problem
        console.print(f"[bold]{optimizer.name}[/] moves the wrong way on [bold]matrix[/] (m = {p.size}, C = {fmt(p.C, 6)}, "
                      f"p = {fmt(float(p.p), 6)}, ḡ = {fmt(float(p.mean_gradient()[0]), 4)}): "
                      f"ρ = {fmt(cx.ratio, 4)} (> 0: away from x* = −1)")  # fmt: skip
        for kind, row in cx.runs.items():
            gaps = ", ".join(f"{name} {fmt(g, 3)}" for name, g in row["gap"].items())
            console.print(f"  {kind:9s} α = {fmt(row['lr'], 4)}: gap f̄ − f̄* over the last 10 % (start ḡ, worst 2ḡ): {gaps}")
        if cx.unconfirmable and simulate_check:
            console.print(f"  not confirmed: no wrong-way problem has spikes frequent enough for {cx.steps:,} steps "
                          f"(p·T ≥ {cx.min_spikes:g}): raise --steps (e.g. to 100 000)")  # fmt: skip
        if cx.runs:
            verdict = "[green]confirmed[/]" if cx.confirmed else "[red]not confirmed[/]"
            console.print(f"  {optimizer.name} stays ≥ ḡ/2 under every schedule: {cx.stuck}; comparisons at the minimum: "
                          + ", ".join(f"{k} {v}" for k, v in data["compared"].items()) + f" — {verdict}")  # fmt: skip
        if data["command"]:
            console.print(f"  reproduce: {data['command']}", soft_wrap=True, highlight=False)
    if written:
        console.print(f"wrote {out_dir}/" + ", ".join(written))
