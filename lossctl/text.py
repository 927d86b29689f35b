"""Words for messages and headers: a count with its noun in the right number (``1 row``, ``2 rows``), a value from
the data as the file spells it, a number in full as the command line writes it (``2``, ``0.1000001``), a fraction
as a percent (``+1.25%``); and numbers read as people write them; whether a name can be written as UTF-8, and a name
read as UTF-8; lists of names cut short, so that a message about a 1,000-column file stays a readable line; and a
function's docstring, under ``python -OO`` too."""

import decimal
import inspect
import math
import os
import re
import sys
from collections.abc import Callable, Sequence

# Beyond this many names a list in a message is cut (``a, b, ... (1000 columns)``).
MAX_LISTED = 20
# Beyond this many characters a name or value in a message is cut in its middle (:func:`shortened`): more than real
# names and paths hold (a deep path of 300 characters stays whole), far less than a 200 KB column name.
MAX_SHOWN = 1000
# C0/C1 control characters, the Unicode line and paragraph separators, the bidirectional formatting characters
# (marks, embeddings, overrides, isolates), which reorder the rest of the terminal's line ("Trojan Source"), the
# invisible ones (zero-width space, joiners, word joiner, byte order mark, soft hyphen, Mongolian vowel separator,
# invisible operators, interlinear annotations, tags), with which two groups read the same ``a`` and rich measured
# a cell a column wider than the terminal shows it, and the lone surrogates in which Python holds a name's bytes that
# are not UTF-8 (a file name from a Latin-1 system).
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff\U000e0000-\U000e007f]"
)


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``count(1, "row")`` is ``1 row``; ``count(2, "row")`` is ``2 rows``; ``plural`` where ``s`` is not it."""
    return f"{number} {noun}" if number == 1 else f"{number} {plural or noun + 's'}"


def listing(names: Sequence[str], noun: str = "columns", total: int | None = None, separator: str = ", ") -> str:
    """``names`` joined by commas, the first 20 only when there are more, then their number: ``a, b, ... (1000
    columns)``. The caller quotes and escapes each name as its message spells them. ``total``: how many there are,
    where ``names`` holds only the first :data:`MAX_LISTED` of them (a million groups are not all named to show 20);
    ``separator``: another than the comma, for names that hold commas (``g=a, h=x; g=b, h=y``)."""
    total = len(names) if total is None else total
    shown = separator.join(names[:MAX_LISTED])
    return shown if total <= MAX_LISTED else f"{shown}{separator}... ({total} {noun})"


def shortened(text: str) -> str:
    """``text`` (a name, path or value from the user or the data) as a message quotes it: as given up to
    :data:`MAX_SHOWN` characters; a longer one (a 200 KB column name) cut to its first 40 and last 20 characters
    around the number left out, ``aaaa...[99940 more characters]...zzzz``, so that the message stays a line."""
    if len(text) <= MAX_SHOWN:
        return text
    return f"{text[:40]}...[{len(text) - 60} more characters]...{text[-20:]}"


def escaped(text: str) -> str:
    """``text`` with its control characters escaped (``a\\nb``): a whole message, a table cell, a page line.

    Names come from the file: a JSON key or a Parquet field may hold a newline or an escape sequence,
    which would break the one-line ``error:`` message or drive the user's terminal.
    """
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


def show_name(name: object) -> str:
    """A name (a column, a path, an option's value) as messages quote it: :func:`escaped`, and a very long one
    :func:`shortened` (``'cccc...[99940 more characters]...cccc'``). A path may be a :class:`pathlib.Path`."""
    return escaped(shortened(str(name)))


def is_utf8(name: str) -> bool:
    """Whether ``name`` can be encoded as UTF-8: one whose bytes were not UTF-8 (a file name from a Latin-1 system, a
    command line under an ASCII locale) holds them as lone surrogates, which pyarrow's and Arrow's strings refuse
    with UnicodeEncodeError."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def as_utf8(text: str) -> str:
    """``text`` from the command line or a file name, read as UTF-8 where the locale could not: under an ASCII
    locale (``LC_ALL=C`` without UTF-8 mode) Python holds every non-ASCII byte as a surrogate, so the UTF-8 name
    ``données`` came as ``donn\\udcc3\\udca9es``. Bytes that are not UTF-8 stay surrogates; text without them
    (any locale's own decoding, Latin-1's too) is left as it is."""
    if is_utf8(text):
        return text
    try:
        return os.fsencode(text).decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # real non-ASCII characters beside the surrogates: not from the locale's decoding
        return text


def shown_value(data: object) -> str:
    """A value from the data (a key, a label, a query id) in a message, spelled as a file holds it rather than as
    Python does: ``missing`` for a null (not ``None``), ``true``/``false``, a date as ``2024-01-31`` (not
    ``datetime.date(2024, 1, 31)``), a composite key as ``(3, 'eu')``; text quoted, its control characters
    escaped (``'a\\nb'``), a long one :func:`shortened`, so that the message stays one printable line."""
    item = getattr(data, "item", None)
    if callable(item) and not isinstance(data, str | bytes):  # a NumPy scalar: np.float64(2.5) is 2.5
        data = item()
    if data is None:
        return "missing"
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, tuple):
        return f"({', '.join(map(shown_value, data))})"
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="backslashreplace")
    if isinstance(data, str):
        return repr(shortened(data))
    if isinstance(data, int | float):
        return shortened(repr(data))
    return str(data)  # dates, times, decimals: their ISO or decimal text


