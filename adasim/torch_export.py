"""`adasim.as_torch`: any adasim optimizer (a built-in or your own Definition) as a
`torch.optim.Optimizer`, so that a real network can be trained with it — AdaShift, ADOPT, a
block-wise scale, a v_t rule of your own — and watched with `adasim.probe`.

    opt = adasim.as_torch(adasim.AdaShift(n=1, beta2=0.999), model.parameters(), lr=1e-3)

Each parameter tensor is one lane whose coordinates are the tensor's entries, one block (so a
block-wise φ shares its scale over the tensor: "one v per layer"). Its step is the definition's own
step, run as the NumPy executor runs it — the same function on float64 arrays, the clock ticked
before, the ring of past gradients after — on the tensor's gradient copied to the CPU, and the
parameter moves by the step u: p ← p − u (no projection). The m and v the step reports (its Out)
are kept in the optimizer's state as `m` and `v`, and β1, β2, ε in its groups' `betas`/`eps`,
where adasim.probe finds them. The step size is α_t = lr·σ_t, lr the
group's (so torch's LR schedulers work) and σ_t the adasim optimizer's schedule at the tensor's
own step count t. Per-lane (array) hyper-parameters are refused: a tensor is one lane.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from adasim.errors import AdasimError
from adasim.usercode import call_user, who


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise AdasimError("adasim.as_torch needs torch: pip install 'adasim[torch]'") from None
    return torch


def as_torch(optimizer: Any, params: Iterable[Any], lr: float | None = None) -> Any:
    """A torch.optim.Optimizer stepping `params` with adasim's `optimizer` (see the module text);
    `lr` defaults to the adasim optimizer's own.

    Examples
    --------
    Needs torch (`pip install adasim[torch]`). Adam's first step is lr whatever the gradient:

    >>> import torch
    >>> from adasim import Adam, as_torch
    >>> w = torch.nn.Parameter(torch.tensor([0.5], dtype=torch.float64))
    >>> opt = as_torch(Adam(lr=0.1), [w])
    >>> w.grad = torch.tensor([2.0], dtype=torch.float64)
    >>> opt.step()
    >>> round(w.item(), 6)
    0.4
    """
    from adasim.arguments import require_optimizer

    require_optimizer(optimizer)
    torch = _torch()
    for field in optimizer.definition.lane_fields:
        if np.ndim(getattr(optimizer.hp, field)) > 0:
            raise AdasimError(f"{optimizer.name}: {field} has one value per lane; a torch tensor is one lane: give one value")
    base = float(np.asarray(optimizer.lr)) if lr is None else float(lr)
    if np.ndim(optimizer.lr) > 0:
        raise AdasimError(f"{optimizer.name}: lr has one value per lane; give one value")

    class AdasimOptimizer(torch.optim.Optimizer):
        __doc__ = f"adasim's {optimizer.name} as a torch optimizer: {optimizer.definition.rule or optimizer.name}"

        def __init__(self, params: Iterable[Any]) -> None:
            defaults: dict[str, Any] = {"lr": base}
            hp = optimizer.hp
            if hasattr(hp, "beta1") and hasattr(hp, "beta2"):  # where adasim.probe looks for them
                defaults["betas"] = (float(hp.beta1), float(hp.beta2))
            if hasattr(hp, "eps"):
                defaults["eps"] = float(hp.eps)
            super().__init__(params, defaults)
            self.adasim = optimizer

        @torch.no_grad()
        def step(self, closure: Any = None) -> Any:
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        _step(self.adasim, self.state[p], p, float(group["lr"]))
            return loss

    AdasimOptimizer.__name__ = AdasimOptimizer.__qualname__ = f"adasim_{optimizer.definition.name}"
    return AdasimOptimizer(params)


def _step(opt: Any, state: dict[str, Any], p: Any, lr: float) -> None:
    """One step of the definition on tensor p: its state (L = 1 lane × D = numel) kept in `state`."""
    torch = _torch()
    d = opt.definition
    D = p.numel()
    if not state:
        state["t"] = 0
        state["s"] = type(opt.initial_state())(*(np.full((1, D), float(v)) for v in opt.initial_state()))
        state["clock"] = opt.initial_clock()
        depth = opt.history()
        state["past"] = np.zeros((max(depth, 1), 1, D)) if depth else None
    state["t"] += 1
    t = state["t"]
    g = p.grad.detach().reshape(1, D).to(dtype=torch.float64, device="cpu").numpy().copy()
    if state["clock"] is not None:
        state["clock"] = call_user(d.tick, "tick", state["clock"], opt.hp, t)
    alpha = lr * float(np.asarray(opt.schedule(np.array([t], dtype=np.int64))).reshape(-1)[0])
    kwargs: dict[str, Any] = {}
    for a in d.arguments:
        if a == "clock":
            kwargs[a] = state["clock"]
        elif a == "x":
            kwargs[a] = p.detach().reshape(1, D).to(dtype=torch.float64, device="cpu").numpy().copy()
        elif a == "past":
            kwargs[a] = state["past"]
        else:
            kwargs[a] = opt.blocks if opt.blocks is not None else (D,)
    result = call_user(d.step, "step", state["s"], opt.hp, g, t, alpha, **kwargs)
    if not (isinstance(result, tuple) and len(result) == 2) or not isinstance(result[0], d.state):
        raise AdasimError(f"{who(d)}: step must return ({d.state.__name__}, Out)")
    s, o = result
    state["s"] = d.state(*(np.array(np.broadcast_to(np.asarray(v, dtype=np.float64), (1, D))) for v in s))
    u = np.broadcast_to(np.asarray(o.step, dtype=np.float64), (1, D))
    if state["past"] is not None:
        state["past"][t % state["past"].shape[0]] = g
    for key, value in (("m", o.m), ("v", o.v)):  # what the step reports, for adasim.probe
        flat = None if value is None else np.array(np.broadcast_to(value, (1, D)), dtype=np.float64).reshape(-1)
        state[key] = None if flat is None else torch.from_numpy(flat)
    p.sub_(torch.from_numpy(np.array(u)).reshape(p.shape).to(dtype=p.dtype, device=p.device))
