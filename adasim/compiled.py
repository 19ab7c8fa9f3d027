"""The compiled path: numba runs each lane through a block of steps in one machine-code loop.

For problems whose gradients do not depend on x and whose losses are linear (the counterexamples),
a block of gradients is drawn by the problem in NumPy as usual; then one loop per lane applies the
optimizer's lane-step form (optimizers.lanestep), projects x onto the box, and keeps what
`simulate` needs — the recorded rows, running sums for the regret, the first non-finite step —
without writing the optimizer's per-step arrays. The floats are those of the NumPy path with
`projection="sequential"` (tests hold the two to equality), so the choice is one of speed only.

numba is optional (`pip install "adasim[fast]"`); without it `available()` is False and the NumPy
path runs. The machine code is cached on disk after its first compilation.
"""

from __future__ import annotations

import hashlib
import math
import os
import types
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from adasim.optimizers import base, lanestep
from adasim.optimizers.base import Optimizer
from adasim.optimizers.lanestep import (  # at_least, at_most, sgd_step: the loop's (compiled copies replace them)
    STATE_SIZE,
    CompiledForm,
    at_least,
    at_most,
    lane_values,
    sgd_step,
)
from adasim.problems.base import Problem

ENGINES = {
    "auto": "compiled when numba is installed, the run allows it and has ≥ 10^7 lane-steps; NumPy otherwise",
    "numpy": "the NumPy path (the reference)",
    "compiled": "the compiled path; an error if numba is missing or the run does not allow it",
}
# the lane-step functions the loop can call, by the number it is given
STEPS = ("sgd_step", "momentum_step", "adagrad_step", "adam_step", "amsgrad_step", "adopt_step", "adashift_step", "adamnc_step")
HELPERS = ("power_step", "recip", "maximum", "at_least", "at_most", "denom")
FIELDS = ("x", "g", "m", "v", "step", "alpha", "pre", "post")
VALUES_PER_BLOCK = 2**20  # gradient values drawn at a time
# "auto" compiles runs of at least this many lane-steps: loading numba and the cached code takes
# ~0.6 s per process, which NumPy's ~50–100 ns per lane-step repays only from about 10^7 on
AUTO_MIN_WORK = 10_000_000


def available() -> bool:
    """True when numba imports (and ADASIM_ENGINE does not say `numpy`)."""
    if os.environ.get("ADASIM_ENGINE", "").strip().lower() == "numpy":
        return False
    return _numba() is not None


@cache
def _numba() -> Any:
    try:
        import numba
    except Exception:  # not installed, or broken (e.g. built for another NumPy): run in NumPy
        return None
    return numba


def worth_it(work: int) -> bool:
    """Whether `auto` should compile a run of `work` lane-steps."""
    return work >= AUTO_MIN_WORK and available()  # so small runs never import numba


def unsupported(problem: Problem, optimizer: Optimizer) -> str | None:
    """Why this run cannot take the compiled path (None when it can)."""
    if not (problem.x_independent and problem.linear):
        return f"the problem's gradients depend on x or its loss is not linear ({problem.name})"
    form = optimizer.compiled_form()
    if form is None or form.step.__name__ not in STEPS:
        return f"{optimizer.name} has no compiled form"
    if not form.coordinatewise and problem.dim > 1:
        return f"{optimizer.name} with φ = {getattr(optimizer, 'phi', '?')} couples coordinates"
    try:
        np.broadcast_to(np.asarray(problem.domain.lo, float), (problem.dim,))
        np.broadcast_to(np.asarray(problem.domain.hi, float), (problem.dim,))
    except ValueError:
        return "the domain's bounds differ between lanes"
    return None


@cache
def _jit_module() -> dict[str, Any]:
    """numba versions of the lane-step functions, each calling the compiled helpers."""
    numba = _numba()
    jitted: dict[str, Any] = {}
    for name in HELPERS:
        jitted[name] = numba.njit(cache=True, inline="always")(getattr(lanestep, name))
    for name in STEPS:
        fn = getattr(lanestep, name)
        clone = types.FunctionType(fn.__code__, {**fn.__globals__, **jitted}, fn.__name__)
        jitted[name] = numba.njit(cache=True, inline="always")(clone)
    return jitted


STEP = sgd_step  # the lane-step function: each compiled copy of the loop binds its own


