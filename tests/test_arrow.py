"""Arrow arrays without pandas or pyarrow.compute (lossctl/arrow.py) against Arrow's own functions."""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lossctl.arrow import blanks_to_nulls, integers, missing, plain_column, take

_SELECTABLE = [
    pa.array([f"v{i}" if i % 5 else None for i in range(3000)]),
    pa.array([i * 10**9 + 7 for i in range(3000)], pa.timestamp("ns", tz="Europe/Paris")),
    pa.array([decimal.Decimal(i).scaleb(-3) if i % 3 else None for i in range(3000)], pa.decimal128(20, 6)),
    pa.array([[i, None] for i in range(3000)]),
    pa.nulls(3000),
]


@pytest.mark.parametrize("array", _SELECTABLE, ids=lambda a: str(a.type))
@pytest.mark.parametrize("count", [0, 3, 1024, 1025, 2500])  # by slices up to 1,024 positions, then by take
def test_taking_and_missing_values_equal_arrows_own(array: pa.Array, count: int) -> None:
    sliced = array.slice(11)  # an offset into the buffers
    positions = np.random.default_rng(count).integers(0, len(sliced), count)
    taken = take(sliced, positions)
    assert taken.type == sliced.type and taken.equals(sliced.take(pa.array(positions)))
    assert missing(sliced).tolist() == sliced.is_null().to_pylist()


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("start", [0, 3, 9])  # offsets into the buffers, within and across a bitmap byte
def test_blank_strings_become_missing_and_nothing_else_changes(kind: pa.DataType, start: int) -> None:
    texts = ["a", "", None, "NA", " ", "", "bb", None, "", "c", "", "dd", ""]
    array = pa.array(texts, kind).slice(start)
    expected = pc.if_else(pc.equal(array, ""), pa.nulls(1, kind)[0], array)
    result = blanks_to_nulls(array)
    assert result.type == kind and result.to_pylist() == expected.to_pylist()
    assert result.null_count == expected.null_count
    assert blanks_to_nulls(pa.array(["x", None], kind)).to_pylist() == ["x", None]


@pytest.mark.parametrize("kind", [pa.int8(), pa.uint16(), pa.int32(), pa.uint64(), pa.int64(), pa.date32()])
def test_integers_are_the_values_of_their_width_and_sign(kind: pa.DataType) -> None:
    values = [0, 1, 7, 100, 3, 1, 2]
    stored = pa.array(values, pa.int32() if kind == pa.date32() else kind)
    array = pa.Array.from_buffers(kind, len(values), stored.buffers()).slice(2)  # a date is its day number
    got = integers(array)
    assert got.dtype.itemsize * 8 == kind.bit_width and got.tolist() == values[2:]


@pytest.mark.parametrize("kind", [pa.list_view(pa.float64()), pa.large_list_view(pa.float64())], ids=str)
def test_list_views_become_lists_of_the_same_rows(kind: pa.DataType) -> None:
    rows = [[0.0, 1.0], None, [], [0.5, 0.5, 3.0]] * 700  # past 1,024 values: taken by pyarrow, not by slices
    views = pa.array(rows, kind)
    for column in (views, views.slice(3), views.slice(5, 7), pa.chunked_array([views.slice(0, 2), views.slice(2)])):
        lists = plain_column(column)
        for chunk in lists.chunks if isinstance(lists, pa.ChunkedArray) else [lists]:
            chunk.validate(full=True)
            assert not pa.types.is_list_view(chunk.type) and not pa.types.is_large_list_view(chunk.type)
        assert lists.to_pylist() == column.to_pylist()
