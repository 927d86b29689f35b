"""Labels as users have them: text class labels, a named positive class, query ids of any type.

The losses read numbers: a class index, a 0/1 label, a query id that only needs to be equal within a query. An
:class:`Encoder` turns one bound column of a chunk into those numbers, the same way in every chunk, before the
engine's float64 conversion (docs/cli.md, "Input", Labels):

- :class:`ClassIndex`: class labels to indices ``0..K-1``, by ``--classes A,B,C`` or, for text labels, by the
  suffix of the prediction columns (``prob_cat``, ``prob_dog`` for ``cat``, ``dog``), reported in a notice;
- :class:`PositiveLabel`: ``--positive LABEL`` to 1 and the one other label to 0;
- :class:`SameLabels`: text labels of a target and of predicted labels beside it to codes they share;
- :class:`KeyCodes`: query ids of any type (text, integers, dates) to integer codes, in order of appearance.

Booleans are already 1/0 for the converters. Text labels without an encoder's information are an input error that
names the option to give.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa

from lossctl.arrow import integers, missing
from lossctl.errors import InputError, UsageError, option
from lossctl.io.columns import quoted_columns
from lossctl.io.convert import is_text_type
from lossctl.text import count, show_name, shown_value, written

if TYPE_CHECKING:
    from lossctl.engine import Job

ArrowColumn = Any  # a pyarrow Array or ChunkedArray (pyarrow ships no type information)


class Encoder(Protocol):
    def encode(self, array: ArrowColumn, column: str, row_offset: int) -> np.ndarray:
        """The column's labels as float64 (NaN where a value is missing)."""
        ...

    def notices(self) -> list[str]: ...

    def check_widths(self, column: str, values: Mapping[tuple[str, ...], np.ndarray]) -> None:
        """Check the encoding of ``column`` against a chunk's converted columns, whose widths are known only then."""
        ...

    def met(self) -> dict[Any, int]:
        """The distinct labels encoded so far, each with its first row, in order of first rows."""
        ...

    def replay(self, column: str, met: Mapping[Any, int]) -> None:
        """Encode the labels a later part of the input ``met`` (:meth:`met`), in order, as if this encoder had
        read them: the Dask client's check and notices over every part (the one error a whole pass raises)."""
        ...


_RECODES = {"classes": "gives the order of class labels", "positive": "names the positive class of single labels"}


def vector_labels(given: str, columns: Sequence[str], width: int) -> UsageError:
    """The usage error of ``--classes`` or ``--positive`` (``given``) beside a target of ``width`` values per row
    (a list column, JSON arrays in CSV, K columns: multi-label or one-hot targets), which holds no labels to
    recode: the option would change nothing."""
    held = f"column {quoted_columns(columns)} holds" if len(columns) == 1 else f"columns {quoted_columns(columns)} hold"
    return UsageError(
        f"{option(given)} {_RECODES[given]}, but the target {held} {width} values per row (a multi-label or one-hot "
        f"target, read as numbers): drop {option(given)}"
    )


def _one_label_per_row(column: str, values: Mapping[tuple[str, ...], np.ndarray], given: str) -> None:
    labels = values.get((column,))
    if labels is not None and labels.ndim == 2:
        raise vector_labels(given, [column], labels.shape[1])


class _Labels:
    """What the encoders of labels share: each distinct label is encoded once, by ``_value``, and remembered with
    its first row, so that the parts of an input read apart can be replayed in order (:meth:`Encoder.replay`)."""

    def __init__(self) -> None:
        self._met: dict[Any, int] = {}

    def _value(self, label: Any, column: str, row: int) -> float:
        raise NotImplementedError

    def _encoded(self, array: ArrowColumn, column: str, row_offset: int) -> np.ndarray:
        def value_of(label: Any, row: int) -> float:
            self._met.setdefault(label, row + row_offset)
            return self._value(label, column, row + row_offset)

        return _mapped(array, value_of)

    def met(self) -> dict[Any, int]:
        return dict(self._met)

    def replay(self, column: str, met: Mapping[Any, int]) -> None:
        for label, row in met.items():
            if label not in self._met:
                self._met[label] = row
                self._value(label, column, row)


