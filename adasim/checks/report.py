"""The check's entry point from Python (`adasim.check`) and its report: a table, JSON, Markdown.

report = adasim.check("adam", cases=["reddi-fig1-stochastic"])
report.passed                                  # False: Adam fails Reddi's Fig. 1 problem
assert adasim.check("my_opt.py:Mine").passed   # one line in an optimizer's test suite
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adasim.checks.adapters import Loaded, load
from adasim.checks.cases import MATRIX_CASES, MATRIX_QUICK, QUICK, Case, get_cases, is_matrix
from adasim.checks.runner import PROGRESS_SHARE, CaseResult, joint_groups, run_cases, work
from adasim.errors import AdasimError


@dataclass
class Report:
    """Every case's result for one optimizer. `passed` holds when every case passed."""

    optimizer: dict[str, Any]
    results: list[CaseResult] = field(default_factory=list)
    quick: bool = False

    @property
    def passed(self) -> bool:
        """Every case passed (a case that could not exercise the optimizer is not a pass)."""
        return bool(self.results) and all(r.passed is True for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        return {"passed": sum(r.status == "pass" for r in self.results), "failed": sum(r.status == "FAIL" for r in self.results),
                "errored": sum(r.status == "error" for r in self.results),
                "not_exercised": sum(r.status == "not exercised" for r in self.results),
                "inconclusive": sum(r.status == "inconclusive" for r in self.results)}  # fmt: skip

    def summary(self) -> str:
        c = self.counts
        text = f"{c['passed']} passed, {c['failed']} failed, {c['errored']} errored"
        text += f", {c['inconclusive']} inconclusive" if c["inconclusive"] else ""
        return text + (f", {c['not_exercised']} not exercised" if c["not_exercised"] else "")

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td>{html.escape(r.case.name)}</td><td>{r.status}</td>"
                       f"<td>{html.escape(str(r.verdict or r.error))}</td></tr>" for r in self.results)  # fmt: skip
        return (f"<table><caption style='text-align:left'><b>adasim check {html.escape(str(self.optimizer['spec']))}</b>: "
                f"{self.summary()}</caption>{rows}</table>")  # fmt: skip

    def __repr__(self) -> str:
        lines = [f"Report({self.optimizer['spec']}: {self.summary()})"]
        lines += [f"  {r.status:5} {r.case.name:24} {r.verdict if r.error is None else r.error}" for r in self.results]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        from adasim.io import provenance

        return {"optimizer": self.optimizer, "quick": self.quick, "cases": [r.as_dict() for r in self.results],
                **self.counts, "provenance": provenance()}  # fmt: skip

    def markdown(self) -> str:
        out = [f"# adasim check: `{self.optimizer['spec']}`", "",
               f"{self.summary()}{' (the quick cases)' if self.quick else ''}. Lanes: {self.optimizer.get('lanes')} "
               f"({self.optimizer.get('lanes_why')}). A case passes when its outcome holds and x̄, the average iterate of "
               f"the second half, covers at least {PROGRESS_SHARE:g} of SGD's progress toward x*.", "",
               "| case | result | x̄ (median) | distance of x̄ to x* | progress (SGD) | drift/α per step | verdict |",
               "|---|---|---|---|---|---|---|"]  # fmt: skip
        for r in self.results:
            fx = ", ".join(f"{v:.4g}" for v in r.final_x.get("mean_second_half", []))
            progress = f"{_show(r.progress)} ({_show(r.sgd_progress)})"
            out.append(f"| {r.case.name} | {r.status} | {fx} | {_show(r.distance)} | {progress} | "
                       f"{_show(r.drift)} | {(r.error or r.verdict).replace('|', '/')} |")  # fmt: skip
        out += ["", "Cases:", ""]
        out += [f"- **{r.case.name}** — {r.case.about} ({r.case.source})" for r in self.results]
        return "\n".join(out) + "\n"