def _run_block_source(
    g,
    sigma,
    aux,
    t0,
    moving,
    lr,
    P,
    S,
    H,
    x,
    lo,
    hi,
    rec,
    out,
    rec_loss,
    rec_gsum,
    end_loss,
    end_gsum,
    bad_row,
    bad_nan,
    loss_row,
):  # pragma: no cover - compiled by numba; the tests run it through `Lanes` and `simulate`
    """Steps t0 … t0+B−1 of every lane: g (B, Lg, D) (Lg = 1: the same in every lane), sigma and
    aux (B,) or (1,) (the same at every step), lr (L,), settings P (6, L); the state S (5, L, D),
    the rings of past gradients H (depth, L, D) and x (L, D) are updated in place; the recorded
    rows `rec` are written to out (8, L, R, D) (lane-major: each lane writes its own rows). The
    running sums of the loss and of g continue from end_loss (L,) and end_gsum (L, D), updated in
    place, and are written at the recorded rows (rec_loss, rec_gsum). bad_row: the first
    non-finite row of x or the step per lane (−1 if none); bad_nan: whether it holds a NaN."""
    B, Lg, D = g.shape
    L = x.shape[0]
    R = rec.shape[0]
    per_step_sigma = sigma.shape[0] > 1
    per_step_aux = aux.shape[0] > 1
    for l in range(L):
        gl = l if Lg > 1 else 0
        p = (P[0, l], P[1, l], P[2, l], P[3, l], P[4, l], P[5, l])
        rate = lr[l]
        if D > 1:
            for b in range(B):
                loss_row[b] = 0.0
        first = -1
        nan_first = False
        for d in range(D):
            s = (S[0, l, d], S[1, l, d], S[2, l, d], S[3, l, d], S[4, l, d])
            h = H[:, l, d]  # the lane's ring of past gradients (length ≥ 1; unused by most steps)
            xv = x[l, d]
            low = lo[d]
            high = hi[d]
            gs = end_gsum[l, d]
            acc = end_loss[l]  # the loss's running sum (when D = 1)
            r = 0
            bad = -1
            bad_is_nan = False
            for b in range(B):
                gv = g[b, gl, d]
                alpha = rate * sigma[b if per_step_sigma else 0]
                aux_b = aux[b if per_step_aux else 0]
                s, u, mv, vv, pre, post = STEP(s, p, gv, t0 + b, alpha, aux_b, h)
                x_before = xv
                if moving:  # (with infinite bounds the clip is the identity: a running sum)
                    xv = at_most(at_least(xv + -u, low), high)
                if D > 1:
                    loss_row[b] += gv * x_before
                else:
                    acc = acc + gv * x_before
                gs = gs + gv
                if (u - u) + (xv - xv) != 0.0 and bad < 0:  # u or x is ±∞ or NaN
                    bad = b
                    bad_is_nan = math.isnan(xv) or math.isnan(u)
                if r < R and rec[r] == b:
                    out[0, l, r, d] = xv
                    out[1, l, r, d] = gv
                    out[2, l, r, d] = mv
                    out[3, l, r, d] = vv
                    out[4, l, r, d] = u
                    out[5, l, r, d] = alpha
                    out[6, l, r, d] = pre
                    out[7, l, r, d] = post
                    rec_gsum[l, r, d] = gs
                    rec_loss[l, r] = acc
                    r += 1
            x[l, d] = xv
            S[0, l, d], S[1, l, d], S[2, l, d], S[3, l, d], S[4, l, d] = s
            end_gsum[l, d] = gs
            if bad >= 0 and (first < 0 or bad < first):
                first = bad
                nan_first = bad_is_nan
            elif bad >= 0 and bad == first:
                nan_first = nan_first or bad_is_nan
        bad_row[l] = first
        bad_nan[l] = nan_first
        if D > 1:
            acc = end_loss[l]
            r = 0
            for b in range(B):
                acc = acc + loss_row[b]
                if r < R and rec[r] == b:
                    rec_loss[l, r] = acc
                    r += 1
        end_loss[l] = acc


@cache
def _inlined_digest() -> str:
    sources = (Path(lanestep.__file__), Path(base.__file__))
    return hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]


@cache
def _run_block(kind: int) -> Callable:
    """The loop compiled for one lane-step function (bound as STEP, and inlined); each copy has
    its own name, so each has its own entry in numba's disk cache. numba re-validates a cached
    function against its own file only, so the name also carries a digest of the files whose code
    is inlined into it (lanestep.py, and base.py for its constants): an edit there is a new entry."""
    numba = _numba()
    jitted = _jit_module()
    namespace = {**globals(), **jitted, "STEP": jitted[STEPS[kind]]}
    name = f"_run_block_{STEPS[kind]}_{_inlined_digest()}"
    code = _run_block_source.__code__.replace(co_name=name, co_qualname=name)
    return numba.njit(cache=True, nogil=True)(types.FunctionType(code, namespace, name))


