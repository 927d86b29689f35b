"""Opening prediction files: one :class:`Source` per input, whatever its format (docs/cli.md, "Input").

A :class:`Source` knows its column names (and, where the format stores it, its row count) as soon as
it is opened, without reading data, so that column specs are resolved and reported before any real
work. Data is then read either whole (:meth:`Source.read`) or as a stream of record batches in file
order (:meth:`Source.batches`), always restricted to the columns the losses need.

Every failure to read is an :class:`~lossctl.errors.InputError` whose one-line message names the
file; pyarrow's own exceptions never escape, because their multi-line texts are not messages a user
of a command-line tool should have to read.

Standard input, named pipes and process substitutions are read once, as a stream, their format
recognised from their first bytes (:mod:`lossctl.io.streams`); so is a file without a known extension.
"""

from __future__ import annotations

import bisect
import csv
import glob
import io
import itertools
import os
import re
import stat
import sys
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, cast

import pyarrow as pa

from lossctl.arrow import blanks_to_nulls, plain
from lossctl.defaults import PARQUET_BUFFER_BYTES
from lossctl.errors import EmptyInput, InputError, UsageError, option
from lossctl.io import streams
from lossctl.io.columns import column_not_found
from lossctl.io.convert import is_text_type
from lossctl.io.formats import COMPRESSIONS, EXTENSIONS, FORMATS
from lossctl.io.guards import (
    Lines,
    LineTooLong,
    count_lines,
    first_line_of_several_values,
    first_null_line,
    first_too_deep_line,
    more_rows_than_lines,
)
from lossctl.io.parts import (
    Declared,
    changed_while_read,
    check_same_columns,
    concat_parts,
    conform,
    dataset_types,
    every_row,
    parquet_declared,
    parquet_span,
)
from lossctl.limits import MAX_JSON_DEPTH, MAX_LINE_VARIABLE, max_line_bytes
from lossctl.prefetch import prefetch
from lossctl.text import count, is_utf8, listing, show_name
from lossctl.threads import parquet_decodes_on_arrow_threads

if TYPE_CHECKING:
    import pyarrow.parquet as pq

_TITLES = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "arrow": "Arrow IPC", "jsonl": "JSON Lines"}
# The delimiters sniffed from a CSV header line, in the order that breaks ties (docs/cli.md, "Input").
SNIFFED_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
DECIMAL_POINTS = (".", ",")
_PARQUET_EXTENSIONS = (".parquet", ".pq")
_BOM = b"\xef\xbb\xbf"
_EXACT_FLOAT_INTEGERS = 2.0**53  # from here on, float64 holds only some integers
_LONG_INTEGER = r"^\s*[-+]?[0-9]{16,}\s*$"  # an integer that may be beyond them
# The fix named by the errors of text that is not UTF-8.
_TO_UTF8 = "convert the file to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)"

# Text formats are parsed in blocks of whole lines of this size: a file up to this size is one
# `read_csv` call (pyarrow's fastest path, cf. docs/performance.md), a larger one is streamed in bounded
# memory. Blocks are parsed with `read_csv` rather than through `open_csv`, which measured 2.7x slower
# and fixes every column's type from its first megabyte (a column of integers that later holds 0.5
# would fail there), whereas each block infers its own types. With blocks from the system allocator
# (:func:`_arrow_owned`), 8 MB gave a 50M-row CSV 255 MB of peak RSS in 3.1 s (16 MB: 360 MB in 3.0 s; 4 MB:
# 198 MB in 3.3 s) and the 10M-row file 0.88 s (16 MB: 0.86 s).
BLOCK_BYTES = 8 * 1024 * 1024
_MiB = 1 << 20
# How much of a JSON Lines file is parsed to list its keys: keys that first appear later are missed.
_JSON_HEAD_BYTES = 1024 * 1024


def format_title(fmt: str) -> str:
    """A format as messages name it: ``Parquet``, ``JSON Lines``."""
    return _TITLES[fmt]


def _label(path: str) -> str:
    """How messages name an input: quoted path, standard input, or the stream."""
    return streams.UNNAMED.get(path) or f"'{show_name(path)}'"


def naming_files(
    error: InputError, data: Source, targets: Source | None = None, candidate: Source | None = None
) -> InputError:
    """``error`` naming the file that holds the row it cites (:attr:`~lossctl.errors.InputError.row`) in each input
    numbering it (:attr:`~lossctl.errors.InputError.rows_of`: ``data``, the ``targets``, both, or ``data`` and the
    ``candidate`` of ``compare``, whose row is its own :attr:`~lossctl.errors.InputError.their_row` when joined by
    ``--on``) that is several files; else ``error`` as it is. The one place where a message about rows names a
    file: either engine's error passes here, so both say the same."""
    if error.row is None:
        return error
    candidate_row = error.row if error.their_row is None else error.their_row
    numbering: dict[str, list[tuple[Source | None, int]]] = {
        "data": [(data, error.row)],
        "targets": [(targets, error.row)],
        "both": [(data, error.row), (targets, error.row)],
        "compared": [(data, error.row), (candidate, candidate_row)],
    }
    cited = [(source, row) for source, row in numbering[error.rows_of] if source is not None]
    held = [(source, row, file) for source, row in cited if (file := source.file_of(row)) is not None]
    if not held or any(_names(str(error), source, file) for source, _, file in held):
        return error
    return error.in_file([(row, _label(file)) for _, row, file in held])


def _names(message: str, source: Source, file: str) -> bool:
    """Whether ``message`` names ``file`` of ``source``: a reader's error names the file it was reading; naming the
    whole input (``a.csv, b.csv``, which lists the file) does not."""
    return file in (message.replace(source.name, "") if file in source.name else message)


def several(paths: Sequence[str]) -> tuple[str, str]:
    """The :attr:`Source.path` and :attr:`Source.shown` of an input made of several ``paths``: all of them, joined,
    for JSON's ``input.path``; the first 20 and their number (:func:`~lossctl.text.listing`) for messages, which
    named 2,000 files in a line of tens of KB."""
    return ", ".join(paths), listing(paths, "paths")


def _where(path: str) -> str:
    """The unquoted form used by ``column 'x' not found in preds.csv``."""
    return streams.UNNAMED.get(path, path)


