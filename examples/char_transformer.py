"""A tiny character-level transformer and its data, shared by examples/probe_transformer.py and
benchmarks/bench_probe.py: two layers of width 128 over 64-character windows of the source of
Python's own `json` package (it ships with Python: nothing is downloaded)."""

from __future__ import annotations

import inspect
import json

import torch


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
