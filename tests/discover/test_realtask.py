"""The real task: its gradient against finite differences of its own loss on the same minibatch
(an independent derivation), the loss at W = 0 (log 10), and a one-line error without scikit-learn."""

import math

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the real task needs scikit-learn: pip install 'adasim[discover]'")

from adasim.discover import realtask


def test_loss_at_zero_is_log_classes():
    X, _ = realtask.digits()
    assert realtask.loss(np.zeros((2, X.shape[1] * 10))) == pytest.approx([math.log(10)] * 2, rel=1e-12)


def test_gradient_matches_finite_differences():
    X, y = realtask.digits()
    prob = realtask.problem()
    rng = np.random.default_rng(0)
    W = rng.normal(scale=0.1, size=(1, prob.dim))
    g = prob.gradient(W, 5, np.zeros(1, dtype=np.uint64))[0]
    batch = np.random.default_rng([7, 5]).choice(len(y), size=realtask.BATCH, replace=False)

    def batch_loss(w):
        z = X[batch] @ w.reshape(X.shape[1], 10)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(batch)), y[batch]]))

    for i in rng.choice(prob.dim, size=12, replace=False):
        e = np.zeros(prob.dim)
        e[i] = 1e-6
        fd = (batch_loss(W[0] + e) - batch_loss(W[0] - e)) / 2e-6
        assert g[i] == pytest.approx(fd, abs=1e-7)


def test_missing_scikit_learn_is_one_line(monkeypatch):
    import builtins

    from adasim.errors import AdasimError

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    realtask.digits.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(AdasimError, match=r"adasim\[discover\]"):
        realtask.digits()
    monkeypatch.undo()
    realtask.digits.cache_clear()
