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


def weighted_sums(contributions: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """The statistics vector ``[sum(w*c_j)..., sum(w), n]`` of one chunk (NumPy pairwise sums)."""
    columns = contributions.reshape(len(contributions), -1)
    n = float(len(columns))
    if weight is None:
        return np.concatenate([columns.sum(axis=0), [n, n]])
    return np.concatenate([weight @ columns if len(columns) else np.zeros(columns.shape[1]), [weight.sum(), n]])


def grouped_sums(contributions: np.ndarray, weight: np.ndarray | None, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """One statistics vector per group: shape ``(n_groups, m + 2)``; ``codes`` are group indices."""
    columns = contributions.reshape(len(contributions), -1)
    ones = np.ones(len(columns))
    w = ones if weight is None else weight
    sums = [np.bincount(codes, weights=w * columns[:, j], minlength=n_groups) for j in range(columns.shape[1])]
    sums.append(np.bincount(codes, weights=w, minlength=n_groups))
    sums.append(np.bincount(codes, weights=ones, minlength=n_groups))
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
