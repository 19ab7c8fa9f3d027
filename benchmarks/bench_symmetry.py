"""The symmetry problem's bias law across three decades of 1 − β2 (docs/REFERENCE.md §8):
RMSProp's stationary point θ̄ − μ against −(1 − β2)·κ₃/(2σ²), with small steps α = (1 − β2)/20
and 40/α steps per run (the average of the last three quarters, over the lanes).

    python benchmarks/bench_symmetry.py [--lanes 500] [--q 0.1]

Prints the measured bias, its standard error, the first-order prediction and their ratio; nothing
is asserted (tests/problems/test_symmetry.py holds the first two decades to 10 %).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from adasim import RMSProp, simulate
from adasim.problems.symmetry import Symmetry, stationary_bias


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=500)
    parser.add_argument("--q", type=float, default=0.1)
    args = parser.parse_args()
    problem = Symmetry(q=args.q)
    print(f"X = μ + σZ, q = {args.q}: E Z³ = {problem.skewness():.4f}; {args.lanes} lanes")
    print("  1 − β2      steps      measured     ± se        predicted    ratio    seconds")
    for gap in (3e-2, 3e-3, 3e-4):
        opt = RMSProp(beta2=1 - gap, eps=0.0, lr=gap / 20)
        steps = int(40 / float(opt.lr))
        began = time.perf_counter()
        run = simulate(problem, opt, steps, seeds=np.arange(args.lanes), record=("x",))
        keep = run.trace.t > steps // 4
        per_lane = run.trace.x[keep, :, 0].mean(axis=0)
        measured, se = per_lane.mean(), per_lane.std() / math.sqrt(args.lanes)
        predicted = stationary_bias(problem, opt)
        print(f"  {gap:7.0e} {steps:10,} {measured:+12.6f} {se:10.2e} {predicted:+12.6f} {measured / predicted:8.3f} "
              f"{time.perf_counter() - began:8.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
