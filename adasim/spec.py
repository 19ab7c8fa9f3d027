"""A run specification: a problem (or preset) with overrides, the optimizers and run settings,
resolved once in one place for every front end (CLI commands, experiments, demos, sweeps).

Preset relations (β2 = 1/(1+C²) in Reddi's Theorem 1, d = C in Shi et al.'s problem) are kept
on the spec, so that a sweep can resolve them again for every cell."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.engine import ENGINES, simulate
from adasim.errors import AdasimError, check_choice, check_range, unknown_name
from adasim.optimizers import OPTIMIZERS, Optimizer, definition, make_optimizer
from adasim.problems import PRESETS, PROBLEMS, Domain, Problem, make_problem
from adasim.problems.presets import DEFAULT_OPTIMIZERS, derive
from adasim.run import Run
from adasim.schedules import Schedule

DEFAULT_PROBLEM = "reddi-thm1"
DEFAULT_RUN = {"steps": 100_000, "x0": 0.0, "warmup": 0}


@dataclass(frozen=True, eq=False)
class Spec:
    """Everything a run needs, fully resolved. `problem_relations` and `hyper_relations` are the
    preset's settings that follow others and were not overridden (field → function of the
    resolved problem parameters)."""

    name: str
    problem: Problem
    optimizers: tuple[Optimizer, ...]
    steps: int
    seeds: np.ndarray
    x0: float
    warmup: int
    source: str = ""
    choices: str = ""
    engine: str = "auto"
    problem_relations: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)
    hyper_relations: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)

    def run(self, progress: Callable[[int], None] | None = None, stride: int | None = None) -> list[Run]:
        """Simulate every optimizer over the seeds (one lane per seed)."""
        return [
            simulate(
                self.problem,
                opt,
                self.steps,
                self.seeds,
                self.x0,
                warmup=self.warmup,
                stride=stride,
                progress=progress,
                engine=self.engine,
            )
            for opt in self.optimizers
        ]

    @property
    def total_steps(self) -> int:
        """Steps across all optimizers, warm-up included (for progress bars)."""
        return (self.steps + self.warmup) * len(self.optimizers)

    def run_settings(self) -> dict[str, Any]:
        """steps, seeds, seed, x0, warmup: the run settings a command line states."""
        out: dict[str, Any] = {"steps": self.steps}
        if len(self.seeds) > 1:
            out["seeds"] = len(self.seeds)
        if int(self.seeds[0]) != 0:
            out["seed"] = int(self.seeds[0])
        if self.x0 != self.problem.default_x0:
            out["x0"] = self.x0
        if self.warmup:
            out["warmup"] = self.warmup
        return out

    def command(self, command: str = "run", extra: Sequence[str] = (), run: bool = True) -> str:
        """The `adasim run` (or `adasim COMMAND ... EXTRA`) command that reproduces this spec
        from the base problem's settings (without the run's steps and seeds unless `run`)."""
        from adasim.settings import run_command

        return run_command(self.problem, self.optimizers, self.run_settings() if run else None, command, extra)

    def config(self) -> dict[str, Any]:
        """The `problem` block of summary.json: every parameter, the optimum and the run settings."""
        out = self.problem.config()
        out.update(
            {
                "preset": self.name if self.name in PRESETS else None,
                "steps": self.steps,
                "warmup": self.warmup,
                "seeds": self.seeds.tolist(),
                "x0": self.x0,
            }
        )
        if self.source:
            out["source"] = self.source
        if self.choices:
            out["choices"] = self.choices
        return out


def names() -> list[str]:
    return sorted([*PROBLEMS, *PRESETS])


def _schedule(settings: dict[str, Any]) -> None:
    """Turn `schedule` (a name) and `schedule_c` into a Schedule, in place."""
    if isinstance(settings.get("schedule"), str):
        c = settings.pop("schedule_c", None)
        settings["schedule"] = Schedule(settings["schedule"], **({} if c is None else {"c": c}))
    elif "schedule_c" in settings:
        settings["schedule"] = Schedule("inv-sqrt-affine", c=settings.pop("schedule_c"))


def optimizer_settings(name: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that optimizer `name` takes (from those given for every optimizer of a run)."""
    d = definition(name)
    return {k: v for k, v in settings.items() if d.accepts(k) and v is not None}


def _derived(preset: str, relations: Mapping[str, Callable[[Mapping[str, Any]], Any]], make: Callable[[], Any]) -> Any:
    """make(), an error about a value the preset derived (β2 = 1/(1+C²)) saying so: the user never set it."""
    try:
        return make()
    except AdasimError as err:
        text = str(err)
        for key, relation in relations.items():
            if f" {key} must" in f" {text}" or f": {key} must" in text:
                rule = (relation.__doc__ or "").split(":", 1)[-1].split(" (")[0].strip().rstrip(".") or relation.__name__
                raise AdasimError(f"{text} — the preset {preset} derives {key} ({rule}); set --{key.replace('_', '-')} "
                                  "yourself or choose other settings") from None  # fmt: skip
        raise


