"""Closed forms for i.i.d. gradients (the stochastic problem) in the stationary limit (docs/REFERENCE.md §3).

Let W = (1−β2) Σ_{j≥0} β2^j φ(g²_{−j}) be the stationary EMA statistic. Its Laplace transform is a
product over the geometric weights, L(λ) = Π_j E[exp(−λ(1−β2)β2^j g²)], and
x^(−1/2) = π^(−1/2) ∫_0^∞ u^(−1/2) e^(−ux) du turns E[(A + b)^(−1/2)] into one integral:

    E[(A + b)^(−1/2)] = (2/√π) ∫_0^∞ exp(−w² b) L_A(w²) dw.

The factor of a gradient c is κ(c) = Σ_i K_i E[form(v_{s+i}) | g_s = c]: v_{s+i} holds g_s with
weight (1−β2)β2^(i−n) when i ≥ n (shift n), and then A is W without that term; for i < n the
expectation does not depend on c at all — the decorrelation AdaShift is built on.

Exactness: with ε = 0 or ε inside the root the only errors are the integrator's (its estimate is
reported) and the kernel truncation (mass < 1e-13); ε outside the root is included to first order
(1/(√v + ε) = v^(−1/2) − ε v^(−1) + O(ε² v^(−3/2))), and that bound is added to the error.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from adasim.analysis.kernel import limit_weights
from adasim.analysis.limits import check_limit, scalar_optimizer, scale_form
from adasim.arguments import takes_records
from adasim.display import Shown
from adasim.errors import AdasimError, require_finite_squares
from adasim.optimizers.base import Optimizer, ScaleLimit
from adasim.problems.base import Law, Problem

KERNEL_TOL = 1e-13


def gradient_law(problem: Problem) -> Law:
    """The declared i.i.d. law of g_t (one setting), or an error saying there is none."""
    law = problem.law() if problem.lanes() == 1 else None
    if law is None:
        raise AdasimError(f"{problem.name}: no i.i.d. closed form (use one setting of a problem with i.i.d. gradients)")
    return law


@dataclass(frozen=True, repr=False)
class StationaryNUF(Shown):
    """E[κ | g = c] per gradient value, the expected drift per step (units of α) and error bounds."""

    values: np.ndarray
    probs: np.ndarray
    kappa: np.ndarray
    error: np.ndarray
    drift: float
    exact: bool
    note: str = ""

    def _shown(self) -> tuple[str, dict[str, Any]]:
        return "StationaryNUF", {"values": self.values, "probs": self.probs, "kappa": self.kappa, "drift": self.drift,
                                 "exact": self.exact}  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "values": self.values.tolist(),
            "probs": self.probs.tolist(),
            "kappa": self.kappa.tolist(),
            "error": self.error.tolist(),
            "drift": self.drift,
            "exact": self.exact,
            "note": self.note,
        }


class _Transform:
    """log L(λ) of the stationary statistic W = Σ_j w_j g_j², w_j = (1−β2)β2^j, and of W without
    one term. Terms with λ w_j max g² ≥ 0.05 are summed exactly; the rest through the cumulant
    series log E[e^(−x g²)] = Σ_k (−x)^k κ_k/k!, whose geometric sums over j are closed forms
    (8 cumulants: the neglected remainder is below 1e-13 relative)."""

    ORDER = 8
    EXACT_BELOW = 0.05

    def __init__(self, law: Law) -> None:
        self.log_p = np.log(law.probs)
        self.c2 = law.values**2
        self.c2_max = float(self.c2.max())
        moments = [float(np.sum(law.probs * self.c2**k)) for k in range(self.ORDER + 1)]
        self.cumulants = _cumulants(moments)

    def head_length(self, lam: float, beta2: float) -> int:
        top = lam * (1.0 - beta2) * self.c2_max
        if top <= self.EXACT_BELOW or beta2 == 0.0:
            return 0 if beta2 > 0 and top <= self.EXACT_BELOW else 1
        return math.ceil(math.log(self.EXACT_BELOW / top) / math.log(beta2))

    def log_phi(self, lam: float, beta2: float, j: np.ndarray) -> np.ndarray:
        w = (1.0 - beta2) * beta2 ** np.asarray(j, dtype=np.float64)
        return np.logaddexp.reduce(self.log_p[None, :] - lam * np.atleast_1d(w)[:, None] * self.c2[None, :], axis=1)

    def log_mgf(self, x: np.ndarray) -> np.ndarray:
        """ℓ(x) = log E[e^(−x g²)] for an array of x ≥ 0."""
        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        return np.logaddexp.reduce(self.log_p[None, :] - x[:, None] * self.c2[None, :], axis=1)

    def tilted_mean(self, x: float) -> float:
        """−ℓ'(x) = E_x[g²] under the law tilted by e^(−x g²)."""
        logw = self.log_p - x * self.c2
        w = np.exp(logw - logw.max())
        return float(np.sum(w * self.c2) / np.sum(w))

    def head_sum(self, lam: float, beta2: float, head: int) -> float:
        """Σ_{j<head} ℓ(λ w_j). For β2 close to 1 the terms vary slowly in j and the sum is the
        Euler–Maclaurin formula: ∫_0^J ℓ(λ w_0 e^(−hj)) dj = (1/h) ∫_{x_J}^{x_0} ℓ(x)/x dx, plus the
        end terms and the B2 correction (the next one is O(h³), h = −ln β2 < 0.002)."""
        if head < 20_000 or beta2 < 0.998:
            return float(np.sum(self.log_phi(lam, beta2, np.arange(head))))
        from scipy.integrate import quad  # imported here to keep the CLI's start-up short

        h = -math.log(beta2)
        x0 = lam * (1.0 - beta2)
        xJ = x0 * beta2**head

        def integrand(x: float) -> float:
            return float(self.log_mgf(x)[0]) / x

        integral, _ = quad(integrand, xJ, x0, limit=200, epsabs=0.0, epsrel=1e-13)
        f0, fJ = (float(v) for v in self.log_mgf(np.array([x0, xJ])))
        d0 = self.tilted_mean(x0) * h * x0  # f'(j) = ℓ'(x)·(−h x) = h x E_x[g²]
        dJ = self.tilted_mean(xJ) * h * xJ
        return integral / h + (f0 + fJ) / 2.0 + (dJ - d0) / 12.0 - fJ

    def log_full(self, lam: float, beta2: float) -> float:
        if beta2 == 0.0:
            return float(self.log_phi(lam, beta2, np.array([0]))[0])
        head = self.head_length(lam, beta2)
        total = self.head_sum(lam, beta2, head) if head else 0.0
        # Σ_{j≥head} Σ_k (−λ w_j)^k κ_k / k!,  Σ_{j≥head} w_j^k = (1−β2)^k β2^(k·head)/(1−β2^k)
        for k in range(1, self.ORDER + 1):
            geo = (1.0 - beta2) ** k * beta2 ** (k * head) / (1.0 - beta2**k)
            total += (-lam) ** k * self.cumulants[k] / math.factorial(k) * geo
        return total