def pandas_index_note(schema: pa.Schema) -> str:
    """Why a name pandas shows may not be a column of a Parquet or Arrow file: ``df.set_index('id').to_parquet(p)``
    keeps a RangeIndex only in the schema's pandas metadata (``pd.read_parquet`` restores ``id`` from it), not as a
    column; columns are what the file holds (docs/cli.md). ``""`` when there is no such index."""
    import json

    try:
        indexes = json.loads((schema.metadata or {}).get(b"pandas", b"{}")).get("index_columns", [])
    except (ValueError, AttributeError):
        return ""
    names = [i.get("name") for i in indexes if isinstance(i, dict) and i.get("kind") == "range"]
    names = [name for name in names if isinstance(name, str) and name not in schema.names]
    if not names:
        return ""
    return (
        f"'{show_name(names[0])}' is the file's pandas index (a RangeIndex), which pandas keeps in the file's "
        "metadata only, not as a column; write it as a column with df.reset_index() before saving"
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _read_error(label: str, error: BaseException, title: str | None = None) -> InputError:
    """``error``, raised reading the input ``label`` (as ``title``, a format's name, where known), as one line; a
    compressed input cut short or corrupt says so whatever its format (:func:`~lossctl.io.streams.compressed_fault`)."""
    reading = f"cannot read {label} as {title}" if title else f"cannot read {label}"
    return streams.compressed_fault(error, label) or InputError(f"{reading}: {_first_line(error)}")


@contextmanager
def _reading(path: str, fmt: str) -> Iterator[None]:
    """Turn pyarrow's and the OS's exceptions into one-line :class:`InputError` messages naming ``path``."""
    try:
        yield
    except PermissionError as error:
        raise InputError(f"cannot read {_label(path)}: permission denied") from error
    except FileNotFoundError as error:
        raise InputError(f"file '{show_name(path)}' not found") from error
    except MemoryError:  # pyarrow's ArrowMemoryError is an ArrowException too, but the file is not at fault
        raise
    except (pa.ArrowException, OSError) as error:
        raise _read_error(_label(path), error, _TITLES[fmt]) from error


def repeated_names(names: Sequence[str]) -> set[str]:
    """The names that more than one column has."""
    if len(set(names)) == len(names):
        return set()
    return {name for name, times in Counter(names).items() if times > 1}


def _is_text_type(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind)


def _slices(batch: pa.RecordBatch, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """Zero-copy slices of at most ``chunk_rows`` rows."""
    for start in range(0, batch.num_rows, chunk_rows):
        yield batch.slice(start, chunk_rows)


def file_index(row: int, rows: Sequence[int]) -> int | None:
    """Of files read one after another, holding ``rows`` rows each, the index of the one holding row ``row``."""
    index = bisect.bisect_right(list(itertools.accumulate(rows)), row)
    return index if index < len(rows) else None


class StoredChunk(NamedTuple):
    """A stored unit of one column: ``size`` bytes at ``offset`` of ``file``, decoded as ``layout`` says (rows,
    types, codec, encodings). Two chunks of equal layout and equal bytes decode to equal values."""

    file: str
    offset: int
    size: int
    layout: tuple[object, ...]


class Source(ABC):
    """One opened input: its column names now, its data on request.

    ``path`` is the path as given (``-`` for standard input, :data:`~lossctl.io.streams.STREAM` for a stream), for
    messages; ``format`` is one of :data:`FORMATS`; ``columns`` are the column names in file order.
    :attr:`num_rows` is known when the format stores it (Parquet, Arrow IPC files), else ``None``: counting CSV rows
    means reading the file.
    """

    path: str
    format: str
    columns: list[str]
    notices: tuple[str, ...] = ()  # what the reader guessed, for stderr (a sniffed delimiter)
    misread = ""  # why its columns may not be those meant (a TSV holding commas), told when binding them fails
    once = False  # a stream read once (standard input, a pipe): its batches cannot be asked for again
    _checks_text = False  # whether the reader itself refuses text that is not UTF-8 (naming the line of a text file)
    # The key columns being read (--by, query ids, --on): a text format keeps the integers of 16 digits or more in
    # them as text (:meth:`_TextSource._long_integers_as_text`), so that two ids are never one float.
    _keys: frozenset[str] = frozenset()
    # ``path`` as messages show it where it is several inputs' (:func:`several`), else ``None``: ``path``.
    shown: str | None = None

    @property
    def name(self) -> str:
        """How messages name the input: its path, ``standard input`` or ``the stream``."""
        return _where(self.shown or self.path)

    @property
    def label(self) -> str:
        """How messages name the input as a subject: its quoted path, ``standard input`` or ``the stream``."""
        return _label(self.shown or self.path)

    @property
    def num_rows(self) -> int | None:
        """The row count when the file's metadata gives it, else ``None``."""
        return None

    _offset = 0  # the rows read before this source's in the input it is part of (:meth:`read_after`)

    @property
    def first_row(self) -> int:
        """The input's row number of this source's first row: 0, but for a later input of several PATHs or a part
        of a dataset (a Dask task's), so that messages name rows as a whole run does."""
        return self._offset

    def read_after(self, rows: int) -> None:
        """Number this source's rows from ``rows``: it is read after inputs of that many rows, as one input."""
        self._offset = rows

    def file_of(self, row: int) -> str | None:
        """The path of the file holding row ``row`` (0-based, of the whole input) when the input is several files,
        else ``None``."""
        return None

    def naming_file(self, error: InputError) -> InputError:
        """``error`` naming the file of this input that holds the row it cites (:func:`naming_files`)."""
        return naming_files(error, self)

    def declared(self, columns: Sequence[str]) -> list[Declared]:
        """What each file of this input declares of ``columns`` before its data is read: one entry, but one per file
        for an input of several (a folder, a glob), so that a dataset of several inputs fixes a key's type from
        every file, as if each were given (:func:`~lossctl.io.parts.dataset_types`)."""
        return [Declared(self.name, self.column_type, self.column_span, self.num_rows)]

    def column_type(self, name: str) -> pa.DataType | None:
        """The type of column ``name`` when the format declares it before any data is read (Parquet, Arrow IPC),
        else ``None``: a text format's types are inferred block by block."""
        return None

    def column_span(self, name: str) -> tuple[int, int] | None:
        """The smallest and largest value of the integer column ``name`` when they are known without reading the
        other columns (Parquet statistics, an Arrow IPC file's column), else ``None``."""
        return None

    def column_chunks(self, name: str) -> list[StoredChunk] | None:
        """Where the stored bytes of column ``name`` lie, unit by unit (Parquet row groups of local files),
        when the format and the place allow reading them as they are; else ``None``."""
        return None

    def release(self) -> None:
        """Close what the source holds open between its opening and its reading (a Parquet file), to open it again
        when read: one input of several (:class:`~lossctl.io.sources.ConcatSource`), which are all opened first."""
        return None

    def read(self, columns: Sequence[str], keys: Collection[str] = ()) -> pa.Table:
        """Read only ``columns`` (in that order, each once) of every row into one table; ``keys`` are the key
        columns among them (:attr:`_keys`)."""
        self._keys = frozenset(c for c in keys if c in columns)
        table = plain(self._read(self._wanted(columns)))
        if not self._checks_text:
            refuse_text_not_utf8(table, self.name, self.first_row)
        return table

    def batches(
        self, columns: Sequence[str], chunk_rows: int, dictionary: Sequence[str] = (), keys: Collection[str] = ()
    ) -> Iterator[pa.RecordBatch]:
        """Yield ``columns`` of every row, in file order, in batches of at most ``chunk_rows`` rows.

        Memory stays bounded by the chunk size and the format's own unit (a Parquet page, an Arrow
        record batch, a 64 MiB block of text). Batches may be shorter than ``chunk_rows`` at the
        boundaries of those units, and a column's type may differ from one batch to the next (a CSV
        column of integers that turns decimal later): the converters accept every numeric type. An
        input without rows yields no batch. Column names are checked now, not at the first batch.
        ``dictionary`` names columns wanted as dictionary arrays where the file stores them so (Parquet text
        columns): grouping by them then needs no hashing of the strings (``--by``). The ``dictionary`` columns and
        ``keys`` are the key columns read (:attr:`_keys`).
        """
        if chunk_rows < 1:
            raise UsageError(f"{option('chunk_rows')} must be at least 1, got {chunk_rows}")
        self._keys = frozenset(c for c in [*dictionary, *keys] if c in columns)
        batches = self._batches(self._wanted(columns), chunk_rows, [c for c in dictionary if c in columns])
        plain_batches = (plain(batch) for batch in batches)
        return plain_batches if self._checks_text else self._text_checked(plain_batches)

    def _text_checked(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        row = self.first_row
        for batch in batches:
            refuse_text_not_utf8(batch, self.name, row)
            row += batch.num_rows
            yield batch

    def _wanted(self, columns: Sequence[str]) -> list[str]:
        """``columns`` once each, every one a column of the input that no other column shares its name with (it
        would select two). Names that repeat are refused only when read: a CSV that pandas wrote with an unnamed
        two-level index (``,,pred,target``) is read for its other columns."""
        wanted = list(dict.fromkeys(columns))
        repeated = repeated_names(self.columns)
        available = set(self.columns)  # not the list: 10,000 columns looked up in it took 0.6 s
        for name in wanted:
            if name not in available:
                error = column_not_found(name, self.columns, _where(self.path))
                raise error.reworded(f"{error}; {self.misread}") if self.misread else error
            if name in repeated:
                raise InputError(
                    f"column '{show_name(name)}' appears more than once in {_label(self.path)}; column names must "
                    "be unique"
                )
        return wanted

    @abstractmethod
    def _read(self, columns: list[str]) -> pa.Table: ...

    @abstractmethod
    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path!r} format={self.format} columns={self.columns}>"


def parquet_file(
    handle: str | pa.NativeFile | BinaryIO,
    label: str,
    dictionary: list[str] | None = None,
    buffer_size: int = PARQUET_BUFFER_BYTES,
) -> pq.ParquetFile:
    """A Parquet file (``handle``: :func:`local_file`'s, or a remote file object, read with ``buffer_size``)
    opened to read by batches, ``dictionary``'s columns dictionary-encoded; one that does not end as Parquet does is
    refused saying why, ``label`` naming it (:func:`~lossctl.io.streams.check_parquet`), local or remote alike."""
    import pyarrow.parquet as pq

    try:
        # pre_buffer=False: pre-buffering reads far ahead of iter_batches; measured on a 20M-row file it
        # held 440 MB against 160 MB and was no faster.
        return pq.ParquetFile(handle, pre_buffer=False, buffer_size=buffer_size, read_dictionary=dictionary or None)
    except pa.ArrowInvalid:
        if isinstance(handle, str):
            streams.check_parquet(pa.OSFile(handle), label)
        else:
            streams.check_parquet(handle if isinstance(handle, pa.NativeFile) else pa.PythonFile(handle, "r"), label)
        raise


class _ParquetSource(Source):
    """One Parquet file, or several read one after another as one dataset (a directory or a glob).

    Datasets are read file by file with ``ParquetFile`` rather than through ``pyarrow.dataset``: the
    latter imports pandas (0.3 s, docs/performance.md), and reading files in our own sorted order keeps row
    order, and so row alignment with a targets file, predictable. Column names come from the first file.
    """

    def __init__(self, path: str, files: list[str] | None = None, handle: pa.NativeFile | None = None) -> None:
        self.path = path
        self.format = "parquet"
        self._files: list[str] = files if files is not None else [path]
        self._handle = handle  # a spilled stream (lossctl.io.streams.spill), read in place of the file
        self._footers: list[tuple[pa.Schema, int]] | None = None  # each file's schema and row count
        self._held: pq.ParquetFile | None = self._open(0)
        self._schema = self._held.schema_arrow  # the first file's, which the dataset's others must match
        self.columns = self._schema.names
        self.misread = pandas_index_note(self._schema)

    @property
    def _first(self) -> pq.ParquetFile:
        """The first file, as opened to read its columns, unless :meth:`release`'d: then opened again."""
        return self._held if self._held is not None else self._open(0)

    def release(self) -> None:
        """A shell's ``part-*.parquet`` of 2,000 files is 2,000 sources, which held a descriptor each from the
        start, beyond the limit of open files (``ulimit -n``, 1,024 by default): each file is opened when read."""
        self._held = None

    def _open(self, index: int, dictionary: list[str] | None = None) -> pq.ParquetFile:
        file = self._files[index]
        with _reading(file, "parquet"):
            handle = self._handle if self._handle is not None else local_file(file)
            return parquet_file(handle, _label(file), dictionary)

    def column_chunks(self, name: str) -> list[StoredChunk] | None:
        """Each row group's chunk of column ``name`` (a top-level, not nested, column of local files): its byte
        range as Arrow's reader computes it, and the layout that with those bytes fixes the decoded values."""
        if self._handle is not None or not all(os.path.isfile(file) for file in self._files):
            return None
        chunks = []
        for index, file in enumerate(self._files):
            parquet = self._first if index == 0 else self._open(index)
            if name not in parquet.schema_arrow.names:  # reading it says which file lacks it
                return None
            arrow_type = parquet.schema_arrow.field(name).type
            leaves = [j for j in range(parquet.metadata.num_columns) if parquet.schema.column(j).path == name]
            if pa.types.is_nested(arrow_type) or len(leaves) != 1:
                return None
            for group in range(parquet.metadata.num_row_groups):
                row_group = parquet.metadata.row_group(group)
                column = row_group.column(leaves[0])
                start = column.data_page_offset
                if column.has_dictionary_page and 0 < column.dictionary_page_offset < start:
                    start = column.dictionary_page_offset
                if column.file_path:  # stored in another file
                    return None
                layout = (
                    row_group.num_rows,
                    column.num_values,
                    column.physical_type,
                    column.compression,
                    column.encodings,
                    str(arrow_type),
                )
                chunks.append(StoredChunk(file, start, column.total_compressed_size, layout))
        return chunks

    @property
    def num_rows(self) -> int | None:
        return sum(self._file_rows)

    @property
    def _file_rows(self) -> list[int]:
        """Each file's row count, from the footers."""
        return [rows for _, rows in self._footer_facts]

    @property
    def _footer_facts(self) -> list[tuple[pa.Schema, int]]:
        """Each file's schema and row count, from the footers, which are tiny: no data is read (opened once, on first
        use; the row counts and the key-type pass, :meth:`declared`, share them)."""
        if self._footers is None:
            opened = (self._first if index == 0 else self._open(index) for index in range(len(self._files)))
            self._footers = [(parquet.schema_arrow, parquet.metadata.num_rows) for parquet in opened]
        return self._footers

    def file_of(self, row: int) -> str | None:
        index = file_index(row, self._file_rows) if len(self._files) > 1 else None
        return self._files[index] if index is not None else None

    def declared(self, columns: Sequence[str]) -> list[Declared]:
        facts = zip(self._files, self._footer_facts, strict=True)
        return [
            parquet_declared(_where(file), schema, rows, columns, partial(self._span, index))
            for index, (file, (schema, rows)) in enumerate(facts)
        ]

    def _types(self, columns: list[str]) -> dict[str, pa.DataType]:
        """The type of each column whose files declare different ones (:func:`dataset_types`)."""
        if len(self._files) == 1:
            return {}
        return dataset_types(columns, self.declared(columns), self._keys)

    def _span(self, index: int, name: str) -> tuple[int, int] | None:
        with _reading(self._files[index], "parquet"):
            return parquet_span(self._first if index == 0 else self._open(index), name)

    def _parts(self, columns: list[str], dictionary: list[str] | None = None) -> Iterator[tuple[str, pq.ParquetFile]]:
        """Each file checked, so that a later file with other columns than the first (:func:`check_same_columns`)
        is named in the error."""
        first = self._schema
        for index, file in enumerate(self._files):
            try:
                parquet = self._first if index == 0 and not dictionary else self._open(index, dictionary)
            except KeyError:  # pyarrow's answer to a dictionary column the file lacks: the check below names it
                parquet = self._open(index)
            schema = parquet.schema_arrow
            names = set(schema.names)  # once: each .names makes a new list (10,000 columns took 8 s)
            if index:
                check_same_columns(file, schema.names, self._files[0], first.names)
            for name in columns:
                if name not in names:
                    raise column_not_found(name, schema.names, _where(file))
            yield file, parquet

    def _read(self, columns: list[str]) -> pa.Table:
        types = self._types(columns)
        tables = []
        for file, parquet in self._parts(columns):
            with _reading(file, "parquet"):
                table = parquet.read(columns=columns).select(columns)
            if table.num_rows != parquet.metadata.num_rows:
                rows = parquet.metadata.num_rows
                raise changed_while_read(
                    _label(file), f"it ended after {count(table.num_rows, 'row')} of the {rows} its footer lists"
                )
            tables.append(conform(table, types, file))
        return concat_parts(tables, columns, _label(self.path))

    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]:
        types = self._types(columns)
        text = [c for c in dictionary if _is_text_type(types.get(c, self._schema.field(c).type))]
        for file, parquet in self._parts(columns, text):
            with _reading(file, "parquet"):
                batches = parquet.iter_batches(
                    batch_size=chunk_rows, columns=columns, use_threads=parquet_decodes_on_arrow_threads()
                )
                for batch in every_row(batches, parquet.metadata.num_rows, _label(file)):
                    yield conform(batch.select(columns), types, file)


_ARROW_STREAM = b"\xff\xff\xff\xff"  # an Arrow IPC stream's first message starts with this continuation marker
# The end-of-stream marker, which every writer puts after the last record batch on closing (the IPC format's spec):
# pyarrow takes the end of the bytes for the end of the stream too, so a stream cut between two batches would
# otherwise read as a shorter one.
_ARROW_END = _ARROW_STREAM + bytes(4)
# Before Arrow 0.15 (the legacy format, still read by pyarrow) messages had no continuation marker and the end of
# the stream was 4 zero bytes: an IPC file of then holds such a stream.
_ARROW_LEGACY_END = bytes(4)


def _cut_short(path: str, rows: int | None = None, missing: str = "the end-of-stream marker") -> InputError:
    read = f" after {count(rows, 'row')}" if rows is not None else ""
    return InputError(
        f"cannot read {_label(path)} as Arrow IPC: it ends{read} without {missing}, so it was cut "
        "short (did the program writing it fail?)"
    )


def _goes_on(stream: BinaryIO, footer: bool) -> bool:
    """Whether an IPC stream read to its end-of-stream marker goes on with more than belongs after it: nothing, or
    for an IPC file read as its stream (``footer``), the footer (a flatbuffer, its 4-byte length, ``ARROW1``).
    pyarrow stops at the marker, so a second stream joined after it (``cat a.arrows b.arrows``) was left out, its
    rows lost without a word. The rest is read in pieces, only its size and last bytes kept."""
    if not footer:
        return bool(stream.read(1))
    size, last = 0, b""
    while piece := stream.read(1 << 16):
        size, last = size + len(piece), (last + piece)[-10:]
    return not (last.endswith(streams.ARROW_FILE) and int.from_bytes(last[:4], "little") == size - 10)


def _joined(path: str, rows: int) -> InputError:
    return InputError(
        f"cannot read {_label(path)} as Arrow IPC: it goes on after its end-of-stream marker (after "
        f"{count(rows, 'row')}); are several streams joined (cat a b)? give each file as a PATH"
    )


class _Tail(io.RawIOBase):
    """A stream read through, remembering the last bytes read (to find an Arrow IPC stream's end marker)."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._stream = stream
        self.tail = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self.tail = (self.tail + data[-len(_ARROW_END) :])[-len(_ARROW_END) :]
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _arrow_names(schema: pa.Schema, path: str) -> list[str]:
    """The column names of an Arrow IPC input's schema. Arrow declares them UTF-8, and pyarrow decodes them
    unchecked: bytes that are not (a corrupt file) failed as an internal error (UnicodeDecodeError)."""
    try:
        return schema.names
    except UnicodeDecodeError:
        raise InputError(
            f"cannot read {_label(path)} as Arrow IPC: a column name is not UTF-8 text; is the file corrupt?"
        ) from None


def _checked(batch: pa.RecordBatch, path: str) -> pa.RecordBatch:
    """A record batch read from Arrow IPC, its buffers checked against its length (Arrow's cheap validation, per
    column, not per row): pyarrow's reader does not, and a corrupt file's batch (a buffer shorter than its rows
    need) failed as an internal error where NumPy read it, or was read past its end. A dictionary column of numbers
    is checked in full, a pass over its indices: one beyond its dictionary failed as an internal error where it was
    decoded (``ArrowIndexError``), and a negative one picked another value where NumPy took it. (A text column's
    full check is :func:`refuse_text_not_utf8`'s, indices and all.)"""
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        full = pa.types.is_dictionary(column.type) and not is_text_type(column.type.value_type)
        problem = _invalid(column, full)
        if problem is not None:
            raise InputError(
                f"cannot read {_label(path)} as Arrow IPC: column '{show_name(name)}' is corrupt ({problem}); is the "
                "file damaged?"
            )
    return batch


class _ArrowSource(Source):
    """An Arrow IPC file (Feather v2) or stream, read with ``pread`` (only the asked columns' buffers of a file).

    Not memory-mapped: a mapped file cut by another program while it is read (rewritten in place) kills the
    process with SIGBUS when a page past its new end is touched, with no message and the temporary outputs left
    behind; a read past the end is an error like any other. Copying the columns read costs about 2 ms per 100 MB.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.format = "arrow"
        self._check_end()
        reader = self._open(None)[0]
        self._schema = reader.schema
        self.columns = _arrow_names(reader.schema, path)
        self.misread = pandas_index_note(reader.schema)
        with _reading(path, "arrow"):  # reads every record batch's message: a corrupt one fails here
            self._num_rows = reader.count_rows() if isinstance(reader, pa.ipc.RecordBatchFileReader) else None

    def _check_end(self) -> None:
        """Refuse an input that starts as an IPC file (``ARROW1``) or stream but does not end as one: with its
        footer and ``ARROW1`` again, or with the end-of-stream marker. It was cut short: pyarrow's words for a file
        were "Not an Arrow file", and a stream cut between two record batches read as the rows before the cut."""
        with open(self.path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            start = os.pread(file.fileno(), len(streams.ARROW_FILE), 0)
            if start == streams.ARROW_FILE:
                end, missing = streams.ARROW_FILE, "its footer"
            elif start.startswith(_ARROW_STREAM):
                end, missing = _ARROW_END, "the end-of-stream marker"
            else:
                return
            if size < len(start) + len(end) or os.pread(file.fileno(), len(end), size - len(end)) != end:
                raise _cut_short(self.path, missing=missing)

    def column_type(self, name: str) -> pa.DataType | None:
        return self._schema.field(name).type

    def column_span(self, name: str) -> tuple[int, int] | None:
        """Read from the column's values, which an IPC file has no statistics of (only its buffers are read)."""
        import pyarrow.compute as pc

        if not pa.types.is_integer(self._schema.field(name).type):
            return None
        spans = [pc.min_max(batch.column(0)).as_py() for batch in self._all([name])]
        spans = [span for span in spans if span["min"] is not None]
        return (min(s["min"] for s in spans), max(s["max"] for s in spans)) if spans else (0, 0)

    @property
    def num_rows(self) -> int | None:
        """Known for the IPC file format (from its footer), not for a stream."""
        return self._num_rows

    def _open(
        self, fields: list[int] | None
    ) -> tuple[pa.ipc.RecordBatchFileReader | pa.ipc.RecordBatchStreamReader, _Tail | None]:
        """Open with only ``fields`` decoded (all when ``None``), choosing file or stream by magic bytes; a stream
        is read through a :class:`_Tail` (returned too), which shows whether its end marker was read."""
        with _reading(self.path, "arrow"):
            source = pa.OSFile(self.path)
            magic = source.read(6)
            source.seek(0)
            options = pa.ipc.IpcReadOptions(included_fields=fields) if fields is not None else None
            if magic == streams.ARROW_FILE:
                return pa.ipc.open_file(source, options=options), None
            if magic.startswith(_ARROW_STREAM):
                tail = _Tail(cast(BinaryIO, source))
                return pa.ipc.open_stream(tail, options=options), tail
        raise streams.not_format(magic, "arrow", _label(self.path), _TITLES["arrow"])

    def _all(self, columns: list[str]) -> Iterator[pa.RecordBatch]:
        """Every record batch, with ``columns`` only. A stream checked to end with its end marker at the open
        ends so no more when read (rewritten in place meanwhile) is cut short: an error, not fewer rows."""
        position = {name: index for index, name in enumerate(self.columns)}  # not list.index, once per column
        reader, tail = self._open(sorted(position[name] for name in columns))
        rows = 0
        with _reading(self.path, "arrow"):
            if isinstance(reader, pa.ipc.RecordBatchFileReader):
                parts: Iterator[pa.RecordBatch] = (reader.get_batch(i) for i in range(reader.num_record_batches))
            else:
                parts = iter(reader)
            try:
                for batch in parts:
                    rows += batch.num_rows
                    yield _checked(batch, self.path).select(columns)
            except (pa.ArrowInvalid, OSError):
                # A stream cut inside a message: pyarrow's words ("Corrupted metadata length, only 0 bytes
                # available") when no byte is left, which is a cut; the same cut between two messages ends below.
                if tail is not None and not tail.read(1):
                    raise _cut_short(self.path, rows) from None
                raise
        if tail is not None and tail.tail != _ARROW_END:
            raise _cut_short(self.path, rows)
        with _reading(self.path, "arrow"):
            if tail is not None and _goes_on(cast(BinaryIO, tail), footer=False):
                raise _joined(self.path, rows)

    def _read(self, columns: list[str]) -> pa.Table:
        schema = pa.schema([self._schema.field(name) for name in columns])
        return pa.Table.from_batches(list(self._all(columns)), schema=schema)

    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in self._all(columns):
            yield from _slices(batch, chunk_rows)


class _ArrowStreamSource(Source):
    """Arrow IPC arriving on a stream read once: record batches are decoded as they arrive.

    The IPC file format is the stream format between an 8-byte ``ARROW1`` header and a footer, so it
    streams too: the header is skipped and the footer never read. Every column is decoded (a stream
    cannot skip bytes it has to read anyway) and the asked ones kept.
    """

    once = True

    def __init__(self, path: str, stream: BinaryIO, file_format: bool) -> None:
        self.path = path
        self.format = "arrow"
        self._stream = _Tail(stream)
        self._end = _ARROW_END
        self._footer = file_format
        with _reading(path, "arrow"):
            if file_format:
                streams.read_head(stream, 8)
                if not stream.peek(4).startswith(_ARROW_STREAM):  # type: ignore[attr-defined]  # buffered
                    self._end = _ARROW_LEGACY_END
            try:
                self._reader = pa.ipc.open_stream(self._stream)
            except (pa.ArrowInvalid, OSError):
                self._refuse_cut(None)
                raise
        self.columns = _arrow_names(self._reader.schema, path)
        self.misread = pandas_index_note(self._reader.schema)
        self._consumed = False

    def _refuse_cut(self, rows: int | None) -> None:
        """Say that the input was cut short when pyarrow failed to decode a message (its words: "Expected to read 168
        metadata bytes, but only read 29", "Tried reading schema message, was null or length 0") at its end: no
        byte is left after the failure. Otherwise pyarrow's words stand (a message that is not Arrow IPC)."""
        if not self._stream.read(1):
            raise _cut_short(self.path, rows) from None

    def column_type(self, name: str) -> pa.DataType | None:
        return self._reader.schema.field(name).type

    def _all(self) -> Iterator[pa.RecordBatch]:
        if self._consumed:
            raise InputError(f"{_label(self.path)} can be read only once")
        self._consumed = True
        rows = 0
        with _reading(self.path, "arrow"):
            try:
                for batch in self._reader:
                    rows += batch.num_rows
                    yield _checked(batch, self.path)
            except (pa.ArrowInvalid, OSError):
                self._refuse_cut(rows)
                raise
        if not self._stream.tail.endswith(self._end):
            raise _cut_short(self.path, rows)
        with _reading(self.path, "arrow"):
            if _goes_on(cast(BinaryIO, self._stream), self._footer):
                raise _joined(self.path, rows)

    def _read(self, columns: list[str]) -> pa.Table:
        schema = pa.schema([self._reader.schema.field(name) for name in columns])
        return pa.Table.from_batches([batch.select(columns) for batch in self._all()], schema=schema)

    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in self._all():
            yield from _slices(batch.select(columns), chunk_rows)


def _fill(stream: BinaryIO, view: memoryview) -> int:
    """Read into ``view`` until it is full or the stream ends; decompressing streams return short reads."""
    filled = 0
    while filled < len(view):
        count = stream.readinto(view[filled:])  # type: ignore[attr-defined]  # BinaryIO omits readinto
        if not count:
            break
        filled += count
    return filled


def _find_newline(view: memoryview, position: int) -> int:
    """The offset of the first ``\\n`` at or after ``position``, or -1; looks at 64 KiB at a time."""
    step = 64 * 1024
    while position < len(view):
        found = bytes(view[position : position + step]).find(b"\n")
        if found >= 0:
            return position + found
        position += step
    return -1


def _buffer_blocks(data: pa.Buffer, block_bytes: int, skip_first_line: bool) -> Iterator[tuple[int, pa.Buffer]]:
    """Cut bytes already in memory (a small file read whole, standard input) into zero-copy blocks of whole lines."""
    view = memoryview(data)
    size = len(view)
    start = 0
    if skip_first_line:
        newline = _find_newline(view, 0)
        start = size if newline < 0 else newline + 1
    while start < size:
        cut = size
        if start + block_bytes < size:
            newline = _find_newline(view, start + block_bytes - 1)
            cut = size if newline < 0 else newline + 1
        yield start, data.slice(start, cut - start)
        start = cut


def _arrow_owned(view: memoryview) -> pa.Buffer:
    """``view``'s bytes copied into a buffer Arrow allocated (a few ms per 16 MiB block). A buffer over Python memory
    (``pa.py_buffer``) takes the GIL when freed, and a threaded ``read_csv`` or ``read_json`` may free its last
    reference on one of Arrow's threads just after it returns: when the interpreter was exiting then (a script
    whose last call read a stream), that thread was refused the GIL and ended inside C++, and the process aborted
    ("terminate called without an active exception", exit 134).

    From the system allocator's pool, not Arrow's default jemalloc one, which gave each block fresh pages for the
    kernel to fault in (a 257 MB CSV: 0.22 s to cut and copy its 16 MiB blocks, against 0.09 s where glibc reuses
    the pages freed; whole runs 0.95 -> 0.88 s, docs/performance.md). Rounded up to whole MiB, so that a freed
    block fits the next (a 50M-row CSV: 255 MB of peak RSS, 280 MB unrounded)."""
    size = len(view)
    buffer = pa.allocate_buffer(-(-size // _MiB) * _MiB, memory_pool=pa.system_memory_pool())
    memoryview(buffer).cast("B")[:size] = view
    return buffer.slice(0, size)


def _outside_quotes(buffer: bytes | bytearray, start: int, cut: int) -> int:
    """``cut`` (the start of a line) moved back to the start of a line outside CSV quotes, or 0 if there is none
    after ``start``.

    A line of ``buffer[start:cut]`` ends outside a quoted value when the quotes before it are even in number
    (a doubled ``""`` counts two); an odd count means the last quote opened a value that a newline continues.
    """
    if buffer.find(b'"', start, cut) < 0:  # no quote at all (most numeric files): memchr, not a count
        return cut
    while cut > start and buffer.count(b'"', start, cut) % 2:
        cut = buffer.rfind(b"\n", start, buffer.rfind(b'"', start, cut)) + 1
    return cut if cut > start else 0


def _stream_blocks(
    stream: BinaryIO, block_bytes: int, skip_first_line: bool, max_line: int, quoted: bool = False
) -> Iterator[tuple[int, pa.Buffer]]:
    """Cut a stream (a large or decompressing file, a pipe) into blocks of whole lines, each in a fresh buffer.

    A fresh buffer per block, rather than one reused, because a parsed table may keep pointing into it; one Arrow
    owns (:func:`_arrow_owned`).
    A line is carried whole into the next buffer; one longer than ``max_line`` bytes raises
    :class:`~lossctl.io.guards.LineTooLong` rather than growing the buffer until memory runs out.
    ``quoted`` (CSV): a block is not cut inside a quoted value that holds a newline, which would end its
    record there and start the next block in the middle of it.
    """
    carry = b""
    position = 0  # the stream offset of buffer[0], always the start of a line
    skipping = skip_first_line
    while True:
        if len(carry) > max_line:
            raise LineTooLong(position)
        buffer = bytearray(len(carry) + block_bytes)
        buffer[: len(carry)] = carry
        end = len(carry) + _fill(stream, memoryview(buffer)[len(carry) :])
        at_eof = end < len(buffer)
        start = 0
        if skipping:
            newline = buffer.find(b"\n", 0, end)
            if newline < 0:
                if at_eof:
                    return
                carry = bytes(buffer[:end])
                continue
            start, skipping = newline + 1, False
        cut = end if at_eof else buffer.rfind(b"\n", start, end) + 1
        if quoted and not at_eof:
            # No such line (a stray quote, 5" screen, which pyarrow reads as text): cut at the last newline.
            cut = _outside_quotes(buffer, start, cut) or cut
        if cut > start:
            yield position + start, _arrow_owned(memoryview(buffer)[start:cut])
        if at_eof:
            return
        keep = max(cut, start)
        carry = bytes(buffer[keep:end])
        position += keep


# What a blank line holds, which pyarrow skips without a row: a CSV line that is empty (but for its ``\r``), a JSON
# Lines line of JSON white space only (``"   "`` is a row of CSV, not of JSON Lines).
_CSV_BLANK = b"\r"
_JSON_BLANK = b" \t\r"


def _physical_line(block: pa.Buffer, first_line: int, nonempty_index: int, blank: bytes = _CSV_BLANK) -> int:
    """The file line of the ``nonempty_index``-th (0-based) non-blank line of a block, a line of ``blank``
    bytes only being blank.

    pyarrow numbers rows without the blank lines it skips; users look lines up in an editor.
    """
    seen = 0
    for offset, text in enumerate(block.to_pybytes().split(b"\n")):
        if text.strip(blank):
            if seen == nonempty_index:
                return first_line + offset
            seen += 1
    return first_line + nonempty_index


class _TextSource(Source):
    """A line-oriented text input (CSV, TSV, JSON Lines), possibly compressed, parsed in blocks of lines.

    Blocks are cut at line ends: JSON Lines has one record per line, and a CSV block is not cut inside a
    quoted value (:func:`_outside_quotes`), which may hold a newline. A file of one block is read whole;
    a larger or compressed one is read (decompressed) block by block. A one-shot stream (``once``: standard
    input, a pipe) is read once: the bytes read to find the columns are kept and given again before the rest,
    and the line number of each block is counted as it goes by, since an error message cannot read the input
    again.
    """

    _checks_text = True
    _has_header = False
    _quoted = False  # whether a quoted value may hold a newline (CSV)

    def __init__(
        self,
        path: str,
        fmt: str,
        compression: str | None = None,
        once: BinaryIO | None = None,
        delimiter: str | None = None,
        decimal: str = ".",
    ) -> None:
        self.path = path
        self.format = fmt
        self._compression = compression
        self._once = once
        self._one_shot = self.once = once is not None
        self._head = b""  # of a one-shot stream: the bytes already read from it
        self._rows_before = 0  # data rows in the input before the block being parsed
        self._lines_at: dict[int, int] = {0: 1}  # of a one-shot stream: byte offset of a block -> its first line
        self._delimiter = delimiter
        self._decimal = decimal
        with _reading(path, fmt):
            streams.check_text(self._start(), _label(path), _TITLES[fmt], self._end())
            self.columns = self._read_columns()

    @abstractmethod
    def _read_columns(self) -> list[str]: ...

    def _start(self) -> bytes:
        """The first (decompressed) bytes, up to :data:`~lossctl.io.streams.TEXT_HEAD_BYTES`, without consuming
        them: a file is opened again later, and a one-shot stream keeps them in ``_head``."""
        size = streams.TEXT_HEAD_BYTES
        if self._one_shot:
            if len(self._head) < size and self._once is not None:
                self._head += streams.read_head(self._once, size - len(self._head))
            return self._head[:size]
        with self._stream() as stream:
            return streams.read_head(stream, size)

    def _end(self) -> bytes:
        """The last bytes of a file read as it is, else (compressed, a one-shot stream) none: they tell text that
        starts with ``PAR1`` from a Parquet file (:func:`~lossctl.io.streams.check_text`)."""
        if self._one_shot or self._compression is not None:
            return b""
        return _last_bytes(self.path)

    @abstractmethod
    def _parse(self, block: pa.Buffer, offset: int, columns: list[str]) -> pa.Table: ...

    def _stream(self) -> BinaryIO:
        """The (decompressed) bytes of the input from the start; a one-shot stream gives them once."""
        if self._one_shot:
            once, self._once = self._once, None
            if once is None:
                raise InputError(f"{_label(self.path)} can be read only once")
            return cast(BinaryIO, streams.Replay(self._head, once))
        if self._compression is not None:
            return pa.input_stream(self.path, compression=self._compression)
        return open(self.path, "rb")

    def _peek(self, size: int) -> bytes:
        """The first ``size`` bytes and the rest of the line they end in (everything, if shorter).

        Read without consuming: a file is opened again later, and a one-shot stream keeps what was
        read here in ``_head``. A line longer than the limit is an error here too.
        """
        limit = max_line_bytes()
        stream = None if self._one_shot else self._stream()
        head = bytearray(self._head)
        scanned = max(size - 1, 0)  # where the line end after ``size`` bytes is searched from
        try:
            while True:
                end = head.find(b"\n", scanned) if len(head) >= size else -1
                if end >= 0:
                    break
                scanned = max(len(head), scanned)
                start = head.rfind(b"\n", 0, max(size - 1, 0)) + 1
                if len(head) - start > limit:
                    raise self._line_too_long(head.count(b"\n", 0, start) + 1)
                piece = (stream or self._once).read(1 << 20)  # type: ignore[union-attr]
                if not piece:
                    break
                head += piece
        finally:
            if stream is not None:
                stream.close()
        if self._one_shot:
            self._head = bytes(head)
        return bytes(head if end < 0 else head[: end + 1])

    def _line_too_long(self, line: int) -> InputError:
        limit = max_line_bytes()
        shown = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit:,} bytes"
        return InputError(
            f"cannot read {_label(self.path)} as {_TITLES[self.format]}: line {line} is longer than {shown}, the "
            f"longest line lossctl holds in memory; is the file line-oriented text? ({MAX_LINE_VARIABLE} sets "
            "the limit)"
        )

    def _blocks(self, block_bytes: int) -> Iterator[tuple[int, pa.Buffer]]:
        """``(byte offset, block)`` for blocks of whole lines of about ``block_bytes``, header skipped.

        Files of up to one block are read whole and sliced without copying. Larger files and streams are read
        block by block. A plain file is not memory-mapped: cut by another program while it is read, a mapping
        kills the process with SIGBUS. It must give as many bytes as it had when opened: a file cut meanwhile (a
        rewrite in place) would otherwise end early, its last rows silently left out.
        """
        once = self._one_shot
        plain = not once and self._compression is None
        if plain and os.path.getsize(self.path) <= block_bytes:
            with pa.OSFile(self.path) as file:
                size = file.size()
                data = file.read_buffer()
            self._check_size(data.size, size)
            yield from _buffer_blocks(data, block_bytes, self._has_header)
            return
        stream = self._stream()
        line = 2 if self._has_header else 1
        try:
            size = os.fstat(stream.fileno()).st_size if plain else 0
            blocks = _stream_blocks(stream, block_bytes, self._has_header, max_line_bytes(), self._quoted)
            for offset, block in blocks:
                if once:
                    self._lines_at[offset] = line
                    line += count_lines(block)
                yield offset, block
            if plain:
                self._check_size(stream.tell(), size)
        except LineTooLong as long:
            self._lines_at[long.offset] = line
            raise self._line_too_long(self._line_number(long.offset)) from None
        finally:
            stream.close()

    def _check_size(self, read: int, size: int) -> None:
        """A plain file gave ``read`` bytes of the ``size`` it had when opened: fewer is a file cut meanwhile."""
        if read < size:
            raise changed_while_read(_label(self.path), f"it ended after {read} of the {size} bytes it had when opened")

    def _line_number(self, offset: int) -> int:
        """The 1-based line number at byte ``offset`` (a block's start): counted only for an error message,
        by reading the file again, or recorded as a one-shot stream went by."""
        if self._one_shot:
            return self._lines_at[offset]
        newlines = 0
        with self._stream() as stream:
            while offset > 0:
                piece = stream.read(min(offset, 1024 * 1024))
                if not piece:
                    break
                newlines += piece.count(b"\n")
                offset -= len(piece)
        return newlines + 1

    def _tables(self, columns: list[str]) -> Iterator[pa.Table]:
        self._rows_before = self.first_row
        with _reading(self.path, self.format):
            # The next block is read while this one is parsed on Arrow's threads (a 257 MB CSV: 0.78 -> 0.75 s;
            # through a pipe 0.87 -> 0.83 s).
            last: tuple[pa.Buffer, int] | None = None
            for offset, block in prefetch(self._blocks(BLOCK_BYTES), depth=1):
                table = self._parse(block, offset, columns)
                self._rows_before += table.num_rows
                yield table
                last = block, offset
            if last is not None:
                self._check_end(*last)

    def _long_integers_as_text(self, table: pa.Table, block: pa.Buffer) -> pa.Table:
        """Keep as text a key column (``--by``, a query id) that pyarrow read as floats while a value is an integer of
        16 digits or more: a uint64 id beyond int64 (``18446744073709551615``) makes the column float64, where ids
        from 2^53 on round, so ``9007199254740993`` and ``9007199254740992`` were one group (or one query) without a
        word. As text each id is its own. Only key columns are looked at, and parsed again (:meth:`_texts`) only when
        a value reaches 2^53."""
        floats = [c for c in self._keys if c in table.column_names and pa.types.is_floating(table.schema.field(c).type)]
        if not floats:
            return table
        import pyarrow.compute as pc

        for column in floats:
            extent = pc.max(pc.abs(table.column(column))).as_py()
            if extent is None or not extent >= _EXACT_FLOAT_INTEGERS:
                continue
            texts = self._texts(block, column)
            if len(texts) == table.num_rows and pc.any(pc.match_substring_regex(texts, _LONG_INTEGER)).as_py():
                table = table.set_column(table.column_names.index(column), column, texts)
        return table

    @abstractmethod
    def _texts(self, block: pa.Buffer, column: str) -> pa.Array:
        """One column of a block as the text of its values (numbers as written), null where missing."""

    def _check_end(self, block: pa.Buffer, offset: int) -> None:
        """Refuse what the last block reveals about the whole input (nothing, but for CSV)."""

    def _where_in_block(self, block: pa.Buffer, offset: int, row: int) -> str:
        """``line L (row R; 0-based)`` for the ``row``-th (0-based) row of the block at ``offset``: the file line,
        which an editor shows, and the data row, as every other message counts rows (docs/cli.md)."""
        line = self._physical_line(block, self._line_number(offset), row)
        return f"line {line} (row {self._rows_before + row}; 0-based)"

    def _physical_line(self, block: pa.Buffer, first_line: int, row: int) -> int:
        """The file line where the ``row``-th (0-based) record of a block starts."""
        return _physical_line(block, first_line, row)

    def _check_utf8(self, table: pa.Table, block: pa.Buffer, offset: int) -> None:
        """Refuse text that is not UTF-8 (a Latin-1 export, ``caf\xe9``), naming its line: pyarrow's CSV reader
        makes such a column binary and its JSON reader keeps the bytes as they are, so two values would reach
        the output as one ``caf\ufffd``, or fail deep in the engine."""
        for name, column in zip(table.column_names, table.columns, strict=True):
            kind = column.type
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                if _valid(column):
                    continue
            elif not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)):
                continue
            row = _first_not_utf8(column)
            if row is None:
                continue
            where = self._where_in_block(block, offset, row)
            raise InputError(
                f"cannot read {_label(self.path)} as {_TITLES[self.format]}: {where}: column '{show_name(name)}' is "
                f"not UTF-8 text; {_TO_UTF8}"
            )

    def _read(self, columns: list[str]) -> pa.Table:
        return concat_parts(list(self._tables(columns)), columns, _label(self.path))

    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]:
        for table in self._tables(columns):
            yield from table.to_batches(max_chunksize=chunk_rows)

    def _empty(self) -> InputError:
        return EmptyInput(f"{_label(self.path)} is empty")


