"""AdaShift (Zhou et al., ICLR 2019), as in the authors' TensorFlow code: v_t is built from the
gradient n steps back, so it is independent of every gradient it scales."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim.errors import AdasimError, check_choice
from adasim.optimizers.base import (
    Kernel,
    Optimizer,
    ScaleLimit,
    Update,
    check_beta,
    check_blocks,
    check_eps,
    check_int,
    denominator,
    int_lane,
    lane,
    power_state,
    powers,
    reciprocal,
    reduce_phi,
    steps_column,
)
from adasim.optimizers.lanestep import EPS_CODE, CompiledForm, adashift_step
from adasim.scan import decayed_max, ema

V_RULES = {
    "ema": "v_t = β2 v_{t−1} + (1−β2) φ(g²_{t−n}), bias-corrected by 1 − β2^(t−n) (the paper)",
    "max": "v_t = max(β2 v_{t−1}, φ(g²_{t−n})), no correction (the authors' later code)",
}


class AdaShiftState(NamedTuple):
    buffer: np.ndarray  # (N, L, D): the last N gradients, oldest first, zero-filled at the start
    v: np.ndarray
    p2: np.ndarray  # β2^(t−n), carried for the bias correction


@dataclass(frozen=True, eq=False)
class AdaShift(Optimizer):
    """m_t = Σ_{i<w} β1^i g_{t−i} / Σ_{i<w} β1^i;  v_t = β2 v_{t−1} + (1−β2) φ(g_{t−n}²);
    x ← Π(x − α_t m_t/(√(v_t/(1−β2^(t−n))) + ε)), no update while t ≤ n. The window w defaults to n
    (to 1 for n = 0, which is Adam's own v)."""

    n: Any = 10
    window: Any = None
    beta1: Any = 0.9
    beta2: Any = 0.999
    eps: Any = 1e-8
    eps_mode: str = "outside"
    phi: str = "max"
    block_sizes: Any = None
    v_rule: str = "ema"

    name = "adashift"
    rule = "m_t = window average of g_{t−w+1..t};  v_t = β2 v + (1−β2) φ(g_{t−n}²);  x ← Π(x − α_t m_t/(√v̂_t + ε))"
    source = "Zhou et al. 2019 (ICLR), the authors' TensorFlow code"
    lane_params = ("lr", "n", "window", "beta1", "beta2", "eps")

    def validate(self) -> None:
        n = check_int("shift n", self.n, 0)
        check_beta("beta1", self.beta1)
        check_beta("beta2", self.beta2)
        check_eps(self.eps, self.eps_mode, ("outside", "inside"))
        check_blocks(self.phi, self.block_sizes)
        check_choice("v_rule", self.v_rule, V_RULES)
        if self.v_rule == "max" and np.any(np.asarray(self.beta2) == 0.0):
            raise AdasimError("the max rule needs β2 > 0")
        if self.window is not None:
            w = check_int("window", self.window, 1)
            if np.any(np.broadcast_to(w, np.broadcast_shapes(w.shape, n.shape)) > np.maximum(n, 1)):
                raise AdasimError("window must not exceed the shift n (the gradients in m_t must not be in v_t)")

    def windows(self) -> np.ndarray:
        return np.maximum(int_lane(self.n), 1) if self.window is None else int_lane(self.window)

    def depth(self) -> int:
        """How many past gradients the buffer keeps."""
        return int(max(np.max(self.n), np.max(self.windows()) - 1, 1))

    def init(self, shape: tuple[int, int]) -> AdaShiftState:
        return AdaShiftState(buffer=np.zeros((self.depth(), *shape)), v=np.zeros(shape), p2=power_state(self.beta2))

    def update(self, state: AdaShiftState, g: np.ndarray, t: np.ndarray) -> tuple[Update, AdaShiftState]:
        beta1, beta2, eps = lane(self.beta1), lane(self.beta2), lane(self.eps)
        n, w = int_lane(self.n), self.windows()
        depth, B = state.buffer.shape[0], g.shape[0]
        history = np.concatenate([state.buffer, g], axis=0)  # history[depth + b] = g at block row b
        rows = depth + np.arange(B)
        if n.ndim == 0:
            shifted = history[depth - int(n) : depth - int(n) + B]
        else:
            index = (rows[:, None] - n[None, :, 0])[:, :, None]
            shifted = np.take_along_axis(history, index, axis=0)
        u = reduce_phi(shifted * shifted, self.phi, self.block_sizes)
        v = decayed_max(beta2, u, state.v) if self.v_rule == "max" else ema(beta2, 1.0 - beta2, u, state.v)
        # m_t: β1-weighted average over the window of the w latest gradients (β1^i as a running product)
        m = np.zeros_like(g)
        total = np.zeros(np.broadcast_shapes(np.shape(beta1), np.shape(w)))
        power = np.ones_like(total)
        for i in range(int(np.max(w))):
            weight = np.where(i < w, power, 0.0)
            m += weight * history[depth - i : depth - i + B]
            total = total + weight
            power = power * beta1
        m /= total
        tc = steps_column(t)
        active = tc > n
        p2 = state.p2
        if self.v_rule == "max":
            c2 = 1.0
        else:
            p2s = powers(beta2, p2, B, where=np.broadcast_to(active, (B, *np.shape(active)[1:])))
            c2, p2 = np.where(active, 1.0 - p2s, 1.0), p2s[-1]
        post = np.where(active, reciprocal(denominator(v / c2, eps, self.eps_mode)), 0.0)
        return (
            Update(step=self.alpha(t) * post * m, m=m, v=v, pre=np.ones_like(g), post=post),
            AdaShiftState(buffer=history[-depth:], v=v[-1], p2=p2),
        )

    def kernel(self) -> Kernel:
        return Kernel("window", beta1=self.beta1, window=self.windows())

    def compiled_form(self) -> CompiledForm | None:
        if self.v_rule != "ema":  # the max rule runs as a log-domain accumulate in NumPy
            return None
        w = self.windows()
        params = (self.beta1, self.beta2, self.eps, EPS_CODE[self.eps_mode], self.n, w[:, 0] if np.ndim(w) == 2 else w)
        return CompiledForm(adashift_step, params, (0.0, 0.0, 1.0), coordinatewise=self.phi == "identity", history=self.depth())

    def scale_limit(self) -> ScaleLimit:
        if self.v_rule == "max":  # no closed form for the max rule: analyses measure instead
            return ScaleLimit("unknown")
        return ScaleLimit(
            "ema", beta2=float(self.beta2), shift=int(self.n), phi=self.phi, eps=float(self.eps), form=self.eps_mode
        )
