"""adasim.probe (adasim/training_probe.py) on torch optimizers: the correlation of v with g² against
its i.i.d. closed form √(1 − β2²), the shifted estimator's ~0, the net update factors against
adasim's exact ones on Reddi's counterexample replayed through a torch parameter, the hooks
removed by detach, the report written, read and shown by `adasim probe`."""

import json
import math
import sys

import numpy as np
import pytest
from helpers import one_line_error
from typer.testing import CliRunner

import adasim
from adasim.cli.app import app

torch = pytest.importorskip("torch", reason="adasim.probe needs torch (pip install torch==2.13.0)")


def frozen_iid(beta2: float, steps: int = 4000, shift: int = 1, sample: int = 800):
    """Adam with lr = 0 (x frozen) on i.i.d. normal gradients of 2 000 coordinates at scales 10^±1."""
    gen = torch.Generator().manual_seed(1)
    p = torch.nn.Parameter(torch.zeros(2000, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.0, betas=(0.9, beta2))
    probe = adasim.probe(opt, sample=sample, window=1000, shift=shift)
    scales = torch.exp(torch.randn(2000, generator=gen, dtype=torch.float64))
    for _ in range(steps):
        p.grad = torch.randn(2000, generator=gen, dtype=torch.float64) * scales
        opt.step()
    return probe


@pytest.mark.parametrize("beta2", [0.5, 0.9])
def test_iid_gradients_give_the_closed_form_correlation_and_shifting_removes_it(beta2):
    report = frozen_iid(beta2).report()
    (layer,) = report.layers
    assert abs(layer["pearson_g2_v"] - math.sqrt(1 - beta2**2)) < 0.02
    assert abs(layer["pearson_g2_v_shifted"]) < 0.02
    assert layer["kappa_abs_g"] < -0.05  # large gradients get small factors
    assert abs(layer["autocorrelation"][0]) < 0.02
    assert layer["spikes"] < 0.01
    assert report.settings["iid_pearson"] == pytest.approx(math.sqrt(1 - beta2**2))
    assert len(report.windows) == 4


def test_the_factors_are_adasims_exact_ones_on_reddis_counterexample():
    """Reddi's Theorem 1 (gradients 10, −1, −1) driven through a torch parameter with torch's Adam,
    β1 = 0: κ_s = 1/(√v_s + ε) per phase, adasim's closed form (analytic_nuf) once v is periodic."""
    from adasim.analysis import analytic_nuf

    beta2, eps = 1 / 101, 1e-8
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.0, betas=(0.0, beta2), eps=eps)
    probe = adasim.probe(opt, sample=4, window=100)
    pattern = [10.0, -1.0, -1.0]
    for t in range(600):
        p.grad = torch.full((4,), pattern[t % 3], dtype=torch.float64)
        opt.step()
    g, kappa = probe.factors()
    closed = analytic_nuf(adasim.Online(C=10.0, d=3, k=1), adasim.Adam(beta1=0.0, beta2=beta2, eps=eps)).kappa
    late = slice(300, 600)
    for phase, value in enumerate(closed):
        rows = np.arange(len(g))[late][np.arange(len(g))[late] % 3 == phase]
        np.testing.assert_allclose(kappa[rows], value, rtol=1e-9)
        assert np.all(g[rows] == pattern[phase])


def test_detach_removes_the_hooks_and_the_optimizer_steps_as_before():
    p = torch.nn.Parameter(torch.ones(10, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.1)
    probe = adasim.probe(opt, window=5)
    for _ in range(3):
        p.grad = torch.ones(10, dtype=torch.float64)
        opt.step()
    probe.detach()
    assert not opt._optimizer_step_pre_hooks
    assert not opt._optimizer_step_post_hooks
    p.grad = torch.ones(10, dtype=torch.float64)
    opt.step()
    assert probe.steps == 3


def test_named_layers_a_writer_and_the_report_round_trip(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    class Writer:
        def __init__(self):
            self.scalars = []

        def add_scalar(self, tag, value, step):
            self.scalars.append((tag, value, step))

    writer = Writer()
    probe = adasim.probe(opt, model=model, window=50, writer=writer)
    x = torch.randn(256, 8, dtype=torch.float64)
    y = x[:, :1] ** 2
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    report = probe.report()
    assert [row["layer"] for row in report.layers] == ["0", "2"]
    assert {row["tensor"] for row in report.tensors} == {"0.weight", "0.bias", "2.weight", "2.bias"}
    first = report.windows[0]["tensors"]  # a layer's value: its tensors' mean weighted by their samples
    sizes = {row["tensor"]: row["sampled"] for row in report.tensors}
    expected = sum(sizes[n] * first[n]["pearson_g2_v"] for n in ("0.weight", "0.bias")) / (sizes["0.weight"] + sizes["0.bias"])
    written = {(t, s): v for t, v, s in writer.scalars}
    assert written[("adasim/0/pearson_g2_v", 50)] == pytest.approx(expected, rel=1e-12)
    assert {s for _, _, s in writer.scalars} == {50, 100, 150, 200}
    path = report.write(tmp_path / "report.json")
    again = adasim.training_probe.ProbeReport.read(path)
    assert again.as_dict() == json.loads(path.read_text())
    result = CliRunner().invoke(app, ["probe", str(path), "--out", str(tmp_path / "fig")])
    assert result.exit_code == 0, result.output
    assert "r(g²,v)" in result.output
    assert (tmp_path / "fig" / "probe.png").exists()


def test_an_optimizer_without_adams_state_says_how_to_point_at_it():
    p = torch.nn.Parameter(torch.ones(5, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.1)
    adasim.probe(opt)
    p.grad = torch.ones(5, dtype=torch.float64)
    with pytest.raises(adasim.AdasimError, match="betas=\\(beta1, beta2\\)"):
        opt.step()
    opt2 = torch.optim.RMSprop([p], lr=0.1)
    probe = adasim.probe(opt2, betas=(0.0, 0.99), state=lambda o, q: (o.state[q]["square_avg"] * 0, o.state[q]["square_avg"]))
    for _ in range(20):
        p.grad = torch.ones(5, dtype=torch.float64)
        opt2.step()
    assert probe.steps == 20


def test_bad_input_is_one_line(tmp_path, monkeypatch):
    with pytest.raises(adasim.AdasimError, match=r"torch\.optim\.Optimizer"):
        adasim.probe("adam")
    p = torch.nn.Parameter(torch.ones(5))
    with pytest.raises(adasim.AdasimError, match="window must lie"):
        adasim.probe(torch.optim.Adam([p]), window=1)
    (tmp_path / "bad.json").write_text("{}")
    assert "is not a probe report" in one_line_error(CliRunner().invoke(app, ["probe", str(tmp_path / "bad.json")]))
    assert "cannot read" in one_line_error(CliRunner().invoke(app, ["probe", str(tmp_path / "missing.json")]))
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(adasim.AdasimError, match=r"adasim\[torch\]"):
        adasim.probe(object())
