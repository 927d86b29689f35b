"""Joining the parts of one input whose column types may differ (docs/cli.md, "Input").

Each block of a text file has its types inferred on its own, and each file of a dataset has its own schema:
a column of integers can turn decimal in a later block (``1``, ``2`` ... ``0.5``), or hold a word there
(``oops``). Numeric types are widened when parts are joined; a column that is text somewhere, or holds a value the
wider type cannot (an int64 beyond 2^53 beside doubles), is made text everywhere, so that
:func:`~lossctl.io.convert.to_float64` reports the offending cell with its row rather than the join failing on a
type error. Parts whose types agree, the common case, are joined as they are.

A key column (``--by``, ``qid``, ``--on``) of files that declare their types (Parquet, Arrow IPC) is given its
type before any row is read (:func:`dataset_types`) and each file's batches are cast to it (:func:`conform`), so
that its groups do not depend on which files one chunk mixes; where types are only inferred, the group coder
joins them in the same :func:`common_type` (:mod:`lossctl.groups`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa

from lossctl.errors import InputError
from lossctl.io.columns import quoted_columns
from lossctl.io.convert import is_list_type, is_numeric_type, is_text_type
from lossctl.text import count, show_name

if TYPE_CHECKING:
    import pyarrow.parquet as pq


def concat_parts(tables: list[pa.Table], columns: list[str], label: str) -> pa.Table:
    """Concatenate the parts of one input (files of a dataset, blocks of a text file), named ``label`` in
    messages (``'preds.csv'``, ``the input``); the types are unified as the module docstring says."""
    if not tables:
        return pa.table({name: pa.nulls(0) for name in columns})
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    for name in columns:
        tables = _one_type(tables, name, label)
    return pa.concat_tables(tables, promote_options="permissive")


def _one_type(tables: list[pa.Table], name: str, label: str) -> list[pa.Table]:
    """The column ``name`` of every part cast to their :func:`common_type`, else to text: where a value does not fit
    it (an int64 beyond 2^53 beside doubles, a uint64 beyond int64 beside negatives), which Arrow refuses rather
    than round; rounded, two ids would be one group."""
    kinds = [table.schema.field(name).type for table in tables]
    if all(kind == kinds[0] for kind in kinds):
        return tables
    for kind in dict.fromkeys([common_type(kinds), pa.string()]):
        try:
            return [_cast(table, name, kind) for table in tables]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
            failure = error
    raise InputError(
        f"column '{show_name(name)}' has different types in different parts of {label}: "
        f"{', '.join(sorted({str(kind) for kind in kinds}))}"
    ) from failure


def _cast(table: pa.Table, name: str, kind: pa.DataType) -> pa.Table:
    """``table`` with its column ``name`` cast to ``kind``; a list column made text is written as a CSV cell writes a
    vector, a JSON array (Arrow casts no list to text), for the parts of an input that hold a CSV file's vectors
    beside a Parquet file's lists. That costs a pass in Python over the list column, in that case only."""
    index = table.schema.get_field_index(name)
    column = table.column(index)
    if is_list_type(column.type) and is_text_type(kind):
        rows = column.to_pylist()
        return table.set_column(index, name, pa.array([None if r is None else json.dumps(r) for r in rows], kind))
    return table.set_column(index, name, column.cast(kind))


class Declared(NamedTuple):
    """What one file of a dataset declares before its data is read: its ``name`` for messages, each column's type
    (``None``: a text format, whose types are inferred block by block), where they are known without reading
    the rest of the input, the smallest and largest value of an integer column (``None`` where not), and its
    number of ``rows`` (``None`` where not known)."""

    name: str
    kind: Callable[[str], pa.DataType | None]
    span: Callable[[str], tuple[int, int] | None]
    rows: int | None


