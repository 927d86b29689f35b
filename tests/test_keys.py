"""Keys to integers (lossctl/keys.py, lossctl/groups.py): the vectorized hash tables against Python dicts."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from lossctl.groups import GroupCoder
from lossctl.keys import KeyTable, RowIndex, fingerprints, value_of


def _first_numbers(values: list[Any]) -> list[int]:
    """Each value's number in order of first appearance (the reference)."""
    numbers: dict[Any, int] = {}
    return [numbers.setdefault(value, len(numbers)) for value in values]


@pytest.mark.parametrize("distinct", [1, 7, 300])
def test_key_table_numbers_keys_in_order_of_first_appearance_across_batches(distinct: int) -> None:
    rng = np.random.default_rng(distinct)
    values = rng.integers(-distinct, distinct, 2000)
    table = KeyTable()
    numbers = np.concatenate([table.add(fingerprints(pa.array(part))) for part in np.array_split(values, 13)])
    assert numbers.tolist() == _first_numbers(values.tolist())
    assert len(table) == len(set(values.tolist()))
    probe = np.arange(-distinct - 3, distinct + 3)
    known = dict(zip(values.tolist(), numbers.tolist(), strict=True))
    assert table.find(fingerprints(pa.array(probe))).tolist() == [known.get(v, -1) for v in probe.tolist()]


def test_equal_hashes_are_told_apart_by_verification() -> None:
    """Every key gets the same fingerprint: only the verification separates them, and the answers still hold."""
    values = [f"key{i % 11}" for i in range(200)]

    def same(queries: np.ndarray, others: np.ndarray, committed: np.ndarray) -> np.ndarray:
        stored = list(dict.fromkeys(values))
        return np.array(
            [values[q] == (stored[o] if c else values[o]) for q, o, c in zip(queries, others, committed, strict=True)]
        )

    numbers = KeyTable().add(np.zeros(len(values), dtype=np.uint64), same)
    assert numbers.tolist() == _first_numbers(values)
    index = RowIndex([np.zeros(len(values), dtype=np.uint64)], same)
    first_row = {value: values.index(value) for value in values}
    assert index.repeated().tolist() == [i for i, value in enumerate(values) if first_row[value] != i]


@pytest.mark.parametrize("scale", [1, 10**9], ids=["dense", "hashed"])
def test_row_index_claims_each_key_once(scale: int) -> None:
    """Integers in a narrow range sit at their offset; others are hashed: the same answers either way."""
    keys = np.array([14, 11, 13, 10, 12], dtype=np.int64) * scale
    index = RowIndex(np.array_split(keys.view(np.uint64), 2), integers=True)
    assert index.repeated().size == 0
    asked = np.array([13, 99, 13, 10], dtype=np.int64) * scale
    rows, repeats = index.claim(asked.view(np.uint64), np.arange(4))
    assert rows.tolist() == [2, -1, -1, 3] and repeats.tolist() == [False, False, True, False]
    rows, repeats = index.claim((np.array([10, 14], dtype=np.int64) * scale).view(np.uint64), np.arange(4, 6))
    assert rows.tolist() == [-1, 0] and repeats.tolist() == [True, False]
    assert index.unclaimed().tolist() == [1, 4]


@pytest.mark.parametrize(
    "array",
    [
        pa.array([3, -7, 2**40], pa.int64()),
        pa.array([3, 200], pa.uint8()),
        pa.array([0.5, -0.0, float("nan")]),
        pa.array([True, False]),
        pa.array([datetime.date(2024, 2, 29), datetime.date(1969, 7, 20)]),
        pa.array([datetime.datetime(2024, 1, 1, 12, 30)], pa.timestamp("ms")),
    ],
)
def test_exact_fingerprints_give_the_value_back(array: pa.Array) -> None:
    expected = [v + 0.0 if isinstance(v, float) else v for v in array.to_pylist()]  # -0.0 is fingerprinted as 0.0
    got = [value_of(fp, array.type) for fp in fingerprints(array)]
    assert [str(g) for g in got] == [str(e) for e in expected]


