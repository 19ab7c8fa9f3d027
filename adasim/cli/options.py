"""The problem, optimizer and run options every simulating command shares, generated from the one
table of settings (adasim.settings) and added to a command by a decorator."""

import ast
import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from adasim.errors import AdasimError
from adasim.settings import OPTIMIZER, PROBLEM, RUN, SETTINGS, RunSettings, Setting
from adasim.spec import DEFAULT_PROBLEM, Spec, build_spec, names

PANELS = {PROBLEM: "Problem", OPTIMIZER: "Optimizers", RUN: "Run"}


def _option(*decls: str, help: str, panel: str, **kw: Any) -> Any:
    return typer.Option(*decls, help=help, rich_help_panel=panel, show_default=False, **kw)


def _setting_parameter(s: Setting, default: Any = None) -> inspect.Parameter:
    decls = (f"{s.flag}/--no-{s.flag[2:]}",) if s.type is bool else s.flags
    shown = f"{default:,}" if isinstance(default, int | float) else default
    text = s.help if default is None else f"{s.help.split(' (default')[0].rstrip('.')} (default here: {shown})."
    annotation = Annotated[s.type | None, _option(*decls, help=text, panel=PANELS[s.group])]
    default = 0 if s.name == "seed" else None
    if s.name == "seed":
        annotation = Annotated[int, _option(*decls, help=s.help, panel=PANELS[s.group])]
    return inspect.Parameter(s.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def _extra_parameters() -> list[inspect.Parameter]:
    kw = inspect.Parameter.KEYWORD_ONLY
    return [
        inspect.Parameter(
            "problem",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=DEFAULT_PROBLEM,
            annotation=Annotated[str, typer.Argument(help=f"A problem or preset: {', '.join(names())}.", show_default=True)],
        ),
        inspect.Parameter(
            "domain",
            kw,
            default=None,
            annotation=Annotated[
                str | None, _option("--domain", help="Domain 'lo,hi' or 'none' (unconstrained).", panel="Problem")
            ],
        ),
        inspect.Parameter(
            "optimizer",
            kw,
            default=None,
            annotation=Annotated[
                list[str] | None,
                _option("--optimizer", "-o", help="Optimizer, or file.py:Name for your own (repeatable).", panel="Optimizers"),
            ],
        ),
        inspect.Parameter(
            "set",
            kw,
            default=None,
            annotation=Annotated[
                list[str] | None,
                _option(
                    "--set", help="Any optimizer setting by name, KEY=VALUE (a Python literal; repeatable).", panel="Optimizers"
                ),
            ],
        ),
    ]


ORDER = [
    "problem", *[s.name for s in SETTINGS if s.group == PROBLEM], "domain",
    "optimizer", *[s.name for s in SETTINGS if s.group == OPTIMIZER], "set",
    *[s.name for s in SETTINGS if s.group == RUN],
]  # fmt: skip
OPTIMIZER_ONLY = ["optimizer", *[s.name for s in SETTINGS if s.group == OPTIMIZER], "set"]
CLOSED_FORM = [name for name in ORDER if name not in {s.name for s in SETTINGS if s.group == RUN}]


def parse_assignments(items: list[str] | None, what: str = "--set") -> dict[str, Any]:
    """['beta2=0.99', 'betas=(0.9, 0.99)'] → {'beta2': 0.99, 'betas': (0.9, 0.99)} (Python literals;
    true/false/none as True/False/None whatever their case, inf and nan as floats; a value that is
    not one of these is taken as a string)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise AdasimError(f"{what} takes KEY=VALUE, got '{item}'")
        words = {"true": True, "false": False, "none": None, "inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}
        if text.strip().lower() in words:
            out[key] = words[text.strip().lower()]
            continue
        try:
            out[key] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            out[key] = text.strip()
    return out


class SpecOptions:
    """The values of the shared options by name; None means "the preset's or the default value"."""

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "values", {name: None for name in ORDER} | {"problem": DEFAULT_PROBLEM, "seed": 0,
                                                                              "engine": "auto"} | values)  # fmt: skip

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "values")
        if name in values:
            return values[name]
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.values[name] = value

    def hyper(self) -> dict[str, Any]:
        """The optimizer settings given on the command line, by record field (None = default)."""
        out = {s.field: self.values.get(s.name) for s in SETTINGS if s.group == OPTIMIZER}
        out.update(parse_assignments(self.values.get("set")))
        return out

    def run_settings(self) -> RunSettings:
        """The run options as one record (fields not given stay None: the preset's or default)."""
        return RunSettings.from_options({s.name: self.values.get(s.name) for s in SETTINGS if s.group == RUN})

    def spec_kwargs(self) -> dict[str, Any]:
        """Everything but the problem name, as `build_spec` (and `make_plan`) take it."""
        return {
            "problem": {s.field: self.values.get(s.name) for s in SETTINGS if s.group == PROBLEM},
            "optimizers": self.values.get("optimizer"),
            "hyper": self.hyper(),
            "run": self.run_settings(),
            "domain": self.values.get("domain"),
        }

    def build(self) -> Spec:
        """Resolve the options into a Spec (raises AdasimError on bad values)."""
        return build_spec(self.problem, **self.spec_kwargs())


def _parameters(names_: list[str], defaults: dict[str, Any]) -> list[inspect.Parameter]:
    available = {p.name: p for p in _extra_parameters()} | {s.name: _setting_parameter(s, defaults.get(s.name)) for s in SETTINGS}
    return [available[n] for n in ORDER if n in names_]


def with_spec_options(
    command: Callable[..., Any] | None = None, only: list[str] | None = None, defaults: dict[str, Any] | None = None
) -> Any:
    """Give a command every shared option (or `only` those); it receives them as `spec:
    SpecOptions`, the others left at their defaults — or at the command's own `defaults` (its
    help then says so), as in `@with_spec_options(defaults={"steps": 300})`."""
    if command is None:
        return functools.partial(with_spec_options, only=only, defaults=defaults)
    defaults = defaults or {}
    chosen = ORDER if only is None else only
    own = [p for p in inspect.signature(command).parameters.values() if p.name != "spec"]
    shared = _parameters(chosen, defaults)
    first: list[inspect.Parameter] = []
    if shared and shared[0].name == "problem":
        first = [shared.pop(0)]
    params = first + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared
    names_ = [p.name for p in shared + first]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        spec = SpecOptions({k: kwargs.pop(k) for k in names_})
        for key, value in defaults.items():
            if spec.values.get(key) is None:
                spec.values[key] = value
        return command(spec=spec, **kwargs)

    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__
    return wrapper


def with_closed_form_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The problem and optimizer options, not the run's (for commands that simulate nothing)."""
    return with_spec_options(command, only=CLOSED_FORM)


def with_optimizer_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Only the optimizer options (for commands that choose the problem themselves)."""
    return with_spec_options(command, only=OPTIMIZER_ONLY)
