"""`adasim.probe`: the mechanism measured inside a real torch training run, per tensor and layer.

    probe = adasim.probe(optimizer, model=model)   # before the loop
    ...                                                          # the training loop, unchanged
    probe.report()                                               # a table; .write(path), .plot()
    probe.detach()                                               # the hooks removed

The probe hangs on `torch.optim.Optimizer`'s step hooks: before a step it reads the gradient g_t
of a fixed random sample of coordinates of every parameter tensor (at most `sample` each), after
it the optimizer's second moment v_t and first moment m_t there (Adam's `exp_avg_sq`/`exp_avg`;
other optimizers say where theirs live with `state=`). On that sample, over windows of `window`
steps, it keeps per coordinate and reports per tensor and layer (means over coordinates):

- **Pearson(g_t², v_t)** over time, per coordinate — the correlation the AdaShift paper blames —
  beside √(1 − β2²), its value for i.i.d. gradients with v_t = β2 v_{t−1} + (1 − β2) g_t² at
  stationarity (a window must be long against 1/(1 − β2) to see it), and beside the same
  statistic for the shifted estimator v^(n)_t = β2 v^(n)_{t−1} + (1 − β2) g²_{t−n} that the probe
  builds on the sample (AdaShift's; 0 for i.i.d. gradients).
- **Net update factors** κ_s = Σ_{k<H} (1 − β1) β1^k / (√v_{s+k} + ε): what g_s moves x by in
  units of the step size (adasim's definition with the EMA kernel of m, truncated where the
  kernel's mass left is below 10⁻⁶, without bias correction), and their correlation with |g_s|
  per coordinate: negative is Adam's "large gradient, small step".
- **The counterfactual step** m_t/(√v^(n)_t + ε) beside the optimizer's m_t/(√v_t + ε): their
  cosine over the sample and the mean of their difference (an estimate, in units of α, of the
  drift the correlation adds).
- **Decoupling** (Bai et al., arXiv 2506.04805: v_t decaying blindly): the share of coordinates
  whose g²/v has stayed below 10⁻² for longer than 1/(1 − β2) steps, and **spikes**, the share
  with g²/v > 10².
- **Lag autocorrelation of g** at lags 1 … n (AdaShift's independence assumption).

Windows are closed every `window` steps (their values go to a `writer` with `add_scalar`, e.g.
TensorBoard's, when given); the report holds every window and the whole run.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adasim.errors import AdasimError, check_range

DECOUPLED = 1e-2  # g²/v below this: the coordinate's v no longer follows its gradients
SPIKE = 1e2  # g²/v above this: a gradient its v did not expect
KERNEL_MASS = 1e-6  # the factors' kernel is cut where the mass left is below this
KEEP = 1_000_000  # factors kept for Probe.factors (the first ones measured)
STATS = ("pearson_g2_v", "pearson_g2_v_shifted", "kappa_abs_g", "cosine_shifted_step", "step_difference", "decoupled",
         "spikes", "autocorrelation")  # fmt: skip


class _Sums:
    """Per-coordinate running sums of x, y, x², y², xy over steps (Pearson's r over time for each
    coordinate, averaged per tensor)."""

    def __init__(self, size: int) -> None:
        self.n = np.zeros(size)
        self.sums = np.zeros((5, size))

    def add(self, x: np.ndarray, y: np.ndarray, where: np.ndarray | slice = slice(None)) -> None:
        self.n[where] += 1
        s = self.sums
        s[0, where] += x
        s[1, where] += y
        s[2, where] += x * x
        s[3, where] += y * y
        s[4, where] += x * y

    def merge(self, other: _Sums) -> None:
        self.n += other.n
        self.sums += other.sums

    def mean_r(self, cut: slice) -> float:
        """The mean over the coordinates of `cut` of r (those whose x or y did not vary left out)."""
        n = self.n[cut]
        if not n.size or n.max() < 3:
            return math.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            sx, sy, sxx, syy, sxy = self.sums[:, cut] / n
            vx, vy = sxx - sx * sx, syy - sy * sy
            ok = (n >= 3) & (vx > 1e-12 * sxx) & (vy > 1e-12 * syy) & (vx > 0) & (vy > 0)
            if not ok.any():
                return math.nan
            r = (sxy[ok] - sx[ok] * sy[ok]) / np.sqrt(vx[ok] * vy[ok])
        return float(np.mean(np.clip(r, -1.0, 1.0)))


class _Window:
    """What the sample gave over one window (or the whole run, merged): per-coordinate sums, and
    per tensor the sums over steps of the cosine, the step difference, the decoupled and spiking shares."""

    def __init__(self, size: int, kappa_size: int, tensors: int, lags: int) -> None:
        self.g2_v, self.g2_vn, self.kappa = _Sums(size), _Sums(size), _Sums(kappa_size)
        self.auto = [_Sums(size) for _ in range(lags)]
        self.steps = 0
        self.per_step = np.zeros((4, tensors))  # cosine, difference, decoupled, spikes

    def merge(self, other: _Window) -> None:
        for a, b in ((self.g2_v, other.g2_v), (self.g2_vn, other.g2_vn), (self.kappa, other.kappa),
                     *zip(self.auto, other.auto, strict=True)):  # fmt: skip
            a.merge(b)
        self.steps += other.steps
        self.per_step += other.per_step

    def values(self, i: int, cut: slice, kcut: slice) -> dict[str, Any]:
        per = self.per_step[:, i] / self.steps if self.steps else np.full(4, math.nan)
        return {
            "pearson_g2_v": self.g2_v.mean_r(cut),
            "pearson_g2_v_shifted": self.g2_vn.mean_r(cut),
            "kappa_abs_g": self.kappa.mean_r(kcut),
            "cosine_shifted_step": float(per[0]),
            "step_difference": float(per[1]),
            "decoupled": float(per[2]),
            "spikes": float(per[3]),
            "autocorrelation": [p.mean_r(cut) for p in self.auto],
        }


class _Sample:
    """Every tensor's sampled coordinates side by side (one array of N), so that each step costs
    a gather per tensor and a few vectorised operations, whatever the number of tensors."""

    def __init__(self, names: list[str], idx: list[np.ndarray], betas: list[tuple[float, float]], eps: list[float],
                 shift: int, kappa: int) -> None:  # fmt: skip
        self.names, self.idx, self.shift = names, idx, shift
        self.layers = [n.rsplit(".", 1)[0] if "." in n else n for n in names]
        sizes = [len(i) for i in idx]
        self.edges = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        N = int(self.edges[-1])
        self.cuts = [slice(int(a), int(b)) for a, b in itertools.pairwise(self.edges)]
        self.beta1 = np.repeat([b[0] for b in betas], sizes)
        self.beta2 = np.repeat([b[1] for b in betas], sizes)
        self.eps = np.repeat(eps, sizes)
        self.long = np.repeat([1.0 / (1.0 - b[1]) if b[1] < 1 else math.inf for b in betas], sizes)
        # the factors on the first `kappa` coordinates of each tensor's sample
        self.kpos = np.concatenate([np.arange(a, min(b, a + kappa)) for a, b in itertools.pairwise(self.edges)])
        ksizes = [min(n, kappa) for n in sizes]
        kedges = np.concatenate([[0], np.cumsum(ksizes)]).astype(int)
        self.kcuts = [slice(int(a), int(b)) for a, b in itertools.pairwise(kedges)]
        b1 = self.beta1[self.kpos]
        top = float(np.max(b1)) if b1.size else 0.0
        H = max(1, min(512, math.ceil(math.log(KERNEL_MASS) / math.log(top)))) if top > 0 else 1
        self.weights = (1.0 - b1)[None, :] * b1[None, :] ** np.arange(H)[:, None]  # (H, K): (1 − β1) β1^lag
        self.pending = np.zeros((H, len(self.kpos)))  # ring: row (head + j) mod H, the factor so far of g from j steps back
        self.pending_g = np.zeros_like(self.pending)
        self.head = 0
        self.past = np.zeros((shift, N))  # g_{t−1} … g_{t−n}, newest first
        self.v_shift = np.zeros(N)
        self.run_low = np.zeros(N)
        self.seen = 0
        self.kept, self.kept_rows = 0, []
        self.window = self.fresh()
        self.total = self.fresh()

    def fresh(self) -> _Window:
        return _Window(int(self.edges[-1]), len(self.kpos), len(self.names), self.shift)

    def _per_tensor(self, x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x, self.edges[:-1]) if x.size else np.zeros(len(self.names))

    def step(self, g: np.ndarray, m: np.ndarray, v: np.ndarray) -> None:
        """Fold step t in: g_t (before the step), m_t and v_t (after it), each (N,)."""
        self.seen += 1
        w = self.window
        w.steps += 1
        w.g2_v.add(g * g, v)
        counts = np.diff(self.edges)
        if self.seen > self.shift:  # v^(n) reads g_{t−n}: from step n + 1 on
            self.v_shift = self.beta2 * self.v_shift + (1.0 - self.beta2) * self.past[-1] ** 2
            w.g2_vn.add(g * g, self.v_shift)
            ours = m / (np.sqrt(v) + self.eps)
            theirs = m / (np.sqrt(self.v_shift) + self.eps)
            dot, a2, b2 = (self._per_tensor(x) for x in (ours * theirs, ours * ours, theirs * theirs))
            with np.errstate(divide="ignore", invalid="ignore"):
                w.per_step[0] += np.where(a2 * b2 > 0, dot / np.sqrt(a2 * b2), 0.0)
            w.per_step[1] += self._per_tensor(ours - theirs) / counts
        for lag in range(1, self.shift + 1):
            if self.seen > lag:
                w.auto[lag - 1].add(g, self.past[lag - 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(v > 0, g * g / v, np.inf)
        self.run_low = np.where(ratio < DECOUPLED, self.run_low + 1, 0)
        w.per_step[2] += self._per_tensor((self.run_low > self.long).astype(float)) / counts
        w.per_step[3] += self._per_tensor((ratio > SPIKE).astype(float)) / counts
        # the factors: the row of the gradient H steps back is complete (it had lags 0 … H − 1) and
        # takes this step's gradient; then every row gets this step's post-factor at its lag
        H = self.pending.shape[0]
        self.head = (self.head - 1) % H
        if self.seen > H:
            done = self.pending[self.head].copy()
            w.kappa.add(done, np.abs(self.pending_g[self.head]))
            if self.kept < KEEP:  # the first factors, for `Probe.factors`
                self.kept_rows.append((done, self.pending_g[self.head].copy()))
                self.kept += done.size
        self.pending[self.head] = 0.0
        self.pending_g[self.head] = g[self.kpos]
        post = 1.0 / (np.sqrt(v[self.kpos]) + self.eps[self.kpos])
        rows = (np.arange(H) + self.head) % H  # row of lag j
        self.pending[rows] += self.weights * post[None, :]
        if self.shift:
            self.past[1:] = self.past[:-1]
            self.past[0] = g

    def values(self, window: _Window) -> dict[str, dict[str, Any]]:
        return {n: window.values(i, c, k) for i, (n, c, k) in enumerate(zip(self.names, self.cuts, self.kcuts, strict=True))}

    def close(self) -> dict[str, dict[str, Any]]:
        out = self.values(self.window)
        self.total.merge(self.window)
        self.window = self.fresh()
        return out


@dataclass
class ProbeReport:
    """What a probe measured: settings, the whole run per tensor and per layer, and every window."""

    settings: dict[str, Any]
    tensors: list[dict[str, Any]]
    layers: list[dict[str, Any]]
    windows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"settings": self.settings, "tensors": self.tensors, "layers": self.layers, "windows": self.windows}

    @classmethod
    def read(cls, path: str | Path) -> ProbeReport:
        """A report written by `write` (one line of error for anything else)."""
        import json

        try:
            data = json.loads(Path(path).read_text())
            return cls(data["settings"], data["tensors"], data["layers"], data["windows"])
        except OSError as err:
            raise AdasimError(f"cannot read {path}: {err.strerror or err}") from None
        except (ValueError, KeyError, TypeError) as err:
            raise AdasimError(f"{path} is not a probe report written by adasim ({type(err).__name__}: {err})") from None

    def write(self, path: str | Path) -> Path:
        """The report as JSON, written atomically."""
        from adasim.io import write_json

        return write_json(path, self.as_dict())

    def table(self) -> str:
        """Per layer: the correlation beside its i.i.d. value and the shifted one, the factors' correlation with
        |g|, the counterfactual step's cosine, decoupled and spiking shares."""
        iid = self.settings.get("iid_pearson")
        head = (
            f"{'layer':<28} {'r(g²,v)':>8} {'i.i.d.':>7} {'shifted':>8} {'r(κ,|g|)':>9} {'cos':>6} {'decoupled':>9} {'spikes':>7}"
        )
        lines = [head]
        for row in self.layers:
            lines.append(f"{row['layer'][:28]:<28} {_f(row['pearson_g2_v']):>8} {_f(iid):>7} "
                         f"{_f(row['pearson_g2_v_shifted']):>8} "
                         f"{_f(row['kappa_abs_g']):>9} {_f(row['cosine_shifted_step']):>6} {_pct(row['decoupled']):>9} "
                         f"{_pct(row['spikes']):>7}")  # fmt: skip
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def plot(self) -> Any:
        from adasim.plots.probe import probe_figure

        return probe_figure(self)


