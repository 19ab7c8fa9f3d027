"""Golden sequences computed by hand: gradients 2, −1, −1 (and one more where needed), α = 1
constant, x_0 = 0, no projection. Each expected value is the hand derivation written out."""

import math

import numpy as np
import pytest
from helpers import replay_problem, sequence_problem

from adasim import ADOPT, SGD, Adagrad, Adam, AdamNC, AdaShift, AMSGrad, Momentum, RMSProp, simulate
from adasim.engine import iterate

r2 = math.sqrt(2.0)

GOLDEN = [
    # (id, optimizer, gradients, expected x_1..x_T)
    ("sgd", SGD(lr=1.0), [2, -1, -1], [-2.0, -1.0, 0.0]),
    # m = 1, 0, −0.5
    ("momentum", Momentum(lr=1.0, beta1=0.5), [2, -1, -1], [-1.0, -1.0, -0.5]),
    # v = 4, 5, 6: steps 2/2, −1/√5, −1/√6
    ("adagrad", Adagrad(lr=1.0, eps=0.0), [2, -1, -1], [-1.0, -1 + 1 / math.sqrt(5), -1 + 1 / math.sqrt(5) + 1 / math.sqrt(6)]),
    # v = 2, 1.5, 1.25
    (
        "rmsprop",
        RMSProp(lr=1.0, beta2=0.5, eps=0.0),
        [2, -1, -1],
        [-r2, -r2 + 1 / math.sqrt(1.5), -r2 + 1 / math.sqrt(1.5) + 1 / math.sqrt(1.25)],
    ),
    # Reddi's Adam: m = 1, 0, −0.5; v = 2, 1.5, 1.25
    (
        "adam-reddi",
        Adam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, bias_correction=False),
        [2, -1, -1],
        [-1 / r2, -1 / r2, -1 / r2 + 0.5 / math.sqrt(1.25)],
    ),
    # Kingma–Ba: m̂_1 = 1/0.5 = 2, v̂_1 = 2/0.5 = 4; m̂_3 = −0.5/0.875 = −4/7, v̂_3 = 1.25/0.875 = 10/7
    ("adam-kingma-ba", Adam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0), [2, -1, -1], [-1.0, -1.0, -1 + (4 / 7) / math.sqrt(10 / 7)]),
    # ε-hat 0.1 at t = 1: √(1−0.5)/(1−0.5) · 1/(√2 + 0.1) = √2/(√2 + 0.1)
    ("adam-eps-hat", Adam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.1, eps_mode="hat"), [2], [-r2 / (r2 + 0.1)]),
    # ε inside the root, 0.5: 2/√(4 + 0.5)
    ("adam-eps-inside", Adam(lr=1.0, beta1=0.5, beta2=0.5, eps=0.5, eps_mode="inside"), [2], [-2 / math.sqrt(4.5)]),
    # AMSGrad paper: v̂ = max(2, 1.5, 1.25) = 2 throughout
    ("amsgrad-paper", AMSGrad(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0), [2, -1, -1], [-1 / r2, -1 / r2, -0.5 / r2]),
    # PyTorch: max of raw v (2), ÷ √(1−β2^t); m̂ corrected: t=3: (0.5/0.875)·√0.875/√2
    (
        "amsgrad-pytorch",
        AMSGrad(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, convention="pytorch"),
        [2, -1, -1],
        [-1.0, -1.0, -1 + (0.5 / 0.875) * math.sqrt(0.875) / r2],
    ),
    # optax: max of corrected v̂ = max(4, 2, 10/7) = 4
    (
        "amsgrad-optax",
        AMSGrad(lr=1.0, beta1=0.5, beta2=0.5, eps=0.0, convention="optax"),
        [2, -1, -1],
        [-1.0, -1.0, -1 + 0.5 / 0.875 / 2],
    ),
    # AdamNC λ = 1: v = mean of g² = 4, 2.5, 2; m = 1, 0, −0.5
    ("adamnc", AdamNC(lr=1.0, beta1=0.5, eps=0.0), [2, -1, -1], [-0.5, -0.5, -0.5 + 0.5 / r2]),
    # AdamNC λ = 0.5: β1t = 0.5, 0.25, 0.125: m = 1, −0.5, −0.9375
    (
        "adamnc-lambda",
        AdamNC(lr=1.0, beta1=0.5, lam=0.5, eps=0.0),
        [2, -1, -1],
        [-0.5, -0.5 + 0.5 / math.sqrt(2.5), -0.5 + 0.5 / math.sqrt(2.5) + 0.9375 / r2],
    ),
    # AdaShift n = 1, β1 = 0: no step at t = 1; t = 2: v = 0.5·4, v̂ = 2/0.5 = 4, m = −1;
    # t = 3: v = 1 + 0.5 = 1.5, v̂ = 1.5/0.75 = 2
    ("adashift-n1", AdaShift(lr=1.0, n=1, beta1=0.0, beta2=0.5, eps=0.0), [2, -1, -1], [0.0, 0.5, 0.5 + 1 / r2]),
    # n = 2, w = 2, β1 = 0.5: t = 3: v̂ = 4, m = (−1 − 0.5)/1.5 = −1; t = 4: v̂ = 2, m = (2 − 0.5)/1.5 = 1
    ("adashift-n2", AdaShift(lr=1.0, n=2, beta1=0.5, beta2=0.5, eps=0.0), [2, -1, -1, 2], [0.0, 0.0, 0.5, 0.5 - 1 / r2]),
    # ADOPT without clip: t = 1 seeds v = 4; t = 2: ĝ = −1/2, m = −0.25, then v = 2.5; t = 3: ĝ = −1/√2.5
    (
        "adopt-noclip",
        ADOPT(lr=1.0, beta1=0.5, beta2=0.5, eps=1e-12, clip=False),
        [2, -1, -1],
        [0.0, 0.25, 0.25 + 0.125 + 0.5 / math.sqrt(2.5)],
    ),
    # ADOPT clip, official base: t = 2: ĝ = 10/1 clipped at (2−1)^¼ = 1, m = 0.5
    ("adopt-clip-official", ADOPT(lr=1.0, beta1=0.5, beta2=0.5, eps=1e-12), [1, 10], [0.0, -0.5]),
    # port base: clipped at 2^¼
    ("adopt-clip-port", ADOPT(lr=1.0, beta1=0.5, beta2=0.5, eps=1e-12, clip_base="port"), [1, 10], [0.0, -0.5 * 2**0.25]),
]


