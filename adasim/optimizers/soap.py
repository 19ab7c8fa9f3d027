"""SOAP (Vyas et al. 2024, "SOAP: Improving and Stabilizing Shampoo using Adam", arXiv 2409.11321):
Adam run in the eigenbases of Shampoo's statistics, as the reference code (nikhilvyas/SOAP) and
pytorch-optimizer's `SOAP` do it. A lane's W is m × m (the problem's blocks are its rows).

    t = 1:   L = (1 − β_s) G Gᵀ,  R = (1 − β_s) Gᵀ G,  Q_L, Q_R = their eigenvectors (eigenvalues
             descending); no step, and m, v stay 0 (the first gradient only seeds the bases)
    t ≥ 2, s = t − 1:
             G' = Q_Lᵀ G Q_R
             m = β1 m + (1 − β1) G                (in W's basis)
             v = β2 v + (1 − β2) G'∘G'            (in the eigenbasis)
             N = Q_L ((Q_Lᵀ m Q_R) / (√v + ε)) Q_Rᵀ
             x_t = Π((x_{t−1} − η_t N)(1 − α_t λ)),   η_t = α_t √(1 − β2^s)/(1 − β1^s)
             L = β_s L + (1 − β_s) G Gᵀ,  R likewise;  when s is a multiple of k (`refresh`,
             the "precondition frequency"): one power-iteration step Q ← qr(L Q) with its columns
             first sorted by the estimated eigenvalues diag(Qᵀ L Q), descending, and v's rows (for
             Q_L) or columns (for Q_R) permuted the same way

with β_s the statistics' decay (`shampoo_beta`; None: β2). The bases are refreshed from statistics
that already include older gradients only: between refreshes the rotation is stale by up to k
steps (a shift in AdaShift's sense), and v is Adam's v of the rotated gradient, so the
correlation of v_t with g_t that AdaShift removes is still there inside the eigenbasis.

**Identities.** A 1 × 1 matrix (a scalar problem) has Q = ±1: SOAP is Adam with ε outside the
root, started one step late (g_1 is only read into L and R) — pytorch-optimizer's SOAP on a
1-D parameter is the same (it does not precondition 1-D tensors). On a diagonal G with distinct
|g_i|, Q_L = Q_R are permutation matrices up to sign, and SOAP is that late-started Adam entry by
entry (docs/REFERENCE.md §7).

The reference does its QR in float32 (torch's QR lacks bfloat16); adasim in float64. Both are
invariant to the signs of the eigenvectors and to the order of equal eigenvalues' vectors.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from adasim.errors import AdasimError, check_range
from adasim.optimizers.base import Definition, no_kernel, out
from adasim.optimizers.shampoo import square_view


class SOAPHyper(NamedTuple):
    beta1: float = 0.95
    beta2: float = 0.95
    shampoo_beta: float | None = None  # β_s of L and R; None: β2
    eps: float = 1e-8
    weight_decay: float = 0.0
    refresh: int = 10  # k, the precondition frequency
    bias_correction: bool = True


class SOAPState(NamedTuple):
    m: Any = 0.0  # Adam's m, in W's basis
    v: Any = 0.0  # Adam's v, in the eigenbasis
    left: Any = 0.0  # L
    right: Any = 0.0  # R
    q_left: Any = 0.0  # Q_L
    q_right: Any = 0.0  # Q_R


def eigenbasis(a: np.ndarray) -> np.ndarray:
    """The eigenvectors of symmetric A (..., m, m) (+1e-30·I, as the reference adds), as columns
    ordered by eigenvalue, largest first. A matrix with a NaN or ±inf gives NaN."""
    finite = np.isfinite(a).all(axis=(-2, -1))
    m = a.shape[-1]
    _, q = np.linalg.eigh(np.where(finite[..., None, None], a, 0.0) + 1e-30 * np.eye(m))
    return np.where(finite[..., None, None], q[..., ::-1], np.nan)


def power_step(a: np.ndarray, q: np.ndarray, v: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """One refresh of a basis Q of A (see the module text): A Q's columns sorted by diag(Qᵀ A Q),
    largest first, then orthonormalised by QR; v's `axis` (−2 rows, −1 columns) permuted alike."""
    product = a @ q
    estimate = np.sum(q * product, axis=-2)
    order = np.argsort(-estimate, axis=-1, kind="stable")
    product = np.take_along_axis(product, order[..., None, :], axis=-1)
    v = np.take_along_axis(v, order[..., :, None] if axis == -2 else order[..., None, :], axis=axis)
    finite = np.isfinite(product).all(axis=(-2, -1))
    basis, _ = np.linalg.qr(np.where(finite[..., None, None], product, 0.0))
    return np.where(finite[..., None, None], basis, np.nan), v


