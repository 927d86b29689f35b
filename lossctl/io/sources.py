"""Whatever the user hands over, as one :class:`~lossctl.io.readers.Source`: paths, DataFrames, Arrow data, arrays.

:func:`open_data` is the one door of the Python API and the CLI: a path (``str`` or ``os.PathLike``) or several
paths (one dataset, in the order given), a pandas or polars DataFrame, a pyarrow Table, RecordBatch,
RecordBatchReader or Dataset, a dict of arrays, or a binary stream. pandas and polars are never imported here:
their objects are recognised by their type's module and converted through their own ``to_arrow``/``from_pandas``.
"""

from __future__ import annotations

import os
import reprlib
import stat
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from lossctl.arrow import plain_column
from lossctl.errors import EmptyInput, EmptyVectors, InputError, NotAnArray, UsageError, option
from lossctl.io.convert import float64_values, is_vector_column, to_float64_matrix
from lossctl.io.parts import check_same_columns, concat_parts, conform, dataset_types
from lossctl.io.readers import Source, file_index, open_input, several
from lossctl.io.streams import STREAM, as_binary
from lossctl.text import listing, show_name


def _module(value: object) -> str:
    return type(value).__module__.split(".")[0]


def _slices(batch: pa.RecordBatch, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, batch.num_rows, chunk_rows):
        yield batch.slice(start, chunk_rows)


class TableSource(Source):
    """Arrow data already in memory (a converted DataFrame, a dict of arrays): zero-copy slices of it."""

    def __init__(self, name: str, table: pa.Table) -> None:
        self.path = name
        self.format = "arrow"
        self._table = table
        self.columns = _string_names(table.column_names, name)

    @property
    def num_rows(self) -> int | None:
        return self._table.num_rows

    def _read(self, columns: list[str]) -> pa.Table:
        return self._table.select(columns)

    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in self._table.select(columns).to_batches(max_chunksize=chunk_rows):
            yield from _slices(batch, chunk_rows)


# The readers lossctl has started reading, in this process: an exhausted reader looks like an empty one.
_READ_READERS: weakref.WeakSet[pa.RecordBatchReader] = weakref.WeakSet()