def _dictionary(array: ArrowColumn) -> tuple[np.ndarray, list[Any]]:
    """``(indices, values)``: each row's index into the chunk's distinct values (-1 where missing: null, or NaN in
    a column of floats, as the converters read it), so that a label is looked at once per chunk, not once per row."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    encoded = array if pa.types.is_dictionary(array.type) else array.dictionary_encode()
    indices = integers(encoded.indices).astype(np.int64)
    indices[missing(encoded.indices)] = -1
    values = encoded.dictionary.to_pylist()
    nans = [code for code, value in enumerate(values) if isinstance(value, float) and value != value]
    if nans:  # rare: only then a pass over the rows
        indices[np.isin(indices, nans)] = -1
    return indices, values


def _first_rows(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, rows)``: the dictionary codes that rows use, in order of their first row, and that row. A
    dictionary's values that no row uses (a pandas Categorical's unused categories) are not among them."""
    order = np.flatnonzero(indices >= 0)[::-1]
    first_rows = np.full(int(indices.max(initial=-1)) + 1, -1, dtype=np.int64)
    first_rows[indices[order]] = order  # the last write, each code's first row, wins
    codes = np.flatnonzero(first_rows >= 0)
    codes = codes[np.argsort(first_rows[codes], kind="stable")]
    return codes, first_rows[codes]


def _mapped(array: ArrowColumn, value_of: Any) -> np.ndarray:
    """The float64 column where each distinct value ``v`` becomes ``value_of(v, row)``, ``row`` its first row, the
    values taken in order of their first rows (as one pass over the rows meets them, in any chunking)."""
    indices, values = _dictionary(array)
    table = np.full(len(values) + 1, np.nan)
    for code, row in zip(*_first_rows(indices), strict=True):
        table[code] = value_of(values[code], int(row))
    return table[indices]  # index -1 takes the trailing NaN


def is_text_labels(kind: pa.DataType) -> bool:
    """Columns of this type hold class labels as text (a dictionary of text too), not numbers: a dictionary of
    numbers (a pandas Categorical of 0 and 1) holds numbers."""
    return is_text_type(kind) or (pa.types.is_dictionary(kind) and is_text_type(kind.value_type))


def _same_label(value: Any, label: str) -> bool:
    """A cell equals a label typed on the command line: as text, or as the number the text spells (a decimal's
    value, whatever its scale: ``1.00`` is ``1``)."""
    if isinstance(value, str):
        return value == label
    if isinstance(value, decimal.Decimal):
        try:
            return bool(value == decimal.Decimal(label.strip()))
        except decimal.InvalidOperation:
            return False
    if isinstance(value, bool):  # true/false, or the number 1/0 (1, 1.0) as boolean columns read
        word = label.strip().lower()
        if word in ("true", "false"):
            return word == ("true" if value else "false")
        value = int(value)
    if isinstance(value, int | float):
        try:  # an integer label as an int: beyond 2**53 its float would equal its neighbours
            return bool(value == int(label.strip()))
        except ValueError:
            pass
        try:
            return bool(value == float(label))
        except ValueError:
            return False
    return str(value) == label


def _named_by(column: str, label: str) -> bool:
    """Whether a prediction column's name ends with the whole label: after a separator (``prob_cat`` for ``cat``),
    a number after a letter too (``logit0`` for ``0``), or the label alone. ``prob_cat`` is not named by ``at``,
    nor ``prob_aa`` by ``a``, nor ``p_10`` by ``0``."""
    if not label or not column.endswith(label):
        return False
    before = column[: len(column) - len(label)]
    if not before:
        return True
    return not (before[-1].isdigit() if label[0].isdigit() else before[-1].isalnum())


