"""`adasim check`'s adapters: the per-step cost of driving each kind of optimizer, against
adasim's own compiled executor running the same Adam on the same lanes, in this process.

    python benchmarks/bench_check.py [--steps 5000] [--lanes 104] [--repeat 3]

Prints µs per step (all lanes) for: adasim's compiled executor (the block stream), the check's
adasim adapter (the NumPy executor's step), torch.optim.Adam stacked in one tensor and as one
tensor per lane, and optax.adam when jax is installed; then the whole `adasim check` of
torch.optim.Adam as a process (full and --quick). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
from timing import best

from adasim import Adam, Online, iterate
from adasim.checks import load


def drive(stepper, g: np.ndarray) -> None:
    x = np.zeros((g.shape[1], 1))
    for t in range(1, g.shape[0] + 1):
        x = np.clip(x - stepper.step(g[t - 1], t, 0.01), -1.0, 1.0)
        stepper.set_x(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5_000)
    parser.add_argument("--lanes", type=int, default=104)  # 8 seeds × (1 + 12 twins), the check's default
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    T, L = args.steps, args.lanes
    problem = Online(C=10.0)
    g = np.repeat(problem.gradients(np.arange(1, T + 1), np.zeros(1, dtype=np.uint64)), L, axis=1)

    def compiled() -> None:
        for _ in iterate(problem, Adam(lr=0.01), T, np.arange(L), fields=()):
            pass

    compiled()
    base = best(compiled, args.repeat)
    rows = [("adasim compiled executor", base)]
    rows.append(("check adapter: adasim (NumPy step)", best(lambda: drive(load("adam").make(np.zeros((L, 1)), 0.01), g), 1)))
    try:
        torch_adam = load("torch:torch.optim.Adam")
        one = best(lambda: drive(torch_adam.make(np.zeros((L, 1)), 0.01, True), g), 1)
        rows.append(("check adapter: torch Adam, one tensor", one))
        rows.append(("check adapter: torch Adam, a tensor per lane",
                     best(lambda: drive(torch_adam.make(np.zeros((L, 1)), 0.01, False), g), 1)))  # fmt: skip
    except Exception as err:  # an absent extra is reported, not fatal
        print(f"torch skipped: {err}")
    try:
        optax_adam = load("optax:optax.adam")
        leaf = best(lambda: drive(optax_adam.make(np.zeros((L, 1)), 0.01, True), g), 1)
        rows.append(("check adapter: optax adam, one leaf", leaf))
    except Exception as err:
        print(f"optax skipped: {err}")
    print(f"{T:,} steps × {L} lanes of Adam on the online problem (µs per step, all lanes)")
    for name, seconds in rows:
        print(f"  {name:46} {seconds / T * 1e6:9.1f}   {seconds / base:7.1f}× the compiled executor")
    for extra in ([], ["--quick"]):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "adasim", "check", "torch:torch.optim.Adam", *extra], capture_output=True,
                              check=False)  # fmt: skip
        took = time.perf_counter() - start
        print(f"`adasim check torch:torch.optim.Adam {' '.join(extra)}` as a process: {took:.1f} s (exit {done.returncode}; "
              f"target {'5' if extra else '30'} s)")  # fmt: skip


if __name__ == "__main__":
    main()
