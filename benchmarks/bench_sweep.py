"""Sweep speed and memory (the sweeps issue), as ratios against baselines measured in this run.

    python benchmarks/bench_sweep.py [--lanes 10000] [--steps 1000] [--single-steps 1000000]
                                     [--nuf-seeds 1000] [--nuf-steps 100000] [--memory-lanes 1000000]

Baselines, all in this process: a hand-fused compiled loop of the same Adam recurrence written here
with numba (the reference; skipped without numba), a hand-fused NumPy loop over time, a plain
Python loop (single lane), and torch.optim.Adam batched over the lanes (skipped without torch).
Each time is the best of --repeat runs (the machines are noisy: read the ratios). Nothing is
asserted; the targets are printed beside the measurements.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import subprocess
import sys
from collections.abc import Callable

import numpy as np
from timing import best

from adasim import Adam, Online, Stochastic, compiled, simulate
from adasim.analysis import empirical_nuf
from adasim.sweep import make_plan, run_sweep

C, LR, BETA1 = 10.0, 0.01, 0.9  # Adam on Reddi et al.'s online problem (d = 3, k = 1), ε = 1e-8 outside
TINY = 2.0**-54  # below it 1 − β^t is 1: the loops stop multiplying (as adasim's powers)


def grads(T: int) -> np.ndarray:
    t = np.arange(1, T + 1)
    return np.where((t - 1) % 3 == 0, C, -1.0)


def numpy_fused(T: int, beta2: np.ndarray) -> np.ndarray:
    """Adam on all lanes, one vectorised step at a time (bias corrections by running products)."""
    g_seq = grads(T)
    m, v, x = np.zeros_like(beta2), np.zeros_like(beta2), np.zeros_like(beta2)
    p1, p2 = 1.0, np.ones_like(beta2)
    for t in range(T):
        g = g_seq[t]
        p1 *= BETA1
        p2 = p2 * beta2
        m = BETA1 * m + (1 - BETA1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = np.minimum(np.maximum(x - LR * (m / (1 - p1)) / (np.sqrt(v / (1 - p2)) + 1e-8), -1.0), 1.0)
    return x


def numba_reference() -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """The hand-fused compiled loop: every lane's whole run in registers, nothing stored per step."""
    if importlib.util.find_spec("numba") is None:
        return None
    import numba

    @numba.njit(cache=False)
    def kernel(beta2, g_seq):  # pragma: no cover - compiled
        out = np.zeros(beta2.shape[0])
        for lane in range(beta2.shape[0]):
            m = v = x = 0.0
            b2 = beta2[lane]
            p1 = p2 = 1.0
            for t in range(g_seq.shape[0]):
                g = g_seq[t]
                p1 = p1 * BETA1 if p1 >= TINY else 0.0  # as adasim: no subnormal β^t (slow)
                p2 = p2 * b2 if p2 >= TINY else 0.0
                m = BETA1 * m + (1 - BETA1) * g
                v = b2 * v + (1 - b2) * g * g
                x = min(max(x - LR * (m / (1 - p1)) / (math.sqrt(v / (1 - p2)) + 1e-8), -1.0), 1.0)
            out[lane] = x
        return out

    kernel(np.array([0.9]), grads(10))  # compile outside the timing
    return kernel