class ClassIndex(_Labels):
    """Class labels to their index in ``classes`` (``--classes``), or in the order of the prediction columns whose
    names end with the labels (text labels without ``--classes``)."""

    def __init__(self, classes: Sequence[str] | None, pred_columns: Sequence[str], loss: str) -> None:
        super().__init__()
        if classes and len(pred_columns) > 1 and len(classes) != len(pred_columns):  # (a list column: unknown K)
            raise UsageError(
                f"{option('classes')} names {count(len(classes), 'class', 'classes')} but 'pred' has "
                f"{len(pred_columns)} columns ({', '.join(pred_columns)}): give one class per prediction column, in "
                "their order"
            )
        self.classes = list(classes) if classes else None
        self._class_index = {name: index for index, name in enumerate(self.classes or [])}
        self.pred_columns = list(pred_columns)
        self.loss = loss
        self._suffix_used: dict[str, str] = {}
        self._label_of: dict[str, str] = {}  # the inverse of _suffix_used: one label per prediction column
        self._other_models: list[list[str]] = []
        self._ignored: list[int] = []

    def also_for(self, pred_columns: Sequence[str]) -> None:
        """Another model's prediction columns for the same label column, whose one encoding serves every model:
        without ``--classes``, each text label must name the column of the same index in every model."""
        if list(pred_columns) != self.pred_columns and list(pred_columns) not in self._other_models:
            self._other_models.append(list(pred_columns))

    def ignoring(self, ignore_index: int | None) -> None:
        """The ``ignore_index`` of a loss that reads these labels: a label that names no class but is that index
        (``-100`` beside ``--classes 2,0,1``, or among text labels) is read as it, for that loss to ignore."""
        if ignore_index is not None and ignore_index not in self._ignored:
            self._ignored.append(ignore_index)

    def _ignored_as(self, label: Any) -> int | None:
        return next((index for index in self._ignored if _same_label(label, str(index))), None)

    def index_of(self, label: Any, column: str, row: int) -> int:
        """The class index of ``label``, a cell of ``column`` at ``row``, or the ``ignore_index`` it is (an input
        error naming them if neither)."""
        if self.classes is not None:
            if isinstance(label, str):  # the classes are distinct texts: one look-up
                matches = [self._class_index[label]] if label in self._class_index else []
            else:
                matches = [index for index, name in enumerate(self.classes) if _same_label(label, name)]
            if len(matches) > 1:  # a number that --classes spells twice: 1 and 1.0, or 1 and 01
                raise InputError(
                    f"column '{show_name(column)}' holds the label {shown_value(label)} at row {row}, which "
                    f"{option('classes')} names {len(matches)} times ({', '.join(self.classes[k] for k in matches)});"
                    " give each class once",
                    row=row,
                )
            if matches:
                return matches[0]
            ignored = self._ignored_as(label)
            if ignored is not None:
                return ignored
            raise InputError(
                f"column '{show_name(column)}' holds the label {shown_value(label)} at row {row}, which is not in "
                f"{option('classes')} ({', '.join(self.classes)})",
                row=row,
            )
        ignored = self._ignored_as(label)
        if ignored is not None:
            return ignored
        index = self._named_column(label, self.pred_columns, column, row)
        for others in self._other_models:
            other = self._named_column(label, others, column, row)
            if other != index:
                raise InputError(
                    f"column '{show_name(column)}' holds the text label {shown_value(label)} at row {row}, which "
                    f"names prediction column {index + 1} of one model ({show_name(self.pred_columns[index])}) but "
                    f"column {other + 1} of another ({show_name(others[other])}); the labels are read once for "
                    "every model, so list each model's columns in the same class order",
                    row=row,
                )
        named = self.pred_columns[index]
        first = self._label_of.setdefault(named, str(label))
        if first != str(label):  # two labels, one class: 'cat' and 'prob_cat' both name prob_cat
            raise InputError(
                f"column '{show_name(column)}' holds the text labels {shown_value(first)} and {shown_value(label)} "
                f"(at row {row}), and both name prediction column {show_name(named)}; give the class order with "
                f"{option('classes', 'A,B,C')} (class A is index 0, the first prediction column)",
                row=row,
            )
        self._suffix_used.setdefault(str(label), named)
        return index

    @staticmethod
    def _named_column(label: Any, pred_columns: Sequence[str], column: str, row: int) -> int:
        """The index of the one column of ``pred_columns`` named for ``label`` (an input error if not one)."""
        matches = [k for k, name in enumerate(pred_columns) if _named_by(name, str(label))]
        if len(matches) != 1:
            columns = ", ".join(pred_columns)
            found = (
                f"no prediction column ({columns}) is named for it (as prob_cat is for cat)"
                if not matches
                else f"{len(matches)} prediction columns ({', '.join(pred_columns[k] for k in matches)}) are "
                "named for it"
            )
            raise InputError(
                f"column '{show_name(column)}' holds the text label {shown_value(label)} at row {row}, and {found}; "
                f"give the class order with {option('classes', 'A,B,C')} (class A is index 0, the first prediction "
                "column)",
                row=row,
            )
        return matches[0]

    def encode(self, array: ArrowColumn, column: str, row_offset: int) -> np.ndarray:
        if self.classes is None and not is_text_labels(array.type):
            from lossctl.io.convert import to_float64

            return to_float64(array, column, row_offset)[0]
        return self._encoded(array, column, row_offset)

    def _value(self, label: Any, column: str, row: int) -> float:
        return float(self.index_of(label, column, row))

    def notices(self) -> list[str]:
        if not self._suffix_used:
            return []
        shown = ", ".join(f"{label} -> {column}" for label, column in sorted(self._suffix_used.items()))
        chosen = f"set {option('classes')} to choose"
        return [f"{self.loss}: text labels matched to prediction columns by suffix ({shown}); {chosen}"]

    def check_widths(self, column: str, values: Mapping[tuple[str, ...], np.ndarray]) -> None:
        """``--classes`` against the K of a list column bound to ``pred`` (several columns are checked at once),
        and against a target ``column`` of vectors, which holds no labels."""
        if self.classes:
            _one_label_per_row(column, values, "classes")
        pred = values.get(tuple(self.pred_columns))
        if self.classes and pred is not None and pred.ndim == 2 and pred.shape[1] != len(self.classes):
            raise UsageError(
                f"{option('classes')} names {count(len(self.classes), 'class', 'classes')} but 'pred' "
                f"({show_name(self.pred_columns[0])}) holds {pred.shape[1]} values per row: give one class per "
                "prediction value, in their order"
            )


