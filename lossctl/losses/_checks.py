"""Shared domain checks for the loss functions.

Each raises :class:`~lossctl.errors.DomainError` naming the role, what was expected, the first bad
value, how many rows are bad and the first bad row (0-based within the arrays it was given; the
engine shifts it to the file's row numbers).
"""

from __future__ import annotations

import numpy as np

from lossctl.errors import DomainError, option


def reject(role: str, expected: str, values: np.ndarray, bad: np.ndarray) -> None:
    """Raise if any element of the boolean mask ``bad`` is set (rows of a 2-D mask are any-reduced)."""
    if bad.any():
        rows = bad.reshape(len(bad), -1).any(axis=1)
        first = int(np.argmax(rows))
        first_value = values.reshape(len(values), -1)[first][bad.reshape(len(bad), -1)[first]][0]
        raise DomainError(role, expected, float(first_value), int(rows.sum()), first)


def sklearn_labels(target: np.ndarray, metric: str) -> None:
    """Targets of exactly 0 or 1 (one-hot rows for K columns): scikit-learn's ``metric`` takes class labels and
    refuses soft targets and target distributions ("continuous" targets), which lossctl's own convention takes."""
    without = option("convention", "lossctl")
    expected = f"labels 0 or 1 (sklearn's {metric} takes class labels, not soft targets; {without} takes them)"
    reject("target", expected, target, (target != 0.0) & (target != 1.0))


def _all_within(
    values: np.ndarray, low: float | None = None, high: float | None = None, open_low: bool = False
) -> bool:
    """Whether every value lies within the bounds, from the extremes alone: one reduction pass each and no mask
    (the checks run on every chunk of every loss). ``False`` also for a NaN, whose extreme is NaN: the masked check
    then decides, as it always did."""
    if values.size == 0:
        return True
    if low is not None:
        smallest = values.min()
        if not (smallest > low if open_low else smallest >= low):
            return False
    return high is None or bool(values.max() <= high)


def probabilities(values: np.ndarray, role: str = "pred", logits_loss: str | None = None) -> None:
    """Values in [0, 1]; ``logits_loss`` names the loss to use when the values are logits (said in the error)."""
    if _all_within(values, 0.0, 1.0):
        return
    expected = "probabilities in [0, 1]" + (f" (for logits, use {logits_loss})" if logits_loss else "")
    reject(role, expected, values, (values < 0) | (values > 1))


def greater_than(values: np.ndarray, bound: float, role: str) -> None:
    if not _all_within(values, bound, open_low=True):
        reject(role, f"values > {bound:g}", values, values <= bound)


def at_least(values: np.ndarray, bound: float, role: str) -> None:
    if not _all_within(values, bound):
        reject(role, f"values >= {bound:g}", values, values < bound)


def binary_labels(values: np.ndarray, role: str = "target") -> None:
    reject(role, "labels 0 or 1", values, (values != 0) & (values != 1))


def at_most(values: np.ndarray, bound: float, role: str, expected: str | None = None) -> None:
    if not _all_within(values, high=bound):
        reject(role, expected or f"values <= {bound:g}", values, values > bound)


def soft_labels(values: np.ndarray, role: str = "target") -> None:
    """Hard or soft binary targets: any value in [0, 1]."""
    if not _all_within(values, 0.0, 1.0):
        reject(role, "labels in [0, 1]", values, (values < 0) | (values > 1))


SIGN_LABELS = "labels all in {0, 1} or all in {-1, 1}"


def sign_labels(values: np.ndarray, role: str = "target", earlier: float | None = None) -> None:
    """Labels all in {0, 1} or all in {-1, 1} (a column of 1 alone is both).

    In a mix of 0 and -1 the set of the first row holding one of them is taken as intended, so the
    rows holding the other are the ones reported; ``earlier``: the label, 0 or -1, that rows before ``values``
    chose (the engine's check of a later chunk), which is then the intended one.
    """
    bad = (values != 0) & (values != 1) & (values != -1)
    chosen = earlier
    if chosen is None:
        decisive = np.flatnonzero((values == 0) | (values == -1))
        chosen = float(values.reshape(-1)[decisive[0]]) if decisive.size else None
    if chosen is not None:
        bad |= values == (-1.0 if chosen == 0 else 0.0)
    reject(role, SIGN_LABELS, values, bad)


def plus_minus_labels(values: np.ndarray, role: str = "target") -> None:
    """Labels 1 or -1 only (the targets of torch's CosineEmbeddingLoss and MarginRankingLoss)."""
    reject(role, "labels 1 or -1", values, (values != 1) & (values != -1))


def class_indices(values: np.ndarray, n_classes: int, role: str = "target", skip: np.ndarray | None = None) -> None:
    """Class indices: integer-valued floats in ``0..n_classes-1``; rows where ``skip`` is set are not checked
    (``ignore_index`` rows)."""
    bad = (values != np.floor(values)) | (values < 0) | (values > n_classes - 1)
    if skip is not None:
        bad &= ~skip
    reject(role, f"class indices, integers in 0..{n_classes - 1} (K = {n_classes} classes)", values, bad)


def distributions(values: np.ndarray, role: str, tolerance: float = 1e-6) -> None:
    """Rows of probabilities in [0, 1] whose sums are 1 within ``tolerance`` (they are not renormalised)."""
    probabilities(values, role)
    sums = values.sum(axis=1)
    reject(role, f"row sums of 1 (within {tolerance:g})", sums, np.abs(sums - 1.0) > tolerance)


def box_sizes(boxes: np.ndarray, role: str) -> None:
    """Boxes ``(x1, y1, x2, y2)`` per row (rows x 4) with ``x2 >= x1`` and ``y2 >= y1``; a zero-area box is valid.

    The reported value is the offending width ``x2 - x1`` or height ``y2 - y1``.
    """
    sizes = boxes[:, 2:4] - boxes[:, 0:2]
    reject(role, "box widths x2 - x1 and heights y2 - y1 >= 0", sizes, sizes < 0)
