"""How long a run will take, measured before it starts: a short timed run of the same kernel (the
same problem, optimizer, seeds and engine, fewer steps), scaled to the steps asked for. A command
whose estimate is over LIMIT_SECONDS refuses to start unless it is given --yes."""

import dataclasses
import math
import time
from typing import Any

from adasim.errors import AdasimError

LIMIT_SECONDS = 3600.0  # a run estimated longer than this needs --yes
MIN_WORK = 1_000_000  # cell-steps below which no calibration is run: even at 3.6 ms per cell-step it is under an hour
CALIBRATION_SECONDS = 0.05  # each optimizer's timed run lasts at least this long (or covers all its steps)
FIRST_STEPS = 1000  # the calibration's first run (it compiles the kernel, which the real run then reuses)


def seconds_per_step(problem: Any, optimizer: Any, run: Any, steps: int, budget: float = math.inf) -> float:
    """Seconds one step of all the run's lanes takes, for a run of `steps` steps: simulate (as
    Spec.run does, so that the same kernel is compiled and reused) for 1 000 steps, then twice as
    many, and so on. A run's time per step is an upper bound (it holds the fixed cost of a run):
    when it puts the whole run within `budget` seconds, that is enough; otherwise the runs go on
    until one lasts CALIBRATION_SECONDS and the estimate is the marginal cost per step of the last
    two."""
    from adasim.engine import simulate

    def timed(n: int) -> float:
        began = time.perf_counter()
        simulate(problem, optimizer, run=dataclasses.replace(run, steps=n, warmup=0))
        return time.perf_counter() - began

    n = min(FIRST_STEPS, steps)
    timed(n)  # compiles the kernel: not counted
    previous: tuple[int, float] | None = None
    while True:
        elapsed = timed(n)
        if elapsed / n * steps <= budget or n >= steps:
            return elapsed / n
        if elapsed >= CALIBRATION_SECONDS and previous is not None:
            marginal = (elapsed - previous[1]) / (n - previous[0])
            return max(marginal, 0.25 * elapsed / n)  # timing noise cannot make a step nearly free
        previous = (n, elapsed)
        n = min(2 * n, steps)


def estimate_seconds(spec: Any, repeats: float = 1.0, limit: float = math.inf) -> float | None:
    """Seconds the spec's runs (every optimizer, warm-up included) take, `repeats` times over (a
    sweep's cells per worker); None when the work is too small to need an estimate (MIN_WORK).
    Under `limit` the estimate may be a coarse upper bound (the calibration stops early)."""
    run = spec.run_settings
    total_steps = int(run.steps) + int(run.warmup or 0)
    cells = spec.problem.dim * run.lanes
    if total_steps * cells * len(spec.optimizers) * repeats < MIN_WORK:
        return None
    budget = limit / len(spec.optimizers) / repeats
    per_step = [seconds_per_step(spec.problem, opt, run, total_steps, budget) for opt in spec.optimizers]
    return repeats * total_steps * sum(per_step)


def duration(seconds: float) -> str:
    """'7 h 12 min', '3 days 4 h', '12 min', '40 s'."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days {seconds % 86400 / 3600:.0f} h"
    if seconds >= 3600:
        return f"{seconds // 3600:.0f} h {seconds % 3600 / 60:.0f} min"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def refuse_long(spec: Any, yes: bool, what: str = "this run", repeats: float = 1.0, lower_bound: bool = False) -> None:
    """Raise a one-line AdasimError naming the estimate and --yes when the spec's work would take
    over LIMIT_SECONDS (`lower_bound`: the estimate counts the simulation only, and the command does
    more per step); nothing with `yes` or when the work is small."""
    if yes:
        return
    seconds = estimate_seconds(spec, repeats, LIMIT_SECONDS)
    if seconds is None or seconds <= LIMIT_SECONDS:
        return
    about = "at least about" if lower_bound else "about"
    raise AdasimError(f"{what} would take {about} {duration(seconds)} (measured on a short run of the same kernel); "
                      f"give --yes to start it anyway, or fewer --steps or --seeds")  # fmt: skip
