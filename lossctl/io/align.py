"""Joining a predictions table with a separate targets table (``--targets PATH``, ``--on KEY``).

The result always follows the predictions: same rows, same order, so that row numbers in messages and
``--per-sample`` output refer to the predictions file. The predictions are streamed: :class:`Join` holds
the targets (their columns and an index of their keys, :class:`~lossctl.keys.RowIndex`) and attaches
each predictions batch's targets as it passes, so memory holds the targets file, never the predictions.

Problems found on the way (missing keys, repeated keys, keys without a target) are counted over the
whole predictions stream and reported at its end, as one error naming the count and the first value;
no more batches are passed on after the first one. Target rows no prediction claimed are an error at the
end too. With ``--missing drop``, prediction rows without a partner get missing targets instead and are marked
in the column :data:`NO_PARTNER` (the engine drops them and counts them apart from rows with missing values),
target rows without one are left out, and notices count both.

Without a key, rows are aligned by order, which goes silently wrong when the files are sorted differently:
so a column both files hold with integer or text values (a likely key, ``id``; ``1`` equals ``"1"``) must
then be equal row by row.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from lossctl.arrow import booleans, equal_values, missing, to_arrow
from lossctl.errors import InputError, UsageError, option
from lossctl.io.columns import column_not_found
from lossctl.io.convert import is_vector_column
from lossctl.io.parts import as_instants
from lossctl.keys import (
    EMPTY,
    RowIndex,
    Verify,
    combined_fingerprints,
    exact_type,
    fingerprints,
    python_values,
    value_of,
)
from lossctl.options import JoinKey
from lossctl.prefetch import prefetch
from lossctl.text import count, show_name, shown_value

if TYPE_CHECKING:
    from lossctl.io.readers import Source


# The column, added to each joined batch with ``--missing drop``, that is true in the rows without a partner in
# the other file (their columns from it are missing). No file's column can have this name: it holds a NUL.
NO_PARTNER = "\0no partner"


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


def _text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _decoded(kind: pa.DataType) -> pa.DataType:
    """The type of a key's values: a dictionary-encoded column (a pandas Categorical) compares by its values."""
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _common_type(left: pa.DataType, right: pa.DataType, what: str, preds_name: str, targets_name: str) -> pa.DataType:
    """The type both keys are compared in: numbers widen (an int64 id matches 7.0), text matches text, and
    integers and dates match text by their text form (``7`` matches ``"7"``, as JSON Lines often writes ids;
    the date ``2024-01-31`` of a CSV file matches a Parquet file's text ``"2024-01-31"``), and a date matches
    the timestamp of its midnight; timestamps of different time zones match as instants in UTC
    (:func:`~lossctl.io.parts.as_instants`: ``01:00+01:00`` matches ``00:00Z``).

    Only the text form: ``007`` and ``7`` are different ids, and reading text as numbers would join rows
    silently and wrongly. A column of lists, structs or maps holds no key: an input error naming it.
    """
    for kind, name in ((left, preds_name), (right, targets_name)):
        if pa.types.is_nested(_decoded(kind)):
            raise InputError(
                f"{what} holds nested values ({_decoded(kind)}) in {name}, not one key per row; join on a column of "
                "text, numbers, booleans or dates"
            )
    left, right = as_instants([_decoded(left), _decoded(right)])
    if left == right:
        return left
    if pa.types.is_integer(left) and pa.types.is_integer(right):
        return _integers(left, right)
    if _text(left) or _text(right):
        for written_as_text in (pa.types.is_integer, pa.types.is_date):
            if all(_text(kind) or written_as_text(kind) for kind in (left, right)):
                return pa.large_string()
    stamps = [kind for kind in (left, right) if pa.types.is_timestamp(kind) and kind.tz is None]
    if len(stamps) == 1 and any(pa.types.is_date(kind) for kind in (left, right)):
        return stamps[0]  # JSON Lines reads "2024-01-31" as a timestamp, CSV as a date: its midnight
    unified = None
    if pa.types.is_decimal(left) == pa.types.is_decimal(right):  # a decimal and a number: no exact common type
        try:
            schemas = [pa.schema([("k", left)]), pa.schema([("k", right)])]
            unified = pa.unify_schemas(schemas, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    if unified is None:
        raise InputError(
            f"{what} is {left} in {preds_name} but {right} in {targets_name}; the keys cannot be matched: "
            "write them with one type in both files (integers or text)"
        )
    return unified.field("k").type


def _integers(left: pa.DataType, right: pa.DataType) -> pa.DataType:
    """The type two integer columns compare in exactly: int64, or uint64 when both are unsigned and one is uint64;
    their text form (``7`` is ``"7"``) when one is uint64 and the other signed, as no integer type holds both (Arrow
    widens them to int64, which refuses uint64 ids past 2^63, and double rounds those past 2^53 into one another)."""
    if not (pa.types.is_uint64(left) or pa.types.is_uint64(right)):
        return pa.int64()
    if pa.types.is_unsigned_integer(left) and pa.types.is_unsigned_integer(right):
        return pa.uint64()
    return pa.large_string()


def _as_key(column: pa.Array | pa.ChunkedArray, kind: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """A key column in the type keys compare in; decimals (``decimal(38, 0)`` ids) as the text of that one decimal
    type, which is exact and which the key index hashes (``1.10`` of ``decimal(5, 2)`` matches ``1.100`` of
    ``decimal(6, 3)``: both are ``1.100`` in the common type); a float key's NaNs missing (:func:`_nan_as_missing`)."""
    column = column if column.type == kind else column.cast(kind)
    return column.cast(pa.large_string()) if pa.types.is_decimal(kind) else _nan_as_missing(column)


def _nan_as_missing(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A key column with its NaNs made missing (null): a NaN is a missing value (docs/cli.md, "Input"), so a row
    whose float key is NaN has no key, and matches no other NaN. A pass over float keys only."""
    if not pa.types.is_floating(column.type):
        return column
    import pyarrow.compute as pc

    nan = pc.is_nan(column)
    return pc.if_else(nan, pa.scalar(None, column.type), column) if pc.any(nan).as_py() else column


def _cast(column: pa.Array, kind: pa.DataType, what: str, preds_name: str, targets_name: str) -> pa.Array:
    """A predictions key column in the type the targets' keys are compared in (:func:`_as_key`)."""
    try:
        return _as_key(column, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        _common_type(column.type, kind, what, preds_name, targets_name)
        raise InputError(f"{what} in {preds_name}: {error}") from error


def _target_key(column: pa.ChunkedArray, kind: pa.DataType, what: str, targets_name: str) -> pa.ChunkedArray:
    """A targets key column in the type it is compared in (:func:`_as_key`); a value that type does not hold (an
    int64 id past 2^53 beside a float key) is an input error naming the targets file."""
    try:
        return _as_key(column, kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise InputError(f"{what} in {targets_name}: {error}") from error


def _null_error(what: str, name: str, nulls: int, first: int, predictions: bool = False) -> InputError:
    """``nulls`` rows without a key, ``first`` the first of them; rows of the ``predictions`` or of the targets',
    whose file the run names when they are several files (:func:`~lossctl.io.readers.naming_files`)."""
    return InputError(
        f"{what} has {count(nulls, 'missing value')} in {name} (first: row {first}); {_drop_them()}",
        row=first,
        rows_of="data" if predictions else "targets",
    )


def _duplicate_error(
    what: str, name: str, count: int, first: object, row: int, predictions: bool = False
) -> InputError:
    """``count`` rows repeat a key of an earlier row; ``row`` is the first of them, which holds ``first``; rows of the
    ``predictions`` or of the targets' (:func:`_null_error`)."""
    return InputError(
        f"{what} has {count} duplicate {'value' if count == 1 else 'values'} in {name} (first: {shown_value(first)} "
        f"at row {row}); each row needs a distinct key",
        row=row,
        rows_of="data" if predictions else "targets",
    )


def _flat(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _verify(left: pa.Array, right: pa.Array) -> Verify | None:
    """Exact comparison behind equal fingerprints of hashed keys (strings): ``left[queries] == right[others]``."""
    if exact_type(left.type):
        return None

    def verify(queries: np.ndarray, others: np.ndarray, committed: np.ndarray) -> np.ndarray:
        return equal_values(left.take(to_arrow(queries)), right.take(to_arrow(others)))

    return verify


def _values_at(columns: Sequence[pa.Array | pa.ChunkedArray], row: int) -> object:
    """The key of one row for a message: its value, or the tuple of a composite key's values."""
    values = tuple(python_values(column.slice(row, 1))[0] for column in columns)
    return values[0] if len(values) == 1 else values


class _Composite:
    """Several key columns as one key. Each column's values become exact integers (numbers and dates their
    fingerprints, text its position among the targets' distinct values); when the columns' ranges multiply to
    less than 2^62 (ids and a few regions, dates...), the key is their mixed-radix number, an exact integer key
    like a single column's; else one hashed fingerprint per row (:func:`~lossctl.keys.combined_fingerprints`),
    a match confirmed by comparing the integers column by column.

    Text is dictionary-encoded batch by batch (in Arrow's C++), so each distinct value of a batch is looked up
    once in the index of the targets' distinct values, not once per row.
    """

    def __init__(self, columns: list[pa.ChunkedArray]) -> None:
        self._text: dict[int, tuple[pa.Array, RowIndex]] = {}  # column -> the targets' distinct values, indexed
        self._held: list[np.ndarray] = []
        self._kinds = [chunked.type for chunked in columns]
        for i, chunked in enumerate(columns):
            column = _flat(chunked)
            if exact_type(column.type):
                self._held.append(fingerprints(column))
                continue
            encoded = column.dictionary_encode()
            distinct = encoded.dictionary
            self._text[i] = (distinct, RowIndex([fingerprints(distinct)], _verify(distinct, distinct)))
            self._held.append(fingerprints(encoded.indices))
        self._radix = self._mixed_radix(self._held)
        self.exact = self._radix is not None
        self.target_fps = self._combined(self._held)

    def values_at(self, row: int) -> tuple[object, ...]:
        """The key of target row ``row`` for a message, from the integers held (the key columns are released)."""
        return tuple(
            self._text[i][0][int(held[row])].as_py() if i in self._text else value_of(held[row], kind)
            for i, (held, kind) in enumerate(zip(self._held, self._kinds, strict=True))
        )

    @staticmethod
    def _mixed_radix(held: list[np.ndarray]) -> list[tuple[int, int, int]] | None:
        """Each column's ``(minimum, maximum, stride)`` when every key fits in one number below 2^62."""
        radix, stride = [], 1
        for values in reversed(held):
            signed = values.view(np.int64)
            low, high = (int(signed.min()), int(signed.max())) if len(signed) else (0, 0)
            radix.append((low, high, stride))
            stride *= high - low + 1
            if stride >= 2**62:
                return None
        return radix[::-1]

    def _combined(self, exact: list[np.ndarray]) -> np.ndarray:
        if self._radix is None:
            return combined_fingerprints(exact)
        number = np.zeros(len(exact[0]), dtype=np.int64)
        outside = np.zeros(len(exact[0]), dtype=bool)
        for values, (low, high, stride) in zip(exact, self._radix, strict=True):
            digit = np.subtract(values.view(np.int64), low)
            outside |= digit.view(np.uint64) > np.uint64(high - low)  # below low wraps around to a large number
            if stride != 1:
                digit *= stride
            number += digit
        number[outside] = -1  # no target's key has a value outside the targets' range
        return number.view(np.uint64)

    def _exact(self, i: int, column: pa.Array) -> np.ndarray:
        if i not in self._text:
            return fingerprints(column)
        distinct, index = self._text[i]
        encoded = column.dictionary_encode()
        positions = index.find(fingerprints(encoded.dictionary), _verify(encoded.dictionary, distinct))
        return positions[fingerprints(encoded.indices).view(np.int64)].view(np.uint64)  # absent: -1, no target's

    def target_verify(self) -> Verify | None:
        """Whether target rows ``queries`` and ``others`` hold the same key (the index's build; none is needed
        for mixed-radix keys, which are exact)."""
        return None if self.exact else self._verify(self._held)

    def keys(self, columns: list[pa.Array]) -> tuple[np.ndarray, Verify | None]:
        """The fingerprints of predictions rows' keys (no nulls), and their comparison with the targets'."""
        ours = [self._exact(i, column) for i, column in enumerate(columns)]
        return self._combined(ours), None if self.exact else self._verify(ours)

    def _verify(self, ours: list[np.ndarray]) -> Verify:
        def verify(queries: np.ndarray, others: np.ndarray, committed: np.ndarray) -> np.ndarray:
            same = np.ones(len(queries), dtype=bool)
            for left, right in zip(ours, self._held, strict=True):
                same &= left[queries] == right[others]
            return same

        return verify


class _Problems:
    """Missing, repeated and unmatched keys of the predictions, counted over the whole stream (a key is
    repeated when an earlier row has it and it is in the targets); with ``--missing drop``, also the rows whose
    key the targets file repeats (ambiguous: no target row of such a key is used)."""

    def __init__(self) -> None:
        self.nulls = 0
        self.first_null = -1
        self.repeats = 0
        self.first_repeat: tuple[int, object] | None = None
        self.unmatched = 0
        self.first_unmatched: tuple[int, object] | None = None
        self.ambiguous = 0
        self.first_ambiguous: tuple[int, object] | None = None

    def __bool__(self) -> bool:
        return bool(self.nulls or self.repeats or self.unmatched or self.ambiguous)

    def missing(self, positions: np.ndarray, rows: np.ndarray) -> None:
        if len(positions):
            if not self.nulls:
                self.first_null = int(rows[positions[0]])
            self.nulls += len(positions)

    def repeated(self, shown: Callable[[int], object], positions: np.ndarray, rows: np.ndarray) -> None:
        if len(positions):
            self.repeats += len(positions)
            if self.first_repeat is None or rows[positions[0]] < self.first_repeat[0]:
                self.first_repeat = (int(rows[positions[0]]), shown(int(positions[0])))

    def missing_target(self, shown: Callable[[int], object], positions: np.ndarray, rows: np.ndarray) -> None:
        if len(positions):
            self.unmatched += len(positions)
            if self.first_unmatched is None:
                self.first_unmatched = (int(rows[positions[0]]), shown(int(positions[0])))

    def repeated_target(self, shown: Callable[[int], object], positions: np.ndarray, rows: np.ndarray) -> None:
        if len(positions):
            self.ambiguous += len(positions)
            if self.first_ambiguous is None:
                self.first_ambiguous = (int(rows[positions[0]]), shown(int(positions[0])))

    def unmatched_text(self, key: JoinKey, preds_name: str, targets_name: str) -> str:
        assert self.first_unmatched is not None
        verb = "has" if self.unmatched == 1 else "have"
        return (
            f"{preds_name}: {_rows(self.unmatched)} {verb} a key {_named(key.preds)} that is not in {targets_name} "
            f"(first: {shown_value(self.first_unmatched[1])} at row {self.first_unmatched[0]})"
        )

    def error(self, key: JoinKey, preds_name: str, targets_name: str, drop: bool) -> InputError:
        """The first problem that stops the run: with ``drop``, only a repeated key (rows without a key or a
        partner are dropped then, not errors)."""
        if self.nulls and not drop:
            return _null_error(_what(key.preds), preds_name, self.nulls, self.first_null, predictions=True)
        if self.repeats:
            assert self.first_repeat is not None
            return _duplicate_error(
                _what(key.preds), preds_name, self.repeats, self.first_repeat[1], self.first_repeat[0], predictions=True
            )
        assert self.first_unmatched is not None
        text = self.unmatched_text(key, preds_name, targets_name)
        return InputError(f"{text}; {_drop_them()}", row=self.first_unmatched[0])

    def dropped(self, key: JoinKey, preds_name: str, targets_name: str) -> str:
        """The notice of ``--missing drop``: the rows without a partner, dropped and counted with the missing."""
        parts = [self.unmatched_text(key, preds_name, targets_name)] if self.unmatched else []
        if self.ambiguous:
            assert self.first_ambiguous is not None
            verb = "has" if self.ambiguous == 1 else "have"
            parts.append(
                f"{preds_name}: {_rows(self.ambiguous)} {verb} a key {_named(key.preds)} that {targets_name} repeats "
                f"(first: {shown_value(self.first_ambiguous[1])} at row {self.first_ambiguous[0]})"
            )
        if self.nulls:
            verb = "has" if self.nulls == 1 else "have"
            parts.append(f"{preds_name}: {_rows(self.nulls)} {verb} no key (first: row {self.first_null})")
        return "; ".join(parts) + f": {_dropped()}"


def _dropped() -> str:
    """How the notices of rows left out by ``--missing drop`` end."""
    return f"dropped ({option('missing', 'drop')})"


def _drop_them() -> str:
    """The fix named by the errors of rows without a partner."""
    return f"to leave such rows out, use {option('missing', 'drop')}"


def _named(names: Sequence[str]) -> str:
    """A key in a sentence: ``'id'``, or ``(region, id)`` for a composite one."""
    return f"'{names[0]}'" if len(names) == 1 else f"({', '.join(names)})"


def _what(names: Sequence[str]) -> str:
    """A key for messages: ``key column 'id'``, or ``key (region, id)`` for a composite one."""
    return f"key column '{show_name(names[0])}'" if len(names) == 1 else f"key ({', '.join(names)})"


def _comparable(left: pa.DataType, right: pa.DataType) -> pa.DataType | None:
    """The type two same-named columns are compared in by the order check: integers, or else text (an integer
    column matches a text one by its text form, ``1`` == ``"1"``; a decimal of scale 0, an id such as Spark's
    ``decimal(38, 0)``, holds integers too and is compared by its text, ``7``); ``None`` for any other column."""
    left, right = _decoded(left), _decoded(right)
    if pa.types.is_integer(left) and pa.types.is_integer(right):
        return _integers(left, right)
    if all(_text(kind) or _integral(kind) for kind in (left, right)):
        return pa.large_string()
    return None


def _integral(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or (pa.types.is_decimal(kind) and kind.scale == 0)


def first_difference(left: pa.Array, right: pa.Array) -> int | None:
    """The first position where two integer or text columns differ (a null equals only a null); ``None``
    when they are equal or not both integers or both text. Text of JSON arrays is a CSV file's vector column
    (as a Parquet list column, which is no key), not text: ``None`` too."""
    kind = _comparable(left.type, right.type)
    if kind is None or any(is_vector_column(side, labels=True) for side in (left, right)):
        return None
    if left.type != right.type or pa.types.is_dictionary(left.type):
        left, right = left.cast(kind), right.cast(kind)
    if left.equals(right):
        return None
    import pyarrow.compute as pc

    same = booleans(pc.equal(left, right)) | (missing(left) & missing(right))
    differing = np.flatnonzero(~same)
    return int(differing[0]) if len(differing) else None


def order_fix(shared: Mapping[str, pa.DataType]) -> str:
    """The fix named when files aligned by order do not match: ``--on id`` for the first likely key of the
    ``shared`` columns (name: type), else ``--on KEY``."""
    keys = [name for name, kind in shared.items() if _comparable(kind, kind) is not None]
    return on_key(keys[0]) if keys else option("on", "KEY")


def on_key(name: str) -> str:
    """``--on id`` naming the key ``name``, quoted as a shell word where it needs it (``--on ' id '``): a hint is
    pasted as it reads; ``on="id"`` from Python."""
    return option("on", shlex.quote(show_name(name)), keyword=f'on="{show_name(name)}"')


def misaligned(
    name: str, row: int, ours: object, theirs: object, path: str, other_path: str, rows_of: str = "both"
) -> InputError:
    """Rows aligned by order whose likely key column differs: the files are sorted differently. ``row`` is the row
    of both, predictions and targets, whose files the run names when they are several (``rows_of``:
    :class:`~lossctl.errors.InputError`'s)."""
    return InputError(
        f"column '{show_name(name)}' is {shown_value(ours)} in {path} but {shown_value(theirs)} in {other_path} at row "
        f"{row}: rows are aligned by order and these are not the same rows; align them by key with "
        f"{on_key(name)}",
        row=row,
        rows_of=rows_of,
    )


class Join:
    """The targets of ``--targets`` held for a stream of predictions batches (module docstring).

    With ``key``, each prediction takes the target row with the same key: keys must be present and distinct
    in both files, every prediction's key must be in the targets and every target's key in the predictions.
    With ``drop``, the rows that break this are left out, counted and reported in a notice: a prediction
    without a target, or whose key is missing or repeated in the targets, gets missing targets (the engine
    drops and counts it); target rows without a key or without a prediction are left out, and so is every row
    of a key the targets repeat (which of them would be meant is unknown). A key the predictions repeat stays
    an error: the stream has passed the key's first row on before the repeat is read. Without ``key``, rows
    are aligned by position: both files must have the same row count (with ``drop``, rows past the other
    file's end are left out), and the ``checked`` columns, held by both files, must be equal row by row where
    they hold integers or text (an integer ``1`` equals the text ``"1"``).

    Pass the targets table with only the columns read from it (the key and the ``checked`` columns too). The
    key columns are released once indexed, except those in ``kept``: a targets key named unlike the
    predictions' (``--on id=tid``) and read as data too (``--by tid``) is attached with its own values. A
    column name read from both files is a :class:`UsageError`, not a silent choice or a renamed ``*_target``
    column: either file's column could be the one meant, and a renamed column could no longer be bound by
    the name the user knows.
    """

    def __init__(
        self,
        targets: pa.Table,
        preds_columns: Iterable[str],
        key: JoinKey | None,
        preds_name: str,
        targets_name: str,
        notices: list[str],
        *,
        drop: bool = False,
        checked: Sequence[str] = (),
        kept: Sequence[str] = (),
        first_row: int = 0,
    ) -> None:
        # A key named as the predictions' (--on id with --target id) is the predictions' column, of equal keys.
        self._kept = [name for name in kept if key is not None and name in key.targets and name not in key.preds]
        self._first_row = first_row  # the input's row number of the first prediction row (a Dask task's part)
        self._checked = {name: _flat(targets.column(name)) for name in checked}
        targets = targets.drop_columns([name for name in checked if key is None or name not in key.targets])
        key_columns = key.targets if key is not None else ()
        clashes = [name for name in targets.column_names if name in preds_columns and name not in key_columns]
        if clashes:
            raise UsageError(
                f"column '{show_name(clashes[0])}' is read from both {preds_name} and {targets_name}, so it is "
                "ambiguous; rename it in one of the files"
            )
        for name in key_columns:
            if name not in targets.column_names:
                raise column_not_found(name, targets.column_names, targets_name)
        self._rows_kept: np.ndarray | None = None  # the targets' row numbers once rows without a key are dropped
        null = np.zeros(targets.num_rows, dtype=bool)
        for name in key_columns:
            targets = targets.set_column(targets.column_names.index(name), name, _nan_as_missing(targets.column(name)))
            if targets.column(name).null_count:
                nulls = missing(_flat(targets.column(name)))
                if not drop:
                    where = np.flatnonzero(nulls)
                    raise _null_error(_what([name]), targets_name, len(where), int(where[0]))
                null |= nulls
        if null.any():
            where = np.flatnonzero(null)
            verb = "has" if len(where) == 1 else "have"
            notices.append(f"{targets_name}: {_rows(len(where))} {verb} no key (first: row {where[0]}): {_dropped()}")
            self._rows_kept = np.flatnonzero(~null)
            targets = targets.filter(pa.array(~null))
        self.key = key
        self.preds_name = preds_name
        self.targets_name = targets_name
        self.notices = notices
        self.drop = drop
        self._count = targets.num_rows
        self._targets: pa.Table | None = targets  # until the first batch fixes the keys' types (_build)
        self._types: list[pa.DataType] = []
        self._composite: _Composite | None = None
        self._key: pa.Array | None = None  # the target keys, kept for hashed (text) keys only
        self._columns: dict[str, pa.Array] = {}
        self._index: RowIndex | None = None
        self._ambiguous: np.ndarray | None = None  # with drop: the target rows of keys the targets repeat
        if key is None:
            self._hold_columns()

    def _hold_columns(self) -> None:
        """The target columns as contiguous arrays, combined one at a time so that each column's chunks are
        released before the next is copied (the caller must not keep the table)."""
        assert self._targets is not None
        table, self._targets = self._targets, None
        for name in table.column_names:
            self._columns[name] = _flat(table.column(name))
            table = table.drop_columns([name])

    def batches(self, preds: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Each predictions batch with the targets' columns appended; raises at the end if a key was wrong."""
        if self.key is None:
            yield from self._by_position(preds)
            return
        problems = _Problems()
        offset = 0
        for batch in preds:
            rows = np.arange(offset, offset + batch.num_rows)
            offset += batch.num_rows
            for name in self.key.preds:
                if name not in batch.column_names:
                    raise column_not_found(name, batch.column_names, self.preds_name)
            taken = self._match([_flat(batch.column(name)) for name in self.key.preds], rows, problems)
            if self.drop or not problems:
                yield self._attach(batch, taken)
        if problems and (problems.repeats or not self.drop):
            raise problems.error(self.key, self.preds_name, self.targets_name, self.drop)
        if problems:
            self.notices.append(problems.dropped(self.key, self.preds_name, self.targets_name))
        self._unused(self._index.unclaimed() if self._index is not None else np.arange(self._count))

    def _unused(self, rows: np.ndarray) -> None:
        """Target rows (their numbers among the rows held) that no prediction claimed: an error, or dropped."""
        assert self.key is not None
        if self._ambiguous is not None:
            rows = rows[~self._ambiguous[rows]]  # reported already, with the other rows of their keys
        if not len(rows):
            return
        first = int(rows[0] if self._rows_kept is None else self._rows_kept[rows[0]])
        verb = "has" if len(rows) == 1 else "have"
        text = (
            f"{self.targets_name}: {_rows(len(rows))} {verb} a key {_named(self.key.targets)} that is not in "
            f"{self.preds_name} (first: {shown_value(self._target_key(int(rows[0])))} at row {first})"
        )
        if not self.drop:
            raise InputError(f"{text}; {_drop_them()}", row=first, rows_of="targets")
        self.notices.append(f"{text}: {_dropped()}")

    def _target_key(self, held: int) -> object:
        """The key of the ``held``-th target row, for a message: the key columns are released once indexed
        (:meth:`_build`), so it is recovered from what the index keeps."""
        assert self.key is not None
        if self._targets is not None:  # not indexed: no predictions were read
            return _values_at([self._targets.column(name) for name in self.key.targets], held)
        if self._composite is not None:
            return self._composite.values_at(held)
        if self._key is not None:
            return self._key[held].as_py()
        assert self._index is not None
        return value_of(self._index.fingerprint(held), self._types[0])

    def _by_position(self, preds: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        offset = 0
        for batch in preds:
            within = max(0, min(batch.num_rows, self._count - offset))
            self._check_order(batch, offset, within)
            if within == batch.num_rows:
                yield self._attach(batch, to_arrow(np.arange(offset, offset + batch.num_rows)))
            elif self.drop:
                positions = np.arange(offset, offset + batch.num_rows)
                yield self._attach(
                    batch, pa.array(np.minimum(positions, self._count - 1), mask=positions >= self._count)
                )
            offset += batch.num_rows
        if offset > self._count and self.drop:
            beyond = offset - self._count
            self.notices.append(
                f"{self.preds_name}: {_rows(beyond)} past the {_rows(self._count)} of {self.targets_name} "
                f"{'has' if beyond == 1 else 'have'} no target: {_dropped()}"
            )
        elif offset < self._count and self.drop:
            beyond = self._count - offset
            self.notices.append(
                f"{self.targets_name}: {_rows(beyond)} past the {_rows(offset)} of {self.preds_name} "
                f"{'has' if beyond == 1 else 'have'} no prediction: {_dropped()}"
            )
        elif offset != self._count:
            fix = order_fix({name: column.type for name, column in self._checked.items()})
            raise InputError(
                f"{self.preds_name} has {_rows(offset)} but {self.targets_name} has {self._count}; rows are "
                f"aligned by order, so the counts must match (or use {fix})"
            )

    def _check_order(self, batch: pa.RecordBatch, offset: int, within: int) -> None:
        """Without a key, the columns both files hold with integers or text must be equal row by row."""
        for name, theirs in self._checked.items():
            ours = _flat(batch.column(name)).slice(0, within)
            differing = first_difference(ours, theirs.slice(offset, within))
            if differing is not None:
                raise misaligned(
                    name, self._first_row + offset + differing, ours[differing].as_py(),
                    theirs[offset + differing].as_py(), self.preds_name, self.targets_name,
                )  # fmt: skip

    def _build(self, preds_types: list[pa.DataType]) -> None:
        """The index of the target keys, in the types both files' keys compare in (on the first batch).

        The key column is released as soon as it is fingerprinted when fingerprints are exact (integers,
        dates, composite keys' codes...): the index needs nothing else. Text keys are kept, to confirm equal
        hashes.
        """
        assert self._targets is not None and self.key is not None
        columns = [self._targets.column(name) for name in self.key.targets]
        self._types = [
            _common_type(ours, theirs.type, _what([name]), self.preds_name, self.targets_name)
            for ours, theirs, name in zip(preds_types, columns, self.key.preds, strict=True)
        ]
        columns = [
            _target_key(column, kind, _what([name]), self.targets_name)
            for column, kind, name in zip(columns, self._types, self.key.targets, strict=True)
        ]
        self._targets = self._targets.drop_columns([name for name in self.key.targets if name not in self._kept])
        if len(columns) > 1:
            self._composite = _Composite(columns)
            composite = self._composite
            index = RowIndex([composite.target_fps], composite.target_verify(), integers=composite.exact)
        else:
            key = columns[0]
            if not exact_type(key.type):
                self._key = _flat(key)
            parts = [fingerprints(chunk) for chunk in key.chunks or [pa.array([], key.type)]]  # a file of no rows
            verify = _verify(self._key, self._key) if self._key is not None else None
            index = RowIndex(parts, verify, integers=pa.types.is_integer(key.type))
        repeated = index.repeated()
        if repeated.size:
            first = int(repeated[0])
            exact = self._composite is None and self._key is None
            value = value_of(np.concatenate(parts)[first], key.type) if exact else _values_at(columns, first)
            if not self.drop:
                raise _duplicate_error(_what(self.key.targets), self.targets_name, repeated.size, value, first)
            duplicated = index.duplicated()
            self._ambiguous = np.zeros(self._count, dtype=bool)
            self._ambiguous[duplicated] = True
            self.notices.append(
                f"{self.targets_name}: {_rows(len(duplicated))} {'has' if len(duplicated) == 1 else 'have'} a key "
                f"{_named(self.key.targets)} that another row has too (first: {shown_value(value)}): dropped, every "
                f"row of such a key ({option('missing', 'drop')})"
            )
        del columns
        self._index = index
        self._hold_columns()
        pa.default_memory_pool().release_unused()  # the key's and the index's temporaries

    def _match(self, columns: list[pa.Array], rows: np.ndarray, problems: _Problems) -> pa.Array:
        """The target row of each prediction row (as Arrow indices, null where it has none), recording the rows
        that have none."""
        assert self.key is not None
        if self._index is None:
            self._build([column.type for column in columns])
        given = columns  # as the file holds them, for messages
        columns = [
            _cast(column, kind, _what([name]), self.preds_name, self.targets_name)
            for column, kind, name in zip(columns, self._types, self.key.preds, strict=True)
        ]
        null = np.zeros(len(rows), dtype=bool)
        for column in columns:
            if column.null_count:
                null |= missing(column)
        problems.missing(np.flatnonzero(null), rows)
        target = np.full(len(rows), EMPTY, dtype=np.int64)
        repeats = np.zeros(len(rows), dtype=bool)
        keyed = np.flatnonzero(~null) if null.any() else slice(None)  # a missing key claims no target
        present = [column.filter(pa.array(~null)) for column in columns] if null.any() else columns
        verify: Verify | None = None
        if self._composite is not None:
            fps, verify = self._composite.keys(present)
        else:
            fps = fingerprints(present[0])
            verify = _verify(present[0], self._key) if self._key is not None else None
        assert self._index is not None
        target[keyed], repeats[keyed] = self._index.claim(fps, rows[keyed], verify)

        def shown(position: int) -> object:
            return _values_at(given, position)

        ambiguous = np.zeros(len(rows), dtype=bool)
        if self._ambiguous is not None:
            found = np.flatnonzero(target != EMPTY)
            ambiguous[found] = self._ambiguous[target[found]]
            target[ambiguous] = EMPTY
        unmatched = (target == EMPTY) & ~repeats & ~null & ~ambiguous
        if repeats.any() or unmatched.any() or ambiguous.any():
            problems.repeated(shown, np.flatnonzero(repeats), rows)
            problems.missing_target(shown, np.flatnonzero(unmatched), rows)
            problems.repeated_target(shown, np.flatnonzero(ambiguous), rows)
        if self.drop and (null.any() or unmatched.any() or ambiguous.any()):
            return pa.array(np.maximum(target, 0), mask=target == EMPTY)
        return to_arrow(np.maximum(target, 0))

    def _attach(self, batch: pa.RecordBatch, taken: pa.Array) -> pa.RecordBatch:
        """``batch`` with the target rows ``taken`` beside it; with drop, its :data:`NO_PARTNER` column marks the
        rows that took none (and those an earlier join marked: compare joins the baseline twice)."""
        names = [name for name in batch.schema.names if name != NO_PARTNER]
        columns = [batch.column(name) for name in names] + [column.take(taken) for column in self._columns.values()]
        names += list(self._columns)
        if self.drop:
            partnerless = missing(taken)
            if NO_PARTNER in batch.schema.names:
                partnerless |= booleans(batch.column(NO_PARTNER))
            columns.append(pa.array(partnerless))
            names.append(NO_PARTNER)
        return pa.RecordBatch.from_arrays(columns, names=names)


def _key_of(on: JoinKey | str | None) -> JoinKey | None:
    return JoinKey.parse((on,)) if isinstance(on, str) else on


def _named_once(source: Source) -> list[str]:
    """The columns of ``source`` whose name no other column shares (a repeated name selects no one column)."""
    from lossctl.io.readers import repeated_names

    repeated = repeated_names(source.columns)
    return [name for name in source.columns if name not in repeated]


def attach_targets(
    preds: pa.Table,
    targets: pa.Table,
    on: JoinKey | str | None,
    preds_name: str,
    targets_name: str,
    *,
    drop: bool = False,
    marked: bool = False,
) -> tuple[pa.Table, list[str]]:
    """Return the predictions table with the targets table's columns added, and notices for the user.

    :class:`Join` over a whole table (its rules); the key columns appear once, from the predictions. With
    ``drop`` and ``marked``, the :data:`NO_PARTNER` column marks the rows without a partner for the engine.
    """
    key = _key_of(on)
    for name in key.preds if key is not None else ():
        if name not in preds.column_names:
            raise column_not_found(name, preds.column_names, preds_name)
    notices: list[str] = []
    join = Join(targets, preds.column_names, key, preds_name, targets_name, notices, drop=drop)
    batches = list(join.batches(preds.to_batches()))
    dropped = {*key.targets, NO_PARTNER} if key is not None else {NO_PARTNER}
    fields = [field for field in preds.schema if field.name != NO_PARTNER]
    fields += [field for field in targets.schema if field.name not in dropped]
    joined = pa.Table.from_batches(
        batches, schema=pa.schema(fields + ([pa.field(NO_PARTNER, pa.bool_())] if drop else []))
    )
    return (joined if marked or not drop else joined.drop_columns([NO_PARTNER])), notices


def taken_from_targets(
    columns: Sequence[str], target_columns: Sequence[str], source: Source, target_source: Source
) -> list[str]:
    """The ``columns`` read from the targets file: those only it holds, and the target role's (``target_columns``)
    wherever it holds them."""
    taken = [c for c in columns if c in target_source.columns and c not in source.columns]
    return taken + [c for c in target_columns if c in target_source.columns and c not in taken]


def joined_batches(
    source: Source,
    target_source: Source,
    columns: list[str],
    target_columns: list[str],
    key: JoinKey | None,
    chunk_rows: int,
    dictionary: list[str],
    notices: list[str],
    drop: bool = False,
    data: Sequence[str] = (),
) -> Iterator[pa.RecordBatch]:
    """``columns`` of every row of ``source`` with the targets from ``target_source`` (streamed: :class:`Join`).

    Columns come from the targets file when only it has them, and ``target_columns`` (the target role) from it
    whenever it has them; the join's notices are added to ``notices`` once the last batch has passed. Without
    ``key``, every other column both files hold is read from both for the order check, except the ``data``
    columns (predictions, weights: values a loss reads, which two files may hold differently, never a key).
    """
    key_preds, key_targets = (list(key.preds), list(key.targets)) if key is not None else ([], [])
    from_targets = taken_from_targets(columns, target_columns, source, target_source)
    from_preds = [c for c in columns if c not in from_targets and c not in key_preds]
    theirs = _named_once(target_source)
    checked = [] if key else [c for c in _named_once(source) if c in theirs and c not in from_targets and c not in data]
    preds = source.batches(
        list(dict.fromkeys(key_preds + from_preds + checked)), chunk_rows, dictionary=dictionary, keys=key_preds
    )
    # The table is passed on, not kept: the join releases each column's chunks as it holds the column.
    join = Join(
        target_source.read(list(dict.fromkeys(key_targets + from_targets + checked)), keys=key_targets),
        from_preds,
        key,
        source.name,
        target_source.name,
        notices,
        drop=drop,
        checked=checked,
        kept=from_targets,
        first_row=source.first_row,
    )
    # The predictions are read on a thread of their own, ahead of the join (which runs on the engine's reader
    # thread): reading and matching keys take about as long as each other on 20M rows.
    selected = [*columns, NO_PARTNER] if drop else columns
    return (batch.select(selected) for batch in join.batches(prefetch(preds)))
