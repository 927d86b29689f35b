"""Accuracy at scale: sums over 1e8 values keep float64 accuracy across chunk merges (losses.md: "sums over
1e8 rows keep float64 accuracy (pairwise/NumPy summation, not a Python loop or naive float32)").

The streams are generated chunk by chunk, 1e6 values (or 2**20) at a time, so 1e8 values never sit in
memory; each has an exact sum known analytically, compared with :class:`fractions.Fraction` arithmetic.
The chunk statistics come from :func:`lossctl.stats.weighted_sums` and are merged by
:class:`lossctl.stats.Accumulator`, exactly as the engine does, and each test also shows that a naive
running sum (float64 left to right, or float32) misses the answer by far more. The full 1e8 scale is
used throughout: one test runs in about a second on one core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np
import pytest

from lossctl.stats import Accumulator, segment_sums, weighted_sums

N = 10**8
CHUNK = 10**6
TENTH = Fraction(0.1)  # the double nearest 0.1, exactly: 0.1000000000000000055511151231257827...


def _stream(value: float, chunks: int = N // CHUNK, chunk: int = CHUNK) -> Iterator[np.ndarray]:
    for _ in range(chunks):
        yield np.full(chunk, value)


def _relative_error(value: float, exact: Fraction) -> float:
    return float(abs(Fraction(value) - exact) / abs(exact))


def _accumulate(chunks: Iterator[np.ndarray], stats: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    total: Accumulator | None = None
    for chunk in chunks:
        vector = stats(chunk)
        total = total or Accumulator(vector.shape)
        total.add(vector)
    assert total is not None
    return total.value


def _naive_float64(chunks: Iterator[np.ndarray]) -> float:
    """A left-to-right running sum (``np.cumsum`` is sequential), carried across chunks."""
    running = 0.0
    for chunk in chunks:
        running = float(np.cumsum(np.concatenate([[running], chunk]))[-1])
    return running


def _naive_float32(chunks: Iterator[np.ndarray]) -> float:
    running = np.float32(0.0)
    for chunk in chunks:
        running = np.cumsum(np.concatenate([[running], chunk.astype(np.float32)]), dtype=np.float32)[-1]
    return float(running)


def test_a_hundred_million_tenths() -> None:
    """1e8 copies of 0.1 sum to 1e8 * fl(0.1), whose nearest double is 1e7, to 1e-15 relative."""
    exact = N * TENTH
    stats = _accumulate(_stream(0.1), lambda chunk: weighted_sums(chunk, None))
    assert _relative_error(stats[0], exact) <= 1e-15, repr(stats[0])
    assert stats[1] == stats[2] == N  # sum(w) and n are exact counts
    assert _relative_error(stats[0] / stats[-2], TENTH) <= 1e-15  # the mean is 0.1

    naive = _naive_float64(_stream(0.1))
    assert _relative_error(naive, exact) > 1e-10, repr(naive)  # 9999999.98112945: 2e-9 relative
    naive32 = _naive_float32(_stream(0.1))
    assert _relative_error(naive32, exact) > 0.5, repr(naive32)  # stuck at 2**21, where 0.1 < half an ulp


def test_merging_accumulators_of_two_halves() -> None:
    """What --by groups and workers do: accumulate separately, then merge; the order must not cost accuracy."""
    halves = []
    for _ in range(2):
        halves.append(Accumulator(3))
        for chunk in _stream(0.1, chunks=N // CHUNK // 2):
            halves[-1].add(weighted_sums(chunk, None))
    halves[0].merge(halves[1])
    assert _relative_error(halves[0].value[0], N * TENTH) <= 1e-15


def test_cancellation_across_chunk_merges() -> None:
    """A huge chunk sum, 98 small ones and the huge one negated: 100 chunks of 2**20 values (1.05e8 in all).

    Every chunk sum is exact (2**53, 0.5, -2**53), so only merging can lose anything: 2**53 + 0.5 rounds
    back to 2**53 (its ulp is 2), so a plain float64 merge of the chunk sums loses all 49 of the halves.
    """
    size = 2**20
    huge, small = 2.0**33, 2.0**-21  # chunk sums 2**53 and 0.5

    def chunks() -> Iterator[np.ndarray]:
        yield np.full(size, huge)
        yield from _stream(small, chunks=98, chunk=size)
        yield np.full(size, -huge)

    stats = _accumulate(chunks(), lambda chunk: weighted_sums(chunk, None))
    assert stats[0] == 49.0
    assert stats[-1] == 100 * size

    plain = 0.0
    for chunk in chunks():
        plain += float(chunk.sum())
    assert plain == 0.0  # the naive merge of the very same chunk sums


def test_the_engine_over_a_hundred_million_rows() -> None:
    """The whole pass (Arrow batches -> float64 -> contributions -> chunk sums -> merge) on 1e8 rows."""
    pa = pytest.importorskip("pyarrow")
    from lossctl.engine import Job, Plan, run
    from lossctl.options import Options
    from lossctl.params import build_requests

    target, pred = pa.array(np.zeros(CHUNK)), pa.array(np.full(CHUNK, 0.1))
    batches = (pa.RecordBatch.from_arrays([target, pred], names=["t", "p"]) for _ in range(N // CHUNK))
    jobs = [Job(request, {"target": ["t"], "pred": ["p"]}) for request in build_requests(["mae", "mse"])]
    outcome = run(batches, Plan(jobs), Options(chunk_rows=CHUNK))
    assert outcome.rows == N
    mae, mse = (stats[0] / stats[-2] for stats in outcome.stats)
    assert _relative_error(mae, TENTH) <= 1e-15, repr(mae)
    assert _relative_error(mse, Fraction(0.1 * 0.1)) <= 1e-15, repr(mse)  # each row's r² is fl(0.1 * 0.1)


def test_weighted_sums_of_a_hundred_million_tenths() -> None:
    """Today: 9999999.999997916, 2e-13 relative (a 1e6-row chunk alone is 2e-13 off)."""
    ones = np.ones(CHUNK)
    stats = _accumulate(_stream(0.1), lambda chunk: weighted_sums(chunk, ones))
    assert _relative_error(stats[0], N * TENTH) <= 1e-15, repr(stats[0])


def test_multi_column_contributions_of_a_hundred_million_rows() -> None:
    """hinge, squared_hinge, class_balanced, ranknet and listnet return C-ordered (rows x m) contributions;
    ``sum(axis=0)`` then adds rows one after another: 1.3e-11 relative per 1e6-row chunk."""
    stats = _accumulate(_stream(0.1), lambda chunk: weighted_sums(np.column_stack([chunk, chunk]), None))
    assert _relative_error(stats[0], N * TENTH) <= 1e-15, repr(stats[0])


def test_group_sums_of_a_hundred_million_tenths() -> None:
    """A group is a run of rows sorted by group, summed pairwise (``add.reduceat``): a million-row run too."""
    starts = np.array([0, CHUNK // 3])  # two groups per chunk
    stats = _accumulate(_stream(0.1), lambda chunk: segment_sums([chunk], starts).sum(axis=0))
    assert _relative_error(stats[0], N * TENTH) <= 1e-15, repr(stats[0])


@pytest.mark.parametrize(
    "codes",
    [
        lambda rows: rows % 10,  # ten large groups: cells of 128 rows, then pairwise
        lambda rows: rows % 97_001,  # a hundred thousand small groups: a few rows per group and block
        lambda rows: np.where(rows % 3 == 0, 0, rows // 3 + 1),  # one large group among a million small ones
    ],
    ids=["few groups", "short runs", "skewed"],
)
def test_group_sums_through_the_engine(codes: Callable[[np.ndarray], np.ndarray]) -> None:
    """Per-group sums of 3M rows of 0.1, through the engine's block sums, every way a block can be summed."""
    pa = pytest.importorskip("pyarrow")
    from lossctl.engine import Job, Options, Plan, run
    from lossctl.params import build_requests

    rows = 3 * CHUNK
    key = codes(np.arange(rows))
    batches = (
        pa.RecordBatch.from_arrays(
            [pa.array(np.zeros(CHUNK)), pa.array(np.full(CHUNK, 0.1)), pa.array(key[s : s + CHUNK])],
            names=["t", "p", "g"],
        )
        for s in range(0, rows, CHUNK)
    )
    jobs = [Job(request, {"target": ["t"], "pred": ["p"]}) for request in build_requests(["mae"])]
    outcome = run(batches, Plan(jobs, by=["g"]), Options(chunk_rows=CHUNK))
    stats = outcome.group_stats[0]
    largest = int(np.argmax(stats[:, -1]))
    assert _relative_error(stats[largest, 0], int(stats[largest, -1]) * TENTH) <= 1e-15, repr(stats[largest])
    assert np.sum(stats[:, -1]) == rows