def _valid(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether a text column holds valid UTF-8 (Arrow's full validation, which checks it)."""
    return _invalid(column) is None


def _invalid(column: pa.ChunkedArray | pa.Array, full: bool = True) -> str | None:
    """What Arrow's validation (``full``, or only of the buffers' sizes) finds wrong in a column (its first line,
    without Arrow's ``Invalid:`` labels), or ``None``: text that is not UTF-8 (``Invalid UTF8 sequence at string
    index 3``), offsets past the values (a corrupt file: ``Offset invariant failure: ...``)."""
    try:
        column.validate(full=full)
    except pa.ArrowInvalid as error:
        return re.sub(r"In (column|chunk) \d+: |Invalid: ", "", _first_line(error))
    return None


def refuse_text_not_utf8(data: pa.Table | pa.RecordBatch, where: str, first_row: int) -> None:
    """Refuse a text column (plain or dictionary-encoded) holding bytes that are not UTF-8, naming its first such
    row (``first_row`` numbers the first row of ``data``). Parquet and Arrow declare their text UTF-8 but pyarrow's
    readers do not check it, so such a value failed deep in the engine, as an internal error, where it was decoded
    (a ``--by`` key, a label, a join key). Arrow's check is a vectorised pass over the text columns only."""
    for name, column in zip(data.column_names, data.columns, strict=True):
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        problem = _invalid(column) if is_text_type(kind) else None
        if problem is None:
            continue
        if "UTF8" not in problem:  # offsets past the values, which reading them would follow (SIGSEGV)
            raise InputError(f"column '{show_name(name)}' of {where} is corrupt ({problem}); is the file damaged?")
        row = _first_not_utf8(column)
        at = f" (row {first_row + row}; 0-based)" if row is not None else " (in its dictionary)"
        raise InputError(
            f"column '{show_name(name)}' of {where} holds text that is not UTF-8{at}; write it as UTF-8 text, or as "
            "binary",
            row=first_row + row if row is not None else None,
        )


def _first_not_utf8(column: pa.ChunkedArray | pa.Array) -> int | None:
    """The first row of a text or bytes column (dictionary-encoded or not) whose bytes are not UTF-8, or ``None``
    (a bad value only in the dictionary): a Python pass, for the message of a column already found invalid."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    values = (
        value
        for chunk in chunks
        for value in (chunk.dictionary_decode() if pa.types.is_dictionary(chunk.type) else chunk)
        .cast(pa.binary())
        .to_pylist()
    )
    return next((row for row, value in enumerate(values) if _not_utf8(value)), None)


def _not_utf8(value: bytes | None) -> bool:
    if value is None:
        return False
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _straddles(error: pa.ArrowInvalid) -> bool:
    """pyarrow's parsers fail on a row longer than their internal block (1 MiB by default) with
    "straddling object ... (try to increase block size?)": an option lossctl users do not have."""
    return "straddling" in str(error)


@contextmanager
def _unlimited_fields() -> Iterator[None]:
    """Lift the csv module's field size limit (128 KiB, which pyarrow's parser does not have) over text already in
    memory, and set it back after."""
    previous = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def sniff_delimiter(header: str) -> str:
    """The delimiter of a header line: the one of :data:`SNIFFED_DELIMITERS` that splits it into the
    most fields (quotes respected), the earlier one on a tie; ``,`` for a single column."""
    counts = [len(next(csv.reader([header], delimiter=delimiter))) for delimiter in SNIFFED_DELIMITERS]
    return SNIFFED_DELIMITERS[counts.index(max(counts))]


def _strict_header(line: str, delimiter: str, where: str) -> None:
    """Refuse a header line whose last quoted name is not closed on it: the name holds a line break, so the
    header goes on over the next lines, whereas data is read from the second line (a name ``"y`` would be
    read, and the rest of the header as a data row)."""
    try:
        next(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error as error:
        if str(error) == "unexpected end of data":
            raise InputError(
                f"{where} (the header line) has a quoted column name that goes on over the next line; "
                "write every column name on the header line"
            ) from None


class _CsvSource(_TextSource):
    """CSV or TSV with a header line. Types are inferred by pyarrow; :mod:`lossctl.io.convert` does the rest.

    A CSV's delimiter is sniffed from its header line unless given (a TSV's is a tab), and
    ``decimal=","`` reads decimal commas (``1,5``), as European spreadsheets write them: in a comma-separated
    file those are quoted (``"1,5"``), as pyarrow and pandas read them.
    """

    _has_header = True
    _quoted = True
    # Set after a block failed to parse, which may be a quoted value holding a newline: parsed again with it,
    # pyarrow's threads do not cut their chunks inside quoted values.
    _newlines_in_values = False

    def _read_columns(self) -> list[str]:
        """Parse only the header line, with the standard library: a UTF-8 BOM and CRLF are dropped. Names that
        are not UTF-8 are refused as data cells are (:meth:`_check_utf8`), not shown with U+FFFD in them."""
        head = self._peek(1)
        if not head.strip() and not self._peek(streams.TEXT_HEAD_BYTES).strip():
            raise self._empty()
        where = f"cannot read {_label(self.path)} as {_TITLES[self.format]}: line 1"
        try:
            line = head.split(b"\n", 1)[0].removeprefix(_BOM).rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{where} (the header line) is not UTF-8 text; {_TO_UTF8}") from None
        if not line.strip():
            raise InputError(f"the first line of {_label(self.path)} is empty; expected a header line of column names")
        if "\r" in line:
            # pyarrow would end the header there (a lone CR is a line end to it) but the rows are cut at LF.
            raise InputError(f"{where} holds a carriage return (\\r) that does not end it; end lines with LF or CRLF")
        # A name may be longer than the csv module's 128 KiB field size limit: the line is in memory already.
        try:
            with _unlimited_fields():
                self._choose_delimiter(line)
                delimiter = self._delimiter or ","
                names = next(csv.reader([line], delimiter=delimiter))
                _strict_header(line, delimiter, where)
                if len(names) == 1:
                    self.misread = self._other_delimiter(line, delimiter)
            return names
        except csv.Error as error:
            raise InputError(f"{where}: {error}") from error

    def _physical_line(self, block: pa.Buffer, first_line: int, row: int) -> int:
        """As for any text, but a quoted value may hold newlines, so a record may span several lines."""
        data = block.to_pybytes()
        if b'"' not in data:
            return _physical_line(block, first_line, row)
        text = io.StringIO(data.decode("utf-8", errors="replace"), newline="")
        reader = csv.reader(text, delimiter=self._delimiter or ",")
        start, seen = 1, 0
        try:
            for record in reader:
                if record:  # pyarrow skips blank lines
                    if seen == row:
                        return first_line + start - 1
                    seen += 1
                start = reader.line_num + 1
        except csv.Error:  # a value longer than the csv module's limit: count lines as rows
            pass
        return _physical_line(block, first_line, row)

    def _check_end(self, block: pa.Buffer, offset: int) -> None:
        """Refuse a quoted value that the input ends in: pyarrow reads a missing closing quote as a value running to
        the end, every later line in it, so those rows were gone without a word (a 3-row file read as 1 row).

        Blocks are cut outside quotes, so such a value opens in the last block, after its last line that starts
        outside quotes; a quote inside an unquoted value (``5" screen``) opens nothing, so the standard library's
        reader, strict as pyarrow is, decides from there.
        """
        step = 1 << 20  # looked for a MiB at a time (memchr), not in a copy of the whole block
        if all(
            block.slice(at, min(step, block.size - at)).to_pybytes().find(b'"') < 0 for at in range(0, block.size, step)
        ):
            return
        data = block.to_pybytes()
        start = _outside_quotes(data, 0, len(data))
        if start == len(data):
            return
        reader = csv.reader(
            io.StringIO(data[start:].decode("utf-8", errors="replace"), newline=""),
            delimiter=self._delimiter or ",",
            strict=True,
        )
        first_line = 1
        try:
            with _unlimited_fields():  # the unclosed value may be most of the block
                for _ in reader:
                    first_line = reader.line_num + 1
        except csv.Error as error:
            if "unexpected end of data" not in str(error):
                return  # pyarrow's reading of it stands (it is not an unclosed value)
            line = self._line_number(offset) + data.count(b"\n", 0, start) + first_line - 1
            raise InputError(
                f"cannot read {_label(self.path)} as {_TITLES[self.format]}: line {line} (row {self._rows_before - 1}; "
                "0-based) opens a quoted value that is never closed, so every later line would be read into it; "
                'close it with a " (a quote inside a quoted value is written "")'
            ) from None

    def _other_delimiter(self, header: str, delimiter: str) -> str:
        """Of a header line that ``delimiter`` does not split, the delimiter that does, if any, for a message: a TSV
        holding commas, or a ``--delimiter`` that is not the file's, reads as one column named by the whole line."""
        found = sniff_delimiter(header)
        if found == delimiter or len(next(csv.reader([header], delimiter=found))) == 1:
            return ""
        given = option("delimiter", f"'{found}'", keyword=f'delimiter="{found}"')
        fix = f"{given} or {option('input_format', 'csv')}" if self.format == "tsv" else given
        return (
            f"{_label(self.path)} seems delimited by {_DELIMITER_NAMES[found]} (its header line has no "
            f"{_DELIMITER_NAMES.get(delimiter, repr(delimiter))}); read it with {fix}"
        )

    def _choose_delimiter(self, header: str) -> None:
        if self._delimiter is None:
            self._delimiter = "\t" if self.format == "tsv" else sniff_delimiter(header)
            if self._delimiter != "," and self.format == "csv":
                self.notices = (
                    f"reading {_label(self.path)} with the delimiter {_DELIMITER_NAMES[self._delimiter]} "
                    f"(found in its header line; set it with {option('delimiter', keyword='delimiter=')})",
                )

    def _parse(self, block: pa.Buffer, offset: int, columns: list[str]) -> pa.Table:
        try:
            table = self._read_csv(block, columns, use_threads=True)
        except pa.ArrowInvalid as error:
            if not self._newlines_in_values:
                # pyarrow cuts a block at newlines for its threads: a quoted value holding one fails either as
                # "CSV parser got out of sync with chunker" or as a short row where the cut fell.
                self._newlines_in_values = True
                return self._parse(block, offset, columns)
            if not _straddles(error):
                raise self._parse_error(block, offset, columns, error) from error
            try:
                table = self._read_csv(block, columns, use_threads=False, whole=True)
            except pa.ArrowInvalid as again:
                raise self._parse_error(block, offset, columns, again) from again
        table = self._hexadecimal_as_text(table, block)
        table = self._null_spellings_as_text(table, block)
        table = self._long_integers_as_text(table, block)
        self._check_utf8(table, block, offset)
        return _blank_strings_to_null(table)

    def _hexadecimal_as_text(self, table: pa.Table, block: pa.Buffer) -> pa.Table:
        """Keep as text a column that pyarrow read as integers from hexadecimal cells.

        pyarrow reads ``0x10`` in a column of integers as 16, and ``0xFFFFFFFFFFFFFFFF`` as -1, whereas it refuses
        ``0x1p3`` among decimals and lossctl refuses hexadecimal in every other number (thresholds, parameters, JSON
        cells). As text, such a column bound to a role is not numeric and its error names the cell; as a key it keeps
        its spelling (``0x10`` is not the key ``16``). Only a block whose bytes hold ``0x`` is parsed again.
        """
        integers = [field.name for field in table.schema if pa.types.is_integer(field.type)]
        if not integers:
            return table
        data = block.to_pybytes()
        if not (b"x" in data or b"X" in data) or not (b"0x" in data or b"0X" in data):  # 'x' alone is found faster
            return table
        import pyarrow.compute as pc

        texts = self._read_csv(block, integers, use_threads=False, whole=True, text=True)
        for column in integers:
            cells = pc.utf8_ltrim_whitespace(texts.column(column))
            if pc.any(pc.starts_with(cells, "0x", ignore_case=True)).as_py():
                table = table.set_column(table.column_names.index(column), column, texts.column(column))
        return table

    def _null_spellings_as_text(self, table: pa.Table, block: pa.Buffer) -> pa.Table:
        """Keep as text a column that pyarrow read as nulls of no type from cells such as ``NA`` or ``N/A``.

        pyarrow's null values (pandas' spellings of a missing value) are null in a column of numbers or booleans,
        and text beside other text; a column of them alone (in this block) was all nulls, so a query id or a group
        ``NA`` was a missing value, or a key, by its neighbours. As text it is a key like any other, and missing
        where a role reads numbers (:data:`lossctl.io.convert.MISSING_TEXTS`). A column of empty cells stays null.
        Only a block with such a column is parsed again.
        """
        nulls = [field.name for field in table.schema if pa.types.is_null(field.type)]
        if not nulls:
            return table
        import pyarrow.compute as pc

        texts = self._read_csv(block, nulls, use_threads=False, whole=True, text=True)
        for column in nulls:
            cells = texts.column(column)
            if pc.max(pc.utf8_length(cells)).as_py():
                table = table.set_column(table.column_names.index(column), column, cells)
        return table

    def _texts(self, block: pa.Buffer, column: str) -> pa.Array:
        return self._read_csv(block, [column], use_threads=False, whole=True, text=True).column(column)

    def _read_csv(
        self, block: pa.Buffer, columns: list[str], use_threads: bool, whole: bool = False, text: bool = False
    ) -> pa.Table:
        """Parse a block; ``whole``: as one pyarrow block, for rows longer than pyarrow's 1 MiB default; ``text``:
        every column as strings."""
        import pyarrow.csv as pcsv

        read_options = pcsv.ReadOptions(column_names=self.columns, use_threads=use_threads)
        if whole:
            read_options.block_size = block.size + 1
        convert_options = pcsv.ConvertOptions(include_columns=columns, decimal_point=self._decimal)
        if text:
            convert_options.column_types = {column: pa.string() for column in columns}
        return pcsv.read_csv(
            pa.BufferReader(block),
            read_options=read_options,
            parse_options=pcsv.ParseOptions(
                delimiter=self._delimiter or ",", newlines_in_values=self._newlines_in_values
            ),
            convert_options=convert_options,
        )

    def _parse_error(self, block: pa.Buffer, offset: int, columns: list[str], error: pa.ArrowInvalid) -> InputError:
        """Say which line is wrong: pyarrow numbers rows only when it parses on one thread, so parse again, as one
        pyarrow block: in blocks of its own size, a wrong row longer than one of them says only that it straddles
        two, and pyarrow's words for it ("try to increase block size?") name an option lossctl users do not have."""
        message = _first_line(error)
        try:
            self._read_csv(block, columns, use_threads=False, whole=True)
        except pa.ArrowInvalid as again:
            message = _first_line(again)
        found = re.match(r"CSV parse error: Row #(\d+): (.*)", message)
        if found:
            message = f"{self._where_in_block(block, offset, int(found.group(1)) - 1)}: {found.group(2)}"
        return InputError(f"cannot read {_label(self.path)} as {_TITLES[self.format]}: {message}")


def _blank_strings_to_null(table: pa.Table) -> pa.Table:
    """Make empty cells of text columns null, as they already are in numeric columns.

    Setting pyarrow's ``strings_can_be_null`` would do it but would also turn ``NA`` (a country, a
    group name) into a null; only the empty cell is missing for sure.
    """
    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            chunks = [blanks_to_nulls(chunk) for chunk in table.column(index).chunks]
            table = table.set_column(index, field, pa.chunked_array(chunks, field.type))
    return table


class _JsonLinesSource(_TextSource):
    """JSON Lines: one object per line; nested arrays become list columns (for vector roles)."""

    def _read_columns(self) -> list[str]:
        """The keys seen in the first MiB of lines, so that a key missing from the first record still counts."""
        head = self._peek(_JSON_HEAD_BYTES)
        if head.strip():
            block = _arrow_owned(memoryview(head))
            table = self._parse(block, 0, None)
            if table.num_rows:
                return self._names(table, block, 0)
        raise self._empty()

    def _names(self, table: pa.Table, block: pa.Buffer, offset: int) -> list[str]:
        """The keys of a parsed block, refused as its values are when they are not UTF-8 (pyarrow keeps a key's
        bytes as they are, which Python cannot then decode), naming the first line that is not UTF-8."""
        try:
            return table.column_names
        except UnicodeDecodeError:
            lines = bytes(block).split(b"\n")
            line = next(number for number, text in enumerate(lines) if _not_utf8(text))
            raise InputError(
                f"cannot read {_label(self.path)} as JSON Lines: line {self._line_number(offset) + line} is not UTF-8 "
                f"text; {_TO_UTF8}"
            ) from None

    def _parse(self, block: pa.Buffer, offset: int, columns: list[str] | None) -> pa.Table:
        """Parse a block of lines, after checking that none nests too deeply for pyarrow's reader, nor is ``null``."""
        import pyarrow.json as pjson

        lines = Lines(block)
        deep = first_too_deep_line(lines, MAX_JSON_DEPTH)
        if deep is not None:
            raise InputError(
                f"cannot read {_label(self.path)} as JSON Lines: line {self._line_number(offset) + deep} nests "
                f"deeper than {MAX_JSON_DEPTH} levels, the deepest lossctl reads"
            )
        null = first_null_line(lines)
        if null is not None:
            row = sum(1 for line in range(null) if lines.text(line).strip(_JSON_BLANK))  # as _physical_line counts
            raise InputError(
                f"cannot read {_label(self.path)}: JSON Lines needs one object per line; "
                f"{self._where_in_block(block, offset, row)} holds null"
            )
        try:
            table = pjson.read_json(pa.BufferReader(block))
        except pa.ArrowInvalid as error:
            if not _straddles(error):
                raise self._parse_error(block, offset, error) from error
            try:  # a line longer than pyarrow's 1 MiB block: parse the block as one
                whole = pjson.ReadOptions(block_size=block.size + 1)
                table = pjson.read_json(pa.BufferReader(block), read_options=whole)
            except pa.ArrowInvalid as again:
                raise self._parse_error(block, offset, again) from again
        if more_rows_than_lines(table.num_rows, lines):
            several = first_line_of_several_values(lines)
            where = f"line {self._line_number(offset) + several}" if several is not None else "a line"
            raise InputError(
                f"cannot read {_label(self.path)}: JSON Lines needs one object per line; {where} holds more than one "
                "JSON value"
            )
        if columns is None:
            return table
        # A key absent from every line of this block is a column of nulls here, not an error.
        names = set(self._names(table, block, offset))  # a set: 10,000 keys looked up in their list took 0.6 s
        self._check_no_late_key(table, names, block, offset)
        table = pa.table({name: table.column(name) if name in names else pa.nulls(table.num_rows) for name in columns})
        self._check_utf8(table, block, offset)
        return self._long_integers_as_text(table, block)

    def _check_no_late_key(self, table: pa.Table, names: set[str], block: pa.Buffer, offset: int) -> None:
        """Refuse a key with a value that no line of the first MiB has: the columns are taken from there (the input
        may be a stream, read once), so its values would be lost unseen, e.g. a model a ``--model`` glob names. One
        check per block; the line is looked for only when there is one."""
        late = [n for n in names if n not in self.columns and table.column(n).null_count < table.num_rows]
        if late:
            import pyarrow.compute as pc

            row, name = min((int(pc.index(pc.is_valid(table.column(n)), True).as_py()), n) for n in late)
            raise InputError(
                f"cannot read {_label(self.path)} as JSON Lines: {self._where_in_block(block, offset, row)} has "
                f"the key '{show_name(name)}', which no line of the first MiB has (the columns are the keys seen "
                "there); write it in an early line, even as null"
            )

    def _physical_line(self, block: pa.Buffer, first_line: int, row: int) -> int:
        """The file line of a record: pyarrow's JSON reader skips lines of white space (``"   "``) without a row."""
        return _physical_line(block, first_line, row, _JSON_BLANK)

    def _texts(self, block: pa.Buffer, column: str) -> pa.Array:
        """Parsed again with the standard library, numbers kept as written; other values (none in a column pyarrow
        read as numbers) and lines that are not one object give no text, nor does a blank line a row."""
        import json

        texts = []
        for line in block.to_pybytes().split(b"\n"):
            if line.strip():
                try:
                    record = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
                except ValueError:  # pyarrow's reader is more lenient (two objects on a line): rows may not match
                    record = None
                value = record.get(column) if isinstance(record, dict) else None
                texts.append(value if isinstance(value, str) else None)
        return pa.array(texts, pa.string())

    def _parse_error(self, block: pa.Buffer, offset: int, error: pa.ArrowInvalid) -> InputError:
        """Say which line is wrong: pyarrow counts rows from its internal block, so parse again in one block."""
        import pyarrow.json as pjson

        message = _first_line(error)
        try:
            pjson.read_json(
                pa.BufferReader(block), read_options=pjson.ReadOptions(use_threads=False, block_size=block.size + 1)
            )
        except pa.ArrowInvalid as again:
            message = _first_line(again)
        found = re.match(r"JSON parse error: (.*) in row (\d+)$", message)
        located = (found.group(1), int(found.group(2))) if found else _after_an_object(block)
        if located:
            problem, row = located
            where = self._where_in_block(block, offset, row)
            not_object = re.fullmatch(r"Column\(\) changed from object to (\w+)", problem)
            if not_object:  # a JSON array file, or a line holding a bare value
                return InputError(
                    f"cannot read {_label(self.path)}: JSON Lines needs one object per line; {where} holds "
                    f"{_a(not_object.group(1))}"
                )
            # pyarrow names a key as 'Column(/pred)' ('Column(/m/a)' nested): said in the words of other messages.
            changed = re.fullmatch(r"Column\(/(.+)\) changed from (\w+) to (\w+)", problem)
            twice = re.fullmatch(r"Column\(/(.+)\) was specified twice", problem)
            if changed:
                key, before, after = changed.groups()
                key, before, after = _items_of(key, before, after)
                message = (
                    f"{where}: '{show_name(key)}' holds {_a(after)} where an earlier line holds {_a(before)}; "
                    "write its values the same way on every line"
                )
            elif twice:
                message = f"{where}: the key '{show_name(twice.group(1))}' appears twice in the line"
            elif problem.startswith("Number too big") and (huge := _number_beyond_float64(block, row)):
                key, number = huge
                message = (
                    f"{where}: '{show_name(key)}' holds {show_name(number)}, beyond float64; write a number of at "
                    "most 1.8e308 in size"
                )
            else:
                message = f"{where}: {problem}"
        return InputError(f"cannot read {_label(self.path)} as JSON Lines: {message}")


def _after_an_object(block: pa.Buffer) -> tuple[str, int] | None:
    """``(problem, row)`` when a line goes on after its object (``{"a": 1},``, a trailing comma), where pyarrow
    names no row but says "The document is empty.": found with the standard library, the row being the line's
    index among the non-blank lines, as pyarrow counts rows."""
    import json

    row = 0
    for text in block.to_pybytes().split(b"\n"):
        if not text.strip(_JSON_BLANK):  # as _physical_line counts lines back from rows
            continue
        try:
            json.loads(text)
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError) and error.msg == "Extra data":
                after = text[error.pos : error.pos + 10].decode("utf-8", errors="replace")
                return f"the line goes on after its JSON value ('{show_name(after)}' at column {error.colno})", row
            return None
        row += 1
    return None


