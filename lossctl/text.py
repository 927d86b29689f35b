"""Words for messages and headers: a count with its noun in the right number (``1 row``, ``2 rows``)."""


def count(number: int, noun: str) -> str:
    """``count(1, "row")`` is ``1 row``; ``count(2, "row")`` is ``2 rows``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
