"""Cross-check against torch.optim (float64, elementwise, so one tensor = all lanes). Skipped when
torch is not installed: torch is never a dependency of adasim."""

import numpy as np
import pytest

from adasim import Domain, Stochastic, make_optimizer, simulate

torch = pytest.importorskip("torch")

# (adasim name, adasim settings, torch class, torch settings). Momentum is left out on purpose:
# torch seeds its buffer with g_1 instead of starting the EMA at 0 (docs/REFERENCE.md §2 form).
CASES = [
    ("sgd", {"lr": 0.01}, "SGD", {"lr": 0.01}),
    ("adagrad", {"lr": 0.05, "eps": 1e-10}, "Adagrad", {"lr": 0.05, "eps": 1e-10}),
    ("rmsprop", {"lr": 0.01, "beta2": 0.99, "eps": 1e-8}, "RMSprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}),
    ("adam", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, "Adam", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}),
    ("adam", {"lr": 0.01, "beta1": 0.0, "beta2": 0.9, "eps": 1e-3}, "Adam", {"lr": 0.01, "betas": (0.0, 0.9), "eps": 1e-3}),
    (
        "amsgrad",
        {"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "convention": "pytorch"},
        "Adam",
        {"lr": 0.01, "betas": (0.9, 0.99), "eps": 1e-8, "amsgrad": True},
    ),
]


@pytest.mark.parametrize(("name", "cfg", "torch_cls", "torch_cfg"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch_optim(name, cfg, torch_cls, torch_cfg):
    problem = Stochastic(C=20.0, s=1.0, p=0.1, domain=Domain(-np.inf, np.inf))
    steps, seeds = 500, [0, 1, 2]
    run = simulate(problem, make_optimizer(name, **cfg), steps, seeds=seeds, stride=1)
    grads = torch.tensor(run.trace.g[:, :, 0], dtype=torch.float64)
    param = torch.zeros(len(seeds), dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, torch_cls)([param], **torch_cfg)
    path = []
    for t in range(steps):
        opt.zero_grad()
        param.grad = grads[t].clone()
        opt.step()
        path.append(param.detach().clone().numpy())
    np.testing.assert_allclose(run.trace.x[:, :, 0], np.array(path), rtol=1e-10, atol=1e-12)
