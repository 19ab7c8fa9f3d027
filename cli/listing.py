"""`adasim list`: problems, presets, optimizers, conventions and their defaults."""

import importlib.metadata
import importlib.util
from typing import Annotated, Any

import typer
from rich.table import Table

from adasim.cli.console import stdout
from adasim.compiled import ENGINES
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


def _numba_note() -> str:
    version = importlib.metadata.version("numba") if importlib.util.find_spec("numba") else None
    return f"numba {version} is installed" if version else 'numba is not installed: pip install "adasim[fast]"'


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
            name: {
                "rule": cls.rule,
                "source": cls.source,
                "defaults": {k: _default(v) for k, v in cls.options().items()},
                "compiled_form": cls().compiled_form() is not None,  # with its default settings
            }
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
            "engine": {**ENGINES, "compiled": f"{ENGINES['compiled']} ({_numba_note()})"},
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

    def joined(defaults: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in defaults.items())

    sections = [
        ("problems", ("name", "gradients", "defaults", "source"),
         [(n, i["gradients"], joined(i["defaults"]), i["source"]) for n, i in cat["problems"].items()]),
        ("presets", ("name", "problem", "source", "adasim's choices"),
         [(n, i["problem"], i["source"], i["choices"]) for n, i in cat["presets"].items()]),
        ("optimizers", ("name", "update rule", "defaults", "source"),
         [(n, i["rule"] + ("" if i["compiled_form"] else " (NumPy only)"), joined(i["defaults"]), i["source"])
          for n, i in cat["optimizers"].items()]),
        ("conventions", ("option", "value", "meaning"),
         [(o, v, m) for o, values in cat["conventions"].items() for v, m in values.items()]),
    ]  # fmt: skip
    for title, columns, rows in sections:
        table = Table(title=title, header_style="bold")
        for col in columns:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
