"""The three executors run the same step and give the same floats, bit for bit: every optimizer
and convention, bounded and unbounded domains, per-lane settings, seeds, warm-up, several
coordinates (coupled by φ or not), problems whose gradients depend on x; and they agree on where
a run stops being finite."""

import os
import textwrap
import warnings

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
    AdasimError,
    AdasimWarning,
    AMSGrad,
    Custom,
    Domain,
    FiniteSum,
    Layered,
    Matrix,
    Momentum,
    Online,
    Quadratic,
    RMSProp,
    Schedule,
    Stochastic,
    make_optimizer,
    simulate,
)
from adasim.engine import Layout, jit
from adasim.engine.kernels import unsupported
from adasim.optimizers import MODERN
from adasim.optimizers.base import TINY_POWER, power

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
    "adam-lanes": Adam(lr=np.array([0.01, 0.02, 0.005]), beta1=np.array([0.0, 0.5, 0.9]), beta2=np.array([0.5, 0.99, 0.999])),
    "amsgrad-paper": AMSGrad(lr=0.01, beta2=0.99),
    "amsgrad-pytorch": AMSGrad(lr=0.01, beta2=0.99, convention="pytorch"),
    "amsgrad-optax": AMSGrad(lr=0.01, beta2=0.99, convention="optax", eps_mode="inside"),
    "adopt": ADOPT(lr=0.01, beta2=0.9),
    "adopt-port": ADOPT(lr=0.01, beta2=0.9, clip_base="port"),
    "adopt-no-clip": ADOPT(lr=0.01, beta2=0.9, clip=False, schedule=Schedule("inv-sqrt-affine")),
    "adamnc": AdamNC(lr=0.05, beta1=0.5),
    "adamnc-lambda": AdamNC(lr=0.05, beta1=np.array([0.0, 0.5, 0.9]), lam=0.9, eps=1e-3, eps_mode="inside"),
    "adashift": AdaShift(lr=0.01),  # n = 10, window 10, φ = max
    "adashift-n1": AdaShift(lr=0.01, n=1, beta1=0.0, phi="identity", eps_mode="inside"),
    "adashift-window": AdaShift(lr=0.01, n=4, window=2, beta1=0.5, phi="identity"),
    "adashift-lanes": AdaShift(lr=0.01, n=np.array([0, 1, 7]), beta2=np.array([0.9, 0.99, 0.999]), phi="identity"),
    "adashift-max-rule": AdaShift(lr=0.01, n=2, v_rule="max", schedule=Schedule("inv-sqrt")),
    # the optimizers of issue 16, one setting each (their conventions are held to their references
    # in tests/optimizers/test_modern.py)
    **{d.name: d(lr=0.01) for d in MODERN},
    "adafactor-pytorch-momentum": make_optimizer("adafactor", lr=0.01, form="pytorch", relative_step=True, beta1=0.9),
    "radam-optax-lanes": make_optimizer("radam", lr=0.01, form="optax", beta2=np.array([0.5, 0.9, 0.999])),
    # powers of per-lane values (NumPy's SIMD np.power differs from the C library's pow that numba calls)
    "nadam-lanes": make_optimizer("nadam", lr=0.01, momentum_decay=np.array([0.004, 0.04, 0.4])),
    "sf-adamw-lanes": make_optimizer(
        "sf-adamw", lr=np.array([0.01, 0.02, 0.005]), r=np.array([0.0, 0.5, 1.0]), weight_lr_power=np.array([2.0, 1.0, 0.5])
    ),
    "adafactor-lanes": make_optimizer("adafactor", lr=0.01, decay=np.array([0.8, 0.5, 0.9])),
}