class PredictedLabels(_Labels):
    """One prediction column of class labels (a role with ``labels``: ``zero_one``'s) read as the target's labels,
    so that both name classes alike: under ``--classes`` each label to its index (:class:`ClassIndex`), a number
    that is no class staying as it is (one probability column of two classes, decided by ``p >= threshold``) and
    text that is none an input error naming it; under ``--positive`` text labels to 1 and 0 (:class:`PositiveLabel`,
    whose one other label they share), numbers as they are."""

    def __init__(self, target: ClassIndex | PositiveLabel) -> None:
        super().__init__()
        self.target = target

    def encode(self, array: ArrowColumn, column: str, row_offset: int) -> np.ndarray:
        if isinstance(self.target, PositiveLabel) and not is_text_labels(array.type):
            from lossctl.io.convert import to_float64

            return to_float64(array, column, row_offset)[0]
        return self._encoded(array, column, row_offset)

    def _value(self, label: Any, column: str, row: int) -> float:
        if isinstance(self.target, PositiveLabel):
            return self.target._value(label, column, row)
        if isinstance(label, int | float) and not any(_same_label(label, name) for name in self.target.classes or []):
            return float(label)
        return float(self.target.index_of(label, column, row))

    def notices(self) -> list[str]:
        return []

    def check_widths(self, column: str, values: Mapping[tuple[str, ...], np.ndarray]) -> None:
        return None


