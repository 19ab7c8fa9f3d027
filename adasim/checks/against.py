"""`adasim check SPEC --against NAME`: does an implementation follow adasim's definition of NAME?

Two executors on one stream: the SPEC's and adasim's NAME run the same case (its seeds, x_1,
projection and α_t) block by block, and the report gives the largest deviation of x_t and the
first step at which they part (|Δx| > tol·max(1, |x|)).

**Settings.** The SPEC's keyword arguments *and its library's own defaults* (read from its
signature) are translated to adasim's settings (torch's `betas`, `alpha`; optax's `b1`, `b2`,
`decay`, `eps_in_sqrt`; pytorch-optimizer's `keep_num`, its ADOPT's clip counter, ...), so that
`--against` compares the two as a user of each would run them: pytorch-optimizer's AdaShift with
its ε = 1e-10, not adasim's 1e-8. A keyword argument the user gave that has no adasim counterpart
is an error; a library default without one is listed (`untranslated`). `adasim_kwargs` adds or
overrides settings for adasim's side (the CLI's `--against-kw`).

**Where they part.** When they part, each alternative of adasim's conventions (and of ε) is tried
on that case, and the report names the ones with which the two agree (`hint`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adasim.checks.adapters import Loaded, load
from adasim.checks.cases import get_cases
from adasim.errors import AdasimError

DEFAULT_CASES = ("reddi-thm1-C10", "reddi-fig1-stochastic", "skewed-noise")
# keyword arguments that mean "the default behaviour" when they have these values
NEUTRAL = {"weight_decay": 0.0, "amsgrad": False, "foreach": None, "maximize": False, "capturable": False,
           "differentiable": False, "fused": None, "centered": False, "momentum": 0.0, "lr_decay": 0.0,
           "initial_accumulator_value": 0.0, "nesterov": False, "dampening": 0.0, "eps_root": 0.0,
           "weight_decouple": True, "fixed_decay": False, "mu_dtype": None, "nesterov_momentum": False}  # fmt: skip


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


def _adopt_clip(value: Any) -> dict[str, Any]:
    """pytorch-optimizer's ADOPT: `clip_lambda(step)` with its step counter at 2 on the first real
    step (the seeding call is step 1), so its default step**0.25 is adasim's `port` clip; None: no clip."""
    if value is None:
        return {"clip": False}
    if getattr(value, "__qualname__", "").startswith("ADOPT.") and value(16) == 2.0:  # the library's own default
        return {"clip": True, "clip_base": "port"}
    raise AdasimError("--against: a custom clip_lambda has no adasim counterpart")


def _ns_coefficients(value: Any) -> dict[str, Any]:
    from adasim.ops import NS_COEFFICIENTS

    if tuple(float(v) for v in value) != NS_COEFFICIENTS:
        raise AdasimError("--against: Newton–Schulz coefficients other than the published ones have no adasim counterpart")
    return {}


def _muon_lr_scale(value: Any) -> dict[str, Any]:
    """torch.optim.Muon's adjust_lr_fn: None or "original" (√max(1, A/B)), "match_rms_adamw"."""
    return {"lr_scale": "original" if value in (None, "original") else str(value).replace("_", "-")}


