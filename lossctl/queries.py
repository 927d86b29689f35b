"""Ranking losses query by query: chunks cut at query boundaries, so one query is held at a time.

Ranking files usually store each query's documents together. :func:`query_chunks` then cuts the stream
into chunks of whole queries (a query larger than a chunk is a chunk of its own), and a ranking loss
computed chunk by chunk sums exactly what it would over the whole input. Each query id is numbered in
order of first appearance (:class:`~lossctl.groups.GroupCoder`, any type), so the rows' queries are
contiguous exactly when the numbers of successive runs of rows increase; a number seen again means a
query whose rows are apart, and :class:`QueriesNotContiguous` tells the caller to hold the whole input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa

from lossctl.groups import GroupCoder
from lossctl.io.parts import batches_table
from lossctl.text import shown_value

# Document pairs in one query above which the query is announced before its work starts (pairwise losses).
LARGE_QUERY_PAIRS = 10**8


class QueriesNotContiguous(Exception):
    """The rows of query ``qid`` are not contiguous: it appears again at file row ``row``."""

    def __init__(self, qid: object, row: int) -> None:
        super().__init__(f"query {shown_value(qid)} appears again at row {row}")
        self.qid = qid
        self.row = row


def query_chunks(
    batches: Iterable[pa.RecordBatch],
    column: str,
    rows: int | None,
    large: Callable[[object, int], None],
    threshold: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """``batches`` re-cut into chunks of whole queries of about ``rows`` rows (``None``: one chunk of every
    row, the queries in any order). ``large(qid, documents)`` is called for each query with more than
    ``threshold`` (default :data:`LARGE_QUERY_PAIRS`) pairs of documents, before its chunk is passed on."""
    threshold = LARGE_QUERY_PAIRS if threshold is None else threshold
    coder = GroupCoder([column], queries=True)
    pending: list[pa.RecordBatch] = []
    pending_codes: list[np.ndarray] = []
    count = 0
    last = -1  # the number of the query the rows so far end with
    absent = -1  # the number of the missing query id, once seen: its rows join no query (--missing drop drops them)
    offset = 0
    for batch in batches:
        known = len(coder.keys)
        local, numbers = coder.codes(batch)
        codes = numbers[local]
        if absent < 0 and len(coder.keys) > known:
            absent = _missing_code(coder.keys, known)
        if rows is not None and len(codes):
            rows_of = np.flatnonzero(codes != absent) if absent >= 0 else None  # the rows with a query id
            present = codes if rows_of is None else codes[rows_of]
            if len(present):
                starts = np.flatnonzero(np.concatenate([[present[0] != last], present[1:] != present[:-1]]))
                run_codes = present[starts]
                previous = np.concatenate([[last], run_codes[:-1]])
                behind = np.flatnonzero(run_codes <= previous)
                if behind.size:
                    code, start = int(run_codes[behind[0]]), int(starts[behind[0]])
                    raise QueriesNotContiguous(
                        coder.keys[code][0], offset + (start if rows_of is None else int(rows_of[start]))
                    )
                last = int(present[-1])
        pending.append(batch)
        pending_codes.append(codes)
        count += batch.num_rows
        offset += batch.num_rows
        if rows is not None and count >= rows:
            all_codes = np.concatenate(pending_codes)
            others = np.flatnonzero((all_codes != last) & (all_codes != absent) if absent >= 0 else all_codes != last)
            open_query = int(others[-1]) + 1 if others.size else 0  # where the last, maybe unfinished, query starts
            if open_query:
                table = batches_table(pending)
                yield _announced(table.slice(0, open_query), all_codes[:open_query], coder, large, threshold, absent)
                rest = table.slice(open_query).combine_chunks()
                pending, pending_codes = rest.to_batches(), [all_codes[open_query:]]
                count = rest.num_rows
    if count:
        yield _announced(batches_table(pending), np.concatenate(pending_codes), coder, large, threshold, absent)


def _missing_code(keys: list[tuple[object, ...]], start: int) -> int:
    """The number of the missing query id among ``keys[start:]``, or -1."""
    try:
        return keys.index((None,), start)
    except ValueError:
        return -1


def _announced(
    table: pa.Table,
    codes: np.ndarray,
    coder: GroupCoder,
    large: Callable[[object, int], None],
    threshold: int,
    absent: int,
) -> pa.RecordBatch:
    """``table`` as one batch, after announcing its large queries (not the rows without a query id, ``absent``)."""
    sizes = np.bincount(codes)
    if absent >= 0 and absent < len(sizes):
        sizes[absent] = 0
    for code in np.flatnonzero(sizes * (sizes - 1) // 2 > threshold).tolist():
        large(coder.keys[code][0], int(sizes[code]))
    return pa.RecordBatch.from_arrays([column.combine_chunks() for column in table.columns], names=table.column_names)