class PositiveLabel(_Labels):
    """``--positive LABEL`` to 1, the one other label to 0; a third label is an input error, and a positive label
    that never appears (every row negative, most likely a typo) is a notice."""

    def __init__(self, positive: str | None, loss: str) -> None:
        super().__init__()
        self.positive = positive
        self.loss = loss
        self._negative: Any = None
        self._positive_seen = False
        self._column = ""

    def encode(self, array: ArrowColumn, column: str, row_offset: int) -> np.ndarray:
        if self.positive is None:
            if not is_text_labels(array.type):
                from lossctl.io.convert import to_float64

                return to_float64(array, column, row_offset)[0]
            indices, values = _dictionary(array)
            codes, rows = _first_rows(indices)
            if not len(codes):  # missing values only: told as such, or dropped; a later chunk's labels are refused
                return np.full(len(indices), np.nan)
            if len(codes) > 2:  # --positive would then be refused for a third label: not the advice to give
                shown = ", ".join(shown_value(values[code]) for code in codes[:3]) + (", ..." if len(codes) > 3 else "")
                positive, columns = option("positive", "LABEL"), option("pred", "'prob_*'", keyword='pred="prob_*"')
                raise InputError(
                    f"column '{show_name(column)}' holds more than two labels ({shown}) against one prediction "
                    f"column: a binary loss takes two labels (the positive one named with {positive}); several "
                    f"classes take one prediction column per class ({columns})",
                    row=int(rows[2]) + row_offset,
                )
            raise InputError(
                f"column '{show_name(column)}' holds text labels (the first, {shown_value(values[codes[0]])}, at row "
                f"{int(rows[0]) + row_offset}); name the positive class with {option('positive', 'LABEL')}",
                row=int(rows[0]) + row_offset,
            )
        return self._encoded(array, column, row_offset)

    def _value(self, label: Any, column: str, row: int) -> float:
        positive = self.positive
        assert positive is not None
        self._column = self._column or column  # the target's, read first
        if _same_label(label, positive):
            self._positive_seen = True
            return 1.0
        if self._negative is None:
            self._negative = label
        elif label != self._negative:
            where = f"{shown_value(label)} at row {row}"
            if self._positive_seen:
                held = f"more than two labels ({positive!r}, {shown_value(self._negative)}, {where})"
            else:  # two labels so far, neither the positive one: most likely a typo in --positive
                neither = f"neither is {option('positive')} {positive!r}"
                held = f"the labels {shown_value(self._negative)} and {where}, and {neither}"
            raise InputError(
                f"column '{show_name(column)}' holds {held}; a binary loss takes the {option('positive')} label "
                "and one other",
                row=row,
            )
        return 0.0

    def notices(self) -> list[str]:
        if self.positive is None or self._positive_seen or self._negative is None:
            return []
        return [
            f"{self.loss}: --positive {self.positive!r} never appears in column '{show_name(self._column)}': its one "
            f"label {shown_value(self._negative)} is the negative class, so every row is 0"
        ]

    def check_widths(self, column: str, values: Mapping[tuple[str, ...], np.ndarray]) -> None:
        if self.positive is not None:
            _one_label_per_row(column, values, "positive")


# From it on, integers are not all floats: 2**53 + 1 would be read as 2**53, and two queries as one.
_EXACT_FLOATS = 2.0**53


class KeyCodes:
    """Values of any type (text, integers, dates) to float codes, the same in every chunk: query ids only need
    to be equal within a query. Numbers are their own codes, except in a chunk of integers of which one reaches
    2**53: there the ``k``-th distinct integer seen is ``-k - 0.5``, which no integer read as a float equals."""

    def __init__(self) -> None:
        self._codes: dict[Any, int] = {}

    def encode(self, array: ArrowColumn, column: str, row_offset: int) -> np.ndarray:
        kind = array.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            from lossctl.io.convert import to_float64

            values = to_float64(array, column, row_offset)[0]
            if pa.types.is_integer(kind) and (np.abs(values) >= _EXACT_FLOATS).any():
                return _mapped(array, lambda value, row: -0.5 - self._codes.setdefault(value, len(self._codes)))
            return values
        return _mapped(array, lambda value, row: float(self._codes.setdefault(value, len(self._codes))))

    def notices(self) -> list[str]:
        return []

    def check_widths(self, column: str, values: Mapping[tuple[str, ...], np.ndarray]) -> None:
        pass

    def met(self) -> dict[Any, int]:
        return {}  # query ids: read by losses that see every row in one part

    def replay(self, column: str, met: Mapping[Any, int]) -> None:
        pass


