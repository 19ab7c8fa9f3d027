"""The engine's speed (the single-definition engine issue), as ratios against baselines measured
in this run, in this process:

    python benchmarks/bench_engine.py [--lanes 10000] [--steps 1000] [--single-steps 1000000]
                                      [--nuf-seeds 1000] [--nuf-steps 100000] [--repeat 3] [--markdown]

1. 10^4 lanes of Adam on Reddi's online problem: adasim's compiled executor (the block stream with
   nothing recorded, and `simulate` recording x only) against a hand-written lane-inner numba loop
   of the same arithmetic (identical final x, checked), a naive NumPy loop over the lanes and
   batched torch.optim.Adam (one thread; skipped without torch).
2. One lane, 10^6 steps (`simulate`, default trace): against a hand-fused compiled loop and a plain
   Python loop of the same recurrence.
3. Net-update-factor analysis of 10^3 seeds × 10^5 steps of the stochastic problem, in-process.
4. `adasim sweep` of 10^4 cells × 2·10^5 steps as a whole process, against a naive NumPy loop over
   the same lanes (run here in the same process) and the same arithmetic as a jitted
   jax.lax.scan script in float64, also a whole process (skipped without jax).
5. `adasim --help` as a process.

Each time is the best of --repeat runs (these machines are noisy: read the ratios, not the
seconds). Nothing is asserted; the targets are printed beside the measurements.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from timing import best

from adasim import Adam, Online, Schedule, Stochastic, simulate
from adasim.analysis import empirical_nuf
from adasim.engine import iterate
from adasim.engine.simulate import DEFAULT_RECORDS, recorded_steps
from adasim.optimizers.base import TINY_POWER

C, LR, BETA1, BETA2, EPS = 10.0, 0.01, 0.9, 0.999, 1e-8  # Adam on Reddi's online problem (d = 3, k = 1)


def online_gradients(T: int) -> np.ndarray:
    t = np.arange(1, T + 1)
    return np.where((t - 1) % 3 == 0, C, -1.0)


def hand_numba():
    """The hand-written lane-inner loop: time outside, lanes inside, Adam's arithmetic as adasim's
    definition writes it (bias corrections once per step), the projection and nothing else."""
    import numba

    @numba.njit(error_model="numpy")
    def run(g_seq, x, m, v):  # pragma: no cover - compiled
        p1 = p2 = 1.0
        for t in range(g_seq.shape[0]):
            g = g_seq[t]
            p1 = p1 * BETA1
            p1 = 0.0 if p1 < TINY_POWER else p1
            p2 = p2 * BETA2
            p2 = 0.0 if p2 < TINY_POWER else p2
            a1 = 1.0 / (1.0 - p1)
            r2 = 1.0 / math.sqrt(1.0 - p2)
            for i in range(x.shape[0]):
                mm = (1.0 - BETA1) * g + BETA1 * m[i]
                vv = (1.0 - BETA2) * (g * g) + BETA2 * v[i]
                m[i] = mm
                v[i] = vv
                post = a1 * (1.0 / (math.sqrt(vv) * r2 + EPS))
                y = x[i] - LR * post * mm
                y = y if y >= -1.0 else -1.0
                x[i] = y if y <= 1.0 else 1.0

    return run


def numpy_loop(T: int, lanes: int) -> np.ndarray:
    """A naive NumPy loop over the lanes: one vectorised Adam step at a time."""
    g_seq = online_gradients(T)
    m, v, x = np.zeros(lanes), np.zeros(lanes), np.zeros(lanes)
    p1 = p2 = 1.0
    for t in range(T):
        g = g_seq[t]
        p1, p2 = p1 * BETA1, p2 * BETA2
        m = BETA1 * m + (1 - BETA1) * g
        v = BETA2 * v + (1 - BETA2) * g * g
        x = np.clip(x - LR * (m / (1 - p1)) / (np.sqrt(v / (1 - p2)) + EPS), -1.0, 1.0)
    return x


def torch_batched(T: int, lanes: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    g_seq = torch.tensor(online_gradients(T), dtype=torch.float64)

    def run() -> None:
        param = torch.zeros(lanes, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([param], lr=LR, betas=(BETA1, BETA2), eps=EPS)
        for t in range(T):
            param.grad = torch.full((lanes,), float(g_seq[t]), dtype=torch.float64)
            opt.step()
            with torch.no_grad():
                param.clamp_(-1.0, 1.0)

    run()  # its first call pays a one-off set-up
    return best(run, 2)


def python_adam(T: int) -> float:
    beta2, lr = 1.0 / (1.0 + C * C), 0.5
    m = v = x = 0.0
    p2 = 1.0
    for t in range(1, T + 1):
        g = C if (t - 1) % 3 == 0 else -1.0
        m = g  # β1 = 0
        v = beta2 * v + (1 - beta2) * g * g
        p2 *= beta2
        x = min(max(x - lr / math.sqrt(t) * m / (math.sqrt(v / (1 - p2)) + EPS), -1.0), 1.0)
    return x


def hand_single():
    import numba

    @numba.njit(error_model="numpy")
    def run(T):  # pragma: no cover - compiled
        beta2, lr = 1.0 / (1.0 + C * C), 0.5
        v = x = 0.0
        p2 = 1.0
        for t in range(1, T + 1):
            g = C if (t - 1) % 3 == 0 else -1.0
            v = beta2 * v + (1 - beta2) * g * g
            p2 = p2 * beta2
            p2 = 0.0 if p2 < TINY_POWER else p2
            r2 = 1.0 / math.sqrt(1.0 - p2)
            x = x - lr / math.sqrt(t) * g / (math.sqrt(v) * r2 + EPS)
            x = min(max(x, -1.0), 1.0)
        return x

    run(10)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lanes", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--single-steps", type=int, default=1_000_000)
    parser.add_argument("--nuf-seeds", type=int, default=1_000)
    parser.add_argument("--nuf-steps", type=int, default=100_000)
    parser.add_argument("--sweep-cells", type=int, default=10_000)
    parser.add_argument("--sweep-steps", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print the table of docs/performance.md")
    args = parser.parse_args()
    L, T = args.lanes, args.steps
    rows: list[tuple[str, str, str, str, str]] = []

    # 1. many lanes
    adam = Adam(lr=LR, beta1=BETA1, beta2=BETA2, eps=EPS)
    problem = Online(C=C)

    def stream() -> np.ndarray:
        for blk in iterate(problem, adam, T, np.arange(L), fields=()):
            last = blk
        return last.x_end

    x_stream = stream()  # compiles (or loads) outside the timing
    t_stream = best(stream, args.repeat)
    simulate(problem, adam, T, np.arange(L), record=("x",))
    t_sim = best(lambda: simulate(problem, adam, T, np.arange(L), record=("x",)), args.repeat)
    rows_kept = len(recorded_steps(T, max(1, -(-T // DEFAULT_RECORDS)), True))

    def write_trace() -> None:  # the floor under recording: the trace's own fresh memory, written once
        np.empty((rows_kept, L)).fill(1.0)

    t_write = best(write_trace, args.repeat)
    T_long = 20 * T  # long enough that the default density (about 2000 + 400 rows) is not every step

    def stream_long() -> None:
        for _ in iterate(problem, adam, T_long, np.arange(L), fields=()):
            pass

    stream_long()
    t_stream_long = best(stream_long, args.repeat)
    t_sim_long = best(lambda: simulate(problem, adam, T_long, np.arange(L), record=("x",)), args.repeat)
    hand = hand_numba()
    g_seq = online_gradients(T)
    arrays = [np.zeros(L) for _ in range(3)]
    hand(g_seq, *arrays)
    x_hand = None

    def hand_run() -> None:
        nonlocal x_hand
        x, m, v = np.zeros(L), np.zeros(L), np.zeros(L)
        hand(g_seq, x, m, v)
        x_hand = x

    t_hand = best(hand_run, args.repeat)
    same = np.array_equal(x_hand, x_stream[:, 0])
    t_numpy = best(lambda: numpy_loop(T, L), args.repeat)
    t_torch = torch_batched(T, L)
    ns = 1e9 / (L * T)
    print(f"1. {L:,} lanes × {T:,} steps of Adam on the online problem (ns per lane-step)")
    print(f"   adasim, block stream          {t_stream * ns:6.2f}   (target ≤ 1.2)")
    print(f"   adasim.simulate, x recorded   {t_sim * ns:6.2f}   simulate/stream = {t_sim / t_stream:4.2f}× (target ≤ 1.5×); "
          f"every one of the {T:,} steps is recorded ({rows_kept:,} rows), and writing that much fresh memory alone takes "
          f"{t_write * ns:4.2f}: simulate/(stream + that write) = {t_sim / (t_stream + t_write):4.2f}×")  # fmt: skip
    rows_long = len(recorded_steps(T_long, -(-T_long // DEFAULT_RECORDS), True))
    print(f"   the same at {T_long:,} steps ({rows_long:,} rows recorded): "
          f"stream {t_stream_long * 1e9 / (L * T_long):4.2f}, simulate with x {t_sim_long * 1e9 / (L * T_long):4.2f}, "
          f"simulate/stream = {t_sim_long / t_stream_long:4.2f}× (target ≤ 1.5×)")  # fmt: skip
    print(f"   hand-written numba loop       {t_hand * ns:6.2f}   adasim/hand = {t_stream / t_hand:4.2f}× (target ≤ 1.3×); "
          f"final x identical: {same}")  # fmt: skip
    print(f"   naive NumPy loop              {t_numpy * ns:6.2f}   {t_numpy / t_stream:5.1f}× slower than adasim")
    if t_torch is None:
        print("   torch.optim.Adam batched      skipped: torch is not installed")
    else:
        ratio = t_torch / t_stream
        print(f"   torch.optim.Adam batched      {t_torch * ns:6.2f}   {ratio:5.1f}× slower than adasim (target ≥ 4×)")
    rows.append((f"{L:,} lanes × {T:,} steps of Adam, online (ns per lane-step)", f"{t_stream * ns:.2f}",
                 f"hand-written numba loop {t_hand * ns:.2f}", f"{t_stream / t_hand:.2f}×", "≤ 1.2 ns, ≤ 1.3×"))  # fmt: skip
    if t_torch is not None:
        rows.append(("the same against torch.optim.Adam, batched, one thread", f"{t_stream * ns:.2f}",
                     f"torch {t_torch * ns:.2f}", f"{t_torch / t_stream:.1f}× faster", "≥ 4×"))  # fmt: skip
    rows.append(("the same against a naive NumPy loop", f"{t_stream * ns:.2f}", f"NumPy {t_numpy * ns:.2f}",
                 f"{t_numpy / t_stream:.1f}× faster", ""))  # fmt: skip
    rows.append(
        (
            "`simulate` with x recorded at every step, against the block stream",
            f"{t_sim * ns:.2f}",
            f"stream {t_stream * ns:.2f} + writing the trace {t_write * ns:.2f}",
            f"{t_sim / t_stream:.2f}×",
            "≤ 1.5×",
        )
    )
    rows.append(
        (
            f"`simulate` with x recorded, {T_long:,} steps ({rows_long:,} rows)",
            f"{t_sim_long * 1e9 / (L * T_long):.2f}",
            f"stream {t_stream_long * 1e9 / (L * T_long):.2f}",
            f"{t_sim_long / t_stream_long:.2f}×",
            "≤ 1.5×",
        )
    )

    # 2. one lane
    S = args.single_steps
    single = Adam(lr=0.5, beta1=0.0, beta2=1 / (1 + C * C), eps=EPS, schedule=Schedule("inv-sqrt"))
    simulate(problem, single, 10)
    t_one = best(lambda: simulate(problem, single, S), args.repeat)
    hs = hand_single()
    t_hs = best(lambda: hs(S), args.repeat)
    t_py = best(lambda: python_adam(S), 1)
    print(f"2. one lane, {S:,} steps, default trace (s)")
    print(f"   adasim.simulate               {t_one:7.3f}")
    print(f"   hand-fused numba loop         {t_hs:7.3f}   adasim/hand = {t_one / t_hs:4.2f}× (target ≤ 1.5×)")
    print(f"   plain Python loop             {t_py:7.3f}   {t_py / t_one:5.1f}× slower than adasim (target ≥ 30×)")
    rows.append((f"one lane, {S:,} steps, default trace (s)", f"{t_one:.3f}",
                 f"hand-fused numba {t_hs:.3f} / Python {t_py:.2f}", f"{t_one / t_hs:.2f}× / {t_py / t_one:.0f}× faster",
                 "≤ 1.5× / ≥ 30×"))  # fmt: skip

    # 3. net update factors
    iid = Stochastic(C=10.0, p=0.2)
    nuf_opt = Adam(beta1=0.0, beta2=0.9, eps=0.0, lr=1e-3)
    empirical_nuf(iid, nuf_opt, 1000, seeds=np.arange(args.nuf_seeds))
    t_nuf = best(lambda: empirical_nuf(iid, nuf_opt, args.nuf_steps, seeds=np.arange(args.nuf_seeds), samples=0), args.repeat)
    print(f"3. net update factors, {args.nuf_seeds:,} seeds × {args.nuf_steps:,} steps: {t_nuf:.2f} s (target ≤ 1 s)")
    what = f"net-update-factor analysis, {args.nuf_seeds:,} seeds × {args.nuf_steps:,} steps"
    rows.append((what, f"{t_nuf:.2f} s", "", "", "≤ 1 s"))

    # 4. a sweep as a process
    cells, steps = args.sweep_cells, args.sweep_steps
    side = math.isqrt(cells)
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "adasim", "sweep", "reddi-fig1-online", "-o", "adam", "-g", f"beta1=0:0.9:{side}",
               "-g", f"beta2=log:0.5:0.999:{side}", "--steps", str(steps), "--no-drift", "--json"]  # fmt: skip
        env = {**os.environ, "COLUMNS": "200"}
        warm = [*cmd[: cmd.index("--steps") + 1], "100", *cmd[cmd.index("--steps") + 2 :]]
        subprocess.run(warm, check=True, capture_output=True, env=env, cwd=out)  # compiles the same kernel, untimed
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=out)
        t_sweep = time.perf_counter() - start
    lanes = side * side
    beta2 = np.geomspace(0.5, 0.999, side)
    t_np_sweep = best(lambda: numpy_loop_lanes(min(steps, 5000), np.tile(beta2, side)), 1) * steps / min(steps, 5000)
    print(f"4. `adasim sweep`, {lanes:,} cells × {steps:,} steps, as a process: {t_sweep:.1f} s; "
          f"a naive NumPy loop over the same lanes {t_np_sweep:.1f} s: {t_np_sweep / t_sweep:.1f}× (target ≥ 2.5×)")  # fmt: skip
    rows.append((f"`adasim sweep`, {lanes:,} cells × {steps:,} steps, whole process (s)", f"{t_sweep:.1f}",
                 f"naive NumPy loop {t_np_sweep:.1f}", f"{t_np_sweep / t_sweep:.1f}× faster", "≥ 2.5×"))  # fmt: skip
    t_jax = jax_scan_process(side, steps)
    if t_jax is None:
        print("   the same work as a jitted jax.lax.scan script: skipped (jax is not installed: pip install 'adasim[jax]')")
    else:
        print(f"   the same work as a jitted jax.lax.scan script (float64, one process, import and compile included): "
              f"{t_jax:.1f} s: adasim/jax = {t_sweep / t_jax:.2f} (target ≤ 1)")  # fmt: skip
        rows.append(("`adasim sweep` against a jitted jax.lax.scan script, whole processes (s)", f"{t_sweep:.1f}",
                     f"jax {t_jax:.1f}", f"{t_sweep / t_jax:.2f}×", "≤ 1×"))  # fmt: skip

    # 5. start-up
    t_help = best(lambda: subprocess.run([sys.executable, "-m", "adasim", "--help"], check=True, capture_output=True), 3)
    print(f"5. `adasim --help`: {t_help:.2f} s (target ≤ 0.5 s)")
    rows.append(("`adasim --help` (s)", f"{t_help:.2f}", "", "", "≤ 0.5 s"))

    if args.markdown:
        print("\n| | adasim | baseline | ratio | target |\n|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")


JAX_SCRIPT = """
import math, sys
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
side, T = int(sys.argv[1]), int(sys.argv[2])
beta1 = jnp.repeat(jnp.linspace(0.0, 0.9, side), side)
beta2 = jnp.tile(jnp.geomspace(0.5, 0.999, side), side)
EPS = 1e-8

