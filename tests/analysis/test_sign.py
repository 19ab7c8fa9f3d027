"""Sign methods' closed forms (docs/REFERENCE.md §6) against long simulations and hand values."""

import doctest

import numpy as np
import pytest

import adasim.analysis.sign
from adasim import AdasimError, Domain, Online, Stochastic, simulate
from adasim.analysis import analytic_drift, sign_drift
from adasim.optimizers import ADOPT, AdaShift, Lion, SignSGD, Signum

FREE = Domain(-np.inf, np.inf)


def test_module_examples():
    failures, tried = doctest.testmod(adasim.analysis.sign)
    assert tried > 0
    assert failures == 0


def measured_drift(problem, opt, steps=20_000, seeds=200, warmup=3_000):
    """Mean Δx/α per step over seeds, after a warm-up that settles the EMAs, and its standard error."""
    run = simulate(problem, opt, steps, seeds=np.arange(seeds), warmup=warmup)
    per_seed = run.final_x[:, 0] / (steps * float(opt.lr))
    return float(per_seed.mean()), float(per_seed.std(ddof=1) / np.sqrt(seeds))


@pytest.mark.parametrize("p", [0.05, 0.1, 0.3])
def test_signsgd_follows_the_median(p):
    """E[sign g] = p − (1 − p) whatever C: with p < 1/2 x climbs although E[g] = pC − (1−p) > 0."""
    problem = Stochastic(C=40.0, p=p, domain=FREE)
    d = sign_drift(problem, SignSGD(lr=1.0))
    assert d.exact
    assert d.drift == pytest.approx(1 - 2 * p, abs=1e-15)
    assert problem.law().mean > 0
    assert d.direction == "up"
    mean, se = measured_drift(problem, SignSGD(lr=1.0), warmup=0)
    assert abs(mean - d.drift) < 5 * se


CASES = [
    ("signum-0.5", Signum(lr=1.0, beta1=0.5)),
    ("signum-0.9", Signum(lr=1.0, beta1=0.9)),
    ("signum-0.99", Signum(lr=1.0, beta1=0.99)),
    ("lion", Lion(lr=1.0)),
    ("lion-0.5-0.9", Lion(lr=1.0, beta1=0.5, beta2=0.9)),
    ("lion-beta2-0", Lion(lr=1.0, beta1=0.3, beta2=0.0)),  # r = 0: two draws, enumerated exactly
]


@pytest.mark.parametrize(("name", "opt"), CASES, ids=[c[0] for c in CASES])
def test_iid_interval_holds_the_long_run(name, opt):
    problem = Stochastic(C=20.0, p=0.1, domain=FREE)
    d = sign_drift(problem, opt)
    assert d.lo <= d.hi
    assert d.hi - d.lo < 0.01
    mean, se = measured_drift(problem, opt)
    assert d.lo - 5 * se <= mean <= d.hi + 5 * se, (d, mean, se)


def test_memory_decides_between_median_and_mean():
    """Reddi's stochastic problem (C = 20, p = 0.1, E[g] = 1.1 > 0): short memory climbs like
    signSGD, β = 0.9 already follows the mean (x → −1, the optimum)."""
    problem = Stochastic(C=20.0, p=0.1)
    assert sign_drift(problem, Signum(beta1=0.5)).direction == "up"
    assert sign_drift(problem, Signum(beta1=0.9)).direction == "down"
    assert sign_drift(problem, Lion()).direction == "down"


PERIODIC = [
    ("signsgd", SignSGD(lr=1.0), [1.0, -1.0, -1.0]),  # signs of c_j themselves: drift (−1 + 2)/3
    ("signum", Signum(lr=1.0, beta1=0.9), None),
    ("signum-short", Signum(lr=1.0, beta1=0.3), None),
    ("lion", Lion(lr=1.0), None),
    ("lion-0.5-0.9", Lion(lr=1.0, beta1=0.5, beta2=0.9), None),
]


@pytest.mark.parametrize(("name", "opt", "signs"), PERIODIC, ids=[c[0] for c in PERIODIC])
def test_periodic_drift_is_exact(name, opt, signs):
    """Displacement per step over whole periods after the transient equals −mean sign(c*_j)."""
    problem = Online(C=3.0, d=3, domain=FREE)
    d = sign_drift(problem, opt)
    if signs is not None:
        assert d.signs.tolist() == signs
    run = simulate(problem, opt, 3_000, stride=1, warmup=0)
    x = run.trace.x[:, 0, 0]
    assert (x[-1] - x[-1 - 300]) / 300 == pytest.approx(d.drift, abs=1e-12)
    assert analytic_drift(problem, opt) == d.drift