def _number_beyond_float64(block: pa.Buffer, row: int) -> tuple[str, str] | None:
    """``(key, number as written)`` of the first number beyond float64 (``1e400``) in the ``row``-th record of a
    block, which pyarrow refuses as "Number too big to be stored in double." naming no key; a number inside an
    object or an array is named by its top-level key. Parsed again with the standard library, for the message."""
    import json
    import math

    written: list[str] = []

    def number(text: str) -> float:
        value = float(text)
        if math.isinf(value):
            written.append(text)
        return value

    lines = [text for text in block.to_pybytes().split(b"\n") if text.strip(_JSON_BLANK)]
    try:  # Infinity and NaN, which pyarrow reads, are not it: parse_constant keeps them out
        record = json.loads(lines[row], parse_float=number, parse_constant=lambda _: None)
    except (IndexError, ValueError):
        return None
    if not isinstance(record, dict) or not written:
        return None
    for key, value in record.items():  # in the line's order, as ``written``
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict | list):
                stack.extend(item.values() if isinstance(item, dict) else item)
            elif isinstance(item, float) and math.isinf(item):
                return key, written[0]
    return None


def _items_of(key: str, before: str, after: str) -> tuple[str, str, str]:
    """A change pyarrow names in an array's items (``Column(/p/[]) changed from string to number``, ``p/[]/[]``
    nested) as the array's: ``('p', 'array of strings', 'array of numbers')``."""
    depth = 0
    while key.endswith("/[]"):
        key, depth = key[:-3], depth + 1
    if not depth:
        return key, before, after
    arrays = "array of " + "arrays of " * (depth - 1)
    return key, f"{arrays}{before}s", f"{arrays}{after}s"