class ReaderSource(Source):
    """A pyarrow ``RecordBatchReader`` or ``Dataset``: streamed, never held whole.

    A reader can be consumed once only, like standard input; a second pass, in the same run or a later call
    (``evaluate(reader)`` twice), is a usage error rather than silently no rows.
    """

    def __init__(self, name: str, data: Any) -> None:
        self.path = name
        self.format = "arrow"
        self._data = data
        self.columns = _string_names(list(data.schema.names), name)
        self.once = not hasattr(data, "to_batches")  # a reader, not a Dataset (scanned again on every pass)

    @property
    def num_rows(self) -> int | None:
        return int(self._data.count_rows()) if hasattr(self._data, "count_rows") else None

    def _stream(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        if hasattr(self._data, "to_batches"):  # a pyarrow.dataset.Dataset: scanned again on every pass
            yield from self._data.to_batches(columns=columns)
            return
        if self._data in _READ_READERS:
            raise UsageError(
                f"{self.path} was already read: a RecordBatchReader can be read only once; "
                "give a new reader, or a Table"
            )
        _READ_READERS.add(self._data)
        for batch in self._data:
            yield batch.select(columns)

    def _read(self, columns: list[str]) -> pa.Table:
        batches = list(self._stream(columns))
        schema = pa.schema([self._data.schema.field(name) for name in columns])
        return pa.Table.from_batches(batches, schema=schema)

    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in self._stream(columns):
            yield from _slices(batch, chunk_rows)


class ConcatSource(Source):
    """Several inputs read one after another as one dataset; they must have the same columns (docs/cli.md,
    "Input"), in any order: each input's columns are read by name, in the first input's order."""

    _checks_text = True  # each input checks its own text, naming itself

    def __init__(self, sources: Sequence[Source]) -> None:
        first = sources[0]
        for other in sources[1:]:
            check_same_columns(other.name, other.columns, first.name, first.columns)
        self.path, self.shown = several([source.path for source in sources])
        self.format = first.format if all(s.format == first.format for s in sources) else "mixed"
        self.columns = list(first.columns)
        self.notices = tuple(notice for source in sources for notice in source.notices)
        self.misread = next((source.misread for source in sources if source.misread), "")
        self.once = any(source.once for source in sources)  # one stream among them makes the dataset one
        self.sources = list(sources)
        self._rows: list[int] = []  # the rows of each input read so far, counted batch by batch as they pass

    def _wanted(self, columns: Sequence[str]) -> list[str]:
        """As each input's own (a name that repeats in any of them is refused), before any is read."""
        for source in self.sources:
            source._wanted(columns)
        return super()._wanted(columns)

    @property
    def num_rows(self) -> int | None:
        counts = [source.num_rows for source in self.sources]
        return None if any(count is None for count in counts) else sum(c for c in counts if c is not None)

    def _types(self, columns: list[str]) -> dict[str, pa.DataType]:
        """Where the formats declare their types (Parquet, Arrow IPC), the type each column whose inputs declare
        different ones is read as in all (:func:`dataset_types`)."""
        files = [file for source in self.sources for file in source.declared(columns)]
        return dataset_types(columns, files, self._keys)

    def file_of(self, row: int) -> str | None:
        """The file of the input holding ``row``: the inputs' row counts come from their metadata when they all
        have it (Parquet, Arrow IPC files), else from the reading so far, which has passed ``row``."""
        counts = [source.num_rows for source in self.sources]
        rows = [c for c in counts if c is not None] if None not in counts else self._rows
        index = file_index(row, rows)
        if index is None:
            return None
        source = self.sources[index]
        return source.file_of(row - sum(rows[:index])) or source.path

    def _read(self, columns: list[str]) -> pa.Table:
        types = self._types(columns)
        self._rows = []
        tables = []
        for source in self.sources:
            source.read_after(self.first_row + sum(self._rows))
            tables.append(conform(source.read(columns, self._keys), types, source.name))
            self._rows.append(tables[-1].num_rows)
        return concat_parts(tables, columns, self.label)

    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]:
        types = self._types(columns)
        self._rows = []
        for source in self.sources:
            source.read_after(self.first_row + sum(self._rows))
            self._rows.append(0)
            for batch in source.batches(columns, chunk_rows, dictionary, self._keys):
                self._rows[-1] += batch.num_rows
                yield conform(batch, types, source.name)


def check_text_options(sources: Sequence[Source | None], delimiter: str | None, decimal: str | None) -> None:
    """``--delimiter`` and ``--decimal`` read delimited text: given (``None``: not given) when no input is CSV or TSV
    (known once streams are recognised from their first bytes), they would do nothing, which is a usage error,
    whatever their value (``--decimal .`` as ``--decimal ,``)."""
    options = ((option("delimiter"), delimiter is not None), (option("decimal", decimal), decimal is not None))
    given = [name for name, on in options if on]
    inputs = [part for source in sources if source is not None for part in _parts(source)]
    if not given or any(part.format in ("csv", "tsv") for part in inputs):
        return
    from lossctl.io.readers import format_title

    described = [
        f"the input is in memory ({part.path})" if isinstance(part, TableSource | ReaderSource)
        else f"{part.name} is {format_title(part.format)}"
        for part in inputs
    ]  # fmt: skip
    verb = "applies" if len(given) == 1 else "apply"
    raise UsageError(f"{' and '.join(given)} {verb} to CSV and TSV input only, and {listing(described, 'inputs')}")


def _parts(source: Source) -> list[Source]:
    return list(source.sources) if isinstance(source, ConcatSource) else [source]


