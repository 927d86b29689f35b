"""The task the data looks like when no loss is named, and the default losses of each task (README, "Default
losses")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_LOSSES = {
    "regression": ("mse", "rmse", "mae", "huber"),
    "binary (probabilities)": ("bce", "brier"),
    "binary (logits)": ("bce_logits", "hinge"),
    "binary (scores, -1/1 labels)": ("hinge", "squared_hinge"),
}


def infer_task(batch: pa.RecordBatch | None, roles: dict[str, list[str]]) -> str:
    """Regression unless the target holds only 0/1 (or -1/1) labels; then probabilities or logits by ``pred``.

    Judged on ``batch``, the input's first chunk: the defaults must be chosen before the one pass starts.
    """
    if batch is None or batch.num_rows == 0 or len(roles["target"]) != 1 or len(roles["pred"]) != 1:
        return "regression"
    from lossctl.io.convert import to_float64

    target, _ = to_float64(batch.column(roles["target"][0]), roles["target"][0])
    pred, _ = to_float64(batch.column(roles["pred"][0]), roles["pred"][0])
    labels = set(np.unique(target[~np.isnan(target)]).tolist())
    if not labels or not (labels <= {0.0, 1.0} or labels <= {-1.0, 1.0}):
        return "regression"
    if -1.0 in labels:
        return "binary (scores, -1/1 labels)"
    finite = pred[~np.isnan(pred)]
    if finite.size and finite.min() >= 0 and finite.max() <= 1:
        return "binary (probabilities)"
    return "binary (logits)"
