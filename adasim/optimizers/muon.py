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
polynomial in A Aᵀ times A): Muon's moves do not depend on the basis of W.

**Error-feedback Muon** (`feedback`, the definition `ef-muon`): the step is compressed and what
the compression left out is carried to the next step (Seide et al. 2014; Karimireddy et al. 2019's
EF-SignSGD, with the spectral norm's compressor in place of the ℓ1/sign one):

    P_t = α_t Ũ_t + e_{t−1},   Δ_t = (‖P_t‖_*/r) · O(P_t),   e_t = P_t − Δ_t,
    x_t = Π(x_{t−1} − Δ_t − α_t λ x_{t−1}),        r = min(m, n), O = NS₅ or msign,

so Σ_s Δ_s = Σ_s α_s Ũ_s − e_t: x follows momentum SGD's path up to the bounded residual. With the
exact polar factor, ‖Δ‖_F² = ⟨Δ, P⟩ = ‖P‖_*²/r ≥ ‖P‖_F²/r: a contraction (δ = 1/r) in the sense of
Karimireddy et al., the property their convergence proof rests on. Parshakova et al. 2026 (arXiv
2605.08980) prove that error feedback restores convergence of Muon on convex Lipschitz functions;
this is the textbook scaled-compressor form, not a transcription of their algorithm. On a
diagonal matrix it is EF-Signum with the compressor (‖p‖₁/m) sign(p) (docs/REFERENCE.md §7).

**NorMuon** (Li et al. 2025, arXiv 2510.05491; pytorch-optimizer's `NorMuon`): Muon's O_t, then
each row divided by the root of an EMA of its mean square, the result rescaled to O_t's norm:

    v_t = β2 v_{t−1} + (1 − β2) mean_j (O_t)_ij²            (one v per row i)
    Ô_t = O_t / (√v_t + ε),   x_t = Π(x_{t−1} − α_t (s Ô_t ‖O_t‖_F/(‖Ô_t‖_F + ε) + λ x_{t−1}))

("preserve-norm"; "match-rms" scales Ô_t to the norm 0.2√(mn) and drops s)."""

from __future__ import annotations

import dataclasses
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
FORMS = {
    "pytorch": "Nesterov's Ũ = g + μ(B − g) (torch.optim.Muon, Jordan's code)",
    "optax": "Nesterov's Ũ = μB_t/(1 − μ^(t+1)) + (1 − μ)g/(1 − μ^t), bias-corrected, and Newton–Schulz from "
    "X/(‖X‖_F + ε) (optax.contrib.muon)",
}
UPDATE_SCALES = {
    "preserve-norm": "Ô rescaled to the norm of O, times the shape scaling s (NorMuon's official code)",
    "match-rms": "Ô rescaled to the norm 0.2·√(mn), no shape scaling (NorMuon's Algorithm 1)",
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
    feedback: bool = False  # error feedback (ef-muon)
    form: str = "pytorch"  # whose Nesterov (FORMS)


class MuonState(NamedTuple):
    m: Any = 0.0  # the momentum buffer B
    e: Any = 0.0  # the error-feedback residual (0 without feedback)


def shape_scale(lr_scale: str, m: int, n: int) -> float:
    """s of the update for an m × n matrix (torch.optim.Muon's _adjust_lr)."""
    if lr_scale == "original":
        return float(np.sqrt(max(1.0, m / n)))
    if lr_scale == "match-rms-adamw":
        return float(0.2 * np.sqrt(max(m, n)))
    return 1.0


def orthogonalise(u: Any, hp: Any, blocks: Any) -> Any:
    """O = NS₅(u) or msign(u) per lane, as hp.polar says."""
    if hp.polar == "exact":
        return ops.msign(u, blocks)
    optax = getattr(hp, "form", "pytorch") == "optax"  # optax divides by ‖X‖_F + ε, torch by max(‖X‖_F, ε)
    return ops.newton_schulz(u, blocks, int(hp.ns_steps), ops.NS_COEFFICIENTS, float(hp.eps), eps_added=optax)


def momentum(s_m: Any, hp: Any, g: Any, t: int = 1) -> tuple[Any, Any]:
    """(B_t, Ũ_t): torch's buf.lerp_(g, 1 − μ), and Nesterov's g.lerp_(B, μ) (or optax's
    bias-corrected mix, `form` "optax"), or B itself."""
    mu = hp.beta1
    b = s_m + (1.0 - mu) * (g - s_m)
    if not hp.nesterov:
        return b, b
    if getattr(hp, "form", "pytorch") == "optax":
        return b, mu * b / (1.0 - mu ** (t + 1)) + (1.0 - mu) * g / (1.0 - mu**t)
    return b, g + mu * (b - g)


def _shape(g: Any, blocks: Any) -> tuple[int, int]:
    return ops.matrix_shape(blocks, int(np.shape(g)[-1]) if np.ndim(g) else 1)


def muon_step(s: MuonState, hp: MuonHyper, g, t: int, alpha, x, blocks=None):
    """B, Ũ, O and the step of the module text (with error feedback when hp.feedback), for one
    lane (a vector) or lanes (rows)."""
    b, u = momentum(s.m, hp, g, t)
    rows, cols = _shape(g, blocks)
    if hp.feedback:
        p = alpha * u + s.e
        delta = ops.nuclear_norm(p, blocks) / min(rows, cols) * orthogonalise(p, hp, blocks)
        return MuonState(b, p - delta), out(delta + alpha * hp.weight_decay * x, m=b)
    scale = shape_scale(hp.lr_scale, rows, cols)
    if hp.scale_by == "nuclear":
        scale = scale * ops.nuclear_norm(u, blocks)
    return MuonState(b, s.e), out(alpha * (scale * orthogonalise(u, hp, blocks) + hp.weight_decay * x), m=b)


def _check(hp: MuonHyper) -> None:
    if hp.feedback and (hp.lr_scale != "none" or hp.scale_by != "none"):
        from adasim.errors import AdasimError

        raise AdasimError("error feedback sets the step's size itself (‖P‖_*/r): use --lr-scale none --scale-by none")
    _check_common(hp)


def _check_common(hp: Any) -> None:
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
    conventions={"polar": POLAR, "lr_scale": LR_SCALES, "scale_by": SCALE_BY, "form": FORMS},
    lr=1e-3,
)
"""Muon: B = μB + (1−μ)g;  Ũ = g + μ(B − g) (Nesterov);  x ← Π(x − α_t (s·NS₅(Ũ) + λx)), NS₅ ≈ U Vᵀ, five
Newton–Schulz steps (Jordan et al. 2024). W is a problem's m × m matrix, its entries row by row.

Examples
--------
The polar factor of G_1 = diag(2, −1) is diag(1, −1): the exact one moves both directions by α; five
Newton–Schulz steps land near it, not on it (0.69 and 1.11 here).

>>> from adasim import Muon, Matrix, simulate
>>> problem = Matrix(size=2, base="online", C=2.0)  # G_1 = diag(2, −1)
>>> for polar in ("exact", "newton-schulz"):
...     print(simulate(problem, Muon(lr=0.1, polar=polar), steps=1, x0=0.0, engine="numpy").final_x[0].round(6).tolist())
[-0.1, 0.0, 0.0, 0.1]
[-0.068876, 0.0, 0.0, 0.111416]
"""

PolarGrad = dataclasses.replace(  # Muon's definition with other defaults: one step, one set of conventions
    Muon,
    name="polargrad",
    rule="B = μB + (1−μ)g;  x ← Π(x − α_t (‖B‖_* msign(B) + λx))  (msign(B) = U Vᵀ of B = U Σ Vᵀ)",
    source="Lau, Long & Su 2025 (PolarGrad, arXiv 2505.21799): the polar factor scaled by the nuclear norm; "
    "adasim's Muon step with scale_by = nuclear, the exact polar factor, no Nesterov and no shape scaling",
    defaults={"beta1": 0.9, "nesterov": False, "polar": "exact", "lr_scale": "none", "scale_by": "nuclear"},
)
"""PolarGrad: B = μB + (1−μ)g;  x ← Π(x − α_t (‖B‖_* msign(B) + λx)), msign(B) = U Vᵀ of B = U Σ Vᵀ
(Lau, Long & Su 2025): the exact polar factor scaled by the nuclear norm.

Examples
--------
B_1 = 0.1·diag(2, −1) has ‖B_1‖_* = 0.3 and polar factor diag(1, −1).

>>> from adasim import PolarGrad, Matrix, simulate
>>> run = simulate(Matrix(size=2, base="online", C=2.0), PolarGrad(lr=0.1), steps=1, x0=0.0, engine="numpy")  # G_1 = diag(2, −1)
>>> run.final_x[0].round(6).tolist()  # −0.1·0.3·diag(1, −1)
[-0.03, 0.0, 0.0, 0.03]
"""

EFMuon = dataclasses.replace(
    Muon,
    name="ef-muon",
    rule="B = μB + (1−μ)g;  P = α_t Ũ + e;  Δ = (‖P‖_*/r) NS₅(P);  e ← P − Δ;  x ← Π(x − Δ − α_t λx)",
    source="error feedback (Seide et al. 2014; Karimireddy et al. 2019, ICML, EF-SignSGD) on Muon's polar factor, "
    "the repair Parshakova et al. 2026 (arXiv 2605.08980) prove convergent on convex Lipschitz functions",
    defaults={"feedback": True, "lr_scale": "none"},
)
"""EF-Muon: B = μB + (1−μ)g;  P = α_t Ũ + e;  Δ = (‖P‖_*/r) NS₅(P);  e ← P − Δ;  x ← Π(x − Δ − α_t λx):
error feedback on Muon's polar factor (r the rank).

Examples
--------
Ũ_1 = (1 − 0.95²)·G_1 with Nesterov, so P = 0.1·0.0975·diag(2, −1), ‖P‖_* = 0.02925 and r = 2:
Δ = 0.014625·diag(1, −1); the rest of P is kept in e for the next step.

>>> from adasim import EFMuon, Matrix, simulate
>>> run = simulate(Matrix(size=2, base="online", C=2.0), EFMuon(lr=0.1, polar="exact"), steps=1, x0=0.0, engine="numpy")
>>> run.final_x[0].round(6).tolist()  # −Δ
[-0.014625, 0.0, 0.0, 0.014625]
"""


class NorMuonHyper(NamedTuple):
    beta1: float = 0.95  # μ
    beta2: float = 0.95  # the rows' second moment
    nesterov: bool = True
    polar: str = "newton-schulz"
    ns_steps: int = 5
    eps: float = 1e-7  # Newton–Schulz's floor on ‖X‖_F
    eps2: float = 1e-10  # ε of the row normalisation and of the norm rescaling
    weight_decay: float = 0.0
    lr_scale: str = "original"
    update_scale: str = "preserve-norm"


class NorMuonState(NamedTuple):
    m: Any = 0.0  # B
    v: Any = 0.0  # each row's EMA of mean_j O_ij², repeated over the row's entries


def normuon_step(s: NorMuonState, hp: NorMuonHyper, g, t: int, alpha, x, blocks=None):
    """Muon's O, then the rows normalised by their second moment and rescaled (module text)."""
    b, u = momentum(s.m, hp, g, t)
    o = orthogonalise(u, hp, blocks)
    rows, cols = _shape(g, blocks)
    lanes = np.shape(o)[:-1] if np.ndim(o) else ()
    O = np.reshape(o, (*lanes, rows, cols))
    row_mean = np.broadcast_to(np.mean(O * O, axis=-1, keepdims=True), O.shape)
    v_old = np.broadcast_to(np.asarray(s.v, dtype=np.float64), np.shape(o) if np.ndim(o) else ()).reshape(O.shape)
    V = v_old + (1.0 - hp.beta2) * (row_mean - v_old)
    N = O / (np.sqrt(V) + hp.eps2)
    norm_n = np.sqrt(np.sum(N * N, axis=(-2, -1), keepdims=True)) + hp.eps2
    if hp.update_scale == "match-rms":
        N = N * (0.2 * np.sqrt(rows * cols) / norm_n)
    else:
        N = N * (np.sqrt(np.sum(O * O, axis=(-2, -1), keepdims=True)) / norm_n) * shape_scale(hp.lr_scale, rows, cols)

    def flat(a: np.ndarray) -> Any:
        return a.reshape(np.shape(o)) if np.ndim(o) else float(a.reshape(-1)[0])

    v = flat(V)
    return NorMuonState(b, v), out(alpha * (flat(N) + hp.weight_decay * x), m=b, v=v)


def _check_normuon(hp: NorMuonHyper) -> None:
    _check_common(hp)
    check_range("beta2", hp.beta2, 0.0, 1.0, hi_open=True)
    check_range("eps2", hp.eps2, 0.0)
    if np.ndim(hp.beta2) != 0 or np.ndim(hp.eps2) != 0:
        from adasim.errors import AdasimError

        raise AdasimError("normuon's beta2 and eps2 are one number for every lane")


NorMuon = Definition(
    "normuon",
    NorMuonHyper,
    NorMuonState,
    normuon_step,
    rule="O = NS₅(Ũ) as Muon;  v_i = β2 v_i + (1−β2) mean_j O_ij²;  Ô = O/(√v + ε);  x ← Π(x − α_t (s Ô ‖O‖_F/‖Ô‖_F + λx))",
    source="Li et al. 2025 (NorMuon, arXiv 2510.05491); pytorch-optimizer's NorMuon (preserve_norm, its defaults)",
    matrix=True,
    kernel=no_kernel,
    validate=_check_normuon,
    conventions={"polar": POLAR, "lr_scale": LR_SCALES, "update_scale": UPDATE_SCALES},
    lr=2e-2,
)
"""NorMuon: O = NS₅(Ũ) as Muon;  v_i = β2 v_i + (1−β2) mean_j O_ij²;  Ô = O/(√v + ε);
x ← Π(x − α_t (s Ô ‖O‖_F/‖Ô‖_F + λx)) (Li et al. 2025): Muon's update with its rows' sizes evened out.

Examples
--------
With the exact polar factor diag(1, −1) the rows are already even: the step is Muon's α·U Vᵀ.

>>> from adasim import NorMuon, Matrix, simulate
>>> run = simulate(Matrix(size=2, base="online", C=2.0), NorMuon(lr=0.1, polar="exact"), steps=1, x0=0.0, engine="numpy")
>>> run.final_x[0].round(6).tolist()  # as Muon(polar="exact")
[-0.1, 0.0, 0.0, 0.1]
"""

__all__ = [
    "FORMS",
    "LR_SCALES",
    "POLAR",
    "SCALE_BY",
    "UPDATE_SCALES",
    "EFMuon",
    "Muon",
    "MuonHyper",
    "MuonState",
    "NorMuon",
    "NorMuonHyper",
    "NorMuonState",
    "PolarGrad",
    "muon_step",
    "normuon_step",
    "orthogonalise",
    "shape_scale",
]
