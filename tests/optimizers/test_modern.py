"""The optimizers of issue 16, held to hand-derived sequences and to their public implementations.

Golden sequences: α = 1 constant, x_0 = 0 unless given, no projection; each expected value is the
derivation written out. Conformance: `adasim check SPEC --against NAME` (through
`adasim.checks.against.conform`) on three of the battery's cases; skipped when the reference
library is not installed (torch, optax, pytorch-optimizer, lion-pytorch, schedulefree).
"""

import importlib.util
import math

import numpy as np
import pytest
from helpers import sequence_problem

from adasim import Custom, Domain, simulate
from adasim.optimizers import (
    AdaBelief,
    Adafactor,
    Adamax,
    AdamMini,
    AdamW,
    AdEMAMix,
    CautiousAdam,
    Grams,
    Lion,
    NAdam,
    RAdam,
    ScheduleFreeAdamW,
    SignSGD,
    Signum,
    Yogi,
)

r2 = math.sqrt(2.0)


def _radam_r(t, beta2):
    """The rectifier of Liu et al. (2020) eq. (7), with ρ_t from the same page."""
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


W2 = 2**-0.8  # Adafactor's 1 − β̂_2 at t = 2 (decay 0.8)

GOLDEN = [
    # (id, optimizer, gradients, x0, expected x_1..x_T)
    # sign(2), sign(−1), sign(−1)
    ("signsgd", SignSGD(lr=1.0), [2, -1, -1], 0.0, [-1.0, 0.0, 1.0]),
    # m = 1, 0, −0.5: signs 1, 0, −1
    ("signum", Signum(lr=1.0, beta1=0.5), [2, -1, -1], 0.0, [-1.0, -1.0, 0.0]),
    # c_1 = sign(0 + 1) = 1, m_1 = 1; c_2 = sign(0.5 − 0.5) = 0, m_2 = 0; c_3 = sign(−0.5) = −1
    ("lion", Lion(lr=1.0, beta1=0.5, beta2=0.5), [2, -1, -1], 0.0, [-1.0, -1.0, 0.0]),
    # decay λ = 0.5, α = 0.5, x_0 = 1: x_1 = 1 − 0.5(1 + 0.5) = 0.25; c_2 = 0: x_2 = 0.25 − 0.5·0.5·0.25
    ("lion-decay", Lion(lr=0.5, beta1=0.5, beta2=0.5, weight_decay=0.5), [2, -1], 1.0, [0.25, 0.1875]),
    # Adam's u_1 = m̂/√v̂ = 2/2 = 1: x_1 = 1 − 0.5(1 + 0.5·1); m_2 = 0: x_2 = 0.25 − 0.5·0.5·0.25
    ("adamw", AdamW(lr=0.5, beta1=0.5, beta2=0.5, eps=0.0, weight_decay=0.5), [2, -1], 1.0, [0.25, 0.1875]),
    # ψ = 0: μ_t = 0.5(1 − 0.5) = 0.25. t=1: m 1, v 2, d = √(2/0.5) = 2, step = (1·2 + 0.25/0.9375·1)/2 = 17/15;
    # t=2: Πμ = 1/16, m 0, v 1.5, d = √2: step = −(0.75/0.9375)/√2 = −0.8/√2
    (
        "nadam-pytorch",
        NAdam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, momentum_decay=0.0),
        [2, -1],
        0.0,
        [-17 / 15, -17 / 15 + 0.8 / r2],
    ),
    # optax: m̂ = 0.5·1/(1 − 0.25) + 0.5·2/(1 − 0.5) = 8/3, v̂ = 4: step 4/3
    ("nadam-optax", NAdam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, form="optax"), [2], 0.0, [-4 / 3]),
    # β2 = 0.9: ρ_t ≤ 5 for t ≤ 5 (ρ_5 = 4.58), so 5 plain steps of m̂ = g = 1; ρ_6 = 5.39: step r_6·√(1−β2^6)/√v_6 = r_6
    (
        "radam",
        RAdam(lr=1.0, beta1=0.0, beta2=0.9, eps=0.0),
        [1] * 6,
        0.0,
        [-1.0, -2.0, -3.0, -4.0, -5.0, -5.0 - _radam_r(6, 0.9)],
    ),
    (
        "radam-optax",
        RAdam(lr=1.0, beta1=0.0, beta2=0.9, eps=0.0, form="optax"),
        [1] * 6,
        0.0,
        [-1.0, -2.0, -3.0, -4.0, -5.0, -5.0 - _radam_r(6, 0.9)],
    ),
    # u = 2, max(1, 1) = 1, max(0.5, 1) = 1; m = 1, 0, −0.5; 1 − β1^3 = 0.875: step −0.5/0.875 = −4/7
    ("adamax", Adamax(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0), [2, -1, -1], 0.0, [-1.0, -1.0, -3 / 7]),
    # m = 1, 0, −0.5; g − m = 1, −1, −0.5; s = 0.5, 0.75, 0.5; m̂_3 = −4/7, ŝ_3 = 4/7: step −2/√7
    (
        "adabelief",
        AdaBelief(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, eps_root=0.0),
        [2, -1, -1],
        0.0,
        [-2.0, -2.0, -2.0 + 2 / math.sqrt(7)],
    ),
    # v = 0 + 0.5·4 = 2, 2 − 0.5·1 = 1.5, 1.5 − 0.5 = 1; m̂_3 = −4/7, v̂_3 = 8/7
    (
        "yogi",
        Yogi(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, v0=0.0),
        [2, -1, -1],
        0.0,
        [-1.0, -1.0, -1.0 + (4 / 7) / math.sqrt(8 / 7)],
    ),
    # m_0 = v_0 = 1: m_1 = 1.5, v_1 = 1 + 0.5·4 = 3; m̂ = 3, v̂ = 6
    ("yogi-v0", Yogi(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, v0=1.0), [2], 0.0, [-3 / math.sqrt(6)]),
    # t=1: β̂ = 0, v = 1, u = 1; t=2: v = (1 − w)·1 + w·4, u = 2/√(1 + 3w) > 1
    (
        "adafactor-plain",
        Adafactor(lr=1.0, eps=0.0, clip=False, param_scale=False),
        [1, 2],
        0.0,
        [-1.0, -1.0 - 2 / math.sqrt(1 + 3 * W2)],
    ),
    # update clipping: u_2 = 2/√(1 + 3w) has RMS > 1, so it is divided down to 1
    ("adafactor-clip", Adafactor(lr=1.0, eps=0.0, param_scale=False), [1, 2], 0.0, [-1.0, -2.0]),
    # torch's lerp v + w(g² − v) is the same v; relative step ρ_2 = min(1, 1/√2)
    (
        "adafactor-pytorch-relative",
        Adafactor(lr=1.0, eps=0.0, clip=False, param_scale=False, form="pytorch", relative_step=True),
        [1, 2],
        0.0,
        [-1.0, -1.0 - (2 / math.sqrt(1 + 3 * W2)) / r2],
    ),
    # parameter scale: u_1 = 1 times max(ε2, RMS(x_0) = 2)
    ("adafactor-param-scale", Adafactor(lr=1.0, eps=0.0), [1], 2.0, [0.0]),
    # one lane, one coordinate: the mask's rescaling d/(Σφ + 1) = 1/2; m_2 = 0.25 against g_2 < 0: masked
    ("cautious-adam", CautiousAdam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0), [2, -0.5], 0.0, [-0.5, -0.5]),
    ("cautious-adam-mean", CautiousAdam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, mask_scale="mean"), [2, -0.5], 0.0, [-1.0, -1.0]),
    # Adam's |u_2| = (0.25/0.75)/√(1.125/0.75) moved along sign(g_2) = −1 (Adam would move the other way)
    ("grams", Grams(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0), [2, -0.5], 0.0, [-1.0, -1.0 + (1 / 3) / math.sqrt(1.5)]),
    # m1 = m2 = 1, v̂ = 4: (2 + 1)/2; m1 = m2 = 0; m̂1_3 = −4/7, m2_3 = −0.5, v̂_3 = 10/7
    (
        "ademamix",
        AdEMAMix(lr=1.0, beta1=0.5, beta2=0.5, beta3=0.5, mix=1.0, eps=0.0),
        [2, -1, -1],
        0.0,
        [-1.5, -1.5, -1.5 + (4 / 7 + 0.5) / math.sqrt(10 / 7)],
    ),
    # z_1 = y_1 = 0. t=1: ĝ = 2/2 = 1, c = 1: y = 0 − 1·1 = −1, z = −1. t=2: ĝ = −1/√2, c = 1/2:
    # y = −1 + 0 + (0.25 − 1)ĝ, z = −1 + 1/√2. t=3: ĝ = −√0.7, c = 1/3: y += (z − y)/3 + (1/3 − 1)ĝ
    (
        "sf-adamw",
        ScheduleFreeAdamW(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0),
        [2, -1, -1],
        0.0,
        [-1.0, -1.0 + 0.75 / r2, -1.0 + 0.75 / r2 + (0.25 / r2) / 3 + (2 / 3) * math.sqrt(0.7)],
    ),
]


