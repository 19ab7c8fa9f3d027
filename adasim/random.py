"""Counter-based random numbers: u(key, counter) = SplitMix64 output number `counter` of the
stream whose key comes from (seed, stream). Pure integer arithmetic, so every machine and every
executor (compiled, NumPy, Python) gives the same bits, any step can be drawn without drawing the
ones before it, and lanes never share a stream. The functions are elementwise: they take uint64
scalars or arrays alike, and problems call them inside their gradient kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
S30, S27, S31, S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
INV_2_53 = 1.0 / 9007199254740992.0

# Named streams keep independent uses of one seed apart.
STREAM_GRADIENT = 1
STREAM_SHUFFLE = 2


def mix64(z: Any) -> Any:
    """The SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijection of uint64 with good avalanche."""
    z = (z ^ (z >> S30)) * M1  # multiplication modulo 2^64 is the point
    z = (z ^ (z >> S27)) * M2
    return z ^ (z >> S31)


def uniform01(key: Any, counter: Any) -> Any:
    """Draw number `counter` (a whole number ≥ 0) of the stream `key`, uniform in [0, 1)."""
    bits = mix64(key + np.uint64(counter) * GAMMA)
    return (bits >> S11) * INV_2_53


def lane_keys(seeds: Any, stream: int) -> np.ndarray:
    """One 64-bit key per lane from its seed and a stream number."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return mix64(mix64(seeds) + np.uint64(stream) * GAMMA)


def uniform(seeds: Any, counters: Any, stream: int) -> np.ndarray:
    """Uniform draws in [0, 1): shape (len(counters), len(seeds)), row i = draw `counters[i]` of every lane."""
    keys = lane_keys(seeds, stream)[None, :]
    with np.errstate(over="ignore"):
        return uniform01(keys, np.asarray(counters, dtype=np.uint64)[:, None])