def python_loop(T: int, beta2: float) -> float:
    """The same recurrence for one lane in plain Python."""
    m = v = x = 0.0
    p1 = p2 = 1.0
    for t in range(1, T + 1):
        g = C if (t - 1) % 3 == 0 else -1.0
        p1 = p1 * BETA1 if p1 >= TINY else 0.0
        p2 = p2 * beta2 if p2 >= TINY else 0.0
        m = BETA1 * m + (1 - BETA1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = min(max(x - LR * (m / (1 - p1)) / (math.sqrt(v / (1 - p2)) + 1e-8), -1.0), 1.0)
    return x


def torch_batched(L: int, T: int, beta2: float) -> Callable[[], object] | None:
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    torch.set_num_threads(1)  # one core, as adasim (a second thread here is slower, not faster)
    g_seq = torch.tensor(grads(T), dtype=torch.float64)

    def run() -> None:
        x = torch.zeros(L, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([x], lr=LR, betas=(BETA1, beta2), eps=1e-8)
        with torch.no_grad():
            for t in range(T):
                x.grad = torch.full_like(x, g_seq[t])
                opt.step()
                x.clamp_(-1.0, 1.0)

    return run


def peak_rss_of_sweep(lanes: int, steps: int) -> tuple[float, float]:
    """Peak resident memory (MiB) and seconds of a separate process that sweeps `lanes` cells."""
    # VmHWM (not ru_maxrss, which keeps the parent's peak across fork + exec)
    code = (
        "import time; from adasim.sweep import make_plan, run_sweep; s = time.perf_counter();"
        f"p = make_plan('reddi-thm1', ['beta2=0.001:0.999:{lanes}'], optimizers=['adam'], steps={steps}, force=True,"
        " with_drift=False);"
        "run_sweep(p, workers=1); s = time.perf_counter() - s;"
        "print([int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] / 1024, s)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    mib, seconds = out.stdout.strip().splitlines()[-1].split()
    return float(mib), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--single-steps", type=int, default=1_000_000)
    parser.add_argument("--nuf-seeds", type=int, default=1_000)
    parser.add_argument("--nuf-steps", type=int, default=100_000)
    parser.add_argument("--memory-lanes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    L, T, R = args.lanes, args.steps, args.repeat
    beta2 = np.linspace(0.5, 0.999, L)
    per = L * T
    engine = "compiled" if compiled.available() else "numpy"
    ref = numba_reference()

    def adasim(b2: object, lanes: int, steps: int, which: str = engine, **kw: object) -> object:
        seeds = np.arange(lanes) if np.ndim(b2) == 0 else 0
        opt = Adam(lr=LR, beta1=BETA1, beta2=b2)
        return simulate(Online(C=C), opt, steps, seeds, engine=which, projection="sequential", **kw)

    print(f"1. {L:,} lanes × {T:,} steps of Adam on the online problem, ns per lane-step (engine: {engine})")
    adasim(beta2[:2], 2, 10)  # imports and machine code outside the timing
    x_fast = adasim(beta2, L, T, stride=T, log_spaced=False).final_x[:, 0]
    t_fast = best(lambda: adasim(beta2, L, T, stride=T, log_spaced=False), R)
    t_same = best(lambda: adasim(0.99, L, T, stride=T, log_spaced=False), R)
    t_numpy = best(lambda: adasim(beta2, L, T, "numpy", stride=T, log_spaced=False), 1)
    t_fused = best(lambda: numpy_fused(T, beta2), R)
    print(f"   adasim, β2 per lane                {1e9 * t_fast / per:7.2f}   (target ≤ 6)")
    print(f"   adasim, one β2 over {L:,} lanes   {1e9 * t_same / per:7.2f}")
    print(f"   adasim NumPy engine (sequential)   {1e9 * t_numpy / per:7.2f}   (adasim / it: {t_fast / t_numpy:.2f}x)")
    print(f"   hand-fused NumPy loop              {1e9 * t_fused / per:7.2f}   (adasim / it: {t_fast / t_fused:.2f}x)")
    if ref is None:
        print("   hand-fused compiled loop (numba)   skipped: numba is not installed")
    else:
        x_ref = ref(beta2, grads(T))
        t_ref = best(lambda: ref(beta2, grads(T)), R)
        ratio, dx = t_fast / t_ref, np.max(np.abs(x_ref - x_fast))
        print(f"   hand-fused compiled loop (numba)   {1e9 * t_ref / per:7.2f}   (adasim / it: {ratio:.2f}x, target ≤ 1.5x;"
              f" max |Δx_T| = {dx:.1e})")  # fmt: skip
    torch_run = torch_batched(L, T, 0.99)
    if torch_run is None:
        print("   torch.optim.Adam, batched          skipped: torch is not installed")
    else:
        t_torch = best(torch_run, max(R, 2))  # the first call pays for torch's lazy set-up
        ratio = t_same / t_torch
        print(f"   torch.optim.Adam, batched, one β2  {1e9 * t_torch / per:7.2f}   (adasim one β2 / it: {ratio:.2f}x, target <1)")

    S = args.single_steps
    print(f"2. one lane, {S:,} steps (default trace: ~2,400 rows), seconds")
    t_one = best(lambda: adasim(0.99, 1, S), R)
    t_py = best(lambda: python_loop(S, 0.99), 1)
    print(f"   adasim                             {t_one:7.4f}")
    print(f"   plain Python loop                  {t_py:7.4f}   (it / adasim: {t_py / t_one:.1f}x, target ≥ 30x)")
    if ref is not None:
        t_ref1 = best(lambda: ref(np.array([0.99]), grads(S)), R)
        print(f"   hand-fused compiled loop (numba)   {t_ref1:7.4f}   (adasim / it: {t_one / t_ref1:.2f}x, target ≤ 2x)")

    n_seeds, n_steps = args.nuf_seeds, args.nuf_steps
    problem, adam = Stochastic(C=101.0, delta=0.02), Adam(beta1=0.0, beta2=0.999)
    t_nuf = best(lambda: empirical_nuf(problem, adam, n_steps, seeds=np.arange(n_seeds), samples=0), 1)
    print(f"3. stochastic net-update-factor analysis, {n_seeds:,} seeds × {n_steps:,} steps: {t_nuf:.1f} s "
          f"({1e9 * t_nuf / (n_seeds * n_steps):.1f} ns per lane-step)")  # fmt: skip

    cells = L
    plan = make_plan("reddi-thm1", [f"beta2=0.001:0.999:{cells}"], optimizers=["adam"], steps=T, force=True)
    t_sweep = best(lambda: run_sweep(plan, workers=1), 1)
    plan_nd = make_plan("reddi-thm1", [f"beta2=0.001:0.999:{cells}"], optimizers=["adam"], steps=T, force=True, with_drift=False)
    t_sweep_nd = best(lambda: run_sweep(plan_nd, workers=1), 1)
    print(f"4. run_sweep, {cells:,} cells × {T:,} steps, one process: {t_sweep:.2f} s with the closed-form drift per cell, "
          f"{t_sweep_nd:.2f} s without ({1e9 * t_sweep_nd / (cells * T):.1f} ns per lane-step)")  # fmt: skip
    mib, seconds = peak_rss_of_sweep(args.memory_lanes, 200)
    print(f"5. a {args.memory_lanes:,}-cell sweep (200 steps, no drift, one process): peak memory {mib:.0f} MiB "
          f"(target < 2048), {seconds:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
