"""The battery of `adasim check`: Adam's counterexamples, each with every setting fixed.

A case is a problem from adasim's families (its gradients, domain and x*), the run settings
(steps, seeds, x_1, the step-size schedule σ_t applied on top of the optimizer's lr: α_t =
lr·σ_t, and the lr used when the user gives none), the outcome a convergent method reaches (SGD
with the same schedule reaches it on every convex case) and where the case comes from.

`rotate` embeds the counterexample in 2-D: two independent copies (coordinates y_1, y_2, each the
1-D problem on [−1, 1]) seen through the rotation x = R(θ) y. The optimizer sees g_x = R g_y and
x is projected onto the rotated square (rotate back, clip, rotate: the Euclidean projection, R
being orthogonal). SGD is rotation invariant; coordinate-wise scaling is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from adasim.errors import unknown_name
from adasim.problems import Domain, FiniteSum, Layered, Online, Problem, Quadratic, Stochastic
from adasim.schedules import Schedule


@dataclass(frozen=True)
class Case:
    """One counterexample with every setting fixed (see the module text)."""

    name: str
    problem: Problem
    source: str
    about: str
    steps: int = 10_000
    quick_steps: int = 1_000
    seeds: int = 8
    lr: float = 0.5
    schedule: Schedule = field(default_factory=lambda: Schedule("inv-sqrt"))
    x0: float = 0.0
    rotate: float | None = None  # θ in radians: the 2-D rotated embedding
    tol: float = 0.1  # converge: the average iterate's median distance to x* at most tol × the width
    expect: str = "converge"  # or "toward" / "avoid", for cases too long to converge in a check (runner.passes)

    @property
    def dim(self) -> int:
        return 2 if self.rotate is not None else self.problem.dim

    def settings(self, quick: bool = False) -> dict[str, Any]:
        """Everything needed to re-run the case by hand."""
        out: dict[str, Any] = {
            "steps": self.quick_steps if quick else self.steps,
            "seeds": list(range(self.seeds)),
            "x0": self.x0,
            "lr": self.lr,
            "schedule": self.schedule.config(),
            "alpha_t": f"lr·{self.schedule.describe()}",
            "tol": self.tol,
            "expect": self.expect,
        }
        if self.rotate is not None:
            out["rotate"] = self.rotate
            out["embedding"] = "x = R(θ) y, y = two independent copies of the 1-D problem; projection onto R(θ)[−1, 1]²"
        return out


def _reddi(C: float) -> Online:
    return Online(C=C, s=1.0, d=3, k=1)


CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case("reddi-thm1-C3", _reddi(3.0), "Reddi, Kale & Kumar 2018, Theorem 1 (C = 3)",
             "online, gradients 3, −1, −1: x* = −1; Adam with β2 = 1/(1+C²) ends at +1"),
        Case("reddi-thm1-C10", _reddi(10.0), "Reddi, Kale & Kumar 2018, Theorem 1 (C = 10)",
             "online, gradients 10, −1, −1: x* = −1"),
        Case("reddi-fig1-online", Online(C=1010.0, s=10.0, d=101, k=1), "Reddi, Kale & Kumar 2018, Fig. 1 (left)",
             "online, one gradient 1010 then 100 of −10: x* = −1", lr=0.05, expect="toward"),
        Case("reddi-fig1-stochastic", Stochastic(C=1010.0, s=10.0, p=0.01), "Reddi, Kale & Kumar 2018, Fig. 1 (right)",
             "i.i.d. 1010 with probability 0.01, else −10: E g = 0.2 > 0, x* = −1", lr=0.05, expect="avoid"),
        Case("adashift-stochastic", Stochastic(C=101.0, s=1.0, delta=0.02),
             "Zhou et al. 2019 (AdaShift), the stochastic problem (on [−1, 1] here)",
             "i.i.d. 101 with probability 1.02/102, else −1: E g = 0.01 > 0, x* = −1", lr=0.05, expect="avoid"),
        Case("shi-two-spike", Online(C=10.0, s=1.0, d=10, k=2), "Shi et al. 2021 (ICLR), Fig. 1 (period C, two spikes)",
             "online, two gradients 10 then eight −1: x* = −1"),
        Case("consecutive-spikes", Online(C=200.0, s=1.0, d=300, k=2),
             "adasim: runs of consecutive spikes defeat a shift of 1 (ADOPT, AdaShift n = 1)",
             "online, two gradients 200 then 298 of −1: E g = 0.34 > 0, x* = −1", lr=0.05),
        Case("adopt-toy-k10", Stochastic(C=100.0, s=10.0, p=0.1), "Taniguchi et al. 2024 (ADOPT), toy problem, k = 10",
             "i.i.d. k² w.p. 1/k, else −k (E g = 1): x* = −1", lr=0.01, schedule=Schedule("inv-sqrt-affine", 0.01),
             expect="avoid"),
        Case("adopt-toy-k50", Stochastic(C=2500.0, s=50.0, p=0.02), "Taniguchi et al. 2024 (ADOPT), toy problem, k = 50",
             "i.i.d. k² w.p. 1/k, else −k (E g = 1): x* = −1", lr=0.01, schedule=Schedule("inv-sqrt-affine", 0.01),
             expect="avoid"),
        Case("finite-sum-shuffle", FiniteSum(n=10, sampling="shuffle"),
             "Zhang et al. 2022 (NeurIPS), finite sum with reshuffling",
             "f_0 = n·x and the f_i = −x, one pass per epoch in a fresh order: mean gradient 0.1 > 0, x* = −1"),
        Case("skewed-noise", Stochastic(C=4.0, s=1.0, p=0.3), "adasim: mean and median of the gradient disagree",
             "i.i.d. 4 w.p. 0.3, else −1: E g = 0.5 > 0 (x* = −1) but the median gradient is −1 (sign methods follow it)"),
        Case("rotated-reddi", _reddi(10.0), "Reddi Theorem 1 (C = 10) embedded in 2-D and rotated by π/6",
             "two copies of the online problem seen through a rotation: x* = R(−1, −1)", rotate=math.pi / 6),
        Case("two-scales", Layered(blocks=((1, 1.0), (1, 1e-2)), base="stochastic", C=10.0, s=1.0, p=0.2),
             "Zhou et al. 2019 §5 (block-wise v): two coordinates whose gradient scales differ 100×",
             "i.i.d. 10 w.p. 0.2, else −1, times 1 and 0.01: x* = (−1, −1)"),
        Case("quadratic", Quadratic(size=2, condition=10.0, noise=0.0, domain=Domain(-2.0, 2.0)),
             "a sanity case: a well-conditioned quadratic", "½(x_1² + 0.1 x_2²) on [−2, 2]²: x* = 0", x0=1.0),
    ]
}  # fmt: skip


def get_cases(names: list[str] | None = None) -> list[Case]:
    """The cases named (all of them when None), in the battery's order."""
    if not names:
        return list(CASES.values())
    out = []
    for name in names:
        if name not in CASES:
            raise unknown_name("check case", name, CASES)
        out.append(CASES[name])
    return out