def test_text_fingerprints_depend_on_every_byte_and_the_length() -> None:
    texts = ["", "a", "b", "ab", "ba", "a\x00", "\x00a", "abc" * 100, "abc" * 100 + "d"]
    assert len(set(fingerprints(pa.array(texts)).tolist())) == len(texts)
    sliced = pa.array(["x", *texts])[1:]  # an offset into the buffers
    assert fingerprints(sliced).tolist() == fingerprints(pa.array(texts)).tolist()
    for kind in (pa.large_string(), pa.binary(), pa.large_binary()):  # the same bytes, the same fingerprints
        assert fingerprints(pa.array(texts, kind)).tolist() == fingerprints(pa.array(texts)).tolist()


def _columns() -> list[pa.Array]:
    rng = np.random.default_rng(5)
    v = rng.integers(0, 6, 400)
    return [
        pa.array(v),
        pa.array([f"s{x}" if x else None for x in v]),
        pa.array([float(x) if x != 3 else None for x in v]),
        pa.array([bool(x % 2) if x else None for x in v]),
        pa.array([datetime.date(2020, 1, 1 + int(x)) for x in v]),
        pa.array([f"s{x}" for x in v]).dictionary_encode(),
    ]


@pytest.mark.parametrize("kinds", [[0], [1], [2], [3], [4], [5], [1, 4], [0, 2, 3]])
@pytest.mark.parametrize("chunk", [1, 37, 400])
def test_group_codes_are_global_and_follow_first_appearance(kinds: list[int], chunk: int) -> None:
    """Any key type, nulls a group of their own, several columns: codes do not depend on the chunking."""
    columns = [_columns()[k] for k in kinds]
    rng = np.random.default_rng(chunk)
    shuffled = [column.take(pa.array(rng.permutation(len(column)))) for column in columns]
    table = pa.table({f"c{i}": column for i, column in enumerate(shuffled)})
    coder = GroupCoder(table.column_names)
    codes = []
    for batch in table.to_batches(max_chunksize=chunk):
        local, numbers = coder.codes(batch)
        codes.append(numbers[local])
    rows = list(zip(*(column.to_pylist() for column in shuffled), strict=True))
    assert np.concatenate(codes).tolist() == _first_numbers(rows)
    assert coder.keys == list(dict.fromkeys(rows))


def test_a_column_turning_to_text_between_chunks_is_numbered_by_its_text() -> None:
    """A CSV block of integers, then one of text: ``2`` and ``"2"`` are the same cell text, one group, and the
    earlier keys are relabelled as text, as when the whole file is read at once."""
    coder = GroupCoder(["g"])
    first = coder.codes(pa.record_batch({"g": pa.array([1, 2, 1])}))
    second = coder.codes(pa.record_batch({"g": pa.array(["x", "2"])}))
    third = coder.codes(pa.record_batch({"g": pa.array([3, 1])}))
    assert [n[loc].tolist() for loc, n in (first, second, third)] == [[0, 1, 0], [2, 1], [3, 0]]
    assert coder.keys == [("1",), ("2",), ("x",), ("3",)]


