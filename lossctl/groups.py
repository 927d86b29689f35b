"""``--by`` groups: stable integer codes for the distinct key tuples seen across all chunks.

Each chunk's key column is dictionary-encoded by Arrow (its distinct values in order of first
appearance, and one index per row); only the distinct values meet the :class:`~lossctl.keys.KeyTable`
that numbers them across chunks, and the rows take their value's number by one gather. With several
``--by`` columns each column's values are numbered first, then the tuples of numbers. Codes are global
and follow the order in which keys first appear in the file, whatever the chunking.

A column whose values cannot be fingerprinted (decimals, lists...), or whose type widens in a later chunk
(integers in one block of a CSV file, floats or ``x`` in the next; a CSV beside a Parquet file), is numbered
by a Python dict of its values instead, compared as ``==`` compares them, in the type the chunks are joined in
when the whole input is read at once (:func:`~lossctl.io.parts.concat_parts`), the earlier values relabelled:
``1`` then ``1.5`` are ``1.0`` and ``1.5``, ``1`` then ``x`` are ``"1"`` and ``"x"`` (the same cell of the file,
and one group), at any chunk size.

An integer column whose values span a small range also keeps a lookup table from value to number: once
a chunk's values are all numbered, its rows take their numbers by one gather, without hashing a row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.arrow import equal_values, fixed_width, integers, missing, nans_to_nulls, take
from lossctl.errors import InputError, option
from lossctl.keys import KeyTable, Verify, arrow_values, exact_type, fingerprints, python_values, supported
from lossctl.text import show_name

if TYPE_CHECKING:
    import pyarrow as pa

# The fingerprint of a missing value; a value with the same fingerprint is told apart by verification.
_NULL_FINGERPRINT = np.uint64(0x6E756C6C6B657921)
# An integer column's value-to-number table spans at most this many values (4 MB of int32)...
_LOOKUP_SPAN = 1 << 20
# ...and serves up to this many groups: past it, each chunk's own distinct values keep its sums small.
_LOOKUP_GROUPS = 1 << 16


class _ColumnCoder:
    """Numbers the distinct values of one column across chunks: 0, 1, 2... in order of first appearance."""

    def __init__(self) -> None:
        self.values: list[Any] = []  # each number's value, as a Python object (the group's label)
        self._type: pa.DataType | None = None
        self._table = KeyTable()
        self._null = np.zeros(0, dtype=bool)  # whether each number is the missing value
        self._stored: pa.Array | None = None  # each number's value as Arrow, to compare hashed keys
        self._python: dict[Any, int] | None = None
        self.relabelled = False  # set when the earlier values were relabelled in a wider type; the caller clears it
        self._lookup: np.ndarray | None = None  # number of value base + i, or -1 (integer columns)
        self._base = 0
        self._lookup_open = True
        # The last dictionary :meth:`known` numbered, and its numbers: a Parquet file's batches repeat their row
        # group's dictionary, and comparing it costs a few microseconds where hashing it again cost 0.5 ms.
        self._last_known: tuple[pa.Array, np.ndarray] | None = None

    def numbers(self, dictionary: pa.Array) -> np.ndarray:
        """The number of each value of ``dictionary`` (distinct values, in order of first appearance)."""
        import pyarrow as pa

        if self._type is None:
            self._type = dictionary.type
            if not supported(dictionary.type):
                self._python = {}
        elif dictionary.type != self._type:
            dictionary = self._joined(dictionary)
        if self._python is not None:
            return self._python_numbers(python_values(dictionary))
        nulls = missing(dictionary)
        fps = fingerprints(dictionary)
        if nulls.any():
            fps = fps.copy()  # it may be a view of the Arrow buffer
            fps[nulls] = _NULL_FINGERPRINT
        numbers = self._table.add(fps, self._verify(dictionary, nulls))
        new = np.flatnonzero(numbers >= len(self.values))  # numbered in order of position
        if len(new) and len(new) != int(numbers.max()) + 1 - len(self.values):
            # A dictionary read from a file may hold one value twice: each new value once, at its first position.
            new = new[np.unique(numbers[new], return_index=True)[1]]
        if len(new):
            values = take(dictionary, new)
            self.values.extend(python_values(values))
            self._null = np.concatenate([self._null, nulls[new]])
            if not exact_type(values.type):
                self._stored = values if self._stored is None else pa.concat_arrays([self._stored, values])
        self._remember(dictionary, nulls, numbers)
        return numbers

    def _joined(self, dictionary: pa.Array) -> pa.Array:
        """``dictionary``, whose type is not that of the values numbered so far, in the type both are joined in
        when the whole input is read at once (:func:`~lossctl.io.parts.concat_parts`), the values numbered so far
        relabelled in it (keeping their numbers): integers then floats are floats (``1`` is ``1.0``), numbers then
        text are text (``1`` is ``"1"``: the same cell of a file), and text where a value does not fit (an
        integer beyond 2^53 beside floats). Where not even text holds both (lists beside numbers), the values are
        compared as ``==`` compares them."""
        import pyarrow as pa

        from lossctl.io.parts import common_type

        assert self._type is not None
        errors = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
        for kind in dict.fromkeys([common_type([self._type, dictionary.type]), pa.string()]):
            try:
                joined = dictionary.cast(kind)
                values = (
                    self.values
                    if kind == self._type
                    else python_values(arrow_values(self.values, self._type).cast(kind))
                )
            except errors:
                continue
            if kind != self._type:
                self._type, self.values, self.relabelled = kind, values, True
                self._python = {value: number for number, value in enumerate(values)}
                self._lookup, self._lookup_open = None, False  # it maps the earlier type's values
            return joined
        if self._python is None:
            self._python = {value: number for number, value in enumerate(self.values)}
        return dictionary

    def looked_up(self, array: pa.Array) -> np.ndarray | None:
        """The number of each row of an integer ``array`` by its lookup table, when every value has one."""
        if self._lookup is None or array.type != self._type or array.null_count or not len(array):
            return None
        # Values and base lie within +-2**62 (_remember), so a value below the base wraps past the table.
        offsets = (integers(array).astype(np.int64, copy=False) - self._base).view(np.uint64)
        if offsets.max() >= len(self._lookup):
            return None
        numbers = np.take(self._lookup, offsets)
        return None if numbers.min() < 0 else numbers

    def _remember(self, dictionary: pa.Array, nulls: np.ndarray, numbers: np.ndarray) -> None:
        """Enter an integer dictionary's values in the lookup table while their span and the groups stay
        small; past either, the table is dropped for good."""
        import pyarrow as pa

        if not self._lookup_open or not pa.types.is_integer(dictionary.type) or not len(numbers) or nulls.any():
            return  # a chunk with missing keys is looked up the slow way; its values can enter later
        values = integers(dictionary).astype(np.int64)  # uint64 past 2**62 closes it below
        low, high = int(values.min()), int(values.max())
        if self._lookup is not None:
            low, high = min(low, self._base), max(high, self._base + len(self._lookup) - 1)
        if (
            self._python is not None
            or len(self.values) > _LOOKUP_GROUPS
            or high - low >= _LOOKUP_SPAN
            or not -(1 << 62) < low <= high < 1 << 62
            or (pa.types.is_unsigned_integer(dictionary.type) and dictionary.type.bit_width == 64 and values.min() < 0)
        ):
            self._lookup, self._lookup_open = None, False
            return
        lookup = np.full(high - low + 1, -1, dtype=np.int32)
        if self._lookup is not None:
            lookup[self._base - low : self._base - low + len(self._lookup)] = self._lookup
        lookup[values - low] = numbers
        self._lookup, self._base = lookup, low

    def known(self, dictionary: pa.Array) -> np.ndarray | None:
        """The numbers of ``dictionary``'s values when every one is numbered already (then their order does
        not matter), else ``None``."""
        if self._python is not None or dictionary.type != self._type or dictionary.null_count:
            return None
        if self._last_known is not None and self._last_known[0].equals(dictionary):
            return self._last_known[1]
        fps = fingerprints(dictionary)
        numbers = self._table.find(fps, self._verify(dictionary, np.zeros(len(dictionary), dtype=bool)))
        if (numbers < 0).any():
            return None
        numbers.flags.writeable = False
        self._last_known = (dictionary, numbers)
        return numbers

    def _python_numbers(self, values: list[Any]) -> np.ndarray:
        assert self._python is not None
        numbers = np.empty(len(values), dtype=np.int64)
        for i, value in enumerate(values):
            number = self._python.setdefault(value, len(self.values))
            if number == len(self.values):
                self.values.append(value)
            numbers[i] = number
        return numbers

    def _verify(self, batch: pa.Array, nulls: np.ndarray) -> Verify | None:
        """Whether keys with equal fingerprints are equal: both missing, or both present and (hashed types)
        the same bytes. ``None`` when equal fingerprints suffice: exact types, and no missing value yet."""
        hashed = not exact_type(batch.type)
        if not hashed and not nulls.any() and not self._null.any():
            return None
        import pyarrow as pa

        def verify(queries: np.ndarray, others: np.ndarray, committed: np.ndarray) -> np.ndarray:
            left_null = nulls[queries]
            right_null = np.empty(len(queries), dtype=bool)
            right_null[committed] = self._null[others[committed]]
            right_null[~committed] = nulls[others[~committed]]
            equal = left_null == right_null
            both = np.flatnonzero(~left_null & ~right_null)
            if hashed and len(both):
                stored, fresh = both[committed[both]], both[~committed[both]]
                right = [take(batch, others[fresh])]
                if len(stored):
                    assert self._stored is not None
                    right.insert(0, take(self._stored, others[stored]))
                order = np.concatenate([stored, fresh])
                equal[order] = equal_values(take(batch, queries[order]), pa.concat_arrays(right))
            return equal

        return verify


class GroupCoder:
    """Gives each distinct combination of the ``by`` columns' values a code, in order of first appearance.

    Codes are global: the same key gets the same code in every chunk, so per-group statistics of
    different chunks can be merged. A missing value is a group of its own (``None``). Past ``limit``
    groups (what fits in memory), :meth:`codes` raises the :class:`InputError` ``too_many(groups)`` says.
    ``queries``: the columns are query ids (a ranking loss's ``qid``), not ``--by`` keys, as messages say.
    """

    def __init__(
        self,
        by: list[str],
        limit: int | None = None,
        too_many: Callable[[int], str] | None = None,
        *,
        queries: bool = False,
    ) -> None:
        self.by = by
        self._queries = queries
        self.keys: list[tuple[Any, ...]] = []
        self._columns = [_ColumnCoder() for _ in by]
        self._tuples = KeyTable()
        self._tuple_numbers = np.zeros((0, len(by)), dtype=np.int64)  # each code's column numbers
        self._limit = limit
        self._too_many = too_many

    def codes(self, batch: pa.RecordBatch) -> tuple[np.ndarray, np.ndarray]:
        """The groups of ``batch``'s rows as ``(local, codes)``: each row's index into ``codes``, the global
        codes of the batch's distinct keys (``codes[local]`` is each row's code; ``local`` spans a small range
        when there are few groups, which makes it cheap to sort)."""
        import pyarrow as pa

        if len(self.by) == 1:
            column = _float_keys(self.by[0], batch.column(self.by[0]), self._queries)
            known = self._known(column)
            if known is not None:
                return _distinct(*known)
            numbers = None if isinstance(column, pa.ChunkedArray) else self._columns[0].looked_up(column)
            if numbers is not None:
                return numbers, np.arange(len(self.keys))
            local, dictionary = _dictionary(column)
            codes = self._columns[0].numbers(dictionary)
            self._relabel()
            self.keys.extend((value,) for value in self._columns[0].values[len(self.keys) :])
            if pa.types.is_dictionary(column.type):
                local, codes = _distinct(local, codes)
        else:
            per_column = []
            for name, coder in zip(self.by, self._columns, strict=True):
                indices, dictionary = _dictionary(_float_keys(name, batch.column(name), self._queries))
                per_column.append(coder.numbers(dictionary)[indices])
            self._relabel()
            codes = self._tuple_codes(np.column_stack(per_column))
            local = codes
            codes = np.arange(len(self.keys))
        if self._limit is not None and len(self.keys) > self._limit:
            raise InputError(self._too_many(len(self.keys)) if self._too_many else f"too many groups: {len(self.keys)}")
        return local, codes

    def _relabel(self) -> None:
        """The keys seen so far again, from their columns' values, when a column relabelled its values as text."""
        if not any(coder.relabelled for coder in self._columns):
            return
        for coder in self._columns:
            coder.relabelled = False
        if len(self.by) == 1:  # one column: its values' numbers are the codes
            self.keys = [(value,) for value in self._columns[0].values[: len(self.keys)]]
            return
        self.keys = [
            tuple(coder.values[n] for coder, n in zip(self._columns, row, strict=True))
            for row in self._tuple_numbers.tolist()
        ]

    def _known(self, column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
        """A dictionary column whose values all have codes: its own indices and their codes, as they are."""
        import pyarrow as pa

        if isinstance(column, pa.ChunkedArray) or not pa.types.is_dictionary(column.type) or column.null_count:
            return None
        codes = self._columns[0].known(column.dictionary)
        return None if codes is None else (_indices(column.indices), codes)

    def _tuple_codes(self, numbers: np.ndarray) -> np.ndarray:
        """Number the rows' tuples of column numbers: hashed into 64 bits, equal hashes verified."""
        packed = np.zeros(len(numbers), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for column in numbers.T:
                packed = (packed ^ column.astype(np.uint64)) * np.uint64(0x100000001B3)

        def verify(queries: np.ndarray, others: np.ndarray, committed: np.ndarray) -> np.ndarray:
            right = np.empty((len(others), numbers.shape[1]), dtype=np.int64)
            right[committed] = self._tuple_numbers[others[committed]]
            right[~committed] = numbers[others[~committed]]
            return (numbers[queries] == right).all(axis=1)

        codes = self._tuples.add(packed, verify)
        known = len(self.keys)
        # New codes are numbered in order of first row: a row is a first occurrence when its code is new and
        # above every code before it.
        seen = np.maximum.accumulate(np.concatenate([[known - 1], codes[:-1]]))
        first = np.flatnonzero(codes > seen)
        self._tuple_numbers = np.concatenate([self._tuple_numbers, numbers[first]])
        for row in numbers[first].tolist():
            self.keys.append(tuple(coder.values[n] for coder, n in zip(self._columns, row, strict=True)))
        return codes

    def label(self, code: int) -> dict[str, Any]:
        return dict(zip(self.by, self.keys[code], strict=True))


def _distinct(local: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(local, codes)`` with each code once. A dictionary column read from a file (Arrow IPC, Parquet) may hold one
    value twice: its two entries have one code, and the engine, which sums each entry's rows and stores the sums
    under its code, kept only one entry's. The rows of both entries are given one local number instead."""
    if len(codes) < 2:
        return local, codes
    positions = np.arange(len(codes))
    owner = np.zeros(int(codes.max()) + 1, dtype=np.int64)
    owner[codes] = positions  # the last entry of each code
    kept = owner[codes]
    if (kept == positions).all():
        return local, codes
    distinct = np.flatnonzero(kept == positions)
    renumber = np.zeros(len(codes), dtype=np.int32)
    renumber[distinct] = np.arange(len(distinct), dtype=np.int32)
    return renumber[kept][local], codes[distinct]


def _float_keys(name: str, column: pa.Array | pa.ChunkedArray, queries: bool) -> pa.Array | pa.ChunkedArray:
    """A float key column (a float16 one as float32) with its NaNs made missing: NaN is a missing value (docs/cli.md),
    so it joins the missing key's group (JSON has no NaN to name a group of its own by). -0.0 is made 0.0: one key.
    An infinite key is an input error, as an infinite value is in any column. A column of lists (or structs, maps)
    has no keys to group by: an input error too. Messages name the column's use: a ``--by`` key, or a query id
    (``queries``)."""
    import pyarrow as pa

    use, key = ("qid", "query id") if queries else (option("by"), "key")
    if pa.types.is_nested(column.type):
        fix = "give query ids as" if queries else "group by a column of"
        raise InputError(
            f"column '{show_name(name)}' ({use}) holds nested values ({column.type}), not one {key} per row; "
            f"{fix} text, numbers, booleans or dates"
        )
    if pa.types.is_float16(column.type):  # as the float32 holding each half exactly: the same keys, made one below
        column = column.cast(pa.float32())
    if not (pa.types.is_float32(column.type) or pa.types.is_float64(column.type)):
        return column
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    values = fixed_width(column, np.float32 if pa.types.is_float32(column.type) else np.float64)
    infinite = np.isinf(values) & ~missing(column)
    if infinite.any():
        raise InputError(
            f"column '{show_name(name)}' ({use}) holds the {key} {values[infinite][0]:g}; "
            "infinite values are always an error"
        )
    if np.signbit(values[values == 0]).any():
        # -0.0 is the key 0.0 (== and the fingerprints say so), but Arrow's dictionary of the column would hold both:
        # two entries with one group number, whose rows were then summed into the group only once.
        column = pa.array(values + 0.0, mask=missing(column))
    return nans_to_nulls(column)


def _dictionary(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Each row's index into the column's distinct values (a missing value is one of them), and the values
    in order of first appearance.

    A column read as a dictionary (Parquet text, :meth:`~lossctl.io.readers.Source.batches`) keeps its
    indices, which saves hashing every row's string; its dictionary is put in order of first appearance
    (and cut to the values used) by one reversed scatter of the row positions.
    """
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type) and column.null_count:
        column = column.dictionary_decode()
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode(null_encoding="encode")  # first-appearance order, nulls one entry
        return _indices(column.indices), column.dictionary
    indices = _indices(column.indices)
    first = np.full(len(column.dictionary), len(indices), dtype=np.int64)
    first[indices[::-1]] = np.arange(len(indices) - 1, -1, -1)  # NumPy assigns in order: the last write, the
    used = np.flatnonzero(first < len(indices))  # smallest position, stays
    order = used[np.argsort(first[used], kind="stable")]
    renumber = np.empty(len(column.dictionary), dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    return renumber[indices], take(column.dictionary, order)


def _indices(indices: pa.Array) -> np.ndarray:
    """Dictionary indices as int32 NumPy (widened from narrower index types)."""
    width = indices.type.bit_width // 8
    values = np.frombuffer(indices.buffers()[1], dtype=f"<i{width}", count=len(indices), offset=indices.offset * width)
    return values.astype(np.int32, copy=False)
