"""The sampling unit of intervals in a run with a ranking loss: the query, not the row.

A ranking loss's value is a mean over queries (``listnet``) or over the pairs within queries (``ranknet``): its
observations are queries, and the documents of one query are neither independent nor resampled one by one. In a
run with a loss reading query ids (a ``qid`` role), the bootstrap therefore draws one Poisson count per query and the
normal interval takes each query's summed statistics as one observation (the cluster bootstrap and the
cluster-robust standard error; Cameron & Miller 2015). Every loss of the run does so, per-row ones too: one draw
per row for them and one per query for the ranking losses would not be one joint resampling, which a composite of
both (``listnet + 0.1*mse``) and the paired deltas of ``compare`` need, and the rows of a query are not
independent observations for a per-row loss either.

A query is keyed by the 0-based file row number of its first row: its count is the count
(:mod:`lossctl.bootstrap`) that row has in a run of rows, which the input alone fixes, whatever the chunks (a chunk
holds whole queries, streamed or held). Rows sharing a value in any of several query id columns are one unit. Under
``--by``, a group's unit is its part of a query (the group's value cuts each query to its documents in the group),
keyed by that part's first row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Units:
    """The units of a chunk's rows: ``order`` sorts the rows by unit, unit ``u``'s rows start at ``starts[u]`` in that
    order, and ``first[u]`` (increasing) is the file row number of its first row."""

    order: np.ndarray
    starts: np.ndarray
    first: np.ndarray

    @classmethod
    def of(cls, keys: np.ndarray) -> Units:
        """The units of rows whose unit is keyed by ``keys`` (each row's unit's first row)."""
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]])) if len(keys) else order[:0]
        return cls(order, starts, ordered[starts])

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Each unit's sum of the rows of ``values`` (rows x M): units x M."""
        if not len(self.starts):
            return values[:0]
        return np.add.reduceat(values[self.order], self.starts, axis=0)

    def pick(self, per_row: np.ndarray) -> np.ndarray:
        """Each unit's value of ``per_row``, one value for all the unit's rows (its group code): its first row's."""
        return per_row[self.order[self.starts]]

    def within(self, local: np.ndarray, row_index: np.ndarray) -> Units:
        """The units cut by the rows' groups ``local``: each unit's part in each group, keyed by that part's first
        row; ``self`` when every unit's rows are in one group (no sort)."""
        sizes = np.diff(np.append(self.starts, len(self.order)))
        if (local[self.order] == np.repeat(self.pick(local), sizes)).all():
            return self
        unit = np.empty(len(self.order), dtype=np.intp)
        unit[self.order] = np.repeat(np.arange(len(self.starts)), sizes)
        order = np.lexsort((local, unit))  # stable: each part's rows in file order, its first row leading
        units, groups = unit[order], local[order]
        starts = np.flatnonzero(np.concatenate([[True], (units[1:] != units[:-1]) | (groups[1:] != groups[:-1])]))
        keys = np.empty(len(order), dtype=row_index.dtype)
        keys[order] = np.repeat(row_index[order[starts]], np.diff(np.append(starts, len(order))))
        return Units.of(keys)


def first_rows(ids: list[np.ndarray], row_index: np.ndarray) -> np.ndarray:
    """Each row's unit key: the smallest file row number (``row_index``, increasing) of the rows it shares a query
    with, through any of the query id columns ``ids`` (transitively: with several columns, the smallest is passed on
    until no key changes)."""
    sorts = []
    for column in ids:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]])) if len(column) else order[:0]
        sorts.append((order, starts, np.diff(np.append(starts, len(order)))))
    keys = row_index
    while True:
        before = keys
        for order, starts, sizes in sorts:
            if len(order):
                moved = np.empty_like(keys)
                moved[order] = np.repeat(np.minimum.reduceat(keys[order], starts), sizes)
                keys = moved
        if len(sorts) == 1 or np.array_equal(keys, before):
            return keys
