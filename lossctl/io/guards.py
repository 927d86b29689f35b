"""Checks that stop a hostile or malformed text input before a parser sees it.

A parser handed a line with no end, or JSON nested thousands of levels deep, fails in ways no error
message can explain: memory runs out, or pyarrow's JSON reader overflows its thread's stack and the
process dies with SIGSEGV and nothing on stderr. The limits are in :mod:`lossctl.limits`.
"""

from __future__ import annotations

import re

import numpy as np

# A JSON string, escapes included (the unrolled form of "(\\.|[^"\\])*", linear on long strings).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN = (ord("["), ord("{"))
_CLOSE = (ord("]"), ord("}"))
_NULL_STARTS = tuple(map(ord, "n \t\r"))
_NULL = re.compile(rb"[ \t\r]*null")
_BLANK = tuple(map(ord, " \t\r\n"))


class LineTooLong(Exception):
    """A line longer than the limit starts at byte ``offset`` of the (decompressed) input."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


# Bytes compared at a time by count_lines: the comparison's result stays in the core's cache.
_COUNT_PIECE = 1 << 18


def count_lines(block: object) -> int:
    """The number of ``\\n`` in a block, compared in pieces into one reused buffer: 1.3 ms for 16 MB, against
    2.4 ms for the whole block at once (and its 16 MB temporary, in the peak memory of a read from a pipe) and
    4.5 ms for ``bytes.count``."""
    data = np.frombuffer(block, dtype=np.uint8)  # type: ignore[call-overload]
    found = np.empty(min(_COUNT_PIECE, len(data)), dtype=bool)
    total = 0
    for start in range(0, len(data), _COUNT_PIECE):
        piece = data[start : start + _COUNT_PIECE]
        equal = np.equal(piece, ord("\n"), out=found[: len(piece)])
        total += int(np.count_nonzero(equal))
    return total


def json_depth(text: bytes) -> int:
    """How deeply ``[`` and ``{`` nest in one JSON text, brackets inside strings not counted."""
    bare = np.frombuffer(_STRING.sub(b'""', text), dtype=np.uint8)
    steps = np.isin(bare, _OPEN).astype(np.int64) - np.isin(bare, _CLOSE)
    return int(np.cumsum(steps).max(initial=0))


class Lines:
    """Where the lines of a block start and stop (``stops`` at their ``\\n``), found once for the checks below."""

    def __init__(self, block: object) -> None:
        self.data = np.frombuffer(block, dtype=np.uint8)  # type: ignore[call-overload]
        ends = np.flatnonzero(self.data == ord("\n"))
        self.starts = np.concatenate(([0], ends + 1))
        self.stops = np.concatenate((ends, [len(self.data)]))

    def text(self, line: int) -> bytes:
        return self.data[self.starts[line] : self.stops[line]].tobytes()

    def with_content(self) -> int:
        """How many lines hold something besides white space (a pass over the bytes)."""
        content = np.flatnonzero(~np.isin(self.data, _BLANK))
        if not len(content):
            return 0
        line_of = np.searchsorted(self.starts, content, side="right")
        return int(np.count_nonzero(np.diff(line_of))) + 1


def first_too_deep_line(lines: Lines, limit: int) -> int | None:
    """The 0-based index of the first line nested deeper than ``limit``, or ``None``.

    Only lines longer than ``limit`` bytes can nest that deep, and only those holding more than
    ``limit`` brackets are measured, so a block of ordinary records costs one pass for its line ends
    (7 ms for 16 MB, against 190 ms for pyarrow to parse it).
    """
    for line in np.flatnonzero(lines.stops - lines.starts > limit).tolist():
        text = lines.text(line)
        if text.count(b"[") + text.count(b"{") > limit and json_depth(text) > limit:
            return int(line)
    return None


def first_null_line(lines: Lines) -> int | None:
    """The 0-based index of the first line starting with the bare JSON value ``null``, or ``None``. pyarrow's JSON
    reader reads such a value as a row of nulls, and dies (SIGSEGV) when one comes first in its block, whatever
    follows it on the line (``null``, ``null null``, ``nullx``); only the lines that start as it may (``n`` or white
    space, where records start with ``{``) are looked at."""
    starts = lines.starts[lines.starts < len(lines.data)]  # not the empty line after a last line end
    for line in np.flatnonzero(np.isin(lines.data[starts], _NULL_STARTS)).tolist():
        if _NULL.match(lines.text(line)):
            return int(line)
    return None


def more_rows_than_lines(rows: int, lines: Lines) -> bool:
    """Whether pyarrow's JSON reader gave more ``rows`` than the block has lines with content: it reads two values
    on one line (``{"a": 1} {"a": 2}``, ``{...} null``) as two rows. From the line ends alone when every line with a
    byte starts with one that is not white space (the usual block); else with a pass over the bytes."""
    filled = lines.starts[lines.stops > lines.starts]
    if rows > len(filled):
        return True
    if rows == len(filled) and not np.isin(lines.data[filled], _BLANK).any():
        return False
    return rows > lines.with_content()


def first_line_of_several_values(lines: Lines) -> int | None:
    """The 0-based index of the first line holding more than one JSON value (``{"a": 1} {"a": 2}``, ``{...} null``),
    which pyarrow's reader reads as several rows, or ``None``. Line by line with the standard library: called only
    when a block gave more rows than it has lines with content."""
    import json

    decoder = json.JSONDecoder()
    for line in range(len(lines.starts)):
        text = lines.text(line).decode("utf-8", "replace").strip()
        try:
            _, end = decoder.raw_decode(text)
        except ValueError:
            continue
        if text[end:].strip():
            return line
    return None