# What pyarrow raises for Python values it cannot hold: objects of mixed kinds (ArrowInvalid, ArrowTypeError,
# TypeError) and integers beyond 64 bits (OverflowError, "Python int too large to convert to C long").
_ARROW_REFUSES = (pa.ArrowException, TypeError, OverflowError)


def _string_names(names: list[Any], source: str) -> list[str]:
    """Column names as strings; duplicates are an error (a name must select one column)."""
    text = [str(name) for name in names]
    if len(set(text)) != len(text):
        repeated = next(name for name in text if text.count(name) > 1)
        raise InputError(f"column '{show_name(repeated)}' appears more than once in {source}; names must be unique")
    return text


def array_column(values: Any, name: str) -> pa.Array | pa.ChunkedArray:
    """One column from an array-like: a NumPy array or a DataFrame (2-D: one vector per row), a pandas or polars
    Series, a pyarrow array or a list. Vectors become fixed-size list columns, the layout the vector roles read."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return plain_column(values)
    NotAnArray.check(values, name)
    module = _module(values)
    if module in ("pandas", "polars") and hasattr(values, "columns"):
        values = _frame_matrix(values, name)
    elif module == "polars":
        return _polars_table(values.to_frame()).column(0)  # Int128 as its text
    elif module == "pandas":
        return _pandas_array(values)
    if module in ("torch", "tensorflow", "jax", "jaxlib"):
        values = values.numpy() if hasattr(values, "numpy") else np.asarray(values)
    values = masked_as_missing(values)
    try:
        array = np.asarray(values)
    except ValueError:  # rows of different lengths: a list column, whose reader names the odd row
        array = np.asarray(values, dtype=object)
    if array.dtype.kind == "f" and not isinstance(values, np.ndarray) and (np.abs(array) >= 2.0**63).any():
        # Python integers past int64 beside others (2**63, 2**63 + 1, 1), which NumPy made floats of: as keys they
        # merged. Read as the objects they are, then as their text below, as the CSV reader reads such a column.
        array = np.asarray(values, dtype=object)
    if array.ndim in (1, 2) and array.dtype == object:
        try:
            return pa.array(list(values))
        except _ARROW_REFUSES:
            if array.ndim == 1 and all(value is None or type(value) in (int, float) for value in array):
                # Integers beyond 64 bits, read as their text as _pandas_array reads them (NaN: missing).
                return pa.array([None if v is None or v != v else str(v) for v in array], pa.string())
            raise InputError(f"'{name}' mixes values of different kinds (numbers, lists, text)") from None
    if array.dtype.kind not in "biufUSM" or array.ndim not in (1, 2):
        shape = f"shape {array.shape}" if array.ndim not in (1, 2) else f"values of type {array.dtype}"
        raise InputError(
            f"'{name}' must be a 1-D array or a 2-D array (rows x values) of numbers or labels, got {shape}"
        )
    if array.ndim == 2 and array.shape[1] == 0:  # Arrow has no fixed-size lists of 0 values
        if len(array):
            raise EmptyVectors(f"'{name}'", 0)
        return pa.array([], pa.float64())
    array = _arrow_dtype(array, name)
    if array.ndim == 2:
        flat = np.ascontiguousarray(array).reshape(-1)
        return pa.FixedSizeListArray.from_arrays(pa.array(flat), array.shape[1])
    return pa.array(array)


def _arrow_dtype(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` in a NumPy type that Arrow takes, where it refused one with a bare error ("Unsupported numpy type
    13", "Unsupported datetime64 time unit"): a long double as float64, the precision losses are computed in; dates
    in years, months or weeks as days and times in hours or minutes as seconds, the same instants. Times finer than
    nanoseconds, which Arrow cannot hold, are an input error."""
    if array.dtype.kind == "f" and array.dtype.itemsize > 8:
        return array.astype(np.float64)
    if array.dtype.kind == "M":
        unit = np.datetime_data(array.dtype)[0]
        if unit in ("Y", "M", "W"):
            return array.astype("datetime64[D]")
        if unit in ("generic", "h", "m"):
            return array.astype("datetime64[s]")
        if unit in ("ps", "fs", "as"):
            raise InputError(f"'{name}' holds times in {unit}, finer than Arrow's nanoseconds; give them in ns")
    return array