PROBLEMS = {
    "online": (Online(C=10.0, d=3), {}),
    "online-lanes": (Online(C=np.array([4.0, 10.0, 40.0]), d=np.array([4, 10, 40]), k=2), {}),
    "stochastic-seeds": (Stochastic(C=20.0, p=0.1), {"seeds": np.arange(3)}),
    "unconstrained": (Stochastic(C=101.0, delta=0.02, domain=Domain(-np.inf, np.inf)), {"seeds": np.arange(3)}),
    "half-bounded": (Online(C=10.0, domain=Domain(-np.inf, 1.0)), {}),
    "warmup": (Stochastic(C=20.0, p=0.1), {"seeds": np.arange(3), "warmup": 50}),
    "finite-sum-shuffle": (FiniteSum(n=5, sampling="shuffle"), {"seeds": np.arange(3)}),
    "layered": (Layered(blocks=((2, 1.0), (3, 1e-3))), {"seeds": np.arange(3)}),
    "quadratic-noisy": (Quadratic(size=3, noise=0.1), {"seeds": np.arange(3), "x0": 0.5}),
    "matrix-rotated": (Matrix(size=2, rotate=True), {"seeds": np.arange(3)}),
}


def runs(problem, optimizer, steps=300, **kw):
    """One run per executor. A step that shares values over blocks of several coordinates runs
    on NumPy and Python only: the compiled executor refuses it and `auto` takes NumPy."""
    kw = {"x0": 0.2, "stride": 7, "block": 97, **kw}
    engines = ["python", "numpy", "compiled"]
    reason = unsupported(Layout.build(problem, optimizer, kw.get("seeds", 0), kw["x0"]))
    if reason is not None:  # a block-wise or matrix step, or a problem with a Python gradient
        with pytest.raises(AdasimError, match="the compiled engine cannot run this"):
            simulate(problem, optimizer, 5, engine="compiled")
        assert simulate(problem, optimizer, 5, seeds=kw.get("seeds", 0)).engine == "numpy"
        engines.remove("compiled")
    return {engine: simulate(problem, optimizer, steps, engine=engine, **kw) for engine in engines}


def assert_same(by_engine):
    ref = by_engine["python"]
    for engine, run in by_engine.items():
        assert run.engine == engine
        for name, arr in ref.trace.arrays().items():
            np.testing.assert_array_equal(getattr(run.trace, name), arr, err_msg=f"{engine}: {name}")
        np.testing.assert_array_equal(run.final_x, ref.final_x)
        np.testing.assert_array_equal(run.average_regret, ref.average_regret)
        np.testing.assert_array_equal(run.status, ref.status)


# every optimizer and convention on a problem with seeds (gradients drawn per lane); every problem
# with a plain optimizer (Adam), one with a ring of past gradients and a φ that couples blocks of
# coordinates (AdaShift) and a pre-scaled one (ADOPT); per-lane settings on several coordinates
TABLE = [(o, "stochastic-seeds") for o in OPTIMIZERS]
TABLE += [(o, p) for p in PROBLEMS for o in ("adam", "adashift", "adopt") if p != "stochastic-seeds"]
TABLE += [("adam-lanes", "layered"), ("adashift-lanes", "unconstrained"), ("adamnc-lambda", "online-lanes")]
# steps that share values over a block (NumPy and Python only) and the x-dependent ones
TABLE += [(o, "layered") for o in ("adafactor", "adam-mini", "cautious-adam", "sf-adamw", "lion")]


@pytest.mark.parametrize(("opt_name", "problem_name"), TABLE, ids=[f"{o}-{p}" for o, p in TABLE])
def test_every_executor_gives_the_same_floats(opt_name, problem_name):
    problem, kw = PROBLEMS[problem_name]
    assert_same(runs(problem, OPTIMIZERS[opt_name], **kw))


def test_phi_couples_the_coordinates_of_a_block_on_every_executor():
    problem = Layered(blocks=((2, 1.0), (3, 1e-3)))
    by_engine = runs(problem, Adam(lr=0.01, beta1=0.0, beta2=0.9, phi="mean"), seeds=np.arange(3))
    assert_same(by_engine)
    v = by_engine["numpy"].trace.v[:, 0, :]
    np.testing.assert_array_equal(v[:, 0], v[:, 1])  # one v per block
    np.testing.assert_array_equal(v[:, 2], v[:, 4])
    assert np.all(v[:, 1] != v[:, 2])


