"""The probe on a second real task: a small MLP (64 → 128 → 10) on scikit-learn's handwritten
digits (they ship with scikit-learn: nothing is downloaded; pip install 'adasim[examples]'),
trained on CPU with torch's Adam and with adasim's AdaShift (adasim.as_torch), each watched by
adasim.probe. Prints each per-layer table and the held-out accuracy, writes out/probe-digits-*.json.

    python examples/probe_digits.py [--steps 1500] [--out out/]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import adasim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_common import main, optimizer  # the two optimizers compared, the command line


def data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("this example needs scikit-learn: pip install 'adasim[examples]'") from None
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    gen = torch.Generator().manual_seed(0)
    order = torch.randperm(len(y), generator=gen)
    train, test = order[:1400], order[1400:]
    return x[train], y[train], x[test], y[test]


def train(which: str, steps: int, out: Path) -> None:
    x, y, x_test, y_test = data()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = optimizer(which, model.parameters(), lr=1e-3)
    probe = adasim.probe(opt, model=model, window=250)
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        i = torch.randint(0, len(y), (32,), generator=gen)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i]), y[i]).backward()
        opt.step()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    report = probe.report()
    report.write(out / f"probe-digits-{which}.json")
    print(f"{which}: held-out accuracy {accuracy:.3f}")
    print(report)


if __name__ == "__main__":
    main(train, steps=1500)
