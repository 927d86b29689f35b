"""Mergeable statistics: chunk sums merge exactly, groups recombine, compensation keeps accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lossctl.aggregates import MEAN, MEAN_OVER_ROWS, ROOT_MEAN
from lossctl.stats import Accumulator, GroupAccumulator, all_finite, segment_sums, weighted_sums


def test_weighted_sums_layout() -> None:
    contributions = np.array([1.0, 2.0, 4.0])
    assert weighted_sums(contributions, None).tolist() == [7.0, 3.0, 3.0]
    assert weighted_sums(contributions, np.array([0.5, 1.0, 0.0])).tolist() == [2.5, 1.5, 3.0]
    wide = np.array([[1.0, 10.0], [2.0, 20.0]])
    assert weighted_sums(wide, None).tolist() == [3.0, 30.0, 2.0, 2.0]


@pytest.mark.parametrize("width", [2, 4, 5, 9])
def test_columns_are_summed_pairwise_whatever_their_layout(width: int) -> None:
    """Each column of a row-major (rows x m) array is one pairwise sum, as a 1-D array's is: the same bits as the
    column-major copy, and 2e5 rows of 0.1 within 1e-15 (a row-after-row sum is 1e-13 off)."""
    rng = np.random.default_rng(3)
    rows = 200_003
    wide = np.full((rows, width), 0.1)
    wide[:, 1:] = rng.normal(size=(rows, width - 1)) * 10.0 ** rng.integers(-5, 5, size=width - 1)
    weight = rng.uniform(size=rows)
    for w in (None, weight):
        expected = [
            np.add.reduce(np.ascontiguousarray(wide[:, j] if w is None else w * wide[:, j])) for j in range(width)
        ]
        assert weighted_sums(wide, w)[:width].tolist() == expected
    assert abs(weighted_sums(wide, None)[0] - 0.1 * rows) <= 1e-15 * 0.1 * rows


def test_finalizers() -> None:
    stats = np.array([6.0, 2.0, 4.0])
    assert MEAN.finalize(stats, "mean", {}) == 3.0
    assert MEAN.finalize(stats, "sum", {}) == 6.0
    assert MEAN_OVER_ROWS.finalize(stats, "mean", {}) == 1.5
    assert ROOT_MEAN.finalize(stats, "mean", {}) == math.sqrt(3.0)


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_chunked_merge_equals_the_whole(chunk: int) -> None:
    rng = np.random.default_rng(0)
    values, weights = rng.normal(size=5000) ** 2, rng.uniform(size=5000)
    whole = weighted_sums(values, weights)
    accumulator = Accumulator(3)
    for start in range(0, len(values), chunk):
        accumulator.add(weighted_sums(values[start : start + chunk], weights[start : start + chunk]))
    np.testing.assert_allclose(accumulator.value, whole, rtol=1e-13)


def test_groups_recombine_to_the_overall_statistics() -> None:
    rng = np.random.default_rng(1)
    values, weights = rng.normal(size=1000), rng.uniform(size=1000)
    codes = rng.integers(0, 4, size=1000)
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.diff(codes[order], prepend=-1))
    sums = segment_sums([values[order] * weights[order], weights[order]], starts)
    per_group = np.column_stack([sums, np.diff(np.append(starts, len(codes)))])
    np.testing.assert_allclose(per_group.sum(axis=0), weighted_sums(values, weights), rtol=1e-12)
    np.testing.assert_allclose(per_group[2], weighted_sums(values[codes == 2], weights[codes == 2]), rtol=1e-12)


def test_group_accumulator_adds_chunks_with_compensation() -> None:
    groups = GroupAccumulator(2)
    groups.add(np.array([3, 0]), np.array([[1e16, 1.0], [0.1, 1.0]]))
    for _ in range(10):
        groups.add(np.array([3]), np.array([[1.0, 1.0]]))
    groups.add(np.array([3]), np.array([[-1e16, 1.0]]))
    np.testing.assert_array_equal(groups.value(5), [[0.1, 1.0], [0, 0], [0, 0], [10.0, 12.0], [0, 0]])


def test_compensated_merge_keeps_float64_accuracy() -> None:
    # 1e5 one-row chunks of 0.1: a naive running sum drifts by ~2e-8; the compensated one lands on 10000.
    accumulator = Accumulator(1)
    naive = 0.0
    for _ in range(100_000):
        accumulator.add(np.array([0.1]))
        naive += 0.1
    assert abs(naive - 10_000.0) > 1e-9
    assert accumulator.value[0] == 10_000.0


def test_large_and_small_terms_cancel_exactly() -> None:
    accumulator = Accumulator(1)
    for term in (1e16, 1.0, -1e16, 1.0):
        accumulator.add(np.array([term]))
    assert accumulator.value[0] == 2.0


@pytest.mark.parametrize(
    ("values", "finite"),
    [
        ([1.0, -2.5, 0.0], True),
        ([], True),
        ([1.0, float("nan")], False),
        ([float("inf"), 1.0], False),
        ([-float("inf")], False),
        ([1e200, -1e300], True),  # the sum of squares overflows: the values are then tested one by one
        ([1e200, float("inf")], False),
        ([[1.0, 2.0], [3.0, float("nan")]], False),
    ],
)
def test_all_finite(values: list[float], finite: bool) -> None:
    assert all_finite(np.array(values, dtype=np.float64)) is finite