def dataset_types(columns: Sequence[str], files: Sequence[Declared], keys: Collection[str]) -> dict[str, pa.DataType]:
    """The type every file's column is read as, for the ``keys`` among ``columns`` (``--by``, ``qid``, ``--on``)
    whose declared types differ between ``files`` (Parquet and Arrow files of one dataset), fixed from their
    footers before any row is read: the groups of a key, and how they print, are then those of the whole dataset
    at any chunk size and on any engine, not of whichever files one chunk mixes. Other columns keep each file's
    type (the converters read every numeric type; a likely key that is integers in one file is checked there) and
    must be numeric in every file or in none (:func:`check_same_kind`).

    A key's type is their :func:`common_type` (as DuckDB's ``union_by_name``: int64 and double are double, and
    ``1`` prints as ``1.0`` in every file; numbers in one file and text in another are text, ``1`` is ``'1'``), or
    text where a file's integers may not fit it (beyond 2^53 beside doubles, or not known to be within it; beyond
    int64 beside negatives): rounded, two ids would be one group. A file without rows does not take part (its type
    holds no value: an empty file's text key leaves the other files' integer ids integers) but is cast like the
    others."""
    types: dict[str, pa.DataType] = {}
    for name in columns:
        kinds = [file.kind(name) for file in files]
        if any(kind is None for kind in kinds) or all(kind == kinds[0] for kind in kinds):
            continue  # a text format's types are inferred block by block, and reconciled as parts are joined
        declared = [kind for kind in kinds if kind is not None]
        if name in keys:
            holding = [index for index, file in enumerate(files) if file.rows != 0] or range(len(files))
            types[name] = _widest(name, [declared[i] for i in holding], [files[i] for i in holding])
            continue
        for file, kind in zip(files[1:], declared[1:], strict=True):
            check_same_kind(name, kind, file.name, declared[0], files[0].name)
    return types


def common_type(kinds: Sequence[pa.DataType]) -> pa.DataType:
    """The type parts of ``kinds`` are joined in: the one Arrow widens them all to
    (``unify_schemas(promote_options="permissive")``: int64 and double are double), booleans as 1/0 integers
    beside numbers, dates as their midnight beside timestamps without a time zone (as DuckDB, and as ``--on``
    matches them: ``1970-01-02`` is ``1970-01-02 00:00:00``), timestamps of different time zones as instants in
    UTC (``01:00+01:00`` is ``00:00Z``), decimals beside integers with the digits of every
    integer of their types, lists as lists of their elements' common type (numbers beside numbers written as text
    are text, which :func:`~lossctl.io.convert.to_float64_matrix` reads as numbers), text where there is none
    (numbers and text). A value may still not fit it (:func:`_fits`)."""
    if any(map(pa.types.is_boolean, kinds)) and all(map(is_numeric_type, kinds)):
        kinds = [pa.int8() if pa.types.is_boolean(kind) else kind for kind in kinds]
    if any(pa.types.is_timestamp(kind) and kind.tz is None for kind in kinds):
        kinds = [pa.timestamp("s") if pa.types.is_date(kind) else kind for kind in kinds]
    kinds = as_instants(kinds)
    try:
        schemas = [pa.schema([("x", kind)]) for kind in kinds]
        widest = pa.unify_schemas(schemas, promote_options="permissive").field(0).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        if all(map(is_list_type, kinds)):
            return pa.large_list(common_type([kind.value_type for kind in kinds]))
        return pa.string()
    return _holding_integers(widest, kinds) if pa.types.is_decimal(widest) else widest


def as_instants(kinds: Sequence[pa.DataType]) -> list[pa.DataType]:
    """``kinds`` with timestamps of different time zones as instants in UTC, each in its own unit
    (``timestamp[ms, Europe/Paris]`` beside ``timestamp[us, UTC]`` is ``timestamp[ms, UTC]``: ``01:00+01:00`` is
    ``00:00Z``, as DuckDB's TIMESTAMPTZ); unchanged where one zone or none is in them, or a timestamp has none
    (a local time is no instant)."""
    zones = {kind.tz for kind in kinds if pa.types.is_timestamp(kind)}
    if len(zones) > 1 and None not in zones:
        return [pa.timestamp(kind.unit, "UTC") if pa.types.is_timestamp(kind) else kind for kind in kinds]
    return list(kinds)


