"""Joining a predictions table with a separate targets table (``--targets PATH``, ``--on KEY``).

The result always follows the predictions: same rows, same order, so that row numbers in messages and
``--per-sample`` output refer to the predictions file. The predictions are streamed: :class:`Join` holds
the targets (their columns and an index of their keys, :class:`~lossctl.keys.RowIndex`) and attaches
each predictions batch's targets as it passes, so memory holds the targets file, never the predictions.

Problems found on the way (missing keys, repeated keys, keys without a target) are counted over the
whole predictions stream and reported at its end, as one error naming the count and the first value;
no more batches are passed on after the first one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from lossctl.arrow import booleans, equal_values, to_arrow
from lossctl.errors import InputError, UsageError
from lossctl.io.columns import column_not_found
from lossctl.keys import EMPTY, RowIndex, Verify, exact_type, fingerprints, value_of
from lossctl.prefetch import prefetch

if TYPE_CHECKING:
    from lossctl.io.readers import Source


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


def _common_type(left: pa.DataType, right: pa.DataType, on: str, preds_name: str, targets_name: str) -> pa.DataType:
    """The type both keys are compared in: numbers widen (an int64 id matches 7.0), text matches text.

    Numbers never match text: ``007`` and ``7`` are different ids, and guessing otherwise would join
    rows silently and wrongly.
    """
    if left == right:
        return left
    try:
        unified = pa.unify_schemas([pa.schema([(on, left)]), pa.schema([(on, right)])], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        unified = None
    if unified is None:
        raise InputError(
            f"key column '{on}' is {left} in {preds_name} but {right} in {targets_name}; the keys cannot be matched"
        )
    return unified.field(on).type


def _null_error(on: str, name: str, count: int, first: int) -> InputError:
    return InputError(f"key column '{on}' has {count} missing values in {name} (first: row {first})")


def _duplicate_error(on: str, name: str, count: int, first: object) -> InputError:
    return InputError(
        f"key column '{on}' has {count} duplicate {'value' if count == 1 else 'values'} in {name} (first: {first!r}); "
        "each row needs a distinct key"
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


class _Problems:
    """Missing, repeated and unmatched keys of the predictions, counted over the whole stream (a key is
    repeated when an earlier row has it and it is in the targets)."""

    def __init__(self) -> None:
        self.nulls = 0
        self.first_null = -1
        self.repeats = 0
        self.first_repeat: tuple[int, object] | None = None
        self.unmatched = 0
        self.first_unmatched: tuple[int, object] | None = None

    def __bool__(self) -> bool:
        return bool(self.nulls or self.repeats or self.unmatched)

    def repeated(self, key: pa.Array, positions: np.ndarray, rows: np.ndarray) -> None:
        if len(positions):
            self.repeats += len(positions)
            if self.first_repeat is None or rows[positions[0]] < self.first_repeat[0]:
                self.first_repeat = (int(rows[positions[0]]), key[int(positions[0])].as_py())

    def missing_target(self, key: pa.Array, positions: np.ndarray, rows: np.ndarray) -> None:
        if len(positions):
            self.unmatched += len(positions)
            if self.first_unmatched is None:
                self.first_unmatched = (int(rows[positions[0]]), key[int(positions[0])].as_py())

    def error(self, on: str, preds_name: str, targets_name: str) -> InputError:
        if self.nulls:
            return _null_error(on, preds_name, self.nulls, self.first_null)
        if self.repeats:
            assert self.first_repeat is not None
            return _duplicate_error(on, preds_name, self.repeats, self.first_repeat[1])
        assert self.first_unmatched is not None
        verb = "has" if self.unmatched == 1 else "have"
        return InputError(
            f"{preds_name}: {_rows(self.unmatched)} {verb} a key '{on}' that is not in {targets_name} "
            f"(first: {self.first_unmatched[1]!r})"
        )


class Join:
    """The targets of ``--targets`` held for a stream of predictions batches (module docstring).

    With ``on``, each prediction takes the target row with the same key: keys must be present and distinct
    in both files, and every prediction's key must be in the targets; target rows without a prediction are
    left out and reported in a notice (a targets file often covers more than one model's rows). Without
    ``on``, rows are aligned by position and both files must have the same row count.

    Pass the targets table with only the columns read from it (and the key). A column name (other than
    ``on``) read from both files is a :class:`UsageError`, not a silent choice or a renamed ``*_target``
    column: either file's column could be the one meant, and a renamed column could no longer be bound by
    the name the user knows.
    """

    def __init__(
        self,
        targets: pa.Table,
        preds_columns: Iterable[str],
        on: str | None,
        preds_name: str,
        targets_name: str,
        notices: list[str],
    ) -> None:
        clashes = [name for name in targets.column_names if name in preds_columns and name != on]
        if clashes:
            raise UsageError(
                f"column '{clashes[0]}' is read from both {preds_name} and {targets_name}, so it is ambiguous; "
                "rename it in one of the files"
            )
        if on is not None and on not in targets.column_names:
            raise column_not_found(on, targets.column_names, targets_name)
        self.on = on
        self.preds_name = preds_name
        self.targets_name = targets_name
        self.notices = notices
        self._count = targets.num_rows
        self._targets: pa.Table | None = targets  # until the first batch fixes the keys' type (_build)
        if on is not None and targets.column(on).null_count:
            nulls = np.flatnonzero(booleans(_flat(targets.column(on)).is_null()))
            raise _null_error(on, targets_name, len(nulls), int(nulls[0]))
        self._key: pa.Array | None = None  # the target keys, kept for hashed (text) keys only
        self._columns: dict[str, pa.Array] = {}
        self._index: RowIndex | None = None
        if on is None:
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
        if self.on is None:
            yield from self._by_position(preds)
            return
        problems = _Problems()
        offset = 0
        for batch in preds:
            rows = np.arange(offset, offset + batch.num_rows)
            offset += batch.num_rows
            if self.on not in batch.column_names:
                raise column_not_found(self.on, batch.column_names, self.preds_name)
            taken = self._match(_flat(batch.column(self.on)), rows, problems)
            if not problems:
                yield self._attach(batch, taken)
        if problems:
            raise problems.error(self.on, self.preds_name, self.targets_name)
        unused = self._index.unclaimed() if self._index is not None else self._count
        verbs = "has no prediction and was" if unused == 1 else "have no prediction and were"
        if unused:
            self.notices.append(f"{self.targets_name}: {_rows(unused)} {verbs} not used")

    def _by_position(self, preds: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        offset = 0
        for batch in preds:
            if offset + batch.num_rows <= self._count:
                yield self._attach(batch, to_arrow(np.arange(offset, offset + batch.num_rows)))
            offset += batch.num_rows
        if offset != self._count:
            raise InputError(
                f"{self.preds_name} has {_rows(offset)} but {self.targets_name} has {self._count}; rows are "
                "aligned by order, so the counts must match (or use --on KEY)"
            )

    def _build(self, preds_type: pa.DataType) -> None:
        """The index of the target keys, in the type both files' keys compare in (on the first batch).

        The key column is released as soon as it is fingerprinted when fingerprints are exact (integers,
        dates...): the index needs nothing else. Text keys are kept, to confirm equal hashes.
        """
        assert self._targets is not None and self.on is not None
        key = self._targets.column(self.on)
        self._type = _common_type(preds_type, key.type, self.on, self.preds_name, self.targets_name)
        key = key.cast(self._type)
        self._targets = self._targets.drop_columns([self.on])
        if not exact_type(self._type):
            self._key = _flat(key)
        parts = [fingerprints(chunk) for chunk in key.chunks]
        del key
        integers = pa.types.is_integer(self._type)
        index = RowIndex(parts, _verify(self._key, self._key) if self._key is not None else None, integers=integers)
        repeated = index.repeated()
        if repeated.size:
            first = int(repeated[0])
            fingerprint = np.concatenate(parts)[first]
            value = self._key[first].as_py() if self._key is not None else value_of(fingerprint, self._type)
            raise _duplicate_error(self.on, self.targets_name, repeated.size, value)
        del parts
        self._index = index
        self._hold_columns()
        pa.default_memory_pool().release_unused()  # the key's and the index's temporaries

    def _match(self, key: pa.Array, rows: np.ndarray, problems: _Problems) -> pa.Array:
        """The target row of each prediction row (as Arrow indices), recording the rows that have none."""
        assert self.on is not None
        if self._index is None:
            self._build(key.type)
        if key.type != self._type:
            try:
                key = key.cast(self._type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
                _common_type(key.type, self._type, self.on, self.preds_name, self.targets_name)
                raise InputError(f"key column '{self.on}' in {self.preds_name}: {error}") from error
        if key.null_count:
            nulls = np.flatnonzero(booleans(key.is_null()))
            if not problems.nulls:
                problems.first_null = int(rows[nulls[0]])
            problems.nulls += len(nulls)
        assert self._index is not None
        fps = fingerprints(key)
        target, repeats = self._index.claim(fps, rows, _verify(key, self._key) if self._key is not None else None)
        missing = target == EMPTY
        if key.null_count:
            nulls = booleans(key.is_null())
            target[nulls] = EMPTY
            missing &= ~nulls
        if repeats.any() or missing.any():
            problems.repeated(key, np.flatnonzero(repeats), rows)
            problems.missing_target(key, np.flatnonzero(missing & ~repeats), rows)
        return to_arrow(np.maximum(target, 0))

    def _attach(self, batch: pa.RecordBatch, taken: pa.Array) -> pa.RecordBatch:
        columns = list(batch.columns) + [column.take(taken) for column in self._columns.values()]
        return pa.RecordBatch.from_arrays(columns, names=[*batch.schema.names, *self._columns])


def attach_targets(
    preds: pa.Table, targets: pa.Table, on: str | None, preds_name: str, targets_name: str
) -> tuple[pa.Table, list[str]]:
    """Return the predictions table with the targets table's columns added, and notices for the user.

    :class:`Join` over a whole table (its rules); the key column appears once, from the predictions.
    """
    if on is not None and on not in preds.column_names:
        raise column_not_found(on, preds.column_names, preds_name)
    notices: list[str] = []
    join = Join(targets, preds.column_names, on, preds_name, targets_name, notices)
    batches = list(join.batches(preds.to_batches()))
    schema = pa.schema([*preds.schema, *(field for field in targets.schema if field.name != on)])
    return pa.Table.from_batches(batches, schema=schema), notices


def joined_batches(
    source: Source,
    target_source: Source,
    columns: list[str],
    target_columns: list[str],
    on: str | None,
    chunk_rows: int,
    dictionary: list[str],
    notices: list[str],
) -> Iterator[pa.RecordBatch]:
    """``columns`` of every row of ``source`` with the targets from ``target_source`` (streamed: :class:`Join`).

    Columns come from the targets file when only it has them, and ``target_columns`` (the target role) from it
    whenever it has them; the join's notices are added to ``notices`` once the last batch has passed.
    """
    from_targets = [c for c in columns if c in target_source.columns and c not in source.columns]
    from_targets += [c for c in target_columns if c in target_source.columns and c not in from_targets]
    from_preds = [c for c in columns if c not in from_targets and c != on]
    keys = [on] if on else []
    preds = source.batches(list(dict.fromkeys(keys + from_preds)), chunk_rows, dictionary=dictionary)
    # The table is passed on, not kept: the join releases each column's chunks as it holds the column.
    join = Join(
        target_source.read(list(dict.fromkeys(keys + [c for c in from_targets if c != on]))),
        from_preds,
        on,
        source.path,
        target_source.path,
        notices,
    )
    # The predictions are read on a thread of their own, ahead of the join (which runs on the engine's reader
    # thread): reading and matching keys take about as long as each other on 20M rows.
    return (batch.select(columns) for batch in join.batches(prefetch(preds)))