def _frame_matrix(frame: Any, name: str) -> np.ndarray:
    """A pandas or polars DataFrame given as one array (``y_pred=df[["a", "b"]]``) as the (rows x K) float64 matrix
    of its values, NaN where missing: one vector per row, K outputs or classes."""
    try:
        if _module(frame) == "pandas":
            return frame.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(frame.to_numpy(), dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"'{name}' is a DataFrame whose columns are not all numbers; give one numeric column per output or class"
        ) from None


def masked_as_missing(values: Any) -> Any:
    """A NumPy masked array with its masked values missing (NaN, or ``None`` beside labels and integers), where
    ``np.asarray`` would read the values under the mask; anything else as it is."""
    if not isinstance(values, np.ma.MaskedArray):
        return values
    mask = np.ma.getmaskarray(values)
    if not mask.any():
        return values.data
    floats = values.dtype.kind == "f"
    filled = values.data.astype(np.float64 if floats else object)
    filled[mask] = np.nan if floats else None
    return filled


def array_values(values: Any, name: str, row_offset: int = 0) -> np.ndarray:
    """An array-like's values as float64, NaN where missing, read as a column of a table: a vector column (a
    list column, or text of JSON arrays) as a (rows x K) matrix, numbers and text numbers as one value per row.
    Rows in messages are counted from ``row_offset`` (a batch's first row in a stream)."""
    column = array_column(values, name)
    if is_vector_column(column):
        return to_float64_matrix(column, [name], row_offset)[0]
    return float64_values(column, name, row_offset)


def _pandas_array(series: Any) -> pa.Array:
    """A pandas Series as Arrow. An object column of mixed types (``'1'``, ``2``, ``3.0``), which Arrow refuses,
    is read as its text, as the CSV that ``DataFrame.to_csv`` writes would be: numbers still parse, and a
    ``by`` key of ``'a'`` and ``1`` has the groups ``'a'`` and ``'1'``. So are periods and intervals, and any column
    Arrow cannot hold (complex or sparse numbers, integers beyond 64 bits: ids stay exact keys, as a CSV reader
    keeps them, and values read as numbers, 10**400 as an infinite one)."""
    if _read_as_text(series.dtype):
        return pa.array(_text(series), pa.string())
    try:
        return pa.Array.from_pandas(series)
    except _ARROW_REFUSES:
        return pa.array(_text(series), pa.string())


def _read_as_text(dtype: Any) -> bool:
    """pandas periods and intervals, which Arrow would hold as ordinals (``600`` for ``2020-01``) and structs, are
    read as their text (``2020-01``, ``(0, 1]``), as ``to_csv`` writes them."""
    return type(dtype).__name__ in ("PeriodDtype", "IntervalDtype")


def _text(series: Any) -> list[str | None]:
    missing = series.isna().tolist()
    return [None if gap else str(value) for value, gap in zip(series.tolist(), missing, strict=True)]


