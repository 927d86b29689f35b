"""The library's exceptions, each carrying the exit status the CLI maps it to.

Library code raises these; only ``lossctl/cli.py`` turns them into a one-line ``error:`` message
and an exit status. Nothing below the CLI calls ``sys.exit``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from enum import IntEnum
from types import TracebackType
from typing import Any, TypeAlias

from lossctl.text import listing, show_name

# Whether messages name options as the command line spells them (set by the CLI for its run, :func:`spelled_as_flags`).
# A context variable, so that runs at once in one process (two Dask tasks on one worker, one from the command line and
# one from a library) each keep their own; the threads a run starts (the engine's workers, the reader) are started in
# a copy of its context (:func:`contextvars.copy_context`), as a new thread starts in an empty one.
_flags: ContextVar[bool] = ContextVar("lossctl_flags_spelled", default=False)


def option(name: str, value: str | None = None, *, keyword: str | None = None) -> str:
    """Option ``name`` (a keyword of :func:`lossctl.evaluate`), with ``value``, as the caller spells it:
    ``missing="drop"`` from Python, ``--missing drop`` from the command line.

    ``keyword`` is the Python spelling where it is not ``name="value"``: another keyword (``losses`` for
    ``option("loss")``), a value that is not a string (``bootstrap=N``) or one that is part of a mapping
    (``cols={"pred": ...}`` for ``option("col", "pred=...")``)."""
    if _flags.get():
        flag = "--" + name.replace("_", "-")
        return flag if value is None else f"{flag} {value}"
    if keyword is not None:
        return keyword
    return name if value is None else f'{name}="{value}"'


def role_option(role: str, column: str | None = None) -> str:
    """The binding of ``role`` to ``column`` as the caller spells it: ``--col ROLE=COLUMN`` from the command line,
    ``cols={"ROLE": "COLUMN"}`` from Python; ``...`` for a column left unsaid."""
    if column is None:
        return option("col", f"{role}=...", keyword=f'cols={{"{role}": ...}}')
    return option("col", f"{role}={column}", keyword=f'cols={{"{role}": "{column}"}}')


def flags_spelled() -> bool:
    """Whether :func:`option` spells options as command-line flags here (for a task run in another process)."""
    return _flags.get()


@contextmanager
def spelled_as_flags(flags: bool = True) -> Iterator[None]:
    """Within it, :func:`option` spells options as command-line flags (the CLI runs its command in it), or
    keywords with ``flags=False``."""
    token = _flags.set(flags)
    try:
        yield
    finally:
        _flags.reset(token)


class ExitCode(IntEnum):
    """Exit statuses of the ``lossctl`` command (docs/cli.md, "CI gating and exit codes")."""

    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    INPUT = 3
    INTERNAL = 4


class LossctlError(ValueError):
    """Base class of every error lossctl reports to its user.

    A :class:`ValueError`, so code written against scikit-learn's metrics (which raise ``ValueError`` for bad
    input) catches lossctl's errors unchanged.
    """

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(LossctlError):
    """The command line or API call is wrong: unknown loss, parameter, option value or expression."""

    exit_code = ExitCode.USAGE


class NoResult(UsageError, KeyError):
    """A report has no result of that name (in that group, for that model): ``report["mae"]`` is a lookup, so the
    error is also the ``KeyError`` a mapping raises (as NumPy's ``AxisError`` is a ``ValueError`` and an
    ``IndexError``), with the message as written, not quoted as ``KeyError`` quotes its key."""

    def __str__(self) -> str:
        return ValueError.__str__(self)


class InputError(LossctlError):
    """The data is wrong: unreadable file, missing column, missing or infinite values, mismatched rows.

    ``row``: the first row of the input the message cites (0-based, numbered as in the whole input), or ``None``;
    ``rows_of``: the input numbering it: ``"data"`` (the predictions, or the rows ``--on`` joins to them),
    ``"targets"`` (the ``--targets`` input's own rows), ``"both"`` (inputs aligned by row order: the same row of
    each) or ``"compared"`` (``compare``'s baseline and candidate: the same row of each in lockstep; joined by
    ``--on``, ``their_row`` is the candidate's own row beside the baseline's ``row``). When an input is several
    files, the run names the file holding the row (:meth:`in_file`), in one place for every message, both engines
    alike (:func:`lossctl.io.readers.naming_files`).
    """

    exit_code = ExitCode.INPUT

    def __init__(
        self, *args: object, row: int | None = None, rows_of: str = "data", their_row: int | None = None
    ) -> None:
        super().__init__(*args)
        self.row = row
        self.rows_of = rows_of
        self.their_row = their_row

    def reworded(self, message: str) -> InputError:
        """An error of message ``message`` citing the same row (a message completed with the loss, the file)."""
        return InputError(message, row=self.row, rows_of=self.rows_of, their_row=self.their_row)

    def in_file(self, held: list[tuple[int, str]]) -> InputError:
        """This error saying which files hold the rows it cites, ``held`` as (row, file as messages name it, quoted):
        ``...; row 5 is in 'ds/b.parquet'``; two for the same row of inputs aligned by row order: ``row 4 is in
        'p/b.csv' and 't/b.csv'``; two rows of two inputs joined by ``--on``: ``row 5 is in 'p/b.csv' and row 2 is
        in 'c/a.csv'``."""
        if len({row for row, _ in held}) == 1:
            return self.reworded(f"{self}; row {held[0][0]} is in {' and '.join(file for _, file in held)}")
        return self.reworded(f"{self}; " + " and ".join(f"row {row} is in {file}" for row, file in held))


class EmptyInput(InputError):
    """An input with nothing in it (no bytes, or a JSON Lines file with no record): it has no columns either, so
    among several inputs read as one dataset it is the input whose columns differ (docs/cli.md, "Input")."""


class NoRows(InputError):
    """The input has no rows to evaluate. The engine does not know the input's name: :meth:`naming` adds it."""

    def __init__(self) -> None:
        super().__init__("the input has no rows")

    @staticmethod
    def naming(label: str) -> InputError:
        """The same error naming the input as its source's :attr:`~lossctl.io.readers.Source.label` does
        (``'preds.csv'``, ``standard input``), e.g. a CSV file with a header line only."""
        return InputError(f"{label} has no rows")