def _f(x: Any) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _pct(x: Any) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


def _need_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise AdasimError("adasim.probe needs torch: pip install 'adasim[torch]'") from None
    return torch


StateReader = Callable[[Any, Any], tuple[Any, Any]]


class Probe:
    """Hooks on a torch optimizer's steps (see the module text). Build it with `adasim.probe`. The
    tensors probed are those with a gradient at the first step."""

    def __init__(self, optimizer: Any, model: Any = None, *, sample: int = 1024, window: int = 1000, shift: int = 1,
                 kappa: int = 16, seed: int = 0, betas: tuple[float, float] | None = None, eps: float | None = None,
                 state: StateReader | None = None, writer: Any = None) -> None:  # fmt: skip
        torch = _need_torch()
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise AdasimError(f"adasim.probe takes a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self.sample = int(check_range("sample", sample, 1, 10**7, integer=True))
        self.window = int(check_range("window", window, 2, integer=True))
        self.shift = int(check_range("shift", shift, 1, 64, integer=True))
        self.kappa = int(check_range("kappa", kappa, 1, 10**5, integer=True))
        self.optimizer, self.writer, self.read_state = optimizer, writer, state or _adam_state
        self.names = {id(p): name for name, p in model.named_parameters()} if model is not None else {}
        self.seed, self.betas, self.eps = seed, betas, eps
        self.params: list[Any] = []
        self.index: list[Any] = []  # per tensor: its sampled positions, as a torch index on its device
        self.positions: list[np.ndarray] = []  # ... and as a NumPy index
        self.data: _Sample | None = None
        self.windows: list[dict[str, Any]] = []
        self.steps = 0
        self.seconds = 0.0  # spent in the hooks: the probe's own cost
        self._g: np.ndarray | None = None
        self._handles = [optimizer.register_step_pre_hook(self._before), optimizer.register_step_post_hook(self._after)]

    def _start(self) -> None:
        """The tensors with a gradient now, each with its sample and its group's β1, β2, ε."""
        torch = _need_torch()
        rng = np.random.default_rng(self.seed)
        names, idx, betas, eps = [], [], [], []
        for gi, group in enumerate(self.optimizer.param_groups):
            pair = self.betas or tuple(group.get("betas", (None, None)))
            if pair[0] is None or pair[1] is None:
                raise AdasimError(f"{type(self.optimizer).__name__} has no 'betas' in its parameter groups: give "
                                  "adasim.probe(..., betas=(beta1, beta2))")  # fmt: skip
            for pi, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                chosen = np.sort(rng.choice(p.numel(), size=min(self.sample, p.numel()), replace=False))
                self.params.append(p)
                self.index.append(torch.as_tensor(chosen, dtype=torch.long, device=p.device))
                self.positions.append(chosen)
                names.append(self.names.get(id(p), f"group{gi}.param{pi}"))
                idx.append(chosen)
                betas.append((float(pair[0]), float(pair[1])))
                eps.append(self.eps if self.eps is not None else float(group.get("eps", 1e-8)))
        if not self.params:
            raise AdasimError("adasim.probe: no parameter had a gradient at the first step")
        self.data = _Sample(names, idx, betas, eps, self.shift, self.kappa)

    def _gather(self, tensors: list[Any]) -> np.ndarray:
        """The sampled coordinates of every tensor, side by side, as float64: through NumPy views
        for CPU tensors of NumPy's dtypes (a few µs each), through torch for the others (GPU, bf16)."""
        torch = _need_torch()
        assert self.data is not None
        out = np.empty(int(self.data.edges[-1]))
        for t, i, cut, where in zip(tensors, self.index, self.data.cuts, self.positions, strict=True):
            flat = t.detach().reshape(-1)
            if flat.device.type == "cpu" and flat.dtype in (torch.float32, torch.float64, torch.float16):
                out[cut] = flat.numpy()[where]
            else:
                out[cut] = flat[i].to(torch.float64).cpu().numpy()
        return out

    def _before(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        torch = _need_torch()
        began = time.perf_counter()
        if self.data is None:
            self._start()
        with torch.no_grad():
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
            self._g = self._gather(grads)
        self.seconds += time.perf_counter() - began

    def _after(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        began = time.perf_counter()
        try:
            self._fold(optimizer)
        finally:
            self.seconds += time.perf_counter() - began

    def _fold(self, optimizer: Any) -> None:
        torch = _need_torch()
        if self._g is None or self.data is None:
            return
        self.steps += 1
        with torch.no_grad():
            ms, vs = [], []
            for p in self.params:
                m, v = self.read_state(optimizer, p)
                if m is None or v is None:
                    raise AdasimError(f"{type(optimizer).__name__} keeps no exp_avg/exp_avg_sq for a parameter: give "
                                      "adasim.probe(..., state=lambda optimizer, p: (m, v))")  # fmt: skip
                ms.append(m)
                vs.append(v)
            self.data.step(self._g, self._gather(ms), self._gather(vs))
        self._g = None
        if self.steps % self.window == 0:
            self._close()

    def _close(self) -> None:
        assert self.data is not None
        rows = self.data.close()
        self.windows.append({"step": self.steps, "tensors": rows})
        if self.writer is not None:
            for layer, values in _by_layer(self.data, rows).items():
                for key in ("pearson_g2_v", "pearson_g2_v_shifted", "kappa_abs_g", "decoupled", "spikes"):
                    if not math.isnan(values[key]):
                        self.writer.add_scalar(f"adasim/{layer}/{key}", values[key], self.steps)

    def report(self) -> ProbeReport:
        """The whole run so far (the open window included) per tensor and per layer, and every closed window."""
        data = self.data
        if data is None:
            raise AdasimError("adasim.probe has seen no step yet")
        merged = data.fresh()
        merged.merge(data.total)
        merged.merge(data.window)
        whole = data.values(merged)
        beta2 = float(data.beta2[0])
        settings = {"optimizer": type(self.optimizer).__name__, "steps": self.steps, "sample": self.sample,
                    "window": self.window, "shift": self.shift, "kappa": self.kappa, "beta1": float(data.beta1[0]),
                    "beta2": beta2, "iid_pearson": math.sqrt(max(0.0, 1.0 - beta2**2)),
                    "probe_seconds_per_step": self.seconds / max(self.steps, 1)}  # fmt: skip
        tensors = [{"tensor": n, "layer": layer, "sampled": c.stop - c.start, **whole[n]}
                   for n, layer, c in zip(data.names, data.layers, data.cuts, strict=True)]  # fmt: skip
        layers = [{"layer": k, **v} for k, v in _by_layer(data, whole).items()]
        return ProbeReport(settings, tensors, layers, list(self.windows))

    def factors(self, tensor: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first measured net update factors: (g_s, κ_s) as (steps, k) arrays for one tensor (by
        name; default the first), k its coordinates with factors, rows for steps 1, 2, … in order
        (the factor of step s is complete at step s + H − 1, H the kernel's length)."""
        data = self.data
        if data is None or not data.kept_rows:
            raise AdasimError("adasim.probe has no complete net update factor yet (each needs H more steps)")
        i = data.names.index(tensor) if tensor is not None else 0
        k = data.kcuts[i]
        return np.stack([g[k] for _, g in data.kept_rows]), np.stack([kap[k] for kap, _ in data.kept_rows])

    def detach(self) -> None:
        """Remove the hooks: the optimizer is as it was."""
        for h in self._handles:
            h.remove()
        self._handles = []


def _adam_state(optimizer: Any, p: Any) -> tuple[Any, Any]:
    """torch's Adam family keeps exp_avg/exp_avg_sq; adasim.as_torch keeps the m and v its step reports."""
    state = optimizer.state.get(p, {})
    if "exp_avg_sq" in state:
        return state.get("exp_avg"), state.get("exp_avg_sq")
    return state.get("m"), state.get("v")


def _by_layer(data: _Sample, rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per layer: each statistic's mean over its tensors, weighted by their samples (NaN ones left out)."""
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for n, layer, c in zip(data.names, data.layers, data.cuts, strict=True):
        groups.setdefault(layer, []).append((c.stop - c.start, rows[n]))
    out = {}
    for layer, items in groups.items():
        values: dict[str, Any] = {}
        for key in STATS:
            if key == "autocorrelation":
                arr = np.array([r[key] for _, r in items], dtype=float)
                w = np.array([n for n, _ in items], dtype=float)[:, None] * np.isfinite(arr)
                with np.errstate(invalid="ignore"):
                    values[key] = np.where(w.sum(axis=0) > 0, np.nansum(arr * w, axis=0) / w.sum(axis=0), np.nan).tolist()
                continue
            pairs = [(n, r[key]) for n, r in items if not math.isnan(r[key])]
            values[key] = sum(n * x for n, x in pairs) / sum(n for n, _ in pairs) if pairs else math.nan
        values["sampled"] = sum(n for n, _ in items)
        out[layer] = values
    return out


def probe(optimizer: Any, model: Any = None, *, sample: int = 1024, window: int = 1000, shift: int = 1, kappa: int = 16,
          seed: int = 0, betas: tuple[float, float] | None = None, eps: float | None = None, state: StateReader | None = None,
          writer: Any = None) -> Probe:  # fmt: skip
    """Attach a probe to a torch optimizer (see the module text). `model` names the tensors and
    layers (its named_parameters); `sample` coordinates per tensor (fixed, drawn with `seed`), the
    first `kappa` of them also for the net update factors; `window` steps per window; `shift` n of
    the counterfactual v^(n) (and the autocorrelation's lags); `betas`/`eps` when the optimizer's
    groups do not hold Adam's; `state(optimizer, p)` -> (m, v) where they are not
    `exp_avg`/`exp_avg_sq`; `writer.add_scalar(tag, value, step)` gets each window's values per layer."""
    return Probe(optimizer, model, sample=sample, window=window, shift=shift, kappa=kappa, seed=seed, betas=betas, eps=eps,
                 state=state, writer=writer)  # fmt: skip
