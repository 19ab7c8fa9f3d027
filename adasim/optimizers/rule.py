"""User-defined scale rules: v_t is whatever a rule says, the rest is Adam's machinery.

A rule is a class with `init(shape) -> state` and `step(state, g, t) -> (v, state)`, called once per
step with that step's gradients g (lanes × coordinates) and the 1-based step t. The optimizer is
m_t = β1 m_{t−1} + (1−β1) g_t,  x ← Π(x − α_t m_t/(√v_t + ε)), so net update factors,
correlations and end points work for it unchanged (it has no closed form).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from adasim.errors import AdasimError
from adasim.optimizers.base import Kernel, Optimizer, ScaleLimit, Update, check_beta, check_eps, lane, reciprocal
from adasim.scan import ema


class ScaleRule:
    """Subclass and define `step`; `init` defaults to no state. Give the class fields (a
    dataclass) for hyper-parameters: adasim passes the command-line settings with those names."""

    def init(self, shape: tuple[int, int]) -> Any:
        return None

    def step(self, state: Any, g: np.ndarray, t: int) -> tuple[np.ndarray, Any]:
        raise NotImplementedError


class RuleState(NamedTuple):
    m: np.ndarray
    rule: Any


@dataclass(frozen=True, eq=False)
class RuleOptimizer(Optimizer):
    """m_t = β1 m_{t−1} + (1−β1) g_t;  v_t = rule(g_1..g_t);  x ← Π(x − α_t m_t/(√v_t + ε))."""

    rule: Any = None
    beta1: Any = 0.9
    eps: Any = 1e-8
    eps_mode: str = "outside"
    label: str = "rule"

    name = "rule"
    source = "user-defined"
    lane_params = ("lr", "beta1", "eps")

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "name", self.label)

    def validate(self) -> None:
        if self.rule is None or not callable(getattr(self.rule, "step", None)):
            raise AdasimError("a rule optimizer needs a rule with a step(state, g, t) method")
        check_beta("beta1", self.beta1)
        check_eps(self.eps, self.eps_mode, ("outside", "inside"))

    def init(self, shape: tuple[int, int]) -> RuleState:
        return RuleState(m=np.zeros(shape), rule=self.rule.init(shape))

    def update(self, state: RuleState, g: np.ndarray, t: np.ndarray) -> tuple[Update, RuleState]:
        beta1 = lane(self.beta1)
        m = ema(beta1, 1.0 - beta1, g, state.m)
        v = np.empty_like(g)
        rule_state = state.rule
        for i in range(g.shape[0]):
            try:
                vi, rule_state = self.rule.step(rule_state, g[i], int(t[i]))
            except AdasimError:
                raise
            except Exception as err:
                raise AdasimError(f"{self.label}: step() failed at t = {int(t[i])}: {type(err).__name__}: {err}") from None
            vi = np.asarray(vi, dtype=np.float64)
            try:
                v[i] = np.broadcast_to(vi, g.shape[1:])
            except ValueError:
                raise AdasimError(
                    f"{self.label}: step() returned v of shape {vi.shape}, expected {g.shape[1:]} (lanes, coordinates)"
                ) from None
        eps = lane(self.eps)
        root = np.sqrt(v + eps) if self.eps_mode == "inside" else np.sqrt(v) + eps
        post = reciprocal(root)
        return (
            Update(step=self.alpha(t) * post * m, m=m, v=v, pre=np.ones_like(g), post=post),
            RuleState(m=m[-1], rule=rule_state),
        )

    def kernel(self) -> Kernel:
        return Kernel("ema", beta1=self.beta1)

    def scale_limit(self) -> ScaleLimit:
        return ScaleLimit("custom")

    def config(self) -> dict:
        out = super().config()
        out["rule"] = type(self.rule).__name__
        if dataclasses.is_dataclass(self.rule):
            out["rule_settings"] = {f.name: getattr(self.rule, f.name) for f in dataclasses.fields(self.rule)}
        return out
