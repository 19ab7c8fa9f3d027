"""What the battery says about other people's optimizers: one row per SPEC (passed/total, the
result of every case, the lanes' layout, seconds, library versions), as a Markdown table.

    python -m adasim.checks.gallery                       # the table of docs/how-to/check-your-optimizer.md (torch.optim, optax)
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
    "optax:optax.yogi", "optax:optax.contrib.prodigy", "optax:optax.contrib.muon", "torch:pytorch_optimizer.SOAP",
    "torch:pytorch_optimizer.Shampoo",
)  # fmt: skip
MARK = {"pass": "✓", "FAIL": "✗", "error": "error", "inconclusive": "?", "not exercised": "—"}


def row(spec: str, quick: bool = False, timeout: float = 600.0, jobs: int = 1) -> dict[str, Any]:
    """One optimizer through the battery, as its own `adasim check SPEC --json` process (a crash, a
    hang past `timeout` seconds or an exit code of its own stays in its row): its verdicts, layout,
    time and versions, or why it could not run."""
    import json
    import os
    import subprocess
    import sys

    from adasim.checks.report import THREAD_VARIABLES

    args = [sys.executable, "-m", "adasim", "check", spec, "--json", "--jobs", str(jobs)] + (["--quick"] if quick else [])
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1")}  # processes side by side: one thread each
    began = time.perf_counter()
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    except subprocess.TimeoutExpired:
        return {"spec": spec, "error": f"did not finish within {timeout:.0f} s", "seconds": time.perf_counter() - began}
    seconds = time.perf_counter() - began
    if done.returncode not in (0, 1):
        lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit code {done.returncode}"]
        return {"spec": spec, "error": lines[-1].removeprefix("adasim: error: "), "seconds": seconds}
    try:
        data = json.loads(done.stdout)
    except ValueError:
        lines = (done.stderr or "").strip().splitlines() or [f"exit code {done.returncode}, no report"]
        return {"spec": spec, "error": lines[-1].removeprefix("adasim: error: "), "seconds": seconds}
    opt = data["optimizer"]
    counts = {k: data.get(k, 0) for k in ("passed", "failed", "errored", "inconclusive", "not_exercised")}
    return {"spec": spec, "library": opt["library"], "lanes": opt["lanes"], "counts": counts,
            "cases": {c["case"]: c["status"] for c in data["cases"]}, "seconds": seconds}  # fmt: skip


def markdown(rows: Sequence[dict[str, Any]], names: Sequence[str] | None = None) -> str:
    """The vector battery's table, then the matrix battery's for the optimizers that ran it (a
    row's cases say which battery it ran)."""
    from adasim.checks.cases import MATRIX_CASES

    names = list(names or CASES)
    matrix = [r for r in rows if "cases" in r and set(r["cases"]) <= set(MATRIX_CASES)]
    vector = [r for r in rows if r not in matrix]
    text = _table(vector, names)
    if matrix:
        matrix_names = [n for n in MATRIX_CASES if any(n in r["cases"] for r in matrix)]
        text += "\nThe optimizers that act on matrices run the matrix battery (each lane's W one 4 × 4 parameter):\n\n"
        text += _table(matrix, matrix_names)
    return text


def _table(rows: Sequence[dict[str, Any]], names: list[str]) -> str:
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
    specs = []
    for name in pytorch_optimizer.get_supported_optimizers():  # registry names: 'adamp', 'lion', ...
        try:
            cls = pytorch_optimizer.load_optimizer(name)
        except Exception:
            continue
        top = getattr(pytorch_optimizer, cls.__name__, None) is cls
        spec = f"torch:pytorch_optimizer.{cls.__name__}" if top else f"torch:{cls.__module__}:{cls.__qualname__}"
        if spec not in specs:
            specs.append(spec)
    return sorted(specs, key=str.lower)


def main(argv: Sequence[str] | None = None) -> int:
    from adasim.io import atomic_file

    parser = argparse.ArgumentParser(prog="python -m adasim.checks.gallery", description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", help="SPECs (default: the list of docs/how-to/check-your-optimizer.md)")
    parser.add_argument("--library", help="every optimizer of this library (pytorch_optimizer)")
    parser.add_argument("--jobs", type=int, default=2, help="optimizers checked at once (each in its own process)")
    parser.add_argument("--quick", action="store_true", help="the quick cases (the full battery's verdicts on them)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per optimizer")
    parser.add_argument("--out", help="write the Markdown table here (default: print it)")
    args = parser.parse_args(argv)
    specs = library_specs(args.library) if args.library else (args.specs or list(SPECS))
    from concurrent.futures import ThreadPoolExecutor

    from adasim.checks.cases import QUICK

    names = list(QUICK) if args.quick else list(CASES)
    began = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(row, spec, args.quick, args.timeout) for spec in specs]
        for i, future in enumerate(futures, start=1):
            r = future.result()
            rows.append(r)
            status = r.get("error") or f"{r['counts']['passed']}/{len(names)} passed, {r['lanes']}"
            print(f"[{i}/{len(specs)}] {r['spec']}: {status} ({r['seconds']:.0f} s)", flush=True)
            if args.out:  # the table so far, after every row: an interrupted run keeps what it found
                with atomic_file(args.out, "w") as fh:
                    fh.write(markdown(rows, names))
    print(f"{len(specs)} optimizers in {time.perf_counter() - began:.0f} s", flush=True)
    if not args.out:
        print(markdown(rows, names))
    return 0


def _main() -> int:
    """`main` with a bad input (an unknown library, an unwritable --out) as one line and exit 2."""
    import sys

    try:
        return main()
    except (AdasimError, OSError) as err:
        print(f"python -m adasim.checks.gallery: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(_main())
