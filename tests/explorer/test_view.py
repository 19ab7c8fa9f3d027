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


WITHOUT_FACTORS = ("lion", "adamw", "nadam", "ademamix", "sf-adamw")  # steps not a sum of gradients times factors


@pytest.mark.parametrize("family", ["online", "stochastic"])
def test_an_optimizer_without_factors_is_drawn_beside_the_others(family):
    """Issue: `optimizers=adam,lion` was a 400 and took Adam's plot with it. Now every optimizer has
    its x_t; those without net update factors say so in their factor panel ("no closed form")."""
    for name in WITHOUT_FACTORS:
        out = view(parse_position({"family": family, "optimizers": f"adam,{name}", "seeds": "2"}, steps=1000))
        adam, other = out["optimizers"]
        assert adam["nuf"]
        assert adam["drift"]["verdict"] in ("away from x*", "toward x*")
        assert "trouble" not in other
        assert len(other["x"]) == len(adam["x"])
        assert other["final_x"] is not None
        assert len(other["g"]) == len(other["v"]) > 0
        assert other["nuf"] == []
        assert "not a sum of its gradients times factors" in other["factors"]
        assert other["drift"] == {"measured": None, "closed": None, "wrong_way": None, "verdict": "no closed form"}
        assert f"-o adam -o {name} " in out["command"]
        json.dumps(out, allow_nan=False)
        assert phase(parse_position({"family": family, "optimizers": f"adam,{name}"}, steps=1000))["position"]["optimizers"]


def test_eps_zero_from_the_menu_draws_every_optimizer_that_takes_it():
    """Issue: ε = 0 (a choice of the page's own menu) with the default optimizers was a 400: ADOPT
    refuses ε = 0. Now the others are drawn and ADOPT's entry says why it is not."""
    position = parse_position({"eps": "0"})
    assert "adopt" in position.optimizers
    out = view(position)
    entries = {o["name"]: o for o in out["optimizers"]}
    assert list(entries) == list(position.optimizers)
    assert entries["adopt"]["trouble"] == "adopt: eps must lie in (0, inf), got 0.0; not drawn"
    assert all("x" in entries[n] for n in ("adam", "amsgrad", "adashift"))
    assert "-o adam -o amsgrad -o adashift --" in out["command"]  # the command reproduces what is drawn
    notes = {o["name"]: o for o in phase(position)["optimizers"]}
    assert "eps must lie in" in notes["adopt"]["critical_note"]
    assert notes["adam"]["critical_beta2"] > 0


def test_a_setting_that_no_optimizer_can_run_with_is_still_refused():
    with pytest.raises(AdasimError, match="eps must lie in"):
        view(parse_position({"eps": "0", "optimizers": "adopt"}))
    with pytest.raises(AdasimError, match="eps must lie in"):
        phase(parse_position({"eps": "0", "optimizers": "adopt"}))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"beta2": "1"}, "β2 must lie in [0, 1)"),
        ({"beta1": "1"}, "β1 must lie in [0, 1)"),
        ({"C": "0"}, "C must lie in (0, 1e+06]"),
        ({"lr": "0"}, "α must lie in (0, 1e+06]"),
        ({"family": "stochastic", "p": "1"}, "p must lie in (0, 1)"),
    ],
)
def test_view_and_phase_refuse_the_same_values(query, message):
    """Issue: /api/phase?beta2=1 answered 200 while /api/view refused it: the controls' ranges are
    now what the problem and the optimizers accept, checked once when the query is parsed."""
    with pytest.raises(AdasimError) as err:
        parse_position(query)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "query",
    [
        {"optimizers": "a" * 60_000},
        {"optimizers": "adam," + "b" * 500},
        {"beta2": "9" * 5000},
        {"b" * 5000: "1"},
        {"family": "x" * 300},
    ],
)
def test_long_values_are_refused_before_any_did_you_mean(monkeypatch, query):
    """Issue: a 60 kB optimizer name cost 13 s of CPU in the did-you-mean search (quadratic in its
    length). A value longer than any setting's is refused first, in one short line."""
    import adasim.explorer.view as explorer_view

    def never(*args):
        raise AssertionError("the did-you-mean search ran")

    monkeypatch.setattr(explorer_view, "unknown_name", never)
    with pytest.raises(AdasimError) as err:
        parse_position(query)
    assert len(str(err.value)) < 300
    assert "\n" not in str(err.value)


def test_control_characters_are_refused_in_one_line():
    with pytest.raises(AdasimError, match="control character"):
        parse_position({"optimizers": "adam\nsgd"})
    with pytest.raises(AdasimError) as err:
        parse_position({"betta2\n": "0.1"})
    assert "\n" not in str(err.value)


def test_view_bytes_is_the_estimate_simulate_refuses_by(monkeypatch):
    """The server accounts views in flight by `view_bytes`: the estimate by which `simulate`
    refuses the view's largest run (ADASIM_MEMORY_LIMIT), to the byte."""
    from adasim.explorer.view import view_bytes

    position = parse_position({"family": "stochastic", "seeds": "8", "optimizers": "sgd,adam,adashift"}, steps=500)
    need = view_bytes(position)
    assert 500 * 8 * 8 < need < 500 * 8 * 8 * 30
    monkeypatch.setenv("ADASIM_MEMORY_LIMIT", str(need - 1))
    with pytest.raises(AdasimError, match="would need about"):
        view(position)
    monkeypatch.setenv("ADASIM_MEMORY_LIMIT", str(need))
    assert len(view(position)["optimizers"]) == 3
