"""`adasim check SPEC --against NAME`: does an implementation follow adasim's definition of NAME?

Both run with the same hyper-parameters on the same gradient sequences (each case's seeds, x_1,
projection and α_t), and the report gives the largest deviation of x_t and the first step at
which they part (|Δx| > tol·max(1, |x|)). The SPEC's keyword arguments are translated to
adasim's settings (torch's `betas`, `alpha`; optax's `b1`, `b2`, `decay`, `eps_in_sqrt`);
`adasim_kwargs` adds or overrides settings for adasim's side (the CLI's `--against-kw`). Defaults
are the implementations' own: optax.rmsprop puts ε inside the root by default, adasim's rmsprop
outside, so they part at step 1 unless `--against-kw eps_mode=inside` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from adasim.checks.adapters import CaseError, Loaded, load
from adasim.checks.cases import get_cases
from adasim.checks.runner import _Geometry
from adasim.errors import AdasimError

DEFAULT_CASES = ("reddi-thm1-C10", "reddi-fig1-stochastic", "adashift-stochastic")
# keyword arguments that mean "the default behaviour" when they have these values
NEUTRAL = {"weight_decay": 0.0, "amsgrad": False, "foreach": None, "maximize": False, "capturable": False,
           "differentiable": False, "fused": None, "centered": False, "momentum": 0.0, "lr_decay": 0.0,
           "initial_accumulator_value": 0.0, "nesterov": False, "dampening": 0.0, "eps_root": 0.0}  # fmt: skip


# keyword arguments that turn a reference into the named adasim definition: torch's Adam with
# amsgrad=True is AMSGrad; pytorch-optimizer's AdEMAMix with no slow EMA (α = 0) and its cautious
# mask is Cautious Adam (pytorch-optimizer has no cautious plain Adam)
MAKES = {("amsgrad", "amsgrad", True), ("cautious-adam", "cautious", True), ("cautious-adam", "alpha", 0.0)}


# optax.adafactor's and torch.optim.Adafactor's names for adasim's Adafactor settings
ADAFACTOR = {
    "clipping_threshold": lambda v: {"clip": False} if v is None else {"clip": True, "clip_threshold": float(v)},
    "d": lambda v: {"clip_threshold": float(v)},
    "multiply_by_parameter_scale": lambda v: {"param_scale": bool(v)},
    "decay_rate": lambda v: {"decay": float(v)},
    "beta2_decay": lambda v: {"decay": -float(v)},
    "momentum": lambda v: {"beta1": 0.0 if v is None else float(v)},
    "eps": lambda v: (
        {"eps": float(np.finfo(float).eps if v[0] is None else v[0]), "eps2": float(v[1])}
        if isinstance(v, tuple | list)
        else {"eps": float(v)}
    ),  # torch: (ε1 or None = machine ε, ε2)
    "min_dim_size_to_factor": lambda v: {},  # one lane is a vector: never factored by optax or torch
    "factored": lambda v: {},
}


def translate(kwargs: dict[str, Any], name: str = "") -> dict[str, Any]:
    """The SPEC's keyword arguments as adasim settings (an AdasimError for one adasim has no
    counterpart for; pass it for adasim's side with --against-kw)."""
    from adasim.optimizers import definition

    d = definition(name) if name else None
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in ("lr", "learning_rate"):
            continue
        if key == "betas":
            out["beta1"], out["beta2"] = float(value[0]), float(value[1])
        elif key in ("b1", "b2", "b3"):
            out["beta" + key[1]] = float(value)
        elif key == "beta" and name == "signum":  # optax.signum's single β
            out["beta1"] = float(value)
        elif (name, key, value) in MAKES:
            continue
        elif key == "alpha" and name == "ademamix":  # AdEMAMix's α: the weight of the slow EMA
            out["mix"] = float(value)
        elif key in ("alpha", "decay"):  # torch RMSprop's α, optax rmsprop's decay: the EMA of g²
            out["beta2"] = float(value)
        elif name == "adafactor" and key in ADAFACTOR:
            out.update(ADAFACTOR[key](value))
        elif key == "eps":
            out["eps"] = float(value)
        elif key == "eps_in_sqrt":  # optax's rmsprop: ε inside the root unless told otherwise
            out["eps_mode"] = "inside" if value else "outside"
        elif d is not None and key in d.options() and key not in ("schedule",):  # the same name in adasim
            out[key] = value
        elif (key in NEUTRAL and value == NEUTRAL[key]) or (name, key, value) in MAKES:
            continue
        else:
            raise AdasimError(f"--against: no adasim counterpart for {key}={value!r}; give adasim's settings with --against-kw")
    return out


def conform(
    loaded: Loaded,
    name: str,
    adasim_kwargs: dict[str, Any] | None = None,
    cases: Sequence[str] = DEFAULT_CASES,
    steps: int = 2_000,
    seeds: int = 4,
    tol: float = 1e-10,
) -> dict[str, Any]:
    """Run `loaded` and adasim's `name` side by side (see the module text)."""
    own = {k: v for k, v in loaded.kwargs.items() if k not in ("lr", "learning_rate")}  # adasim's names already
    settings = {**(own if loaded.kind == "adasim" else translate(loaded.kwargs, name)), **(adasim_kwargs or {})}
    reference = load(name, settings)
    rows = []
    for case in get_cases(list(cases)):
        geo = _Geometry(case, np.arange(seeds, dtype=np.uint64))
        lr = loaded.user_lr if loaded.user_lr is not None else case.lr
        x = geo.project(np.full((seeds, case.dim), float(case.x0)))
        ours, theirs = reference.make(x, lr), loaded.make(x, lr)
        xa, xb = x.copy(), x.copy()
        sigma = case.schedule(np.arange(1, steps + 1))
        worst, parted, error = 0.0, None, None
        G = geo.gradients(np.arange(1, steps + 1, dtype=np.int64)) if case.problem.x_independent else None
        try:
            for t in range(1, steps + 1):
                gy = G[t - 1] if G is not None else geo.problem.gradient(xa, t, geo.seeds)
                g = geo.to_x(gy)
                alpha = lr * float(sigma[t - 1])
                xa = geo.project(xa - ours.step(g, t, alpha))
                xb = geo.project(xb - theirs.step(g, t, alpha))
                ours.set_x(xa)
                theirs.set_x(xb)
                dev = np.abs(xa - xb) / np.maximum(1.0, np.abs(xa))
                worst = max(worst, float(np.nanmax(dev)) if np.isfinite(dev).all() else float("inf"))
                if parted is None and worst > tol:
                    parted = t
        except CaseError as err:
            error = str(err)
        rows.append({"case": case.name, "steps": steps, "seeds": seeds, "max_deviation": worst, "first_parting_step": parted,
                     "agree": error is None and parted is None, "error": error})  # fmt: skip
    return {"against": name, "adasim_settings": {k: repr(v) for k, v in settings.items()}, "tol": tol, "cases": rows,
            "agree": all(r["agree"] for r in rows)}  # fmt: skip
