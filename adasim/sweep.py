"""Sweeps: a grid over problem and optimizer settings (and seeds), run as lanes in chunks, each
chunk written to disk as it finishes so an interrupted sweep resumes without recomputing.

Axes are the sweepable settings of adasim.settings, named like the command-line options (C,
small, period, spikes, p, delta, n_functions, beta1, beta2, lr, eps, shift, seed). Values:
'lo:hi:count' (linear), 'log:lo:hi:count' (geometric) or a list 'a,b,c'. A preset's relations
(β2 = 1/(1+C²), d = C) are resolved again for every cell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adasim.analysis.drift import analytic_drift, is_periodic
from adasim.display import Shown
from adasim.engine import simulate
from adasim.errors import AdasimError, check_choice, check_range
from adasim.io import dumps, write_json, write_npz
from adasim.problems.presets import derive
from adasim.settings import OPTIMIZER, PROBLEM, sweep_axes
from adasim.spec import Spec, build_spec
from adasim.tables import Tabular

AXES = list(sweep_axes())
INTEGER_AXES = {name for name, s in sweep_axes().items() if s.type is int}
DEFAULT_LIMIT = 1_000_000
CHUNK_LANES = 2048  # lanes per chunk (the engine sizes its blocks to about 1M values per array)
METRICS = ("final_x", "distance", "average_regret", "converged", "drift")
CHUNK_FORMAT = 2  # the layout of a chunk file: its fields, and the meta that places it in the sweep
CHUNK_FIELDS = {"final_x": "f", "distance": "f", "average_regret": "f", "converged": "b", "drift": "f", "status": "U"}
RULES = {
    "shi": "converged when the mean of log10|x − x*| over the recorded second half of the run is below −2 (Shi et al. 2021)",
    "distance": "converged when the final |x − x*| is within 5 % of the domain's width",
}


def parse_axis(name: str, text: str) -> np.ndarray:
    """'lo:hi:count', 'log:lo:hi:count' or 'a,b,c' into the axis values."""
    if name not in AXES:
        raise AdasimError(f"cannot sweep '{name}': sweepable are {', '.join(AXES)}")
    text = text.strip()
    try:
        if text.startswith("log:"):
            lo, hi, count = text[4:].split(":")
            lo_f, hi_f, n = float(lo), float(hi), int(count)
            values = np.geomspace(lo_f, hi_f, n) if lo_f > 0 and hi_f > 0 else None
        elif ":" in text:
            lo, hi, count = text.split(":")
            values = np.linspace(float(lo), float(hi), int(count))
        else:
            values = np.array([float(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise AdasimError(f"{name}: malformed range '{text}' (use lo:hi:count, log:lo:hi:count or a,b,c)") from None
    if values is None:
        raise AdasimError(f"{name}: a log range needs positive ends, got '{text}'")
    if values.size == 0:
        raise AdasimError(f"{name}: the range '{text}' is empty")
    if name in INTEGER_AXES:
        if not np.all(values == np.round(values)):
            raise AdasimError(f"{name} takes whole numbers, got '{text}'")
        values = values.astype(np.int64)
    return values


def axis_spacing(text: str) -> str:
    """How an axis's values were given: 'log' (log:lo:hi:count), 'linear' (lo:hi:count) or 'list' (a,b,c).
    The figure draws log cells, equal linear cells, or one equal cell per listed value."""
    text = text.strip()
    return "log" if text.startswith("log:") else "linear" if ":" in text else "list"


def parse_grid(items: Sequence[str]) -> dict[str, np.ndarray]:
    """['beta2=0:0.99:10', 'C=10,20'] into ordered axes."""
    axes: dict[str, np.ndarray] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise AdasimError(f"grid items look like name=values, got '{item}'")
        name = name.strip().replace("-", "_")
        if name in axes:
            raise AdasimError(f"'{name}' is swept twice")
        axes[name] = parse_axis(name, text)
    if not axes:
        raise AdasimError("give at least one axis with --grid name=values")
    return axes


def code_digest(things: Sequence[Any]) -> str:
    """A digest of the code behind the numbers: adasim's version and the text of every source file
    that defines a function the optimizers' definitions (step, tick, declarations) or the problem
    (a custom problem's gradient and loss) call — so that resume refuses chunks computed before a
    user's file (or adasim) was edited."""
    import inspect

    import adasim

    functions: list[Any] = []
    for thing in things:
        d = getattr(thing, "definition", None)
        if d is not None:
            functions += [getattr(d, f.name) for f in dataclasses.fields(d)]
        functions += [getattr(thing, name, None) for name in ("gradient_kernel", "loss_kernel", "gradient_fn", "loss_fn")]
    files = set()
    for fn in functions:
        if callable(fn):
            try:
                files.add(inspect.getsourcefile(inspect.unwrap(fn)))
            except TypeError:  # a builtin: no source of its own
                continue
    texts = [adasim.__version__]
    for path in sorted(f for f in files if f):
        with contextlib.suppress(OSError):
            texts.append(path + "\0" + hashlib.sha256(Path(path).read_bytes()).hexdigest())
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SweepPlan:
    """The grid, the fixed settings (a resolved Spec), the chunking and the rule."""

    spec: Spec
    axes: dict[str, np.ndarray]
    rule: str = "shi"
    chunk: int = CHUNK_LANES
    with_drift: bool = True
    spacing: dict[str, str] = dataclasses.field(default_factory=dict)  # axis → axis_spacing (the figure's cells only)

    def spacing_of(self, name: str) -> str:
        """How the axis `name` was given (see axis_spacing); an axis built in code: 'log' when its values
        are geometric over a decade, 'linear' when evenly spaced (three or more), else 'list'."""
        if name in self.spacing:
            return self.spacing[name]
        v = np.asarray(self.axes[name], dtype=float)
        if v.size >= 3 and np.all(v > 0) and v.max() / v.min() >= 10 and np.allclose(np.diff(np.log(v)), np.log(v[1] / v[0])):
            return "log"
        return "linear" if v.size >= 3 and np.allclose(np.diff(v), v[1] - v[0]) else "list"

    @property
    def cells(self) -> int:
        return math.prod(len(v) for v in self.axes.values())

    def columns(self) -> dict[str, np.ndarray]:
        """One value per cell for every axis, the last axis varying fastest."""
        grids = np.meshgrid(*self.axes.values(), indexing="ij")
        return {name: g.ravel() for name, g in zip(self.axes, grids, strict=True)}

    def key(self) -> str:
        """A fingerprint of everything that determines the numbers (resume refuses a mismatch)."""
        payload = {
            "axes": {k: v.tolist() for k, v in self.axes.items()},
            "problem": self.spec.config(),
            "optimizers": [o.config() for o in self.spec.optimizers],
            "rule": self.rule,
            "chunk": self.chunk,
            "with_drift": self.with_drift,
            "format": CHUNK_FORMAT,
            "code": code_digest([*self.spec.optimizers, self.spec.problem]),
        }
        return hashlib.sha256(dumps(payload).encode()).hexdigest()[:16]

    def chunks(self) -> list[tuple[int, str, int, int]]:
        """(index, optimizer name, first cell, end cell) for every chunk."""
        out = []
        i = 0
        for name in [o.name for o in self.spec.optimizers]:
            for start in range(0, self.cells, self.chunk):
                out.append((i, name, start, min(start + self.chunk, self.cells)))
                i += 1
        return out


def cell_settings(plan: SweepPlan, start: int, end: int) -> tuple[dict[str, Any], dict[str, Any], np.ndarray]:
    """The problem and optimizer settings of cells [start, end) — swept values, and the preset's
    relations resolved for each cell — as per-cell arrays, and the cells' seeds."""
    axes = sweep_axes()
    cols = {k: v[start:end] for k, v in plan.columns().items()}
    spec = plan.spec
    problem_kw = {
        axes[k].field: (v if k in INTEGER_AXES else v.astype(float)) for k, v in cols.items() if axes[k].group == PROBLEM
    }
    hyper_kw = {axes[k].field: v for k, v in cols.items() if axes[k].group == OPTIMIZER}
    context = {**spec.problem.params(), **problem_kw}
    n = end - start
    derived = derive(spec.problem_relations, context, problem_kw)
    context.update(derived)
    problem_kw.update({k: np.broadcast_to(v, (n,)) for k, v in derived.items()})
    if "p" in problem_kw or "delta" in problem_kw:
        problem_kw.setdefault("p", None)
        problem_kw.setdefault("delta", None)
    hyper_kw.update({k: np.broadcast_to(v, (n,)) for k, v in derive(spec.hyper_relations, context, hyper_kw).items()})
    seeds = cols["seed"] if "seed" in cols else np.broadcast_to(spec.run_settings.seeds[:1], (end - start,))
    return problem_kw, hyper_kw, np.asarray(seeds)


def check_axes(plan: SweepPlan) -> None:
    """Every optimizer of the sweep has every optimizer setting swept (before anything runs)."""
    axes = sweep_axes()
    for opt in plan.spec.optimizers:
        refused = sorted(k for k in plan.axes if axes[k].group == OPTIMIZER and not opt.definition.accepts(axes[k].field))
        if refused:
            raise AdasimError(f"{opt.name}: cannot sweep {', '.join(refused)} for it (it has no such setting)")


def derived_settings(plan: SweepPlan, start: int, end: int) -> dict[str, np.ndarray]:
    """The settings that a preset derives from swept ones (β2 = 1/(1+C²), d = C, ...), per cell."""
    if not (plan.spec.problem_relations or plan.spec.hyper_relations):
        return {}
    problem_kw, hyper_kw, _ = cell_settings(plan, start, end)
    keys = [*plan.spec.problem_relations, *plan.spec.hyper_relations]
    found = {**problem_kw, **hyper_kw}
    return {k: np.asarray(found[k]) for k in keys if k in found and k not in plan.axes}


def run_chunk(plan: SweepPlan, optimizer_name: str, start: int, end: int) -> dict[str, np.ndarray]:
    """Simulate the cells [start, end) of one optimizer as lanes; return their metric columns."""
    problem_kw, hyper_kw, seeds = cell_settings(plan, start, end)
    opt = next(o for o in plan.spec.optimizers if o.name == optimizer_name)
    lanes = end - start
    prob = plan.spec.problem.replace(**problem_kw) if problem_kw else plan.spec.problem
    accepted = {k: v for k, v in hyper_kw.items() if opt.definition.accepts(k)}
    optimizer = opt.replace(**accepted) if accepted else opt
    settings = plan.spec.run_settings
    stride = max(1, settings.steps // 200)  # enough rows for the second-half rule, little memory
    run = simulate(prob, optimizer, run=settings.replace(seeds=seeds), stride=stride, log_spaced=False, record=("x",))
    x = prob.sweep_coordinate(run.final_x)
    opt_x = np.broadcast_to(prob.sweep_optimum(), (lanes,))
    distance = np.abs(x - opt_x)
    width = float(prob.domain.hi) - float(prob.domain.lo)
    if plan.rule == "shi":
        half = run.trace.t > settings.steps // 2
        with np.errstate(divide="ignore"):
            logs = np.log10(np.abs(prob.sweep_coordinate(run.trace.x[half]) - opt_x[None, :]) + 1e-300)
        converged = np.mean(logs, axis=0) < -2
    else:
        converged = distance <= 0.05 * width if math.isfinite(width) else distance <= 0.05
    drift = np.full(lanes, np.nan)
    if plan.with_drift:
        known: dict[tuple, float] = {}  # cells that differ only by seed share their closed form
        for i in range(lanes):
            p_i, o_i = prob.at_lane(i), optimizer.at_lane(i)  # (per-lane arrays of one cell included)
            if not is_periodic(p_i):
                continue
            key = (repr(p_i.params()), repr(o_i.config()))
            if key not in known:
                try:
                    known[key] = analytic_drift(p_i, o_i)
                except AdasimError:
                    known[key] = np.nan
            drift[i] = known[key]
    converged = np.where(run.ok, converged, False)
    return {
        "final_x": np.where(run.ok, x, np.nan),
        "distance": np.where(run.ok, distance, np.nan),
        "average_regret": run.average_regret,
        "converged": converged.astype(bool),
        "drift": drift,
        "status": run.status,
    }


def _chunk_path(folder: Path, index: int) -> Path:
    return folder / f"chunk-{index:05d}.npz"


def _load_chunk(path: Path, plan: SweepPlan, index: int, name: str, start: int, end: int) -> dict[str, np.ndarray] | None:
    """The chunk file at `path` when it is whole and belongs exactly here — this sweep's
    fingerprint, this chunk's index, optimizer and cell range, every field with one row per cell
    and of the right kind — else None (it is then computed again). Never raises on a bad file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta.json")))
        place = {"key": plan.key(), "index": index, "optimizer": name, "start": start, "end": end}
        if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in place.items()):
            return None
        if set(arrays) != set(CHUNK_FIELDS):
            return None
        for field, kind in CHUNK_FIELDS.items():
            a = arrays[field]
            if a.shape != (end - start,) or a.dtype.kind != kind:
                return None
        return arrays
    except Exception:  # truncated, bad CRC, not a zip, not JSON, missing meta: recompute
        return None


def _worker(args: tuple[SweepPlan, str, int, int, int]) -> tuple[int, dict[str, np.ndarray]]:
    plan, name, start, end, index = args
    return index, run_chunk(plan, name, start, end)


def _save_chunk(folder: Path | None, plan: SweepPlan, chunk: tuple[int, str, int, int], result: dict[str, np.ndarray]) -> None:
    """Written by the driver as each chunk arrives (workers need not share its disk), with the
    meta that places it: the sweep's fingerprint, the chunk's index, optimizer and cells."""
    if folder is not None:
        index, name, start, end = chunk
        meta = np.array(dumps({"key": plan.key(), "index": index, "optimizer": name, "start": start, "end": end}))
        write_npz(_chunk_path(folder, index), {**result, "meta.json": meta})


SCHEDULER_TIMEOUT = 10.0  # seconds to wait for a Dask scheduler before saying it cannot be reached


def check_scheduler_address(address: str) -> str:
    """A Dask scheduler's address, [protocol://]host:port, or a one-line AdasimError."""
    if not re.fullmatch(r"((tcp|tls|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[^:/\s]+):\d{1,5}", address):
        raise AdasimError(f"--scheduler takes a Dask scheduler's address such as tcp://host:8786, got '{address}'")
    return address


def check_parallel(resume: bool, out: Any, workers: int | None, scheduler: str | None, what: str) -> None:
    """The options a resumable, parallel command shares, checked before any work: --resume needs
    --out, --workers a count this machine can run, --scheduler an address and Dask installed."""
    if resume and out is None:
        raise AdasimError(f"--resume needs --out (the folder of the interrupted {what})")
    if workers is not None:
        check_workers(workers)
    if scheduler is not None:
        check_scheduler_address(scheduler)
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise AdasimError("--scheduler needs Dask: pip install 'adasim[dask]' (dask and distributed)") from None


def max_workers() -> int:
    """The most local worker processes a sweep starts: four per core."""
    return 4 * (os.cpu_count() or 1)


def check_workers(workers: int) -> int:
    """A number of local worker processes in [1, max_workers()], or a one-line AdasimError."""
    return int(check_range("workers", workers, 1, max_workers(), integer=True))


def _dask_client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise AdasimError("--scheduler needs Dask: pip install 'adasim[dask]' (dask and distributed)") from None
    check_scheduler_address(address)
    _probe_scheduler(address)
    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise AdasimError(f"cannot reach the Dask scheduler at {address}: {err}") from None


def _probe_scheduler(address: str) -> None:
    """Ask the address who it is, within SCHEDULER_TIMEOUT in all: something that accepts the
    connection but is not a Dask scheduler (a web server, a silent port) is refused at once
    instead of leaving a Client waiting on it."""
    import asyncio

    from distributed.comm import connect

    async def identity() -> Any:
        comm = await connect(address, timeout=SCHEDULER_TIMEOUT)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), SCHEDULER_TIMEOUT))
    except (OSError, TimeoutError, ValueError) as err:
        why = " ".join(str(err).split()) or type(err).__name__
        raise AdasimError(f"no Dask scheduler answered at {address} within {SCHEDULER_TIMEOUT:g} s ({why})") from None
    except Exception as err:  # it answered, but not in Dask's protocol
        raise AdasimError(f"{address} answers but is not a Dask scheduler ({type(err).__name__})") from None
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        raise AdasimError(f"{address} answers but is not a Dask scheduler")