def _pandas_table(frame: Any) -> pa.Table:
    """A pandas DataFrame as Arrow, its column names strings that each select one column. A named index is a column
    too (``df.set_index("id")``: usable as ``by``, ``on``, ...); an unnamed one is row labels, not data, and is
    dropped, as ``to_csv(index=False)`` drops it: kept, a filtered frame's labels became a column
    ``__index_level_0__``, which ``compare`` then found differing from the other frame's labels ("rows are aligned
    by order and these are not the same rows")."""
    if getattr(frame.columns, "nlevels", 1) > 1:
        raise InputError(
            "the pandas DataFrame has MultiIndex columns; give it one level of string names "
            "(e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns])"
        )
    frame = _without_copied_levels(frame, _string_names(list(frame.columns), "pandas DataFrame"))
    keep_index = any(name is not None for name in frame.index.names)
    if any(name is not None and not isinstance(name, str) for name in frame.index.names):  # as the columns' names
        frame = frame.rename_axis([None if name is None else str(name) for name in frame.index.names])
    textual = [position for position, dtype in enumerate(frame.dtypes) if _read_as_text(dtype)]
    if textual or (keep_index and _read_as_text(frame.index.dtype)):
        frame = frame.copy(deep=False)  # the caller's frame is not changed
        for position in textual:
            frame.isetitem(position, _text(frame.iloc[:, position]))
        if keep_index and _read_as_text(frame.index.dtype):
            name = frame.index.name
            frame.index = _text(frame.index.to_series())
            frame.index.name = name
    try:
        return pa.Table.from_pandas(frame, preserve_index=keep_index)
    except _ARROW_REFUSES:  # a column Arrow cannot hold: mixed objects, complex or sparse numbers, huge integers
        text = frame.copy(deep=False)
        for position in range(frame.shape[1]):
            if not _converts_from_pandas(frame.iloc[:, position]):
                text.isetitem(position, _text(frame.iloc[:, position]))
        if keep_index and not _converts_from_pandas(frame.index.to_series()):
            text.index = _text(frame.index.to_series())
            text.index.name = frame.index.name
        return pa.Table.from_pandas(text, preserve_index=keep_index)


def _without_copied_levels(frame: Any, columns: list[str]) -> Any:
    """``frame`` without the index levels named as a column and holding its values (``set_index("id", drop=False)``);
    a level named as a column but holding other values is an error, as pandas' own ``groupby`` says: which one the
    name selects would be a guess (it was the column, silently)."""
    import pandas as pd

    for level, name in enumerate(frame.index.names):
        if name is None or str(name) not in columns:
            continue
        column = frame.iloc[:, columns.index(str(name))]
        if not frame.index.get_level_values(level).equals(pd.Index(column)):
            raise InputError(
                f"'{show_name(str(name))}' is both an index level and a column of the pandas DataFrame, holding "
                "different values; drop the index (df.reset_index(drop=True)) or rename one"
            )
        dropped = frame.droplevel(level) if frame.index.nlevels > 1 else frame.reset_index(drop=True)
        return _without_copied_levels(dropped, columns)
    return frame


def _converts_from_pandas(series: Any) -> bool:
    try:
        pa.Array.from_pandas(series)
    except _ARROW_REFUSES:
        return False
    return True


def _polars_table(frame: Any) -> pa.Table:
    """A polars DataFrame as Arrow. A column of a type Arrow lacks (``Int128``) is read as its text, as ``write_csv``
    writes it: its numbers still parse, and as a key it keeps every digit."""
    try:
        return frame.to_arrow()
    except pa.ArrowException:
        import polars as pl  # loaded already: the frame is one of its objects

        lacking = [name for name in frame.columns if not _converts(frame.select(name))]
        return frame.with_columns(pl.col(name).cast(pl.String) for name in lacking).to_arrow()


def _converts(frame: Any) -> bool:
    try:
        frame.to_arrow()
    except pa.ArrowException:
        return False
    return True


def _collected(lazy: Any) -> Any:
    """A polars LazyFrame's result; its query failing is an input error quoting polars' first line."""
    import polars as pl  # loaded already: the frame is one of its objects

    try:
        return lazy.collect()
    except pl.exceptions.PolarsError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"the polars LazyFrame failed to collect: {first}") from error