class BlockResult(NamedTuple):
    """What one compiled block returns besides the updated x and state."""

    rows: np.ndarray  # recorded rows of the block
    out: np.ndarray  # (8, R, L, D): x, g, m, v, step, alpha, pre, post at the rows (a view)
    loss: np.ndarray  # (R, L) the loss's running sum at the rows (a view)
    gsum: np.ndarray  # (R, L, D) the gradient's running sum at the rows (a view)
    end_loss: np.ndarray  # (L,) the running sums after the block
    end_gsum: np.ndarray  # (L, D)
    bad_row: np.ndarray  # (L,) first non-finite row, −1 if none
    bad_nan: np.ndarray  # (L,) that row holds a NaN


class Lanes:
    """The compiled run of one problem and optimizer over L lanes: call `block` for consecutive
    blocks of steps. x and the optimizer's state are kept here between blocks."""

    def __init__(self, problem: Problem, optimizer: Optimizer, seeds: np.ndarray, x: np.ndarray) -> None:
        reason = unsupported(problem, optimizer)
        if reason is not None:
            raise ValueError(reason)
        form: CompiledForm = optimizer.compiled_form()
        self.problem, self.optimizer, self.form = problem, optimizer, form
        self.kind = STEPS.index(form.step.__name__)
        L, D = x.shape
        self.x = np.array(x, dtype=np.float64)
        self.lr = np.array(np.broadcast_to(np.asarray(optimizer.lr, dtype=np.float64), (L,)))
        self.P = lane_values(form.params, L)
        self.S = np.zeros((STATE_SIZE, L, D))
        self.H = np.zeros((max(form.history, 1), L, D))
        for i, value in enumerate(form.state):
            self.S[i] = value
        self.lo = np.array(np.broadcast_to(np.asarray(problem.domain.lo, float), (D,)))
        self.hi = np.array(np.broadcast_to(np.asarray(problem.domain.hi, float), (D,)))
        # a problem whose gradients are the same in every lane is drawn once per step
        self.draw_seeds = seeds[:1] if not problem.uses_seeds and problem.lanes() == 1 else seeds
        self.loss_row = np.empty(0)
        self.loss_total, self.g_total = np.zeros(L), np.zeros((L, D))  # the regret's running sums

    def block_size(self) -> int:
        """Steps per block: about VALUES_PER_BLOCK gradient values, at most 2^16 steps (any size
        gives the same floats: every sum runs on from its carried value)."""
        lanes_drawn = max(len(self.draw_seeds), self.problem.lanes())
        return max(64, min(2**16, VALUES_PER_BLOCK // (lanes_drawn * self.problem.dim)))

    def block(self, t: np.ndarray, moving: bool, rows: np.ndarray) -> BlockResult:
        """Run steps t (consecutive) on every lane; record the block rows `rows` (sorted)."""
        g = self.problem.block_gradients(int(t[0]), len(t), self.draw_seeds)
        if g.shape[1] > 1 and g.strides[1] == 0:  # the same in every lane: pass one
            g = g[:, :1]
        g = np.ascontiguousarray(g, dtype=np.float64)
        B = len(t)
        L, D = self.x.shape
        # a constant schedule or no aux: one value for every step
        constant = self.optimizer.schedule.kind == "constant"
        sigma = np.ones(1) if constant else np.ascontiguousarray(self.optimizer.schedule(t), dtype=np.float64)
        aux = np.zeros(1) if self.form.aux is None else np.ascontiguousarray(self.form.aux(t), dtype=np.float64)
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        R = len(rows)
        out = np.empty((len(FIELDS), L, R, D))
        loss, gsum = np.empty((L, R)), np.empty((L, R, D))
        # the regret's running sums, carried and updated in place (warm-up steps do not count)
        end_loss, end_gsum = (self.loss_total, self.g_total) if moving else (np.zeros(L), np.zeros((L, D)))
        bad_row, bad_nan = np.empty(L, dtype=np.int64), np.empty(L, dtype=np.bool_)
        if D > 1 and self.loss_row.shape[0] < B:
            self.loss_row = np.empty(B)
        _run_block(self.kind)(
            g, sigma, aux, int(t[0]), bool(moving), self.lr, self.P, self.S, self.H, self.x,
            self.lo, self.hi, rows, out, loss, gsum, end_loss, end_gsum, bad_row, bad_nan, self.loss_row,
        )  # fmt: skip
        return BlockResult(
            rows, out.swapaxes(1, 2), loss.T, gsum.swapaxes(0, 1), end_loss.copy(), end_gsum.copy(), bad_row, bad_nan
        )
