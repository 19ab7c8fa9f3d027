"""Muon (Jordan et al. 2024; torch.optim.Muon 2.13): momentum, then the update orthogonalised as a
matrix. A lane's coordinates are one matrix whose rows are the problem's blocks
(adasim.ops.matrix_shape; without blocks, one row).

    B_t = B_{t−1} + (1 − μ)(g_t − B_{t−1})                 (torch's buf.lerp_(g, 1 − μ))
    Ũ_t = g_t + μ (B_t − g_t)  with Nesterov, else B_t
    O_t = NS₅(Ũ_t)  (Newton–Schulz, ops.newton_schulz)  or  msign(Ũ_t) = U sign(Σ) Vᵀ (`polar="exact"`)
    x_t = Π(x_{t−1} − α_t (s·O_t + λ x_{t−1})),   s = √max(1, m/n)  ("original"),
                                                   0.2·√max(m, n) ("match-rms-adamw") or 1 ("none"),
                                                   times ‖Ũ_t‖_* with scale_by = "nuclear".

PolarGrad (Lau, Long & Su 2025) is this step with scale_by = "nuclear", the exact polar factor, no
Nesterov and no shape scaling: the step α‖Ũ‖_* U Vᵀ (Ũ = U Σ Vᵀ, ‖Ũ‖_* = Σ_i σ_i) is steepest
descent for the spectral norm; on a diagonal matrix it is α‖u‖₁ sign(u) (the ℓ∞ norm's).

torch's documentation writes B_t = μB + g and g + μB_t; its code (above) is that times (1 − μ),
the same direction, and the orthogonalisation forgets the scale. torch runs Newton–Schulz in
bfloat16; adasim in float64 (so they agree to bfloat16's precision, not bit for bit).

On a diagonal matrix, msign(diag(u)) = diag(sign(u)): exact-polar Muon without Nesterov is Signum
with β = μ, and with Nesterov it is Lion with β1 = μ², β2 = μ (docs/REFERENCE.md §7). The polar
factor is orthogonally equivariant, msign(U A Vᵀ) = U msign(A) Vᵀ, and so is Newton–Schulz (a
polynomial in A Aᵀ times A): Muon's moves do not depend on the basis of W."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import check_range
from adasim.optimizers.base import Definition, no_kernel, out

POLAR = {
    "newton-schulz": "five quintic Newton–Schulz steps (Jordan et al.'s coefficients), as torch.optim.Muon",
    "exact": "the exact polar factor U sign(Σ) Vᵀ from the SVD",
}
LR_SCALES = {
    "original": "α·√max(1, m/n) (Jordan's Muon; torch's default)",
    "match-rms-adamw": "α·0.2·√max(m, n) (Moonshot's, to reuse AdamW's lr)",
    "none": "α",
}


SCALE_BY = {
    "none": "the orthogonalised update as it is (Muon)",
    "nuclear": "times the nuclear norm ‖Ũ‖_* = Σ σ_i (PolarGrad: steepest descent in the spectral norm)",
}


class MuonHyper(NamedTuple):
    beta1: float = 0.95  # μ
    nesterov: bool = True
    polar: str = "newton-schulz"
    ns_steps: int = 5
    eps: float = 1e-7
    weight_decay: float = 0.0
    lr_scale: str = "original"
    scale_by: str = "none"


class MuonState(NamedTuple):
    m: Any = 0.0  # the momentum buffer B


def shape_scale(lr_scale: str, m: int, n: int) -> float:
    """s of the update for an m × n matrix (torch.optim.Muon's _adjust_lr)."""
    if lr_scale == "original":
        return float(np.sqrt(max(1.0, m / n)))
    if lr_scale == "match-rms-adamw":
        return float(0.2 * np.sqrt(max(m, n)))
    return 1.0


def muon_step(s: MuonState, hp: MuonHyper, g, t: int, alpha, x, blocks=None):
    """B, Ũ, O and the step of the module text, for one lane (a vector) or lanes (rows)."""
    mu = hp.beta1
    b = s.m + (1.0 - mu) * (g - s.m)
    u = g + mu * (b - g) if hp.nesterov else b
    if hp.polar == "exact":
        o = ops.msign(u, blocks)
    else:
        o = ops.newton_schulz(u, blocks, int(hp.ns_steps), ops.NS_COEFFICIENTS, float(hp.eps))
    rows, cols = ops.matrix_shape(blocks, int(np.shape(g)[-1]) if np.ndim(g) else 1)
    scale = shape_scale(hp.lr_scale, rows, cols)
    if hp.scale_by == "nuclear":
        scale = scale * ops.nuclear_norm(u, blocks)
    return MuonState(b), out(alpha * (scale * o + hp.weight_decay * x), m=b)


def _check(hp: MuonHyper) -> None:
    check_range("beta1", hp.beta1, 0.0, 1.0, hi_open=True)
    check_range("ns_steps", hp.ns_steps, 1, 99, integer=True)
    check_range("eps", hp.eps, 0.0)
    check_range("weight_decay", hp.weight_decay, 0.0)
    for name, value in (("beta1", hp.beta1), ("ns_steps", hp.ns_steps), ("eps", hp.eps), ("weight_decay", hp.weight_decay)):
        if np.ndim(value) != 0:
            from adasim.errors import AdasimError

            raise AdasimError(f"muon's {name} is one number for every lane (a lane's matrix is orthogonalised whole)")


Muon = Definition(
    "muon",
    MuonHyper,
    MuonState,
    muon_step,
    rule="B = μB + (1−μ)g;  Ũ = g + μ(B − g) (Nesterov);  x ← Π(x − α_t (s·NS₅(Ũ) + λx)), NS₅ ≈ U Vᵀ",
    source="Jordan et al. 2024 (Muon, kellerjordan.github.io/posts/muon); torch.optim.Muon 2.13 (λ 0.1 there)",
    matrix=True,
    kernel=no_kernel,
    validate=_check,
    conventions={"polar": POLAR, "lr_scale": LR_SCALES, "scale_by": SCALE_BY},
    lr=1e-3,
)

PolarGrad = Definition(
    "polargrad",
    MuonHyper,
    MuonState,
    muon_step,
    rule="B = μB + (1−μ)g;  x ← Π(x − α_t (‖B‖_* msign(B) + λx))  (msign(B) = U Vᵀ of B = U Σ Vᵀ)",
    source="Lau, Long & Su 2025 (PolarGrad, arXiv 2505.21799): the polar factor scaled by the nuclear norm; "
    "adasim's Muon step with scale_by = nuclear, the exact polar factor, no Nesterov and no shape scaling",
    matrix=True,
    kernel=no_kernel,
    validate=_check,
    conventions={"polar": POLAR, "lr_scale": LR_SCALES, "scale_by": SCALE_BY},
    defaults={"beta1": 0.9, "nesterov": False, "polar": "exact", "lr_scale": "none", "scale_by": "nuclear"},
    lr=1e-3,
)

__all__ = ["LR_SCALES", "POLAR", "SCALE_BY", "Muon", "MuonHyper", "MuonState", "PolarGrad", "muon_step", "shape_scale"]