@pytest.mark.parametrize("engine", ["python", "numpy"])
@pytest.mark.parametrize(("optimizer", "grads", "expected"), [g[1:] for g in GOLDEN], ids=[g[0] for g in GOLDEN])
def test_golden_sequence(optimizer, grads, expected, engine):
    """A problem given by a Python gradient function (the executors that run Python code)."""
    run = simulate(sequence_problem(grads), optimizer, steps=len(grads), stride=1, engine=engine)
    np.testing.assert_allclose(run.trace.x[:, 0, 0], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("engine", ["python", "numpy", "compiled"])
@pytest.mark.parametrize(("optimizer", "grads", "expected"), [g[1:] for g in GOLDEN], ids=[g[0] for g in GOLDEN])
def test_golden_sequence_on_each_engine(optimizer, grads, expected, engine):
    """The sequence replayed as an x-independent problem, on every executor."""
    run = simulate(replay_problem(grads), optimizer, steps=len(grads), stride=1, engine=engine)
    np.testing.assert_allclose(run.trace.x[:, 0, 0], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("optimizer", "grads", "expected"), [g[1:] for g in GOLDEN], ids=[g[0] for g in GOLDEN])
def test_golden_sequence_in_one_block(optimizer, grads, expected):
    """The same numbers when the whole sequence is one block of the stream."""
    blocks = list(iterate(replay_problem(grads), optimizer, len(grads), block=len(grads)))
    assert len(blocks) == 1
    np.testing.assert_allclose(blocks[0].x[:, 0, 0], expected, rtol=1e-12, atol=1e-15)