@dataclass(frozen=True)
class _Kind:
    """A key of :meth:`SameLabels.met` beside the labels: the first ``value`` of one kind (text ``labels`` or
    numbers) that a part of the input met, and its ``column``."""

    labels: bool
    column: str
    value: Any


class SameLabels(_Labels):
    """The text labels of a target and of the predicted-label columns read beside it without ``--classes``
    (``zero_one``'s one ``pred`` column of labels: a row is right where the two are the same label, which needs no
    class order): each distinct text to one integer code that every column shares. Columns of numbers, and text
    that is all numbers (JSON Lines' ``"1"``), are read as numbers, as without labels; text labels beside numbers
    (``'cat'`` against the index ``0``) are an input error naming both columns: a label and a number never match."""

    def __init__(self, loss: str) -> None:
        super().__init__()
        self.loss = loss
        self._codes: dict[Any, int] = {}
        self._first: dict[bool, tuple[str, Any, int]] = {}  # text labels or not: the first column, value and row
        self._labelled: set[str] = set()  # the columns met holding text labels

    def encode(self, array: ArrowColumn, column: str, row_offset: int) -> np.ndarray:
        from lossctl.io.convert import to_float64

        if is_text_labels(array.type):
            if column in self._labelled:  # a later chunk of a column of labels: labels, each new one looked at
                return self._encoded(array, column, row_offset)
            try:
                values = to_float64(array, column, row_offset)[0]
            except InputError:  # a text that is no number: the column holds labels
                self._labelled.add(column)
                return self._encoded(array, column, row_offset)
        else:
            values = to_float64(array, column, row_offset)[0]
        if False not in self._first:  # once: the later chunks of numbers cost nothing
            present = np.flatnonzero(~np.isnan(values))
            if present.size:
                self._record(False, column, array[int(present[0])].as_py(), int(present[0]) + row_offset)
        return values

    def _record(self, labels: bool, column: str, value: Any, row: int) -> None:
        """The first ``value`` of a kind (text ``labels`` or numbers), at ``row`` of ``column``; an error once both
        kinds are met, whichever came first and however the rows are split into chunks or tasks."""
        self._first.setdefault(labels, (column, value, row))
        if len(self._first) > 1:
            (text_column, label, text_row), (other, number, number_row) = self._first[True], self._first[False]
            holds = "" if other == text_column else f"column '{show_name(other)}' holds "
            raise InputError(
                f"{self.loss}: column '{show_name(text_column)}' holds the text label {shown_value(label)} at row "
                f"{text_row} but {holds}the number {written(number)} at row "
                f"{number_row}; a predicted label matches a target of the same kind: write both as text labels or "
                f"both as class indices, or give the class order with {option('classes', 'A,B,C')}",
                row=min(text_row, number_row),
            )

    def _value(self, label: Any, column: str, row: int) -> float:
        """A label's code; a new one that spells a number (``'0'`` in a column of ``'cat'``) is a number, as it is
        in a chunk of numbers alone: the kinds met do not depend on where chunks or tasks split the rows. Once per
        distinct label, not per row."""
        from lossctl.io.convert import to_float64

        code = self._codes.get(label)
        if code is None:
            try:
                number = to_float64(pa.array([label]), column, row)[0][0]
            except InputError:
                self._record(True, column, label, row)
            else:
                if number == number:  # not a missing text ('NA')
                    self._record(False, column, label, row)
            code = self._codes[label] = len(self._codes)
        return float(code)

    def met(self) -> dict[Any, int]:
        """The labels met, and the first value of each kind met (:class:`_Kind`, with its column), so that a part
        holding only numbers and another holding only text labels (two Dask tasks) are refused when replayed, with
        the columns one pass names."""
        kinds = {_Kind(labels, column, value): row for labels, (column, value, row) in self._first.items()}
        return {**self._met, **kinds}

    def replay(self, column: str, met: Mapping[Any, int]) -> None:
        for label, row in met.items():  # the kinds as the part met them: a part met one kind, or it failed
            if isinstance(label, _Kind):
                self._record(label.labels, label.column, label.value, row)
            elif label not in self._met:
                self._met[label] = row
                self._codes.setdefault(label, len(self._codes))

    def notices(self) -> list[str]:
        return []

    def check_widths(self, column: str, values: Mapping[tuple[str, ...], np.ndarray]) -> None:
        return None


