"""Muon (adasim/optimizers/muon.py) and the matrix operations it is written with (adasim.ops),
held to independent derivations: the singular-value polynomial, Signum and Lion on a diagonal
matrix, equivariance under rotations, and torch.optim.Muon (bfloat16 there)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adasim import Adam, Domain, Lion, Matrix, Muon, Signum, ops, simulate
from adasim.errors import AdasimError


def _svd_reference(x: np.ndarray, steps: int, coefficients=ops.NS_COEFFICIENTS) -> np.ndarray:
    """Newton–Schulz as the singular values see it: X/‖X‖_F = U Σ Vᵀ ↦ U p^∘steps(Σ) Vᵀ with
    p(σ) = aσ + bσ³ + cσ⁵ (an independent derivation: no matrix products of the iteration)."""
    a, b, c = coefficients
    u, sv, vt = np.linalg.svd(x / np.linalg.norm(x), full_matrices=False)
    for _ in range(steps):
        sv = a * sv + b * sv**3 + c * sv**5
    return (u * sv) @ vt


@pytest.mark.parametrize(("m", "n"), [(3, 3), (2, 5), (5, 2), (1, 4), (4, 1)])
def test_newton_schulz_maps_singular_values_by_the_quintic(m, n):
    rng = np.random.default_rng(m * 10 + n)
    x = rng.standard_normal((7, m * n))
    got = ops.newton_schulz(x, (n,) * m, steps=5)
    for lane in range(7):
        want = _svd_reference(x[lane].reshape(m, n), 5)
        np.testing.assert_allclose(got[lane].reshape(m, n), want, rtol=0, atol=1e-12)


def test_newton_schulz_lands_near_one_not_at_one():
    """The published coefficients trade convergence for slope: after five steps every normalised
    singular value above 0.02 ends in about (0.68, 1.2) (Jordan et al. 2024), not at 1 — the exact
    polar factor is `msign`. (Together with the test above, this is a statement about p^∘5.)"""
    a, b, c = ops.NS_COEFFICIENTS
    sv = np.linspace(0.02, 1.0, 5000)
    for _ in range(5):
        sv = a * sv + b * sv**3 + c * sv**5
    assert 0.6 < sv.min() < 0.75
    assert 1.1 < sv.max() < 1.25
    x = np.random.default_rng(1).standard_normal((50, 64))
    exact = np.linalg.svd(ops.msign(x, (8,) * 8).reshape(50, 8, 8), compute_uv=False)
    np.testing.assert_allclose(exact, 1.0, atol=1e-12)


@given(st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1e3), st.floats(-1e3, -1e-6)), min_size=4, max_size=4))
@settings(max_examples=50, deadline=None)
def test_msign_of_a_diagonal_matrix_is_the_sign_of_each_entry(values):
    """(Entries within 9 decades of each other: smaller ones are numerically zero singular values.)"""
    x = np.diag(values).reshape(-1)
    np.testing.assert_allclose(ops.msign(x, (4,) * 4), np.diag(np.sign(values)).reshape(-1), atol=1e-12)


def test_a_step_is_the_same_on_one_lane_and_on_lanes():
    """The Python executor calls the step on one lane's vector, the NumPy executor on rows of lanes."""
    rng = np.random.default_rng(2)
    g, x = rng.standard_normal((3, 6)), rng.standard_normal((3, 6))
    hp = Muon(weight_decay=0.1).hp
    state = Muon().definition.state(m=rng.standard_normal((3, 6)))
    _, together = Muon().definition.step(state, hp, g, 1, 0.1, x, (3, 3))
    for lane in range(3):
        one_state = Muon().definition.state(m=state.m[lane])
        _, alone = Muon().definition.step(one_state, hp, g[lane], 1, 0.1, x[lane], (3, 3))
        np.testing.assert_allclose(alone.step, together.step[lane], rtol=0, atol=1e-15)


