"""What the explorer computes for one position of its controls: parsed and checked like the
command line, the factors against the hand derivation of Reddi et al.'s Theorem 1, the drift's
sign flipping at the critical β2, the printed command reproducing the view."""

import dataclasses
import json
import math
import shlex

import numpy as np
import pytest
from typer.testing import CliRunner

from adasim.analysis.drift import analytic_drift, critical_value
from adasim.analysis.report import closed_form
from adasim.cli.app import app
from adasim.errors import AdasimError
from adasim.explorer.view import CONTROLS, INDEPENDENT, MAP_BETA1, MAP_BETA2, Position, parse_position, phase, view
from adasim.optimizers import OPTIMIZERS


def test_defaults_are_reddi_theorem1_and_every_default_is_a_stop():
    p = parse_position({})
    assert p == Position()
    assert (p.family, p.C, p.d, p.k, p.beta1, p.n, p.lr, p.schedule) == ("online", 10.0, 3, 1, 0.0, 1, 0.5, "inv-sqrt")
    assert p.beta2 == pytest.approx(1 / 101, rel=0.01)  # Reddi et al. 2018, Thm 1: β2 = 1/(1+C²)
    for c in CONTROLS:
        for family in ("online", "stochastic"):
            assert c.default_for(family) in (c.choices or c.stops), c.name


def test_the_factors_are_the_hand_derivation_and_the_measured_ones_match_them():
    # β1 = 0: v*_j = (1−β2)/(1−β2³) Σ_i β2^i c²_{j−i}, κ_j = 1/√v*_j (tests/analysis/test_periodic.py)
    out = view(parse_position({"eps": "0", "optimizers": "adam"}))
    C, b2 = 10.0, 0.0099
    norm = (1 - b2) / (1 - b2**3)
    v = [norm * (C**2 + b2 + b2**2), norm * (1 + b2 * C**2 + b2**2), norm * (1 + b2 + b2**2 * C**2)]
    adam = out["optimizers"][0]
    closed = [row["closed"] for row in adam["nuf"]]
    np.testing.assert_allclose(closed, [1 / math.sqrt(x) for x in v], rtol=1e-5)
    np.testing.assert_allclose([row["measured"] for row in adam["nuf"]], closed, rtol=1e-5)
    drift = -(C * closed[0] - closed[1] - closed[2]) / 3
    assert adam["drift"]["closed"] == pytest.approx(drift, rel=1e-5)
    assert adam["drift"]["verdict"] == "away from x*"
    assert adam["final_x"] == pytest.approx(1.0, abs=0.02)  # the worst point
    json.dumps(out, allow_nan=False)


def test_the_drift_changes_sign_at_the_critical_beta2():
    ph = phase(parse_position({"optimizers": "adam"}))
    crit = ph["optimizers"][0]["critical_beta2"]
    # the closed form's own root, found on its default (finer) scan
    spec = Position(optimizers=("adam",)).spec()
    assert crit == pytest.approx(critical_value(spec.problem, spec.optimizers[0]).critical, rel=1e-9)
    below = view(parse_position({"optimizers": "adam", "beta2": f"{crit * 0.9:.4g}"}))["optimizers"][0]["drift"]
    above = view(parse_position({"optimizers": "adam", "beta2": f"{crit * 1.1:.4g}"}))["optimizers"][0]["drift"]
    assert below["wrong_way"] > 0 > above["wrong_way"]
    assert (below["verdict"], above["verdict"]) == ("away from x*", "toward x*")


def test_the_map_is_the_sign_of_the_closed_form_drift():
    ph = phase(parse_position({"optimizers": "adam,rmsprop,sgd"}))
    adam, rmsprop, sgd = ph["optimizers"]
    spec = Position(optimizers=("adam",)).spec()
    for r, c in [(0, 0), (0, 15), (3, 5), (6, 9)]:
        b1, b2 = MAP_BETA1[r], MAP_BETA2[c]
        want = np.sign(analytic_drift(spec.problem, spec.optimizers[0].replace(beta1=b1, beta2=b2)))  # x* = −1: drift > 0 is away
        assert adam["map"][r][c] == want
    assert len(rmsprop["map"]) == 1
    assert rmsprop["map_rows"] is None
    assert sgd["map"] is None
    assert sgd["critical_beta2"] is None


