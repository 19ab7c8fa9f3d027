"""The problem, optimizer and run options shared by every command that simulates
(`run`, and later `nuf`, `correlate`, `sweep`): declared once, added to a command by a decorator."""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Annotated, Any

import typer

from adasim.spec import DEFAULT_PROBLEM, Spec, build_spec, names

PROBLEM_PANEL = "Problem"
OPTIMIZER_PANEL = "Optimizers"
RUN_PANEL = "Run"


def _opt(*decls: str, help: str, panel: str, **kw: Any) -> Any:
    return typer.Option(*decls, help=help, rich_help_panel=panel, show_default=False, **kw)


@dataclass
class SpecOptions:
    """The values of the shared options; None means "the preset's or the default value"."""

    problem: Annotated[
        str,
        typer.Argument(help=f"A problem or preset: {', '.join(names())}.", show_default=True),
    ] = DEFAULT_PROBLEM
    C: Annotated[float | None, _opt("--C", help="Spike gradient C.", panel=PROBLEM_PANEL)] = None
    small: Annotated[float | None, _opt("--small", help="Magnitude s of the small gradient −s.", panel=PROBLEM_PANEL)] = None
    period: Annotated[int | None, _opt("--period", "-d", help="Period d of the online problem.", panel=PROBLEM_PANEL)] = None
    spikes: Annotated[int | None, _opt("--spikes", "-k", help="Spikes k per period (k < d).", panel=PROBLEM_PANEL)] = None
    p: Annotated[float | None, _opt("--p", help="Probability p of the spike (stochastic).", panel=PROBLEM_PANEL)] = None
    delta: Annotated[float | None, _opt("--delta", help="p = (1+δ)/(C+1) (stochastic).", panel=PROBLEM_PANEL)] = None
    n_functions: Annotated[int | None, _opt("--n-functions", help="Number n of functions (finite-sum).", panel=PROBLEM_PANEL)] = (
        None
    )
    sampling: Annotated[
        str | None, _opt("--sampling", help="Finite-sum sampling: cyclic | shuffle | iid.", panel=PROBLEM_PANEL)
    ] = None
    blocks: Annotated[
        str | None, _opt("--blocks", help="Layered: block sizes and gradient scales, '4:1,4:1e-3'.", panel=PROBLEM_PANEL)
    ] = None
    base: Annotated[str | None, _opt("--base", help="Layered: stochastic | online coordinates.", panel=PROBLEM_PANEL)] = None
    dim: Annotated[int | None, _opt("--dim", help="Quadratic: number of coordinates.", panel=PROBLEM_PANEL)] = None
    condition: Annotated[float | None, _opt("--condition", help="Quadratic: condition number.", panel=PROBLEM_PANEL)] = None
    noise: Annotated[float | None, _opt("--noise", help="Quadratic: gradient noise σ.", panel=PROBLEM_PANEL)] = None
    domain: Annotated[str | None, _opt("--domain", help="Domain 'lo,hi' or 'none' (unconstrained).", panel=PROBLEM_PANEL)] = None
    optimizer: Annotated[
        list[str] | None,
        _opt("--optimizer", "-o", help="Optimizer (repeatable; default adam, amsgrad, adashift, adopt).", panel=OPTIMIZER_PANEL),
    ] = None
    beta1: Annotated[float | None, _opt("--beta1", help="β1 in [0, 1).", panel=OPTIMIZER_PANEL)] = None
    beta2: Annotated[float | None, _opt("--beta2", help="β2 in [0, 1).", panel=OPTIMIZER_PANEL)] = None
    lr: Annotated[float | None, _opt("--lr", help="Step size α > 0.", panel=OPTIMIZER_PANEL)] = None
    schedule: Annotated[
        str | None, _opt("--schedule", help="constant | inv-sqrt (α/√t) | inv-sqrt-affine (α/√(1+c·t)).", panel=OPTIMIZER_PANEL)
    ] = None
    schedule_c: Annotated[
        float | None, _opt("--schedule-c", help="c of inv-sqrt-affine (default 0.01).", panel=OPTIMIZER_PANEL)
    ] = None
    eps: Annotated[float | None, _opt("--eps", help="ε ≥ 0.", panel=OPTIMIZER_PANEL)] = None
    eps_mode: Annotated[
        str | None, _opt("--eps-mode", help="outside | inside (the root) | hat (ε-hat).", panel=OPTIMIZER_PANEL)
    ] = None
    bias_correction: Annotated[
        bool | None,
        _opt("--bias-correction/--no-bias-correction", help="Adam's bias correction (default on).", panel=OPTIMIZER_PANEL),
    ] = None
    amsgrad_convention: Annotated[
        str | None, _opt("--amsgrad-convention", help="paper | pytorch | optax.", panel=OPTIMIZER_PANEL)
    ] = None
    shift: Annotated[int | None, _opt("--shift", "-n", help="AdaShift's shift n ≥ 0.", panel=OPTIMIZER_PANEL)] = None
    window: Annotated[int | None, _opt("--window", help="AdaShift's window w ≤ n for m (default n).", panel=OPTIMIZER_PANEL)] = (
        None
    )
    phi: Annotated[
        str | None, _opt("--phi", help="AdaShift's spatial reduction: identity | max | mean.", panel=OPTIMIZER_PANEL)
    ] = None
    v_rule: Annotated[
        str | None, _opt("--v-rule", help="AdaShift's v: ema (the paper) | max (max(β2 v, φ(g²_{t−n}))).", panel=OPTIMIZER_PANEL)
    ] = None
    clip: Annotated[bool | None, _opt("--clip/--no-clip", help="ADOPT's clipping (default on).", panel=OPTIMIZER_PANEL)] = None
    clip_base: Annotated[
        str | None, _opt("--clip-base", help="ADOPT's clip step base: official | port.", panel=OPTIMIZER_PANEL)
    ] = None
    lam: Annotated[float | None, _opt("--lam", help="AdamNC's λ in β1t = β1 λ^(t−1).", panel=OPTIMIZER_PANEL)] = None
    steps: Annotated[int | None, _opt("--steps", help="Steps T (default: the preset's, else 100000).", panel=RUN_PANEL)] = None
    seeds: Annotated[int | None, _opt("--seeds", help="Number of seeds (one lane each).", panel=RUN_PANEL)] = None
    seed: Annotated[int, _opt("--seed", help="First seed.", panel=RUN_PANEL)] = 0
    x0: Annotated[float | None, _opt("--x0", help="Starting point x_1.", panel=RUN_PANEL)] = None
    warmup: Annotated[int | None, _opt("--warmup", help="Steps that update the moments but not x.", panel=RUN_PANEL)] = None
    engine: Annotated[
        str,
        _opt(
            "--engine",
            help="auto (compiled when numba is installed and the optimizer has a compiled form) | numpy | compiled.",
            panel=RUN_PANEL,
        ),
    ] = "auto"

    def hyper(self) -> dict[str, Any]:
        """The optimizer settings given on the command line (None = default)."""
        return {
            "beta1": self.beta1,
            "beta2": self.beta2,
            "lr": self.lr,
            "schedule": self.schedule,
            "schedule_c": self.schedule_c,
            "eps": self.eps,
            "eps_mode": self.eps_mode,
            "bias_correction": self.bias_correction,
            "convention": self.amsgrad_convention,
            "n": self.shift,
            "window": self.window,
            "phi": self.phi,
            "v_rule": self.v_rule,
            "clip": self.clip,
            "clip_base": self.clip_base,
            "lam": self.lam,
        }

    def spec_kwargs(self) -> dict[str, Any]:
        """Everything but the problem name, as `build_spec` (and `make_plan`) take it."""
        return {
            "problem": {
                "C": self.C,
                "s": self.small,
                "d": self.period,
                "k": self.spikes,
                "p": self.p,
                "delta": self.delta,
                "n": self.n_functions,
                "sampling": self.sampling,
                "blocks": self.blocks,
                "base": self.base,
                "size": self.dim,
                "condition": self.condition,
                "noise": self.noise,
            },
            "optimizers": self.optimizer,
            "hyper": self.hyper(),
            "steps": self.steps,
            "seeds": self.seeds,
            "seed": self.seed,
            "x0": self.x0,
            "warmup": self.warmup,
            "domain": self.domain,
            "engine": self.engine,
        }

    def build(self) -> Spec:
        """Resolve the options into a Spec (raises AdasimError on bad values)."""
        return build_spec(self.problem, **self.spec_kwargs())


_SPEC_FIELDS = [f.name for f in fields(SpecOptions)]
OPTIMIZER_FIELDS = ["optimizer", "beta1", "beta2", "eps", "eps_mode", "bias_correction", "amsgrad_convention", "shift"]
OPTIMIZER_FIELDS += ["window", "phi", "v_rule", "clip", "clip_base", "lam"]


def with_spec_options(command: Callable[..., Any], only: list[str] | None = None) -> Callable[..., Any]:
    """Give a command every SpecOptions option (or `only` those); it receives them as
    `spec: SpecOptions`, the others left at their defaults."""
    names = _SPEC_FIELDS if only is None else only
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "spec"]
    shared = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
        for f in fields(SpecOptions)
        if f.name in names
    ]
    first: list[inspect.Parameter] = []
    if shared and shared[0].name == "problem":
        first = [shared.pop(0).replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params = first + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        spec = SpecOptions(**{k: kwargs.pop(k) for k in names})
        return command(spec=spec, **kwargs)

    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__
    return wrapper


def with_optimizer_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Only the optimizer options (for commands that choose the problem themselves)."""
    return with_spec_options(command, only=OPTIMIZER_FIELDS)
