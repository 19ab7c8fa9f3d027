"""Sweep speed and memory, as ratios against baselines measured in the same run (issue: sweeps).

    python benchmarks/bench_sweep.py [--lanes 10000] [--steps 1000] [--memory-lanes 100000]

Baselines: a hand-fused NumPy loop over time (the same Adam recurrence, all lanes per step),
numba's compiled loop when numba is installed, and torch.optim.Adam batched over the lanes when
torch is installed. Nothing is asserted: the numbers are printed for the record.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import subprocess
import sys
import time

import numpy as np

from adasim import Adam, Online, Stochastic, simulate
from adasim.analysis import empirical_nuf

C = 10.0


def grads(T: int) -> np.ndarray:
    t = np.arange(1, T + 1)
    return np.where((t - 1) % 3 == 0, C, -1.0)


def numpy_fused(L: int, T: int, beta2: np.ndarray) -> np.ndarray:
    """Adam (β1 = 0.9, bias correction, ε outside) on all lanes, one vectorised step at a time."""
    g_seq = grads(T)
    m = np.zeros(L)
    v = np.zeros(L)
    x = np.zeros(L)
    b1 = 0.9
    for t in range(1, T + 1):
        g = g_seq[t - 1]
        m = b1 * m + (1 - b1) * g
        v = beta2 * v + (1 - beta2) * g * g
        step = 0.01 * (m / (1 - b1**t)) / (np.sqrt(v / (1 - beta2**t)) + 1e-8)
        x = np.minimum(np.maximum(x - step, -1.0), 1.0)
    return x


def numba_fused(L: int, T: int, beta2: np.ndarray) -> tuple[float, np.ndarray] | None:
    if importlib.util.find_spec("numba") is None:
        return None
    import numba

    @numba.njit(cache=False, fastmath=False)
    def kernel(beta2, g_seq):  # pragma: no cover - compiled
        L = beta2.shape[0]
        out = np.zeros(L)
        for lane in range(L):
            m = v = x = 0.0
            b2 = beta2[lane]
            p1 = p2 = 1.0
            for t in range(g_seq.shape[0]):
                g = g_seq[t]
                p1 *= 0.9
                p2 *= b2
                m = 0.9 * m + 0.1 * g
                v = b2 * v + (1 - b2) * g * g
                x = min(max(x - 0.01 * (m / (1 - p1)) / (math.sqrt(v / (1 - p2)) + 1e-8), -1.0), 1.0)
            out[lane] = x
        return out

    g_seq = grads(T)
    kernel(beta2[:2], g_seq[:10])  # compile outside the timing
    start = time.perf_counter()
    out = kernel(beta2, g_seq)
    return time.perf_counter() - start, out


def torch_batched(L: int, T: int, beta2: float) -> float | None:
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    g_seq = torch.tensor(grads(T), dtype=torch.float64)
    x = torch.zeros(L, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.01, betas=(0.9, beta2), eps=1e-8)
    start = time.perf_counter()
    with torch.no_grad():
        for t in range(T):
            x.grad = torch.full_like(x, g_seq[t])
            opt.step()
            x.clamp_(-1.0, 1.0)
    return time.perf_counter() - start


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_rss_of_sweep(lanes: int, steps: int) -> float:
    """Peak resident memory (MiB) of a separate process that sweeps `lanes` cells."""
    # VmHWM (not ru_maxrss, which keeps the parent's peak across fork + exec)
    code = (
        "from adasim.sweep import make_plan, run_sweep;"
        f"p = make_plan('reddi-thm1', ['beta2=0.001:0.999:{lanes}'], optimizers=['adam'], steps={steps}, force=True);"
        "run_sweep(p, workers=1);"
        "print([int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--memory-lanes", type=int, default=100_000)
    parser.add_argument("--nuf-seeds", type=int, default=100)
    parser.add_argument("--nuf-steps", type=int, default=100_000)
    args = parser.parse_args()
    L, T = args.lanes, args.steps
    beta2 = np.linspace(0.5, 0.999, L)
    per = L * T

    simulate(Online(C=C), Adam(), 10)  # imports outside the timing
    t_scan = timed(lambda: simulate(Online(C=C), Adam(lr=0.01, beta2=beta2), T, stride=T, log_spaced=False))
    t_sim = timed(
        lambda: simulate(Online(C=C), Adam(lr=0.01, beta2=beta2), T, stride=T, log_spaced=False, projection="sequential")
    )
    t_same = timed(lambda: simulate(Online(C=C), Adam(lr=0.01, beta2=0.99), T, seeds=np.arange(L), stride=T, log_spaced=False,
                                    projection="sequential"))  # fmt: skip
    t_np = timed(lambda: numpy_fused(L, T, beta2))
    print(f"{L:,} lanes × {T:,} steps of Adam on the online problem (ns per lane-step)")
    print(f"  adasim scan projection, β2 per lane {1e9 * t_scan / per:6.1f}   (the default for runs)")
    print(f"  adasim sequential, β2 per lane    {1e9 * t_sim / per:8.1f}   (what sweeps use)")
    print(f"  adasim sequential, one β2         {1e9 * t_same / per:8.1f}")
    print(f"  hand-fused NumPy loop over time   {1e9 * t_np / per:8.1f}   (adasim / it: {t_sim / t_np:5.2f}x)")
    nb = numba_fused(L, T, beta2)
    if nb is None:
        print("  numba compiled loop               skipped: numba is not installed")
    else:
        print(f"  numba compiled loop               {1e9 * nb[0] / per:8.1f}   (adasim / it: {t_sim / nb[0]:5.2f}x)")
    tt = torch_batched(L, T, 0.99)
    if tt is None:
        print("  torch.optim.Adam, batched         skipped: torch is not installed")
    else:
        print(f"  torch.optim.Adam, batched         {1e9 * tt / per:8.1f}   (adasim one-β2 / it: {t_same / tt:5.2f}x)")

    t_nuf = timed(lambda: empirical_nuf(Stochastic(C=101.0, delta=0.02), Adam(beta1=0.0, beta2=0.999), args.nuf_steps,
                                        seeds=np.arange(args.nuf_seeds), samples=0))  # fmt: skip
    lane_steps = args.nuf_seeds * args.nuf_steps
    whole = t_nuf * 1e8 / lane_steps
    print(f"stochastic net-update-factor analysis: {args.nuf_seeds:,} seeds × {args.nuf_steps:,} steps in {t_nuf:.2f} s "
          f"({1e9 * t_nuf / lane_steps:.1f} ns per lane-step; 10^3 × 10^5 would take about {whole:.0f} s)")  # fmt: skip
    mib = peak_rss_of_sweep(args.memory_lanes, 200)
    print(f"peak memory of a {args.memory_lanes:,}-lane sweep (200 steps, one process): {mib:.0f} MiB")


if __name__ == "__main__":
    main()