def _cumulants(m: list[float]) -> list[float]:
    """Cumulants κ_1..κ_K from raw moments m_0..m_K (m_0 = 1)."""
    K = len(m) - 1
    kappa = [0.0] * (K + 1)
    for n in range(1, K + 1):
        kappa[n] = m[n] - sum(math.comb(n - 1, i - 1) * kappa[i] * m[n - i] for i in range(1, n))
    return kappa


def _integral(fn, power: float, lam_cap: float) -> tuple[float, float]:
    """∫ for E[X^(−power)], power ∈ {1/2, 1}, over λ ≤ lam_cap (beyond it the integrand is below
    e^(−80)); with λ = w² for 1/2, which removes the endpoint singularity."""
    from scipy.integrate import IntegrationWarning, quad  # imported here: short CLI start-up

    with warnings.catch_warnings():  # quad's own error estimate is returned and reported instead
        warnings.simplefilter("ignore", IntegrationWarning)
        if power == 0.5:
            val, err = quad(lambda w: fn(w * w), 0.0, math.sqrt(lam_cap), limit=400, epsabs=0.0, epsrel=1e-11)
            return 2.0 / math.sqrt(math.pi) * val, 2.0 / math.sqrt(math.pi) * err
        return quad(fn, 0.0, lam_cap, limit=400, epsabs=0.0, epsrel=1e-11)


