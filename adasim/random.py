"""Counter-based random numbers: u(seed, counter, stream) = SplitMix64 output number `counter` of
the stream keyed by (seed, stream). Pure integer arithmetic, so every machine gives the same bits,
any step can be drawn without drawing the ones before it, and lanes never share a stream."""

from __future__ import annotations

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))
_INV_2_53 = 1.0 / 9007199254740992.0

# Named streams keep independent uses of one seed apart.
STREAM_GRADIENT = 1
STREAM_SHUFFLE = 2


def mix64(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijection of uint64 with good avalanche."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2^64 is the point
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def lane_keys(seeds: np.ndarray, stream: int) -> np.ndarray:
    """One 64-bit key per lane from its seed and a stream number."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return mix64(mix64(seeds) + np.uint64(stream) * _GAMMA)


def uniform(seeds: np.ndarray, counters: np.ndarray, stream: int) -> np.ndarray:
    """Uniform draws in [0, 1): shape (len(counters), len(seeds)), row i = draw `counters[i]` of every lane."""
    keys = lane_keys(seeds, stream)[None, :]
    c = np.asarray(counters, dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):
        bits = mix64(keys + c * _GAMMA)
    return (bits >> _S11).astype(np.float64) * _INV_2_53
