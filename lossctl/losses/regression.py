"""Regression losses: roles ``target`` (y) and ``pred`` (p), ``r = p - y``; float64 throughout."""

from __future__ import annotations

import numpy as np

from lossctl.registry import Convention, Properties, keras, register_loss
from lossctl.stats import ROOT_MEAN


@register_loss(
    "mse",
    aliases=("l2", "mean_squared_error"),
    task="regression",
    summary="Mean squared error.",
    formula="l = (p - y)^2",
    follows="torch MSELoss, sklearn mean_squared_error",
    properties=Properties(
        convex="yes", robust="no: squares large errors", expects="values on the target's scale", range="[0, inf)"
    ),
    when="The default for regression when errors are roughly Gaussian: it targets the conditional mean "
    "and punishes large errors most. Prefer huber or mae when outliers dominate.",
    conventions={
        "torch": Convention("Same formula as lossctl."),
        "sklearn": Convention("Same formula as lossctl."),
        "keras": keras("Same formula as lossctl."),
    },
)
def mse(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Squared error ``(p - y)^2`` per row; mean over rows.

    Follows torch ``MSELoss`` and sklearn ``mean_squared_error``. Example: y = [0, 1], p = [1, 1]
    gives rows [1, 0] and a mean of 0.5.
    """
    residual = pred - target
    return residual * residual


@register_loss(
    "rmse",
    task="regression",
    summary="Root mean squared error (an aggregate: the root of the weighted mean of r^2).",
    formula="sqrt(sum(w r^2) / sum(w))",
    follows="sklearn root_mean_squared_error",
    aggregate=ROOT_MEAN,
    properties=Properties(
        convex="yes", robust="no: squares large errors", expects="values on the target's scale", range="[0, inf)"
    ),
    when="The MSE on the target's own scale, to report; it ranks models as mse does. It has only the "
    "mean reduction and no per-row values.",
    conventions={"sklearn": Convention("Same formula as lossctl.")},
)
def rmse(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Contributes ``r^2`` per row; the value is ``sqrt(sum(w r^2) / sum(w))`` (not a mean of roots).

    Follows sklearn ``root_mean_squared_error``. Example: y = [0, 0], p = [3, 4] gives sqrt(12.5).
    """
    return mse(target, pred)