FAMILIES = {
    "adam": lambda b1, b2, lr, n: Adam(lr=lr, beta1=b1, beta2=b2),
    "amsgrad": lambda b1, b2, lr, n: AMSGrad(lr=lr, beta1=b1, beta2=b2, convention="pytorch"),
    "adopt": lambda b1, b2, lr, n: ADOPT(lr=lr, beta1=b1, beta2=b2),
    "adashift": lambda b1, b2, lr, n: AdaShift(lr=lr, beta1=b1, beta2=b2, n=n, phi="identity"),
}


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
    bounded=st.booleans(),
)
def test_compiled_equals_numpy_for_any_setting(family, beta1, beta2, lr, n, C, d, steps, block, bounded):
    optimizer = FAMILIES[family](beta1, beta2, lr, n)
    problem = Online(C=C, d=d, domain=Domain(-1.0, 1.0) if bounded else Domain(-np.inf, np.inf))
    ref = simulate(problem, optimizer, steps, stride=1, block=block, engine="numpy")
    fast = simulate(problem, optimizer, steps, stride=1, block=block, engine="compiled")
    np.testing.assert_array_equal(fast.trace.x, ref.trace.x)
    np.testing.assert_array_equal(fast.trace.average_regret, ref.trace.average_regret)
    np.testing.assert_array_equal(fast.status, ref.status)


@pytest.mark.parametrize(
    ("problem", "optimizer", "kind", "step"),
    [
        (Online(C=1e300, s=1e300, domain=Domain(-np.inf, np.inf)), SGD(lr=1e10), "overflow", 1),
        (Online(C=1e200, d=3, k=1), Adam(), "overflow", 1),  # v = (1−β2)·C² overflows, the step does not
        (replay_problem([1.0, np.nan, 1.0]), SGD(lr=1.0), "nan", 2),
        (replay_problem([1.0, np.inf, 1.0], Domain(-1.0, 1.0)), SGD(lr=1.0), "overflow", 2),
        (replay_problem([1.0, 1.0, 1e308, 1e308], Domain(-np.inf, np.inf)), SGD(lr=10.0), "overflow", 3),
    ],
    ids=["overflow", "square-overflows", "nan-gradient", "infinite-step-clipped", "x-overflows"],
)
def test_numerical_trouble_is_found_at_the_same_step_on_every_executor(problem, optimizer, kind, step):
    by_engine = {e: simulate(problem, optimizer, 4, stride=1, block=2, engine=e) for e in ("python", "numpy", "compiled")}
    for engine, run in by_engine.items():
        assert run.status.tolist() == [kind], engine
        assert run.bad_step.tolist() == [step], engine


def _extreme(lo_exp: int, hi_exp: int):
    """Magnitudes spread over many decades, ends included (log-uniform in 10^lo … 10^hi)."""
    return st.one_of(st.sampled_from([10.0**lo_exp, 10.0**hi_exp]), st.floats(lo_exp, hi_exp).map(lambda e: 10.0**e))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(
        [
            "sgd",
            "momentum",
            "adagrad",
            "rmsprop",
            "adam",
            "amsgrad",
            "adamnc",
            "adashift",
            "adopt",
            "signum",
            "lion",
            "adamax",
            "yogi",
            "adabelief",
        ]
    ),
    C=_extreme(0, 308),
    s=_extreme(-300, 308),
    lr=_extreme(-300, 300),
    eps=st.sampled_from([0.0, 1e-300, 1e-8, 1.0]),
    bounded=st.booleans(),
    steps=st.integers(1, 40),
)
def test_both_engines_classify_extreme_settings_alike(name, C, s, lr, eps, bounded, steps):
    """ok / overflow / NaN, the step where it happened and every x agree on NumPy and compiled,
    however large C, s or α (the reliability issue: C = 1e200 once ended at 0 on one engine)."""
    from adasim import make_optimizer

    kw = {"lr": lr} | ({"eps": eps} if make_optimizer(name).definition.accepts("eps") and name != "adopt" else {})
    optimizer = make_optimizer(name, **kw)
    problem = Online(C=C, s=s, d=3, k=1, domain=Domain(-1.0, 1.0) if bounded else Domain(-np.inf, np.inf))
    with np.errstate(all="ignore"):
        runs_ = {e: simulate(problem, optimizer, steps, stride=1, engine=e) for e in ("numpy", "compiled")}
    ref, fast = runs_["numpy"], runs_["compiled"]
    assert fast.status.tolist() == ref.status.tolist()
    assert fast.bad_step.tolist() == ref.bad_step.tolist()
    np.testing.assert_array_equal(fast.trace.x, ref.trace.x)


