"""The Poisson bootstrap, folded into the mergeable statistics.

Each replicate ``b`` gives row ``i`` a weight ``k_ib ~ Poisson(1)`` (Hanley & MacGibbon 2006; the
"online bootstrap" of Oza 2005), multiplied into its sample weight, so a replicate is just another
statistics vector: for the stacked per-row statistics ``V`` (rows x M, every job's ``w*c`` columns,
then ``w`` and 1) the replicates' vectors are ``K^T V``, summed chunk by chunk in constant memory.

The counts are a function of ``--seed``, the row's 0-based number in the file and the replicate only,
so they do not depend on how the file was cut into chunks, nor on ``--by`` groups, nor on which model
is being evaluated (``compare`` reuses them row for row, which makes its intervals paired), and any range
of rows can be computed on its own (a distributed engine's task). In a run with a ranking loss the resampled rows
are the queries, each summed into one row numbered as its first row (:mod:`lossctl.units`). Rows are taken in blocks of
``BLOCK_ROWS``: block ``r // BLOCK_ROWS`` draws from the counter-based stream
``SFC64(SeedSequence(seed, spawn_key=(block,)))``, row ``r`` reading the ``W = ceil(B / 4)`` 64-bit words
at ``(r mod BLOCK_ROWS) * W``, seen as ``4W`` 16-bit numbers ``u``, of which the first ``B`` give its
counts ``POISSON[u]``. ``POISSON`` (:func:`poisson_table`) is the Poisson(1) quantile function at
``(u + 0.5) / 65536``: every probability ``e^-1 / k!`` to within 1/65536, counts up to 7 (a count of 8 has
probability 1e-5).

Cost (measured on this project's 2-core machines): about 0.5 ns per count to draw, 0.7 to look up the
table (Arrow's ``take`` with 16-bit indices; NumPy's fancy indexing converts the indices first and took
7 ns) and 0.6 for ``K^T V`` (BLAS) per row and replicate, so 200 replicates of 10M rows are 2*10^9 counts.
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
# Rows of one block whose counts are looked up and multiplied at once: float64 counts (rows x replicates) of 2 MB,
# whatever the number of replicates, which the product then reads from the core's cache. With the product as
# (V^T K)^T, measured side by side with two workers (medians of five): compare of 20M rows --bootstrap 200 7.9 s at
# 8 MB, 6.1 s at 2 MB, 7.0 s at 1 MB; --bootstrap 1000 on 10M rows 16.1 s at 8 MB, 14.2 s at 2 MB and at 1 MB.
# (With K^T V, 8 MB had been the fastest.)
_COUNTS_PER_STEP = 1 << 18
# With many groups the counts are also gathered by group (_GroupSums), faster in steps of 2 MB: with 10,000 groups
# 120 s at 2 MB, 134 s at 8 MB (at 10M rows and the code of 962fa33).
_COUNTS_PER_GROUPED_STEP = 1 << 18
# Up to this many groups in a chunk, each group's sums are one product of its rows' counts and values.
_GROUPS_PER_PRODUCT = 32
# Above it, a step's rows are summed by sorted runs where a group has this many of them on average, else row by row.
_ROWS_PER_RUN = 4


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
    groups = _GroupSums(codes, replicates, values.shape[1]) if codes is not None else None
    many = groups is not None and len(groups.present) > _GROUPS_PER_PRODUCT
    step = max(1, (_COUNTS_PER_GROUPED_STEP if many else _COUNTS_PER_STEP) // replicates)
    blocks = rows // BLOCK_ROWS
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(blocks)) + 1, [len(rows)]])
    for start, stop in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        block = int(blocks[start])
        within = rows[start:stop] - block * BLOCK_ROWS
        draws = _draws(block, int(within[-1]) + 1, replicates, seed)
        # Rows increase, so a range whose ends are as far apart as its length holds every row between them: a slice
        # of the draws instead of a copy (8% of a --bootstrap run's work).
        draws = draws[int(within[0]) :] if within[-1] - within[0] == stop - start - 1 else draws[within]
        for first in range(start, stop, step):
            last = min(stop, first + step)
            counts = _lookup(draws[first - start : last - start])
            # K^T V as (V^T K)^T: OpenBLAS takes the counts as they lie in memory, about three times faster than
            # the same product with K^T (1.9 -> 0.6 ns per count for five columns; --bootstrap 200 on 10M rows
            # 4.8 -> 4.0 s, both steps together compare of 20M rows 9.8 -> 6.4 s).
            total += (values[first:last].T @ counts).T
            if groups is not None:
                groups.add(counts, values[first:last], slice(first, last))
    return total, (groups.present, groups.sums) if groups is not None else None


class _GroupSums:
    """Each group's replicate sums over a chunk, ``sums[slot]`` for the group ``present[slot]``."""

    def __init__(self, codes: np.ndarray, replicates: int, width: int) -> None:
        self.present, self.slots = np.unique(codes, return_inverse=True)
        self.sums = np.zeros((len(self.present), replicates, width))
        self.last = np.empty(len(self.present), dtype=np.intp)  # scratch for _add_by_rows

    def add(self, counts: np.ndarray, values: np.ndarray, rows: slice) -> None:
        """Add ``outer(counts[i], values[i])`` to the sums of row ``i``'s group, for the chunk's ``rows``."""
        slots = self.slots[rows]
        if len(self.present) <= _GROUPS_PER_PRODUCT:
            for slot in np.unique(slots).tolist():
                mine = np.flatnonzero(slots == slot)
                self.sums[slot] += (values[mine].T @ counts[mine]).T
            return
        order = np.argsort(slots, kind="stable")
        in_order = slots[order]
        starts = np.flatnonzero(np.concatenate([[True], in_order[1:] != in_order[:-1]]))
        if len(starts) * _ROWS_PER_RUN <= len(slots):
            counts, values = counts[order], values[order]
            runs = np.empty((len(starts), counts.shape[1], values.shape[1]))
            for m in range(values.shape[1]):
                np.add.reduceat(counts * values[:, m : m + 1], starts, axis=0, out=runs[:, :, m])
            self.sums[in_order[starts]] += runs
        else:
            self._add_by_rows(counts[:, :, None] * values[:, None, :], slots)

    def _add_by_rows(self, contributions: np.ndarray, slots: np.ndarray) -> None:
        """``sums[slots[i]] += contributions[i]`` in rounds: each adds, for every slot still pending, its last pending
        row (``last[slot]``, written in row order, holds it), so that no slot is indexed twice in one addition."""
        pending = np.arange(len(slots))
        while len(pending):
            targets = slots[pending]
            self.last[targets] = pending
            chosen = self.last[targets] == pending
            self.sums[targets[chosen]] += contributions[pending[chosen]]
            pending = pending[~chosen]


def percentile_interval(values: np.ndarray, level: float) -> dict[str, float] | None:
    """The percentile interval of the replicate values at confidence ``level``; ``None`` without any value
    (on a tiny input every replicate may draw no row, and 0/0 is no value)."""
    if len(values) == 0:
        return None
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return {"low": float(low), "high": float(high), "level": level}
