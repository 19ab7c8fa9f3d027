"""What the battery says about other people's optimizers: one row per SPEC (passed/total, the
result of every case, the lanes' layout, seconds, library versions), as a Markdown table.

    python -m adasim.checks.gallery                       # the README's table (torch.optim, optax)
    python -m adasim.checks.gallery --library pytorch_optimizer --out docs/pytorch-optimizer.md

`--library pytorch_optimizer` puts every optimizer the library builds for a 1-D parameter
through the battery at its defaults; one that cannot be built or stepped says why in its row.
Each row is the library's defaults with each case's own lr and schedule.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from adasim.checks.cases import CASES
from adasim.errors import AdasimError

SPECS = (
    "torch:torch.optim.SGD", "torch:torch.optim.Adam", "torch:torch.optim.AdamW", "torch:torch.optim.NAdam",
    "torch:torch.optim.RAdam", "torch:torch.optim.Adamax", "torch:torch.optim.Adagrad", "torch:torch.optim.RMSprop",
    "torch:torch.optim.Adadelta", "torch:torch.optim.Adafactor", "torch:torch.optim.Muon", "optax:optax.adabelief",
    "optax:optax.adam", "optax:optax.adamw", "optax:optax.contrib.adopt", "optax:optax.amsgrad", "optax:optax.lion",
    "optax:optax.yogi", "optax:optax.contrib.prodigy", "optax:optax.contrib.muon",
)  # fmt: skip
MARK = {"pass": "✓", "FAIL": "✗", "error": "error", "inconclusive": "?", "not exercised": "—"}


def row(spec: str, jobs: int = 1) -> dict[str, Any]:
    """One optimizer through the battery: its verdicts, layout, time and versions (or why not)."""
    from adasim.checks.report import check

    began = time.perf_counter()
    try:
        report = check(spec, jobs=jobs)
    except AdasimError as err:
        return {"spec": spec, "error": str(err), "seconds": time.perf_counter() - began}
    opt = report.optimizer
    return {"spec": spec, "library": opt["library"], "lanes": opt["lanes"], "counts": report.counts,
            "cases": {r.case.name: r.status for r in report.results}, "seconds": time.perf_counter() - began}  # fmt: skip


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    names = list(CASES)
    head = ["optimizer", "library", "passed", *names, "lanes", "seconds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"| `{r['spec']}` | | cannot run: {r['error'].replace('|', '/')} |" + " |" * (len(names) + 2))
            continue
        lib = " ".join(f"{k} {v}" for k, v in r["library"].items())
        c = r["counts"]
        cells = [MARK[r["cases"].get(n, "error")] for n in names]
        lines.append(f"| `{r['spec']}` | {lib} | {c['passed']}/{len(names)} | " + " | ".join(cells)
                     + f" | {r['lanes']} | {r['seconds']:.0f} |")  # fmt: skip
    legend = "✓ passed, ✗ failed, ? inconclusive (the factors' interval holds 0), — not exercised (a matrix optimizer)"
    return "\n".join(lines) + "\n\n" + legend + "\n"


def library_specs(library: str) -> list[str]:
    """Every optimizer class a library offers (pytorch_optimizer: its registry)."""
    if library != "pytorch_optimizer":
        raise AdasimError(f"unknown library '{library}' (known: pytorch_optimizer)")
    try:
        import pytorch_optimizer
    except ImportError:
        raise AdasimError("pytorch_optimizer is not installed: pip install 'adasim[references]'") from None
    names = sorted({cls.__name__ for cls in pytorch_optimizer.get_supported_optimizers()})
    return [f"torch:pytorch_optimizer.{n}" for n in names if hasattr(pytorch_optimizer, n)]


def main(argv: Sequence[str] | None = None) -> int:
    from adasim.io import atomic_file

    parser = argparse.ArgumentParser(prog="python -m adasim.checks.gallery", description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", help="SPECs (default: the README's list)")
    parser.add_argument("--library", help="every optimizer of this library (pytorch_optimizer)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", help="write the Markdown table here (default: print it)")
    args = parser.parse_args(argv)
    specs = library_specs(args.library) if args.library else (args.specs or list(SPECS))
    rows = []
    for i, spec in enumerate(specs, start=1):
        rows.append(row(spec, jobs=args.jobs))
        r = rows[-1]
        status = r.get("error") or f"{r['counts']['passed']}/{len(CASES)} passed, {r['lanes']}"
        print(f"[{i}/{len(specs)}] {spec}: {status} ({r['seconds']:.0f} s)", flush=True)
    text = markdown(rows)
    if args.out:
        with atomic_file(args.out, "w") as fh:
            fh.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
