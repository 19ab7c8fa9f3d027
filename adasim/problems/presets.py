"""Named presets: a problem with the settings a paper used, and where each number comes from.

Values may be callables of the resolved problem parameters (e.g. β2 = 1/(1+C²)), so that
overriding C on the command line keeps the preset's relation; they work on arrays as well, so a
sweep resolves them for every cell at once.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.settings import RunSettings

Setting = Any | Callable[[Mapping[str, Any]], Any]


def whole(x: Any) -> Any:
    """x rounded to a whole number (elementwise: relations are evaluated for a whole sweep at once)."""
    r = np.round(np.asarray(x, dtype=float)).astype(np.int64)
    return int(r) if r.ndim == 0 else r


# relations are module-level functions (not lambdas), so that a sweep can send them to its workers


def beta2_of_C(q: Mapping[str, Any]) -> Any:
    """Reddi et al.'s Theorem 1: β2 = 1/(1 + C²) (0 to double precision once C² overflows)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.asarray(q["C"], dtype=float) ** 2)


def period_of_C(q: Mapping[str, Any]) -> Any:
    """Shi et al.'s problem: the period is C."""
    return whole(q["C"])


DEFAULT_OPTIMIZERS = ("adam", "amsgrad", "adashift", "adopt")


@dataclass(frozen=True)
class Preset:
    """A problem family with parameters, optimizer hyper-parameters and run settings."""

    name: str
    problem: str
    params: Mapping[str, Setting]
    hyper: Mapping[str, Setting]
    run: RunSettings
    source: str
    choices: str = ""
    domain: str = "-1,1"
    optimizers: tuple[str, ...] = DEFAULT_OPTIMIZERS
    extra: Mapping[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="reddi-thm1",
            problem="online",
            params={"C": 10.0, "s": 1.0, "d": 3, "k": 1},
            hyper={"beta1": 0.0, "beta2": beta2_of_C, "lr": 0.5, "schedule": "inv-sqrt", "n": 1},
            run=RunSettings(steps=100_000, x0=0.0),
            source="Reddi, Kale & Kumar 2018, Theorem 1: C > 2, β1 = 0, β2 = 1/(1+C²), α_t = α/√t, F = [−1, 1]",
            choices="α = 0.5 and x_1 = 0 are adasim's choice (the theorem holds for any α); AdaShift n = 1, β1 = 0",
        ),
        Preset(
            name="reddi-fig1-online",
            problem="online",
            params={"C": 1010.0, "s": 10.0, "d": 101, "k": 1},
            hyper={"beta1": 0.9, "beta2": 0.99, "lr": 0.5, "schedule": "inv-sqrt", "n": 10},
            run=RunSettings(steps=1_000_000, x0=0.0),
            source="Reddi, Kale & Kumar 2018, Fig. 1 (left): gradients 1010 / −10, period 101, β1 = 0.9, β2 = 0.99",
            choices="α, T and x_1 are not stated in the paper: adasim uses α_t = 0.5/√t, T = 10^6, x_1 = 0; AdaShift n = 10",
        ),
        Preset(
            name="reddi-fig1-stochastic",
            problem="stochastic",
            params={"C": 1010.0, "s": 10.0, "p": 0.01},
            hyper={"beta1": 0.9, "beta2": 0.99, "lr": 0.5, "schedule": "inv-sqrt", "n": 10},
            run=RunSettings(steps=1_000_000, x0=0.0),
            source="Reddi, Kale & Kumar 2018, Fig. 1 (right): g = 1010 w.p. 0.01, else −10; β1 = 0.9, β2 = 0.99",
            choices="α, T and x_1 are not stated in the paper: adasim uses α_t = 0.5/√t, T = 10^6, x_1 = 0; AdaShift n = 10",
        ),
        Preset(
            name="adashift-stochastic",
            problem="stochastic",
            params={"C": 101.0, "s": 1.0, "delta": 0.02},
            hyper={
                "beta1": 0.0,
                "beta2": 0.999,
                "lr": 1e-3,
                "schedule": "constant",
                "eps": 1e-8,
                "eps_mode": "inside",
                "convention": "optax",
                "n": 1,
            },
            run=RunSettings(steps=10_000_000, x0=0.0, warmup=10_000),
            domain="none",
            optimizers=("adam", "amsgrad", "adashift"),
            source="Zhou et al. 2019 (AdaShift), the authors' stochastic script: C = 101, δ = 0.02, unconstrained, "
            "α = 1e-3, β2 = 0.999, ε = 1e-8 inside the root, 10^4 warm-up steps, 10^7 steps",
            choices="AMSGrad takes the max over the bias-corrected v (the script's choice = optax convention)",
        ),
        *(
            Preset(
                name=f"adopt-toy-k{k}",
                problem="stochastic",
                params={"C": float(k * k), "s": float(k), "p": 1.0 / k},
                hyper={"beta1": 0.9, "beta2": 0.999, "lr": 0.01, "schedule": "inv-sqrt-affine"},
                run=RunSettings(steps=2_000_000, x0=0.0),
                optimizers=("adam", "amsgrad", "adopt"),
                source=f"Taniguchi et al. 2024 (ADOPT), toy problem with k = {k}: C = k², s = k, p = 1/k (E g = 1), "
                "α_t = 0.01/√(1 + 0.01 t), β1 = 0.9, β2 ∈ {0.1, 0.5, 0.999}, 2·10^6 steps",
                choices="β2 = 0.999 of the paper's three; x_1 = 0 and F = [−1, 1] are adasim's reading of the paper",
            )
            for k in (10, 50)
        ),
        Preset(
            name="skewed-noise",
            problem="stochastic",
            params={"C": 4.0, "s": 1.0, "p": 0.3},
            hyper={"lr": 0.01, "schedule": "inv-sqrt"},  # each optimizer's own β (Lion's β2 is not Adam's)
            run=RunSettings(steps=100_000, x0=0.0),
            optimizers=("sgd", "adam", "signsgd", "signum", "lion"),
            source="adasim: g = 4 w.p. 0.3, else −1; the mean (0.5) and the median (−1) have opposite "
            "signs, so a method that follows the median's side climbs to the worst point +1",
            choices="C, p, α_t = 0.01/√t, x_1 = 0 are adasim's; a mild spike (C = 4) that Adam at β2 = 0.999 handles",
        ),
        Preset(
            name="rotated-reddi",
            problem="rotated",
            params={"base": "online", "C": 10.0, "s": 1.0, "d": 3, "k": 1, "theta": 0.5235987755982988},
            hyper={"lr": 0.01, "schedule": "constant", "beta1": 0.0, "beta2": 0.01, "n": 1},
            run=RunSettings(steps=20_000, x0=0.0),
            domain="none",
            optimizers=("sgd", "adam", "adashift", "signsgd"),
            source="Reddi, Kale & Kumar 2018, Theorem 1 (C = 10, β1 = 0, β2 = 1/(1+C²) ≈ 0.01) in 2-D, rotated by θ = π/6",
            choices="unconstrained (a box is itself coordinate-wise), α = 0.01 constant, x_1 = 0, AdaShift n = 1; "
            "θ is a sweep axis: -g theta=0:1.5708:17",
        ),
        Preset(
            name="shi-two-spike",
            problem="online",
            params={"C": 10.0, "s": 1.0, "d": period_of_C, "k": 2},
            hyper={"beta2": 0.6, "lr": 1.0, "schedule": "inv-sqrt"},
            run=RunSettings(steps=100_000, x0=0.0),
            optimizers=("rmsprop",),
            source="Shi et al. 2021 (ICLR), Fig. 1: RMSProp, period-C problem with two spikes, η_t = 1/√t; "
            "for C = 10 the transition lies between β2 = 0.63 and 0.64",
            choices="β2 = 0.6 (below the transition, so RMSProp fails) and x_1 = 0 are adasim's choice",
        ),
    )
}


def derive(settings: Mapping[str, Setting], context: Mapping[str, Any], given: Container[str] = ()) -> dict[str, Any]:
    """A preset's settings that are not `given`: constants as they are, relations (β2 = 1/(1+C²),
    d = C, ...) evaluated on the context (the problem's parameters, with each value derived before
    them) — elementwise, so that a sweep derives all its cells at once. The one function that
    resolves presets, for build_spec (and so the explorer) and for every sweep cell."""
    ctx = dict(context)
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key in given:
            continue
        out[key] = ctx[key] = value(ctx) if callable(value) else value
    return out
