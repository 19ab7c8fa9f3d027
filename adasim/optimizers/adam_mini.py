"""Adam-mini (Zhang et al., ICLR 2025): one second moment per block, the block mean of g_t².

It is the seed's "block-wise v" without the temporal shift: v_t still contains (1−β2)·mean(g_t²)
of the gradient it scales, so the correlation of v_t with g_t is diluted over the block (by
about its size, when the block's coordinates are independent), not removed as AdaShift's g_{t−n}
removes it. Adam's step with φ = mean fixed; the blocks are the problem's (`layered`), else each
lane's coordinates form one block, as one parameter tensor does in the authors' code for layers
that are not embeddings or attention heads.
"""

from __future__ import annotations

from adasim.optimizers.adam import COMMON, AdamHyper, AdamState, adam_step
from adasim.optimizers.base import Definition

AdamMini = Definition(
    "adam-mini",
    AdamHyper,
    AdamState,
    adam_step,
    rule="m_t = β1 m + (1−β1) g;  v_b = β2 v_b + (1−β2) mean_{i∈b} g_i²;  x ← Π(x − α_t m̂_t/(√v̂_b + ε))",
    source="Zhang et al. 2025 (ICLR), Algorithm 1 with its partition left to the problem's blocks",
    fixed={"phi": "mean"},
    **COMMON,
)
"""Adam-mini: Adam with one v per block: v_b = β2 v_b + (1−β2) mean_{i∈b} g_i² (Zhang et al. 2025; the blocks
are the problem's).

Examples
--------
Two coordinates in one block see g_1 = (2, −1): Adam moves each by α, Adam-mini divides both by
√mean(4, 1) = √2.5.

>>> from adasim import Adam, AdamMini, Layered, simulate
>>> problem = Layered(blocks=((2, 1.0),), base="online", C=2.0)
>>> [simulate(problem, o(lr=0.1), steps=1, x0=0.0, engine="numpy").final_x[0].round(6).tolist() for o in (Adam, AdamMini)]
[[-0.1, 0.1], [-0.126491, 0.063246]]
"""
