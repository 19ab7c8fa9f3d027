"""A run specification: a problem (or preset) with overrides, the optimizers and run settings,
resolved once in one place for every front end (CLI commands, experiments, demos, sweeps).

Preset relations (β2 = 1/(1+C²) in Reddi's Theorem 1, d = C in Shi et al.'s problem) are kept
on the spec, so that a sweep can resolve them again for every cell."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adasim.engine import simulate
from adasim.engine.layout import start_point
from adasim.errors import AdasimError, unknown_name
from adasim.optimizers import OPTIMIZERS, Optimizer, definition, make_optimizer
from adasim.problems import PRESETS, PROBLEMS, Domain, Problem, make_problem
from adasim.problems.presets import DEFAULT_OPTIMIZERS, derive
from adasim.run import Run
from adasim.schedules import Schedule
from adasim.settings import RunSettings

DEFAULT_PROBLEM = "reddi-thm1"


@dataclass(frozen=True, eq=False)
class Spec:
    """Everything a run needs, fully resolved. `problem_relations` and `hyper_relations` are the
    preset's settings that follow others and were not overridden (field → function of the
    resolved problem parameters)."""

    name: str
    problem: Problem
    optimizers: tuple[Optimizer, ...]
    run_settings: RunSettings  # every field set (x0 the start the runs use)
    source: str = ""
    choices: str = ""
    problem_relations: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)
    hyper_relations: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)

    def run(self, progress: Callable[[int], None] | None = None, stride: int | None = None) -> list[Run]:
        """Simulate every optimizer with the run settings (one lane per seed)."""
        return [simulate(self.problem, opt, run=self.run_settings, stride=stride, progress=progress) for opt in self.optimizers]

    @property
    def total_steps(self) -> int:
        """Steps across all optimizers, warm-up included (for progress bars)."""
        return (int(self.run_settings.steps or 0) + int(self.run_settings.warmup or 0)) * len(self.optimizers)

    def run_options(self) -> dict[str, Any]:
        """steps, seeds, seed, x0, warmup: the run options a command line states."""
        return self.run_settings.options(default_x0=self.problem.default_x0)

    def command(self, command: str = "run", extra: Sequence[str] = (), run: bool = True) -> str:
        """The `adasim run` (or `adasim COMMAND ... EXTRA`) command that reproduces this spec
        from the base problem's settings (without the run's steps and seeds unless `run`)."""
        from adasim.settings import run_command

        return run_command(self.problem, self.optimizers, self.run_options() if run else None, command, extra)

    def config(self) -> dict[str, Any]:
        """The `problem` block of summary.json: every parameter, the optimum and the run settings."""
        out = self.problem.config()
        out.update(
            {
                "preset": self.name if self.name in PRESETS else None,
                "steps": self.run_settings.steps,
                "warmup": self.run_settings.warmup,
                "seeds": self.run_settings.seeds.tolist(),
                "x0": self.run_settings.x0,
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
    run: RunSettings | None = None,
    domain: str | Domain | None = None,
) -> Spec:
    """Resolve a problem or preset name with overrides (None = keep the preset's or default value).
    A setting that no chosen optimizer (or the problem) has is an error. `run`: the run settings
    (its fields left None take the preset's value, else the default), e.g.
    `RunSettings(steps=1000, seeds=range(3))`.

    Examples
    --------
    The `reddi-thm1` preset with C = 3: its optimizers get β2 = 1/(1 + C²) = 0.1, as in the theorem.

    >>> from adasim import RunSettings, build_spec
    >>> spec = build_spec("reddi-thm1", problem={"C": 3}, run=RunSettings(steps=1000))
    >>> [o.name for o in spec.optimizers], spec.optimizers[0].beta2, spec.run_settings.steps
    (['adam', 'amsgrad', 'adashift', 'adopt'], 0.1, 1000)
    """
    if run is None:
        run = RunSettings()
    elif not isinstance(run, RunSettings):
        raise AdasimError(f"run must be a RunSettings, got {type(run).__name__}")
    problem = {k: v for k, v in (problem or {}).items() if v is not None}
    hyper = {k: v for k, v in (hyper or {}).items() if v is not None}
    if name in PRESETS:
        preset = PRESETS[name]
        base, params_src, hyper_src, run_src = preset.problem, preset.params, preset.hyper, preset.run
        domain_src: str | Domain | None = preset.domain
        default_optimizers: Sequence[str] = preset.optimizers
        source, choices = preset.source, preset.choices
    elif name in PROBLEMS:
        base, params_src, hyper_src, run_src = name, {}, {}, RunSettings()
        domain_src = None  # the problem's own default (a box [−1, 1], unconstrained for rotated ones)
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
    dom = None if domain is None else domain if isinstance(domain, Domain) else Domain.parse(domain)
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
    resolved = run.resolve(run_src.resolve({"x0": prob.default_x0}))
    start_point(prob, resolved.x0, 1)  # a start outside the domain is an error here, before any run
    return Spec(
        name=name,
        problem=prob,
        optimizers=opts,
        run_settings=resolved,
        source=source,
        choices=choices,
        problem_relations=problem_relations,
        hyper_relations=hyper_relations,
    )


__all__ = ["DEFAULT_PROBLEM", "OPTIMIZERS", "RunSettings", "Spec", "build_spec", "names"]