def _a(noun: str) -> str:
    """``a number``, ``an array``."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _by_extension(path: str) -> tuple[str | None, str | None]:
    """``(format, compression)`` named by the file's extension, case-insensitively; ``None`` where it says nothing."""
    stem, extension = os.path.splitext(os.path.basename(path).lower())
    compression = COMPRESSIONS.get(extension)
    if compression is not None:
        extension = os.path.splitext(stem)[1]
    return EXTENSIONS.get(extension), compression


def _detect(path: str, input_format: str | None) -> tuple[str | None, str | None]:
    """``(format, compression)`` of a file from its name (a URL's without its query string); ``input_format`` wins;
    ``None``: recognise it by content.

    A compressed Parquet or Arrow file (``preds.parquet.gz``) is read as its stream would be (``zcat ... |``):
    decompressed once, Parquet copied where it can be read with random access (:func:`streams.spill`).
    """
    from lossctl.io.remote import web_path

    fmt, compression = _by_extension(web_path(path))
    return input_format or fmt, compression


def _parquet_below(directory: str, others: list[str] | None = None) -> list[str]:
    """The Parquet files below ``directory``, at any depth; names starting with ``_`` or ``.`` (``_SUCCESS``,
    ``.crc``, ``_temporary/``) are skipped, files and folders alike, as pyarrow.dataset skips them. The other
    files found (``notes.csv``) are added to ``others``. A folder that cannot be listed (unreadable, or removed
    while it is walked) is an input error naming it: ``os.walk`` would pass over it, its rows missing unseen."""
    found: list[str] = []
    for root, folders, names in os.walk(directory, onerror=_unlisted):
        folders[:] = [name for name in folders if not name.startswith(("_", "."))]
        for name in names:
            if not name.startswith(("_", ".")):
                kept = name.lower().endswith(_PARQUET_EXTENSIONS)
                (found if kept else others if others is not None else []).append(os.path.join(root, name))
    return found