# library-specific names: (module's top package, class or function name) → {key: translation}
LIBRARY = {
    ("torch", "Muon"): {
        "momentum": lambda v: {"beta1": float(v)},
        "ns_coefficients": _ns_coefficients,
        "adjust_lr_fn": _muon_lr_scale,
    },
    ("optax", "muon"): {
        "beta": lambda v: {"beta1": float(v)},
        "ns_coeffs": _ns_coefficients,
        "nesterov": lambda v: {"nesterov": bool(v), "form": "optax"},  # its bias-corrected Nesterov
        # settings for the leaves Muon does not orthogonalise (AdamW there), or their defaults
        "adaptive": lambda v: None if v else {},
        "preconditioning": lambda v: {} if v == "frobenius" else None,
        "weight_decay_mask": lambda v: {} if v is None else None,
        "muon_weight_dimension_numbers": lambda v: {} if v is None else None,
        "consistent_rms": lambda v: {} if v is None else None,
        **{k: (lambda v: {}) for k in ("adam_b1", "adam_b2", "adam_eps_root", "adam_weight_decay", "adam_learning_rate")},
    },
    ("pytorch_optimizer", "AdaShift"): {
        "keep_num": lambda v: {"n": int(v)},
        "reduce_func": lambda v: {},
    },  # one lane, one coordinate: φ is the identity
    ("pytorch_optimizer", "ADOPT"): {"clip_lambda": _adopt_clip},
    ("pytorch_optimizer", "SOAP"): {
        "precondition_frequency": lambda v: {"refresh": int(v)},
        "correct_bias": lambda v: {"bias_correction": bool(v)},
        "shampoo_beta": lambda v: {} if v is None else {"shampoo_beta": float(v)},
        # a lane's W is 4 × 4: below any max_precondition_dim; 2-D, so never merged
        "max_precondition_dim": lambda v: {} if int(v) >= 4 else None,
        "merge_dims": lambda v: {},
        "precondition_1d": lambda v: {},
        "data_format": lambda v: {},
        "normalize_gradient": lambda v: None if v else {},
    },
}


# references whose arithmetic is not float64 by design: the deviation `--against` accepts, and why
# (measured: torch.optim.Muon against adasim's muon, the matrix battery's quick cases, 2 000 steps,
# 4 seeds: largest |Δx| 0.017 and 0.031)
LIBRARY_TOL = {
    ("torch", "Muon"): (
        0.05,
        "torch.optim.Muon runs Newton–Schulz in bfloat16 (8 bits of mantissa: about 0.4 % of each update); adasim in float64",
    ),
    # measured: pytorch-optimizer's SOAP against adasim's soap, matrix-reddi-thm1-C10 and matrix-skewed-noise,
    # 2 000 steps, 4 seeds: largest |Δx| 9.2e-08 and 6.3e-08
    ("pytorch_optimizer", "SOAP"): (
        1e-6,
        "pytorch-optimizer's SOAP refreshes its eigenbases with a QR in float32 (torch's QR has no bfloat16); adasim in float64",
    ),
}


def _library(loaded: Loaded) -> tuple[str, str]:
    return loaded.target.__module__.split(".")[0], getattr(loaded.target, "__name__", "")


def library_defaults(loaded: Loaded) -> dict[str, Any]:
    """The keyword arguments the SPEC's constructor takes by default (not lr, not params)."""
    target = loaded.target
    fn = target.__init__ if isinstance(target, type) else target
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    skip = {"self", "params", "lr", "learning_rate"}
    return {n: p.default for n, p in params.items()
            if n not in skip and p.default is not inspect.Parameter.empty
            and p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)}  # fmt: skip


def _one(key: str, value: Any, name: str, d: Any, library: dict[str, Any]) -> dict[str, Any] | None:
    """adasim's settings for one keyword argument ({} when it means the default behaviour), or
    None when adasim has no counterpart."""
    if key in library:
        return library[key](value)
    if key == "betas":
        return {"beta1": float(value[0]), "beta2": float(value[1])}
    if key in ("b1", "b2", "b3"):
        return {"beta" + key[1]: float(value)}
    if key == "beta" and name == "signum":  # optax.signum's single β
        return {"beta1": float(value)}
    if (name, key, value) in MAKES:
        return {}
    if key == "alpha" and name == "ademamix":  # AdEMAMix's α: the weight of the slow EMA
        return {"mix": float(value)}
    if key in ("alpha", "decay"):  # torch RMSprop's α, optax rmsprop's decay: the EMA of g²
        return {"beta2": float(value)}
    if name == "adafactor" and key in ADAFACTOR:
        return ADAFACTOR[key](value)
    if key == "eps":
        return {"eps": float(value)}
    if key == "eps_in_sqrt":  # optax's rmsprop: ε inside the root unless told otherwise
        return {"eps_mode": "inside" if value else "outside"}
    if d is not None and key in d.options() and key not in ("schedule",):  # the same name in adasim
        return {key: value}
    if key in NEUTRAL and value == NEUTRAL[key]:
        return {}
    return None