def test_trouble_in_a_later_block_of_a_long_run():
    """The compiled executor checks each block at its end and runs a failing block again to find the step."""
    grads = [1.0] * 5000 + [np.nan] + [1.0] * 10
    runs_ = {e: simulate(replay_problem(grads), Adam(), len(grads), engine=e) for e in ("numpy", "compiled")}
    for run in runs_.values():
        assert run.status.tolist() == ["nan"]
        assert run.bad_step.tolist() == [5001]
    np.testing.assert_array_equal(runs_["compiled"].trace.x, runs_["numpy"].trace.x)


USER = """
from typing import NamedTuple
from adasim import Definition, Kernel, ops, out

class Hyper(NamedTuple):
    beta1: float = 0.5
    beta2: float = 0.9
    eps: float = 1e-8

class State(NamedTuple):
    m: float = 0.0
    v: float = 0.0

def scale(v, eps):  # a helper, called by name: compiled with the step
    return ops.recip(ops.sqrt(v) + eps)

def step(s, hp, g, t, alpha):
    v = hp.beta2 * s.v + (1.0 - hp.beta2) * g * g
    m = hp.beta1 * s.m + (1.0 - hp.beta1) * g
    post = scale(v, hp.eps)
    return State(m, v), out(alpha * post * m, m=m, v=v, post=post)

Mine = Definition("Mine", Hyper, State, step, kernel=lambda hp: Kernel("ema", beta1=hp.beta1))
"""


def test_a_user_definition_runs_compiled(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(USER)
    mine = make_optimizer(f"{path}:Mine", beta2=0.8, lr=0.1)
    by_engine = runs(Stochastic(C=20.0, p=0.1), mine, seeds=np.arange(2))
    assert_same(by_engine)
    # the same numbers as the built-in Adam without correction (its v and m in this order)
    adam = simulate(Stochastic(C=20.0, p=0.1), Adam(beta1=0.5, beta2=0.8, lr=0.1, bias_correction=False), 300,
                    seeds=np.arange(2), x0=0.2, stride=7)  # fmt: skip
    np.testing.assert_allclose(by_engine["compiled"].trace.x, adam.trace.x, rtol=1e-12, atol=1e-15)


def test_an_edited_user_file_is_compiled_again(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(USER)
    before = simulate(Online(), make_optimizer(f"{path}:Mine"), 50, engine="compiled").final_x
    path.write_text(USER.replace("post = scale(v, hp.eps)", "post = 2.0 * scale(v, hp.eps)"))
    after = simulate(Online(), make_optimizer(f"{path}:Mine"), 50, engine="compiled").final_x
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, simulate(Online(), make_optimizer(f"{path}:Mine"), 50, engine="numpy").final_x)


def test_a_user_step_is_loaded_from_the_disk_cache_by_another_process(tmp_path):
    """The user's module gets another name in every process: a compiled step whose cached
    signature named the user's state class could not be loaded again (ModuleNotFoundError, then
    the NumPy executor with a warning). Two processes, one cache, the compiled engine each time."""
    import subprocess
    import sys

    path = tmp_path / "mine.py"
    path.write_text(USER)
    script = (
        "import warnings; warnings.simplefilter('error')\n"
        "from adasim import Online, make_optimizer, simulate\n"
        f"run = simulate(Online(), make_optimizer({str(path) + ':Mine'!r}), 50, engine='compiled')\n"
        "print(run.engine, repr(float(run.final_x.ravel()[0])))\n"
    )
    env = {**os.environ, "ADASIM_CACHE_DIR": str(tmp_path / "cache")}
    outs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
            for _ in range(2)]  # fmt: skip
    for done in outs:
        assert done.returncode == 0, done.stderr[-2000:]
    assert outs[0].stdout == outs[1].stdout
    assert outs[0].stdout.startswith("compiled ")


