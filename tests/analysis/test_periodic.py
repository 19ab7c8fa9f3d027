"""Periodic steady state of the online problem: closed forms against hand derivations, against
the measured factors (to 1e-9 after the transient), and the drift sign against the end point."""

import math

import numpy as np
import pytest

from adasim import Online, Schedule, make_optimizer, simulate
from adasim.analysis import empirical_nuf, periodic_nuf
from adasim.analysis.drift import critical_value
from adasim.errors import AdasimError


def test_reddi_theorem1_factors_by_hand():
    # β1 = 0, β2 = 1/(1+C²), no ε: v*_j = (1−β2)/(1−β2³) Σ_i β2^i c²_{j−i}; κ_j = 1/√v*_j
    C, b2 = 10.0, 1 / 101
    norm = (1 - b2) / (1 - b2**3)
    v0 = norm * (C**2 + b2 * 1 + b2**2 * 1)
    v1 = norm * (1 + b2 * C**2 + b2**2 * 1)
    v2 = norm * (1 + b2 * 1 + b2**2 * C**2)
    res = periodic_nuf(Online(C=C, d=3, k=1), make_optimizer("adam", beta1=0.0, beta2=b2, eps=0.0))
    np.testing.assert_allclose(res.v, [v0, v1, v2], rtol=1e-14)
    np.testing.assert_allclose(res.kappa, [1 / math.sqrt(v) for v in (v0, v1, v2)], rtol=1e-14)
    # drift per step: −(C κ_0 − κ_1 − κ_2)/3 > 0: Adam climbs to the worst point
    assert res.drift == pytest.approx(-(C / math.sqrt(v0) - 1 / math.sqrt(v1) - 1 / math.sqrt(v2)) / 3)
    assert res.drift > 0


def test_amsgrad_and_adashift_by_hand():
    C, b2 = 10.0, 1 / 101
    norm = (1 - b2) / (1 - b2**3)
    v = [norm * (C**2 + b2 + b2**2), norm * (1 + b2 * C**2 + b2**2), norm * (1 + b2 + b2**2 * C**2)]
    ams = periodic_nuf(Online(C=C), make_optimizer("amsgrad", beta1=0.0, beta2=b2, eps=0.0))
    np.testing.assert_allclose(ams.kappa, 1 / math.sqrt(max(v)), rtol=1e-14)  # one factor for all
    # AdaShift n = 1, β1 = 0: phase j is scaled by v built from c_{j−1}: κ_j = 1/√v*_{j−1}
    shift = periodic_nuf(Online(C=C), make_optimizer("adashift", n=1, beta1=0.0, beta2=b2, eps=0.0))
    np.testing.assert_allclose(shift.kappa, [1 / math.sqrt(v[2]), 1 / math.sqrt(v[0]), 1 / math.sqrt(v[1])], rtol=1e-14)
    assert shift.drift < 0 < periodic_nuf(Online(C=C), make_optimizer("adam", beta1=0.0, beta2=b2, eps=0.0)).drift


def test_momentum_kernel_geometric_sum_by_hand():
    # β1 = 0.5, d = 2, P = (p0, p1): κ_0 = (1−β1)(p0 + β1 p1)/(1 − β1²)
    res = periodic_nuf(Online(C=3.0, d=2, k=1), make_optimizer("adam", beta1=0.5, beta2=0.0, eps=0.0))
    p0, p1 = 1 / 3.0, 1.0  # β2 = 0: v_j = c_j²
    assert res.kappa[0] == pytest.approx(0.5 * (p0 + 0.5 * p1) / 0.75, rel=1e-14)
    assert res.kappa[1] == pytest.approx(0.5 * (p1 + 0.5 * p0) / 0.75, rel=1e-14)


AGREE = [
    ("sgd", {}),
    ("momentum", {"beta1": 0.9}),
    ("rmsprop", {"beta2": 0.9}),
    ("adam", {"beta1": 0.9, "beta2": 0.99}),
    ("adam", {"beta1": 0.5, "beta2": 0.9, "bias_correction": False}),
    ("adam", {"beta1": 0.5, "beta2": 0.9, "eps": 1e-2, "eps_mode": "inside"}),
    ("adam", {"beta1": 0.5, "beta2": 0.9, "eps": 1e-2, "eps_mode": "hat"}),
    ("amsgrad", {"beta1": 0.9, "beta2": 0.99, "convention": "paper"}),
    ("amsgrad", {"beta1": 0.9, "beta2": 0.99, "convention": "pytorch"}),
    ("amsgrad", {"beta1": 0.9, "beta2": 0.99, "convention": "optax"}),
    ("adashift", {"n": 1, "beta1": 0.0, "beta2": 0.99}),
    ("adashift", {"n": 5, "beta1": 0.9, "beta2": 0.99}),
    ("adashift", {"n": 4, "window": 2, "beta1": 0.5, "beta2": 0.9, "phi": "mean"}),
    ("adopt", {"beta1": 0.9, "beta2": 0.99, "clip": False}),
]
PROBLEMS = [Online(C=10.0, d=3, k=1), Online(C=7.0, s=2.0, d=7, k=2), Online(C=101.0, d=11, k=1)]


