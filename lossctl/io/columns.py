"""Column names: guessing the default pred/target columns and resolving COLSPECs (docs/cli.md, "Input").

Pure Python on purpose: the CLI resolves names before it reads any data, and ``lossctl --help`` or an
early usage error must not pay for importing pyarrow.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from lossctl.errors import InputError, UsageError
from lossctl.text import listing, shortened, show_name

DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "pred": ("pred", "prediction", "y_pred", "yhat", "score", "prob", "logit"),
    "target": ("target", "y_true", "label", "y", "actual", "truth"),
}

_GLOB_CHARS = re.compile(r"[*?\[]")
_DIGITS = re.compile(r"(\d+)")


def guess_column(role: str, available: Sequence[str]) -> str | None:
    """Return the default column for ``role`` (``pred`` or ``target``), or ``None``.

    The order of :data:`DEFAULT_NAMES` is a precedence: a column named ``prediction`` beats one named
    ``score`` wherever they stand in the file; between columns matching the same name (``Pred`` and
    ``pred``), the earlier column wins. Spaces around a name do not count (a CSV header written
    ``pred, target``). Roles without defaults (``weight``, multi-column roles) return ``None``: the caller
    reports them as unbound rather than silently picking a column.
    """
    lowered = [name.strip().lower() for name in available]
    for candidate in DEFAULT_NAMES.get(role, ()):
        for index, name in enumerate(lowered):
            if name == candidate:
                return available[index]
    return None


def natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key putting ``logit_2`` before ``logit_10``; the name itself breaks ties (``x01`` vs ``x1``)."""
    parts = tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(name))
    return parts, name


def format_columns(available: Sequence[str]) -> str:
    """The ``id, pred, target`` list used in error messages, shortened for very wide files."""
    return listing([show_name(name) for name in available])


def quoted_columns(names: Sequence[str]) -> str:
    """The ``'x1', 'y1'`` list naming the columns a message is about, shortened for very wide roles."""
    return listing([f"'{show_name(name)}'" for name in names])


@dataclass(frozen=True)
class SideBySide:
    """Inputs whose columns are looked up together (the predictions and the ``--targets`` file), each ``(name,
    columns)``: a column found in none is reported with each input's own columns, not one list of them all."""

    inputs: tuple[tuple[str, Sequence[str]], ...]

    def __str__(self) -> str:
        return " or ".join(f"{name} (columns: {format_columns(columns)})" for name, columns in self.inputs)


def _in(source: str | SideBySide, available: Sequence[str]) -> str:
    """``preds.csv; columns are: id, pred``, or each input with its columns when they are looked up together."""
    if isinstance(source, SideBySide):
        return str(source)
    return f"{source}; columns are: {format_columns(available)}" if available else f"{source}, which has no columns"


def column_not_found(name: str, available: Sequence[str], source: str | SideBySide) -> InputError:
    """The one error for a missing column, shared by every module that looks columns up."""
    message = f"column '{show_name(name)}' not found in {_in(source, available)}"
    alike = [column for column in available if _loosely(column) == _loosely(name)]
    close = alike or difflib.get_close_matches(name, list(available), n=1)
    if close and unicodedata.normalize("NFC", close[0]) == unicodedata.normalize("NFC", name):
        points = ascii(shortened(close[0]))  # 'pre\u0301': what tells it from the 'pré' given
        message += f"; did you mean '{show_name(close[0])}', the same text in other Unicode code points, {points}?"
    elif close:
        message += f"; did you mean '{show_name(close[0])}'?"
    return InputError(message)


def _loosely(name: str) -> str:
    """A name as a user may mistype it: in another case, with spaces around it, or in another Unicode form
    (``é`` as one code point or as ``e`` and an accent; a macOS file name is the latter)."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def resolve_colspec(
    spec: str, available: Sequence[str], source: str | SideBySide, bound_elsewhere: Collection[str] = ()
) -> list[str]:
    """Expand a COLSPEC into column names, in the order the user means.

    A COLSPEC is a name, a comma-separated list of names, or globs (``logit_*``, ``?``, ``[...]``),
    which may be mixed (``id,logit_*``). A part naming an existing column is taken literally even if it
    contains glob characters, and so is the whole spec, or a part, naming a column as it is written, with
    its commas or spaces (a CSV header ``"a, b"`` or ``pred, target``); other parts lose their spaces. Glob
    matches come in natural order (``logit_2`` before ``logit_10``), not file order, because class or
    coordinate order is what a vector role needs. Matching is case-sensitive, like column lookup. Naming a
    column twice is a usage error: it would silently count one vector component twice. A glob skips the
    ``bound_elsewhere`` columns (named for another role, the weight or a group), as ``--model GLOB`` does:
    ``--pred '*' --target y`` means every other column.
    """
    parts = [part if part in available else part.strip() for part in spec.split(",")]
    if not spec.strip() or (spec not in available and not all(part.strip() for part in parts)):
        raise UsageError(
            f"empty column name in '{show_name(spec)}'; give a name, a comma-separated list of names or a glob"
        )
    if spec in available:
        return [spec]
    names: list[str] = []
    for part in parts:
        if part in available:
            names.append(part)
        elif _GLOB_CHARS.search(part):
            # a name the file repeats matches once: the reader refuses it as it does a name given (not "named twice")
            matches = list(dict.fromkeys(column for column in available if fnmatch.fnmatchcase(column, part)))
            if not matches:
                raise InputError(f"no column matches '{show_name(part)}' in {_in(source, available)}")
            matches = [column for column in matches if column not in bound_elsewhere]
            if not matches:
                raise UsageError(f"'{show_name(part)}' matches only columns bound to other roles")
            names.extend(sorted(matches, key=natural_key))
        else:
            raise column_not_found(part, available, source)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise UsageError(f"column '{show_name(name)}' is named twice in '{show_name(spec)}'")
        seen.add(name)
    return names
