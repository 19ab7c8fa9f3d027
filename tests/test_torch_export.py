"""adasim.as_torch: every built-in optimizer as a torch.optim.Optimizer gives, on a parameter
driven by a counterexample's gradients, the iterates adasim's own NumPy executor gives, bit for bit
(the same step function on the same floats); one v per tensor for block-wise scales."""

import numpy as np
import pytest

import adasim
from adasim import AdasimError, Domain, Online, simulate
from adasim.optimizers import OPTIMIZERS

torch = pytest.importorskip("torch", reason="adasim.as_torch needs torch (pip install torch==2.13.0)")

PROBLEM = Online(C=10.0, d=3, k=1, domain=Domain(-np.inf, np.inf))  # no projection: torch has none


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_through_torch_is_adasims_own_bit_for_bit(name):
    opt = OPTIMIZERS[name](lr=0.05)
    reference = simulate(PROBLEM, opt, 200, engine="numpy", stride=1, log_spaced=False).trace.x[:, 0, 0]
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    stepper = adasim.as_torch(opt, [x])
    seen = []
    for t in range(1, 201):
        x.grad = torch.tensor([[10.0, -1.0, -1.0][(t - 1) % 3]], dtype=torch.float64)
        stepper.step()
        seen.append(x.item())
    np.testing.assert_array_equal(np.array(seen), reference)


def test_a_model_trains_and_the_probe_reads_adashifts_own_state():
    """Training a small network with adasim's AdaShift through torch: the loss falls, and the probe
    finds β1, β2, ε in the groups and the m and v of AdaShift's own step in the state."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    opt = adasim.as_torch(adasim.AdaShift(n=1, beta1=0.9, beta2=0.99), model.parameters(), lr=1e-2)
    assert type(opt).__name__ == "adasim_adashift"

    probe = adasim.probe(opt, model=model, window=50)  # its β's in the groups, m and v in the state
    x = torch.randn(128, 4, dtype=torch.float64)
    y = x[:, :1] * x[:, 1:2]
    losses = []
    for _ in range(200):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    report = probe.report()
    assert report.settings["steps"] == 200
    assert report.settings["beta2"] == 0.99
    assert all(np.isfinite(row["pearson_g2_v"]) for row in report.layers)


def test_per_lane_settings_are_refused():
    with pytest.raises(AdasimError, match="one value per lane"):
        adasim.as_torch(adasim.Adam(beta2=[0.9, 0.99]), [torch.zeros(2, requires_grad=True)])
