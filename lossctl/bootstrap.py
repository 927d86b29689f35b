"""The Poisson bootstrap, folded into the mergeable statistics.

Each replicate ``b`` gives row ``i`` a weight ``k_ib ~ Poisson(1)`` (Hanley & MacGibbon 2006; the
"online bootstrap" of Oza 2005), multiplied into its sample weight, so a replicate is just another
statistics vector: for the stacked per-row statistics ``V`` (rows x M, every job's ``w*c`` columns,
then ``w`` and 1) the replicates' vectors are ``K^T V``, summed chunk by chunk in constant memory.

The counts are a function of ``--seed``, the row's 0-based number in the file and the replicate only,
so they do not depend on how the file was cut into chunks, nor on ``--by`` groups, nor on which model
is being evaluated (``compare`` reuses them row for row, which makes its intervals paired), and any range
of rows can be computed on its own (a distributed engine's task). Rows are taken in blocks of
``BLOCK_ROWS``: block ``r // BLOCK_ROWS`` draws from the counter-based stream
``SFC64(SeedSequence(seed, spawn_key=(block,)))``, row ``r`` reading the ``W = ceil(B / 4)`` 64-bit words
at ``(r mod BLOCK_ROWS) * W``, seen as ``4W`` 16-bit numbers ``u``, of which the first ``B`` give its
counts ``POISSON[u]``. ``POISSON`` (:func:`poisson_table`) is the Poisson(1) quantile function at
``(u + 0.5) / 65536``: every probability ``e^-1 / k!`` to within 1/65536, counts up to 7 (a count of 8 has
probability 1e-5).

Cost (measured on this project's 2-core machines): about 0.5 ns per count to draw, 0.7 to look up the
table (Arrow's ``take`` with 16-bit indices; NumPy's fancy indexing converts the indices first and took
7 ns) and 0.5 for ``K^T V`` (BLAS) per row and replicate, so 200 replicates of 10M rows are 2*10^9 counts.
Every step releases the GIL, so the engine's workers compute chunks on all cores.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np

from lossctl.arrow import to_arrow

if TYPE_CHECKING:
    import pyarrow as pa

BLOCK_ROWS = 4096
# Rows of one block whose counts are looked up and multiplied at once: float64 counts (rows x replicates) of 8 MB,
# whatever the number of replicates. Fewer, longer products than at 2 MB, measured on 10M rows with two workers:
# --bootstrap 200 4.25 -> 3.47 s, --bootstrap 1000 17.9 -> 15.0 s, compare of 20M rows --bootstrap 200 9.06 ->
# 7.22 s, --by with 10 groups 8.7 -> 6.2 s (4 MB was between; 16 MB slower again).
_COUNTS_PER_STEP = 1 << 20
# With many groups the counts are also gathered in group order (_add_groups), faster in steps of 2 MB: with 10,000
# groups 120 s at 2 MB, 134 s at 8 MB.
_COUNTS_PER_GROUPED_STEP = 1 << 18
# Above this many groups among a step's rows, group sums go by sorted runs rather than one product per group.
_GROUPS_PER_PRODUCT = 32


@functools.cache
def poisson_table() -> np.ndarray:
    """``POISSON[u]`` for every 16-bit ``u``: the smallest k with P(K <= k) > (u + 0.5) / 65536, K ~ Poisson(1).
    Made on first use (2 ms, which a run without ``--bootstrap`` does not pay)."""
    cdf = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(20)])
    table = np.searchsorted(cdf, (np.arange(1 << 16) + 0.5) / (1 << 16), side="right").astype(np.float64)
    table.flags.writeable = False  # shared by every call
    return table


@functools.cache
def _arrow_table() -> pa.Array:
    """:func:`poisson_table` as an Arrow array, for ``take``."""
    return to_arrow(poisson_table())


def poisson_counts(rows: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """The counts of the given 0-based file rows, shape ``(len(rows), replicates)`` (the definition above)."""
    out = np.zeros((len(rows), replicates))
    for block in np.unique(rows // BLOCK_ROWS):
        inside = np.flatnonzero(rows // BLOCK_ROWS == block)
        draws = _draws(int(block), int(rows[inside].max() % BLOCK_ROWS) + 1, replicates, seed)
        out[inside] = poisson_table()[draws[rows[inside] % BLOCK_ROWS]]
    return out


def _draws(block: int, rows: int, replicates: int, seed: int) -> np.ndarray:
    """The 16-bit numbers of the first ``rows`` rows of ``block``: ``(rows, replicates)``, uint16."""
    words = -(-replicates // 4)
    generator = np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(block,)))
    return generator.random_raw(rows * words).view(np.uint16).reshape(rows, 4 * words)[:, :replicates]


def _lookup(draws: np.ndarray) -> np.ndarray:
    """``POISSON[draws]`` as float64, through Arrow's ``take`` (16-bit indices used as they are)."""
    flat = np.ascontiguousarray(draws).reshape(-1)
    taken = _arrow_table().take(to_arrow(flat))
    return np.frombuffer(taken.buffers()[1], dtype=np.float64, count=len(flat)).reshape(draws.shape)


