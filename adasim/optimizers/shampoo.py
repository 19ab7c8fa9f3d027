"""Shampoo with EMA statistics (Gupta, Koren & Singer 2018; the EMA form of Anil et al.'s
Distributed Shampoo): a left and a right preconditioner of each lane's matrix W (m × m here).

    L_t = β2 L_{t−1} + (1 − β2) G_t G_tᵀ,    R_t = β2 R_{t−1} + (1 − β2) G_tᵀ G_t
    every k steps (t = 1, k + 1, 2k + 1, …):  P_L = (L_t + εI)^(−1/4),  P_R = (R_t + εI)^(−1/4)
    M_t = β1 M_{t−1} + (1 − β1) G_t        (β1 = 0: no momentum)
    x_t = Π(x_{t−1} − α_t P_L M_t P_R)

The roots come from a symmetric eigendecomposition; eigenvalues of L + εI that are not positive
give 0 (a direction no gradient has visited takes no step). Between refreshes the roots are those
of an earlier L and R: k > 1 scales g_t by statistics of older gradients only — the staleness of
Shampoo's and SOAP's "precondition frequency", a shift in the sense of AdaShift.

On a diagonal G = diag(g): G Gᵀ = Gᵀ G = diag(g²), so L = R = diag(v) with v the EMA of g², and
P_L G P_R = diag(g/√(v + ε)): with k = 1 and β1 = 0 it is RMSProp with ε inside the root and no
bias correction, entry by entry (docs/REFERENCE.md §7). Its statistics are kept in W's shape, so
W must be square (a lane's coordinates m × m; a scalar problem is 1 × 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from adasim import ops
from adasim.errors import AdasimError, check_range
from adasim.optimizers.base import Definition, no_kernel, out


class ShampooHyper(NamedTuple):
    beta1: float = 0.0
    beta2: float = 0.99
    eps: float = 1e-8
    refresh: int = 1  # k: the roots are recomputed every k steps


class ShampooState(NamedTuple):
    m: Any = 0.0  # M, the momentum of G
    left: Any = 0.0  # L
    right: Any = 0.0  # R
    root_left: Any = 0.0  # P_L
    root_right: Any = 0.0  # P_R


def square_view(g: Any, blocks: Any, name: str) -> tuple[np.ndarray, Callable[[Any], np.ndarray], Callable[[np.ndarray], Any]]:
    """A lane's gradient as square matrices G (..., m, m), with `mat` (a state field, (L, m²) or
    its 0.0 start, as matrices) and `flat` (matrices back in g's shape): the bookkeeping of the
    optimizers that keep their statistics in W's shape (Shampoo, SOAP), so W must be square."""
    size = int(np.shape(g)[-1]) if np.ndim(g) else 1
    m, cols = ops.matrix_shape(blocks, size)
    if m != cols:
        raise AdasimError(f"{name} keeps its statistics in W's shape: it needs a square matrix, got {m} × {cols} "
                          "(the problem's blocks are W's rows)")  # fmt: skip
    shape = (*np.shape(g)[:-1], m, m) if np.ndim(g) else (m, m)

    def mat(value: Any) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (*shape[:-2], m * m)).reshape(shape)

    def flat(a: np.ndarray) -> Any:
        return a.reshape(np.shape(g)) if np.ndim(g) else float(a.reshape(-1)[0])

    return np.reshape(g, shape), mat, flat


def inverse_root(a: np.ndarray, eps: float, power: float = 0.25) -> np.ndarray:
    """(A + εI)^(−power) of symmetric matrices A (..., m, m), from eigh; eigenvalues of A + εI that
    are not positive give 0. A matrix with a NaN or ±inf gives NaN."""
    finite = np.isfinite(a).all(axis=(-2, -1))
    sym = np.where(finite[..., None, None], 0.5 * (a + np.swapaxes(a, -1, -2)), 0.0)
    w, q = np.linalg.eigh(sym)
    w = w + eps
    scale = np.where(w > 0.0, np.abs(w) ** -power, 0.0)
    root = (q * scale[..., None, :]) @ np.swapaxes(q, -1, -2)
    return np.where(finite[..., None, None], root, np.nan)


def shampoo_step(s: ShampooState, hp: ShampooHyper, g, t: int, alpha, blocks=None):
    """L, R, their roots every k steps, M and the step of the module text, per lane."""
    G, mat, flat = square_view(g, blocks, "shampoo")
    Gt = np.swapaxes(G, -1, -2)
    left = hp.beta2 * mat(s.left) + (1.0 - hp.beta2) * (G @ Gt)
    right = hp.beta2 * mat(s.right) + (1.0 - hp.beta2) * (Gt @ G)
    if (t - 1) % int(hp.refresh) == 0:
        root_left, root_right = inverse_root(left, float(hp.eps)), inverse_root(right, float(hp.eps))
    else:
        root_left, root_right = mat(s.root_left), mat(s.root_right)
    momentum = hp.beta1 * mat(s.m) + (1.0 - hp.beta1) * G
    u = root_left @ momentum @ root_right
    state = ShampooState(flat(momentum), flat(left), flat(right), flat(root_left), flat(root_right))
    return state, out(alpha * flat(u), m=flat(momentum))


def _check(hp: ShampooHyper) -> None:
    check_range("beta1", hp.beta1, 0.0, 1.0, hi_open=True)
    check_range("beta2", hp.beta2, 0.0, 1.0, hi_open=True)
    check_range("eps", hp.eps, 0.0)
    check_range("refresh", hp.refresh, 1, integer=True)
    for name in ("beta1", "beta2", "eps", "refresh"):
        if np.ndim(getattr(hp, name)) != 0:
            raise AdasimError(f"shampoo's {name} is one number for every lane (a lane's matrix is preconditioned whole)")


Shampoo = Definition(
    "shampoo",
    ShampooHyper,
    ShampooState,
    shampoo_step,
    rule="L = β2 L + (1−β2) GGᵀ, R = β2 R + (1−β2) GᵀG;  every k steps P = (· + εI)^(−1/4);  "
    "x ← Π(x − α_t P_L M P_R), M = β1 M + (1−β1) G",
    source="Gupta, Koren & Singer 2018 (ICML), with EMA statistics and a root refresh every k steps as in "
    "Anil et al. 2020 (Distributed Shampoo); square W only here",
    matrix=True,
    kernel=no_kernel,
    validate=_check,
    lr=1e-3,
)
"""Shampoo: L = β2 L + (1−β2) GGᵀ, R = β2 R + (1−β2) GᵀG;  every k steps P = (· + εI)^(−1/4);
x ← Π(x − α_t P_L M P_R), M = β1 M + (1−β1) G (Gupta, Koren & Singer 2018, EMA statistics).

Examples
--------
For a diagonal G, (GGᵀ)^(−1/4) G (GᵀG)^(−1/4) = sign(G): with the EMA's (1−β2) = 0.01 the first
step is α·sign(G)/√0.01 = 10·α per direction (here to the box's edge).

>>> from adasim import Shampoo, Matrix, simulate
>>> run = simulate(Matrix(size=2, base="online", C=2.0), Shampoo(lr=0.1), steps=1, x0=0.0, engine="numpy")  # G_1 = diag(2, −1)
>>> run.final_x[0].round(6).tolist()  # −0.1·10·diag(1, −1)
[-1.0, 0.0, 0.0, 1.0]
"""

__all__ = ["Shampoo", "ShampooHyper", "ShampooState", "inverse_root", "shampoo_step", "square_view"]
