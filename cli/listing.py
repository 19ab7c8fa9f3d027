"""`adasim list`: problems, presets, optimizers, conventions and their defaults."""

from typing import Annotated, Any

import typer
from rich.table import Table

from adasim.cli.console import stdout
from adasim.io import dumps
from adasim.optimizers import EPS_MODES, OPTIMIZERS
from adasim.optimizers.adashift import V_RULES
from adasim.optimizers.adopt import CLIP_BASES
from adasim.optimizers.amsgrad import AMSGRAD_CONVENTIONS
from adasim.optimizers.base import PHI
from adasim.problems import PRESETS, PROBLEMS, SAMPLINGS
from adasim.schedules import SCHEDULES, Schedule


def _default(value: Any) -> Any:
    return value.config() if isinstance(value, Schedule) else value


def catalogue() -> dict[str, Any]:
    """Everything `adasim list` shows, as data."""
    return {
        "problems": {
            name: {"gradients": cls.summary, "source": cls.source, "defaults": cls().params()} for name, cls in PROBLEMS.items()
        },
        "presets": {
            name: {
                "problem": p.problem,
                "source": p.source,
                "choices": p.choices,
                "domain": p.domain,
                "optimizers": list(p.optimizers),
            }
            for name, p in PRESETS.items()
        },
        "optimizers": {
            name: {"rule": cls.rule, "source": cls.source, "defaults": {k: _default(v) for k, v in cls.options().items()}}
            for name, cls in OPTIMIZERS.items()
        },
        "conventions": {
            "eps_mode": EPS_MODES,
            "amsgrad_convention": AMSGRAD_CONVENTIONS,
            "clip_base": CLIP_BASES,
            "phi": PHI,
            "v_rule": V_RULES,
            "schedule": SCHEDULES,
            "sampling": SAMPLINGS,
        },
    }


def list_all(
    json_out: Annotated[bool, typer.Option("--json", help="Print the catalogue as JSON.")] = False,
) -> None:
    """List problems, presets, optimizers (with defaults) and the named conventions."""
    cat = catalogue()
    if json_out:
        print(dumps(cat))
        return
    console = stdout()
    t = Table(title="problems", header_style="bold")
    for col in ("name", "gradients", "defaults", "source"):
        t.add_column(col, overflow="fold")
    for name, info in cat["problems"].items():
        t.add_row(name, info["gradients"], ", ".join(f"{k}={v}" for k, v in info["defaults"].items()), info["source"])
    console.print(t)
    t = Table(title="presets", header_style="bold")
    for col in ("name", "problem", "source", "adasim's choices"):
        t.add_column(col, overflow="fold")
    for name, info in cat["presets"].items():
        t.add_row(name, info["problem"], info["source"], info["choices"])
    console.print(t)
    t = Table(title="optimizers", header_style="bold")
    for col in ("name", "update rule", "defaults", "source"):
        t.add_column(col, overflow="fold")
    for name, info in cat["optimizers"].items():
        t.add_row(name, info["rule"], ", ".join(f"{k}={v}" for k, v in info["defaults"].items()), info["source"])
    console.print(t)
    t = Table(title="conventions", header_style="bold")
    for col in ("option", "value", "meaning"):
        t.add_column(col, overflow="fold")
    for option, values in cat["conventions"].items():
        for value, meaning in values.items():
            t.add_row(option, value, meaning)
    console.print(t)