@pytest.mark.parametrize("engine", ["python", "numpy"])
@pytest.mark.parametrize(("optimizer", "grads", "x0", "expected"), [g[1:] for g in GOLDEN], ids=[g[0] for g in GOLDEN])
def test_golden_sequence(optimizer, grads, x0, expected, engine):
    run = simulate(sequence_problem(grads), optimizer, steps=len(grads), stride=1, x0=x0, engine=engine)
    np.testing.assert_allclose(run.trace.x[:, 0, 0], expected, rtol=1e-12, atol=1e-15)


def _matrix_problem(G):
    """A 2 × 2 parameter matrix (4 coordinates, blocks = its rows) with a fixed gradient G."""
    flat = np.asarray(G, dtype=float).ravel()
    return Custom(gradient_fn=lambda x, t, seeds: np.broadcast_to(flat, x.shape).copy(), loss_fn=lambda x, t: x @ flat,
                  optimum_point=-1.0, domain=Domain(-np.inf, np.inf), size=4)  # fmt: skip


@pytest.mark.parametrize("form", ["optax", "pytorch"])
def test_factored_adafactor_by_hand(form):
    """G = [[1, 2], [3, 4]] at t = 1 (β̂ = 0): row means of G² 2.5, 12.5; column means 5, 10;
    mean of the rows 7.5; v̂_ij = R_i C_j/7.5 = [[5/3, 10/3], [25/3, 50/3]]; x_1 = −G/√v̂."""
    G = np.array([[1.0, 2.0], [3.0, 4.0]])
    opt = Adafactor(lr=1.0, eps=0.0, clip=False, param_scale=False, factored=True, form=form, blocks=(2, 2))
    run = simulate(_matrix_problem(G), opt, steps=1, stride=1)
    vhat = np.array([[5 / 3, 10 / 3], [25 / 3, 50 / 3]])
    np.testing.assert_allclose(run.final_x[0], (-G / np.sqrt(vhat)).ravel(), rtol=1e-12)


