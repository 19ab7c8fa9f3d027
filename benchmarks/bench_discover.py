"""`adasim discover`: candidates per second through the search battery as lanes, against one
candidate run alone through `adasim check`'s runner (the same cases, the same judge), measured in
the same run (these machines are noisy: read the ratio, not the seconds).

    python benchmarks/bench_discover.py [--candidates 2000] [--workers 2]

Both sides are warm (kernels compiled before the clock starts). The lane side is
adasim.discover.search.evaluate over `--workers` processes; the baseline is
adasim.checks.runner.run_cases on one rule of the grammar (written to a found.py file and loaded
as `adasim check found.py:Name` loads it), one process. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from adasim.checks.adapters import load
    from adasim.checks.runner import run_cases
    from adasim.discover.battery import search_cases
    from adasim.discover.grammar import BUILT_INS, Genes, sample, source_file
    from adasim.discover.search import evaluate

    cases = search_cases()
    genes = sample(np.random.default_rng(0), args.candidates)
    evaluate(genes[:8], cases, workers=1)  # compile
    start = time.perf_counter()
    evaluate(genes, cases, workers=args.workers)
    lanes = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "found.py"
        path.write_text(source_file([("Rule", Genes.of([BUILT_INS["adashift"]]).one(0), "the baseline rule")]))
        loaded = load(f"{path}:Rule")
        run_cases(loaded, cases)  # compile, and SGD's baselines
        alone = best(lambda: run_cases(loaded, cases), 2)

    per_candidate = lanes / args.candidates
    print(f"search battery: {len(cases)} cases")
    print(
        f"lanes:  {args.candidates} candidates in {lanes:.1f} s on {args.workers} process(es): "
        f"{args.candidates / lanes:.1f} candidates/s ({per_candidate * 1e3:.1f} ms each)"
    )
    print(f"alone:  one candidate through adasim check's runner: {alone:.2f} s")
    print(f"ratio:  {alone / per_candidate:.0f}× more candidates per second as lanes")
    print(f"10^4 candidates through the battery: about {1e4 * per_candidate / 60:.1f} min at this rate")


if __name__ == "__main__":
    main()