def _check_listable(folders: str, base: str, skipped: Callable[[str], bool]) -> None:
    """Every folder the glob pattern ``folders`` matches (the part of a glob before its last ``/``) can be listed:
    ``glob.glob`` passes over one it cannot list (``ds/*/*.parquet`` with an unreadable ``ds/b``), whose files'
    rows would be missing unseen, so it is an input error naming the folder. Folders below ``base`` that a dataset
    leaves out (``skipped``: ``_temporary``) are not checked. One listing per folder the pattern passes through."""
    if not re.search(r"[*?[]", folders):  # no wildcard: a folder that glob.glob lists, or no match
        return
    _check_listable(os.path.dirname(folders), base, skipped)
    for folder in glob.glob(folders, recursive=True):
        if os.path.isdir(folder) and not any(map(skipped, folder[len(base) :].strip("/").split("/"))):
            try:
                os.scandir(folder).close()
            except OSError as error:
                raise _os_error(folder, error) from None


def _unlisted(error: OSError) -> None:
    """``os.walk``'s ``onerror``: a folder it cannot list ends the run (:func:`_parquet_below`)."""
    raise _os_error(error.filename, error) from None


def left_out(path: str, others: Sequence[str]) -> tuple[str, ...]:
    """The notice that a directory's files other than Parquet were not read (a directory is its Parquet files)."""
    if not others:
        return ()
    shown = ", ".join(show_name(name) for name in sorted(others)[:3]) + (", ..." if len(others) > 3 else "")
    verbs = ("is", "was") if len(others) == 1 else ("are", "were")
    return (
        f"'{show_name(path)}': {count(len(others), 'file')} that {verbs[0]} not Parquet {verbs[1]} left out "
        f"({shown}); a directory is read as its Parquet files",
    )


