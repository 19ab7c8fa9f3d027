"""The scale rule of adasim discover: each built-in optimizer as a point of the grammar reproduces
that optimizer's own definition (itself held to its paper or public code elsewhere), every rule is
scale-invariant at ε = 0, and the engines agree."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adasim import Layered, Online, Stochastic, simulate
from adasim.discover.grammar import BUILT_INS, GENES, Genes, canonical, parse_fixed, sample, source_file
from adasim.discover.rule import ScaleRule
from adasim.errors import AdasimError
from adasim.optimizers import ADOPT, Adam, AdamMini, AdamNC, AdaShift, AMSGrad, RMSProp, Shampoo

PROBLEM = Stochastic(C=4.0, s=1.0, p=0.3)

# each built-in at ε = 0 (ADOPT needs ε > 0: 1e-300 never binds), and its genes
SAME = [
    ("adam", Adam(eps=0.0)),
    ("reddi-adam", Adam(eps=0.0, bias_correction=False)),
    ("rmsprop", RMSProp(eps=0.0)),
    ("amsgrad", AMSGrad(eps=0.0)),
    ("adamnc", AdamNC(eps=0.0)),
    ("adashift", AdaShift(n=10, eps=0.0, phi="identity")),
    ("adashift-max", AdaShift(n=10, eps=0.0, phi="identity", v_rule="max")),
    ("adopt", ADOPT(eps=1e-300)),
    ("stale-rmsprop", Shampoo(beta2=0.999, eps=0.0, refresh=10)),
]


def _rule(name: str, **extra):
    genes = {k: v for k, v in BUILT_INS[name].items()}
    return ScaleRule(**genes, **extra)


@pytest.mark.parametrize("engine", ["numpy", "compiled"])
@pytest.mark.parametrize(("name", "reference"), SAME, ids=[n for n, _ in SAME])
def test_built_in_is_a_point_of_the_grammar(name, reference, engine):
    if name == "stale-rmsprop" and engine == "compiled":
        pytest.skip("Shampoo is a matrix step: NumPy and Python engines only")
    a = simulate(
        PROBLEM,
        reference.replace(lr=0.01),
        400,
        seeds=[0, 1, 2],
        x0=0.0,
        record=("x",),
        engine="numpy" if name == "stale-rmsprop" else engine,
    ).trace.x
    b = simulate(PROBLEM, _rule(name, lr=0.01), 400, seeds=[0, 1, 2], x0=0.0, record=("x",), engine=engine).trace.x
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


def test_adam_mini_block_mean():
    prob = Layered(blocks=((2, 1.0), (2, 0.1)), base="stochastic", C=4.0, s=1.0, p=0.3)
    a = simulate(prob, AdamMini(eps=0.0, lr=0.01), 300, seeds=[0, 1], x0=0.0, record=("x",), engine="numpy").trace.x
    b = simulate(prob, _rule("adam-mini", lr=0.01), 300, seeds=[0, 1], x0=0.0, record=("x",), engine="numpy").trace.x
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


def test_shift_step_by_hand():
    """n = 2, β1 = 0, v an uncorrected EMA: hand-computed first steps on gradients 3, −1, −1, 3 …"""
    prob = Online(C=3.0, s=1.0, d=3, k=1)
    run = simulate(
        prob, ScaleRule(beta1=0.0, shift=2, beta2=0.5, v_init=0, lr=1.0), 5, seeds=0, x0=0.0, record=("step",), engine="python"
    )
    g = [3.0, -1.0, -1.0, 3.0, -1.0]
    v, steps = 0.0, []
    for t in range(1, 6):
        if t > 2:
            v = 0.5 * v + 0.5 * g[t - 3] ** 2
        steps.append(0.0 if v == 0 else g[t - 1] / np.sqrt(v))
    np.testing.assert_allclose(run.trace.step[:, 0, 0], steps, rtol=1e-15)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_every_rule_is_scale_invariant(scale):
    """The typing rule: v homogeneous of degree 2, so the steps do not change when every gradient is
    scaled (ε = 0). 200 drawn rules, as lanes."""
    genes = sample(np.random.default_rng(3), 200)
    base = Stochastic(C=4.0, s=1.0, p=0.3)
    scaled = Stochastic(C=4.0 * scale, s=scale, p=0.3)
    for _phi in ("identity",):
        opt = ScaleRule(**genes.settings(), lr=0.01)
        a = simulate(base, opt, 300, seeds=np.arange(len(genes)), x0=0.0, record=("x",)).trace.x
        b = simulate(scaled, opt, 300, seeds=np.arange(len(genes)), x0=0.0, record=("x",)).trace.x
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)


@given(st.integers(0, 2**32 - 1))
def test_drawn_rules_are_valid_and_canonical(seed):
    genes = sample(np.random.default_rng(seed), 16)
    ScaleRule(**genes.settings())  # every gene in range, the constraints met
    again = canonical(genes)
    for k in GENES:
        assert np.array_equal(again.values[k], genes.values[k])


@pytest.mark.parametrize(("bad", "message"), [
    ({"order": 1, "window": 3}, "adopt order takes no window"),
    ({"window": 0, "tail": 0.0}, "needs a window"),
    ({"accumulator": 3}, "accumulator"),
    ({"beta2": 1.0}, "beta2"),
    ({"span": 0}, "span"),
])  # fmt: skip
def test_invalid_genes_are_one_line(bad, message):
    with pytest.raises(AdasimError, match=message):
        ScaleRule(**bad)


def test_parse_fixed():
    assert parse_fixed(["order=adopt", "shift=2", "phi=mean"]) == {"order": 1, "shift": 2, "phi": "mean"}
    for bad in (["colour=red"], ["shift"], ["shift=1.5"], ["order=sideways"], ["beta1=2"]):
        with pytest.raises(AdasimError):
            parse_fixed(bad)


def test_found_file_loads_as_an_optimizer(tmp_path):
    from adasim.optimizers import make_optimizer

    genes = Genes.of([BUILT_INS["adashift"]]).one(0)
    path = tmp_path / "found.py"
    path.write_text(source_file([("Found1", genes, "a note")]))
    opt = make_optimizer(f"{path}:Found1", lr=0.01)
    a = simulate(PROBLEM, opt, 200, seeds=0, x0=0.0, record=("x",)).trace.x
    b = simulate(PROBLEM, _rule("adashift", lr=0.01), 200, seeds=0, x0=0.0, record=("x",)).trace.x
    np.testing.assert_array_equal(a, b)
    assert dataclasses.is_dataclass(opt.definition)
