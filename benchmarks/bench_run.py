"""Speed of `adasim run` against a plain Python loop of the same recurrence, measured in this run.

    python benchmarks/bench_run.py [--steps 1000000] [--repeat 3]

Prints seconds and ratios (machines here are noisy: the ratios are what to read). Nothing is
asserted: tests check behaviour, this script checks speed.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys

import numpy as np
from timing import best

from adasim import Adam, Online, Schedule, compiled, simulate
from adasim.spec import build_spec


def python_loop_adam(steps: int, C: float = 10.0) -> float:
    """Reddi Theorem 1 with Adam (β1 = 0, β2 = 1/(1+C²), α/√t, bias correction, ε outside) as a plain loop."""
    beta1, beta2, lr, eps = 0.0, 1.0 / (1.0 + C * C), 0.5, 1e-8
    m = v = x = 0.0
    for t in range(1, steps + 1):
        g = C if (t - 1) % 3 == 0 else -1.0
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        mh = m / (1 - beta1**t)
        vh = v / (1 - beta2**t)
        x = min(max(x - lr / math.sqrt(t) * mh / (math.sqrt(vh) + eps), -1.0), 1.0)
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    T = args.steps

    adam = Adam(lr=0.5, beta1=0.0, beta2=1 / 101, schedule=Schedule("inv-sqrt"))
    x_loop = python_loop_adam(T)
    x_sim = float(simulate(Online(C=10.0), adam, T).final_x[0, 0])
    assert abs(x_loop - x_sim) < 1e-9, (x_loop, x_sim)  # same recurrence, same numbers

    t_loop = best(lambda: python_loop_adam(T), 1)
    t_adam = best(lambda: simulate(Online(C=10.0), adam, T, engine="numpy"), args.repeat)
    t_fast = None
    if compiled.available():
        simulate(Online(C=10.0), adam, 10, engine="compiled")  # load the machine code outside the timing
        t_fast = best(lambda: simulate(Online(C=10.0), adam, T, engine="compiled"), args.repeat)
    spec = build_spec(steps=T)
    t_spec = best(spec.run, args.repeat)
    cmd = [sys.executable, "-m", "adasim", "run", "--steps", str(T), "--json"]
    t_cli = best(lambda: subprocess.run(cmd, check=True, capture_output=True), 1)

    n_opt = len(spec.optimizers)
    print(f"steps T = {T:,}  (Reddi Theorem 1, C = 10, one lane)")
    print(f"  plain Python loop, Adam           {t_loop:8.3f} s   (1.00x)")
    print(f"  adasim.simulate, Adam, NumPy      {t_adam:8.3f} s   ({t_loop / t_adam:6.1f}x faster than the loop)")
    if t_fast is None:
        print("  adasim.simulate, Adam, compiled   skipped: numba is not installed")
    else:
        print(f"  adasim.simulate, Adam, compiled   {t_fast:8.3f} s   ({t_loop / t_fast:6.1f}x faster than the loop)")
    ratio = n_opt * t_loop / t_spec
    print(f"  adasim, the {n_opt} default optimizers   {t_spec:8.3f} s   ({ratio:6.1f}x faster than {n_opt} loops)")
    print(f"  `adasim run --steps {T}` (process) {t_cli:8.3f} s   ({n_opt * t_loop / t_cli:6.1f}x faster than {n_opt} loops)")
    print(f"  ns per step, adasim Adam: {1e9 * t_adam / T:.1f}; Python loop: {1e9 * t_loop / T:.1f}")
    np.set_printoptions(precision=3)


if __name__ == "__main__":
    main()