@takes_records
def stationary_nuf(problem: Problem, optimizer: Optimizer) -> StationaryNUF:
    """E[κ | g = c] for every gradient value c of an i.i.d. problem, in the stationary limit."""
    law = gradient_law(problem)
    opt = scalar_optimizer(optimizer)
    limit = check_limit(opt)
    if limit.statistic != "none":
        require_finite_squares(law.values, f"{opt.name} on {problem.name}")
    if limit.statistic == "max-ema":
        raise AdasimError(
            f"{opt.name}: the running maximum of v has no stationary law (it keeps creeping up towards the largest "
            "values of v), so there is no stationary closed form; use the empirical factors"
        )
    K = limit_weights(opt.kernel(), KERNEL_TOL)
    n_values = len(law.values)
    if limit.statistic == "none":
        kappa = np.full(n_values, float(K.sum()))
        return _result(law, kappa, np.zeros(n_values), True, "no scale: every gradient gets the kernel's mass, 1")
    if limit.statistic == "mean":
        kappa = np.full(n_values, float(scale_form(law.moment(2), limit) * K.sum()))
        return _result(law, kappa, np.zeros(n_values), True, "v_t → E[g²] almost surely")
    if limit.where == "pre":
        value, err = _expect_form(law, limit, None, K=np.array([1.0]), shift=0, unconditional=True)
        kappa = np.full(n_values, value * float(K.sum()))
        return _result(law, kappa, np.full(n_values, err), limit.form != "outside" or limit.eps == 0.0, _form_note(limit))
    kappa = np.empty(n_values)
    error = np.empty(n_values)
    for idx, c in enumerate(law.values):
        kappa[idx], error[idx] = _expect_form(law, limit, c, K=K, shift=limit.shift, unconditional=False)
    return _result(law, kappa, error, limit.form != "outside" or limit.eps == 0.0, _form_note(limit))


def _form_note(limit: ScaleLimit) -> str:
    if limit.form == "outside" and limit.eps > 0:
        return "ε outside the root: first order in ε (bound included in the error)"
    if limit.form == "max":
        return "1/max(√v, ε) = v^(−1/2) where v ≥ ε² (checked); ADOPT's clip bound grows to ∞ and is not in the limit"
    return "exact"


def _result(law: Law, kappa: np.ndarray, error: np.ndarray, exact: bool, note: str) -> StationaryNUF:
    drift = -float(np.sum(law.probs * law.values * kappa))
    return StationaryNUF(law.values, law.probs, kappa, error, drift, exact, note)


def _expect_form(
    law: Law, limit: ScaleLimit, c: float | None, K: np.ndarray, shift: int, unconditional: bool
) -> tuple[float, float]:
    """Σ_i K_i E[form(v_{s+i}) | g_s = c] (or E[form(W)] when unconditional)."""
    beta2 = limit.beta2
    eps_in = limit.eps if limit.form == "inside" else 0.0
    v_min = float(np.min(law.values**2))  # every stationary v is a weighted average of the g²
    lam_cap = 80.0 / (v_min + eps_in)
    tr = _Transform(law)
    lags = np.arange(len(K))
    inside = lags >= shift  # the lags whose v holds g_s
    j = (lags - shift)[inside]
    b = (1.0 - beta2) * beta2 ** j.astype(np.float64) * (0.0 if c is None else c * c)

    def integrand(lam: float) -> float:
        log_full = tr.log_full(lam, beta2)
        total = 0.0
        if unconditional or not np.any(inside):
            total = float(K.sum()) * math.exp(log_full - lam * eps_in)
        else:
            log_without = log_full - tr.log_phi(lam, beta2, j)
            total = float(np.sum(K[inside] * np.exp(log_without - lam * (b + eps_in))))
            total += float(K[~inside].sum()) * math.exp(log_full - lam * eps_in)
        return total

    half, err = _integral(integrand, 0.5, lam_cap)
    truncation = KERNEL_TOL / math.sqrt(v_min + eps_in)
    if limit.form == "outside" and limit.eps > 0:
        inv, err1 = _integral(integrand, 1.0, lam_cap)
        second = limit.eps**2 / (v_min**1.5) * float(K.sum())
        return half - limit.eps * inv, err + limit.eps * err1 + second + truncation
    if limit.form == "max" and v_min < limit.eps**2:
        raise AdasimError("ADOPT's ε exceeds √v for some gradients: the closed form needs √v ≥ ε")
    return half, err + truncation