class NotAnArray(InputError):
    """A collection given as an array that is not one: a set (``y_true={0.5, 1.0}``) has no order, so its values
    cannot be paired with the rows of the other arrays; a dict (``y_pred={"a": 1}``) holds named columns, which
    are data, not one role's values; a generator or another iterator (``(x for x in y)``, ``map(...)``) has no length
    and can be read only once. NumPy reads each as one object (shape ``()``), which said nothing useful."""

    @staticmethod
    def check(values: object, name: str) -> None:
        """Raise for a ``set``, ``frozenset``, mapping (a ``dict``), iterator (a generator) or polars query (a
        ``LazyFrame``, an ``Expr``, which have no values yet) given as the values of ``name``."""
        kind = type(values).__name__
        if isinstance(values, Iterator):
            what = "a generator" if kind == "generator" else f"an iterator ({kind})"
            raise NotAnArray(
                f"'{name}' is {what}, which has no length and can be read only once; give a list or an array"
            )
        if isinstance(values, set | frozenset):
            raise NotAnArray(
                f"'{name}' is a {kind}, which has no order, so its values cannot be paired with rows; "
                "give a list or an array"
            )
        if isinstance(values, Mapping):
            raise NotAnArray(
                f"'{name}' is a {kind}, not an array of values; give a list or an array (a {kind} of named columns "
                "is data: evaluate(data, pred=COLUMN, target=COLUMN))"
            )
        if type(values).__module__.startswith("polars") and kind in ("LazyFrame", "Expr"):
            fix = "give its .collect() (a DataFrame)" if kind == "LazyFrame" else "give the Series it selects"
            raise NotAnArray(f"'{name}' is a polars {kind}, which holds no values until it is computed; {fix}")


