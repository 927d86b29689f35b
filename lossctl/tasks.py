"""The task the data looks like when no loss is named, and the default losses of each task (docs/cli.md,
"Losses and parameters")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lossctl.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_LOSSES = {
    "regression": ("mse", "rmse", "mae", "huber"),
    "binary (probabilities)": ("bce", "brier"),
    "binary (logits)": ("bce_logits", "hinge"),
    "binary (scores, -1/1 labels)": ("hinge", "squared_hinge"),
    "multiclass (probabilities)": ("categorical_ce", "brier_multiclass", "zero_one"),
    "multiclass (logits)": ("cross_entropy", "zero_one"),
    "multilabel (probabilities)": ("bce", "hamming"),
    "multilabel (logits)": ("bce_logits", "multilabel_margin"),
}
# Rows summing to 1 within this are probability rows (6 decimals pass), as categorical_ce accepts them: the one
# rule of eval's task inference, its notices (lossctl.hints) and suggest.
ROW_SUM_TOLERANCE = 1e-4


def _matrix(batch: pa.RecordBatch, columns: list[str]) -> np.ndarray:
    """The bound columns as a (rows x K) float64 matrix (K = 1 for one scalar column), missing rows left out."""
    from lossctl.io.convert import to_float64_matrix

    matrix, _ = to_float64_matrix([batch.column(c) for c in columns], columns)
    return matrix


def infer_task(batch: pa.RecordBatch, roles: dict[str, list[str]], named_classes: bool = False) -> str | None:
    """The task of ``batch`` (the input's first chunk with a complete row: the defaults must be chosen before the one
    pass starts), or ``None`` when no row has every bound value (a chunk ``--missing drop`` empties): the caller
    looks at the next chunk.

    One target column and K prediction values per row: multi-class (probabilities when every row sums to 1, else
    logits). K 0/1 target columns against K predictions: multi-label. One 0/1 (or -1/1) target against one
    prediction: binary, probabilities or logits by the prediction's range. Anything else is regression. A text
    target is class labels, unless it spells numbers that are no labels (``"1.5"`` in JSON Lines): regression, whose
    losses read them as numbers. With ``named_classes`` (``--positive`` or ``--classes`` given), one target column
    is class labels whatever they are (``--positive 2`` of labels 1 and 2).
    """
    from lossctl.labels import is_text_labels

    if len(roles["target"]) == 1 and (named_classes or is_text_labels(batch.column(roles["target"][0]).type)):
        if not named_classes and _spells_regression(batch, roles):
            return "regression"
        pred = _matrix(batch, roles["pred"])
        labelled = batch.column(roles["target"][0]).is_valid().to_numpy(zero_copy_only=False)
        return _labelled_task(pred[labelled & np.isfinite(pred).all(axis=1)])
    return _numbers_task(batch, roles)


def _spells_regression(batch: pa.RecordBatch, roles: dict[str, list[str]]) -> bool:
    """Whether a text target is numbers that no classification task takes as labels."""
    try:
        return _numbers_task(batch, roles) == "regression"
    except InputError:  # text that is no number: class labels
        return False


def _numbers_task(batch: pa.RecordBatch, roles: dict[str, list[str]]) -> str | None:
    """The task of numeric targets (:func:`infer_task`)."""
    target, pred = _matrix(batch, roles["target"]), _matrix(batch, roles["pred"])
    rows = np.isfinite(target).all(axis=1) & np.isfinite(pred).all(axis=1)
    target, pred = target[rows], pred[rows]
    if not len(target):
        return None
    labels = set(np.unique(target).tolist())
    binary = labels <= {0.0, 1.0}
    probabilities = bool(pred.min() >= 0 and pred.max() <= 1)
    kind = "probabilities" if probabilities else "logits"
    if target.shape[1] == 1 and pred.shape[1] > 1:
        if labels <= set(map(float, range(pred.shape[1]))):
            sums_to_one = bool(np.all(np.abs(pred.sum(axis=1) - 1.0) <= ROW_SUM_TOLERANCE))
            return f"multiclass ({'probabilities' if probabilities and sums_to_one else 'logits'})"
        return "regression"
    if target.shape[1] > 1:
        return f"multilabel ({kind})" if binary and target.shape == pred.shape else "regression"
    if pred.shape[1] > 1 or not (binary or labels <= {-1.0, 1.0}):
        return "regression"
    if -1.0 in labels:
        return "binary (scores, -1/1 labels)"
    return f"binary ({kind})"


def _labelled_task(pred: np.ndarray) -> str | None:
    """The task of class labels against the complete rows' ``pred``: multi-class with K prediction values per row,
    else binary; ``None`` without a row."""
    if not len(pred):
        return None
    probabilities = bool(pred.min() >= 0 and pred.max() <= 1)
    if pred.shape[1] > 1:
        sums_to_one = bool(np.all(np.abs(pred.sum(axis=1) - 1.0) <= ROW_SUM_TOLERANCE))
        return f"multiclass ({'probabilities' if probabilities and sums_to_one else 'logits'})"
    return f"binary ({'probabilities' if probabilities else 'logits'})"
