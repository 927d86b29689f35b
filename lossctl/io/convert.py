"""From Arrow columns to the float64 NumPy arrays the losses take (docs/cli.md, "Input").

Missing values are reported, not judged: every converter returns the values with NaN where a value is
missing, and a mask of those rows (or ``None`` when there are none, the common case, so callers can skip
work). Whether missing values are an error or dropped (``--missing``) is the engine's decision.

Row numbers in messages are 0-based positions in the given array plus ``row_offset``, which the caller
sets to the array's first row in the file when it converts a chunk.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, TypeAlias

import numpy as np
import pyarrow as pa

from lossctl import arrow
from lossctl.errors import DecimalCommas, EmptyVectors, InputError, option
from lossctl.limits import MAX_JSON_DEPTH
from lossctl.stats import all_finite
from lossctl.text import count, show_name, shown_value, written_number

ArrowColumn: TypeAlias = Any  # a pyarrow Array or ChunkedArray (pyarrow ships no type information)

# How a missing number is spelled in text: pandas' default ``na_values``, that is pyarrow's CSV null values (which a
# column read as numbers already treats as missing: ``NA``, ``null``, ``NaN``...) with ``<NA>`` and Python's ``None``.
# A column of numbers with one of the others (``None``) is read as text, where the same cells must stay missing.
MISSING_TEXTS = (
    *("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A"),
    *("NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
)

# A number written with a decimal comma (1,5 or -0,25), as European spreadsheets export it.
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")


def _chunks(array: ArrowColumn) -> list[pa.Array]:
    return list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]


def is_text_type(kind: pa.DataType) -> bool:
    """UTF-8 text of any Arrow layout: ``string``, ``large_string`` or ``string_view``."""
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def is_list_type(kind: pa.DataType) -> bool:
    """A list of any Arrow layout: ``list``, ``large_list``, ``fixed_size_list`` or a list view."""
    return (
        pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_fixed_size_list(kind)
        or pa.types.is_list_view(kind)
        or pa.types.is_large_list_view(kind)
    )


def is_numeric_type(kind: pa.DataType) -> bool:
    """Types every converter reads as numbers: integers, floats, decimals, booleans and all-null columns."""
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
    )


def nan_mask(values: np.ndarray) -> np.ndarray | None:
    """Where ``values`` are NaN (a null converted, or a NaN stored), or ``None`` where none is."""
    missing = np.isnan(values)
    return missing if missing.any() else None


class DecimalsHeld(Exception):
    """A chunk with a text column's error that :class:`DecimalMarks` holds to tell after the last chunk: the chunk
    is not converted further (its later columns' errors are not the ones one chunk would tell)."""


class DecimalMarks:
    """What the text columns of a run showed, over its chunks, so that an error in reading them as numbers is the
    one a single chunk of the whole input gives: each column's first number written with a decimal point and first
    with a decimal comma (the two in different chunks mix as in one chunk), and its first cell that is no number.
    Only text columns are looked at, so numeric columns cost nothing.

    Decimal commas (without ``--decimal ,`` no reader parses them) and, with ``decimal=","`` (``--decimal ,``),
    numbers written with a ``.`` (``1.500`` is a thousand and five hundred to whoever wrote it so, and would
    otherwise be read as 1.5) are errors. Without the columns' conversion ``order`` an error is told at once. With
    the engine's, it is held (:class:`DecimalsHeld`), since a later chunk may show the other mark, a cell that is no
    number (told before any mark, as one chunk's search finds it first) or an error in a column converted before;
    :meth:`error` is told after the last chunk: that of the first column in ``order`` with one.
    """

    def __init__(self, decimal: str | None = None, order: Sequence[str] = ()) -> None:
        self.points: dict[str, tuple[int, str]] = {}
        self.commas: dict[str, tuple[int, str]] = {}
        self.no_numbers: dict[str, InputError] = {}
        self.decimal = decimal
        self.order = list(order)
        self.held: str | None = None

    def saw(self, column: str, cleaned: pa.Array, row_offset: int) -> None:
        """Note the first of the (trimmed, parsed) ``cleaned`` cells written with a decimal point."""
        import pyarrow.compute as pc

        if column in self.points:
            return
        dotted = pc.index(pc.match_substring(cleaned, "."), True).as_py()
        if dotted >= 0:
            self.noted(column, (dotted + row_offset, cleaned[dotted].as_py()), None)

    def noted(self, column: str, point: tuple[int, str] | None, comma: tuple[int, str] | None) -> None:
        """Keep the column's first ``point`` and ``comma`` (``(row, text)``); raise (:meth:`_hold`) when either is an
        error, or the two are."""
        if point is not None:
            self.points.setdefault(column, point)
        if comma is not None:
            self.commas.setdefault(column, comma)
        if column in self.commas or (column in self.points and self.decimal == ","):
            self._hold(column)

    def merge(self, later: DecimalMarks) -> None:
        """Add what a later part of the input showed (a Dask task's marks), as a later chunk adds its own, and hold
        the first column in ``order`` with an error, if any."""
        # Each column's first of each, the earlier rows' where both show one.
        self.points = later.points | self.points
        self.commas = later.commas | self.commas
        self.no_numbers = later.no_numbers | self.no_numbers
        wrong = set(self.no_numbers) | set(self.commas) | (set(self.points) if self.decimal == "," else set())
        self.held = next((column for column in self.order if column in wrong), None)

    def no_number(self, column: str, error: InputError) -> NoReturn:
        """Raise (:meth:`_hold`) the error of a cell of ``column`` that is no number (the first one is kept)."""
        self.no_numbers.setdefault(column, error)
        self._hold(column)

    def _hold(self, column: str) -> NoReturn:
        if not self.order:
            raise self.error(column)
        if self.held is None or self.order.index(column) < self.order.index(self.held):
            self.held = column
        raise DecimalsHeld

    def error(self, column: str | None = None) -> InputError:
        """The error of ``column`` (by default the held one), as one chunk of every row would tell it: its first cell
        that is no number, else its decimal points and commas mixed, its decimal commas, or its points read with
        ``--decimal ,``."""
        column = column or self.held
        assert column is not None
        if column in self.no_numbers:
            return self.no_numbers[column]
        if column in self.commas:
            if column in self.points:
                return _mixed(column, self.points[column], self.commas[column])
            row, text = self.commas[column]
            commas = DecimalCommas(column, shown_value(text), row)
            return commas.given() if self.decimal == "," else commas  # as decimal_option tells it
        row, text = self.points[column]
        return self.point_refused(column, text, row)

    @staticmethod
    def point_refused(column: str, text: str, row: int) -> InputError:
        """The error of a number written with a ``.`` (``1.500``, ``1.000,5``) read with ``--decimal ,``."""
        return InputError(
            f"column '{show_name(column)}' is not numeric with {option('decimal', ',')}: {shown_value(text)} at row "
            f"{row} holds a '.'; thousands separators are not read (remove them), and every number must use the "
            "decimal comma",
            row=row,
        )


class VectorWidths:
    """The width of each value binding (a list column's K; 1 for a column of numbers) where it first holds a value,
    over the chunks and parts of a run: a later chunk of another width is as ragged as two widths in one chunk
    (:func:`to_float64_matrix`), which the losses would otherwise score with a K of their own. A column read as
    vectors stays one: a later chunk of its text is JSON arrays too, whatever its first cell (:meth:`holds_vectors`),
    and a part of the input that read it as numbers (a Dask task's rows, whose first cell is ``0.5``) is 1 wide."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, ...], tuple[int, int]] = {}
        self.vectors: set[tuple[str, ...]] = set()

    def holds_vectors(self, columns: tuple[str, ...]) -> bool:
        """Whether an earlier chunk read ``columns`` as vectors (a list column, text of JSON arrays)."""
        return columns in self.vectors

    def saw(self, columns: tuple[str, ...], values: np.ndarray, missing: np.ndarray | None, row_offset: int) -> None:
        """Check a chunk's ``values`` (a rows x K matrix, or one number per row) against the first width seen; rows
        all missing tell no width."""
        if values.ndim == 2:
            self.vectors.add(columns)
        first = int(np.argmin(missing)) if missing is not None else 0
        if first >= len(values) or (missing is not None and missing[first]):
            return
        self.merge({columns: (values.shape[1] if values.ndim == 2 else 1, first + row_offset)})

    def merge(self, first: dict[tuple[str, ...], tuple[int, int]]) -> None:
        """Check the widths a later part of the input saw first (``(width, row)`` per binding) against these."""
        for columns, (width, row) in first.items():
            known, known_row = self.first.setdefault(columns, (width, row))
            if width != known:
                raise VectorWidthError(columns, known_row, known, row, width)

    def cite(self, error: VectorWidthError) -> VectorWidthError:
        """``error``, found within a chunk or a part, cited from the first row of the whole input with a value (the
        first of the chunks and parts seen), so that every chunking and either engine cite the same rows."""
        if error.columns not in self.first:
            return error
        width, row = self.first[error.columns]
        if width == error.width:
            return VectorWidthError(error.columns, row, width, error.at, error.length)
        return VectorWidthError(error.columns, row, width, error.first_row, error.width)


def _mixed(column: str, first: tuple[int, str], other: tuple[int, str]) -> InputError:
    (one, one_text), (two, two_text) = sorted((first, other))
    return InputError(
        f"column '{show_name(column)}' mixes decimal points: {shown_value(one_text)} at row {one} and "
        f"{shown_value(two_text)} at row {two}; write every number with the same one",
        row=one,
    )


def _parse_text(chunk: pa.Array, column: str, row_offset: int, marks: DecimalMarks | None = None) -> pa.Array:
    """Numbers stored as text (a CSV column with one odd cell, JSON strings): parse them, or name the bad cell.

    Blank cells and the spellings of :data:`MISSING_TEXTS` are missing values. Arrow's parser does the work; only
    on failure are the cells searched, for the first that is no number at all (named whatever ``--decimal`` is,
    since the text does not say whether it was given: with ``--decimal ,`` the reader has already parsed every
    cell written with a decimal comma), else for the decimal commas, alone (``--decimal ,`` reads them) or beside
    decimal points (one of the two is wrong), in this chunk or, with ``marks``, in another one.
    """
    import pyarrow.compute as pc  # only for text columns: its import costs 30 ms of every run

    if pa.types.is_string_view(chunk.type):
        chunk = chunk.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(chunk)
    missing_texts = pa.array(MISSING_TEXTS, trimmed.type)
    cleaned = pc.if_else(pc.is_in(trimmed, value_set=missing_texts), pa.scalar(None, trimmed.type), trimmed)
    try:
        values = cleaned.cast(pa.float64())
    except pa.ArrowInvalid:
        pass
    else:
        if marks is not None:
            marks.saw(column, cleaned, row_offset)
        return values
    texts = cleaned.to_pylist()
    commas = [row for row, text in enumerate(texts) if text is not None and _DECIMAL_COMMA.fullmatch(text)]
    for row, text in enumerate(texts):
        if text is not None and not _DECIMAL_COMMA.fullmatch(text) and not _spells_number(text):
            if marks is not None and marks.decimal == "," and _DECIMAL_COMMA.fullmatch(text.replace(".", "")):
                error = marks.point_refused(column, text, row + row_offset)  # 1.000,5: a thousands separator
            else:
                error = InputError(
                    f"column '{show_name(column)}' is not numeric: {shown_value(text)} at row {row + row_offset}",
                    row=row + row_offset,
                )
            if marks is None:
                raise error
            marks.no_number(column, error)
    if commas:  # the rest are numbers: the decimal commas are wrong here, whether --decimal , was given or not
        comma = (commas[0] + row_offset, texts[commas[0]])
        points = [row for row, text in enumerate(texts) if text is not None and "." in text]
        point = (points[0] + row_offset, texts[points[0]]) if points else None
        if marks is not None:  # raises, with the marks of the other chunks too
            marks.noted(column, point, comma)
        if point is not None:  # --decimal , reads the commas and refuses the points: both ways, one kind is wrong
            raise _mixed(column, comma, point)
        raise DecimalCommas(column, shown_value(comma[1]), comma[0])
    if marks is not None:
        marks.saw(column, cleaned, row_offset)
    return pa.array([None if text is None else float(text) for text in texts], pa.float64())


@contextmanager
def decimal_option(decimal: str | None) -> Iterator[None]:
    """Conversions of a run given ``--decimal decimal``: with ``,``, the hint of a decimal comma no reader parsed
    (:class:`~lossctl.errors.DecimalCommas`) is not to give it."""
    try:
        yield
    except DecimalCommas as error:
        if decimal != ",":
            raise
        raise error.given() from None


def _spells_number(text: str) -> bool:
    """A number as Arrow's parser spells it (:func:`~lossctl.text.written_number`): not ``1_0``, nor digits of
    other scripts, which Python's ``float`` reads."""
    try:
        written_number(text)
    except ValueError:
        return False
    return True


def _first_present(chunk: pa.Array) -> int | None:
    """The first row of a chunk that holds a value, for a message."""
    present = np.flatnonzero(chunk.is_valid().to_numpy(zero_copy_only=False))
    return int(present[0]) if len(present) else None


def _chunk_to_float64(chunk: pa.Array, column: str, row_offset: int, marks: DecimalMarks | None = None) -> np.ndarray:
    """One Arrow chunk as float64 with NaN for nulls; zero-copy (read-only) for float64 without nulls."""
    kind = chunk.type
    if pa.types.is_dictionary(kind):
        chunk = chunk.dictionary_decode()
        kind = chunk.type
    if is_text_type(kind):
        chunk = _parse_text(chunk, column, row_offset, marks)
    elif is_list_type(kind):
        raise InputError(
            f"column '{show_name(column)}' is a list column; it can only be bound to a role that takes vectors"
        )
    elif pa.types.is_nested(kind):  # a JSON object in a line: named as the other nested columns are
        row = _first_present(chunk)
        at = f" (the first at row {row + row_offset}; 0-based)" if row is not None else ""
        raise InputError(f"column '{show_name(column)}' holds nested values ({kind}), not numbers{at}")
    elif not is_numeric_type(kind):
        raise InputError(f"column '{show_name(column)}' is not numeric: it has type {kind}")
    elif pa.types.is_integer(kind) and chunk.null_count == 0:
        # Straight from the buffer: Array.cast imports pyarrow.compute (30 ms) for the common integer label.
        # Integers above 2**53 round to the nearest double, which is all a loss can use anyway.
        signed = "i" if pa.types.is_signed_integer(kind) else "u"
        data = chunk.buffers()[1]
        integers = np.frombuffer(
            data, dtype=f"<{signed}{kind.bit_width // 8}", count=len(chunk), offset=chunk.offset * kind.bit_width // 8
        )
        return integers.astype(np.float64)
    elif pa.types.is_decimal(kind):
        return _decimal_values(chunk)
    elif not pa.types.is_float64(kind):
        chunk = chunk.cast(pa.float64(), safe=False)
    return _float64_values(chunk)


def _decimal_values(chunk: pa.Array) -> np.ndarray:
    """A decimal chunk as float64, each value the double nearest its decimal value, NaN where null.

    Not Arrow's cast, which scales in floating point (``decimal(10, 2)`` 1.66 became 1.6600000000000001, so a
    Parquet decimal column and the same numbers in CSV gave different losses). An unscaled integer ``n`` with
    ``|n| <= 2**53`` and a scale ``s`` with ``|s| <= 22`` is ``n / 10**s`` (or ``n * 10**-s``): both operands are
    exact doubles, so the one IEEE operation rounds correctly (a float parser's fast path). Other values go
    through their decimal text, which Arrow's parser rounds correctly.
    """
    kind, scale = chunk.type, chunk.type.scale
    width = kind.byte_width
    if abs(scale) <= 22 and len(chunk):
        # Little-endian two's complement: the low 64 bits are the value when the higher words only extend its sign.
        words = np.frombuffer(
            chunk.buffers()[1],
            dtype=f"<i{min(width, 8)}",
            count=len(chunk) * max(width // 8, 1),
            offset=chunk.offset * width,
        ).reshape(len(chunk), -1)
        low = words[:, 0].astype(np.int64)
        if (words[:, 1:] == (low >> 63)[:, None]).all() and ((low >= -(2**53)) & (low <= 2**53)).all():
            power = float(10 ** abs(scale))
            values = low / power if scale >= 0 else low * power
            return np.where(arrow.missing(chunk), np.nan, values) if chunk.null_count else values
    if width < 16:  # Arrow formats no decimal32 or decimal64 whose scale exceeds its precision
        chunk = chunk.cast(pa.decimal128(kind.precision, scale))
    return _float64_values(chunk.cast(pa.string()).cast(pa.float64()))


def _float64_values(chunk: pa.Array) -> np.ndarray:
    """The values of a float64 array straight from its buffers, NaN where null; zero-copy without nulls.

    Not ``Array.to_numpy``: its first call imports pandas when pandas is installed (0.2 s on every run),
    and with ``zero_copy_only=False`` it copies even a null-free array (2 ms per 262k rows).
    """
    validity, data = chunk.buffers()[:2]
    values = np.frombuffer(data, dtype=np.float64, count=len(chunk), offset=chunk.offset * 8)
    if chunk.null_count == 0:
        return values
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    present = bits[chunk.offset : chunk.offset + len(chunk)].astype(bool)
    return np.where(present, values, np.nan)


def to_float64(array: ArrowColumn, column: str, row_offset: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``(values, missing)`` for one column: :func:`float64_values` and the mask of nulls and NaNs, or
    ``None``."""
    values = float64_values(array, column, row_offset)
    return values, (None if all_finite(values) else nan_mask(values))


def float64_values(
    array: ArrowColumn, column: str, row_offset: int = 0, marks: DecimalMarks | None = None
) -> np.ndarray:
    """One column's values as float64, NaN for nulls.

    Integers and booleans (as 0/1) are accepted, and so is text whose every non-blank value is a
    number. A float64 column without nulls comes back as a read-only zero-copy view of the Arrow
    buffer; anything else is converted once. Nulls are NaN, never leftover bytes. Infinite values are
    returned as they are: rejecting them is the engine's rule, not this layer's.
    """
    chunks = _chunks(array)
    if len(chunks) == 1:
        return _chunk_to_float64(chunks[0], column, row_offset, marks)
    values = np.empty(len(array), dtype=np.float64)
    start = 0
    for chunk in chunks:
        values[start : start + len(chunk)] = _chunk_to_float64(chunk, column, row_offset + start, marks)
        start += len(chunk)
    return values


def _starts(chunks: list[pa.Array]) -> list[tuple[int, pa.Array]]:
    """Each chunk with the row number of its first row."""
    starts = []
    start = 0
    for chunk in chunks:
        starts.append((start, chunk))
        start += len(chunk)
    return starts


class VectorWidthError(InputError):
    """Vectors of the binding ``columns`` of ``width`` values from ``first_row`` on, but of ``length`` at the later
    ``row``: the row cited (whose file a multi-file input names, :func:`~lossctl.io.readers.naming_files`) is ``row``,
    where the length changes. ``first_row`` is the first row with a value of the chunk or part that found it, until
    :meth:`VectorWidths.cite` cites the whole input's."""

    def __init__(self, columns: tuple[str, ...], first_row: int, width: int, row: int, length: int) -> None:
        super().__init__(
            f"column '{show_name(', '.join(columns))}' holds vectors of different lengths: row {first_row} has "
            f"{count(width, 'value')} but row {row} has {length}",
            row=row,
        )
        self.columns, self.first_row, self.width, self.at, self.length = columns, first_row, width, row, length

    def __reduce__(self) -> tuple[type[VectorWidthError], tuple[tuple[str, ...], int, int, int, int]]:
        return VectorWidthError, (self.columns, self.first_row, self.width, self.at, self.length)


def _list_matrix(array: ArrowColumn, column: str, row_offset: int) -> tuple[np.ndarray, np.ndarray | None]:
    """A list, list-view or fixed-size-list column as a (rows x K) matrix; every non-null row must hold K values.
    Elements are read as a scalar column's cells are, and as a CSV cell's JSON array's: a list of text
    (``["0.1", "0.9"]`` in JSON Lines, Parquet's ``list<string>``) holds numbers written as text."""
    import pyarrow.compute as pc

    kind = array.type
    element = kind.value_type.value_type if pa.types.is_dictionary(kind.value_type) else kind.value_type
    if not is_numeric_type(element) and not is_text_type(element):  # elements are read as a scalar column's cells
        raise InputError(f"column '{show_name(column)}' is a list of {kind.value_type}, expected lists of numbers")
    # A list view is read as it is (its flatten() and lengths follow its offsets and sizes): pyarrow's cast of one
    # to a list makes up the offsets (a [[1, 2], [3, 4], [5, 6]] view became [[1, 2], [3, 4], []]).
    chunks = _chunks(array)
    fixed = pa.types.is_fixed_size_list(kind)
    validity = [~arrow.missing(chunk) for chunk in chunks]
    # A null row's length is whatever its slot holds: only valid rows' lengths are read.
    lengths: list[np.ndarray | None] = [
        None if fixed else arrow.integers(pc.list_value_length(chunk)) for chunk in chunks
    ]
    width, first_row = (kind.list_size, 0) if fixed else (0, 0)
    if not fixed:
        for (start, _), valid, length in zip(_starts(chunks), validity, lengths, strict=True):
            if valid.any() and length is not None:
                first = int(np.flatnonzero(valid)[0])
                width, first_row = int(length[first]), start + first
                break
    parts = []
    for (start, chunk), valid, length in zip(_starts(chunks), validity, lengths, strict=True):
        if length is not None:
            other = np.flatnonzero(valid & (length != width))
            if other.size:
                row = int(other[0])
                first, later = first_row + row_offset, start + row + row_offset
                raise VectorWidthError((column,), first, width, later, int(length[row]))
        # flatten() skips null rows, so the values fill exactly the valid rows.
        values = _elements(chunk.flatten(), column, valid, width, start + row_offset)
        values = values.reshape(int(valid.sum()), width)
        if chunk.null_count:
            padded = np.full((len(chunk), width), np.nan)
            padded[valid] = values
            values = padded
        parts.append(values)
    matrix: np.ndarray = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.empty((0, width))
    missing: np.ndarray = np.isnan(matrix).any(axis=1)
    if any(chunk.null_count for chunk in chunks):
        missing |= ~np.concatenate(validity)
    return matrix, (missing if missing.any() else None)


def _elements(flat: pa.Array, column: str, valid: np.ndarray, width: int, row_offset: int) -> np.ndarray:
    """The ``flat`` elements of the ``valid`` rows of a list column, ``width`` each, as float64; text that is no
    number is named by its row (``row_offset`` numbers the first), as a CSV cell's JSON array is."""
    try:
        return to_float64(flat, column)[0]
    except InputError as error:
        if error.row is None:
            raise
        row = int(np.flatnonzero(valid)[error.row // width]) + row_offset
        raise InputError(
            f"column '{show_name(column)}' has a value that is not a number in the list at row {row}: "
            f"{shown_value(flat[error.row].as_py())}",
            row=row,
        ) from None


def _json_number(item: object) -> float:
    """One element of a JSON array, read as a scalar column's cell is: booleans as 0/1, numeric text as Arrow's
    parser spells it (:func:`_spells_number`), the :data:`MISSING_TEXTS` as missing."""
    if item is None:
        return math.nan
    if isinstance(item, str):
        text = item.strip()
        return math.nan if text in MISSING_TEXTS else written_number(text)
    if isinstance(item, (int, float)):
        return float(item)
    raise ValueError(item)


def _json_row(text: str, column: str, row: int) -> list[float]:
    """Parse one cell holding a JSON array of numbers, or say which row is wrong and why."""
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = None
    except RecursionError:  # Python's json recurses once per level: about 1,000 levels end it
        raise InputError(
            f"column '{show_name(column)}' has a JSON array nested deeper than {MAX_JSON_DEPTH} levels at row {row}",
            row=row,
        ) from None
    if not isinstance(parsed, list):
        raise InputError(
            f"column '{show_name(column)}' has an invalid JSON array at row {row}: {shown_value(text)}", row=row
        )
    try:
        return [_json_number(item) for item in parsed]
    except (ValueError, OverflowError):
        raise InputError(
            f"column '{show_name(column)}' has a value that is not a number in the JSON array at row {row}: "
            f"{shown_value(text)}",
            row=row,
        ) from None


def _json_matrix(array: ArrowColumn, column: str, row_offset: int) -> tuple[np.ndarray, np.ndarray | None]:
    """A text column whose cells hold JSON arrays (the CSV form of a vector), as a (rows x K) matrix.

    Cells are parsed with ``json.loads``, never ``eval``. All cells are first parsed in one call, as one
    JSON document, and converted by NumPy, which is fast; on any problem they are parsed again one by
    one to name the row, as are cells holding text elements. Elements are read like scalar columns: ``true`` is
    1, ``"1.5"`` is 1.5 (``"1_0"`` is not a number), and ``null`` or ``"NA"`` is missing. Blank and null cells are
    missing rows.
    """
    import pyarrow.compute as pc

    strings = [chunk.cast(pa.string()) for chunk in _chunks(array)]
    cells = [text for chunk in strings for text in chunk.to_pylist()]
    rows = [row for row, text in enumerate(cells) if text is not None and text.strip()]
    texts = [cells[row] for row in rows]
    values: np.ndarray | None = None
    joined = ",".join(texts)
    # The joined cells are one array per cell only when each cell starts (after spaces) with the one '[' it holds:
    # else the cells '[0.1' and '0.2],[0.3, 0.4]' join into well-formed arrays, a row's values read as another's.
    starts = sum(pc.sum(pc.starts_with(pc.utf8_ltrim_whitespace(chunk), "[")).as_py() or 0 for chunk in strings)
    # Text elements are left to the cell-by-cell path: NumPy would read them as Python's float does ("1_0" as 10).
    if '"' not in joined and joined.count("[") == starts == len(texts):
        try:
            parsed = json.loads("[" + joined + "]")
            if len(parsed) == len(texts) and all(type(item) is list for item in parsed):
                values = np.array(parsed, dtype=np.float64) if texts else np.empty((0, 0))
        except (ValueError, TypeError, OverflowError, RecursionError):  # parsed again cell by cell, to name the row
            values = None
    if values is None or values.ndim != 2:
        strict = [_json_row(text, column, row + row_offset) for row, text in zip(rows, texts, strict=True)]
        for row, vector in zip(rows, strict, strict=True):
            if len(vector) != len(strict[0]):
                raise VectorWidthError((column,), rows[0] + row_offset, len(strict[0]), row + row_offset, len(vector))
        values = np.array(strict, dtype=np.float64).reshape(len(strict), len(strict[0]) if strict else 0)
    matrix = np.full((len(cells), values.shape[1]), np.nan)
    matrix[rows] = values
    blank = np.ones(len(cells), dtype=bool)
    blank[rows] = False
    missing = np.isnan(matrix).any(axis=1) | blank
    return matrix, (missing if missing.any() else None)


def _looks_like_json_arrays(array: ArrowColumn, labels: bool = False) -> bool:
    """A text column is read as JSON arrays when its first non-blank cell starts with ``[``; a column of ``labels``
    when that cell is a JSON array too (a label may start with ``[``: ``[0, 10)``, ``[CLS]``)."""
    for chunk in _chunks(array):
        for cell in chunk:
            text = cell.as_py()
            if text is not None and text.strip():
                return bool(text.lstrip().startswith("[")) and (not labels or _is_json_array(text))
    return False


def _is_json_array(text: str) -> bool:
    try:
        return isinstance(json.loads(text), list)
    except (ValueError, RecursionError):
        return False


def is_vector_column(array: ArrowColumn, labels: bool = False) -> bool:
    """Whether one column holds a vector per row: a list column, or text whose cells are JSON arrays (CSV); with
    ``labels`` (a column that may hold class labels), text whose first cell is no JSON array is labels.

    A caller converting one bound column chooses :func:`to_float64_matrix` for such a column and
    :func:`to_float64` otherwise; the dtype alone cannot tell, since CSV vectors arrive as text.
    """
    return is_list_type(array.type) or (is_text_type(array.type) and _looks_like_json_arrays(array, labels))


def to_float64_matrix(
    arrays: ArrowColumn | Sequence[ArrowColumn], columns: Sequence[str], row_offset: int = 0, as_json: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``(matrix, missing)`` for a vector role: a float64 (rows x K) matrix and a per-row mask, or ``None``.

    ``arrays`` is either several numeric columns (``logit_*``, ``x1,y1,x2,y2``), stacked in the given
    order, or one column holding a vector per row: a list or fixed-size-list column (Parquet, Arrow,
    JSON Lines) or a text column of JSON arrays (CSV). One plain numeric column is a K = 1 matrix. A text column
    is JSON arrays when its first non-blank cell starts with ``[``, or with ``as_json`` (an earlier chunk's was:
    a later cell ``0.5`` is then a malformed array, not a number).
    A row is missing when it is null or any of its values is null or NaN; the mask is per row because
    rows, not single values, are what ``--missing drop`` drops.

    Stacked columns are laid out column-major (Fortran order): each column stays contiguous, as in
    Arrow, and row-wise reductions such as a softmax over 10 classes run about 3x faster than on a
    row-major matrix (docs/performance.md; 44 ms against 138 ms for 1M rows here).
    A list column keeps its row-major values buffer, reshaped without a copy when it has no nulls.
    """
    if isinstance(arrays, (pa.Array, pa.ChunkedArray)):
        arrays = [arrays]
    if not columns or len(arrays) != len(columns):
        # A caller's bug, not the user's: the CLI reports it as an internal error.
        raise ValueError(f"expected one array per column, got {len(arrays)} arrays for columns {list(columns)}")
    if len(arrays) == 1:
        array, column = arrays[0], columns[0]
        if is_list_type(array.type) or (is_text_type(array.type) and (as_json or _looks_like_json_arrays(array))):
            matrix, missing = (_list_matrix if is_list_type(array.type) else _json_matrix)(array, column, row_offset)
            if matrix.shape[1] == 0 and (missing is None or not missing.all()):
                first = 0 if missing is None else int(np.argmin(missing))
                raise EmptyVectors(f"column '{show_name(column)}'", first + row_offset)
            return matrix, missing
        values, missing = to_float64(array, column, row_offset)
        return values.reshape(-1, 1), missing
    rows = len(arrays[0])
    matrix = np.empty((rows, len(arrays)), dtype=np.float64, order="F")
    missing_rows = np.zeros(rows, dtype=bool)
    for index, (array, column) in enumerate(zip(arrays, columns, strict=True)):
        if len(array) != rows:
            raise InputError(
                f"column '{show_name(column)}' has {count(len(array), 'row')} but column "
                f"'{show_name(columns[0])}' has {rows}"
            )
        if is_vector_column(array, labels=True):  # a list column, or CSV text of JSON arrays
            raise InputError(
                f"column '{show_name(column)}' is a list column; a vector is either one list column or several "
                "numeric columns"
            )
        values, missing = to_float64(array, column, row_offset)
        matrix[:, index] = values
        if missing is not None:
            missing_rows |= missing
    return matrix, (missing_rows if missing_rows.any() else None)
