"""Every built-in optimizer on the compiled lane stream (what sweeps and factor analyses run), as
ns per lane-step and as a ratio to Adam measured in this run:

    python benchmarks/bench_optimizers.py [--lanes 10000] [--steps 1000] [--repeat 3]

10⁴ lanes of Reddi's online problem (d = 3), the block stream with no per-step fields, best of
--repeat runs after one run that compiles (or loads) the kernel. A ratio near 1 is a loop that
LLVM vectorised like Adam's; AdaShift loops over its window per cell and schedule-free AdamW
calls adasim's pow per cell (the same bits on every executor). Nothing is asserted.
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import best

from adasim import Online, iterate, make_optimizer
from adasim.optimizers import OPTIMIZERS

EXTRA = [("amsgrad", {"convention": "pytorch"}), ("amsgrad", {"convention": "optax"}), ("adashift", {"n": 1})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    problem, seeds = Online(C=10.0, d=3), np.arange(args.lanes)
    cases = [(name, {}) for name in sorted(OPTIMIZERS)] + EXTRA

    def ns(name: str, kw: dict) -> float:
        opt = make_optimizer(name, lr=0.01, **kw)
        list(iterate(problem, opt, 10, seeds=seeds, engine="compiled", fields=()))  # compile or load
        t = best(lambda: list(iterate(problem, opt, args.steps, seeds=seeds, engine="compiled", fields=())), args.repeat)
        return t / (args.steps * args.lanes) * 1e9

    adam = ns("adam", {})
    print(f"{args.lanes:,} lanes × {args.steps:,} steps, online (d = 3): ns per lane-step, and ÷ Adam's {adam:.2f}")
    for name, kw in cases:
        label = name + "".join(f" {k}={v}" for k, v in kw.items())
        value = ns(name, kw)
        print(f"  {label:28} {value:8.2f}  {value / adam:6.1f}×")


if __name__ == "__main__":
    main()
