"""Mergeable statistics: how per-row contributions become one number, chunk by chunk.

Every loss reduces through the same vector of statistics::

    [sum(w * c_1), ..., sum(w * c_m), sum(w), n]

where ``c_1..c_m`` are the loss's per-row contributions (one column for an ordinary per-row loss,
several for e.g. a whole-input Dice: ``p*y``, ``p``, ``y``), ``w`` the sample weights (1 without
``--weight``) and ``n`` the row count. Chunks of a file and ``--by`` groups are merged by adding
these vectors (with compensation, see :class:`Accumulator`); an :class:`Aggregate` finalizes the
merged vector once into the reported value (:mod:`lossctl.aggregates`).
"""

from __future__ import annotations

import numpy as np

# grouped_sums: rows per (block, group) cell, and a cap on the cells (memory) when there are many groups.
_GROUP_BLOCK = 32
_GROUP_CELLS = 1 << 22


def weighted_sums(contributions: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """The statistics vector ``[sum(w*c_j)..., sum(w), n]`` of one chunk (NumPy pairwise sums).

    Columns are summed column-major: NumPy sums pairwise only along a contiguous axis, so a row-major
    ``(rows x m)`` array would be added row after row. ``weight @ columns`` is avoided for the same reason:
    BLAS accumulates a dot product sequentially (2e-13 relative on a million rows of 0.1).
    """
    columns = np.asfortranarray(contributions.reshape(len(contributions), -1))
    n = float(len(columns))
    if weight is None:
        return np.concatenate([columns.sum(axis=0), [n, n]])
    return np.concatenate([(weight[:, None] * columns).sum(axis=0), [weight.sum(), n]])


def grouped_sums(contributions: np.ndarray, weight: np.ndarray | None, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """One statistics vector per group: shape ``(n_groups, m + 2)``; ``codes`` are group indices.

    ``np.bincount`` adds a group's rows one by one (1e-11 relative on a million rows of 0.1). So rows are
    counted in (block, group) cells of about ``_GROUP_BLOCK`` rows, and each group's cells are summed
    pairwise: the error grows with the block size, not the chunk size, at bincount's speed.
    """
    columns = contributions.reshape(len(contributions), -1)
    rows = len(columns)
    w = np.ones(rows) if weight is None else weight
    blocks = max(1, min(-(-rows // _GROUP_BLOCK), _GROUP_CELLS // max(n_groups, 1)))
    cells = codes + n_groups * (np.arange(rows) * blocks // max(rows, 1))

    def per_group(weights: np.ndarray) -> np.ndarray:
        table = np.bincount(cells, weights=weights, minlength=n_groups * blocks).reshape(blocks, n_groups)
        return np.asfortranarray(table).sum(axis=0)

    sums = [per_group(w * columns[:, j]) for j in range(columns.shape[1])]
    sums += [per_group(w), np.bincount(codes, minlength=n_groups).astype(np.float64)]
    return np.stack(sums, axis=1)


class Accumulator:
    """Adds statistics vectors with Neumaier compensation, so that merging many chunk sums
    (or 1e8 one-row chunks) keeps float64 accuracy; ``value`` is the compensated total."""

    def __init__(self, shape: int | tuple[int, ...]) -> None:
        self._sum = np.zeros(shape)
        self._compensation = np.zeros(shape)

    def add(self, stats: np.ndarray) -> None:
        total = self._sum + stats
        big = np.abs(self._sum) >= np.abs(stats)
        self._compensation += np.where(big, (self._sum - total) + stats, (stats - total) + self._sum)
        self._sum = total

    def merge(self, other: Accumulator) -> None:
        self.add(other._sum)
        self.add(other._compensation)

    @property
    def value(self) -> np.ndarray:
        return self._sum + self._compensation