def _one_target(job: Job) -> bool:
    return len(job.roles.get("target", [])) == 1


def _label_to_label(job: Job, classes: Sequence[str] | None, positive: str | None) -> bool:
    """Whether ``job`` reads one predicted-label column beside its one target, without ``--classes`` or
    ``--positive`` to tell what a label means (:class:`SameLabels`)."""
    spec, pred = job.request.spec, job.roles.get("pred", [])
    return (
        not classes and positive is None and spec.task == "multiclass" and len(pred) == 1 and spec.role("pred").labels
    )


def encoders(
    jobs: Sequence[Job], classes: Sequence[str] | None, positive: str | None
) -> dict[str, ClassIndex | PredictedLabels | PositiveLabel | KeyCodes | SameLabels]:
    """The encoder of each label column the jobs read: class indices for a multi-class loss's one target column,
    the positive class for a binary loss's, codes for query ids. A multi-class loss given one prediction column
    (``zero_one``'s ``p >= threshold``) decides between 0 and 1: without ``--classes`` it reads the labels as a
    binary loss does when ``--positive`` is given or a binary loss reads them too (``-l bce,zero_one``)."""
    found: dict[str, ClassIndex | PredictedLabels | PositiveLabel | KeyCodes | SameLabels] = {}
    binary = {job.roles["target"][0] for job in jobs if job.request.spec.task == "binary" and _one_target(job)}
    # Targets that only predicted labels are read beside (without --classes, --positive): matched label to label.
    same = {job.roles["target"][0] for job in jobs if _one_target(job) and _label_to_label(job, classes, positive)}
    same -= binary | {
        job.roles["target"][0]
        for job in jobs
        if _one_target(job) and job.request.spec.task == "multiclass" and not _label_to_label(job, classes, positive)
    }

    def put(
        column: str, encoder: ClassIndex | PredictedLabels | PositiveLabel | KeyCodes | SameLabels
    ) -> ClassIndex | PredictedLabels | PositiveLabel | KeyCodes | SameLabels:
        previous = found.setdefault(column, encoder)
        if type(previous) is not type(encoder):
            raise UsageError(f"column '{show_name(column)}' is read both as class labels and as binary labels")
        return previous

    for job in jobs:
        spec = job.request.spec
        target = job.roles.get("target", [])
        if "qid" in job.roles:
            for column in job.roles["qid"]:
                put(column, KeyCodes())
        if len(target) != 1:
            continue
        pred = job.roles.get("pred", [])
        if target[0] in same:
            found[pred[0]] = put(target[0], SameLabels(spec.name))  # one encoder: the columns share its codes
            continue
        if spec.task == "multiclass" and spec.role("target").shape != "vector":
            if len(pred) == 1 and not classes and (positive is not None or target[0] in binary):
                label = put(target[0], PositiveLabel(positive, spec.name))
                if isinstance(label, PositiveLabel) and positive is not None and spec.role("pred").labels:
                    put(pred[0], PredictedLabels(label))
                continue
            held = put(target[0], ClassIndex(classes, pred, spec.name))
            if isinstance(held, ClassIndex):  # several models: one encoding of the labels serves them all
                held.also_for(pred)
                held.ignoring(job.request.params.get("ignore_index"))
                if classes and len(pred) == 1 and spec.role("pred").labels:
                    put(pred[0], PredictedLabels(held))
        elif spec.task == "binary":
            put(target[0], PositiveLabel(positive, spec.name))
    if classes and not any(isinstance(e, ClassIndex) for e in found.values()):
        raise UsageError(
            f"{option('classes')} gives the order of class labels: no selected multi-class loss reads them"
        )
    if positive is not None and not any(isinstance(e, PositiveLabel) for e in found.values()):
        raise UsageError(
            f"{option('positive')} names the positive class of a binary loss: no selected binary loss reads labels"
        )
    return found
