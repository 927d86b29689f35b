"""Words for messages and headers: a count with its noun in the right number (``1 row``, ``2 rows``), a number in
full as the command line writes it (``2``, ``0.1000001``)."""


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``count(1, "row")`` is ``1 row``; ``count(2, "row")`` is ``2 rows``; ``plural`` where ``s`` is not it."""
    return f"{number} {noun}" if number == 1 else f"{number} {plural or noun + 's'}"


def written(value: float) -> str:
    """``value`` in full, as it would be typed: ``repr`` without a trailing ``.0`` (``2``, ``0.1000001``, ``1e+20``).
    Rounded (``:g``), 1.0000001 reads as 1 and two parameter values as one."""
    return repr(value).removesuffix(".0")


def python_spelling(number: str) -> bool:
    """Whether ``number`` is written as only Python reads numbers: with the digit separator ``_`` (``1_0`` is 10 to
    ``float``) or non-ASCII digits (Arabic-Indic or full-width ones are digits to ``float``). No one means these on
    a command line; they are refused."""
    return "_" in number or not number.isascii()
