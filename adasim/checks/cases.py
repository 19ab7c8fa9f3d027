"""The battery of `adasim check`: Adam's counterexamples, each with every setting fixed.

A case is a problem from adasim's families (its gradients, domain and x*) and the run settings
(steps, seeds, x_1, the step-size schedule σ_t applied on top of the optimizer's lr: α_t =
lr·σ_t, and the lr used when the user gives none), the outcome a convergent method reaches and
where the case comes from. Every case is run in full, always: `--quick` runs the cases marked
`quick` (the same runs, so the same verdicts), not shorter ones.

What a verdict needs beyond the outcome — progress against SGD with the same schedule — is in
runner.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adasim.errors import unknown_name
from adasim.problems import (
    Domain,
    FiniteSum,
    Layered,
    Matrix,
    MatrixQuadratic,
    Online,
    Problem,
    Quadratic,
    RankOne,
    RankTwo,
    Rotated,
    SignStall,
    Stochastic,
    Symmetry,
)
from adasim.schedules import Schedule

EXPECT = {
    "converge": "the average iterate of the second half within tol × the width of x* (the box's widest side × √D, "
    "or a ball's diameter)",
    "toward": "the average iterate of the second half covers at least a quarter of the way from x_1 to x*",
    "drift": "the drift its measured factors imply, E[κ g], points toward x* (95 % interval), and it moves",
    "invariant": "the iterates equal those of the reference case (gradients × 1/scale) to tol × the distance they travel",
}


@dataclass(frozen=True)
class Case:
    """One counterexample with every setting fixed (see the module text)."""

    name: str
    problem: Problem
    source: str
    about: str
    steps: int = 10_000
    n_seeds: int = 8  # lanes with the seeds 0 … n_seeds − 1
    lr: float = 0.5
    schedule: Schedule = field(default_factory=lambda: Schedule("inv-sqrt"))
    x0: float = 0.0
    tol: float = 0.1  # converge: the average iterate's median distance to x* at most tol × the width
    expect: str = "converge"  # or "toward" / "drift", for cases too long to converge in a check (runner.py)
    quick: bool = False  # one of the cases `--quick` runs
    reference: str | None = None  # invariant: the case whose gradients these are, divided by `scale`
    scale: float = 1.0

    @property
    def dim(self) -> int:
        return self.problem.dim

    def x_star(self) -> np.ndarray:
        return np.asarray(np.broadcast_to(self.problem.optimum()[0], (self.dim,)), dtype=float)

    def settings(self) -> dict[str, Any]:
        """Everything needed to re-run the case by hand."""
        mean = np.atleast_1d(self.problem.mean_gradient())
        return {
            "steps": self.steps,
            "seeds": list(range(self.n_seeds)),
            "x0": self.x0,
            "lr": self.lr,
            "schedule": self.schedule.config(),
            "alpha_t": f"lr·{self.schedule.describe()}",
            "domain": self.problem.domain.describe(),
            "x_star": self.x_star().tolist(),
            "mean_gradient": float(mean[0]) if mean.size == 1 else mean.ravel().tolist(),
            "expect": self.expect,
            "expect_means": EXPECT[self.expect],
            "tol": self.tol,
            "quick": self.quick,
            **({"reference": self.reference, "scale": self.scale} if self.reference else {}),
        }


def _reddi(C: float) -> Online:
    return Online(C=C, s=1.0, d=3, k=1)


CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case("reddi-thm1-C3", _reddi(3.0), "Reddi, Kale & Kumar 2018, Theorem 1 (C = 3)",
             "online, gradients 3, −1, −1: x* = −1; Adam with β2 = 1/(1+C²) ends at +1"),
        Case("reddi-thm1-C10", _reddi(10.0), "Reddi, Kale & Kumar 2018, Theorem 1 (C = 10)",
             "online, gradients 10, −1, −1: x* = −1", quick=True),
        Case("reddi-fig1-online", Online(C=1010.0, s=10.0, d=101, k=1), "Reddi, Kale & Kumar 2018, Fig. 1 (left)",
             "online, one gradient 1010 then 100 of −10: x* = −1", lr=0.05, expect="toward"),
        Case("reddi-fig1-stochastic", Stochastic(C=1010.0, s=10.0, p=0.01),
             "Reddi, Kale & Kumar 2018, Fig. 1 (right); the same as Zhou et al. 2019 (AdaShift)'s stochastic problem "
             "(101 w.p. 0.01, else −1) scaled by 10",
             "i.i.d. 1010 with probability 0.01, else −10: E g = 0.2 > 0, x* = −1", lr=0.05, expect="drift", quick=True),
        Case("shi-two-spike", Online(C=10.0, s=1.0, d=10, k=2), "Shi et al. 2021 (ICLR), Fig. 1 (period C, two spikes)",
             "online, two gradients 10 then eight −1: x* = −1"),
        Case("consecutive-spikes", Online(C=200.0, s=1.0, d=300, k=2),
             "adasim: runs of consecutive spikes defeat a shift of 1 (ADOPT, AdaShift n = 1)",
             "online, two gradients 200 then 298 of −1: E g = 0.34 > 0, x* = −1", lr=0.05, quick=True),
        Case("adopt-toy-k10", Stochastic(C=100.0, s=10.0, p=0.1), "Taniguchi et al. 2024 (ADOPT), toy problem, k = 10",
             "i.i.d. k² w.p. 1/k, else −k (E g = 1): x* = −1", lr=0.01, schedule=Schedule("inv-sqrt-affine", 0.01),
             expect="drift"),
        Case("adopt-toy-k50", Stochastic(C=2500.0, s=50.0, p=0.02), "Taniguchi et al. 2024 (ADOPT), toy problem, k = 50",
             "i.i.d. k² w.p. 1/k, else −k (E g = 1): x* = −1", lr=0.01, schedule=Schedule("inv-sqrt-affine", 0.01),
             expect="drift"),
        Case("finite-sum-shuffle", FiniteSum(n=10, sampling="shuffle"),
             "Zhang et al. 2022 (NeurIPS), finite sum with reshuffling",
             "f_0 = n·x and the f_i = −x, one pass per epoch in a fresh order: mean gradient 0.1 > 0, x* = −1"),
        Case("skewed-noise", Stochastic(C=4.0, s=1.0, p=0.3), "adasim: mean and median of the gradient disagree",
             "i.i.d. 4 w.p. 0.3, else −1: E g = 0.5 > 0 (x* = −1) but the median gradient is −1 (sign methods follow it)",
             quick=True),
        Case("rotated-reddi", Rotated(base="online", C=10.0, s=1.0, d=3, k=1, theta=math.pi / 6, domain=Domain(-1.0, 1.0)),
             "Reddi Theorem 1 (C = 10) embedded in 2-D and rotated by π/6 (adasim.problems.Rotated, on the box [−1, 1]²)",
             "two copies of the online problem (mean gradient 8/3 each) seen through a rotation by π/6: "
             "x* = (−1, −1), a corner of the box"),
        Case("two-scales", Layered(blocks=((1, 1.0), (1, 1e-2)), base="stochastic", C=10.0, s=1.0, p=0.2),
             "Zhou et al. 2019 §5 (block-wise v): two coordinates whose gradient scales differ 100×",
             "i.i.d. 10 w.p. 0.2, else −1, times 1 and 0.01: x* = (−1, −1)", quick=True),
        Case("scale-invariance", Stochastic(C=4000.0, s=1000.0, p=0.3),
             "adasim: an adaptive method's steps do not depend on the gradients' units",
             "skewed-noise with every gradient × 1000 (the same draws): the iterates must be skewed-noise's, to 10 % of "
             "the distance they travel (SGD's steps are 1000× larger: it fails by design)",
             reference="skewed-noise", scale=1000.0, expect="invariant", tol=0.1),
        Case("symmetry-skewed", Symmetry(mu=0.0, sigma=1.0, q=0.01, domain=Domain(-2.0, 2.0)),
             "Dereich, Do, Jentzen & von Wurstemberger 2025 (arXiv 2511.06675): Adam converges to the minimiser iff "
             "the data are symmetric; the bias law in docs/REFERENCE.md §8",
             "f_t = ½(θ − X_t)², X_t skewed (σ = 1, a spike of 9.9 with probability 0.01, else −0.1): x* = E X = 0. "
             "Sign methods go to the median, −0.10; RMSProp's v biases its fixed point by about −(1 − β2)κ₃/(2σ²) "
             "(−0.049 at β2 = 0.99 to first order; measured −0.02); Adam at β2 = 0.999: −0.005",
             x0=1.0, tol=0.015),
        Case("quadratic", Quadratic(size=2, condition=10.0, noise=0.0, domain=Domain(-2.0, 2.0)),
             "a sanity case: a well-conditioned quadratic", "½(x_1² + 0.1 x_2²) on [−2, 2]²: x* = 0", x0=1.0, quick=True),
    ]
}  # fmt: skip
# The matrix battery: what an optimizer that acts on matrices (Muon, ...: adapters.matrix_reason) runs
# instead of the vector cases, which cannot exercise its defining step. Each case is a scalar case
# of the battery embedded on the diagonal of a 4 × 4 matrix W, one independent copy per diagonal
# entry (adasim.problems.Matrix, docs/REFERENCE.md §7): every lane's W is one (4, 4) parameter.
# Deterministic cases run one seed, stochastic ones four: a foreign matrix optimizer orthogonalises
# each lane's W alone (torch.optim.Muon: about 150 µs per W and step), and the battery for it is
# meant to take half a minute.
MATRIX_CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case("matrix-reddi-thm1-C10", Matrix(size=4, base="online", C=10.0, s=1.0, d=3, k=1),
             "reddi-thm1-C10 on the diagonal of W (4 × 4; adasim.problems.Matrix)",
             "four copies of the online problem 10, −1, −1 (phases shifted) on W's diagonal: x* = −1 there, 0 elsewhere",
             n_seeds=1, quick=True),
        Case("matrix-shi-two-spike", Matrix(size=4, base="online", C=10.0, s=1.0, d=10, k=2),
             "shi-two-spike on the diagonal of W (4 × 4)",
             "four copies of two gradients 10 then eight −1 on W's diagonal: x* = −1 there, 0 elsewhere", n_seeds=1),
        Case("matrix-skewed-noise", Matrix(size=4, base="stochastic", C=4.0, s=1.0, p=0.3),
             "skewed-noise on the diagonal of W (4 × 4), an independent stream per entry",
             "i.i.d. 4 w.p. 0.3, else −1, per diagonal entry: E g = 0.5 > 0 (x* = −1 there) but the median is −1 "
             "(sign methods, and Muon on a diagonal matrix, follow it)", n_seeds=4, quick=True),
        Case("matrix-rank-one", RankOne(size=4, C=10.0, s=1.0, p=0.2, ball="frobenius", radius=1.0),
             "adasim: a rank-one spike stream (adasim.problems.RankOne, docs/REFERENCE.md §7) on the "
             "Frobenius ball", "G_t = c_t u vᵀ (dense unit u, v; c_t = 10 w.p. 0.2, else −1: E c = 1.2) on ‖W‖_F ≤ 1: "
             "x* = −u vᵀ. A method that keeps the rank-one direction (SGD, Muon) gets there; a coordinate-wise one "
             "(Adam: W ∝ sign(u) sign(v)ᵀ) or a row-normalised one (NorMuon: W ∝ sign(u) vᵀ) stops short on the ball",
             n_seeds=4),
        Case("matrix-sign-stall", SignStall(slope=0.5, domain=Domain(-2.0, 2.0)),
             "adasim: a convex nonsmooth 2 × 2 loss (adasim.problems.SignStall, docs/REFERENCE.md §7)",
             "f = |w₁₁ − w₂₂| + |w₁₂ + w₂₁| + |w₁₂ − w₂₁| + ½|tr W − 2|: W* = I. sign(G) and msign(G) have trace 0, "
             "so signSGD and Muon without momentum never change tr W (f ≥ 1 from W = 0); momentum breaks the stall",
             n_seeds=1),
        Case("matrix-scale-invariance", Matrix(size=4, base="stochastic", C=4000.0, s=1000.0, p=0.3),
             "scale-invariance on the diagonal of W (4 × 4)",
             "matrix-skewed-noise with every gradient × 1000: the iterates must be matrix-skewed-noise's, to 10 % of the "
             "distance they travel (PolarGrad's and error feedback's steps scale with the gradient: they fail by design)",
             reference="matrix-skewed-noise", scale=1000.0, expect="invariant", tol=0.1, n_seeds=4),
    ]
}  # fmt: skip
QUICK = tuple(name for name, c in CASES.items() if c.quick)
MATRIX_QUICK = tuple(name for name, c in MATRIX_CASES.items() if c.quick)
ALL_CASES: dict[str, Case] = {**CASES, **MATRIX_CASES}


MATRIX_PROBLEMS = (Matrix, RankOne, RankTwo, SignStall, MatrixQuadratic)


def is_matrix(case: Case) -> bool:
    """Whether the case's parameter is a matrix (a lane's coordinates are one W)."""
    return isinstance(case.problem, MATRIX_PROBLEMS)


def get_cases(names: list[str] | None = None) -> list[Case]:
    """The cases named (the vector battery when None), in the battery's order (MATRIX_CASES too)."""
    if not names:
        return list(CASES.values())
    out = []
    for name in names:
        if name not in ALL_CASES:
            raise unknown_name("check case", name, ALL_CASES)
        out.append(ALL_CASES[name])
    return out