@dataclass(repr=False)
class SweepResult(Shown, Tabular):
    plan: SweepPlan
    table: dict[str, np.ndarray]  # one row per (optimizer, cell)
    reused: int = 0
    computed: int = 0
    rejected: int = 0  # chunk files found on --resume that were damaged or not this sweep's (recomputed)

    def columns(self) -> dict[str, np.ndarray]:
        """One row per optimizer and cell: the swept values, the metrics and the lane's status."""
        derived = [k for k in self.table if k not in self.plan.axes and k not in (*METRICS, "status", "optimizer")]
        names = ["optimizer", *self.plan.axes.keys(), *derived, *METRICS, "status"]
        return {k: self.table[k] for k in names}

    def _shown(self) -> tuple[str, dict[str, Any]]:
        counts = self.summary()["counts"]
        rows: dict[str, Any] = {"axes": ", ".join(f"{k} ({len(v)})" for k, v in self.plan.axes.items())}
        rows |= {name: f"{c['converged']:,} of {c['cells']:,} converged" for name, c in counts.items()}
        rows["chunks"] = f"{self.computed} computed, {self.reused} reused"
        return "SweepResult", rows

    def summary(self, files: dict[str, str] | None = None) -> dict[str, Any]:
        counts = {}
        for name in dict.fromkeys(self.table["optimizer"].tolist()):
            mine = self.table["optimizer"] == name
            conv = self.table["converged"][mine]
            counts[name] = {"cells": int(mine.sum()), "converged": int(conv.sum()), "diverged": int((~conv).sum())}
        return {
            "key": self.plan.key(),
            "problem": self.plan.spec.config(),
            "axes": {k: v.tolist() for k, v in self.plan.axes.items()},
            "rule": {"name": self.plan.rule, "text": RULES[self.plan.rule]},
            "optimizers": [o.config() | {"name": o.name} for o in self.plan.spec.optimizers],
            "counts": counts,
            "chunks": {"reused": self.reused, "computed": self.computed, "rejected": self.rejected},
            "files": files or {},
        }