def table_of_arrays(columns: Mapping[str, Any]) -> pa.Table:
    """A dict of array-likes as one table; every column must have one value per row (as scikit-learn asks)."""
    if not columns:
        raise UsageError("no data: give a path, a DataFrame, an Arrow table, a dict of arrays or y_true=/y_pred=")
    arrays = {str(name): array_column(values, str(name)) for name, values in columns.items()}
    lengths = [len(array) for array in arrays.values()]
    if len(set(lengths)) > 1:
        raise InputError(f"found input variables with inconsistent numbers of samples: {lengths}")
    return pa.table(arrays)


def _is_paths(data: object) -> bool:
    return isinstance(data, list | tuple) and bool(data) and all(isinstance(item, str | os.PathLike) for item in data)


# Names of standard input: ``-``, and the files that are its descriptor (``cat x | lossctl eval /dev/stdin``).
_STDIN = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


def _is_stream(data: object) -> bool:
    """Whether ``data`` is an open file or stream (``open(...)``, ``io.BytesIO``), read once as standard input is."""
    return hasattr(data, "read") and hasattr(data, "readable")


def _paths(data: Any) -> list[str]:
    """The paths ``data`` names: one, several, or none (in-memory data)."""
    if isinstance(data, str | os.PathLike):
        return [os.fspath(data)]
    return [os.fspath(item) for item in data] if _is_paths(data) else []