def test_factored_adafactor_clips_over_the_whole_matrix():
    """The RMS of the update is over the matrix, not a row: u = G/√v̂ has RMS > 1 here."""
    G = np.array([[1.0, 2.0], [3.0, 40.0]])
    plain = simulate(_matrix_problem(G), Adafactor(lr=1.0, eps=0.0, clip=False, param_scale=False, factored=True,
                                                   blocks=(2, 2)), steps=1).final_x[0]  # fmt: skip
    clipped = simulate(_matrix_problem(G), Adafactor(lr=1.0, eps=0.0, param_scale=False, factored=True, blocks=(2, 2)),
                       steps=1).final_x[0]  # fmt: skip
    rms = math.sqrt(np.mean(plain**2))
    assert rms > 1
    np.testing.assert_allclose(clipped, plain / rms, rtol=1e-12)


def test_adam_mini_shares_one_v_per_block():
    """Block (2 coordinates) with g = (2, 0): v = 0.5·mean(4, 0) = 1, v̂ = 2; m̂ = (2, 0): x_1 = (−√2, 0)
    (Adam's own v would give (−1, 0))."""
    problem = Custom(gradient_fn=lambda x, t, seeds: np.broadcast_to([2.0, 0.0], x.shape).copy(),
                     loss_fn=lambda x, t: 2 * x[:, 0], optimum_point=-1.0, domain=Domain(-np.inf, np.inf), size=2)  # fmt: skip
    run = simulate(problem, AdamMini(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0), steps=1)
    np.testing.assert_allclose(run.final_x[0], [-r2, 0.0], rtol=1e-12)


def test_cautious_mask_scale_counts_the_whole_block():
    """Two coordinates, g = (2, 2) then (−0.5, 1): at t = 2 the first is masked (m = 0.25 > 0, g < 0),
    the second kept and scaled by d/(Σφ + 1) = 2/2 = 1."""
    seq = np.array([[2.0, 2.0], [-0.5, 1.0]])
    problem = Custom(gradient_fn=lambda x, t, seeds: np.broadcast_to(seq[t - 1], x.shape).copy(),
                     loss_fn=lambda x, t: x @ seq[t - 1], optimum_point=-1.0, domain=Domain(-np.inf, np.inf), size=2)  # fmt: skip
    run = simulate(problem, CautiousAdam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0), steps=2, stride=1)
    x1 = -(2 / 3) * np.ones(2)  # t = 1: both kept, scale 2/(2 + 1); Adam's u_1 = 1
    np.testing.assert_allclose(run.trace.x[0, 0], x1, rtol=1e-12)
    # t = 2, second coordinate: m = 0.5·1 + 0.5·1, v = 0.5·2 + 0.5·1², both ÷ 0.75
    m_hat = (0.5 * 1.0 + 0.5 * 1.0) / 0.75
    v_hat = (0.5 * 2.0 + 0.5 * 1.0) / 0.75
    np.testing.assert_allclose(run.trace.x[1, 0], [x1[0], x1[1] - m_hat / math.sqrt(v_hat)], rtol=1e-12)


# -- the public implementations ----------------------------------------------------------------


def _have(module):
    return importlib.util.find_spec(module) is not None


