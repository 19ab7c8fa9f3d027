"""The compiled path (numba) gives the NumPy path's floats: every optimizer with a compiled form,
every convention, through the same table of problems (sequential projection, same block size)."""

from pathlib import Path

import numpy as np
import pytest
from helpers import replay_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adasim import (
    ADOPT,
    SGD,
    Adagrad,
    Adam,
    AdamNC,
    AdaShift,
    AMSGrad,
    Domain,
    Momentum,
    Online,
    RMSProp,
    Schedule,
    Stochastic,
    compiled,
    simulate,
)
from adasim.engine import use_compiled
from adasim.errors import AdasimError
from adasim.optimizers.base import TINY_POWER, powers
from adasim.problems.layered import Layered

needs_numba = pytest.mark.skipif(not compiled.available(), reason="numba is not installed (pip install adasim[fast])")

OPTIMIZERS = {
    "sgd": SGD(lr=0.05),
    "momentum": Momentum(lr=0.05, beta1=0.8),
    "adagrad": Adagrad(lr=0.1),
    "adagrad-inside": Adagrad(lr=0.1, eps=1e-3, eps_mode="inside"),
    "rmsprop": RMSProp(lr=0.01, beta2=0.9),
    "adam": Adam(lr=0.01),
    "adam-inside": Adam(lr=0.01, eps=1e-4, eps_mode="inside"),
    "adam-hat": Adam(lr=0.01, eps=1e-4, eps_mode="hat"),
    "adam-reddi": Adam(lr=0.01, bias_correction=False, eps=0.0),
    "adam-inv-sqrt": Adam(lr=0.5, beta1=0.0, beta2=0.9, schedule=Schedule("inv-sqrt")),
    "adam-lanes": Adam(lr=np.array([0.01, 0.02, 0.005]), beta1=np.array([0.0, 0.5, 0.9]), beta2=np.array([0.5, 0.99, 0.999])),
    "amsgrad-paper": AMSGrad(lr=0.01, beta2=0.99),
    "amsgrad-pytorch": AMSGrad(lr=0.01, beta2=0.99, convention="pytorch"),
    "amsgrad-optax": AMSGrad(lr=0.01, beta2=0.99, convention="optax", eps_mode="inside"),
    "adopt": ADOPT(lr=0.01, beta2=0.9),
    "adopt-port": ADOPT(lr=0.01, beta2=0.9, clip_base="port"),
    "adopt-no-clip": ADOPT(lr=0.01, beta2=0.9, clip=False),
    "adopt-affine-schedule": ADOPT(lr=0.1, beta2=0.5, schedule=Schedule("inv-sqrt-affine")),
    "adamnc": AdamNC(lr=0.05, beta1=0.5),
    "adamnc-inside": AdamNC(lr=0.05, beta1=np.array([0.0, 0.5, 0.9]), eps=1e-3, eps_mode="inside"),
    "adashift": AdaShift(lr=0.01),  # n = 10, window 10, φ = max
    "adashift-n1": AdaShift(lr=0.01, n=1, beta1=0.0, phi="identity", eps_mode="inside"),
    "adashift-window": AdaShift(lr=0.01, n=4, window=2, beta1=0.5, phi="identity"),
    "adashift-lanes": AdaShift(lr=0.01, n=np.array([0, 1, 7]), beta2=np.array([0.9, 0.99, 0.999]), phi="identity"),
}

PROBLEMS = {
    "online": (Online(C=10.0, d=3), {}),
    "online-lanes": (Online(C=np.array([4.0, 10.0, 40.0]), d=np.array([4, 10, 40]), k=2), {}),
    "stochastic-seeds": (Stochastic(C=20.0, p=0.1), {"seeds": np.arange(3)}),
    "unconstrained": (Stochastic(C=101.0, delta=0.02, domain=Domain(-np.inf, np.inf)), {"seeds": np.arange(3)}),
    "half-bounded": (Online(C=10.0, domain=Domain(-np.inf, 1.0)), {}),
    "warmup": (Stochastic(C=20.0, p=0.1), {"seeds": np.arange(3), "warmup": 50}),
    "layered": (Layered(blocks=((2, 1.0), (3, 1e-3))), {"seeds": np.arange(3)}),
}


