"""The stored verdicts that `adasim list` and the optimizers page (docs/guide/optimizers.md) show (adasim/optimizers/verdicts.json)."""

from typer.testing import CliRunner

from adasim.checks.cases import CASES, MATRIX_CASES
from adasim.checks.verdicts import closed_form, knowledge, markdown_table, stored
from adasim.cli.app import app
from adasim.optimizers import OPTIMIZERS


def test_the_file_covers_every_optimizer_and_every_case():
    data = stored()
    assert set(data["optimizers"]) == set(OPTIMIZERS), "regenerate: python -m adasim.checks.verdicts"
    assert data["quick"] is False
    assert "adasim" in data["provenance"]
    for name, row in data["optimizers"].items():
        parts = row["defeated_by"] + row["passed"] + row["errored"] + row["inconclusive"] + row.get("not_exercised", [])
        battery = MATRIX_CASES if OPTIMIZERS[name].matrix else CASES  # an optimizer on matrices runs the matrix cases
        assert sorted(parts) == sorted(battery), name


def test_a_stored_verdict_is_what_the_battery_says_now():
    """Two of signSGD's stored verdicts, recomputed: the skewed-noise case defeats it (it follows
    the median), the quadratic does not. (The whole file: python -m adasim.checks.verdicts.)"""
    from adasim.checks.report import check

    report = check("signsgd", cases=["skewed-noise", "quadratic"])
    row = stored()["optimizers"]["signsgd"]
    for r in report.results:
        assert (r.case.name in row["defeated_by"]) == (r.passed is False), r.case.name


def test_closed_form_follows_the_declarations():
    assert closed_form(OPTIMIZERS["adam"]).startswith("net update factors")
    assert closed_form(OPTIMIZERS["signum"]).startswith("sign drift")
    assert closed_form(OPTIMIZERS["lion"]).startswith("sign drift")
    assert closed_form(OPTIMIZERS["nadam"]).startswith("none: not a sum")
    assert closed_form(OPTIMIZERS["adagrad"]).startswith("none: v grows")


def test_list_shows_what_adasim_knows():
    result = CliRunner().invoke(app, ["list", "--json"])
    assert result.exit_code == 0
    import json

    optimizers = json.loads(result.stdout)["optimizers"]
    assert optimizers["grams"]["defeated_by"] == stored()["optimizers"]["grams"]["defeated_by"]
    assert optimizers["radam"]["closed_form"] == knowledge()["radam"]["closed_form"]


def test_the_optimizers_page_table_is_generated_from_them():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "guide" / "optimizers.md").read_text()
    assert markdown_table() in page, "paste adasim.checks.verdicts.markdown_table() into docs/guide/optimizers.md"


def test_a_matrix_optimizer_is_stored_with_the_matrix_battery():
    """adasim's own Muon runs the matrix cases (the vector cases cannot exercise it): its stored row
    and the optimizers page's table say which battery ran."""
    row = stored()["optimizers"]["muon"]
    assert sorted(row["passed"] + row["defeated_by"] + row["errored"] + row["inconclusive"]) == sorted(MATRIX_CASES)
    assert "matrix cases" in markdown_table().split("`muon`")[1].split("\n")[0]
