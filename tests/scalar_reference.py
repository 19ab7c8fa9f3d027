"""Independent step-by-step implementations of every optimizer, written from REFERENCE.md §2 as
plain scalar Python (no NumPy, no blocks, no shared code with adasim). Tests compare the engine
against these; they are derivations of their own, not adasim run twice."""

import math


def _denom(v, eps, mode):
    return math.sqrt(v + eps) if mode == "inside" else math.sqrt(v) + eps


def _div(num, den):
    return 0.0 if den == 0 else num / den


def reference_path(name, cfg, grads, x0=0.0, lo=-math.inf, hi=math.inf, schedule=lambda t: 1.0):
    """x after each step for a scalar gradient sequence; cfg holds the hyper-parameters by field name."""
    a0 = cfg.get("lr", 1.0)
    b1 = cfg.get("beta1", 0.0)
    b2 = cfg.get("beta2", 0.0)
    eps = cfg.get("eps", 0.0)
    mode = cfg.get("eps_mode", "outside")
    m = v = vmax = s2 = 0.0
    x = x0
    out = []
    for t, g in enumerate(grads, start=1):
        a = a0 * schedule(t)
        if name == "sgd":
            step = a * g
        elif name == "momentum":
            m = b1 * m + (1 - b1) * g
            step = a * m
        elif name == "adagrad":
            v = v + g * g
            step = a * _div(g, _denom(v, eps, mode))
        elif name in ("adam", "rmsprop"):
            if name == "rmsprop":
                b1 = 0.0
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            if cfg.get("bias_correction", name == "adam"):
                if mode == "hat":
                    step = a * math.sqrt(1 - b2**t) / (1 - b1**t) * _div(m, math.sqrt(v) + eps)
                else:
                    mh, vh = m / (1 - b1**t), v / (1 - b2**t)
                    step = a * _div(mh, _denom(vh, eps, mode))
            else:
                step = a * _div(m, _denom(v, eps, mode))
        elif name == "amsgrad":
            conv = cfg.get("convention", "paper")
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            if conv == "paper":
                vmax = max(vmax, v)
                step = a * _div(m, _denom(vmax, eps, mode))
            elif conv == "pytorch":
                vmax = max(vmax, v)
                step = a / (1 - b1**t) * _div(m, _denom(vmax / (1 - b2**t), eps, mode))
            else:
                vmax = max(vmax, v / (1 - b2**t))
                step = a * _div(m / (1 - b1**t), _denom(vmax, eps, mode))
        elif name == "adamnc":
            b1t = b1 * cfg.get("lam", 1.0) ** (t - 1)
            m = b1t * m + (1 - b1t) * g
            s2 += g * g
            step = a * _div(m, _denom(s2 / t, eps, mode))
        elif name == "adashift":
            n = cfg.get("n", 10)
            w = cfg.get("window") or max(n, 1)
            seen = grads[:t]
            if t <= n:
                step = 0.0
            else:
                old = seen[t - 1 - n]
                weights = [b1**i for i in range(w)]
                window = [seen[t - 1 - i] if t - 1 - i >= 0 else 0.0 for i in range(w)]
                m = sum(wi * gi for wi, gi in zip(weights, window, strict=True)) / sum(weights)
                if cfg.get("v_rule", "ema") == "max":  # the authors' later code: no correction
                    v = max(b2 * v, old * old)
                    step = a * _div(m, _denom(v, eps, mode))
                else:
                    v = b2 * v + (1 - b2) * old * old
                    step = a * _div(m, _denom(v / (1 - b2 ** (t - n)), eps, mode))
        elif name == "adopt":
            if t == 1:
                v = g * g
                step = 0.0
            else:
                gh = g / max(math.sqrt(v), eps)
                if cfg.get("clip", True):
                    c = (t - 1) ** 0.25 if cfg.get("clip_base", "official") == "official" else t**0.25
                    gh = min(max(gh, -c), c)
                m = b1 * m + (1 - b1) * gh
                step = a * m
                v = b2 * v + (1 - b2) * g * g
        else:
            raise ValueError(name)
        x = min(max(x - step, lo), hi)
        out.append(x)
    return out
