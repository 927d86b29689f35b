"""Words for messages and headers: a count with its noun in the right number (``1 row``, ``2 rows``)."""


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``count(1, "row")`` is ``1 row``; ``count(2, "row")`` is ``2 rows``; ``plural`` where ``s`` is not it."""
    return f"{number} {noun}" if number == 1 else f"{number} {plural or noun + 's'}"