UNCOMPILABLE = "from fractions import Fraction\n" + USER.replace(
    "post = scale(v, hp.eps)", "post = scale(v, hp.eps) * float(Fraction(1, 1))"
)


def test_a_step_numba_cannot_compile(tmp_path):
    path = tmp_path / "odd.py"
    path.write_text(UNCOMPILABLE)
    opt = make_optimizer(f"{path}:Mine")
    with pytest.raises(AdasimError, match="cannot compile its step") as err:
        simulate(Online(), opt, 10, engine="compiled")
    assert "\n" not in str(err.value)
    with pytest.warns(AdasimWarning, match="NumPy executor instead"):
        run = simulate(Online(), opt, 10, engine="auto")
    assert run.engine == "numpy"


def test_engine_choice():
    custom = Custom(gradient_fn=lambda x, t, s: np.ones(x.shape))
    assert simulate(custom, Adam(), 5).engine == "numpy"  # a Python gradient function: not compiled
    with pytest.raises(AdasimError, match="Python gradient function"):
        simulate(custom, Adam(), 5, engine="compiled")
    assert simulate(Online(), Adam(), 5).engine == "compiled"
    with pytest.raises(AdasimError, match="unknown engine 'fast'"):
        simulate(Online(), Adam(), 10, engine="fast")


def test_without_numba_auto_runs_numpy_and_says_so(monkeypatch):
    monkeypatch.setenv("ADASIM_ENGINE", "numpy")
    assert not jit.available()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert simulate(Online(), Adam(), 5).engine == "numpy"
    with pytest.raises(AdasimError, match="not available"):
        simulate(Online(), Adam(), 5, engine="compiled")


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.999])
def test_powers_are_the_recurrence_and_flush_below_tiny(beta):
    p, values = 1.0, []
    for _ in range(20_000):
        p = power(p, beta)
        values.append(p)
    values = np.array(values)
    t = np.arange(1, 20_001)
    exact = np.power(beta, t.astype(float))
    big = exact >= TINY_POWER
    if big.any():  # repeated rounding: relative error at most t ulps
        np.testing.assert_allclose(values[big], exact[big], rtol=t[big].max() * 2.3e-16)
    assert np.all(values[~big] == 0.0)


def test_the_generated_kernel_is_readable_source():
    """The kernel and the step it calls are Python source in the cache folder: the kernel passes
    the unpacked state fields, the step builds the records with the conventions as constants."""
    simulate(Online(), Adam(eps_mode="inside"), 5, engine="compiled")
    kernels = [p.read_text() for p in jit.cache_dir().glob("kernel_adam_*.py")]
    assert any("= STEP(S[0][i], S[1][i]" in s for s in kernels), textwrap.shorten(str(kernels), 200)
    steps = [p.read_text() for p in jit.cache_dir().glob("step_adam_*.py")]
    assert any("AdamHyper_(h_beta1, h_beta2, h_eps, 'inside'" in s for s in steps), textwrap.shorten(str(steps), 200)


def test_one_step_serves_every_kernel_of_an_optimizer_and_its_conventions():
    """Kernels that keep other fields, record other rows or read their gradients from a period or a
    block call one compiled step (typed and lowered once: about half of a kernel's compile time);
    other conventions are another step."""
    from adasim.engine import Layout
    from adasim.engine.compiled import CompiledExecutor

    def step(problem, opt, **keep):
        executor = CompiledExecutor(Layout.build(problem, opt, np.arange(2), 0.0), **keep)
        return executor.kernel, executor.kernel.py_func.__globals__["STEP"]

    adam = Adam(beta1=0.5, beta2=0.9)
    runs = [step(Online(), adam), step(Online(), adam, fields=("g", "v"), record=()),
            step(Stochastic(), adam, record=("x",)), step(Stochastic(), Adam(beta1=0.7, beta2=np.array([0.9, 0.99])))]  # fmt: skip
    assert len({id(k) for k, _ in runs}) == len(runs)  # four kernels ...
    assert all(s is runs[0][1] for _, s in runs)  # ... one step
    assert step(Online(), Adam(eps_mode="inside"))[1] is not runs[0][1]


