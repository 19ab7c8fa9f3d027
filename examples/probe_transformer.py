"""The probe on a real task: a tiny character-level transformer trained on CPU on the source of
Python's own `json` package (it ships with Python: nothing is downloaded), once with torch's Adam
and once with adasim's AdaShift as a torch optimizer (adasim.as_torch), each watched by
adasim.probe. Prints the per-layer table of each and writes out/probe-adam.json, probe-adashift.json
and their figures.

    python examples/probe_transformer.py [--steps 600] [--out out/]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import adasim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from char_transformer import model_and_data  # the same model and text as benchmarks/bench_probe.py
from probe_common import main, optimizer  # the two optimizers compared, the command line


def train(which: str, steps: int, out: Path) -> None:
    model, batch, vocab = model_and_data()
    opt = optimizer(which, model.parameters(), lr=3e-3)
    probe = adasim.probe(opt, model=model, window=100)
    gen = torch.Generator().manual_seed(1)
    for step in range(1, steps + 1):
        x, y = batch(gen)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"{which} step {step}: loss {loss.item():.3f}", flush=True)
    report = probe.report()
    report.write(out / f"probe-{which}.json")
    from adasim.io import write_figure

    write_figure(out / f"probe-{which}.png", report.plot())
    print(report)


if __name__ == "__main__":
    main(train, steps=600)