def run_sweep(
    plan: SweepPlan,
    out_dir: Path | None = None,
    *,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Run every chunk — on a Dask cluster when `scheduler` is an address, else in a local
    process pool (inline when workers == 1) — write each one into out_dir/chunks as it finishes,
    and assemble the table. With `resume`, finished chunks whose fingerprint matches are read
    back instead of recomputed."""
    folder = None
    if out_dir is not None:
        folder = out_dir / "chunks"
        folder.mkdir(parents=True, exist_ok=True)
    check_axes(plan)
    done: dict[int, dict[str, np.ndarray]] = {}
    todo = []
    rejected = 0
    for index, name, start, end in plan.chunks():
        path = _chunk_path(folder, index) if folder is not None else None
        if resume and path is not None and path.exists():
            cached = _load_chunk(path, plan, index, name, start, end)
            if cached is not None:
                done[index] = cached
                if progress:
                    progress(end - start)
                continue
            rejected += 1
        todo.append((plan, name, start, end, index))
    reused = len(done)

    def arrived(args: tuple, result: dict[str, np.ndarray]) -> None:
        _, name, start, end, index = args
        _save_chunk(folder, plan, (index, name, start, end), result)
        done[index] = result
        if progress:
            progress(end - start)

    workers = workers if workers is not None else (os.cpu_count() or 1)
    check_workers(workers)
    if scheduler is not None and todo:
        from distributed import as_completed as dask_completed

        client = _dask_client(scheduler)
        try:
            with client.as_current():
                futures = {client.submit(_worker, args, pure=False): args for args in todo}
                for fut in dask_completed(list(futures)):
                    arrived(futures[fut], fut.result()[1])
        finally:
            client.close()
    elif workers <= 1 or len(todo) <= 1:
        for args in todo:
            arrived(args, _worker(args)[1])
    else:
        for name in dict.fromkeys(args[1] for args in todo):  # compile here once: the workers load it from the disk cache
            start = next(args[2] for args in todo if args[1] == name)
            run_chunk(plan, name, start, start + 1)
        in_pool(_worker, [(args, args) for args in todo], workers, lambda args, res: arrived(args, res[1]),
                "a sweep worker process died (killed, or out of memory?); the finished chunks are kept: rerun with --resume, "
                "with fewer --workers if memory is short")  # fmt: skip
    cols = plan.columns()
    parts = []
    for index, name, start, end in plan.chunks():
        res = done[index]
        part = {k: v[start:end] for k, v in cols.items()}
        part.update(derived_settings(plan, start, end))
        part["optimizer"] = np.full(end - start, name)
        part.update({m: res[m] for m in METRICS})
        part["status"] = res["status"]
        parts.append(part)
    table = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return SweepResult(plan, table, reused=reused, computed=len(todo), rejected=rejected)


def in_pool(
    fn: Callable[[Any], Any], items: list[tuple[Any, Any]], workers: int, arrived: Callable[[Any, Any], None], died: str
) -> None:
    """fn(item) for each (key, item) in a local process pool, `arrived(key, result)` as each finishes.
    Workers die with this process (even on SIGKILL); on Ctrl-C, SIGTERM or any error the pool is
    stopped at once, its workers terminated, and what arrived was already handed over. `died`: the
    one-line error when a worker process dies."""
    from concurrent.futures.process import BrokenProcessPool

    from adasim.signals import worker_init

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(), initializer=worker_init,
                               initargs=(os.getpid(),))  # fmt: skip
    finished = False
    try:
        futures = {pool.submit(fn, item): key for key, item in items}
        for fut in as_completed(futures):
            arrived(futures[fut], fut.result())
        finished = True
    except BrokenProcessPool:
        raise AdasimError(died) from None
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and terminate the workers (no waiting for running chunks). The
    workers are listed before the shutdown, which forgets them (ProcessPoolExecutor sets _processes
    to None): listed after it, none was terminated and the interpreter's exit waited for every
    running chunk."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
    # The call queue's feeder thread may be blocked writing a chunk into a full pipe that only the
    # terminated workers read; this process holds the pipe's read end too, so the write never fails
    # and the interpreter's exit joins the feeder for ever (CPython 3.11; 3.12's executor closes the
    # reader itself). Closing our read end makes the write fail and the feeder end.
    reader = getattr(getattr(pool, "_call_queue", None), "_reader", None)
    if reader is not None:
        with contextlib.suppress(Exception):
            reader.close()


def write_table(result: SweepResult, out_dir: Path) -> dict[str, str]:
    """sweep.npz and sweep.csv (one row per cell and optimizer; columns named like the options)."""
    columns = result.columns()
    write_npz(out_dir / "sweep.npz", columns | {"meta.json": np.array(dumps(result.summary()))})
    result.to_csv(out_dir / "sweep.csv")
    return {"npz": "sweep.npz", "csv": "sweep.csv"}


def make_plan(
    name: str,
    grid: Sequence[str],
    *,
    rule: str = "shi",
    limit: int = DEFAULT_LIMIT,
    force: bool = False,
    with_drift: bool = True,
    **spec_kwargs: Any,
) -> SweepPlan:
    """Resolve the fixed settings like `adasim run` and the grid; refuse grids over `limit` cells."""
    check_choice("convergence rule", rule, RULES)
    axes = parse_grid(grid)
    spec = build_spec(name, **spec_kwargs)
    if "seed" not in axes and spec.run_settings.lanes > 1:  # --seeds N becomes a seed axis
        axes["seed"] = spec.run_settings.seeds.copy()
    spacing = {item.partition("=")[0].strip().replace("-", "_"): axis_spacing(item.partition("=")[2]) for item in grid}
    spacing.setdefault("seed", "list")
    plan = SweepPlan(spec, axes, rule=rule, with_drift=with_drift, spacing=spacing)
    check_axes(plan)
    total = plan.cells * len(spec.optimizers)
    if total > limit and not force:
        raise AdasimError(f"the grid has {total:,} cells (limit {limit:,}): narrow it or pass --force")
    spec.problem.sweep_coordinate(np.zeros((1, spec.problem.dim)))  # the problem has one number to report
    return plan


__all__ = ["SweepPlan", "SweepResult", "make_plan", "parse_axis", "parse_grid", "run_sweep", "write_json", "write_table"]


def _pool_context() -> Any:
    """fork (fast) unless a multithreaded runtime that does not survive a fork is loaded in this
    process (jax, torch): then spawn."""
    import multiprocessing
    import sys

    risky = any(name in sys.modules for name in ("jax", "torch"))
    return multiprocessing.get_context("spawn" if risky else None)
