"""What adasim knows about each built-in optimizer: the closed forms its declarations allow, and
which of `adasim check`'s cases defeat it at its default settings (each case's own α_t).

The verdicts (the whole battery, 10 000 steps per case) take minutes to compute, so they are stored with the package
(`adasim/optimizers/verdicts.json`, with the command and the version that made them) and shown by
`adasim list` and the optimizer table of docs/guide/optimizers.md; regenerate them after changing a definition:

    python -m adasim.checks.verdicts [--jobs 2]

A test recomputes a few of them and checks that the file covers every optimizer.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adasim.optimizers.base import Definition

VERDICTS_FILE = Path(__file__).resolve().parents[1] / "optimizers" / "verdicts.json"
COMMAND = "python -m adasim.checks.verdicts"


def closed_form(d: Definition) -> str:
    """Which closed forms the definition's declarations give, at its default settings."""
    opt = d()
    if opt.sign_weights() is not None:
        return "sign drift (periodic: exact; i.i.d.: interval)"
    kernel, limit = opt.kernel(), opt.scale_limit()
    if kernel.kind == "none":
        return "none: not a sum of gradient factors (model-free factors: adasim check)"
    if limit.statistic == "sum":
        return "none: v grows without bound (factors → 0)"
    if limit.statistic in ("unknown", "custom"):
        return "exact factors from runs; no steady-state closed form"
    if limit.statistic == "none":
        return "factors equal for every gradient"
    return "net update factors and drift (periodic and i.i.d.)"


def compute(names: Sequence[str], quick: bool = False, jobs: int = 1) -> dict[str, Any]:
    """Run the battery on each named built-in optimizer at its defaults."""
    from adasim.checks.report import check

    out: dict[str, Any] = {}
    for name in names:
        report = check(name, quick=quick, jobs=jobs)
        out[name] = {
            "defeated_by": [r.case.name for r in report.results if r.status == "FAIL"],
            "errored": [r.case.name for r in report.results if r.status == "error"],
            "inconclusive": [r.case.name for r in report.results if r.status == "inconclusive"],
            "passed": [r.case.name for r in report.results if r.status == "pass"],
            "not_exercised": [r.case.name for r in report.results if r.status == "not exercised"],
        }
    return out


def stored() -> dict[str, Any]:
    """The stored verdicts ({} when the file is missing or unreadable: `adasim list` then says so)."""
    try:
        return json.loads(VERDICTS_FILE.read_text())
    except (OSError, ValueError):
        return {}


def main(argv: Sequence[str] | None = None) -> int:
    from adasim.io import provenance, write_json
    from adasim.optimizers import OPTIMIZERS

    parser = argparse.ArgumentParser(prog=COMMAND, description="Recompute the stored verdicts of every built-in optimizer.")
    parser.add_argument("--jobs", type=int, default=1, help="processes per optimizer's battery")
    parser.add_argument("--quick", action="store_true", help="the quick battery (1000 steps: too few for a verdict)")
    parser.add_argument("--only", action="append", default=None, metavar="NAME",
                        help="recompute these optimizers (repeatable) and keep the stored rows of the others")  # fmt: skip
    args = parser.parse_args(argv)
    names = list(OPTIMIZERS) if not args.only else args.only
    for name in names:
        if name not in OPTIMIZERS:
            parser.error(f"unknown optimizer {name!r}")
    verdicts = compute(names, quick=args.quick, jobs=args.jobs)
    if args.only:
        kept = stored()
        if kept.get("quick") != args.quick:
            parser.error("--only keeps the stored rows, which were made with another --quick: recompute them all")
        verdicts = {name: verdicts.get(name, kept.get("optimizers", {}).get(name)) for name in OPTIMIZERS}
    write_json(VERDICTS_FILE, {"command": COMMAND + (" --quick" if args.quick else ""), "quick": args.quick,
                               "optimizers": verdicts, "provenance": provenance()})  # fmt: skip
    print(f"wrote {VERDICTS_FILE} ({len(verdicts)} optimizers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def knowledge() -> dict[str, dict[str, Any]]:
    """Per built-in optimizer: its closed form and the cases that defeat it (from the stored file)."""
    from adasim.optimizers import OPTIMIZERS

    known = stored().get("optimizers", {})
    out = {}
    for name, d in OPTIMIZERS.items():
        row = known.get(name)
        kinds = ("defeated_by", "passed", "errored", "inconclusive", "not_exercised")
        cases = None if row is None else sum(len(row.get(k, [])) for k in kinds)
        out[name] = {"closed_form": closed_form(d), "defeated_by": None if row is None else row["defeated_by"], "cases": cases,
                     "not_exercised": None if row is None else len(row.get("not_exercised", [])), "matrix": d.matrix}  # fmt: skip
    return out


def markdown_table() -> str:
    """The optimizer table of docs/guide/optimizers.md: every built-in with its rule, conventions, closed form,
    the cases that defeat it at its defaults, and its source."""
    from adasim.optimizers import OPTIMIZERS

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    from adasim.checks.cases import CASES

    beaten = f"defeated by (of the {len(CASES)} cases, defaults)"
    lines = [f"| name | update | conventions (default first) | closed form | {beaten} | source |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, info in knowledge().items():
        d = OPTIMIZERS[name]
        conventions = "; ".join(f"{k}: {' / '.join(v)}" for k, v in d.conventions.items() if k not in d.fixed) or "—"
        beaten = info["defeated_by"]
        beaten_text = "not computed" if beaten is None else (", ".join(beaten) if beaten else "none")
        if beaten is not None:
            beaten_text = f"{len(beaten)}: {beaten_text}" if beaten else "none"
            if info["matrix"]:
                beaten_text = (f"{len(beaten)} of the {info['cases']} matrix cases: " + ", ".join(beaten) if beaten else
                               f"none of the {info['cases']} matrix cases (the vector cases cannot exercise it)")  # fmt: skip
        row = [f"`{name}`", cell(d.rule), cell(conventions), info["closed_form"], beaten_text, cell(d.source)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
