"""adasim.probe's overhead on a tiny character-level transformer trained on CPU, as the ratio of
the step time with the probe to without, in one run (these machines are noisy: read the ratio).

    python benchmarks/bench_probe.py [--steps 300] [--sample 1024]

The text is the source of Python's own `json` package (it ships with Python: nothing is
downloaded). Target (issue 31): at most 5 % more time per step at the default sample size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

import adasim

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from char_transformer import model_and_data  # the model and text of examples/probe_transformer.py


def train(steps: int, sample: int | None) -> tuple[float, object]:
    model, batch, vocab = model_and_data()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    probe = adasim.probe(opt, model=model, sample=sample, window=100) if sample else None
    gen = torch.Generator().manual_seed(1)
    times = []
    for _ in range(steps):
        x, y = batch(gen)
        began = time.perf_counter()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - began)
    times.sort()
    return sum(times[: len(times) // 2]) / (len(times) // 2), probe  # the faster half: noise from other processes left out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--sample", type=int, default=1024)
    args = parser.parse_args()
    torch.set_num_threads(1)
    off, _ = train(args.steps, None)
    on, probe = train(args.steps, args.sample)
    off2, _ = train(args.steps, None)
    base = min(off, off2)
    own = probe.report().settings["probe_seconds_per_step"]
    print(
        f"tiny transformer, {args.steps} steps, one thread: {base * 1e3:.2f} ms per step without the probe, "
        f"{on * 1e3:.2f} ms with it (sample {args.sample}): overhead {100 * (on / base - 1):.1f} % (target ≤ 5 %); "
        f"time inside the probe's hooks {own * 1e3:.2f} ms per step = {100 * own / base:.1f} % of a step"
    )
    print(probe.report())


if __name__ == "__main__":
    main()
