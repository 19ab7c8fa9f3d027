"""Muon on a 64 × 64 matrix case with 1 000 lanes: adasim's NumPy executor (every lane's W at once,
Newton–Schulz as batched matrix products in float64) against torch.optim.Muon stepping the same
lanes one at a time (one parameter per lane, which it orthogonalises one after another, in
bfloat16) on the same gradients, measured in the same run.

    python benchmarks/bench_matrix.py [--lanes 1000] [--size 64] [--steps 5]

Prints seconds per step of each and their ratio (the target of issue 29: adasim ≥ 10× faster);
nothing is asserted. The torch side is timed on its optimizer step alone (the gradients are
copied in beforehand), adasim's on whole steps (gradient, step, projection, bookkeeping).

Measured on the 2-core machine (2026-12-05): 0.79 s per step against torch's 0.76 s, 1.0×. The
floor is the arithmetic: Newton–Schulz is 15 batched products of 1 000 64 × 64 float64 matrices,
7.9 GFLOP a step, and one such product takes 12 ms here (43 GFLOP/s), so the products alone cost
0.19 s — at best 4× torch's bfloat16 loop. 10× would need adasim to drop to torch's precision.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from adasim import Matrix, Muon
from adasim.engine import iterate


def adasim_seconds(problem: Matrix, lanes: int, steps: int) -> float:
    """Seconds per step of adasim's Muon on `lanes` lanes (after one warm-up block)."""
    opt = Muon(lr=0.01)
    seeds = np.arange(lanes)
    list(iterate(problem, opt, 1, seeds=seeds, engine="numpy", block=1, fields=("x",)))  # warm-up (imports, allocation)
    began = time.perf_counter()
    for _ in iterate(problem, opt, steps, seeds=seeds, engine="numpy", block=steps, fields=("x",)):  # x only, as a
        pass  # long run that records a few rows in many steps
    return (time.perf_counter() - began) / steps


def torch_seconds(problem: Matrix, lanes: int, steps: int) -> float:
    """Seconds per step of torch.optim.Muon over `lanes` (m, m) parameters, one lane at a time."""
    import torch

    m = problem.size
    params = [torch.zeros(m, m, dtype=torch.float32, requires_grad=True) for _ in range(lanes)]
    opt = torch.optim.Muon(params, lr=0.01)
    x = np.zeros((lanes, m * m))
    total = 0.0
    for t in range(1, steps + 2):
        g = torch.from_numpy(problem.gradient(x, t, np.arange(lanes)).reshape(lanes, m, m).astype(np.float32))
        for p, gi in zip(params, g, strict=True):
            p.grad = gi
        began = time.perf_counter()
        opt.step()
        if t > 1:  # the first step allocates the buffers
            total += time.perf_counter() - began
    return total / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=1000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    problem = Matrix(size=args.size, rotate=True)  # dense gradients: Newton–Schulz has work to do
    ours = adasim_seconds(problem, args.lanes, args.steps)
    print(f"{args.lanes} lanes of a {args.size} × {args.size} W, {args.steps} steps")
    print(f"  adasim muon (NumPy executor, float64):   {ours:8.3f} s per step")
    try:
        theirs = torch_seconds(problem, args.lanes, args.steps)
    except ImportError:
        print("  torch is not installed: pip install 'adasim[torch]' for the baseline")
        return
    print(f"  torch.optim.Muon, one lane at a time:   {theirs:8.3f} s per step")
    print(f"  ratio (torch / adasim):                 {theirs / ours:8.1f}×")


if __name__ == "__main__":
    main()
