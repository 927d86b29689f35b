"""Mergeable statistics: how per-row contributions become one number, chunk by chunk.

Every loss reduces through the same vector of statistics::

    [sum(w * c_1), ..., sum(w * c_m), sum(w), n]

where ``c_1..c_m`` are the loss's per-row contributions (one column for an ordinary per-row loss,
several for e.g. a whole-input Dice: ``p*y``, ``p``, ``y``), ``w`` the sample weights (1 without
``--weight``) and ``n`` the row count. Chunks of a file and ``--by`` groups are merged by adding
these vectors (with compensation, see :class:`Accumulator`); an :class:`Aggregate` finalizes the
merged vector once into the reported value (:mod:`lossctl.aggregates`). Per-group vectors are rows of
one array per run (:class:`GroupAccumulator`), added from each chunk's :func:`segment_sums`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def all_finite(values: np.ndarray) -> bool:
    """Whether every value is finite. A NaN or an infinity makes the sum of squares NaN or infinite: one pass, a
    BLAS dot product that allocates nothing (in cache, a third of the time of ``np.isnan(values).any()``). Values
    beyond 1e154 overflow it; only then are the values tested one by one."""
    flat = values.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.dot(flat, flat)) or np.isfinite(flat).all())


# Up to this many columns, :func:`weighted_sums` reduces each column where it lies (a loop in Python per column).
_STRIDED_COLUMNS = 4


def weighted_sums(contributions: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """The statistics vector ``[sum(w*c_j)..., sum(w), n]`` of one chunk (NumPy pairwise sums).

    Each column is summed as one 1-D reduction, which NumPy adds pairwise, strided or not: ``sum(axis=0)`` of a
    row-major ``(rows x m)`` array would add row after row instead, so more columns than a few are copied to
    column-major order first. ``weight @ columns`` is avoided for the same reason: BLAS accumulates a dot product
    sequentially (2e-13 relative on a million rows of 0.1).
    """
    n = float(len(contributions))
    if weight is None and contributions.ndim == 1:  # the common case, without the calls that shape columns
        return np.array([np.add.reduce(contributions), n, n])  # what .sum() calls, without its Python wrapper
    if contributions.ndim == 2 and contributions.shape[1] <= _STRIDED_COLUMNS:
        # A few columns (a loss and its notice counts): the same bits as from the column-major copy, in half the
        # time (the copy was 1 ns of a bce row's 5).
        columns = contributions if weight is None else weight[:, None] * contributions
        sums = [np.add.reduce(columns[:, j]) for j in range(columns.shape[1])]
        return np.array([*sums, n if weight is None else np.add.reduce(weight), n])
    columns = np.asfortranarray(contributions.reshape(len(contributions), -1))
    if weight is None:
        return np.concatenate([columns.sum(axis=0), [n, n]])
    return np.concatenate([(weight[:, None] * columns).sum(axis=0), [weight.sum(), n]])


def segment_sums(columns: Sequence[np.ndarray], starts: np.ndarray) -> np.ndarray:
    """Sums of each run of rows ``starts[k]:starts[k + 1]`` (the last to the end) of each column: (runs, columns).

    Rows sorted by group make each group a run. ``add.reduceat`` sums a run with NumPy's pairwise summation
    (each run is one contiguous reduction), so a group's sum is as accurate as ``np.sum`` over its rows,
    however many rows and groups a chunk holds (the error grows with log2 of the group's rows).
    """
    return np.column_stack([np.add.reduceat(np.ascontiguousarray(column), starts) for column in columns])


class GroupAccumulator:
    """Statistics vectors for groups ``0..G-1``, one row each of a ``(G, *shape)`` array, with the compensated
    addition of :class:`Accumulator` applied to many rows at once; rows are added as groups appear."""

    def __init__(self, shape: int | tuple[int, ...]) -> None:
        self._shape = (shape,) if isinstance(shape, int) else shape
        self._sum = np.zeros((0, *self._shape))
        self._compensation = np.zeros((0, *self._shape))

    def add(self, codes: np.ndarray, stats: np.ndarray) -> None:
        """Add ``stats[k]`` to group ``codes[k]``; ``codes`` are distinct.

        The rounding error of each addition is Knuth's TwoSum (exact, branch-free: the same error as
        :class:`Accumulator`'s comparison, in fewer passes over what may be a million groups' rows). The rows
        are visited in the chunk's order: sorting the codes first, for memory order, measured no faster with a
        million groups and twice as slow with 10,000 (39 chunks: 42 ms against 22 ms).
        """
        if len(codes) == 0:
            return
        self._reserve(int(codes.max()) + 1)
        current = self._sum[codes]
        total = current + stats
        back = total - current
        error = (current - (total - back)) + (stats - back)
        self._compensation[codes] += error
        self._sum[codes] = total

    def _reserve(self, groups: int) -> None:
        if groups > len(self._sum):
            size = max(groups, 2 * len(self._sum))
            for name in ("_sum", "_compensation"):
                grown = np.zeros((size, *self._shape))
                old = getattr(self, name)
                grown[: len(old)] = old
                setattr(self, name, grown)

    def value(self, groups: int) -> np.ndarray:
        """The compensated totals of groups ``0..groups-1`` (zeros for groups never added to)."""
        self._reserve(groups)
        return self._sum[:groups] + self._compensation[:groups]


class Accumulator:
    """Adds statistics vectors with Neumaier compensation, so that merging many chunk sums
    (or 1e8 one-row chunks) keeps float64 accuracy; ``value`` is the compensated total."""

    def __init__(self, shape: int | tuple[int, ...]) -> None:
        self._sum = np.zeros(shape)
        self._compensation = np.zeros(shape)

    def add(self, stats: np.ndarray) -> None:
        # A sum that overflows becomes inf and its compensation nan: the total is then not finite, which the caller
        # reports as an input error; NumPy's RuntimeWarnings would be extra lines before it.
        with np.errstate(over="ignore", invalid="ignore"):
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
