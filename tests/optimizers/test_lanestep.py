"""The lane-step forms run as plain Python (no numba): step by step they give the floats of each
optimizer's NumPy `update`, lane by lane — so the compiled path's definitions are checked even
where numba is not installed."""

import numpy as np
import pytest

from adasim import ADOPT, SGD, Adagrad, Adam, AdamNC, AdaShift, AMSGrad, Momentum, RMSProp, Schedule, Stochastic, simulate
from adasim.optimizers.lanestep import STATE_SIZE, lane_values

OPTIMIZERS = [
    SGD(lr=0.1),
    Momentum(lr=0.1, beta1=0.7),
    Adagrad(lr=0.1, eps=1e-3, eps_mode="inside"),
    RMSProp(lr=0.05, beta2=0.9),
    Adam(lr=0.05, beta1=np.array([0.0, 0.9]), beta2=np.array([0.5, 0.999]), eps_mode="hat", eps=1e-4),
    Adam(lr=0.05, bias_correction=False, eps=0.0, schedule=Schedule("inv-sqrt")),
    AMSGrad(lr=0.05, beta2=0.9, convention="optax"),
    AMSGrad(lr=0.05, beta2=0.9, convention="paper", eps_mode="inside"),
    ADOPT(lr=0.05, beta2=0.5),
    ADOPT(lr=0.05, beta2=0.5, clip=False, schedule=Schedule("inv-sqrt-affine")),
    AdaShift(lr=0.05, n=np.array([0, 3]), window=1, phi="identity"),
    AdaShift(lr=0.05, n=4, window=3, beta1=0.8),
    AdamNC(lr=0.05, beta1=0.6),
]


def python_path(optimizer, g, x0=0.0, lo=-1.0, hi=1.0):
    """x_t of every lane from the lane-step form, one Python call per lane and step."""
    form = optimizer.compiled_form()
    T, L = g.shape
    P = lane_values(form.params, L)
    lr = np.broadcast_to(np.asarray(optimizer.lr, dtype=float), (L,))
    t = np.arange(1, T + 1)
    sigma = optimizer.schedule(t)
    aux = np.zeros(T) if form.aux is None else form.aux(t)
    xs = np.empty((T, L))
    for lane in range(L):
        s = tuple(form.state) + (0.0,) * (STATE_SIZE - len(form.state))
        p = tuple(float(v) for v in P[:, lane])
        h = np.zeros(max(form.history, 1))
        x = x0
        for b in range(T):
            alpha = float(lr[lane]) * float(sigma[b])
            s, u, *_ = form.step(s, p, float(g[b, lane]), int(t[b]), alpha, float(aux[b]), h)
            x = min(max(x + -u, lo), hi)
            xs[b, lane] = x
    return xs


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: o.name)
def test_lane_step_form_is_the_update(optimizer):
    problem = Stochastic(C=20.0, p=0.1)
    T = 300
    lanes = max(optimizer.lanes(), 2)
    run = simulate(
        problem, optimizer, T, seeds=np.arange(lanes), stride=1, log_spaced=False, engine="numpy", projection="sequential"
    )
    expected = run.trace.x[:, :, 0]
    got = python_path(optimizer, run.trace.g[:, :, 0])
    np.testing.assert_array_equal(got, expected)