def build_spec(
    name: str = DEFAULT_PROBLEM,
    *,
    problem: Mapping[str, Any] | None = None,
    optimizers: Sequence[str] | None = None,
    hyper: Mapping[str, Any] | None = None,
    steps: int | None = None,
    n_seeds: int | None = None,
    seed: int = 0,
    x0: float | None = None,
    warmup: int | None = None,
    domain: str | Domain | None = None,
    engine: str = "auto",
) -> Spec:
    """Resolve a problem or preset name with overrides (None = keep the preset's or default value).
    A setting that no chosen optimizer (or the problem) has is an error. `engine` is simulate's.
    `n_seeds` lanes get the seeds `seed`, `seed` + 1, … (Spec.seeds holds those values, the meaning
    `seeds` has everywhere in the library, as in `simulate(..., seeds=...)`)."""
    check_choice("engine", engine, ENGINES)
    problem = {k: v for k, v in (problem or {}).items() if v is not None}
    hyper = {k: v for k, v in (hyper or {}).items() if v is not None}
    if name in PRESETS:
        preset = PRESETS[name]
        base, params_src, hyper_src, run_src = preset.problem, preset.params, preset.hyper, preset.run
        domain_src: str | Domain = preset.domain
        default_optimizers: Sequence[str] = preset.optimizers
        source, choices = preset.source, preset.choices
    elif name in PROBLEMS:
        base, params_src, hyper_src, run_src, domain_src = name, {}, {}, {}, "-1,1"
        default_optimizers, source, choices = DEFAULT_OPTIMIZERS, PROBLEMS[name].source, ""
    else:
        raise unknown_name("problem", name, names())
    fields = set(PROBLEMS[base].settings())
    for key in problem:
        if key not in fields:
            raise unknown_name(f"{base} problem setting", key, sorted(fields))
    # p and delta are two ways to say the same thing: the user's choice replaces the preset's
    if "p" in problem or "delta" in problem:
        params_src = {k: v for k, v in params_src.items() if k not in ("p", "delta")}
    fixed = {k: v for k, v in params_src.items() if not callable(v)}
    context = {**fixed, **problem}
    params = {**derive(params_src, context, problem), **problem}
    problem_relations = {k: v for k, v in params_src.items() if callable(v) and k not in problem}
    if domain is None:
        domain = domain_src
    dom = domain if isinstance(domain, Domain) else Domain.parse(domain)
    prob = make_problem(base, domain=dom, **params)
    settings = {**derive(hyper_src, {**prob.params(), **params}, hyper), **hyper}
    hyper_relations = {k: v for k, v in hyper_src.items() if callable(v) and k not in hyper}
    _schedule(settings)
    chosen = tuple(optimizers) if optimizers else tuple(default_optimizers)
    defs = [definition(o) for o in dict.fromkeys(chosen)]
    for key in hyper:
        if key != "schedule_c" and not any(d.accepts(key) for d in defs):
            shown = ", ".join(d.name for d in defs)
            raise AdasimError(f"no chosen optimizer ({shown}) has the setting '{key}'")
    blocks = prob.block_sizes()
    opts = tuple(_derived(name, hyper_relations, lambda o=o: make_optimizer(o, **optimizer_settings(o, settings)))
                 for o in dict.fromkeys(chosen))  # fmt: skip
    if blocks is not None:
        opts = tuple(o if o.blocks is not None else o.replace(blocks=blocks) for o in opts)
    run = {**DEFAULT_RUN, **run_src}
    steps_v = int(check_range("steps", run["steps"] if steps is None else steps, 1, integer=True))
    warm = int(check_range("warmup", run["warmup"] if warmup is None else warmup, 0, integer=True))
    n_seeds = int(check_range("seeds", 1 if n_seeds is None else n_seeds, 1, integer=True))
    first = int(check_range("seed", seed, 0, 2**63 - n_seeds, integer=True))  # seeds first … first + n − 1 are int64
    start = float((run["x0"] if "x0" in run_src else prob.default_x0) if x0 is None else x0)
    if not np.isfinite(start):
        raise AdasimError(f"x0 must be a finite number, got {start}")
    if not np.all(dom.contains(np.asarray(start))):
        raise AdasimError(f"x0 = {start:g} lies outside the domain {dom.describe()}")
    return Spec(
        name=name,
        problem=prob,
        optimizers=opts,
        steps=steps_v,
        seeds=np.arange(first, first + n_seeds, dtype=np.int64),
        x0=start,
        warmup=warm,
        source=source,
        choices=choices,
        engine=engine,
        problem_relations=problem_relations,
        hyper_relations=hyper_relations,
    )


__all__ = ["DEFAULT_PROBLEM", "OPTIMIZERS", "Spec", "build_spec", "names"]
