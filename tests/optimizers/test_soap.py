"""SOAP (adasim/optimizers/soap.py), held to hand replays of its identities and to
pytorch-optimizer's SOAP, the port of the reference code."""

from __future__ import annotations

import numpy as np
import pytest

from adasim import SOAP, Domain, Matrix, Stochastic, simulate
from adasim.errors import AdasimError


def _late_adam(grads: np.ndarray, lr: float, beta1: float, beta2: float, eps: float, wd: float = 0.0) -> np.ndarray:
    """Adam with ε outside the root, g_1 skipped, bias corrections at s = t − 1, decoupled decay
    applied after the step — written out by hand, entry by entry, unconstrained."""
    x = np.zeros(grads.shape[1])
    m, v, xs = np.zeros_like(x), np.zeros_like(x), [x.copy()]
    for t in range(2, len(grads) + 1):
        g, s = grads[t - 1], t - 1
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = (x - lr * np.sqrt(1 - beta2**s) / (1 - beta1**s) * m / (np.sqrt(v) + eps)) * (1 - lr * wd)
        xs.append(x.copy())
    return np.array(xs)


def test_soap_on_a_scalar_problem_is_adam_started_one_step_late():
    """1 × 1: Q = ±1, so SOAP is Adam that only reads g_1 into its statistics (module text)."""
    problem = Stochastic(domain=Domain(-np.inf, np.inf))
    steps, lr = 300, 0.01
    run = simulate(problem, SOAP(lr=lr, weight_decay=0.01), steps, seeds=[5], engine="numpy", stride=1, log_spaced=False)
    grads = np.array([problem.gradient(np.zeros((1, 1)), t, np.array([5]))[0] for t in range(1, steps + 1)])
    want = _late_adam(grads, lr, 0.95, 0.95, 1e-8, wd=0.01)
    np.testing.assert_allclose(run.trace.x[:, 0], want, rtol=1e-12, atol=1e-15)


def test_soap_on_a_diagonal_matrix_is_late_adam_on_every_entry():
    """A diagonal G: L = R = diag(EMA g²), whose eigenvectors are unit vectors, so the rotation
    only permutes (and signs) the entries — SOAP is the late Adam above on each diagonal copy, the
    off-diagonal entries stay at rounding level (copies with equal |g| share an eigenvalue, and the
    basis of a shared eigenspace is any rotation of it). Refresh every 3 steps exercises the power step."""
    problem = Matrix(size=3, domain=Domain(-np.inf, np.inf))
    steps, lr = 200, 0.01
    run = simulate(problem, SOAP(lr=lr, refresh=3, beta1=0.9, beta2=0.99), steps, seeds=[2], engine="numpy", stride=1,
                   log_spaced=False)  # fmt: skip
    grads = np.array([np.diag(problem.gradient(np.zeros((1, 9)), t, np.array([2])).reshape(3, 3)) for t in range(1, steps + 1)])
    want = _late_adam(grads, lr, 0.9, 0.99, 1e-8)
    W = run.trace.x[:, 0].reshape(-1, 3, 3)
    np.testing.assert_allclose(np.diagonal(W, axis1=1, axis2=2), want, rtol=1e-9, atol=1e-12)
    assert np.abs(W[:, ~np.eye(3, dtype=bool)]).max() < 1e-7


def _replay(gradients: np.ndarray, **settings) -> np.ndarray:
    """SOAP's step called directly on a sequence of 4 × 4 gradients (one lane), unconstrained."""
    opt = SOAP(**settings)
    d, hp = opt.definition, opt.hp
    state, x, xs = d.state(), np.zeros(16), []
    for t, g in enumerate(gradients, start=1):
        state, o = d.step(state, hp, g.reshape(16), t, opt.lr, x, (4,) * 4)
        x = x - o.step
        xs.append(x.copy())
    return np.array(xs)


# Gaussian gradients: their statistics have distinct eigenvalues. (With repeated eigenvalues, as on
# the rotated copies problem, the eigenbasis is any rotation within each eigenspace and SOAP's
# steps depend on the one the eigensolver returns: the module text.)
GRADIENTS = np.random.default_rng(7).standard_normal((300, 4, 4)) * np.array([3.0, 1.0, 0.3, 0.1])[:, None]


def test_soap_is_rotation_equivariant():
    """L and R turn with U and V, their eigenbases too, and Adam's v lives in the eigenbasis: fed
    U G_t Vᵀ, the iterates are U W_t Vᵀ (Adam's are not: tests/optimizers/test_muon.py)."""
    from adasim.problems.matrix import orthogonal

    U, V = orthogonal(4, 1), orthogonal(4, 2)
    a = _replay(GRADIENTS, lr=0.01, refresh=4).reshape(-1, 4, 4)
    b = _replay(U @ GRADIENTS @ V.T, lr=0.01, refresh=4).reshape(-1, 4, 4)
    assert np.abs(a).max() > 0.5
    np.testing.assert_allclose(U @ a @ V.T, b, atol=1e-8)


def test_soap_matches_pytorch_optimizers_soap():
    """pytorch-optimizer's SOAP (a port of the reference code) on the same gradients in float64, with
    its defaults (betas 0.95, weight decay 0.01, precondition frequency 10): it runs its QR in
    float32, so the two agree to float32's precision, not bit for bit (measured: 3.3e-8 over 300 steps
    that travel 0.54)."""
    torch = pytest.importorskip("torch", reason="needs the torch extra (pip install 'adasim[torch]')")
    po = pytest.importorskip("pytorch_optimizer", reason="needs pytorch-optimizer (pip install 'adasim[references]')")
    ours = _replay(GRADIENTS, lr=0.01, weight_decay=0.01)
    w = torch.zeros(4, 4, dtype=torch.float64, requires_grad=True)
    opt = po.SOAP([w], lr=0.01)
    theirs = []
    for g in GRADIENTS:
        w.grad = torch.from_numpy(g.copy())
        opt.step()
        theirs.append(w.detach().numpy().reshape(16).copy())
    travelled = np.abs(ours).max()
    assert travelled > 0.5
    np.testing.assert_allclose(ours, np.array(theirs), rtol=0, atol=1e-7)


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"refresh": 0}, r"refresh must lie in \[1"),
        ({"shampoo_beta": 1.0}, r"shampoo_beta must lie in \[0, 1\)"),
        ({"beta2": -0.1}, r"beta2 must lie in \[0, 1\)"),
        ({"eps": -1.0}, r"eps must lie in \[0"),
    ],
)
def test_bad_settings_are_one_line_errors(settings_, message):
    with pytest.raises(AdasimError, match=message) as err:
        SOAP(**settings_)
    assert "\n" not in str(err.value)


def test_soap_needs_a_square_matrix():
    from adasim import Layered

    with pytest.raises(AdasimError, match="square matrix, got 3 × 2"):
        simulate(Layered(blocks="2:1,2:1,2:1"), SOAP(), 5, engine="numpy")


def test_a_nan_gradient_gives_nan_not_a_lapack_error():
    g = GRADIENTS[:5].copy()
    g[2, 1, 1] = np.nan
    x = _replay(g, lr=0.01, refresh=1)
    assert np.isfinite(x[1]).all()
    assert np.isnan(x[-1]).all()
