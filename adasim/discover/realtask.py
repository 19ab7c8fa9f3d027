"""The real task beside the battery: multinomial logistic regression on scikit-learn's handwritten
digits (1 797 images of 8 × 8 pixels, 10 classes; they ship with scikit-learn, nothing is
downloaded: pip install 'adasim[discover]'). Every rule trains its own weights W (65 × 10, a bias
column included) as one lane of the engine's NumPy executor, on the same minibatches, from W = 0;
its cross-entropy on the whole data set after a fixed budget is compared with Adam's (its
defaults, the same α): a rule that stops moving cannot win here.

    ℓ(W) = −(1/N) Σ_i log softmax(x_i W)_{y_i},   ∇ℓ on a minibatch B: X_Bᵀ (softmax(X_B W) − Y_B)/|B|
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from adasim.discover.grammar import Genes
from adasim.discover.rule import ScaleRule
from adasim.errors import AdasimError

STEPS = 300
BATCH = 64
LR = 1e-2
CLASSES = 10


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """(X with a bias column, scaled to [0, 1]; the labels)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise AdasimError("the real task needs scikit-learn (its digits ship with it): pip install 'adasim[discover]'") from None
    data = load_digits()
    X = np.hstack([data.data / 16.0, np.ones((len(data.target), 1))])
    return X, data.target.astype(np.int64)


def _probabilities(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    z = np.einsum("bi,lik->lbk", X, W)
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def loss(W: np.ndarray) -> np.ndarray:
    """The cross-entropy on the whole data set, per lane: W (L, 65·10)."""
    X, y = digits()
    Wl = W.reshape(len(W), X.shape[1], CLASSES)
    with np.errstate(all="ignore"):
        p = _probabilities(X, Wl)
        out = -np.mean(np.log(np.maximum(p[:, np.arange(len(y)), y], 1e-300)), axis=1)
    return np.where(np.all(np.isfinite(W), axis=1), out, np.nan)


def problem() -> Any:
    """The task as an adasim problem: a Custom gradient of W, minibatch t drawn from t alone (the
    same batches for every lane)."""
    from adasim.problems import Custom

    X, y = digits()
    Y = np.eye(CLASSES)[y]
    D = X.shape[1] * CLASSES

    def gradient(x: np.ndarray, t: int, seeds: np.ndarray) -> np.ndarray:
        batch = np.random.default_rng([7, int(t)]).choice(len(y), size=BATCH, replace=False)
        Xb = X[batch]
        W = x.reshape(len(x), X.shape[1], CLASSES)
        p = _probabilities(Xb, W)
        g = np.einsum("bi,lbk->lik", Xb, p - Y[batch][None]) / BATCH
        return g.reshape(len(x), D)

    return Custom(gradient_fn=gradient, size=D, label="digits logistic regression")


def rule_losses(genes: Genes, steps: int = STEPS, lr: float = LR) -> np.ndarray:
    """Each rule's loss after `steps` steps at step size `lr` (NaN where it went non-finite)."""
    from adasim.engine import simulate

    prob = problem()
    out = np.full(len(genes), np.nan)
    phis = genes.values["phi"]
    for phi in dict.fromkeys(phis.tolist()):
        pick = np.flatnonzero(phis == phi)
        opt = ScaleRule(**genes.settings(pick), phi=str(phi), lr=lr)
        run = simulate(prob, opt, steps, seeds=0, x0=0.0, engine="numpy", record=())
        out[pick] = loss(run.final_x)
    return out


def adam_loss(steps: int = STEPS, lr: float = LR) -> float:
    """Adam's (adasim's definition, Kingma & Ba's defaults) on the same task and budget."""
    from adasim.engine import simulate
    from adasim.optimizers import Adam

    run = simulate(problem(), Adam(lr=lr), steps, seeds=0, x0=0.0, engine="numpy", record=())
    return float(loss(run.final_x)[0])