class EmptyVectors(InputError):
    """A vector column whose rows hold no values (``[]`` in every row, an array of shape ``(rows, 0)``): the mean
    over a row's elements would be NaN, and a loss over K classes or D outputs has none. ``name`` is as the
    message spells it (``column 'pred'``, ``'y_pred'``); ``row`` the first row holding an empty vector."""

    def __init__(self, name: str, row: int) -> None:
        super().__init__(f"{name} holds empty vectors (row {row} has no values); a vector needs at least one value")


class MismatchedWidths(InputError):
    """Elementwise roles holding vectors of different lengths (``widths``: role -> values per row) in loss ``name``.
    The loss knows its roles, not the columns bound to them: the engine, which does, names them (:meth:`naming`),
    so that with several models (or two files compared) the message says whose columns disagree."""

    def __init__(
        self, name: str, widths: Mapping[str, int], columns: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.name, self.widths, self.columns = name, dict(widths), columns
        shown = [
            f"'{role}' {width}" + (" values per row" if k == 0 else "") + _columns(columns, role)
            for k, (role, width) in enumerate(self.widths.items())
        ]
        super().__init__(f"loss '{name}': the roles hold vectors of different lengths: {', '.join(shown)}")

    def naming(self, columns: Mapping[str, Sequence[str]]) -> MismatchedWidths:
        """The same error with each role's columns: ``'target' 2 values per row ('t0', 't1'), 'pred' 3 ('q0', 'q1',
        'p0')``."""
        return MismatchedWidths(self.name, self.widths, columns)

    def __reduce__(self) -> tuple[type[MismatchedWidths], tuple[Any, ...]]:
        """Pickled whole (a Dask worker's error reaches the client): not from the message alone."""
        return MismatchedWidths, (self.name, self.widths, self.columns)


def _columns(columns: Mapping[str, Sequence[str]] | None, role: str) -> str:
    """`` ('t0', 't1')``: the columns bound to ``role``, quoted as messages quote columns; nothing if unknown."""
    if columns is None or not columns.get(role):
        return ""
    return " (" + ", ".join(f"'{show_name(c)}'" for c in columns[role]) + ")"


class DecimalCommas(InputError):
    """Text numbers written with a decimal comma that no reader parsed (a CSV read without ``--decimal ,``, or
    strings of JSON Lines or Parquet). The converter does not know whether ``--decimal ,`` was given: with it,
    :meth:`given` is the error, whose fix is not to give it again."""

    def __init__(self, column: str, shown: str, row: int) -> None:
        self.column = column
        self.shown = shown
        self.row = row
        super().__init__(f"{self._start()}; if ',' is its decimal point, give {option('decimal', ',')}", row=row)

    def _start(self) -> str:
        return f"column '{show_name(self.column)}' is not numeric: {self.shown} at row {self.row}"

    def given(self) -> InputError:
        """The error when ``--decimal ,`` was given: the text is not CSV's, or the CSV column has other cells
        than decimal-comma numbers (decimal points, maybe in a later chunk, or words), so the reader left it text."""
        return self.reworded(
            f"{self._start()}; {option('decimal', ',')} reads a decimal comma only in a CSV or TSV column whose other "
            "cells are numbers written the same way (never in JSON Lines text)"
        )


class ZeroWeightSum(InputError):
    """The weights sum to zero where their sum is the denominator of a weighted mean (sample weights, class
    weights, rows all ignored by ``ignore_index``): named with the loss and the group where it happens
    (:meth:`naming`). ``summable``: the loss has a sum reduction, which the message offers."""

    def __init__(self, reason: str, summable: bool = False, where: str = "") -> None:
        self.reason, self.summable, self.where = reason, summable, where
        super().__init__(where + reason + (f" ({option('reduction', 'sum')} gives 0)" if summable else ""))

    def naming(self, where: str) -> ZeroWeightSum:
        """The same error after ``where`` (``mse in group g=a``)."""
        return ZeroWeightSum(self.reason, self.summable, f"{where}: {self.where}")


# Where a check raised: the (function, line) of each call down to the raise (DomainError.check).
CheckSite: TypeAlias = "tuple[tuple[str, int], ...]"


def check_site(traceback: TracebackType | None) -> CheckSite:
    """The ``(function, line)`` of each frame of ``traceback``, from where it was caught down to the raise, a
    function named by its file and first line (the same function in every chunk, Dask part and process)."""
    site = []
    while traceback is not None:
        code = traceback.tb_frame.f_code
        site.append((f"{code.co_filename}:{code.co_firstlineno}", traceback.tb_lineno))
        traceback = traceback.tb_next
    return tuple(site)


class DomainError(InputError):
    """Values outside a loss's domain, e.g. a probability of 1.3.

    Raised by the loss functions, which know roles but not columns or row offsets; the engine
    completes the message with :meth:`locate` before it reaches the user. ``check``: where in the loss's code the
    check raised, the ``(function, line)`` of each call from the loss down to the raise (:func:`check_site`), which
    orders two checks of one loss as one pass over the rows meets them (:meth:`precedes`); ``()`` when unknown.
    """

    def __init__(
        self,
        role: str,
        expected: str,
        bad_value: float,
        count: int,
        first_row: int,
        where: str | None = None,
        check: CheckSite = (),
    ) -> None:
        self.role = role
        self.expected = expected
        self.bad_value = bad_value
        self.count = count
        self.first_row = first_row
        self.where = where or f"'{role}'"
        self.check = check
        super().__init__(self._message(self.where), row=first_row)

    def __reduce__(self) -> tuple[type[DomainError], tuple[str, str, float, int, int, str, CheckSite]]:
        """Pickled by its fields (a Dask task returns it): an exception is rebuilt from its message alone."""
        return DomainError, (
            self.role,
            self.expected,
            self.bad_value,
            self.count,
            self.first_row,
            self.where,
            self.check,
        )

    def _message(self, where: str) -> str:
        rows = "row" if self.count == 1 else "rows"
        return (
            f"{where}: expected {self.expected}, got {self.bad_value:.6g} "
            f"in {self.count} {rows} (first: row {self.first_row})"
        )

    def locate(self, loss: str, columns: list[str], row_offset: int, check: CheckSite = ()) -> DomainError:
        """Return this error with the loss, the column names, the file's row numbers and where it was raised."""
        names = listing([f"'{show_name(c)}'" for c in columns])
        column_word = "column" if len(columns) == 1 else "columns"
        where = f"{loss}: {column_word} {names} ({self.role})"
        first_row = self.first_row + row_offset
        return DomainError(self.role, self.expected, self.bad_value, self.count, first_row, where, check or self.check)

    def shifted(self, row_offset: int) -> DomainError:
        """Return this error with its row counted from ``row_offset`` (a Metric's batch in its stream), its values
        named by role as a loss's call names them (``'pred'``): arrays given by role are no file's columns."""
        first_row = self.first_row + row_offset
        return DomainError(self.role, self.expected, self.bad_value, self.count, first_row, self.where, self.check)

    def precedes(self, other: DomainError) -> bool:
        """Whether this check of a loss comes before ``other``, another of the same loss, in the loss's code, so
        that one pass over rows failing both tells this one: the first call where the two sites part is to a later
        line of the same function for ``other``. ``False`` when that is unknown (a site not recorded, or two calls
        from one line)."""
        for mine, theirs in zip(self.check, other.check, strict=False):
            if mine != theirs:
                return mine[0] == theirs[0] and mine[1] < theirs[1]
        return False

    def add(self, later: DomainError) -> bool:
        """Count the rows of ``later`` among this error's if it is the same refusal (columns and check) found in a
        later chunk, so that the count is the whole input's, as in one chunk; whether it was."""
        if (later.where, later.expected) != (self.where, self.expected):
            return False
        self.count += later.count
        self.args = (self._message(self.where),)
        return True