def both(problem, optimizer, steps=600, **kw):
    kw = {"x0": 0.2, "stride": 7, "block": 97, **kw}
    ref = simulate(problem, optimizer, steps, engine="numpy", projection="sequential", **kw)
    fast = simulate(problem, optimizer, steps, engine="compiled", **kw)
    return ref, fast


@needs_numba
@pytest.mark.parametrize("problem_name", list(PROBLEMS))
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_compiled_gives_the_numpy_floats(opt_name, problem_name):
    problem, kw = PROBLEMS[problem_name]
    optimizer = OPTIMIZERS[opt_name]
    if not optimizer.compiled_form().coordinatewise and problem.dim > 1:  # φ couples coordinates
        with pytest.raises(AdasimError, match="couples coordinates"):
            simulate(problem, optimizer, 10, engine="compiled", **{k: v for k, v in kw.items() if k != "warmup"})
        return
    ref, fast = both(problem, optimizer, **kw)
    assert (ref.engine, fast.engine) == ("numpy", "compiled")
    assert fast.summary()["engine"] == "compiled"  # summary.json says which path ran
    for name, arr in ref.trace.arrays().items():
        if name == "average_regret" and problem.dim > 1:  # Σ over coordinates in another order
            np.testing.assert_allclose(getattr(fast.trace, name), arr, rtol=1e-12, err_msg=name)
        else:
            np.testing.assert_array_equal(getattr(fast.trace, name), arr, err_msg=name)
    np.testing.assert_array_equal(fast.final_x, ref.final_x)
    np.testing.assert_allclose(fast.average_regret, ref.average_regret, rtol=1e-12)
    np.testing.assert_array_equal(fast.status, ref.status)


FAMILIES = {
    "adam": lambda b1, b2, lr, n: Adam(lr=lr, beta1=b1, beta2=b2),
    "amsgrad": lambda b1, b2, lr, n: AMSGrad(lr=lr, beta1=b1, beta2=b2, convention="pytorch"),
    "adopt": lambda b1, b2, lr, n: ADOPT(lr=lr, beta1=b1, beta2=b2),
    "adashift": lambda b1, b2, lr, n: AdaShift(lr=lr, beta1=b1, beta2=b2, n=n),
}


@needs_numba
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(sorted(FAMILIES)),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.0, 0.9999),
    lr=st.floats(1e-4, 1.0),
    n=st.integers(0, 12),
    C=st.floats(1.5, 1e3),
    d=st.integers(2, 50),
    steps=st.integers(1, 400),
    block=st.integers(1, 130),
)
def test_compiled_equals_numpy_for_any_setting(family, beta1, beta2, lr, n, C, d, steps, block):
    optimizer = FAMILIES[family](beta1, beta2, lr, n)
    ref, fast = both(Online(C=C, d=d), optimizer, steps, stride=1, block=block)
    np.testing.assert_array_equal(fast.trace.x, ref.trace.x)
    np.testing.assert_array_equal(fast.trace.average_regret, ref.trace.average_regret)
    assert np.all(np.abs(fast.trace.x) <= 1.0)  # x stays in the domain


@needs_numba
@pytest.mark.parametrize(
    ("problem", "optimizer", "kind"),
    [
        (Online(C=1e300, s=1e300, domain=Domain(-np.inf, np.inf)), SGD(lr=1e10), "overflow"),
        (replay_problem([1.0, np.nan, 1.0]), SGD(lr=1.0), "nan"),
        (replay_problem([1.0, np.inf, 1.0], Domain(-1.0, 1.0)), SGD(lr=1.0), "overflow"),
    ],
    ids=["overflow", "nan", "infinite-step-clipped"],
)
def test_numerical_trouble_is_found_at_the_same_step(problem, optimizer, kind):
    steps = 3 if isinstance(problem, type(replay_problem([1.0]))) else 50
    ref, fast = both(problem, optimizer, steps, stride=1, block=2)
    assert fast.status.tolist() == ref.status.tolist()
    assert fast.status[0] == kind
    assert fast.bad_step.tolist() == ref.bad_step.tolist()