CONFORMANCE = [
    # (spec, adasim name, the spec's kwargs, adasim's settings, tol, the module it needs)
    ("torch:torch.optim.AdamW", "adamw", {"weight_decay": 0.1, "betas": (0.5, 0.99)}, {}, 1e-10, "torch"),
    ("torch:torch.optim.NAdam", "nadam", {}, {}, 1e-10, "torch"),
    ("torch:torch.optim.NAdam", "nadam", {"momentum_decay": 0.04}, {}, 1e-10, "torch"),
    ("torch:torch.optim.RAdam", "radam", {}, {}, 1e-10, "torch"),
    ("torch:torch.optim.Adamax", "adamax", {}, {}, 1e-10, "torch"),
    (
        "torch:torch.optim.Adafactor",
        "adafactor",
        {},
        {"form": "pytorch", "relative_step": True, "eps": np.finfo(float).eps},
        1e-10,
        "torch",
    ),
    ("optax:optax.adamw", "adamw", {"weight_decay": 0.01}, {}, 1e-10, "optax"),
    ("optax:optax.nadam", "nadam", {}, {"form": "optax"}, 1e-10, "optax"),
    ("optax:optax.radam", "radam", {}, {"form": "optax"}, 1e-10, "optax"),
    ("optax:optax.adamax", "adamax", {}, {}, 1e-10, "optax"),
    ("optax:optax.adabelief", "adabelief", {}, {}, 1e-10, "optax"),
    ("optax:optax.yogi", "yogi", {}, {}, 1e-10, "optax"),
    ("optax:optax.lion", "lion", {"weight_decay": 1e-3}, {}, 1e-10, "optax"),  # optax's default decay is 1e-3
    ("optax:optax.sign_sgd", "signsgd", {}, {}, 1e-10, "optax"),
    ("optax:optax.signum", "signum", {"beta": 0.8}, {}, 1e-10, "optax"),
    ("optax:optax.contrib.ademamix", "ademamix", {}, {}, 1e-10, "optax"),
    # optax computes 1 − t^(−0.8) in float32 (factorized._decay_rate_pow): agreement to ~1e-7 only
    ("optax:optax.adafactor", "adafactor", {}, {}, 1e-6, "optax"),
    (
        "optax:optax.adafactor",
        "adafactor",
        {"clipping_threshold": None, "multiply_by_parameter_scale": False},
        {"clip": False, "param_scale": False},
        1e-6,
        "optax",
    ),
    ("torch:lion_pytorch.Lion", "lion", {"weight_decay": 0.1}, {}, 1e-10, "lion_pytorch"),
    ("torch:pytorch_optimizer.Grams", "grams", {}, {"eps": 1e-6}, 1e-10, "pytorch_optimizer"),  # its ε default is 1e-6
    ("torch:pytorch_optimizer.AdEMAMix", "ademamix", {"alpha": 2.0}, {}, 1e-10, "pytorch_optimizer"),
    ("torch:pytorch_optimizer.AdEMAMix", "cautious-adam", {"alpha": 0.0, "cautious": True}, {}, 1e-10, "pytorch_optimizer"),
    ("torch:schedulefree.AdamWScheduleFree", "sf-adamw", {}, {}, 1e-10, "schedulefree"),
    ("torch:schedulefree.AdamWScheduleFree", "sf-adamw", {"weight_decay": 0.1, "betas": (0.5, 0.9)}, {}, 1e-10, "schedulefree"),
]


@pytest.mark.parametrize(("spec", "name", "kw", "ours", "tol", "module"), CONFORMANCE,
                         ids=[f"{c[1]}-{c[0].split(':')[1]}-{i}" for i, c in enumerate(CONFORMANCE)])  # fmt: skip
def test_public_implementation_follows_adasim_definition(spec, name, kw, ours, tol, module):
    if not _have(module) or (spec.startswith("torch:") and not _have("torch")):
        pytest.skip(f"{module} is not installed (an optional reference, never a dependency)")
    from adasim.checks.adapters import load
    from adasim.checks.against import conform

    result = conform(load(spec, kw), name, ours, steps=300, n_seeds=2, tol=tol)
    worst = max(r["max_deviation"] for r in result["cases"])
    assert result["agree"], result
    assert worst <= tol


def test_adafactor_parts_from_optax_only_by_its_float32_decay():
    """The deviation from optax is the size of float32 rounding of β̂_t, not of a different rule."""
    if not _have("optax"):
        pytest.skip("optax is not installed")
    from adasim.checks.adapters import load
    from adasim.checks.against import conform

    result = conform(load("optax:optax.adafactor", {}), "adafactor", {}, steps=600, n_seeds=3, tol=1e-10)
    worst = max(r["max_deviation"] for r in result["cases"])
    assert 1e-12 < worst < 1e-6