def dataset_files(path: str, input_format: str | None, others: list[str] | None = None) -> list[str]:
    """The Parquet files of a local directory (at any depth) or of a glob pattern, sorted; a directory's other
    files are added to ``others``.

    A directory a glob matches (``preds/date=2026-12-*/``) gives the Parquet files below it. Sorting is plain
    string order of the paths, as ``ls``, pyarrow.dataset and DuckDB do, so rows come in the order other tools
    would produce them.
    """
    if input_format not in (None, "parquet"):
        raise UsageError(
            f"{option('input_format', input_format)} cannot read '{show_name(path)}': a directory or glob is "
            "read as Parquet"
        )
    if os.path.isdir(path):
        files = sorted(_parquet_below(path, others))
        if not files:
            raise InputError(f"directory '{show_name(path)}' has no Parquet files (*.parquet, *.pq)")
    else:
        from lossctl.io.dataset import glob_base, skipped

        # As in a folder: a name starting with _ or . below the glob's fixed part is not data (Spark's _SUCCESS, and
        # its _temporary/ attempts, whose rows would be read twice), as pyarrow.dataset and Spark read a folder.
        base = glob_base(path)
        _check_listable(os.path.dirname(path), base, skipped)
        matches = glob.glob(path, recursive=True)
        data = [match for match in matches if not any(map(skipped, match[len(base) :].strip("/").split("/")))]
        files = sorted(  # a set: 'out/**' matches the folder out/ and the files in it, and each is read once
            {
                file
                for match in data
                for file in (
                    _parquet_below(match, others) if os.path.isdir(match) else [match] if os.path.lexists(match) else []
                )
            }
        )
        if not files and len(data) < len(matches):
            left = sorted(set(matches) - set(data))
            shown = ", ".join(f"'{show_name(match)}'" for match in left[:3]) + (", ..." if len(left) > 3 else "")
            raise InputError(
                f"'{show_name(path)}' matches only names starting with _ or . ({shown}), which a dataset leaves out as "
                "bookkeeping, as in a folder; to read such a file, give it as a PATH"
            )
        if not files:
            raise no_match(path)
    if input_format is None:
        for file in files:
            if not file.lower().endswith(_PARQUET_EXTENSIONS):
                raise InputError(
                    f"'{show_name(path)}' matches '{show_name(file)}', which is not a Parquet file; a glob is "
                    "read as one Parquet dataset"
                )
    for file in files:
        try:
            empty = os.path.getsize(file) == 0
        except OSError as error:  # a broken link or a loop of links among the files: named, not the folder
            raise _os_error(file, error) from None
        if empty:
            raise InputError(f"'{show_name(file)}' is empty")
    return files