def step(carry, t):
    m, v, x, p1, p2 = carry
    g = jnp.where((t - 1) % 101 == 0, 1010.0, -10.0)
    p1, p2 = p1 * beta1, p2 * beta2
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    x = jnp.clip(x - 0.5 / jnp.sqrt(t) * (m / (1 - p1)) / (jnp.sqrt(v / (1 - p2)) + EPS), -1.0, 1.0)
    return (m, v, x, p1, p2), None

@jax.jit
def run(ts):
    z = jnp.zeros(side * side)
    o = jnp.ones(side * side)
    (m, v, x, p1, p2), _ = jax.lax.scan(step, (z, z, z, o, o), ts)
    return x

print(float(run(jnp.arange(1, T + 1, dtype=jnp.float64)).block_until_ready().mean()))
"""


def jax_scan_process(side: int, steps: int) -> float | None:
    """The sweep's arithmetic (Adam per lane on Reddi's Fig. 1 online problem, β1 × β2 grid) as a
    jitted jax.lax.scan in float64, timed as a whole process; None without jax."""
    import importlib.util

    if importlib.util.find_spec("jax") is None:
        return None
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(side), str(steps)], check=False, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the jax baseline failed: {done.stderr.strip().splitlines()[-1]}")
    return time.perf_counter() - start


def numpy_loop_lanes(T: int, beta2: np.ndarray) -> np.ndarray:
    """The naive NumPy loop with β2 per lane (a sweep's lanes), on Reddi's Fig. 1 online problem."""
    t_all = np.arange(1, T + 1)
    g_seq = np.where((t_all - 1) % 101 == 0, 1010.0, -10.0)
    lanes = beta2.shape[0]
    beta1 = np.repeat(np.linspace(0, 0.9, math.isqrt(lanes)), math.isqrt(lanes))[:lanes]
    m, v, x = np.zeros(lanes), np.zeros(lanes), np.zeros(lanes)
    p1, p2 = np.ones(lanes), np.ones(lanes)
    for t in range(T):
        g = g_seq[t]
        p1, p2 = p1 * beta1, p2 * beta2
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = np.clip(x - 0.5 / math.sqrt(t + 1) * (m / (1 - p1)) / (np.sqrt(v / (1 - p2)) + EPS), -1.0, 1.0)
    return x


if __name__ == "__main__":
    main()