def _pipe(path: str) -> tuple[int, int] | None:
    """The identity of a named pipe or socket at ``path`` (read once, as standard input is), else ``None``."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return (status.st_dev, status.st_ino) if stat.S_ISFIFO(status.st_mode) or stat.S_ISSOCK(status.st_mode) else None


def check_stdin_once(inputs: Mapping[str, Any]) -> None:
    """Standard input can be read once: ``-`` may stand for one of a run's ``inputs`` (keyed by what each is, as
    messages say it: ``the predictions``, ``--targets``), not two, or the second would find it empty. So can a
    named pipe: given twice (``compare ff ff``), the second read would start where the first stopped. So can an
    open file or stream of the Python API, given for two inputs (``compare(s, s)``): the second found it empty."""
    given = [role for role, data in inputs.items() if any(path in _STDIN for path in _paths(data))]
    if len(given) > 1:
        raise UsageError(f"standard input (-) is given as {' and as '.join(given)}; it can be read only once")
    opened = [role for role, data in inputs.items() if _is_stream(data)]
    for role in opened[1:]:
        if inputs[role] is inputs[opened[0]]:
            raise UsageError(f"the same stream is given as {opened[0]} and as {role}; it can be read only once")
    pipes: dict[tuple[int, int], str] = {}
    for role, data in inputs.items():
        for path in _paths(data):
            pipe = None if path in _STDIN else _pipe(path)
            if pipe is None:
                continue
            if pipe in pipes:
                given_as = f"twice as {role}" if pipes[pipe] == role else f"as {pipes[pipe]} and as {role}"
                raise UsageError(f"the named pipe '{show_name(path)}' is given {given_as}; it can be read only once")
            pipes[pipe] = role


def _files_given_twice(paths: list[str]) -> list[str]:
    """The notice of the files that several inputs name more than once (``eval a.csv a.csv``, ``eval a.csv
    ./a.csv``): their rows are read as often, as given (docs/cli.md: the paths in the order given), which doubled
    ``n`` and narrowed every interval without a word. One line, however many files (``eval d/* d/*`` over 2,000
    files wrote 2,000 lines): a single file is named with its spellings, several are listed (:func:`listing`)."""
    names: dict[tuple[int, int], list[str]] = {}
    for path in paths:
        try:
            status = os.stat(path)
        except (OSError, ValueError):  # a glob, a remote path, a missing file: told when it is opened
            continue
        if stat.S_ISREG(status.st_mode):
            names.setdefault((status.st_dev, status.st_ino), []).append(path)
    repeated = [given for given in names.values() if len(given) > 1]
    if not repeated:
        return []
    if len(repeated) > 1:
        files = listing([f"'{show_name(given[0])}'" for given in repeated], "files")
        return [f"the files {files} are each given more than once among the inputs: their rows are read as often"]
    ((first, *others),) = repeated
    times = "twice" if len(others) == 1 else f"{len(others) + 1} times"
    spellings = list(dict.fromkeys([first, *others]))
    also = " (as " + " and as ".join(f"'{show_name(name)}'" for name in spellings) + ")" if len(spellings) > 1 else ""
    read = f"its rows are read {times}, as given"
    return [f"the file '{show_name(first)}' is given {times} among the inputs{also}: {read}"]


def open_data(
    data: Any,
    input_format: str | None = None,
    stdin: BinaryIO | None = None,
    *,
    delimiter: str | None = None,
    decimal: str = ".",
    what: str | None = None,
) -> Source:
    """The :class:`Source` of ``data`` (see the module docstring); nothing is read beyond column names.

    ``delimiter`` and ``decimal`` read delimited text (a CSV's delimiter is sniffed without it). ``what`` names
    the keyword ``data`` was given as when it is not the predictions (``targets``), for the message that refuses it.
    """
    if isinstance(data, str | os.PathLike):
        return open_input(os.fspath(data), input_format, stdin=stdin, delimiter=delimiter, decimal=decimal)
    if _is_paths(data):
        paths = [os.fspath(item) for item in data]
        if len(paths) == 1:
            return open_input(paths[0], input_format, stdin=stdin, delimiter=delimiter, decimal=decimal)
        if sum(path in _STDIN for path in paths) > 1:
            raise UsageError("standard input (-) is given more than once among the inputs; it can be read only once")
        parts = []
        for path in paths:
            try:
                parts.append(
                    open_input(path, input_format, stdin if path == "-" else None, delimiter=delimiter, decimal=decimal)
                )
                parts[-1].release()  # else each of 2,000 inputs holds a descriptor until all are read
            except EmptyInput as empty:  # not 0 rows, as a CSV file with a header line only is: no columns
                raise InputError(
                    f"{empty}, so it has no columns: several inputs are read as one dataset and must have the same "
                    "columns"
                ) from None
        concat = ConcatSource(parts)
        concat.notices += tuple(_files_given_twice(paths))
        return concat
    if _is_stream(data):  # an open file or stream: read as standard input is
        return open_input(STREAM, input_format, stdin=as_binary(data), delimiter=delimiter, decimal=decimal)
    if input_format is not None:
        raise UsageError(f"{option('input_format')} applies to files and streams, not to in-memory data")
    if isinstance(data, pa.Table):
        return TableSource("Arrow table", data)
    if isinstance(data, pa.RecordBatch):
        return TableSource("Arrow record batch", pa.Table.from_batches([data]))
    if isinstance(data, pa.RecordBatchReader) or (_module(data) == "pyarrow" and hasattr(data, "to_batches")):
        return ReaderSource(
            "Arrow record batch reader" if isinstance(data, pa.RecordBatchReader) else "Arrow dataset", data
        )
    module = _module(data)
    if module == "pandas" and hasattr(data, "columns"):
        return TableSource("pandas DataFrame", _pandas_table(data))
    if module == "polars" and hasattr(data, "to_arrow"):
        return TableSource("polars DataFrame", _polars_table(data))
    if module == "polars" and hasattr(data, "collect"):
        return TableSource("polars LazyFrame", _polars_table(_collected(data)))
    if isinstance(data, Mapping):
        return TableSource("arrays", table_of_arrays(data))
    kinds = "a path, several paths, a pandas or polars DataFrame, a pyarrow Table, RecordBatchReader or Dataset"
    shown = f"{show_name(reprlib.repr(data))} ({type(data).__name__})"
    if what is not None:
        raise UsageError(f"{what} takes {kinds}, or a dict of arrays; got {shown}")
    raise UsageError(f"cannot evaluate {shown}: give {kinds}, a dict of arrays, or y_true=/y_pred= arrays")