def no_match(path: str) -> InputError:
    """A glob that matches nothing. Without a ``*`` it may be meant as a file's own name (``run[1].csv``,
    ``what?.csv``: brackets and question marks occur in names), so it is first the file that is not found."""
    from lossctl.io.remote import web_path

    if "*" in web_path(path):
        return InputError(f"no files match '{show_name(path)}'")
    return InputError(f"file '{show_name(path)}' not found (read as a glob, it matches nothing)")


def _os_error(path: str, error: OSError) -> InputError:
    """A failure to open or list ``path``, in the user's terms."""
    if isinstance(error, PermissionError):
        return InputError(f"cannot read '{show_name(path)}': permission denied")
    return InputError(f"cannot read '{show_name(path)}': {error.strerror or error}")


def _text_source(
    path: str,
    fmt: str,
    compression: str | None = None,
    once: BinaryIO | None = None,
    delimiter: str | None = None,
    decimal: str = ".",
) -> Source:
    if fmt == "jsonl":
        return _JsonLinesSource(path, fmt, compression, once)
    return _CsvSource(path, fmt, compression, once, delimiter, decimal)


def _delimiter(given: str | None) -> str | None:
    """``--delimiter``: one character; ``tab`` or ``\\t`` for a tab, which is awkward to type in a shell."""
    if given is None:
        return None
    value = {"tab": "\t", "\\t": "\t"}.get(given.lower(), given)
    if len(value) != 1 or not value.isascii():  # Arrow's CSV parser splits on one byte
        raise UsageError(f"{option('delimiter')} takes one ASCII character (or 'tab'), got '{show_name(given)}'")
    if value in '"\r\n':
        raise UsageError(f"{option('delimiter')} cannot be a quote or a line end, got '{show_name(given)}'")
    return value


def local_file(path: str) -> str | pa.NativeFile:
    """A local file as pyarrow opens it: by its name, relative names from ``./``, as pyarrow takes a relative name
    that starts like a URI (``s3:x.parquet``, ``file:y.parquet``, a folder ``gs:/``) for one ("Missing bucket name
    in S3 URI"); or, for a name that is not UTF-8 (which pyarrow cannot encode), the file opened by Python and
    opened again by pyarrow through its descriptor's ``/dev/fd`` name, which is."""
    if is_utf8(path):
        return path if os.path.isabs(path) else os.path.join(".", path)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return pa.OSFile(f"/dev/fd/{descriptor}")
    finally:
        os.close(descriptor)


def _open_stream(
    path: str,
    raw: BinaryIO,
    fmt: str | None,
    compression: str | None,
    delimiter: str | None,
    decimal: str,
    owned: bool = True,
    named: bool = False,
) -> Source:
    """Open an input that can be read only once, recognising its compression and format from its first
    bytes where its name does not give them (docs/cli.md, "Input"). Nothing is read twice. ``raw`` is closed
    with the source when ``owned`` (lossctl opened it), not standard input or a stream the caller gave. A ``named``
    file (a remote file's bytes, a local file read as a stream for its name) whose format is known is compressed
    only if its name says so, as any file: gzip bytes named ``g.csv`` are refused ("end its name with .gz")."""
    label = _label(path)
    streams.widen_pipe(raw)
    try:
        head = streams.read_head(raw, streams.TEXT_HEAD_BYTES)
        if not head:
            raise EmptyInput(f"{label} is empty")
        if compression is not None:  # named by the input's extension
            streams.check_compression(head, compression, label)
        if compression is None and not (named and fmt is not None):
            compression = streams.compression_of(head)
        stream: BinaryIO = streams.Replay(head, raw, owned=owned)  # type: ignore[assignment]
        layers = 0
        while compression is not None:  # the decompressed bytes are recognised the same way (docs/cli.md)
            if layers == streams.MAX_LAYERS:
                raise InputError(
                    f"cannot read {label}: it is compressed more than {layers} times over; decompress it first"
                )
            stream = streams.decompressed(stream, compression)
            head = streams.read_head(stream, streams.TEXT_HEAD_BYTES)
            if not head:
                raise EmptyInput(f"{label} is empty")
            stream = streams.Replay(head, stream)  # type: ignore[assignment]
            compression, layers = streams.compression_of(head), layers + 1
    except (pa.ArrowException, OSError) as error:
        raise _read_error(label, error) from error
    fmt = fmt or streams.sniff(head, label)
    if fmt in ("parquet", "arrow"):  # else pyarrow reads a length from text and says that
        streams.check_format(head, fmt, label, _TITLES[fmt])
    if fmt == "parquet":
        return _ParquetSource(path, handle=streams.spill(stream, label))
    if fmt == "arrow":  # buffered: pyarrow reads a message whole and takes a short read for the end
        buffered = cast(BinaryIO, io.BufferedReader(cast(io.RawIOBase, stream), 1 << 16))
        return _ArrowStreamSource(path, buffered, file_format=head.startswith(streams.ARROW_FILE))
    return _text_source(path, fmt, once=stream, delimiter=delimiter, decimal=decimal)


def _recognise(path: str, head: bytes) -> tuple[str | None, str | None]:
    """``(format, compression)`` of a file whose name does not say, from its first (decompressed) bytes; the
    format is ``None`` when the decompressed bytes are compressed again (then read as a stream, layer by layer)."""
    compression = streams.compression_of(head)
    if compression is not None:
        try:
            with pa.input_stream(path, compression=compression) as stream:
                head = streams.read_head(stream, streams.TEXT_HEAD_BYTES)
        except (pa.ArrowException, OSError) as error:
            raise _read_error(_label(path), error) from error
        if streams.compression_of(head) is not None:
            return None, compression
    tail = _last_bytes(path) if compression is None else None
    return streams.sniff(head, f"'{show_name(path)}'", tail), compression


def _last_bytes(path: str, size: int = 8) -> bytes:
    """The last ``size`` bytes of file ``path`` (all of a shorter one)."""
    with open(path, "rb") as file:
        return os.pread(file.fileno(), size, max(os.fstat(file.fileno()).st_size - size, 0))


def open_bytes(
    path: str, data: bytes, input_format: str | None = None, *, delimiter: str | None = None, decimal: str = "."
) -> Source:
    """A file whose whole content is already in memory (a remote file, :mod:`lossctl.io.dataset`), named
    ``path`` in messages; its format and compression come from ``path``'s extension, as for a local file, and
    delimited text is read with ``delimiter`` and ``decimal`` (checked by :func:`open_input`)."""
    fmt, compression = _detect(path, input_format)
    if compression is None and fmt == "parquet":
        return _ParquetSource(path, handle=pa.BufferReader(data))
    return _open_stream(path, io.BytesIO(data), fmt, compression, delimiter, decimal, named=True)


def open_input(
    path: str,
    input_format: str | None = None,
    stdin: BinaryIO | None = None,
    *,
    delimiter: str | None = None,
    decimal: str = ".",
) -> Source:
    """Open ``path`` and read its column names; no data is read yet.

    ``path`` is a file (format from its extension, case-insensitively, unless ``input_format`` is
    given; from its first bytes when the extension is not a known one), a directory or glob of
    Parquet files (one dataset, files in sorted order, a directory's at any depth; in Hive layout, ``KEY=VALUE``
    folders, a :class:`~lossctl.io.dataset.ParquetDataset` whose keys are columns), ``-`` for ``stdin`` (default
    ``sys.stdin.buffer``), or :data:`~lossctl.io.streams.STREAM` for ``stdin`` given as an open file or stream.
    Standard input, a stream, a named pipe or a process substitution is read once (its source can read its data
    only once); its format, unless named, is recognised from its first bytes. ``delimiter`` (one character or
    ``tab``) and ``decimal`` (``.`` or ``,``) apply to delimited text; without ``delimiter`` a CSV's is sniffed
    from its header line.
    """
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(f"unknown input format '{input_format}'; expected one of: {', '.join(FORMATS)}")
    if decimal not in DECIMAL_POINTS:
        raise UsageError(f"{option('decimal')} must be '.' or ',', got '{show_name(decimal)}'")
    delimiter = _delimiter(delimiter)
    if path == "-" or (path == streams.STREAM and stdin is not None):
        if stdin is None and sys.stdin is None:  # Python's standard input when descriptor 0 is closed (<&-)
            raise InputError("cannot read standard input: it is closed")
        stdin = stdin if stdin is not None else sys.stdin.buffer
        in_place = streams.parquet_in_place(stdin) if input_format in (None, "parquet") else None
        if in_place is not None:
            return _ParquetSource(path, handle=in_place)
        return _open_stream(path, stdin, input_format, None, delimiter, decimal, owned=False)
    from lossctl.io.dataset import is_glob, is_partitioned, open_dataset
    from lossctl.io.remote import check_scheme, is_remote

    if is_remote(path):  # object stores (docs/cli.md, "Input")
        return open_dataset(path, input_format, delimiter=delimiter, decimal=decimal)
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        check_scheme(path)
        if not is_glob(path):
            raise InputError(f"file '{show_name(path)}' not found") from None
        mode = None
    except OSError as error:
        raise _os_error(path, error) from None
    if mode is None or stat.S_ISDIR(mode):
        others: list[str] = []
        try:
            files = dataset_files(path, input_format, others)
        except OSError as error:
            raise _os_error(path, error) from None
        if is_partitioned(path, files):  # Hive layout: its keys become columns
            return open_dataset(path, input_format)
        source = _ParquetSource(path, files=files)
        source.notices = left_out(path, others)
        return source
    fmt, compression = _detect(path, input_format)
    try:
        file = open(path, "rb", buffering=0)  # noqa: SIM115 (a stream below keeps it open)
    except OSError as error:
        raise _os_error(path, error) from None
    if not stat.S_ISREG(mode):  # a named pipe, /dev/stdin, <(...): it gives its bytes once
        return _open_stream(path, file, fmt, compression, delimiter, decimal)
    with file:
        try:
            head = file.read(streams.TEXT_HEAD_BYTES)
        except OSError as error:
            raise _os_error(path, error) from None
    if not head:
        raise EmptyInput(f"'{show_name(path)}' is empty")
    if compression is not None:  # named by the extension, with or without a format's before it (x.gz, x.csv.gz)
        streams.check_compression(head, compression, _label(path))
    if fmt is None:
        fmt, compression = _recognise(path, head)
    elif compression is None and fmt in ("parquet", "arrow"):
        streams.check_format(head, fmt, _label(path), _TITLES[fmt])
    if fmt is None or (compression is not None and fmt in ("parquet", "arrow")):
        return _open_stream(path, open(path, "rb"), fmt, compression, delimiter, decimal)
    if fmt == "parquet":
        return _ParquetSource(path)
    if not is_utf8(path):  # pyarrow opens a file by a UTF-8 name only: this one is read as a stream
        return _open_stream(path, open(path, "rb"), fmt, compression, delimiter, decimal, named=True)
    if fmt == "arrow":
        return _ArrowSource(path)
    return _text_source(path, fmt, compression, delimiter=delimiter, decimal=decimal)