def test_hand_steady_state_of_signum():
    """β = 0.5, c = (3, −1, −1): c*_0 = 0.5·3 + 0.25·(−1) + 0.125·(−1) all over... by the formula
    c*_j = 0.5 c_j + 0.25 c_{j−1}/(1 − 1/8) + 0.125 c_{j−2}/(7/8) + 0.0625 c_{j−3}/(7/8)."""
    d = sign_drift(Online(C=3.0, d=3), Signum(beta1=0.5))
    c = np.array([3.0, -1.0, -1.0])
    star = [0.5 * c[j] + (0.25 * c[j - 1] + 0.125 * c[j - 2] + 0.0625 * c[j - 3]) / (7 / 8) for j in range(3)]
    np.testing.assert_allclose(d.c_star, star, rtol=1e-14)


def test_lion_with_decay_has_no_sign_closed_form():
    with pytest.raises(AdasimError, match="not a sign method"):
        sign_drift(Online(C=3.0), Lion(weight_decay=0.1))


# -- ADOPT without clip and AdaShift with n = 1 (docs/REFERENCE.md §6) ------------------------------------


def test_adopt_and_adashift_n1_coincide_at_beta2_0():
    problem = Stochastic(C=20.0, p=0.1, domain=FREE)
    adopt = ADOPT(lr=0.01, beta1=0.0, beta2=0.0, clip=False, eps=1e-300)
    shift = AdaShift(lr=0.01, n=1, window=1, beta1=0.0, beta2=0.0, eps=0.0)
    a = simulate(problem, adopt, 2_000, seeds=np.arange(4), stride=1)
    b = simulate(problem, shift, 2_000, seeds=np.arange(4), stride=1)
    np.testing.assert_allclose(a.trace.x, b.trace.x, rtol=1e-13, atol=1e-15)


def test_adopt_and_adashift_n1_part_in_the_transient_but_share_the_steady_state():
    problem = Online(C=3.0, d=3, domain=FREE)
    adopt = ADOPT(lr=1.0, beta1=0.0, beta2=0.5, clip=False, eps=1e-300)
    shift = AdaShift(lr=1.0, n=1, beta1=0.0, beta2=0.5, eps=0.0)
    a = simulate(problem, adopt, 3, stride=1).trace.x[:, 0, 0]
    b = simulate(problem, shift, 3, stride=1).trace.x[:, 0, 0]
    assert a[1] == pytest.approx(b[1], rel=1e-15)  # t = 2: both divide g_2 by |g_1|
    assert a[2] != pytest.approx(b[2], rel=1e-6)  # t = 3: g_1² weighs 1/2 (ADOPT) vs 1/3 (AdaShift's correction)
    from adasim.analysis import periodic_nuf

    ka, kb = periodic_nuf(problem, adopt).kappa, periodic_nuf(problem, shift).kappa
    np.testing.assert_allclose(ka, kb, rtol=1e-12)


def test_critical_memory_of_signum_on_skewed_noise():
    """Below β ≈ 0.276 Signum follows the median of g = 4 w.p. 0.3 else −1 and climbs; above, the mean."""
    from adasim.analysis import critical_value

    problem = Stochastic(C=4.0, s=1.0, p=0.3)
    crit = critical_value(problem, Signum(), "beta1", hi=0.9)
    assert 0.25 < crit.critical < 0.3
    assert crit.wrong_way_below is True
    free = Stochastic(C=4.0, s=1.0, p=0.3, domain=FREE)
    below, se_b = measured_drift(free, Signum(lr=1.0, beta1=crit.critical - 0.08))
    above, se_a = measured_drift(free, Signum(lr=1.0, beta1=crit.critical + 0.08))
    assert below > 5 * se_b
    assert above < -5 * se_a


def test_nuf_reports_the_sign_methods_closed_forms():
    """`adasim nuf ... -o signsgd` once printed "no closed form" for a drift that is +0.6·α exactly:
    signSGD's factor is 1/|g| per gradient and its drift −E[sign g] = 1 − 2p; Signum's drift has
    its interval, and no factor per gradient (docs/REFERENCE.md §6)."""
    import json

    from typer.testing import CliRunner

    from adasim.cli.app import app

    args = ["nuf", "stochastic", "--C", "10", "--p", "0.2", "--lr", "1", "--schedule", "constant", "--domain", "none",
            "--steps", "20000", "--json"]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "-o", "signsgd", "-o", "signum"])
    assert result.exit_code == 0, result.output
    rows = {r["optimizer"]: r for r in json.loads(result.output)["results"]}
    sgn = rows["signsgd"]
    assert sgn["drift"]["analytic"] == pytest.approx(0.6, abs=1e-12)
    assert {row["gradient"]: row["analytic"] for row in sgn["nuf"]} == {10.0: pytest.approx(0.1), -1.0: pytest.approx(1.0)}
    assert "analytic_unavailable" not in sgn
    signum = rows["signum"]
    assert all(row["analytic"] is None for row in signum["nuf"])
    assert signum["drift"]["analytic"] == pytest.approx(signum["drift"]["empirical"], abs=0.02)
    assert "sign method" in signum["analytic_note"]