def _show(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{v:.4g}"


def check(
    optimizer: str | Loaded,
    cases: Sequence[str] | None = None,
    *,
    kwargs: dict[str, Any] | None = None,
    quick: bool = False,
    twins: int | None = None,
    jobs: int = 1,
    engine: str = "auto",
    timeout: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Put `optimizer` (a SPEC string: `torch:torch.optim.AdamW`, `optax:optax.adam`, `file.py:Name`
    or a built-in name; or a Loaded) through the cases named (default: the whole battery; `quick`:
    the cases marked quick, run in full, so their verdicts are the full battery's; an optimizer that
    acts on matrices gets the matrix battery, cases.MATRIX_CASES, instead). `jobs` > 1
    runs the cases in that many processes (each loads the SPEC again); `timeout` (seconds) gives
    each case at most that long, in a worker process (a case past it errors, and the check goes on).
    `progress(done, total)` is told of the work done (runner.work: lane-steps of the finished cases)."""
    if quick and cases:
        raise AdasimError("--quick chooses the cases itself: give --case or --quick, not both")
    chosen: list[Case] = get_cases(list(QUICK) if quick else (list(cases) if cases else None))
    helpers = None
    if timeout is None and jobs > 1 and len(chosen) > 1 and not isinstance(optimizer, Loaded):
        helpers = _Helpers(optimizer, kwargs or {}, jobs - 1)  # they start (and import) while this process loads
    try:
        loaded = optimizer if isinstance(optimizer, Loaded) else load(optimizer, kwargs)
        if loaded.not_exercised is not None and not cases:  # a matrix optimizer: the matrix battery instead
            chosen = get_cases(list(MATRIX_QUICK) if quick else list(MATRIX_CASES))
        report = Report(loaded.describe(), quick=quick)
        tally = _Tally(chosen, progress)
        idle = loaded.not_exercised is not None and not any(is_matrix(c) for c in chosen)  # nothing to run
        if idle or jobs <= 1 or len(chosen) <= 1:
            report.results = run_cases(loaded, chosen, twins=twins, engine=engine, progress=tally.add)
        elif timeout is not None:
            report.results = _pooled(loaded, chosen, twins, engine, max(1, min(jobs, len(chosen))), timeout, tally)
        else:
            helpers = helpers or _Helpers(loaded.spec, loaded.kwargs, jobs - 1)
            report.results = helpers.share(loaded, chosen, twins, engine, tally)
    finally:
        if helpers is not None:
            helpers.close()
    return report


class _Tally:
    """The battery's work done, told to `progress(done, total)` as cases finish (here or in a
    worker process: a future's callback runs in the pool's thread, hence the lock)."""

    def __init__(self, cases: list[Case], progress: Callable[[int, int], None] | None) -> None:
        self.total = sum(work(c) for c in cases)
        self.done = 0
        self.progress = progress
        self.lock = threading.Lock()
        self.add(0)

    def add(self, n: int) -> None:
        if self.progress is None:
            return
        with self.lock:
            self.done += n
            self.progress(self.done, self.total)

    def group(self, future: Any, group: list[Case]) -> None:
        """A worker's group finished (a failed one counts too: its cases are over)."""
        self.add(sum(work(c) for c in group))


def _groups(loaded: Loaded, chosen: list[Case]) -> list[list[Case]]:
    """joint_groups, the longest first (the last to start should not be the one everyone waits for)."""
    return sorted(joint_groups(loaded, chosen), key=lambda g: -sum(c.n_seeds * c.steps for c in g))


class _Helpers:
    """`jobs` − 1 worker processes beside this one: this process runs groups of cases too (its
    import of the optimizer's library is not wasted), taking the shortest groups from the end of
    the queue while the workers take the longest from its front. Without a timeout only: a case
    running here cannot be stopped."""

    def __init__(self, spec: Any, kwargs: dict[str, Any], workers: int) -> None:
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_worker_init, initargs=(os.getpid(),))  # fmt: skip
        self.workers = workers
        self.warm = [self.pool.submit(_warm, spec, kwargs) for _ in range(workers)] if isinstance(spec, str) else []

    def share(self, loaded: Loaded, chosen: list[Case], twins: int | None, engine: str, tally: _Tally) -> list[CaseResult]:
        from collections import deque
        from concurrent.futures import wait
        from concurrent.futures.process import BrokenProcessPool

        queue = deque(_groups(loaded, chosen))
        lock = threading.Lock()
        futures: list[Any] = []
        results: dict[str, CaseResult] = {}

        def give(_: Any = None) -> None:  # a worker is free: the longest group left (called from the pool's thread)
            with lock:
                if not queue:
                    return
                group = queue.popleft()
                try:
                    future = self.pool.submit(_run_group, loaded.spec, loaded.kwargs, [c.name for c in group], twins, engine)
                except (BrokenProcessPool, RuntimeError):
                    queue.appendleft(group)
                    return
                futures.append(future)
            future.add_done_callback(functools.partial(tally.group, group=group))
            future.add_done_callback(give)

        for _ in range(self.workers):
            give()
        with _one_thread(loaded):
            while True:
                with lock:
                    if not queue:
                        break
                    group = queue.pop()
                results.update((r.case.name, r) for r in run_cases(loaded, group, twins=twins, engine=engine,
                                                                   progress=tally.add))  # fmt: skip
        while True:
            with lock:
                running = [f for f in futures if not f.done()]
            if not running:
                break
            wait(running)
        try:
            for future in futures:
                results.update((r.case.name, r) for r in future.result())
        except BrokenProcessPool:
            raise AdasimError("a worker process of the check died (killed, or out of memory?): run it again with --jobs 1 "
                              "to see the case that fails") from None  # fmt: skip
        if queue:  # the pool broke before it took them
            raise AdasimError("the check's worker processes stopped before the last cases ran: run it again with --jobs 1")
        return [results[c.name] for c in chosen]

    def close(self) -> None:
        _kill(self.pool)
        self.pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _one_thread(loaded: Loaded) -> Any:
    """torch on one thread here while the workers run beside this process (restored after): a pool
    of two threads on top of a worker's oversubscribes two cores (a group took 9 s instead of 4)."""
    if loaded.kind != "torch":
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _warm(spec: str, kwargs: dict[str, Any]) -> None:
    """A worker's first task: load the SPEC (import its library) while the parent does the same."""
    with contextlib.suppress(AdasimError):  # the parent reports it
        load(spec, kwargs)


