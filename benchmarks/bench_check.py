"""`adasim check`: the whole battery for each kind of optimizer, beside baselines measured in the
same run (these machines are noisy: read the ratios, not the seconds).

    python benchmarks/bench_check.py [--jobs 2] [--only adasim,torch,optax,prodigy]

For each optimizer: the battery's wall time as a process (`adasim check SPEC`, the default two
jobs, and `--quick`), and a baseline: the same number of optimizer steps on the same lane counts
written as the plainest loop a user would write (adasim's: the compiled block stream; torch: a
Python loop of `opt.step()` on one tensor; optax: a jitted update called in a Python loop). The
ratio is what the check adds to stepping the optimizer (gradients, projection, observers, twin
lanes, the SGD baseline, process start-up). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

from adasim.checks.cases import CASES

SPECS = {
    "adasim": "adam",
    "torch": "torch:torch.optim.Adam",
    "optax": "optax:optax.adam",
    "prodigy": "torch:pytorch_optimizer.Prodigy",
}


def lane_steps() -> list[tuple[int, int]]:
    """(lanes, steps) of every case as the check runs it for a stacked optimizer."""
    from adasim.checks.adapters import DRIFT_TWINS, TWINS

    out = []
    for c in CASES.values():
        twins = 0 if not (c.problem.x_independent and c.dim == 1) else (max(TWINS, DRIFT_TWINS) if c.expect == "drift" else TWINS)
        out.append((c.seeds * (1 + twins), c.steps))
    return out


def process(args: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "adasim", "check", *args], capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"adasim check {' '.join(args)} failed: {done.stderr.strip()}")
    return time.perf_counter() - began


def baseline_adasim() -> float:
    from adasim import Adam, Online, iterate

    began = time.perf_counter()
    for lanes, steps in lane_steps():
        for _ in iterate(Online(C=10.0), Adam(lr=0.01), steps, np.arange(lanes), fields=()):
            pass
    return time.perf_counter() - began


def baseline_torch() -> float:
    import torch

    began = time.perf_counter()
    for lanes, steps in lane_steps():
        p = torch.zeros((lanes, 1), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=0.01)
        g = torch.ones((lanes, 1), dtype=torch.float64)
        for _ in range(steps):
            p.grad = g
            opt.step()
    return time.perf_counter() - began


def baseline_optax() -> float:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    tx = optax.adam(0.01)
    update = jax.jit(lambda p, s, g: (lambda u, s2: (optax.apply_updates(p, u), s2))(*tx.update(g, s, p)))
    began = time.perf_counter()
    for lanes, steps in lane_steps():
        p = jnp.zeros((lanes, 1))
        s = tx.init(p)
        g = jnp.ones((lanes, 1))
        for _ in range(steps):
            p, s = update(p, s, g)
        p.block_until_ready()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default=",".join(SPECS))
    args = parser.parse_args()
    baselines = {"adasim": baseline_adasim, "torch": baseline_torch, "optax": baseline_optax, "prodigy": baseline_torch}
    print(f"{'optimizer':34} {'battery s':>10} {'--quick s':>10} {'baseline s':>11} {'ratio':>7}")
    for kind in args.only.split(","):
        spec = SPECS[kind]
        try:
            base = baselines[kind]()
        except ImportError as err:
            print(f"{spec:34} skipped: {err}")
            continue
        full = process([spec, "--jobs", str(args.jobs)])
        quick = process([spec, "--quick"])
        print(f"{spec:34} {full:10.1f} {quick:10.1f} {base:11.1f} {full / base:7.2f}", flush=True)


if __name__ == "__main__":
    main()