def test_a_column_whose_type_changes_between_chunks_is_numbered_in_the_joined_type() -> None:
    """Integers, then floats: the numbering goes on in the type the chunks are joined in when read at once
    (floats: ``1`` is ``1.0``); integers then text, even text that casts to them (``"7"``), are text, as
    :func:`~lossctl.io.parts.concat_parts` makes them. The keys were ``(1, 7)``: the first chunk's types, so
    one chunk of the same rows gave ``(1.0, '7')``."""
    coder = GroupCoder(["g", "h"])
    first = coder.codes(pa.record_batch({"g": pa.array([1, 2, 1]), "h": pa.array([7, 7, 7])}))
    second = coder.codes(pa.record_batch({"g": pa.array([2.5, 2.0]), "h": pa.array(["7", "7"])}))
    assert [n[loc].tolist() for loc, n in (first, second)] == [[0, 1, 0], [2, 1]]
    assert coder.keys == [(1.0, "7"), (2.0, "7"), (2.5, "7")]
    whole = GroupCoder(["g", "h"])
    whole.codes(pa.record_batch({"g": pa.array([1.0, 2.0, 1.0, 2.5, 2.0]), "h": pa.array(["7"] * 5)}))
    assert [[type(v) for v in key] for key in whole.keys] == [[type(v) for v in key] for key in coder.keys]


_LATE = [[5, 7, 5], [7, 6, 5], [2, 5], [-3, 5, 9], [1, None, 1], [1, -3, 9, 6]]
_WIDE = [[0, 1, 0], [1, 0], [1 << 21, 0], [0, 1, 1 << 21]]
_ENDS = [[(1 << 62) - 5, (1 << 62) - 2], [(1 << 62) - 6], [-(1 << 63), (1 << 62) - 5], [(1 << 63) - 1, -(1 << 63)]]
_HIGH = [[3, 4], [(1 << 62) - 1, 3], [-(1 << 63), 4, 3]]
_UNSIGNED = [[3, 4], [(1 << 64) - 1, 3], [(1 << 63) + 3, 4, 3], [2, (1 << 62) + 1]]


@pytest.mark.parametrize(
    ("batches", "kind"),
    [
        # values below and above the table's range arrive late; a chunk with a missing key in between
        (_LATE, pa.int64()),
        (_LATE, pa.int32()),
        # the range grows past the table's span (2**20): numbered the hashed way from then on
        (_WIDE, pa.int64()),
        (_WIDE, pa.uint64()),
        # the ends of int64: a value below the base must not wrap into the table
        (_ENDS, pa.int64()),
        (_HIGH, pa.int64()),
        # uint64 past 2**63 reads as a negative int64: it must not land in the table
        (_UNSIGNED, pa.uint64()),
    ],
)
def test_integer_keys_looked_up_by_value_keep_their_first_appearance_numbers(
    batches: list[list[int | None]], kind: pa.DataType
) -> None:
    """The lookup table of an integer column (a gather once every value is numbered) gives the numbers the
    hashed path gives, whatever the values' order, range and type."""
    arrays = [pa.array(values, kind) for values in batches]
    coder = GroupCoder(["g"])
    codes = []
    for _ in range(2):  # the second pass finds every value in the table
        for array in arrays:
            local, numbers = coder.codes(pa.record_batch({"g": array}))
            codes.append(numbers[local])
    rows = [(v,) for array in arrays for v in array.to_pylist()] * 2
    assert np.concatenate(codes).tolist() == _first_numbers(rows)
    assert coder.keys == list(dict.fromkeys(rows))


def test_a_nanosecond_time_of_day_keeps_its_nanoseconds() -> None:
    # pyarrow's as_py cut time64[ns] keys to the microsecond: 1 ns and 2 ns were both datetime.time(0, 0).
    import pickle

    from lossctl.keys import arrow_values, python_values

    array = pa.array([1, 2, 1000, None], pa.time64("ns"))
    one, two, micro, missing = python_values(array)
    shown = ["00:00:00.000000001", "00:00:00.000000002", "00:00:00.000001", None]
    assert [str(one), str(two), str(micro), missing] == shown
    assert one != two and one < two and len({one, two, micro}) == 3
    assert micro == datetime.time(0, 0, 0, 1) and hash(micro) == hash(datetime.time(0, 0, 0, 1))
    assert one != datetime.time(0, 0) and pickle.loads(pickle.dumps(two)) == two
    assert value_of(fingerprints(array)[1], array.type) == two
    assert arrow_values([one, two, micro, None], array.type).equals(array)