def _pooled(loaded: Loaded, chosen: list[Case], twins: int | None, engine: str, jobs: int,
            timeout: float | None, tally: _Tally | None = None) -> list[CaseResult]:  # fmt: skip
    """The cases in `jobs` worker processes, a group of cases that share one optimizer run
    (runner.joint_groups) at a time, each group given at most `timeout` seconds per case: a group
    past it errors ("did not finish"), the workers are killed (a running step cannot be stopped
    any other way) and the groups that were running with it start again in new ones."""
    import multiprocessing
    import os
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")  # torch and jax do not survive a fork cleanly
    results: dict[str, CaseResult] = {}
    pending = _groups(loaded, chosen)
    while pending:
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=context, initializer=_worker_init,
                                   initargs=(os.getpid(),))  # fmt: skip
        running: dict[Any, tuple[list[Case], float]] = {}
        restart = False
        try:
            while (pending or running) and not restart:
                while pending and len(running) < jobs:
                    group = pending.pop(0)
                    future = pool.submit(_run_group, loaded.spec, loaded.kwargs, [c.name for c in group], twins, engine)
                    running[future] = (group, time.monotonic())
                done, _ = wait(running, timeout=None if timeout is None else 0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    group, _ = running.pop(future)
                    results.update((r.case.name, r) for r in future.result())
                    if tally is not None:
                        tally.add(sum(work(c) for c in group))
                now = time.monotonic()
                late = [f for f, (g, began) in running.items() if timeout is not None and now - began > timeout * len(g)]
                for future in late:
                    group, began = running.pop(future)
                    n = len(group)
                    allowed = f"{timeout:g} s" if n == 1 else f"{timeout * n:g} s for {n} cases together"
                    for case in group:
                        results[case.name] = CaseResult(case, passed=None, error=f"did not finish within {allowed} (--timeout)",
                                                        seconds=now - began)  # fmt: skip
                    if tally is not None:
                        tally.add(sum(work(c) for c in group))
                if late:  # kill the workers; the groups still running with the late one start again
                    pending = [group for group, _ in running.values()] + pending
                    running = {}
                    restart = True
        except BrokenProcessPool:
            _kill(pool)
            raise AdasimError("a worker process of the check died (killed, or out of memory?): run it again with --jobs 1 "
                              "to see the case that fails") from None  # fmt: skip
        except BaseException:  # an error or a signal: stop the workers now rather than wait for their cases
            _kill(pool)
            raise
        if restart:
            _kill(pool)
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[c.name] for c in chosen]


