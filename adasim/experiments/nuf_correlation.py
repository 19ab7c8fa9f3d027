"""Net update factors of Adam, AdaShift and ADOPT on the stochastic problem, and the correlation
of g² with v against the shift n: the evidence that shifting decorrelates (docs/REFERENCE.md §3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from adasim.analysis.report import correlation_report, nuf_report, per_shift
from adasim.experiments import counter
from adasim.plots.nuf import figure_correlation, figure_nuf
from adasim.settings import RunSettings
from adasim.spec import build_spec

NAME = "nuf-correlation"
TITLE = "Net update factors and the v–g correlation: Adam against AdaShift and ADOPT"
SOURCE = "Zhou et al. 2019 (ICLR), §3; docs/REFERENCE.md §3"


def run(quick: bool = False, progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Figure], dict[str, Any]]:
    """`progress(done, total)` counts the optimizer runs: one per optimizer for the factors, one per
    optimizer and shift for the correlation."""
    steps, seeds = (20_000, 4) if quick else (200_000, 16)
    common = {"problem": {"C": 10.0, "p": 0.2}, "hyper": {"beta1": 0.0, "beta2": 0.9, "n": 1}}
    spec = build_spec("stochastic", optimizers=["adam", "adashift", "adopt"], run=RunSettings(steps=steps, seeds=range(seeds)),
                      **common)  # fmt: skip
    shifted = per_shift(spec.optimizers, [0, 1, 2, 4, 8])
    tick = counter(progress, len(spec.optimizers) + len(shifted))
    nuf = nuf_report(spec, progress=lambda _steps: tick())
    corr = correlation_report(spec, shifted, progress=lambda _steps: tick())
    numbers = {
        "settings": {**common, "steps": steps, "seeds": seeds},
        "nuf": nuf.as_dict()["results"],
        "correlation": [c.as_dict() for c in corr.results],
    }
    figures = {
        NAME: figure_nuf(nuf, "g = 10 w.p. 0.2 else −1, β1 = 0, β2 = 0.9"),
        f"{NAME}-shift": figure_correlation(corr, "Pearson(g², v) against the shift n (◇: closed form)"),
    }
    return figures, numbers
