"""What the two probe examples share: the two optimizers they compare (torch's Adam, and adasim's
AdaShift as a torch optimizer, both β1 = 0.9, β2 = 0.999) and the command line that trains with
each in turn."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch

import adasim

WHICH = ("adam", "adashift")


def optimizer(which: str, params: Iterable[Any], lr: float) -> Any:
    """torch's Adam or adasim's AdaShift (n = 1) through adasim.as_torch."""
    if which == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999))
    return adasim.as_torch(adasim.AdaShift(n=1, beta1=0.9, beta2=0.999), params, lr=lr)


def main(train: Callable[[str, int, Path], None], steps: int) -> None:
    """`--steps`, `--out`: train(which, steps, out) for each optimizer, on one thread."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    for which in WHICH:
        train(which, args.steps, args.out)