def test_on_a_diagonal_matrix_exact_muon_is_signum_and_with_nesterov_lion():
    """msign(diag(u)) = diag(sign u): without Nesterov, Muon's B is Signum's m; with it,
    Ũ = (1 − μ²) g + μ² B_{t−1} is Lion's mix with β1 = μ², β2 = μ (the module text)."""
    problem, mu = Matrix(size=3, base="stochastic", C=10.0, p=0.2), 0.9
    kw = {"lr": 0.01, "engine": "numpy"}
    plain = simulate(problem, Muon(beta1=mu, nesterov=False, polar="exact", lr=0.01), 3000, seeds=[0, 1], **{"engine": "numpy"})
    signum = simulate(problem, Signum(beta1=mu, lr=0.01), 3000, seeds=[0, 1], engine="numpy")
    np.testing.assert_allclose(plain.trace.x, signum.trace.x, rtol=0, atol=1e-12)
    nesterov = simulate(problem, Muon(beta1=mu, polar="exact", lr=0.01), 3000, seeds=[0, 1], engine="numpy")
    lion = simulate(problem, Lion(beta1=mu * mu, beta2=mu, weight_decay=0.0, lr=kw["lr"]), 3000, seeds=[0, 1], engine="numpy")
    np.testing.assert_allclose(nesterov.trace.x, lion.trace.x, rtol=0, atol=1e-12)
    assert plain.summary()["verdict"] == "optimum"


@pytest.mark.parametrize("polar", ["newton-schulz", "exact"])
def test_muon_moves_the_same_way_behind_a_rotation_and_adam_does_not(polar):
    """G = U diag(s) Vᵀ: Muon's iterates satisfy W_rot = U W Vᵀ (polar and Newton–Schulz commute
    with orthogonal maps; SGD does too), Adam's per-entry scale does not."""
    flat = Matrix(size=4, domain=Domain(-np.inf, np.inf))
    turned = Matrix(size=4, rotate=True)
    U, V = turned.rotations()
    for opt, equivariant in ((Muon(lr=0.01, polar=polar), True), (Adam(lr=0.01), False)):
        a = simulate(flat, opt, 2000, seeds=[0, 1], engine="numpy").final_x.reshape(2, 4, 4)
        b = simulate(turned, opt, 2000, seeds=[0, 1], engine="numpy").final_x.reshape(2, 4, 4)
        gap = np.max(np.abs(U @ a @ V.T - b))
        if equivariant:
            assert gap < 1e-9
        else:
            assert gap > 1e-2


