"""The battery as lanes judges as `adasim check` does: the built-ins, as points of the grammar,
get the verdicts that `adasim check` recorded for their own definitions (adasim/optimizers/
verdicts.json, made by `python -m adasim.checks.verdicts`), case by case, where the check gave one."""

import json
from pathlib import Path

import numpy as np
import pytest

from adasim.discover.battery import HELD_OUT, PASS, SEARCH, held_out_cases, score, search_cases
from adasim.discover.grammar import Genes, built_ins

VERDICTS = json.loads((Path(__file__).parents[2] / "adasim" / "optimizers" / "verdicts.json").read_text())["optimizers"]
COMPARED = ("adam", "rmsprop", "amsgrad", "adamnc", "adashift", "adopt")


@pytest.fixture(scope="module")
def scores():
    names, genes = built_ins()
    pick = [names.index(n) for n in COMPARED]
    return genes[np.array(pick)], score(genes[np.array(pick)], search_cases() + held_out_cases())


@pytest.mark.parametrize("name", COMPARED)
def test_lanes_agree_with_check(scores, name):
    _, s = scores
    i = COMPARED.index(name)
    record = VERDICTS[name]
    for case in (*SEARCH, *HELD_OUT):
        if case in record["inconclusive"]:
            continue  # the check could not tell at its number of twins
        expected = case in record["passed"]
        assert (s.by_case[case].status[i] == PASS) == expected, f"{name} on {case}"


def test_search_and_held_out_are_disjoint_and_known():
    from adasim.checks.cases import CASES

    assert not set(SEARCH) & set(HELD_OUT)
    assert set(SEARCH) | set(HELD_OUT) | {"scale-invariance"} == set(CASES)


def test_a_rule_that_does_not_move_fails():
    """A rule whose scale never leaves 0 (a shift as long as the run) never steps: it must fail a
    converge case and a drift case (progress and motion are measured against SGD's)."""
    import dataclasses

    from adasim.checks.cases import ALL_CASES

    cases = [
        dataclasses.replace(ALL_CASES[n], name=f"short-{n}", steps=1000) for n in ("reddi-thm1-C10", "reddi-fig1-stochastic")
    ]
    s = score(Genes.of([{"beta1": 0.0, "shift": 1000, "beta2": 0.9}, {"beta1": 0.0, "shift": 1, "beta2": 0.9}]), cases)
    assert not s.by_case["short-reddi-thm1-C10"].passed[0]
    assert not s.by_case["short-reddi-fig1-stochastic"].passed[0]
    assert s.by_case["short-reddi-thm1-C10"].passed[1]  # the same rule with n = 1 moves and converges