def replicate_sums(
    values: np.ndarray, rows: np.ndarray, codes: np.ndarray | None, replicates: int, seed: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Every replicate's stacked statistics over these rows, ``K^T V``: ``(replicates, M)``, and with group
    ``codes`` per group, ``(present codes, (groups, replicates, M))``.

    ``values`` is ``V`` (rows x M) and ``rows`` the rows' numbers in the file, increasing.
    """
    total = np.zeros((replicates, values.shape[1]))
    grouped: dict[int, np.ndarray] = {}
    blocks = rows // BLOCK_ROWS
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(blocks)) + 1, [len(rows)]])
    # Group numbers within _GROUPS_PER_PRODUCT of each other: few groups, one product each (a cheap sufficient test).
    many_groups = codes is not None and len(codes) > 0 and int(codes.max() - codes.min()) >= _GROUPS_PER_PRODUCT
    step = max(1, (_COUNTS_PER_GROUPED_STEP if many_groups else _COUNTS_PER_STEP) // replicates)
    for start, stop in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        block = int(blocks[start])
        within = rows[start:stop] - block * BLOCK_ROWS
        draws = _draws(block, int(within[-1]) + 1, replicates, seed)
        for first in range(start, stop, step):
            last = min(stop, first + step)
            counts = _lookup(draws[within[first - start : last - start]])
            total += counts.T @ values[first:last]
            if codes is not None:
                _add_groups(grouped, counts, values[first:last], codes[first:last])
    if codes is None:
        return total, None
    present = np.array(sorted(grouped), dtype=np.int64)
    return total, (present, np.stack([grouped[code] for code in present.tolist()]))


def _add_groups(groups: dict[int, np.ndarray], counts: np.ndarray, values: np.ndarray, codes: np.ndarray) -> None:
    """Add each group's ``K^T V`` over these rows: one product per group when few, else by sorted runs."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_codes[1:] != sorted_codes[:-1]]))
    present = sorted_codes[starts]
    ends = np.append(starts[1:], len(order))
    if len(present) <= _GROUPS_PER_PRODUCT:
        sums = np.stack([counts[order[a:b]].T @ values[order[a:b]] for a, b in zip(starts, ends, strict=True)])
    else:
        counts, values = counts[order], values[order]
        sums = np.stack([np.add.reduceat(counts * values[:, [m]], starts, axis=0) for m in range(values.shape[1])], 2)
    for code, group_sums in zip(present.tolist(), sums, strict=True):
        if code in groups:
            groups[code] += group_sums
        else:
            groups[code] = group_sums


def percentile_interval(values: np.ndarray, level: float) -> dict[str, float] | None:
    """The percentile interval of the replicate values at confidence ``level``; ``None`` without any value
    (on a tiny input every replicate may draw no row, and 0/0 is no value)."""
    if len(values) == 0:
        return None
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return {"low": float(low), "high": float(high), "level": level}
