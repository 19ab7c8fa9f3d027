"""The one table of settings: every problem, optimizer and run setting, declared once — its
name (the option `--name` and the sweep axis `name`), the record field it sets, its type, help,
whether it can be swept and whether the console shows it. The CLI's options, the sweep axes, the
printed `adasim run ...` reproduce commands and the console's settings column are made from it.

>>> from adasim import Online, Adam
>>> run_command(Online(C=20.0), [Adam(beta2=0.5)], {"steps": 1000})
'adasim run online --C 20 --small 1 --period 3 --spikes 1 -o adam --beta2 0.5 --lr 0.001 --schedule constant --steps 1000'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PROBLEM, OPTIMIZER, RUN = "problem", "optimizer", "run"


@dataclass(frozen=True)
class Setting:
    """One setting: `name` is its option (`--name`, dashes for underscores) and sweep axis,
    `field` the record field it sets (problem, optimizer or run), `short` a one-letter alias."""

    name: str
    field: str
    group: str
    type: type
    help: str
    short: str | None = None
    sweep: bool = False
    shown: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def flags(self) -> tuple[str, ...]:
        return (self.flag,) if self.short is None else (self.flag, self.short)


SETTINGS: tuple[Setting, ...] = (
    # problems
    Setting("C", "C", PROBLEM, float, "Spike gradient C.", sweep=True),
    Setting("small", "s", PROBLEM, float, "Magnitude s of the small gradient −s.", sweep=True),
    Setting("period", "d", PROBLEM, int, "Period d of the online problem.", short="-d", sweep=True),
    Setting("spikes", "k", PROBLEM, int, "Spikes k per period (k < d).", short="-k", sweep=True),
    Setting("p", "p", PROBLEM, float, "Probability p of the spike (stochastic).", sweep=True),
    Setting("delta", "delta", PROBLEM, float, "p = (1+δ)/(C+1) (stochastic).", sweep=True),
    Setting("batch", "b", PROBLEM, int, "Mini-batch b: the gradient is the mean of b draws (stochastic).", sweep=True),
    Setting("n_functions", "n", PROBLEM, int, "Number n of functions (finite-sum).", sweep=True),
    Setting("sampling", "sampling", PROBLEM, str, "Finite-sum sampling: cyclic | shuffle | iid."),
    Setting("blocks", "blocks", PROBLEM, str, "Layered: block sizes and gradient scales, '4:1,4:1e-3'."),
    Setting("base", "base", PROBLEM, str, "Layered and rotated: stochastic | online copies."),
    Setting(
        "theta",
        "theta",
        PROBLEM,
        float,
        "Rotated: the angle θ (radians) of the 2-D embedding; rank-two: (u₂, v₂)'s angle from (u₁, v₁).",
        sweep=True,
    ),
    Setting("dim", "size", PROBLEM, int, "Quadratic: number of coordinates; matrix: m (W is m × m)."),
    Setting("mu", "mu", PROBLEM, float, "Symmetry: the mean μ of X (the minimiser)."),
    Setting("sigma", "sigma", PROBLEM, float, "Symmetry: the standard deviation σ of X.", sweep=True),
    Setting("q", "q", PROBLEM, float, "Symmetry: the probability of X's rare value (skewed unless 0.5).", sweep=True),
    Setting("rotate", "rotate", PROBLEM, bool, "Matrix: W behind fixed orthogonal U, V (unconstrained)."),
    Setting("rotation_seed", "rotation_seed", PROBLEM, int, "Matrix: the seed that draws U and V."),
    Setting("condition", "condition", PROBLEM, float, "Quadratic: condition number."),
    Setting("noise", "noise", PROBLEM, float, "Quadratic: gradient noise σ."),
    Setting("cols", "cols", PROBLEM, int, "Rank-one, rank-two, matrix-quadratic: n, W's columns (default m)."),
    Setting("left", "u", PROBLEM, str, "Rank-one: the left vector u, 'a,b,…' (normalised; default drawn)."),
    Setting("right", "v", PROBLEM, str, "Rank-one: the right vector v, 'a,b,…' (normalised; default drawn)."),
    Setting("target", "target", PROBLEM, str, "Matrix-quadratic: W* row by row, 'a,b,…' (default drawn)."),
    Setting("vector_seed", "vector_seed", PROBLEM, int, "Rank-one, rank-two, matrix-quadratic: the seed that draws u, v or W*."),
    Setting("ball", "ball", PROBLEM, str, "Matrix problems: none | frobenius | spectral, a ball ‖W‖ ≤ radius to project on."),
    Setting("radius", "radius", PROBLEM, float, "Matrix problems: the ball's radius r > 0 (default 1).", sweep=True),
    Setting("slope", "slope", PROBLEM, float, "Sign-stall: δ in (0, 1), the weight of δ|tr W − 2|.", sweep=True),
    # optimizers (fields of the definitions' hyper-parameter records, plus lr and the schedule)
    Setting("beta1", "beta1", OPTIMIZER, float, "β1 in [0, 1).", sweep=True, shown=True),
    Setting("beta2", "beta2", OPTIMIZER, float, "β2 in [0, 1).", sweep=True, shown=True),
    Setting("lr", "lr", OPTIMIZER, float, "Step size α > 0.", sweep=True, shown=True),
    Setting("schedule", "schedule", OPTIMIZER, str, "constant | inv-sqrt (α/√t) | inv (α/t) | inv-sqrt-affine (α/√(1+c·t))."),
    Setting("schedule_c", "schedule_c", OPTIMIZER, float, "c of inv-sqrt-affine (default 0.01)."),
    Setting("eps", "eps", OPTIMIZER, float, "ε ≥ 0.", sweep=True, shown=True),
    Setting("eps_mode", "eps_mode", OPTIMIZER, str, "outside | inside (the root) | hat (ε-hat)."),
    Setting("bias_correction", "bias_correction", OPTIMIZER, bool, "Adam's bias correction (default on)."),
    Setting("amsgrad_convention", "convention", OPTIMIZER, str, "AMSGrad's maximum: paper | pytorch | optax.", shown=True),
    Setting("shift", "n", OPTIMIZER, int, "AdaShift's shift n ≥ 0.", short="-n", sweep=True, shown=True),
    Setting("window", "window", OPTIMIZER, int, "AdaShift's window w ≤ n for m (default n)."),
    Setting("phi", "phi", OPTIMIZER, str, "Spatial reduction over a block: identity | max | mean | norm."),
    Setting("v_rule", "v_rule", OPTIMIZER, str, "AdaShift's v: ema (the paper) | max (max(β2 v, φ(g²_{t−n})))."),
    Setting("clip", "clip", OPTIMIZER, bool, "ADOPT's and Adafactor's clipping (default on)."),
    Setting("clip_base", "clip_base", OPTIMIZER, str, "ADOPT's clip step base: official | port."),
    Setting("lam", "lam", OPTIMIZER, float, "AdamNC's λ in β1t = β1 λ^(t−1).", shown=True),
    Setting("beta3", "beta3", OPTIMIZER, float, "AdEMAMix's slow EMA β3 in [0, 1).", sweep=True, shown=True),
    Setting("mix", "mix", OPTIMIZER, float, "AdEMAMix's weight a of the slow EMA (the paper's α).", sweep=True, shown=True),
    Setting(
        "weight_decay",
        "weight_decay",
        OPTIMIZER,
        float,
        "Decoupled weight decay λ ≥ 0 (AdamW, Lion, sf-adamw).",
        sweep=True,
        shown=True,
    ),
    Setting("form", "form", OPTIMIZER, str, "Whose arithmetic: pytorch | optax (NAdam, RAdam, Adafactor, Muon).", shown=True),
    Setting("momentum_decay", "momentum_decay", OPTIMIZER, float, "NAdam's ψ in μ_t = β1(1 − ½·0.96^(tψ))."),
    Setting("eps_root", "eps_root", OPTIMIZER, float, "AdaBelief's ε added to s every step."),
    Setting("v0", "v0", OPTIMIZER, float, "Yogi's initial m and v."),
    Setting("decay", "decay", OPTIMIZER, float, "Adafactor's c in β̂2_t = 1 − t^(−c).", sweep=True),
    Setting("eps2", "eps2", OPTIMIZER, float, "Adafactor's lower bound ε2 on RMS(x); NorMuon's ε of the row normalisation."),
    Setting("clip_threshold", "clip_threshold", OPTIMIZER, float, "Adafactor's update clipping threshold d > 0.", shown=True),
    Setting("param_scale", "param_scale", OPTIMIZER, bool, "Adafactor: scale the step by max(ε2, RMS(x))."),
    Setting("relative_step", "relative_step", OPTIMIZER, bool, "Adafactor: step min(α, 1/√t) (α = 1e-2: Shazeer & Stern's)."),
    Setting("factored", "factored", OPTIMIZER, bool, "Adafactor: factored v over the blocks as the rows of a matrix."),
    Setting("mask_scale", "mask_scale", OPTIMIZER, str, "Cautious Adam's rescaling of the mask: count | mean."),
    Setting("nesterov", "nesterov", OPTIMIZER, bool, "Muon: Nesterov momentum (default on)."),
    Setting("polar", "polar", OPTIMIZER, str, "Muon's orthogonalisation: newton-schulz | exact.", shown=True),
    Setting("ns_steps", "ns_steps", OPTIMIZER, int, "Muon: Newton–Schulz steps (default 5)."),
    Setting("lr_scale", "lr_scale", OPTIMIZER, str, "Muon's shape scaling: original | match-rms-adamw | none."),
    Setting("refresh", "refresh", OPTIMIZER, int, "Shampoo, SOAP: refresh the preconditioners every k steps.", sweep=True),
    Setting("shampoo_beta", "shampoo_beta", OPTIMIZER, float, "SOAP's decay β_s of the statistics L, R (default: β2)."),
    Setting("feedback", "feedback", OPTIMIZER, bool, "Muon with error feedback (ef-muon's default)."),
    Setting("update_scale", "update_scale", OPTIMIZER, str, "NorMuon's rescaling: preserve-norm | match-rms."),
    Setting("scale_by", "scale_by", OPTIMIZER, str, "Muon's update times: none | nuclear (‖Ũ‖_*, PolarGrad)."),
    Setting("r", "r", OPTIMIZER, float, "Schedule-free's power r of t in the averaging weight."),
    Setting("weight_lr_power", "weight_lr_power", OPTIMIZER, float, "Schedule-free's power of max α in the averaging weight."),
    # runs
    # runs (the fields of RunSettings: --seeds N and --seed S both set its seeds, S … S + N − 1)
    Setting("steps", "steps", RUN, int, "Steps T (default: the preset's, else 100000)."),
    Setting("seeds", "seeds", RUN, int, "Number of seeds (one lane each)."),
    Setting("seed", "seeds", RUN, int, "First seed.", sweep=True),
    Setting("x0", "x0", RUN, float, "Starting point x_1."),
    Setting("warmup", "warmup", RUN, int, "Steps that update the moments but not x."),
    Setting("engine", "engine", RUN, str, "auto | compiled | numpy | python: the same numbers on each (default auto)."),
)

BY_NAME = {s.name: s for s in SETTINGS}


ENGINES = {
    "auto": "compiled (numba) when it can run the problem, NumPy otherwise",
    "compiled": "numba: one machine-code loop per block, lanes inside (an error if it cannot run this)",
    "numpy": "NumPy: the step once per step on arrays of lanes",
    "python": "plain Python: the step once per step and lane (slow; for debugging)",
}
DEFAULT_RUN: dict[str, Any] = {"steps": 100_000, "seeds": (0,), "x0": None, "warmup": 0, "engine": "auto"}
MAX_SEED = 2**63 - 1  # seeds are int64


@dataclass(frozen=True, eq=False)
class RunSettings:
    """How a problem is run: `steps` T that move x, the lanes' `seeds` (values, one lane each),
    the starting point `x0` (x_1; a number or per-lane array; None: the problem's default), the
    `warmup` steps that update the state but not x, and the `engine` (auto | compiled | numpy |
    python, the same floats on each). Its fields are the targets of the table's run settings
    (`--steps`, `--seeds N --seed S`, `--x0`, `--warmup`, `--engine`), and one record goes whole
    from the command line through `build_spec` and `simulate` to the executor.

    A field left None is "the preset's or the default" until `resolve` fills it.

    Examples
    --------
    >>> from adasim import RunSettings
    >>> RunSettings.from_options({"steps": 500, "seeds": 3, "seed": 7}).resolve()
    RunSettings(steps=500, seeds=[7, 8, 9], x0=None, warmup=0, engine='auto')
    """

    steps: int | None = None
    seeds: Any = None  # a read-only int64 array once set (any sequence of whole numbers ≥ 0 is taken)
    x0: Any = None
    warmup: int | None = None
    engine: str = "auto"

    def __post_init__(self) -> None:
        from adasim.errors import check_choice, check_range

        if self.steps is not None:
            object.__setattr__(self, "steps", int(check_range("steps", self.steps, 1, integer=True)))
        if self.warmup is not None:
            object.__setattr__(self, "warmup", int(check_range("warmup", self.warmup, 0, integer=True)))
        if self.seeds is not None:
            from adasim.engine.layout import as_seeds  # the one check of seeds (simulate's and the layout's)

            if not (isinstance(self.seeds, np.ndarray) and self.seeds.dtype == np.int64 and not self.seeds.flags.writeable):
                seeds = as_seeds(self.seeds).astype(np.int64)
                seeds.setflags(write=False)
                object.__setattr__(self, "seeds", seeds)
        if self.x0 is not None and not np.isscalar(self.x0):  # a per-lane or per-coordinate start: kept read-only
            try:
                x0 = np.array(self.x0, dtype=float)
            except (TypeError, ValueError):
                from adasim.errors import AdasimError

                raise AdasimError("x0 must be a number, a point or one per lane") from None
            x0.setflags(write=False)
            object.__setattr__(self, "x0", x0)
        check_choice("engine", self.engine, ENGINES)

    def __repr__(self) -> str:
        x0 = self.x0 if not isinstance(self.x0, np.ndarray) else f"array{self.x0.shape}"
        seeds = (
            None
            if self.seeds is None
            else self.seeds.tolist()
            if len(self.seeds) <= 6
            else (f"[{self.seeds[0]} … {self.seeds[-1]}] ({len(self.seeds)})")
        )
        return (f"RunSettings(steps={self.steps}, seeds={seeds}, x0={x0}, warmup={self.warmup}, "
                f"engine={self.engine!r})")  # fmt: skip

    @classmethod
    def from_options(cls, values: Mapping[str, Any]) -> RunSettings:
        """The record the run options give, by the table's names: `steps`, `seeds` (a count),
        `seed` (the first; default 0), `x0`, `warmup`, `engine`; None means not given."""
        from adasim.errors import check_range, unknown_name

        names = [s.name for s in group(RUN)]
        for key in values:
            if key not in names:
                raise unknown_name("run setting", key, names)
        count, first = values.get("seeds"), values.get("seed")
        seeds = None
        if count is not None or first:
            n = int(check_range("seeds", 1 if count is None else count, 1, integer=True))
            start = int(check_range("seed", first or 0, 0, MAX_SEED + 1 - n, integer=True))
            seeds = np.arange(start, start + n, dtype=np.int64)
        engine = values.get("engine")
        return cls(values.get("steps"), seeds, values.get("x0"), values.get("warmup"), "auto" if engine is None else engine)

    def given(self) -> dict[str, Any]:
        """The fields that are set (not None)."""
        return {k: getattr(self, k) for k in DEFAULT_RUN if getattr(self, k) is not None}

    def resolve(self, defaults: RunSettings | Mapping[str, Any] | None = None) -> RunSettings:
        """Every field set: this record's value, else `defaults`' (a preset's run), else DEFAULT_RUN's."""
        below = defaults.given() if isinstance(defaults, RunSettings) else dict(defaults or {})
        return RunSettings(**{**DEFAULT_RUN, **below, **self.given()})

    def replace(self, **changes: Any) -> RunSettings:
        from dataclasses import replace

        return replace(self, **changes)

    @property
    def lanes(self) -> int:
        return 1 if self.seeds is None else len(self.seeds)

    def options(self, default_x0: Any = None) -> dict[str, Any]:
        """The run options a command line states for this record (`steps`, and `seeds`, `seed`,
        `x0`, `warmup` where they differ from the defaults) — the inverse of `from_options`."""
        out: dict[str, Any] = {} if self.steps is None else {"steps": self.steps}
        seeds = np.zeros(1, dtype=np.int64) if self.seeds is None else self.seeds
        if np.any(np.diff(seeds) != 1):
            raise ValueError(f"seeds {seeds.tolist()} are not consecutive: no --seeds/--seed states them")
        if len(seeds) > 1:
            out["seeds"] = len(seeds)
        if seeds[0] != 0:
            out["seed"] = int(seeds[0])
        if self.x0 is not None and np.ndim(self.x0) == 0 and (default_x0 is None or self.x0 != default_x0):
            out["x0"] = self.x0
        if self.warmup:
            out["warmup"] = self.warmup
        return out


def run_settings(run: RunSettings | None, **given: Any) -> RunSettings:
    """`run`, or the record the separate arguments give (steps, seeds, x0, warmup, engine; None
    or absent: not given) — never both: the one rule of every function that takes either."""
    from adasim.errors import AdasimError

    given = {k: v for k, v in given.items() if v is not None}
    if run is None:
        if "seeds" in given and np.ndim(given["seeds"]) == 0:
            given["seeds"] = (given["seeds"],)
        return RunSettings(**given)
    if not isinstance(run, RunSettings):
        raise AdasimError(f"run must be a RunSettings, got {type(run).__name__}")
    if given:
        raise AdasimError(f"give the run settings either as run= or as {', '.join(given)}, not both")
    return run


def group(name: str) -> tuple[Setting, ...]:
    return tuple(s for s in SETTINGS if s.group == name)


def sweep_axes() -> dict[str, Setting]:
    """The settings a sweep can take as an axis, by axis name."""
    return {s.name: s for s in SETTINGS if s.sweep}


def by_field(group_name: str) -> dict[str, Setting]:
    """A group's settings by the record field they set."""
    return {s.field: s for s in group(group_name)}


# -- printing settings ------------------------------------------------------------------------


def number_text(value: Any) -> str:
    """A setting's value as the command line spells it: ints as ints, floats as the shortest text
    that reads back as the same float (0.5, 1e-08, 10 for 10.0)."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):  # the shortest text that reads back as the same float
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _flag(setting: Setting, value: Any) -> str:
    if setting.type is bool:
        return setting.flag if value else "--no-" + setting.flag[2:]
    if setting.name == "blocks" and not isinstance(value, str):
        value = ",".join(f"{int(size)}:{float(scale):g}" for size, scale in value)
    return f"{setting.flag} {number_text(value)}"


def _domain_flag(problem: Any) -> list[str]:
    lo, hi = problem.domain.config()
    if (lo, hi) == (-1.0, 1.0):
        return []
    show = ",".join("-inf" if b is None and i == 0 else "inf" if b is None else f"{b:g}" for i, b in enumerate((lo, hi)))
    return ["--domain none" if (lo, hi) == (None, None) else f"--domain {show}"]


def problem_flags(problem: Any) -> list[str]:
    """`--name value` for every parameter of the problem that a setting can give."""
    fields = by_field(PROBLEM)
    params = problem.params()
    out = []
    for name, value in params.items():
        if name not in fields or value is None:
            continue
        if name == "delta" and params.get("p") is not None:
            continue  # p (resolved from δ) is given instead
        out.append(_flag(fields[name], value))
    return out + _domain_flag(problem)


def optimizer_groups(optimizers: Sequence[Any]) -> list[tuple[list[Any], list[str]]]:
    """Optimizers that one command can run together, with the flags that set them: a setting is
    given when some optimizer's value differs from its definition's default, and then every
    optimizer with that field must have that value (else they go to separate commands)."""
    fields = by_field(OPTIMIZER)
    groups: list[tuple[list[Any], dict[str, Any]]] = []
    for opt in optimizers:
        config = opt.config()
        defaults = opt.definition.options()
        fixed = opt.definition.fixed  # what the definition does not let be set (RMSProp's β1 = 0)
        wanted = {k: v for k, v in config.items() if k in fields and k not in ("lr", "schedule") and k not in fixed}
        placed = False
        for members, values in groups:
            if all(_compatible(k, v, defaults, values, members) for k, v in wanted.items()):
                for k, v in wanted.items():
                    if v != defaults.get(k) or k in values:
                        values[k] = v
                members.append(opt)
                placed = True
                break
        if not placed:
            groups.append(([opt], {k: v for k, v in wanted.items() if v != defaults.get(k)}))
    out = []
    for members, values in groups:
        flags = [f"-o {o.origin or o.name}" for o in members]
        flags += [_flag(fields[k], v) for k, v in values.items()]
        first = members[0]
        flags.append(f"--lr {number_text(np.asarray(first.lr).item() if np.ndim(first.lr) == 0 else first.lr)}")
        flags.append(f"--schedule {first.schedule.kind}")
        if first.schedule.kind == "inv-sqrt-affine":
            flags.append(f"--schedule-c {number_text(first.schedule.c)}")
        out.append((members, flags))
    return out


def _compatible(key: str, value: Any, defaults: Mapping[str, Any], values: Mapping[str, Any], members: Iterable[Any]) -> bool:
    """Whether an optimizer's `key` = `value` can share a command with `members` (whose given flags are `values`)."""
    if key in values:
        return values[key] == value
    others = [m.config()[key] for m in members if key in m.config() and key not in m.definition.fixed]
    if value != defaults.get(key):  # it needs the flag: every member with the field must agree
        return all(o == value for o in others)
    return True


def run_command(
    problem: Any, optimizers: Sequence[Any], run: Mapping[str, Any] | None = None, command: str = "run",
    extra: Sequence[str] = (),
) -> str:  # fmt: skip
    """The `adasim run` (or `adasim COMMAND`) command line(s) that reproduce `problem` with
    `optimizers` (joined by '; ' when their settings cannot share one command), the run settings
    given and the command's own `extra` arguments."""
    run = dict(run or {})
    run_flags = [_flag(BY_NAME[k], v) for k, v in run.items() if k in BY_NAME and v is not None]
    commands = []
    for _, flags in optimizer_groups(optimizers):
        commands.append(" ".join([f"adasim {command}", problem.name, *problem_flags(problem), *flags, *run_flags, *extra]))
    return "; ".join(commands)


def describe(config: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """The settings the console shows for an optimizer's config: the `shown` ones it has, and any
    other where it differs from its definition's `defaults`."""
    fields = by_field(OPTIMIZER)
    parts = []
    for key, value in config.items():
        setting = fields.get(key)
        if setting is None or key == "schedule" or value is None or (key in defaults and defaults[key] is None):
            continue  # (a None default follows another setting, as AdaShift's window follows n)
        if setting.shown or value != defaults.get(key, value):
            if isinstance(value, list):
                parts.append(f"{key}=per lane")
            else:
                parts.append(f"{key}={number_text(float(f'{value:.4g}') if isinstance(value, float) else value)}")
    kind = (config.get("schedule") or {}).get("kind")
    if kind and kind != "constant":
        parts.append(kind)
    return " ".join(parts)


def settings_text(optimizer: Any) -> str:
    """`describe` for an optimizer."""
    return describe(optimizer.config(), optimizer.definition.options())