def _holding_integers(decimal: pa.DataType, kinds: Sequence[pa.DataType]) -> pa.DataType:
    """The ``decimal`` type Arrow widens decimals and the integer ``kinds`` to, with the digits every integer of
    those types needs: Arrow gives int64 beside ``decimal(5, 0)`` 18 digits, then refuses to cast an int64 to it
    ("Precision is not great enough"), whatever its values. Text where not even ``decimal256`` holds them."""
    precision = decimal.precision
    for kind in filter(pa.types.is_integer, kinds):
        largest = (1 << kind.bit_width) - 1 if pa.types.is_unsigned_integer(kind) else (1 << kind.bit_width - 1) - 1
        precision = max(precision, len(str(largest)) + decimal.scale)
    if precision == decimal.precision:
        return decimal
    if precision > 76:
        return pa.string()
    return (pa.decimal128 if precision <= 38 else pa.decimal256)(precision, decimal.scale)


def _widest(name: str, kinds: list[pa.DataType], files: Sequence[Declared]) -> pa.DataType:
    """The type that holds every value of the column ``name``, of ``kinds`` in ``files``, exactly
    (:func:`dataset_types`); text where none does."""
    widest = common_type(kinds)
    fits = all(_fits(kind, widest, partial(file.span, name)) for kind, file in zip(kinds, files, strict=True))
    return widest if fits else pa.string()


def _fits(kind: pa.DataType, widest: pa.DataType, span: Callable[[], tuple[int, int] | None]) -> bool:
    """Whether every integer of type ``kind`` in a file, whose values lie within ``span()`` where known, is a value
    of ``widest`` (Arrow refuses the cast of one that is not, as it refuses int64 beyond 2^53 to double)."""
    if not pa.types.is_integer(kind) or kind == widest:
        return True
    if pa.types.is_floating(widest):
        digits = {16: 11, 32: 24, 64: 53}[widest.bit_width]
        low, high = -(1 << digits), 1 << digits
    elif pa.types.is_integer(widest):
        low, high = (-(1 << widest.bit_width - 1), (1 << widest.bit_width - 1) - 1)
        if pa.types.is_unsigned_integer(widest):
            low, high = 0, (1 << widest.bit_width) - 1
    else:
        return True
    every = (0, (1 << kind.bit_width) - 1)
    if pa.types.is_signed_integer(kind):
        every = (-(1 << kind.bit_width - 1), (1 << kind.bit_width - 1) - 1)
    if low <= every[0] and every[1] <= high:
        return True
    known = span()
    return known is not None and low <= known[0] and known[1] <= high


def conform(data: pa.RecordBatch | pa.Table, types: dict[str, pa.DataType], name: str) -> pa.RecordBatch | pa.Table:
    """``data`` of the file ``name`` with its columns of ``types`` (:func:`dataset_types`) cast to them; as it is
    when none differs (dictionary text stays dictionary text)."""
    if not types:
        return data
    for index, field in enumerate(data.schema):
        kind = types.get(field.name)
        stored = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if kind is None or stored == kind:
            continue
        try:
            column = data.column(index).cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
            raise InputError(
                f"column '{show_name(field.name)}' has type {field.type} in '{show_name(name)}', which the other "
                f"files' {kind} cannot hold ({str(error).splitlines()[0]}); the files of a dataset must agree"
            ) from None
        data = data.set_column(index, field.name, column)
    return data


def parquet_declared(
    name: str, schema: pa.Schema, rows: int, columns: Sequence[str], span: Callable[[str], tuple[int, int] | None]
) -> Declared:
    """What the Parquet file ``name`` declares of ``columns`` (those it has) in its footer: its ``schema`` and
    number of ``rows``; ``span`` reads a column's :func:`parquet_span`, opening the file again (a dataset's files
    are not all held open)."""
    kinds = {column: schema.field(column).type for column in columns if schema.get_field_index(column) >= 0}
    return Declared(name, kinds.get, span, rows)