def soap_step(s: SOAPState, hp: SOAPHyper, g, t: int, alpha, x, blocks=None):
    """The module text's step, per lane."""
    G, mat, flat = square_view(g, blocks, "soap")
    shape = G.shape
    beta_s = hp.shampoo_beta
    Gt = np.swapaxes(G, -1, -2)
    left, right = mat(s.left), mat(s.right)
    left = left + (1.0 - beta_s) * (G @ Gt - left)
    right = right + (1.0 - beta_s) * (Gt @ G - right)
    if t == 1:
        zero = np.zeros(shape)
        state = SOAPState(flat(zero), flat(zero), flat(left), flat(right), flat(eigenbasis(left)), flat(eigenbasis(right)))
        return state, out(0.0 * np.asarray(g, dtype=np.float64) if np.ndim(g) else 0.0, m=0.0, v=0.0)
    QL, QR = mat(s.q_left), mat(s.q_right)
    QLt = np.swapaxes(QL, -1, -2)
    rotated = QLt @ G @ QR
    M = mat(s.m)
    M = M + (1.0 - hp.beta1) * (G - M)
    V = mat(s.v)
    V = V + (1.0 - hp.beta2) * (rotated * rotated - V)
    N = QL @ ((QLt @ M @ QR) / (np.sqrt(V) + hp.eps)) @ np.swapaxes(QR, -1, -2)
    k = t - 1
    eta = alpha
    if hp.bias_correction:
        eta = alpha * np.sqrt(1.0 - hp.beta2**k) / (1.0 - hp.beta1**k)
    moved = x - eta * flat(N)
    step = x - moved * (1.0 - alpha * hp.weight_decay)
    if k % int(hp.refresh) == 0:
        QL, V = power_step(left, QL, V, -2)
        QR, V = power_step(right, QR, V, -1)
    state = SOAPState(flat(M), flat(V), flat(left), flat(right), flat(QL), flat(QR))
    return state, out(step, m=flat(M), v=flat(V))


def _prepare(values: dict[str, Any]) -> dict[str, Any]:
    """shampoo_beta None: β2 (the reference's default)."""
    if values.get("shampoo_beta") is None:
        values["shampoo_beta"] = values.get("beta2")
    return values


def _check(hp: SOAPHyper) -> None:
    check_range("beta1", hp.beta1, 0.0, 1.0, hi_open=True)
    check_range("beta2", hp.beta2, 0.0, 1.0, hi_open=True)
    check_range("shampoo_beta", hp.shampoo_beta, 0.0, 1.0, hi_open=True)
    check_range("eps", hp.eps, 0.0)
    check_range("weight_decay", hp.weight_decay, 0.0)
    check_range("refresh", hp.refresh, 1, integer=True)
    for name in ("beta1", "beta2", "shampoo_beta", "eps", "weight_decay", "refresh"):
        if np.ndim(getattr(hp, name)) != 0:
            raise AdasimError(f"soap's {name} is one number for every lane (a lane's matrix is preconditioned whole)")


SOAP = Definition(
    "soap",
    SOAPHyper,
    SOAPState,
    soap_step,
    rule="L, R = EMA of GGᵀ, GᵀG (β_s);  Q = eigenbases (power step every k);  Adam in them: "
    "v = EMA of (Q_LᵀGQ_R)²,  x ← (x − η Q_L (Q_Lᵀ m Q_R / (√v + ε)) Q_Rᵀ)(1 − αλ)",
    source="Vyas et al. 2024 (SOAP, arXiv 2409.11321), as its reference code and pytorch-optimizer's SOAP "
    "(first step only seeds the bases; QR power step every k); square W only here",
    matrix=True,
    kernel=no_kernel,
    validate=_check,
    prepare=_prepare,
    lr=3e-3,
)
"""SOAP: L, R = EMA of GGᵀ, GᵀG (β_s);  Q = their eigenbases (a power step every k);  Adam in them:
v = EMA of (Q_LᵀGQ_R)²,  x ← (x − η Q_L (Q_Lᵀ m Q_R/(√v + ε)) Q_Rᵀ)(1 − αλ) (Vyas et al. 2024).

Examples
--------
Step 1 only seeds the bases; step 2 is Adam's first bias-corrected step, α per direction, against
G_2 = diag(−1, −1).

>>> from adasim import SOAP, Matrix, simulate
>>> run = simulate(Matrix(size=2, base="online", C=2.0), SOAP(lr=0.1), steps=2, x0=0.0, engine="numpy")  # G_1 = diag(2, −1)
>>> run.trace.x[:, 0].round(6).tolist()
[[0.0, 0.0, 0.0, 0.0], [0.1, 0.0, 0.0, 0.1]]
"""

__all__ = ["SOAP", "SOAPHyper", "SOAPState", "eigenbasis", "power_step", "soap_step"]