def test_the_shape_scale_follows_torch():
    from adasim.optimizers.muon import shape_scale

    assert shape_scale("original", 8, 2) == 2.0  # √max(1, A/B)
    assert shape_scale("original", 2, 8) == 1.0
    assert shape_scale("match-rms-adamw", 2, 8) == pytest.approx(0.2 * np.sqrt(8))
    assert shape_scale("none", 8, 2) == 1.0


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"ns_steps": 0}, r"ns_steps must lie in \[1, 99\]"),
        ({"beta1": 1.0}, r"beta1 must lie in \[0, 1\)"),
        ({"eps": -1e-7}, r"eps must lie in \[0"),
        ({"polar": "svd"}, "polar"),
        ({"lr_scale": "rms"}, "lr_scale"),
        ({"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_bad_settings_are_one_line_errors(settings_, message):
    with pytest.raises(AdasimError, match=message) as err:
        Muon(**settings_)
    assert "\n" not in str(err.value)


def test_a_matrix_with_nan_orthogonalises_to_nan_not_an_svd_error():
    x = np.array([[1.0, np.nan, 0.0, 2.0], [1.0, 0.0, 0.0, 1.0]])
    out = ops.msign(x, (2, 2))
    assert np.isnan(out[0]).all()
    np.testing.assert_allclose(out[1], [1.0, 0.0, 0.0, 1.0], atol=1e-12)


def test_rows_of_different_lengths_are_not_a_matrix():
    from adasim import Layered

    with pytest.raises(AdasimError, match="rows\\) of one length"):
        simulate(Layered(blocks="2:1,3:1"), Muon(), 10, engine="numpy")


def test_against_torch_optim_muon_to_bfloat16_precision():
    """torch.optim.Muon (2.13) on the same gradients: its Newton–Schulz runs in bfloat16, so the
    steps agree to about 1 % of a step, not bit for bit (the module text). Over 200 steps of the
    4 × 4 rotated problem the iterates stay within 2 % of the distance they travel."""
    torch = pytest.importorskip("torch", reason="needs the torch extra (pip install 'adasim[torch]')")
    problem, steps, lr = Matrix(size=4, rotate=True), 200, 0.01
    ours = simulate(problem, Muon(lr=lr, weight_decay=0.0), steps, seeds=[3], engine="numpy")
    w = torch.zeros(4, 4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Muon([w], lr=lr, weight_decay=0.0)
    x = np.zeros((1, 16))
    for t in range(1, steps + 1):
        w.grad = torch.from_numpy(problem.gradient(x, t, np.array([3])).reshape(4, 4).copy())
        opt.step()
        x = w.detach().numpy().reshape(1, 16).copy()
    travelled = np.abs(ours.final_x).max()
    assert travelled > 0.5
    assert np.max(np.abs(ours.final_x - x)) < 0.02 * travelled


def test_polargrad_on_a_diagonal_matrix_is_l1_scaled_signum():
    """PolarGrad: ‖B‖_* msign(B); on a diagonal matrix ‖u‖₁ sign(u) (docs/REFERENCE.md §7), i.e.
    Signum's direction times the ℓ1 norm of the momentum's diagonal, step by step."""
    from adasim import PolarGrad

    problem = Matrix(size=3, domain=Domain(-np.inf, np.inf))
    run = simulate(problem, PolarGrad(beta1=0.9, lr=0.001), 400, seeds=[0], engine="numpy", stride=1, log_spaced=False)
    g = np.stack([problem.gradient(np.zeros((1, 9)), t, np.array([0])) for t in range(1, 401)])[:, 0].reshape(400, 3, 3)
    m, x, xs = np.zeros(3), np.zeros(3), []
    for t in range(400):
        m = m + 0.1 * (np.diag(g[t]) - m)
        x = x - 0.001 * np.abs(m).sum() * np.sign(m)
        xs.append(x.copy())
    got = np.diagonal(run.trace.x[:, 0].reshape(-1, 3, 3), axis1=1, axis2=2)
    np.testing.assert_allclose(got, np.array(xs), rtol=1e-12, atol=1e-14)


def test_polargrad_is_rotation_equivariant_too():
    from adasim import PolarGrad

    flat, turned = Matrix(size=3, domain=Domain(-np.inf, np.inf)), Matrix(size=3, rotate=True)
    U, V = turned.rotations()
    a = simulate(flat, PolarGrad(lr=0.001), 500, seeds=[0], engine="numpy").final_x.reshape(3, 3)
    b = simulate(turned, PolarGrad(lr=0.001), 500, seeds=[0], engine="numpy").final_x.reshape(3, 3)
    np.testing.assert_allclose(U @ a @ V.T, b, atol=1e-10)


# -- Shampoo (adasim/optimizers/shampoo.py) -------------------------------------------------------


def test_shampoo_on_a_diagonal_matrix_is_rmsprop_with_eps_inside():
    """GGᵀ = GᵀG = diag(g²): L = R = diag(v), P_L G P_R = g/√(v + ε) — RMSProp, ε inside the root,
    no bias correction (docs/REFERENCE.md §7)."""
    from adasim import RMSProp, Shampoo

    problem = Matrix(size=3)
    a = simulate(problem, Shampoo(beta2=0.9, eps=1e-8, lr=0.01), 2000, seeds=[0, 1], engine="numpy")
    b = simulate(problem, RMSProp(beta2=0.9, eps=1e-8, eps_mode="inside", lr=0.01), 2000, seeds=[0, 1], engine="numpy")
    np.testing.assert_allclose(a.trace.x, b.trace.x, rtol=0, atol=1e-13)


def test_shampoo_refreshing_every_k_steps_divides_by_stale_statistics():
    """refresh = k: the roots are those of the last refresh step t_r = 1 + k⌊(t − 1)/k⌋; on a diagonal
    matrix the step is g_t/√(v_{t_r} + ε), replayed here by hand."""
    from adasim import Shampoo

    problem, k, beta2, eps, lr = Matrix(size=2, domain=Domain(-np.inf, np.inf)), 5, 0.9, 1e-8, 0.01
    run = simulate(problem, Shampoo(beta2=beta2, eps=eps, refresh=k, lr=lr), 60, seeds=[4], engine="numpy", stride=1,
                   log_spaced=False)  # fmt: skip
    v, root, x, xs = np.zeros(2), None, np.zeros(2), []
    for t in range(1, 61):
        g = np.diag(problem.gradient(np.zeros((1, 4)), t, np.array([4])).reshape(2, 2))
        v = beta2 * v + (1 - beta2) * g * g
        if (t - 1) % k == 0:
            root = 1.0 / np.sqrt(v + eps)
        x = x - lr * g * root
        xs.append(x.copy())
    got = np.diagonal(run.trace.x[:, 0].reshape(-1, 2, 2), axis1=1, axis2=2)
    np.testing.assert_allclose(got, np.array(xs), rtol=1e-12, atol=1e-15)
    fresh = simulate(problem, Shampoo(beta2=beta2, eps=eps, lr=lr), 60, seeds=[4], engine="numpy")
    assert not np.allclose(fresh.final_x, run.final_x)


def test_shampoo_is_rotation_equivariant_and_needs_a_square_matrix():
    from adasim import Layered, Quadratic, Shampoo

    flat, turned = Matrix(size=3, domain=Domain(-np.inf, np.inf)), Matrix(size=3, rotate=True)
    U, V = turned.rotations()
    a = simulate(flat, Shampoo(lr=0.01), 500, seeds=[0], engine="numpy").final_x.reshape(3, 3)
    b = simulate(turned, Shampoo(lr=0.01), 500, seeds=[0], engine="numpy").final_x.reshape(3, 3)
    np.testing.assert_allclose(U @ a @ V.T, b, atol=1e-10)
    for problem in (Quadratic(size=3), Layered(blocks="2:1,2:1,2:1")):
        with pytest.raises(AdasimError, match="square matrix, got"):
            simulate(problem, Shampoo(), 5, engine="numpy")
    with pytest.raises(AdasimError, match=r"refresh must lie in \[1"):
        Shampoo(refresh=0)


# -- error-feedback Muon and NorMuon (adasim/optimizers/muon.py) ------------------------------------


def test_ef_muon_on_a_diagonal_matrix_is_ef_signum_with_the_scaled_sign_compressor():
    """Exact polar, no Nesterov, a diagonal W: P = α B + e is diagonal, msign(P) = sign(p) and
    ‖P‖_* = ‖p‖₁, so Δ = (‖p‖₁/m) sign(p) — Karimireddy et al.'s EF-SignSGD compressor on the
    momentum, replayed here by hand on the diagonal (the off-diagonal entries never move)."""
    from adasim import EFMuon

    problem, steps, lr, mu = Matrix(size=3, domain=Domain(-np.inf, np.inf)), 400, 0.01, 0.9
    run = simulate(problem, EFMuon(beta1=mu, nesterov=False, polar="exact", lr=lr), steps, seeds=[1], engine="numpy",
                   stride=1, log_spaced=False)  # fmt: skip
    b, e, x, xs = np.zeros(3), np.zeros(3), np.zeros(3), []
    for t in range(1, steps + 1):
        g = np.diag(problem.gradient(np.zeros((1, 9)), t, np.array([1])).reshape(3, 3))
        b = mu * b + (1 - mu) * g
        p = lr * b + e
        delta = np.abs(p).sum() / 3 * np.sign(p)
        e = p - delta
        x = x - delta
        xs.append(x.copy())
    W = run.trace.x[:, 0].reshape(-1, 3, 3)
    np.testing.assert_allclose(np.diagonal(W, axis1=1, axis2=2), np.array(xs), rtol=1e-10, atol=1e-14)
    assert np.abs(W[:, ~np.eye(3, dtype=bool)]).max() < 1e-14


def test_ef_muon_tracks_momentum_sgd_up_to_its_residual():
    """Σ Δ_s = Σ α Ũ_s − e_t: unconstrained and without decay, x_t + α Σ B_s (no Nesterov: Ũ = B,
    recorded as m) is the residual e_t, which stays bounded while x itself travels far."""
    from adasim import EFMuon

    problem, steps, lr = Matrix(size=3, rotate=True), 3000, 0.01
    run = simulate(problem, EFMuon(nesterov=False, lr=lr), steps, seeds=[0], engine="numpy", stride=1, log_spaced=False,
                   record=("x", "m"))  # fmt: skip
    residual = run.trace.x[:, 0] + lr * np.cumsum(run.trace.m[:, 0], axis=0)
    assert np.abs(run.trace.x[-1, 0]).max() > 10 * np.abs(residual).max()


def test_ef_muon_sets_its_own_step_size():
    from adasim import EFMuon

    with pytest.raises(AdasimError, match="error feedback sets the step's size itself"):
        EFMuon(lr_scale="original")


def test_normuon_on_a_diagonal_matrix_with_the_exact_polar_factor_is_muon():
    """msign of a diagonal matrix is diag(sign u): every row has mean square 1/m, so every row's v
    is the same, the normalisation is a common factor, and rescaling to ‖O‖_F undoes it — NorMuon
    is exact Muon there (to ε = 1e-10's relative size)."""
    from adasim import NorMuon

    problem = Matrix(size=3, domain=Domain(-np.inf, np.inf))
    a = simulate(problem, NorMuon(polar="exact", lr=0.01), 1000, seeds=[0, 1], engine="numpy")
    b = simulate(problem, Muon(polar="exact", lr=0.01), 1000, seeds=[0, 1], engine="numpy")
    np.testing.assert_allclose(a.trace.x, b.trace.x, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("update_scale", ["preserve_norm", "match_rms"])
def test_normuon_matches_pytorch_optimizers_normuon_in_float64(monkeypatch, update_scale):
    """pytorch-optimizer's NorMuon with its Newton–Schulz run in float64 (it runs it in bfloat16 by
    default; everything else is its own code) on Gaussian 4 × 6 gradients: equal to 1e-12."""
    torch = pytest.importorskip("torch", reason="needs the torch extra (pip install 'adasim[torch]')")
    po = pytest.importorskip("pytorch_optimizer", reason="needs pytorch-optimizer (pip install 'adasim[references]')")
    import functools
    import sys

    from adasim import NorMuon

    for name, module in list(sys.modules.items()):
        if name.startswith("pytorch_optimizer") and hasattr(module, "zero_power_via_newton_schulz_5"):
            fn = module.zero_power_via_newton_schulz_5
            monkeypatch.setattr(module, "zero_power_via_newton_schulz_5", functools.partial(fn, dtype=torch.float64))
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((200, 4, 6))
    w = torch.zeros(4, 6, dtype=torch.float64, requires_grad=True)
    opt = po.NorMuon([{"params": [w], "use_muon": True}], lr=0.01, weight_decay=0.1, update_scale=update_scale)
    ours = NorMuon(lr=0.01, weight_decay=0.1, update_scale=update_scale.replace("_", "-"))
    d, hp = ours.definition, ours.hp
    state, x = d.state(), np.zeros(24)
    for t, g in enumerate(grads, start=1):
        w.grad = torch.from_numpy(g.copy())
        opt.step()
        state, o = d.step(state, hp, g.reshape(24), t, 0.01, x, (6,) * 4)
        x = x - o.step
    assert np.abs(x).max() > 0.2
    np.testing.assert_allclose(x, w.detach().numpy().reshape(24), rtol=0, atol=1e-12)


def test_msign_of_a_computed_rank_one_matrix_is_its_sign_times_u_v():
    """c·u vᵀ with dense unit u, v: rounding leaves singular values near 1e-15·σ_max, which must
    count as zero (ops.RANK_RTOL), or the polar factor gains unit steps in meaningless directions."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        u, v = rng.standard_normal(4), rng.standard_normal(4)
        u, v, c = u / np.linalg.norm(u), v / np.linalg.norm(v), 10.0 * rng.standard_normal()
        got = ops.msign((c * np.outer(u, v)).reshape(-1), (4,) * 4).reshape(4, 4)
        np.testing.assert_allclose(got, np.sign(c) * np.outer(u, v), atol=1e-10)