@needs_numba
def test_auto_takes_the_compiled_path_only_where_it_can():
    assert use_compiled(Online(), Adam(), "auto")
    assert not use_compiled(Online(), AdaShift(v_rule="max"), "auto")  # no compiled form: NumPy
    assert not use_compiled(Online(), AdamNC(lam=0.99), "auto")
    assert not use_compiled(Online(), Adam(), "numpy")
    with pytest.raises(AdasimError, match="adashift has no compiled form"):
        simulate(Online(), AdaShift(v_rule="max"), 10, engine="compiled")
    with pytest.raises(AdasimError, match="unknown engine 'fast'"):
        simulate(Online(), Adam(), 10, engine="fast")


def test_compiled_without_numba_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(compiled, "available", lambda: False)
    assert not use_compiled(Online(), Adam(), "auto")
    with pytest.raises(AdasimError, match=r"needs numba: pip install \"adasim\[fast\]\""):
        simulate(Online(), Adam(), 10, engine="compiled")


def test_engine_can_be_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("ADASIM_ENGINE", "numpy")
    assert not compiled.available()


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.999])
def test_powers_are_the_recurrence_and_flush_below_tiny(beta):
    p = powers(beta, np.ones((1, 1)), 20_000)[:, 0, 0]
    t = np.arange(1, 20_001)
    exact = np.power(beta, t.astype(float))
    big = exact >= TINY_POWER
    # repeated rounding: relative error at most t ulps
    if big.any():
        np.testing.assert_allclose(p[big], exact[big], rtol=t[big].max() * 2.3e-16)
    assert np.all(p[~big] == 0.0)
    np.testing.assert_array_equal(1.0 - p, np.where(big, 1.0 - p, 1.0))
    # carried across blocks: the same floats as one block
    first = powers(beta, np.ones((1, 1)), 777)
    rest = powers(beta, first[-1], 20_000 - 777)
    np.testing.assert_array_equal(np.concatenate([first, rest])[:, 0, 0], p)


@pytest.mark.parametrize("start", [1, 2, 3, 100, 12_345])
@pytest.mark.parametrize("count", [1, 5, 64, 1000])
def test_online_block_gradients_are_the_gradients(start, count):
    problem = Online(C=7.0, s=2.0, d=5, k=2)
    seeds = np.arange(3, dtype=np.uint64)
    t = np.arange(start, start + count)
    np.testing.assert_array_equal(problem.block_gradients(start, count, seeds), problem.gradients(t, seeds))


@needs_numba
def test_auto_compiles_only_runs_that_repay_loading_numba():
    assert not use_compiled(Online(), Adam(), "auto", work=compiled.AUTO_MIN_WORK - 1)
    assert use_compiled(Online(), Adam(), "auto", work=compiled.AUTO_MIN_WORK)


@needs_numba
@pytest.mark.parametrize("problem_name", ["online", "unconstrained", "layered"])
def test_default_blocks_give_the_same_floats_on_both_engines(problem_name):
    """No block size given: both engines pick sequential_block, so regret and unbounded x agree too."""
    problem, kw = PROBLEMS[problem_name]
    kw = {"seeds": np.arange(5), "x0": 0.2, "stride": 50, **{k: v for k, v in kw.items() if k != "seeds"}}
    ref = simulate(problem, Adam(lr=0.01), 3000, engine="numpy", projection="sequential", **kw)
    fast = simulate(problem, Adam(lr=0.01), 3000, engine="compiled", **kw)
    np.testing.assert_array_equal(fast.trace.x, ref.trace.x)
    np.testing.assert_array_equal(fast.final_x, ref.final_x)
    if problem.dim == 1:
        np.testing.assert_array_equal(fast.average_regret, ref.average_regret)


def test_an_edit_to_the_inlined_code_is_a_new_cache_entry(tmp_path, monkeypatch):
    """numba checks a cached loop against compiled.py only; the loop's name carries a digest of
    lanestep.py and base.py, whose code it inlines, so editing them cannot load stale machine code."""
    from adasim.optimizers import lanestep

    before = compiled._inlined_digest()
    edited = tmp_path / "lanestep.py"
    edited.write_text(Path(lanestep.__file__).read_text() + "\n# an edit\n")
    monkeypatch.setattr(lanestep, "__file__", str(edited))
    compiled._inlined_digest.cache_clear()
    try:
        assert compiled._inlined_digest() != before
    finally:
        monkeypatch.undo()
        compiled._inlined_digest.cache_clear()
    assert compiled._inlined_digest() == before
