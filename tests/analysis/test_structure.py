"""The net-update-factor structure every optimizer declares reproduces its steps, and the O(T)
empirical factors equal the O(T²) definition k_s = Q_s Σ_{t≥s} α_t P_t K(t, s)."""

import numpy as np
import pytest

from adasim import Domain, Online, Schedule, Stochastic, make_optimizer
from adasim.analysis.empirical import nuf_chunks
from adasim.analysis.kernel import ema_coefficients, window_weights
from adasim.engine import iterate

CASES = [
    ("sgd", {}),
    ("momentum", {"beta1": 0.8}),
    ("adagrad", {}),
    ("rmsprop", {"beta2": 0.9}),
    ("adam", {"beta1": 0.7, "beta2": 0.9}),
    ("adam", {"beta1": 0.7, "beta2": 0.9, "eps_mode": "hat", "eps": 1e-3}),
    ("amsgrad", {"beta1": 0.7, "beta2": 0.9, "convention": "pytorch"}),
    ("adamnc", {"beta1": 0.7, "lam": 0.95}),
    ("adashift", {"n": 3, "beta1": 0.6, "beta2": 0.9}),
    ("adashift", {"n": 4, "window": 2, "beta1": 0.6, "beta2": 0.9}),
    ("adopt", {"beta1": 0.7, "beta2": 0.9}),
]


def kernel_matrix(optimizer, t):
    """K(t, s) as a dense T × T lower-triangular matrix, straight from its definition."""
    kernel = optimizer.kernel()
    T = len(t)
    K = np.zeros((T, T))
    if kernel.kind == "identity":
        return np.eye(T)
    if kernel.kind == "window":
        w = window_weights(kernel)[:, 0, 0]
        for i, wi in enumerate(w):
            K += wi * np.eye(T, k=-i)
        return K
    a, b = ema_coefficients(kernel, t)
    a, b = a[:, 0, 0], b[:, 0, 0]
    for s in range(T):
        K[s, s] = b[s]
        for tt in range(s + 1, T):
            K[tt, s] = K[tt - 1, s] * a[tt]
    return K


@pytest.mark.parametrize(("name", "cfg"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_declared_structure_reproduces_the_steps(name, cfg):
    opt = make_optimizer(name, lr=0.05, schedule=Schedule("inv-sqrt"), **cfg)
    (blk,) = list(iterate(Stochastic(C=8.0, p=0.25), opt, 300, seeds=4, block=300))
    t = blk.t
    g = blk.g[:, 0, 0]
    alpha = np.broadcast_to(blk.alpha, blk.g.shape)[:, 0, 0]
    P = np.broadcast_to(blk.post, blk.g.shape)[:, 0, 0]
    Q = np.broadcast_to(blk.pre, blk.g.shape)[:, 0, 0]
    K = kernel_matrix(opt, t)
    rebuilt = alpha * P * (K @ (Q * g))
    np.testing.assert_allclose(rebuilt, blk.step[:, 0, 0], rtol=1e-10, atol=1e-15)

    # k_s by the O(T²) definition, against the streamed O(T) factors
    k_def = Q * ((alpha * P) @ K)
    chunks = list(nuf_chunks(iterate(Stochastic(C=8.0, p=0.25), opt, 300, seeds=4, block=64), opt.kernel(), tol=1e-14))
    t_out = np.concatenate([c.t for c in chunks])
    kappa = np.concatenate([c.kappa[:, 0, 0] for c in chunks])
    np.testing.assert_allclose(kappa, (k_def / alpha)[t_out - 1], rtol=1e-9, atol=1e-14)
    # the last steps miss part of their future and are held back
    assert t_out[-1] < 300 or opt.kernel().kind == "identity" or float(np.max(opt.kernel().beta1)) == 0.0


def test_net_displacement_is_the_sum_of_factor_times_gradient():
    """Unprojected: x_T − x_0 = −Σ_s k_s g_s once every factor is complete (identity kernel)."""
    opt = make_optimizer("rmsprop", lr=0.01, beta2=0.9)
    blocks = list(iterate(Online(C=5.0, d=4, k=1, domain=Domain(-np.inf, np.inf)), opt, 1000, block=128))
    steps = np.concatenate([b.step[:, 0, 0] for b in blocks])
    x_end = blocks[-1].x[-1, 0, 0]
    chunks = list(nuf_chunks(blocks, opt.kernel()))
    assert chunks[-1].t[-1] == 1000  # β1 = 0: no future is missing, nothing is held back
    k = np.concatenate([c.kappa[:, 0, 0] * np.broadcast_to(0.01, c.t.shape) for c in chunks])
    g = np.concatenate([c.g[:, 0, 0] for c in chunks])
    assert x_end == pytest.approx(-np.sum(k * g), rel=1e-12)
    assert x_end == pytest.approx(-np.sum(steps), rel=1e-12)