def parquet_span(parquet: pq.ParquetFile, name: str) -> tuple[int, int] | None:
    """The smallest and largest value of the integer column ``name`` of a Parquet file, read from the column itself,
    row group by row group; ``None`` where it is not a top-level column.

    Not from the row groups' statistics, which the footer holds: pyarrow ends the process (SIGABRT, "terminate called
    after throwing an instance of 'parquet::ParquetException'") on statistics whose values are cut short, where
    reading the column is an error lossctl reports. Asked only of a key whose files declare integers beside a type
    that cannot hold all of them (int64 beside double), so the extra read is the rare case's."""
    import pyarrow.compute as pc

    metadata = parquet.metadata
    leaves = [j for j in range(metadata.num_columns) if parquet.schema.column(j).path == name]
    if len(leaves) != 1:
        return None
    low = high = None
    for group in range(metadata.num_row_groups):
        extremes = pc.min_max(parquet.read_row_group(group, columns=[name]).column(0)).as_py()
        if extremes["min"] is None:
            continue  # no value
        low = extremes["min"] if low is None else min(low, extremes["min"])
        high = extremes["max"] if high is None else max(high, extremes["max"])
    return (0, 0) if low is None or high is None else (low, high)


def batches_table(batches: Sequence[pa.RecordBatch]) -> pa.Table:
    """Consecutive record batches of one input as one table (at least one batch, with the same column names).

    Batches of one schema are joined without a copy; otherwise as :func:`concat_parts` joins parts, which
    only happens where a block or a file of the input changes a column's type.
    """
    schema = batches[0].schema
    if all(batch.schema.equals(schema) for batch in batches):
        return pa.Table.from_batches(batches, schema=schema)
    tables = [pa.Table.from_batches([batch]) for batch in batches]
    return concat_parts(tables, schema.names, "the input")


def every_row(batches: Iterable[pa.RecordBatch], rows: int, label: str) -> Iterator[pa.RecordBatch]:
    """The ``batches`` of one Parquet file, checked to hold the ``rows`` its footer (read when it was opened)
    promises. pyarrow's reader ends quietly, short, on a file cut while it is read (rewritten in place by another
    program, which first empties it): the rows never read would be missing from the results without a word."""
    read = 0
    for batch in batches:
        read += batch.num_rows
        yield batch
    if read != rows:
        raise changed_while_read(label, f"it ended after {count(read, 'row')} of the {rows} its footer lists")


def changed_while_read(label: str, how: str) -> InputError:
    """The error for a file found shorter once read than when it was opened; ``how`` says by what."""
    return InputError(
        f"{label} changed while it was read: {how} (was another program rewriting it?); run again once it is written"
    )


def check_same_kind(name: str, kind: pa.DataType, file: str, first_kind: pa.DataType, first_file: str) -> None:
    """A column of a Parquet or Arrow dataset must be numeric in every file or in none: these formats declare their
    types, so a file whose numbers are text (or the other way round) is named rather than read as text. A column
    of nulls only (Arrow's null type) is missing values of whatever type the other files give it."""
    if pa.types.is_null(kind) or pa.types.is_null(first_kind) or is_numeric_type(kind) == is_numeric_type(first_kind):
        return
    text, number = (file, first_file) if is_numeric_type(first_kind) else (first_file, file)
    text_kind, number_kind = (kind, first_kind) if is_numeric_type(first_kind) else (first_kind, kind)
    raise InputError(
        f"column '{show_name(name)}' is not numeric in '{show_name(text)}': it has type {text_kind} there but "
        f"{number_kind} in '{show_name(number)}'; the files of a dataset must agree"
    )


def check_same_columns(name: str, columns: Sequence[str], first_name: str, first_columns: Sequence[str]) -> None:
    """Every input of a dataset has the first one's columns (docs/cli.md, "Input": several paths, and a folder or glob
    alike, as the shell's expansion of a glob is several paths): a column only a later file has would be left out
    unseen (``--model 'm*'`` missing a model), one it lacks found missing only when it is read."""
    first = set(first_columns)
    extra = [column for column in columns if column not in first]
    lacking = [column for column in first_columns if column not in set(columns)]
    if extra or lacking:
        differences = [f"{name} has {_named(extra)} that {first_name} has not"] if extra else []
        differences += [f"{name} lacks {_named(lacking)} that {first_name} has"] if lacking else []
        raise InputError(
            f"{'; '.join(differences)}: several inputs are read as one dataset and must have the same columns"
        )


def _named(names: list[str]) -> str:
    """Columns in a sentence: ``the column 'x'``, ``the columns 'x', 'y'``."""
    listed = quoted_columns(names)
    return f"the column {listed}" if len(names) == 1 else f"the columns {listed}"