def translate(kwargs: dict[str, Any], name: str = "", loaded: Loaded | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The SPEC's keyword arguments and its library's defaults as adasim settings, and the library
    defaults that have no counterpart (name → repr). A keyword argument the user gave without a
    counterpart is an AdasimError (give adasim's settings with --against-kw)."""
    from adasim.optimizers import definition

    d = definition(name) if name else None
    library: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    if loaded is not None and loaded.kind != "adasim":
        library = LIBRARY.get(_library(loaded), {})
        defaults = library_defaults(loaded)
    out: dict[str, Any] = {}
    untranslated: dict[str, str] = {}
    decays = {**defaults, **kwargs}.get("weight_decay", 0.0) not in (0, 0.0, None)
    for key, value in defaults.items():
        if key in kwargs or (key in ("weight_decouple", "fixed_decay") and not decays):  # no decay: how it would apply is moot
            continue
        try:
            got = _one(key, value, name, d, library)
        except (AdasimError, TypeError, ValueError, IndexError):
            got = None
        if got is None:
            untranslated[key] = repr(value)
        else:
            out.update(got)
    for key, value in kwargs.items():
        if key in ("lr", "learning_rate"):
            continue
        got = _one(key, value, name, d, library)
        if got is None:
            raise AdasimError(f"--against: no adasim counterpart for {key}={value!r}; give adasim's settings with --against-kw")
        out.update(got)
    return out, untranslated


def _compare(
    loaded: Loaded,
    reference: Loaded,
    case: Any,
    steps: int,
    n_seeds: int,
    tol: float,
    advance: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The two executors on one stream of the case: largest deviation, first parting step, error.
    `advance(n)` is told of n more steps compared (`steps` in all, an error's remainder included)."""
    import dataclasses

    from adasim.engine.layout import Layout
    from adasim.engine.stream import iterate

    case = dataclasses.replace(case, steps=steps, n_seeds=n_seeds)
    lr = loaded.user_lr if loaded.user_lr is not None else case.lr
    seeds_ = np.arange(n_seeds, dtype=np.uint64)
    worst, parted, error = 0.0, None, None
    compared = 0
    try:
        runs = []
        for side in (reference, loaded):
            opt = side.optimizer(lr, case.schedule)
            layout = Layout.build(case.problem, opt, seeds_, case.x0)
            ex = side.executor(layout, ("x",), (), "auto")
            runs.append(iterate(case.problem, opt, steps, executor=ex, block=256))
        for ours, theirs in zip(*runs, strict=True):
            with np.errstate(all="ignore"):
                dev = np.abs(ours.x - theirs.x) / np.maximum(1.0, np.abs(ours.x))
            dev = np.where(np.isnan(dev) & ~(np.isnan(ours.x) & np.isnan(theirs.x)), np.inf, np.nan_to_num(dev, nan=0.0))
            per_step = dev.reshape(len(ours.t), -1).max(axis=1)
            worst = max(worst, float(per_step.max()))
            if parted is None and (per_step > tol).any():
                parted = int(ours.t[np.argmax(per_step > tol)])
            told = min(len(ours.t), steps - compared)
            if advance is not None and told > 0:
                advance(told)
            compared += told
    except AdasimError as err:
        error = str(err)
    if advance is not None and compared < steps:  # a run that stopped early: the rest of the case counts as done
        advance(steps - compared)
    return {"case": case.name, "steps": steps, "seeds": list(range(n_seeds)), "max_deviation": worst,
            "first_parting_step": parted, "agree": error is None and parted is None, "error": error}  # fmt: skip


def _alternatives(name: str, settings: dict[str, Any], loaded: Loaded) -> list[dict[str, Any]]:
    """Single-setting changes of adasim's side worth trying when the two part: every other value of
    each convention, and ε at the library's default and at adasim's."""
    from adasim.optimizers import definition

    d = definition(name)
    current = {**d.options(), **settings}
    out = []
    for f in d.conventions_fields:
        if f in d.fixed:
            continue
        values = list(d.conventions[f]) if f in d.conventions else [True, False]
        out += [{f: v} for v in values if v != current.get(f)]
    if "eps" in current:
        for eps in (library_defaults(loaded).get("eps"), d.options().get("eps"), 1e-8, 1e-10, 1e-6):
            if isinstance(eps, float) and eps != current.get("eps") and {"eps": eps} not in out:
                out.append({"eps": eps})
    return out


def conform(
    loaded: Loaded,
    name: str,
    adasim_kwargs: dict[str, Any] | None = None,
    cases: Sequence[str] | None = None,
    steps: int = 2_000,
    n_seeds: int = 4,
    tol: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run `loaded` and adasim's `name` side by side (see the module text). `cases`: DEFAULT_CASES,
    or the matrix battery's quick cases for an optimizer that acts on matrices. `tol`: 1e-10, or
    the documented gap of a reference that does not compute in float64 (LIBRARY_TOL, said in the
    result's `tol_why`). `progress(done, total)` counts the steps compared: `steps` per case, and
    when they part, `steps` more for each alternative tried (the total grows by those then)."""
    from adasim.checks.cases import MATRIX_QUICK

    if cases is None:  # (invariance cases compare runs with each other, not with a reference)
        cases = [c for c in MATRIX_QUICK if "invariance" not in c] if loaded.not_exercised is not None else DEFAULT_CASES
    why = None
    if tol is None:
        tol, why = LIBRARY_TOL.get(_library(loaded), (1e-10, None)) if loaded.kind != "adasim" else (1e-10, None)
    if loaded.kind == "adasim":
        settings, untranslated = loaded.own_kwargs(), {}  # adasim's names already
    else:
        settings, untranslated = translate(loaded.kwargs, name, loaded)
    settings = {**settings, **(adasim_kwargs or {})}
    reference = load(name, settings)
    chosen = get_cases(list(cases))
    count = {"done": 0, "total": steps * len(chosen)}

    def advance(n: int) -> None:
        count["done"] += n
        if progress is not None:
            progress(count["done"], count["total"])

    rows = [_compare(loaded, reference, case, steps, n_seeds, tol, advance) for case in chosen]
    out: dict[str, Any] = {"against": name, "adasim_settings": {k: repr(v) for k, v in settings.items()}, "tol": tol,
                           "untranslated": untranslated, "cases": rows, "agree": all(r["agree"] for r in rows)}  # fmt: skip
    if why is not None:
        out["tol_why"] = why
    parted = next((r for r in rows if r["first_parting_step"] is not None), None)
    if parted is not None:
        case = get_cases([parted["case"]])[0]
        found = []
        alternatives = _alternatives(name, settings, loaded)
        count["total"] += steps * len(alternatives)
        for change in alternatives:
            try:
                row = _compare(loaded, load(name, {**settings, **change}), case, steps, n_seeds, tol, advance)
            except AdasimError:  # refused before its first step (by load or the case's set-up): counted as done
                advance(steps)
                continue
            if row["agree"]:
                found.append(change)
        out["hint"] = (
            "they agree on " + parted["case"] + " with adasim's " + " or ".join(
                ", ".join(f"{k}={v!r}" for k, v in c.items()) for c in found)
            if found else "no single change of adasim's conventions or ε makes them agree"
            + (f"; library settings without an adasim counterpart: {', '.join(f'{k}={v}' for k, v in untranslated.items())}"
               if untranslated else "")
        )  # fmt: skip
    return out