# issue 16's EMA-based definitions reuse the same machinery (their declarations, no case each): on one problem
MODERN = [
    ("radam", {"beta1": 0.9, "beta2": 0.99}),
    ("radam", {"beta1": 0.5, "beta2": 0.9, "form": "optax"}),
    ("adamw", {"beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0}),
    ("adam-mini", {"beta1": 0.9, "beta2": 0.99}),
]
CASES = [(n, c, p) for n, c in AGREE for p in PROBLEMS] + [(n, c, PROBLEMS[1]) for n, c in MODERN]


@pytest.mark.parametrize(("name", "cfg", "problem"), CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_closed_form_equals_measured_after_the_transient(name, cfg, problem):
    opt = make_optimizer(name, lr=1e-3, **cfg)  # constant α: κ = k/α exactly
    analytic = periodic_nuf(problem, opt)
    measured = empirical_nuf(problem, opt, 12_000, burn_in=8_000, tol=1e-15)
    kappa = np.array([g.mean for g in measured.groups])
    assert [g.phase for g in measured.groups] == list(range(problem.d))
    np.testing.assert_allclose(kappa, analytic.kappa, rtol=1e-9)
    assert max(g.std for g in measured.groups) < 1e-9 * max(analytic.kappa)


@pytest.mark.parametrize(
    ("name", "cfg", "end"),
    [
        ("adam", {"beta1": 0.0, "beta2": 1 / 101}, 1.0),
        ("adam", {"beta1": 0.9, "beta2": 0.99}, -1.0),
        ("rmsprop", {"beta2": 0.6}, 1.0),
        ("rmsprop", {"beta2": 0.7}, -1.0),
        ("adashift", {"n": 1, "beta1": 0.0, "beta2": 1 / 101}, -1.0),
        ("amsgrad", {"beta1": 0.0, "beta2": 1 / 101}, -1.0),
    ],
)
def test_drift_sign_predicts_the_end_point(name, cfg, end):
    problem = Online(C=10.0, d=10, k=2) if name == "rmsprop" else Online(C=10.0, d=3, k=1)
    opt = make_optimizer(name, lr=0.5, schedule=Schedule("inv-sqrt"), eps=0.0, **cfg)
    drift = periodic_nuf(problem, opt).drift
    final = simulate(problem, opt, 200_000).final_x[0, 0]
    assert np.sign(drift) == np.sign(end)
    assert final == pytest.approx(end, abs=0.05)


def test_shi_transition_for_C_10():
    """Shi et al. 2021 (ICLR), Fig. 1: RMSProp on the two-spike period-C problem with C = 10
    moves from divergence to convergence between β2 = 0.63 and β2 = 0.64."""
    crit = critical_value(Online(C=10.0, d=10, k=2), make_optimizer("rmsprop", eps=0.0))
    assert 0.63 < crit.critical < 0.64
    assert crit.wrong_way_below


def test_critical_C_and_brackets():
    crit = critical_value(Online(d=3, k=1), make_optimizer("adam", beta1=0.0, beta2=0.1, eps=0.0), "C")
    assert crit.critical is not None
    # the drift really changes sign there
    below = periodic_nuf(Online(C=crit.critical * 0.99), make_optimizer("adam", beta1=0.0, beta2=0.1, eps=0.0)).drift
    above = periodic_nuf(Online(C=crit.critical * 1.01), make_optimizer("adam", beta1=0.0, beta2=0.1, eps=0.0)).drift
    assert below > 0 > above
    with pytest.raises(AdasimError, match="beta1, beta2 or C"):
        critical_value(Online(), make_optimizer("adam"), "lr")
    with pytest.raises(AdasimError, match="bracket"):
        critical_value(Online(), make_optimizer("adam"), "beta2", lo=0.9, hi=0.5)


def test_adagrad_has_no_steady_state():
    with pytest.raises(AdasimError, match="no steady state"):
        periodic_nuf(Online(), make_optimizer("adagrad"))


def test_a_shift_that_is_a_multiple_of_the_period_does_not_decorrelate():
    adam = periodic_nuf(Online(C=10.0, d=3), make_optimizer("adashift", n=0, beta1=0.0, beta2=0.1, eps=0.0))
    n3 = periodic_nuf(Online(C=10.0, d=3), make_optimizer("adashift", n=3, beta1=0.0, beta2=0.1, eps=0.0))
    np.testing.assert_allclose(n3.kappa, adam.kappa, rtol=1e-14)
