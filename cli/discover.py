"""`adasim discover`: search the typed grammar of scale rules against the battery."""

import json
from pathlib import Path
from typing import Annotated

import typer

from adasim.cli.console import progress_bar, stdout
from adasim.cli.output import print_json
from adasim.errors import AdasimError

PLAN_FILE = "discover-plan.json"


def _check_folder(out: Path, digest: str, resume: bool) -> None:
    """--resume needs this search's folder; a new search never writes into another's."""
    plan_file = out / PLAN_FILE
    held = plan_file.exists() or any((out / "generations").glob("generation-*.npz"))
    if resume:
        if not plan_file.exists():
            raise AdasimError(f"--resume: {out} holds no discover search to continue ({PLAN_FILE} is missing)")
        try:
            old = json.loads(plan_file.read_text()).get("digest")
        except (OSError, ValueError):
            old = None
        if old != digest:
            raise AdasimError(f"--resume: {out} holds another search (other settings or seed); give the same settings, "
                              "or another --out")  # fmt: skip
    elif held:
        raise AdasimError(f"{out} already holds a discover search: continue it with --resume, or give another --out")


def discover(
    budget: Annotated[int, typer.Option("--budget", help="Rules drawn for the first generation (the screen).")] = 10_000,
    rounds: Annotated[int, typer.Option("--rounds", help="Counterexample-guided rounds after the screen.")] = 3,
    beta1: Annotated[
        list[float] | None, typer.Option("--beta1", help="The β1 values rules are drawn with (repeatable; default 0 and 0.9).")
    ] = None,
    fix: Annotated[
        list[str] | None,
        typer.Option("--fix", help="Fix a gene for every rule: gene=value, e.g. order=adopt, beta1=0.9, shift=2 (repeatable)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The search's seed: the same seed, the same search.")] = 0,
    survivors: Annotated[int, typer.Option("--survivors", help="Rules attacked in each round.")] = 48,
    top: Annotated[int, typer.Option("--top", help="Rules in the table and in found.py.")] = 10,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write discover.json, discover.md, found.py, discover.png here.")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted search in --out.")] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="Processes (default: all cores; 1 runs inline).")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="A Dask scheduler address, tcp://host:port.")] = None,
    no_real_task: Annotated[bool, typer.Option("--no-real-task", help="Skip the digits task (needs scikit-learn).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print discover.json to stdout and nothing else.")] = False,
) -> None:
    """Search a typed grammar of v_t rules against the battery, attack survivors with counterexamples, judge on held-out families.

    Every rule is scale-invariant by construction (v is homogeneous of degree 2 in the gradients). The screen runs
    --budget rules through the search battery as lanes of one compiled step; each round attacks the survivors with
    find-counterexample's screen and adds what defeats them to the battery. docs/REFERENCE.md §9 has the grammar.
    """
    import os

    from adasim.discover.grammar import parse_fixed
    from adasim.discover.report import build_report, table_markdown, write
    from adasim.discover.search import Plan, run_search, work_units
    from adasim.io import prepare_out_dir, write_json
    from adasim.sweep import check_scheduler_address, check_workers

    if resume and out is None:
        raise AdasimError("--resume needs --out (the folder of the interrupted search)")
    if workers is not None:
        check_workers(workers)
    if scheduler is not None:
        check_scheduler_address(scheduler)
    if top < 1 or top > 100:
        raise AdasimError(f"--top must lie in [1, 100], got {top}")
    if survivors < 1 or survivors > 10_000:
        raise AdasimError(f"--survivors must lie in [1, 10000], got {survivors}")
    fixed = parse_fixed(fix or [])
    plan = Plan(budget=budget, rounds=rounds, beta1=tuple(beta1) if beta1 else (0.0, 0.9), seed=seed,
                fixed=tuple(sorted(fixed.items())), survivors=survivors)  # fmt: skip
    if not no_real_task:
        from adasim.discover.realtask import digits

        digits()  # one line now, not after the search, when scikit-learn is missing
    out_dir = None
    if out is not None:
        out_dir = prepare_out_dir(out, record="discover.json")
        _check_folder(out_dir, plan.digest(), resume)
        write_json(out_dir / PLAN_FILE, {"digest": plan.digest(), "plan": {**plan.__dict__, "fixed": dict(plan.fixed)}})
    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    with progress_bar(work_units(plan), "discover", enabled=not json_out, lanes=10_000) as tick:
        outcome = run_search(plan, out_dir, resume=resume, workers=workers, scheduler=scheduler, progress=tick)
    report = build_report(outcome, top=top, workers=workers, scheduler=scheduler, real_task=not no_real_task)
    files = write(report, out_dir) if out_dir is not None else {}
    if out_dir is not None:
        from adasim.io import write_record

        write_record(out_dir, "discover.json", report.as_dict())  # with the provenance, last
    if json_out:
        print_json(report.as_dict())
        return
    console = stdout()
    cases = len(outcome.generations[-1].battery)
    console.print(f"[bold]adasim discover[/]: {len(outcome.genes):,} distinct rules; battery {cases} "
                  f"cases after {plan.rounds} round(s) (counterexamples added: "
                  f"{', '.join(n for r in outcome.counterexamples for n in r) or 'none'})")  # fmt: skip
    if outcome.reused:
        console.print(f"[dim]resumed: {outcome.reused} finished generation(s) read back from {out_dir}[/]")
    console.print(table_markdown(report), markup=False, soft_wrap=True)
    a = report.answers
    shift = a["shift_vs_runs_of_spikes"]
    console.print(f"runs of 2 spikes: the smallest shift whose pure-shift rules pass consecutive-spikes is "
                  f"{shift['smallest_shift_that_passes']} (by shift: "
                  + ", ".join(f"n={n}: {r['pass_consecutive_spikes']:.0%} of {r['rules']}" for n, r in shift["by_shift"].items())
                  + ")", markup=False, soft_wrap=True)  # fmt: skip
    q = a["multi_step_shift_beta1_0.9"]
    console.print(f"the post's multi-step shift with a moving average of the left-out band, β1 = 0.9: "
                  f"{q['any_accumulator']['pass_all']} of {q['any_accumulator']['rules']} such rules pass the whole search "
                  f"battery" + (f"; the best of them: {q['best_passing']}" if q.get("best_passing") else ""),
                  markup=False, soft_wrap=True)  # fmt: skip
    if files:
        console.print(f"[dim]wrote {', '.join(Path(f).name for f in files.values())} in {out_dir}[/]")
