"""The Poisson bootstrap, folded into the mergeable statistics.

Each replicate ``b`` gives row ``i`` a weight ``k_ib ~ Poisson(1)`` (Hanley & MacGibbon 2006; the
"online bootstrap" of Oza 2005), multiplied into its sample weight, so a replicate is just another
statistics vector, summed chunk by chunk in constant memory. The counts of a row come from a
counter-based generator (Philox) keyed by ``--seed`` and positioned at the row's number in the file,
so they do not depend on how the file was cut into chunks, nor on ``--by`` groups, nor on which model
is being evaluated: ``compare`` reuses them row for row, which makes its intervals paired.
"""

from __future__ import annotations

import math

import numpy as np

# Rows per block of generated counts: bounds the (rows x replicates) matrix to a few MB.
_BLOCK_ENTRIES = 1 << 20
# P(K <= k) for K ~ Poisson(1), k = 0..19; beyond 19 the tail is below 1e-17.
_POISSON_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(20)])


def poisson_counts(rows: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """Poisson(1) counts, shape ``(len(rows), replicates)``, for the given 0-based file rows."""
    if len(rows) == 0:
        return np.zeros((0, replicates))
    words = -(-replicates // 4) * 4  # Philox yields 4 words per counter step
    first, last = int(rows[0]), int(rows[-1])
    generator = np.random.Philox(key=seed)
    generator.advance(first * words // 4)
    raw = generator.random_raw((last - first + 1) * words).reshape(-1, words)[rows - first, :replicates]
    uniform = (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_POISSON_CDF, uniform, side="right").astype(np.float64)


def replicate_sums(
    contributions: np.ndarray, weight: np.ndarray | None, rows: np.ndarray, replicates: int, seed: int
) -> np.ndarray:
    """The statistics vector of every replicate, shape ``(replicates, m + 2)`` (see :mod:`lossctl.stats`)."""
    columns = contributions.reshape(len(contributions), -1)
    w = np.ones(len(columns)) if weight is None else weight
    weighted = np.column_stack([columns * w[:, None], w, np.ones(len(columns))])
    out = np.zeros((replicates, weighted.shape[1]))
    block = max(1, _BLOCK_ENTRIES // replicates)
    for start in range(0, len(columns), block):
        counts = poisson_counts(rows[start : start + block], replicates, seed)
        out += counts.T @ weighted[start : start + block]
    return out


def percentile_interval(values: np.ndarray, level: float) -> dict[str, float] | None:
    """The percentile interval of the replicate values at confidence ``level``; ``None`` without any value
    (on a tiny input every replicate may draw no row, and 0/0 is no value)."""
    if len(values) == 0:
        return None
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return {"low": float(low), "high": float(high), "level": level}
