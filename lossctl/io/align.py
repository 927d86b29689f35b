"""Joining a predictions table with a separate targets table (``--targets PATH``, ``--on KEY``).

The result always follows the predictions: same rows, same order, so that row numbers in messages and
``--per-sample`` output refer to the predictions file.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lossctl.errors import InputError, UsageError
from lossctl.io.columns import column_not_found
from lossctl.io.readers import Source


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


def _key(table: pa.Table, on: str, name: str) -> pa.Array:
    """The key column, checked: present and without nulls (a null key matches nothing, or every null)."""
    if on not in table.column_names:
        raise column_not_found(on, table.column_names, name)
    key = table.column(on).combine_chunks()
    nulls = pc.is_null(key, nan_is_null=True)
    null_count = pc.sum(nulls).as_py() or 0
    if null_count:
        first = pc.index(nulls, True).as_py()
        raise InputError(f"key column '{on}' has {null_count} missing values in {name} (first: row {first})")
    return key


def _common_type(
    preds_key: pa.Array, targets_key: pa.Array, on: str, preds_name: str, targets_name: str
) -> pa.DataType:
    """The type both keys are compared in: numbers widen (an int64 id matches 7.0), text matches text.

    Numbers never match text: ``007`` and ``7`` are different ids, and guessing otherwise would join
    rows silently and wrongly.
    """
    left, right = preds_key.type, targets_key.type
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


def _reject_duplicates(key: pa.Array, on: str, name: str) -> None:
    """Reject repeated keys: with them, a prediction would match several targets (or none would be chosen)."""
    first_seen = pc.index_in(key, value_set=key).to_numpy(zero_copy_only=False)
    repeated = np.flatnonzero(first_seen != np.arange(len(key)))
    if repeated.size:
        value = key[int(repeated[0])].as_py()
        raise InputError(
            f"key column '{on}' has {repeated.size} duplicate {'value' if repeated.size == 1 else 'values'} "
            f"in {name} (first: {value!r}); "
            "each row needs a distinct key"
        )


def attach_targets(
    preds: pa.Table, targets: pa.Table, on: str | None, preds_name: str, targets_name: str
) -> tuple[pa.Table, list[str]]:
    """Return the predictions table with the targets table's columns added, and notices for the user.

    Without ``on``, rows are aligned by position and both tables must have the same row count. With
    ``on``, each prediction takes the target row with the same key: keys must be unique and present
    in both tables, every prediction's key must be in the targets; target rows without a prediction
    are left out and reported in a notice (a targets file often covers more than one model's rows).
    The predictions' row order is kept and the key column appears once, from the predictions.

    Pass each table with only the columns read for it. A column name (other than ``on``) present in
    both tables is a :class:`UsageError`, not a silent choice or a renamed ``*_target`` column:
    either file's column could be the one meant, and a renamed column could no longer be bound by
    the name the user knows. Columns of the predictions file that are not read cannot clash.
    """
    clashes = [name for name in targets.column_names if name in preds.column_names and name != on]
    if clashes:
        raise UsageError(
            f"column '{clashes[0]}' is read from both {preds_name} and {targets_name}, so it is ambiguous; "
            "rename it in one of the files"
        )
    if on is None:
        if preds.num_rows != targets.num_rows:
            raise InputError(
                f"{preds_name} has {_rows(preds.num_rows)} but {targets_name} has {targets.num_rows}; rows are "
                "aligned by order, so the counts must match (or use --on KEY)"
            )
        matched = targets
        notices: list[str] = []
    else:
        preds_key = _key(preds, on, preds_name)
        targets_key = _key(targets, on, targets_name)
        common = _common_type(preds_key, targets_key, on, preds_name, targets_name)
        preds_key, targets_key = preds_key.cast(common), targets_key.cast(common)
        _reject_duplicates(preds_key, on, preds_name)
        _reject_duplicates(targets_key, on, targets_name)
        positions = pc.index_in(preds_key, value_set=targets_key)
        unmatched = positions.null_count
        if unmatched:
            first = preds_key[pc.index(pc.is_null(positions), True).as_py()].as_py()
            raise InputError(
                f"{preds_name}: {_rows(unmatched)} {'has' if unmatched == 1 else 'have'} a key '{on}' that is not "
                f"in {targets_name} (first: {first!r})"
            )
        matched = targets.drop_columns([on]).take(positions)
        unused = targets.num_rows - preds.num_rows
        verbs = "has no prediction and was" if unused == 1 else "have no prediction and were"
        notices = [f"{targets_name}: {_rows(unused)} {verbs} not used"] if unused else []
    joined = preds
    for name in matched.column_names:
        joined = joined.append_column(name, matched.column(name))
    return joined, notices


def joined_batches(
    source: Source,
    target_source: Source,
    columns: list[str],
    target_columns: list[str],
    on: str | None,
    chunk_rows: int,
    notices: list[str],
) -> Iterator[pa.RecordBatch]:
    """Batches of ``columns`` where each column comes from the predictions ``source`` or, when it is not there
    (or is a bound target column held by the targets file), from ``target_source``, aligned by ``on`` or by order."""
    columns = list(dict.fromkeys(columns))
    from_targets = [c for c in columns if c in target_source.columns and c not in source.columns]
    from_targets += [c for c in target_columns if c in target_source.columns and c not in from_targets]
    from_preds = [c for c in columns if c not in from_targets and c != on]
    keys = [on] if on else []
    preds_table = source.read(list(dict.fromkeys(keys + from_preds)))
    targets_table = target_source.read(list(dict.fromkeys(keys + [c for c in from_targets if c != on])))
    table, join_notices = attach_targets(preds_table, targets_table, on, source.path, target_source.path)
    notices.extend(join_notices)
    return iter(table.select(columns).to_batches(max_chunksize=chunk_rows))
