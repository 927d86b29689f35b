"""Shared domain checks for the loss functions.

Each raises :class:`~lossctl.errors.DomainError` naming the role, what was expected, the first bad
value, how many rows are bad and the first bad row (0-based within the arrays it was given; the
engine shifts it to the file's row numbers).
"""

from __future__ import annotations

import numpy as np

from lossctl.errors import DomainError


def reject(role: str, expected: str, values: np.ndarray, bad: np.ndarray) -> None:
    """Raise if any element of the boolean mask ``bad`` is set (rows of a 2-D mask are any-reduced)."""
    if bad.any():
        rows = bad.reshape(len(bad), -1).any(axis=1)
        first = int(np.argmax(rows))
        first_value = values.reshape(len(values), -1)[first][bad.reshape(len(bad), -1)[first]][0]
        raise DomainError(role, expected, float(first_value), int(rows.sum()), first)


def probabilities(values: np.ndarray, role: str = "pred") -> None:
    reject(role, "probabilities in [0, 1]", values, (values < 0) | (values > 1))


def greater_than(values: np.ndarray, bound: float, role: str) -> None:
    reject(role, f"values > {bound:g}", values, values <= bound)


def at_least(values: np.ndarray, bound: float, role: str) -> None:
    reject(role, f"values >= {bound:g}", values, values < bound)


def binary_labels(values: np.ndarray, role: str = "target") -> None:
    reject(role, "labels 0 or 1", values, (values != 0) & (values != 1))


def at_most(values: np.ndarray, bound: float, role: str, expected: str | None = None) -> None:
    reject(role, expected or f"values <= {bound:g}", values, values > bound)


def soft_labels(values: np.ndarray, role: str = "target") -> None:
    """Hard or soft binary targets: any value in [0, 1]."""
    reject(role, "labels in [0, 1]", values, (values < 0) | (values > 1))


def sign_labels(values: np.ndarray, role: str = "target") -> None:
    """Labels all in {0, 1} or all in {-1, 1} (a column of 1 alone is both).

    In a mix of 0 and -1 the set of the first row holding one of them is taken as intended, so the
    rows holding the other are the ones reported.
    """
    bad = (values != 0) & (values != 1) & (values != -1)
    decisive = np.flatnonzero((values == 0) | (values == -1))
    if decisive.size:
        other = -1.0 if values[decisive[0]] == 0 else 0.0
        bad |= values == other
    reject(role, "labels all in {0, 1} or all in {-1, 1}", values, bad)
