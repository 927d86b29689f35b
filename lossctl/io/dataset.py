"""Parquet datasets that live in an object store or in Hive layout, and the row ranges the Dask engine splits.

A :class:`ParquetDataset` is a list of Parquet files, local or remote (:mod:`lossctl.io.remote`), read one after
another in sorted order as one input (docs/cli.md, "Input"). In Hive layout (``preds/region=eu/part-0.parquet``)
each ``KEY=VALUE`` directory above a file becomes a column holding that value on every row of the file, usable in
``--by``, ``--pred`` and every binding; its type is int64 when every value of the key is an integer written as
Python writes it (``7``, ``-3``), else string (``__HIVE_DEFAULT_PARTITION__`` is null): ``zip=01234`` stays
``'01234'``, and ``zip=01234`` and ``zip=1234`` stay two groups. Every file sits in folders of the same keys: a
file outside them (``preds/part-9.parquet``) is an input error, as in DuckDB and Spark (pyarrow.dataset would give
it null keys, Polars errs one way and drops the key the other).

A dataset can be cut into row ranges (:meth:`ParquetDataset.splits`) at row-group boundaries, and restricted to one
(:meth:`ParquetDataset.window`): a picklable description of a part that a Dask worker reads where it runs. Row
counts come from the files' footers, so a part knows its first row's number in the whole input.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

import pyarrow as pa

from lossctl.errors import EmptyInput, InputError, UsageError, option
from lossctl.io.columns import column_not_found
from lossctl.io.parts import (
    Declared,
    check_same_columns,
    concat_parts,
    conform,
    dataset_types,
    every_row,
    parquet_declared,
    parquet_span,
)
from lossctl.io.readers import (
    Source,
    dataset_files,
    file_index,
    left_out,
    local_file,
    no_match,
    open_bytes,
    parquet_file,
    several,
)
from lossctl.io.remote import filesystem, full_url, is_remote, read_bytes, remote_errors, scheme_of, web_path
from lossctl.text import count as plural
from lossctl.text import is_utf8, show_name

if TYPE_CHECKING:
    import pyarrow.parquet as pq

PARQUET_EXTENSIONS = (".parquet", ".pq")
_GLOB_CHARS = re.compile(r"[*?\[]")
_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def skipped(name: str) -> bool:
    """Hidden and bookkeeping names (``.crc``, ``_SUCCESS``, ``_temporary/``) are not data, as pyarrow.dataset."""
    return name.startswith(("_", "."))


def _is_parquet(name: str) -> bool:
    return web_path(name).lower().endswith(PARQUET_EXTENSIONS)


def is_glob(path: str) -> bool:
    """Whether ``path`` is a pattern (a web URL's query, ``?sig=...``, is not one)."""
    return bool(_GLOB_CHARS.search(web_path(path)))


def _names_pattern(fs: Any, inner: str) -> bool:
    """Whether the remote ``inner`` path is a glob: it has wildcards and names no object. A key may hold ``[``,
    ``*`` or ``?`` as a local file name may, and names that object, as a local path with them names its file."""
    return is_glob(inner) and not fs.exists(inner)


def is_partitioned(path: str, files: Sequence[str]) -> bool:
    """Whether the local ``files`` that the directory or glob ``path`` names sit in ``KEY=VALUE`` folders below it
    (Hive layout): their keys are then columns."""
    base = path.rstrip("/") if os.path.isdir(path) else glob_base(path)
    return any(_partition(_relative_dirs(file, base)) for file in files)


def _relative_dirs(file: str, base: str) -> list[str]:
    """The folders between ``base`` and ``file``, where partition keys are read."""
    return file[len(base) :].strip("/").split("/")[:-1] if file.startswith(base) else []


def _partition(relative_dirs: Sequence[str]) -> dict[str, str | None]:
    keys: dict[str, str | None] = {}
    for part in relative_dirs:
        key, sep, value = part.partition("=")
        if sep and key:
            text = unquote(value)
            keys[unquote(key)] = None if text == _NULL_PARTITION else text
    return keys


def _typed(partitions: list[dict[str, str | None]]) -> list[dict[str, Any]]:
    """Partition values as int when every value of the key is an integer in its canonical form, else as strings
    (a leading zero, ``01234``, is text: read as an int it would lose its zero and merge with ``1234``)."""
    keys = list(dict.fromkeys(key for values in partitions for key in values))
    integer = {key: all(_is_integer(p.get(key)) for p in partitions) for key in keys}
    return [
        {key: int(value) if integer[key] and value is not None else value for key, value in values.items()}
        for values in partitions
    ]


def _check_same_keys(names: Sequence[str], partitions: Sequence[dict[str, Any]]) -> None:
    """Every file of a Hive dataset sits in folders of the same partition keys (in any order), as DuckDB and Spark
    require: a file outside the ``region=`` folders the others are in (``ds/b.parquet`` beside ``ds/region=eu/``)
    is an input error naming it and the first file, not rows whose ``region`` is silently null. Only
    ``__HIVE_DEFAULT_PARTITION__`` makes a null key."""
    first = partitions[0] if partitions else {}
    for name, keys in zip(names, partitions, strict=True):
        extra = [key for key in keys if key not in first]
        lacking = [key for key in first if key not in keys]
        if extra or lacking:
            differences = [f"'{name}' is in {_folders(extra, keys)} and '{names[0]}' is not"] if extra else []
            differences += [f"'{names[0]}' is in {_folders(lacking, first)} and '{name}' is not"] if lacking else []
            raise InputError(
                f"{'; '.join(differences)}: the files of a Hive dataset must be in folders of the same partition "
                "keys, which become columns: move the file that is out of place"
            )


def _folders(keys: Sequence[str], values: dict[str, Any]) -> str:
    """``a region=eu folder``, ``region=eu and year=2024 folders``, as messages name partition folders."""
    shown = [f"{key}={_NULL_PARTITION if values[key] is None else values[key]}" for key in keys]
    return f"a {shown[0]} folder" if len(shown) == 1 else f"{' and '.join(shown)} folders"


def _is_integer(value: str | None) -> bool:
    return value is None or re.fullmatch(r"0|-?[1-9]\d{0,17}", value) is not None


@dataclass(frozen=True)
class Listing:
    """The files of a dataset: ``fs`` (fsspec, ``None`` for local files), their paths in it, the URLs or paths
    that messages show, and each file's partition keys."""

    fs: Any
    paths: list[str]
    names: list[str]
    partitions: list[dict[str, Any]]
    others: tuple[str, ...] = ()  # a directory's files that are not Parquet, not read


def glob_base(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: partition keys are read below it."""
    head = _GLOB_CHARS.split(pattern, maxsplit=1)[0]
    return head.rsplit("/", 1)[0] if "/" in head else ""


def list_dataset(path: str, input_format: str | None = None) -> Listing:
    """The Parquet files a path names: a file, a directory or a glob, sorted as ``ls`` sorts.

    A directory gives every Parquet file below it, at any depth, and so does a directory a glob matches
    (``date=2026-12-*/``): locally as :func:`lossctl.io.readers.dataset_files` lists them, in an object store the
    objects below the prefix (as Spark and pyarrow.dataset read them). A file a glob matches must be Parquet.
    """
    if input_format not in (None, "parquet"):
        raise UsageError(
            f"{option('input_format', input_format)} cannot read '{show_name(path)}': a dataset is read as Parquet"
        )
    single = False  # one file named: read whatever its extension
    others: list[str] = []  # a local directory's files that are not Parquet (dataset_files adds them)
    if is_remote(path):
        fs, inner = filesystem(path)
        with remote_errors(path):
            glob = _names_pattern(fs, inner)
            if glob:
                # A folder the glob matches (date=2026-12-*/) gives the Parquet objects below it, as locally.
                matches = fs.glob(inner.rstrip("/"), detail=True)
                found = sorted(  # a set: 'out/**' matches out/ and the objects below it, each read once
                    {
                        file
                        for name, info in matches.items()
                        for file in (
                            [f for f in fs.find(name) if _is_parquet(f)] if info.get("type") == "directory" else [name]
                        )
                    }
                )
                base = glob_base(inner)
            elif fs.isdir(inner):
                found, base = sorted(fs.find(inner)), inner.rstrip("/")
            elif path.endswith("/"):  # a folder named, none there: an object of that name is no folder, as locally
                raise InputError(
                    f"cannot read '{show_name(path)}': Not a directory"
                    if fs.isfile(inner.rstrip("/"))
                    else f"file '{show_name(path)}' not found"
                )
            else:
                found, base, single = [inner], inner.rsplit("/", 1)[0], True
    else:
        fs = None
        glob = bool(_GLOB_CHARS.search(path)) and not os.path.exists(path)
        if glob:
            found, base = dataset_files(path, input_format, others), glob_base(path)
        elif os.path.isdir(path):
            found, base = dataset_files(path, input_format, others), path.rstrip("/")
        else:
            found, base, single = [path], os.path.dirname(path), True
    # A web server's links are percent-encoded (python -m http.server lists region=eu/ as region%3Deu/): decoded once
    # here, the partition values' own encoding (x%2Fy) stays for _partition.
    web = scheme_of(path) in ("http", "https")
    relative = [_relative_dirs(unquote(f) if web else f, unquote(base) if web else base) for f in found]
    kept = [
        (file, dirs)
        for file, dirs in zip(found, relative, strict=True)
        if not any(skipped(part) for part in [*dirs, file.rsplit("/", 1)[-1]])
    ]
    if input_format is None and glob:  # as dataset_files says it of a local glob
        other = next((file for file, _ in kept if not _is_parquet(file)), None)
        if other is not None:
            name = full_url(path, fs, other) if fs is not None else other
            raise InputError(
                f"'{show_name(path)}' matches '{name}', which is not a Parquet file; a glob is read as one "
                "Parquet dataset"
            )
    if input_format is None and not single:  # a directory: its Parquet files
        others += [file for file, _ in kept if not _is_parquet(file)]
        kept = [(file, dirs) for file, dirs in kept if _is_parquet(file)]
    if not kept:
        raise (
            no_match(path)
            if glob
            else InputError(f"directory '{show_name(path)}' has no Parquet files (*.parquet, *.pq)")
        )
    paths = [file for file, _ in kept]
    names = [full_url(path, fs, file) if fs is not None else file for file in paths]
    shown_others = tuple(full_url(path, fs, file) if fs is not None else file for file in others)
    return Listing(fs, paths, names, _typed([_partition(dirs) for _, dirs in kept]), shown_others)


class _Footer(NamedTuple):
    """What a Parquet file's footer says that a dataset asks more than once: its schema, its number of rows and
    the row count of each of its row groups."""

    schema: pa.Schema
    rows: int
    groups: list[int]


class ParquetDataset(Source):
    """Parquet files read in order as one input, with Hive partition keys as columns; picklable, so a part of it
    (:meth:`window`) can be sent to a Dask worker, which opens the files itself."""

    def __init__(self, path: str, listing: Listing, shown: str | None = None) -> None:
        self.path = path
        self.shown = shown
        self.format = "parquet"
        self.listing = listing
        self._window: tuple[int, int] | None = None
        self._footers: dict[int, _Footer] = {}  # what each file's footer says, read once (sent with a window)
        self._handles: dict[int, pq.ParquetFile] = {}
        _check_same_keys(listing.names, listing.partitions)
        schema = self._open(0).schema_arrow  # the first file's, which the others must agree with
        self._file_columns = list(schema.names)
        keys = [key for key in (listing.partitions[0] if listing.partitions else {}) if key not in schema.names]
        self.partition_keys = keys
        # int64 where any folder gives an int (_typed made them all ints or nulls), so a null folder keeps the type
        self._key_types = {
            key: pa.int64() if any(isinstance(p[key], int) for p in listing.partitions) else pa.string() for key in keys
        }
        self.columns = self._file_columns + keys
        self.notices = left_out(shown or path, listing.others)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_handles": {}}  # open files stay where they were opened

    def _open(self, index: int) -> pq.ParquetFile:
        handle = self._handles.get(index)
        if handle is None:
            name = self.listing.names[index]
            fs = self.listing.fs
            path = self.listing.paths[index]
            with remote_errors(name), _parquet_errors(name):
                handle = parquet_file(local_file(path), f"'{name}'") if fs is None else _open_remote(fs, path, name)
            self._handles[index] = handle
        return handle

    def _footer(self, index: int) -> _Footer:
        """What the footer of file ``index`` says, read once: the row groups' counts and the key-type pass
        (:meth:`declared`) share it, and a window sent to a Dask worker carries it."""
        footer = self._footers.get(index)
        if footer is None:
            parquet = self._open(index)
            metadata = parquet.metadata
            groups = [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)]
            footer = self._footers[index] = _Footer(parquet.schema_arrow, metadata.num_rows, groups)
            if index:
                self._handles.pop(index, None)  # the first stays open for the schema; the others reopen
        return footer

    @functools.cached_property
    def row_groups(self) -> list[list[int]]:
        """The row count of every row group of every file, from the footers."""
        return [self._footer(index).groups for index in range(len(self.listing.paths))]

    @property
    def num_rows(self) -> int | None:
        if self._window is not None:
            return self._window[1] - self._window[0]
        return sum(sum(groups) for groups in self.row_groups)

    @property
    def first_row(self) -> int:
        return self._window[0] if self._window is not None else self._offset

    def file_of(self, row: int) -> str | None:
        names = self.listing.names
        index = file_index(row, [sum(groups) for groups in self.row_groups]) if len(names) > 1 else None
        return names[index] if index is not None else None

    def splits(self, rows_per_part: int, multiple: int = 1) -> list[tuple[int, int]]:
        """Row ranges ``[start, stop)`` covering the input: consecutive row groups of one file, about
        ``rows_per_part`` rows each (never less than a row group), every boundary a multiple of ``multiple``
        (a batch loss's batch size: no batch is cut)."""
        bounds = [0]
        start = held = 0
        for groups in self.row_groups:
            for size in groups:
                if held and held + size > rows_per_part:
                    bounds.append(start)
                    held = 0
                start += size
                held += size
            if held:
                bounds.append(start)
                held = 0
        aligned = sorted({bound - bound % multiple for bound in bounds[:-1]} | {bounds[-1]})
        return [(a, b) for a, b in itertools.pairwise(aligned) if b > a]

    def window(self, start: int, stop: int) -> ParquetDataset:
        """This dataset restricted to the rows ``[start, stop)``; the row groups are those of the footers."""
        self.row_groups  # every footer read here, once, and carried by the part  # noqa: B018
        part = ParquetDataset.__new__(ParquetDataset)
        part.__dict__.update({**self.__dict__, "_handles": {}, "_window": (start, stop)})
        return part

    def files_in_window(self) -> list[str]:
        """The names of the files the rows of this part come from (for messages)."""
        start, stop = self._window or (0, self.num_rows or 0)
        names, offset = [], 0
        for name, groups in zip(self.listing.names, self.row_groups, strict=True):
            rows = sum(groups)
            if offset < stop and offset + rows > start:
                names.append(name)
            offset += rows
        return names

    def declared(self, columns: Sequence[str]) -> list[Declared]:
        """Every file's footer, of its own columns: a partition key's type is the folders' (``None`` here)."""
        file_columns = [c for c in columns if c not in self.partition_keys]
        files = []
        for index, name in enumerate(self.listing.names):
            footer = self._footer(index)
            files.append(parquet_declared(name, footer.schema, footer.rows, file_columns, partial(self._span, index)))
        return files

    def _types(self, columns: list[str]) -> dict[str, pa.DataType]:
        """The type of each file column whose files declare different ones (:func:`dataset_types`), from every file's
        footer: a Dask task's part reads its files as the whole dataset does."""
        if len(self.listing.paths) == 1:
            return {}
        file_columns = [c for c in columns if c not in self.partition_keys]
        return dataset_types(file_columns, self.declared(columns), self._keys)

    def _span(self, index: int, column: str) -> tuple[int, int] | None:
        name = self.listing.names[index]
        with remote_errors(name), _parquet_errors(name):
            span = parquet_span(self._open(index), column)
        if index:
            self._handles.pop(index, None)
        return span

    def _check(self, index: int, columns: list[str]) -> None:
        """The file has the first file's columns (:func:`check_same_columns`)."""
        schema = self._open(index).schema_arrow
        names = set(schema.names)  # once: each .names makes a new list (10,000 columns took 8 s)
        if index:  # a column named like its folder's key is checked against it (_check_partition_column)
            own = [name for name in schema.names if name not in self.partition_keys]
            check_same_columns(self.listing.names[index], own, self.listing.names[0], self._file_columns)
        for name in columns:
            if name not in names:
                raise column_not_found(name, schema.names, self.listing.names[index])

    def _file_batches(
        self,
        index: int,
        columns: list[str],
        chunk_rows: int,
        groups: list[int] | None,
        skip: int,
        take: int | None,
        types: dict[str, pa.DataType],
    ) -> Iterator[pa.RecordBatch]:
        """``columns`` of file ``index`` (its ``groups`` only), from its ``skip``-th row, ``take`` rows at most, those
        of ``types`` cast to them."""
        file_columns = [c for c in columns if c not in self.partition_keys]
        self._check(index, file_columns)
        for key in columns:
            if key not in file_columns:
                _check_utf8(key, self.listing.partitions[index].get(key))
        parquet = self._open(index)
        name = self.listing.names[index]
        partition = self.listing.partitions[index]
        # A key that is also a column of this file, read to be checked even where the first file lacks the column
        # (its values then come from the folders): a disagreeing column is an error in either case, never ignored.
        own = parquet.schema_arrow.names
        clashing = [c for c in columns if c in partition and c in own]
        read = list(dict.fromkeys(file_columns + clashing))
        position = sum(self.row_groups[index][: groups[0]]) if clashing and groups else 0  # the batch's first row
        with remote_errors(name), _parquet_errors(name):
            batches = parquet.iter_batches(batch_size=chunk_rows, columns=read, row_groups=groups)
            rows = sum(self.row_groups[index][g] for g in groups) if groups else parquet.metadata.num_rows
            for batch in every_row(batches, rows, f"'{name}'"):
                if skip >= batch.num_rows:
                    skip -= batch.num_rows
                    position += batch.num_rows
                    continue
                batch = batch.slice(skip)
                position += skip
                skip = 0
                if take is not None:
                    if take <= 0:
                        return
                    batch = batch.slice(0, take)
                    take -= batch.num_rows
                for column in clashing:
                    self._check_partition_column(index, column, batch.column(column), position)
                position += batch.num_rows
                arrays = [
                    (
                        batch.column(c)
                        if c in file_columns
                        else _constant(partition[c], self._key_types[c], batch.num_rows)
                    )
                    for c in columns
                ]
                yield conform(pa.RecordBatch.from_arrays(arrays, names=columns), types, name)
        self._handles.pop(index, None)

    def _check_partition_column(self, index: int, column: str, values: pa.Array, position: int) -> None:
        """A file's column named like a partition key of its folder holds the folder's value on every row: the
        file's values are the ones read, so rows that say otherwise are an input error naming the first one
        (numbered in the whole input), not a silent choice between the two."""
        import pyarrow.compute as pc

        value = self.listing.partitions[index][column]
        if value is None:
            differs = pc.is_valid(values)
        else:
            numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
            text = not (numeric and isinstance(value, int))
            compared = pc.cast(values, pa.string()) if text else values
            differs = pc.fill_null(pc.not_equal(compared, pa.scalar(str(value) if text else value)), True)
        rows = pc.sum(pc.cast(differs, pa.int64())).as_py() or 0
        if not rows:
            return
        at = int(pc.index(differs, True).as_py())
        row = self._offset + sum(sum(groups) for groups in self.row_groups[:index]) + position + at
        folder = f"{column}={_NULL_PARTITION if value is None else value}"
        raise InputError(
            f"column '{show_name(column)}' of '{show_name(self.listing.names[index])}' differs from its folder "
            f"{folder} in "
            f"{plural(rows, 'row')} (first: row {row}, {values[at].as_py()!r}); a column named like a partition key "
            "must hold the folder's value: rename the column or move the file"
        )

    def _batches(self, columns: list[str], chunk_rows: int, dictionary: list[str]) -> Iterator[pa.RecordBatch]:
        types = self._types(columns)
        if self._window is None:
            for index in range(len(self.listing.paths)):
                yield from self._file_batches(index, columns, chunk_rows, None, 0, None, types)
            return
        start, stop = self._window
        offset = 0
        for index, groups in enumerate(self.row_groups):
            group_start = offset
            chosen: list[int] = []
            first_chosen = None
            for g, size in enumerate(groups):
                if group_start < stop and group_start + size > start:
                    chosen.append(g)
                    first_chosen = group_start if first_chosen is None else first_chosen
                group_start += size
            offset = group_start
            if chosen and first_chosen is not None:
                skip = max(0, start - first_chosen)
                take = min(stop, offset) - max(start, first_chosen)
                yield from self._file_batches(index, columns, chunk_rows, chosen, skip, take, types)

    def _read(self, columns: list[str]) -> pa.Table:
        batches = list(self._batches(columns, 1 << 20, []))
        return concat_parts([pa.Table.from_batches([batch]) for batch in batches], columns, self.label)


def _open_remote(fs: Any, path: str, name: str) -> pq.ParquetFile:
    """A remote Parquet file, read a column chunk per request; from a web server that ignores ``Range`` headers
    (``python -m http.server``), whose partial reads fsspec refuses ("doesn't appear to support range requests"),
    it is read whole into memory, as a remote CSV is. One cut short is refused as a local one is, ``name`` naming
    it (:func:`~lossctl.io.readers.parquet_file`)."""
    try:
        return parquet_file(fs.open(path, "rb"), f"'{name}'", buffer_size=0)
    except ValueError as error:
        if isinstance(error, InputError) or "range requests" not in str(error):
            raise
    return parquet_file(pa.BufferReader(fs.cat_file(path)), f"'{name}'", buffer_size=0)


def _check_utf8(key: str, value: Any) -> None:
    """A partition key used as a column, and its value, are text: a folder name that is not UTF-8 (Python holds its
    bytes as surrogates, which no Arrow string can hold) is an input error naming the folder."""
    folder = f"{key}={_NULL_PARTITION if value is None else value}"
    if not is_utf8(folder):
        raise InputError(
            f"the partition folder '{show_name(folder)}' has a name that is not UTF-8, so it cannot give the column "
            f"'{key}'; rename the folder in UTF-8 (e.g. convmv -f latin1 -t utf8)"
        )


def _constant(value: Any, kind: pa.DataType, rows: int) -> pa.Array:
    """A partition key's column for a file's batch: its folder's value, of the key's type, on every row."""
    return pa.nulls(rows, kind) if value is None else pa.repeat(pa.scalar(value, kind), rows)


@contextmanager
def _parquet_errors(name: str) -> Iterator[None]:
    """pyarrow's errors while reading a Parquet file as one-line input errors naming the file."""
    try:
        yield
    except pa.ArrowException as error:
        if isinstance(error, FileNotFoundError | PermissionError | MemoryError):  # not the file's fault
            raise
        lines = str(error).strip().splitlines()
        raise InputError(f"cannot read '{name}' as Parquet: {lines[0] if lines else type(error).__name__}") from None


def open_dataset(
    path: str, input_format: str | None = None, *, delimiter: str | None = None, decimal: str = "."
) -> Source:
    """Open a remote path or a local Hive directory (the hook of :func:`lossctl.io.readers.open_input`).

    A remote file that is not Parquet (CSV, JSON Lines, Arrow, compressed or not) is read whole into memory and
    parsed as a local file would be (CSV with ``delimiter`` and ``decimal``); Parquet files, directories and globs
    are read part by part.
    """
    if path == "-":
        raise UsageError("standard input is not a dataset")
    named = is_remote(path) and not path.endswith("/") and not _is_parquet(path)
    if named and input_format in (None, "csv", "tsv", "jsonl", "arrow"):
        fs, inner = filesystem(path)
        with remote_errors(path):
            file = not _names_pattern(fs, inner) and not fs.isdir(inner)
        if file:
            data = read_bytes(path)
            if not data:
                raise EmptyInput(f"'{show_name(path)}' is empty")
            return open_bytes(path, data, input_format, delimiter=delimiter, decimal=decimal)
    return ParquetDataset(path, list_dataset(path, input_format))


def dataset_of(data: Any, input_format: str | None = None) -> ParquetDataset | None:
    """``data`` as one Parquet dataset when it is made of Parquet paths (several paths are concatenated in the
    order given), else ``None``: the Dask engine splits only what it can read part by part."""
    if isinstance(data, str | os.PathLike):
        paths = [os.fspath(data)]
    elif isinstance(data, list | tuple) and data and all(isinstance(item, str | os.PathLike) for item in data):
        paths = [os.fspath(item) for item in data]
    else:
        return None
    if "-" in paths or input_format not in (None, "parquet"):
        return None
    listings = []
    for path in paths:
        single = not is_glob(path) and not (os.path.isdir(path) or (is_remote(path) and path.endswith("/")))
        if single and not _is_parquet(path) and not is_remote(path):
            return None
        listing = list_dataset(path, input_format)
        if not all(_is_parquet(name) for name in listing.paths):
            return None
        listings.append(listing)
    if any(listing.fs is not listings[0].fs for listing in listings):
        return None
    merged = Listing(
        listings[0].fs,
        [p for listing in listings for p in listing.paths],
        [n for listing in listings for n in listing.names],
        [k for listing in listings for k in listing.partitions],
    )
    path, shown = several(paths)
    return ParquetDataset(path, merged, shown)
