"""`adasim list`: problems, presets, optimizers, conventions and their defaults."""

import importlib.metadata
from typing import Annotated, Any

import typer
from rich.table import Table

from adasim.cli.console import stdout
from adasim.engine import ENGINES
from adasim.io import dumps
from adasim.optimizers import OPTIMIZERS
from adasim.problems import PRESETS, PROBLEMS, SAMPLINGS
from adasim.schedules import SCHEDULES, Schedule


def _default(value: Any) -> Any:
    return value.config() if isinstance(value, Schedule) else value


def _numba_note() -> str:
    from adasim.engine import jit as compiled

    if compiled.available():
        return f"numba {importlib.metadata.version('numba')}"
    return compiled.unavailable_reason()


def _conventions() -> dict[str, dict[str, str]]:
    """Every named convention of every optimizer, as its option name: value → meaning."""
    from adasim.settings import by_field

    fields = by_field("optimizer")
    out: dict[str, dict[str, str]] = {}
    for d in OPTIMIZERS.values():
        for key, values in d.conventions.items():
            name = fields[key].name if key in fields else key
            out.setdefault(name, {}).update(values)
    return out


def catalogue() -> dict[str, Any]:
    """Everything `adasim list` shows, as data."""
    from adasim.checks.verdicts import knowledge

    known = knowledge()
    return {
        "problems": {
            name: {"gradients": cls.summary, "outcome": cls.outcome or None, "source": cls.source, "defaults": cls().params()}
            for name, cls in PROBLEMS.items()
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
                "rule": d.rule,
                "source": d.source,
                "defaults": {k: _default(v) for k, v in d.options().items()},
                **known[name],
            }
            for name, d in OPTIMIZERS.items()
        },
        "conventions": {
            **_conventions(),
            "schedule": SCHEDULES,
            "sampling": SAMPLINGS,
            "engine": {**ENGINES, "compiled": f"{ENGINES['compiled']} ({_numba_note()})"},
        },
    }


def _beaten(info: dict[str, Any]) -> str:
    if info["defeated_by"] is None:
        return "not computed (python -m adasim.checks.verdicts)"
    if info.get("matrix"):
        beaten = info["defeated_by"]
        return (f"{len(beaten)}/{info['cases']} matrix cases: " + ", ".join(beaten)) if beaten else \
            f"none of the {info['cases']} matrix cases"  # fmt: skip
    if not info["defeated_by"]:
        return "none"
    return f"{len(info['defeated_by'])}/{info['cases']}: " + ", ".join(info["defeated_by"])


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
        ("problems", ("name", "gradients", "expected outcome", "defaults", "source"),
         [(n, i["gradients"], i["outcome"] or "", joined(i["defaults"]), i["source"]) for n, i in cat["problems"].items()]),
        ("presets", ("name", "problem", "source", "adasim's choices"),
         [(n, i["problem"], i["source"], i["choices"]) for n, i in cat["presets"].items()]),
        ("optimizers", ("name", "update rule", "defaults", "closed form", "defeated by (adasim check)", "source"),
         [(n, i["rule"], joined(i["defaults"]), i["closed_form"], _beaten(i), i["source"])
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