def test_a_step_is_specialised_to_its_conventions():
    """The compiled step reads no convention: each hp.<convention> is its value (numba then prunes
    the other conventions' branches), and the specialised step computes what the step does."""
    from adasim.engine.jit import with_conventions
    from adasim.optimizers.adam import Corrections
    from adasim.optimizers.amsgrad import AMSGradHyper, AMSGradState, amsgrad_step

    s, clock = AMSGradState(0.1, 0.2, 0.3), Corrections(a1=1.2, q2=1.5, r2=0.8)
    for convention in ("paper", "pytorch", "optax"):
        for eps_mode in ("outside", "inside"):
            hp = AMSGradHyper(eps=1e-3, eps_mode=eps_mode, convention=convention)
            fixed = with_conventions(amsgrad_step, {"eps_mode": eps_mode, "convention": convention, "phi": "identity"})
            assert fixed is not amsgrad_step
            assert not {"convention", "eps_mode", "phi"} & set(fixed.__code__.co_names)
            assert fixed(s, hp, 0.7, 3, 0.01, clock) == amsgrad_step(s, hp, 0.7, 3, 0.01, clock)
    assert fixed is with_conventions(amsgrad_step, {"eps_mode": "inside", "convention": "optax", "phi": "identity"})  # kept

    def rebinds(s, hp, g, t, alpha):
        hp = hp._replace(eps=0.0)
        return hp.mode

    assert with_conventions(rebinds, {"mode": "a"}) is rebinds  # a rebound record is left alone
    assert with_conventions(lambda s, hp, g, t, alpha: hp.mode, {"mode": "a"}).__name__ == "<lambda>"


VECTORISED = """
import re, numpy as np
from adasim import Online, iterate, make_optimizer
from adasim.engine import compiled, jit
for name, kw in [("amsgrad", {"convention": "pytorch"}), ("adafactor", {}), ("nadam", {})]:
    opt = make_optimizer(name, lr=0.01, **kw)
    list(iterate(Online(C=10.0, d=3), opt, 10, seeds=np.arange(4), engine="compiled", fields=()))  # the lane stream
    kernel = [f for f in jit._COMPILED.values() if f.py_func.__name__ == "kernel"][-1]
    ir = kernel.inspect_llvm(kernel.signatures[0])
    print(name, kw.get("convention", ""), len(re.findall(r"<[248] x double>", ir)), len(re.findall(r"call [^@]*@[^(]*step", ir)))
"""


def test_the_cell_loop_of_amsgrad_adafactor_and_nadam_is_vectorised(tmp_path):
    """The block stream's kernels (what sweeps and factor analyses run): their optimised IR has
    vector operations and no call of the step left (AMSGrad's conventions once kept its loop
    scalar, ~8× slower; a power of t per cell did Adafactor's: NAdam's and Adafactor's powers of t
    are in their clocks, ticked once per step)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", VECTORISED],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ADASIM_CACHE_DIR": str(tmp_path)},
    )  # fmt: skip  (a fresh cache: IR only when compiled)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout
    for line in lines:
        vector_ops, step_calls = (int(n) for n in line.split()[-2:])
        assert vector_ops > 0, line
        assert step_calls == 0, line


def test_one_kernel_serves_every_problem_whose_gradients_it_is_given():
    """A kernel that reads its gradients from a block (drawn by each problem's filler) is given none
    of the problem's values, and its arrays are always writable: Stochastic, FiniteSum and a
    per-lane Online share one compiled kernel and one machine-code signature (each new argument
    type would compile it again: ~2 s)."""
    from adasim.engine import Layout
    from adasim.engine.compiled import CompiledExecutor

    opt = Adam(beta1=0.5, beta2=np.array([0.9, 0.99]))  # per lane: the same kernel source for every problem
    problems = [Stochastic(), FiniteSum(n=5, sampling="shuffle"), Online(C=np.array([3.0, 10.0]))]
    kernels = []
    for problem in problems:
        executor = CompiledExecutor(Layout.build(problem, opt, np.arange(2), 0.0))
        assert executor.plan.gradients == "block"
        executor.compile()
        kernels.append(executor.kernel)
    assert all(k is kernels[0] for k in kernels)
    assert len(kernels[0].signatures) == 1, kernels[0].signatures
