"""adasim.probe's overhead on a tiny character-level transformer trained on CPU, as the ratio of
the step time with the probe to without, in one run (these machines are noisy: read the ratio).

    python benchmarks/bench_probe.py [--steps 300] [--sample 1024]

The text is the source of Python's own `json` package (it ships with Python: nothing is
downloaded). Target (issue 31): at most 5 % more time per step at the default sample size.
"""

from __future__ import annotations

import argparse
import inspect
import json
import time

import torch

import adasim


def model_and_data(seed: int = 0):
    torch.manual_seed(seed)
    text = inspect.getsource(json.decoder) + inspect.getsource(json.encoder)
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text])
    vocab, d, context = len(chars), 128, 64

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(vocab, d)
            self.pos = torch.nn.Parameter(torch.zeros(context, d))
            layer = torch.nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.0, batch_first=True)
            self.body = torch.nn.TransformerEncoder(layer, 2)
            self.head = torch.nn.Linear(d, vocab)
            self.mask = torch.nn.Transformer.generate_square_subsequent_mask(context)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.body(self.embed(x) + self.pos, mask=self.mask, is_causal=True))

    def batch(gen: torch.Generator, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
        start = torch.randint(0, len(ids) - context - 1, (size,), generator=gen)
        x = torch.stack([ids[s : s + context] for s in start])
        y = torch.stack([ids[s + 1 : s + context + 1] for s in start])
        return x, y

    return Tiny(), batch, vocab


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
    print(f"tiny transformer, {args.steps} steps, one thread: {base * 1e3:.2f} ms per step without the probe, "
          f"{on * 1e3:.2f} ms with it (sample {args.sample}): overhead {100 * (on / base - 1):.1f} % (target ≤ 5 %); "
          f"time inside the probe's hooks {own * 1e3:.2f} ms per step = {100 * own / base:.1f} % of a step")
    print(probe.report())


if __name__ == "__main__":
    main()