@pytest.mark.parametrize("family", ["online", "stochastic"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_no_closed_form_depends_on_alpha_the_schedule_or_the_seeds(family, name):
    """Why the closed forms, critical values and maps are cached without them (INDEPENDENT):
    κ = k/α and the drift are in units of α, and the t → ∞ limit has no seeds."""
    forms = []
    for lr, schedule, seeds in [("0.5", "inv-sqrt", "1"), ("0.01", "constant", "3"), ("1", "constant", "1")]:
        spec = parse_position({"family": family, "optimizers": name, "lr": lr, "schedule": schedule, "seeds": seeds}).spec()
        form, _ = closed_form(spec.problem, spec.optimizers[0])
        forms.append(None if form is None else (form.kappa.tolist(), form.drift))
    assert forms[0] == forms[1] == forms[2]
    assert set(INDEPENDENT) == {"lr", "schedule", "seeds", "steps"}


def test_the_printed_command_reproduces_the_view():
    out = view(parse_position({"C": "5", "beta2": "0.2", "optimizers": "adam,adashift"}))
    args = [*shlex.split(out["command"])[1:], "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    finals = {r["optimizer"]: r["final_x"] for r in summary["results"]}
    for entry in out["optimizers"]:
        assert finals[entry["name"]] == pytest.approx(entry["final_x"], abs=1e-5)


def test_stochastic_views_group_by_value_and_have_no_map():
    p = parse_position({"family": "stochastic", "optimizers": "adam", "seeds": "2"})
    assert (p.C, p.p) == (101.0, 0.0101)  # the AdaShift paper's C = 101, δ = 0.02 (p = 1.02/102)
    out = view(p)
    assert out["grouped_by"] == "gradient value"
    assert sorted(r["gradient"] for r in out["optimizers"][0]["nuf"]) == [-1.0, 101.0]
    ph = phase(p)
    assert ph["optimizers"] == []
    assert "adasim critical stochastic" in ph["note"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"C": "-1"}, "C must"),
        ({"beta2": "abc"}, "β2 must be a number"),
        ({"beta2": "1.5"}, "β2 must lie in"),
        ({"d": "2.5"}, "period d must be a whole number"),
        ({"d": "1000000"}, "period d must lie in"),
        ({"betta2": "0.1"}, "did you mean 'beta2'"),
        ({"family": "online2"}, "did you mean 'online'"),
        ({"optimizers": ""}, "at least one optimizer"),
        ({"optimizers": "adam,adma"}, "did you mean 'adam'"),
        ({"optimizers": "evil.py:X"}, "unknown optimizer 'evil.py:X'"),  # a request never loads a file
        ({"optimizers": ",".join(["adam", "sgd", "rmsprop", "amsgrad", "adopt", "lion", "nadam"])}, "at most 6"),
        ({"eps": "1e-3"}, "unknown ε"),
        ({"seeds": "1000"}, "seeds must lie in"),
    ],
)
def test_bad_values_are_one_line_errors(query, message):
    with pytest.raises(AdasimError) as err:
        parse_position(query).spec()
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_spikes_must_stay_below_the_period():
    with pytest.raises(AdasimError, match="spikes k must be below the period d"):
        view(parse_position({"d": "3", "k": "3"}))


def test_positions_are_immutable_and_hashable():
    p = parse_position({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.C = 3.0  # type: ignore[misc]
    assert hash(p) == hash(parse_position({}))


def test_a_measured_factor_away_from_its_closed_form_says_why():
    """ADOPT's clip bound t^(1/4) is 10 at t = 10^4 < C = 10: the spike is clipped in the run but
    not in the t → ∞ limit; the view says so instead of showing two numbers that disagree."""
    out = {o["name"]: o for o in view(parse_position({}))["optimizers"]}
    assert "closed_note" not in out["adam"]
    assert "clip bound" in out["adopt"]["closed_note"]
    phase0 = out["adopt"]["nuf"][0]
    assert phase0["measured"] < phase0["closed"]