def written_number(text: str, integer: bool = False) -> float:
    """A number as a command line or a data file writes it. Python's ``float`` and ``int`` also read the digit
    separator ``_`` (``1_0`` as 10) and the digits of other scripts (Arabic-Indic, full-width), which no one means
    in a threshold, a parameter or a cell, and Arrow's parser does not read; they are a ``ValueError`` here.
    With ``integer``, digits alone are read as an ``int`` (exactly, however many), anything else as a ``float``
    (``2.0``, ``1e3``): the caller decides whether a float is whole enough."""
    if "_" in text or not text.isascii():
        raise ValueError(f"not a number: {text!r}")
    if integer and text.strip().lstrip("+-").isdigit():
        return int(text)
    return float(text)


def percent(fraction: float, digits: int = 2) -> str:
    """``fraction`` as a percent with its sign and ``digits`` decimals, ``+1.25%``; in exponent form, as many
    digits, where the decimals cannot show it: a relative delta of 1e300 was written out in its 300 digits (a
    table column and a check line as wide), and one of 3e-8 read ``+0.00%`` beside the verdict ``worse``. The
    exponent is the fraction's plus 2, exactly (``fraction * 100`` overflows beyond 1.8e306)."""
    if fraction == 0 or not math.isfinite(fraction) or 0.5 * 10.0**-digits <= abs(fraction) * 100 < 1e6:
        return f"{fraction:+.{digits}%}"
    mantissa, exponent = f"{fraction:+.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent) + 2:+03d}%"


def fraction(percent: float) -> float:
    """``percent`` as a fraction: the float nearest the number written with its point moved two places, so 0.7
    (percent) is 0.007. ``percent / 100`` rounds twice: 0.7 was 0.006999999999999999 and 1.1 0.011000000000000001
    (a check's ``threshold`` in JSON, which a user compares with the fraction they mean)."""
    return float(decimal.Decimal(repr(percent)).scaleb(-2))


def rounds_to_zero(text: str, number: float) -> bool:
    """Whether ``number``, read from ``text``, is a 0 that was not typed: a nonzero digit before the exponent
    (``1e-400``, which float64 rounds to 0)."""
    return number == 0 and any(digit in "123456789" for digit in text.lower().partition("e")[0])


def written(value: float) -> str:
    """``value`` in full, as it would be typed: ``repr`` without a trailing ``.0`` (``2``, ``0.1000001``, ``1e+20``).
    Rounded (``:g``), 1.0000001 reads as 1 and two parameter values as one."""
    return repr(value).removesuffix(".0")


def docstring(function: Callable[..., object]) -> str:
    """``function``'s docstring, cleaned as :func:`inspect.cleandoc` cleans it (``""`` where it has none). Under
    ``python -OO`` (``PYTHONOPTIMIZE=2``), which strips docstrings, it is read from the function's source, so that
    ``describe``'s details and each command's ``--help`` say the same at every optimisation level."""
    doc = function.__doc__
    if doc is None and sys.flags.optimize >= 2:
        import ast
        import textwrap

        try:
            node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
        except (OSError, TypeError, SyntaxError, IndexError):  # no source (a built-in, a lambda, code from exec)
            return ""
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            doc = ast.get_docstring(node, clean=False)
    return inspect.cleandoc(doc or "")
