"""Columns two inputs store in the same bytes: equal values, known without decoding a row.

Two models' predictions exported by one pipeline usually hold the same target and id columns, written by
the same writer with the same settings; ``compare`` must check them row by row (docs/cli.md). Where both
are local Parquet files with row groups of the same layout, a column whose every row-group chunk is the
same bytes (:meth:`~lossctl.io.readers.Source.column_chunks`) decodes to the same values, so it needs
neither decoding nor comparing: on 20M rows, the stored bytes of ``y_true`` and ``id`` compare in about
30 ms, against decoding and comparing both columns of both files. Any other difference (another codec,
page size or writer) leaves the column to the row-by-row check.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from io import FileIO

from lossctl.io.readers import Source, StoredChunk

# Bytes compared at a time, in two buffers reused from piece to piece (fresh memory is slow to touch here).
_PIECE = 1 << 20


def same_stored_columns(first: Source, second: Source, names: Sequence[str]) -> list[str]:
    """The columns of ``names`` that ``first`` and ``second`` store in the same bytes, chunk for chunk."""
    same = []
    with ExitStack() as stack:
        files: dict[str, FileIO] = {}

        def opened(path: str) -> FileIO:
            if path not in files:
                files[path] = stack.enter_context(FileIO(path, "rb"))
            return files[path]

        buffers = (bytearray(_PIECE), bytearray(_PIECE))
        for name in names:
            ours, theirs = first.column_chunks(name), second.column_chunks(name)
            if ours is None or theirs is None or len(ours) != len(theirs):
                continue
            pairs = list(zip(ours, theirs, strict=True))
            if not all(a.layout == b.layout and a.size == b.size for a, b in pairs):
                continue
            try:
                if all(_same_bytes(opened(a.file), a, opened(b.file), b, buffers) for a, b in pairs):
                    same.append(name)
            except OSError:
                continue  # a file gone or unreadable since it was opened: reading it will say so
    return same


def _same_bytes(
    left: FileIO, a: StoredChunk, right: FileIO, b: StoredChunk, buffers: tuple[bytearray, bytearray]
) -> bool:
    """Whether the ``a.size`` bytes at ``a.offset`` of ``left`` equal those at ``b.offset`` of ``right``."""
    mine, other = buffers
    left.seek(a.offset)
    right.seek(b.offset)
    remaining = a.size
    while remaining > 0:
        size = min(remaining, _PIECE)
        if left.readinto(memoryview(mine)[:size]) != size or right.readinto(memoryview(other)[:size]) != size:
            return False  # a file shorter than its metadata says: the row-by-row check will say what is wrong
        # bytearray == bytearray is one memcmp; a memoryview comparison goes element by element (30x slower).
        if (mine != other) if size == _PIECE else (mine[:size] != other[:size]):
            return False
        remaining -= size
    return True