def _kill(pool: Any) -> None:
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.kill()


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def _worker_init(parent: int) -> None:
    """A worker: dies with its parent (adasim.signals.worker_init), takes a KeyboardInterrupt for its
    code's (it ignores SIGINT), prints to stderr, and computes on one thread —
    `jobs` processes of torch's or BLAS's default thread pools on `jobs` cores fight over them
    (torch Adam's battery took 73 s with two workers of two threads each, 19 s with one each)."""
    import os

    from adasim.signals import in_worker, worker_init

    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    worker_init(parent)
    in_worker()
    os.dup2(2, 1)  # what the optimizer prints goes to stderr: the parent's stdout carries its report (--json)


def _run_group(spec: str, kwargs: dict[str, Any], cases: list[str], twins: int | None, engine: str) -> list[CaseResult]:
    """A group of cases in a worker process."""
    return run_cases(load(spec, kwargs), get_cases(list(cases)), twins=twins, engine=engine)


def write_outputs(report: Report, out: Path) -> list[str]:
    """report.json, report.md and a figure of x_t per failed case, each written atomically."""
    from adasim.io import atomic_file, prepare_out_dir, write_record

    out = prepare_out_dir(out, record="report.json")
    with atomic_file(out / "report.md", "w") as fh:
        fh.write(report.markdown())
    written = ["report.json", "report.md"]
    failed = [r for r in report.results if r.passed is False and r.trace_x is not None]
    if failed:
        from matplotlib.figure import Figure

        from adasim.io import write_figure

        for r in failed:
            fig = Figure(figsize=(6.4, 3.6), layout="constrained")
            ax = fig.add_subplot()
            xs = r.trace_x
            for j in range(xs.shape[2]):
                med = np.median(xs[:, :, j], axis=1)
                ax.plot(r.trace_t, med, label=f"x[{j}] median" if xs.shape[2] > 1 else "x_t median over seeds")
                ax.fill_between(r.trace_t, np.quantile(xs[:, :, j], 0.25, axis=1), np.quantile(xs[:, :, j], 0.75, axis=1),
                                alpha=0.25)  # fmt: skip
            for j, star in enumerate(r.final_x["x_star"]):
                ax.axhline(star, ls="--", lw=0.8, color="k", label="x*" if j == 0 else None)
            ax.set_xscale("log")
            ax.set_xlabel("t")
            ax.set_ylabel("x_t")
            ax.set_title(f"{report.optimizer['spec']} on {r.case.name}: {r.status}")
            ax.legend(loc="best", fontsize=8)
            name = f"{r.case.name}.png"
            write_figure(out / name, fig, dpi=120)
            written.append(name)
    write_record(out, "report.json", report.as_dict())  # last: it lists the files above with their hashes
    return written
