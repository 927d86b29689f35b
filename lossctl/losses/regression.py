"""Regression losses: roles ``target`` (y) and ``pred`` (p), ``r = p - y``; float64 throughout."""

from __future__ import annotations

import math

import numpy as np

from lossctl.aggregates import MEAN, ROOT_MEAN, multioutput
from lossctl.losses._checks import at_least, at_most, greater_than
from lossctl.losses._shared import abs_residual, residual, squared_residual
from lossctl.registry import Convention, Param, Properties, Role, Violation, keras, register_loss, torch_elementwise

_MULTIOUTPUT = Param(
    "multioutput",
    None,
    "with several output columns: none pools every element; uniform averages the per-output values, raw reports "
    "one result per output (mse[0], mse[1], ...), as scikit-learn's uniform_average and raw_values",
    kind="choice",
    choices=("uniform", "raw"),
)
_MEAN_PER_OUTPUT = multioutput(MEAN)
_ROOT_MEAN_PER_OUTPUT = multioutput(ROOT_MEAN)
# scikit-learn's root_mean_squared[_log]_error default to multioutput='uniform_average': with K outputs, the mean of
# the per-output roots, not the root of the pooled mean (lossctl's default). The means of the other losses are
# linear, so their pooled value is sklearn's uniform average already.
_SKLEARN_ROOT = Convention(
    "Same formula as lossctl, with scikit-learn's default multioutput=uniform (uniform_average): with K output "
    "columns the mean of the K per-output roots, where lossctl's default is the root of the pooled mean.",
    defaults={"multioutput": "uniform"},
)


@register_loss(
    "mse",
    aliases=("l2", "mean_squared_error"),
    task="regression",
    aggregate=_MEAN_PER_OUTPUT,
    summary="Mean squared error.",
    formula="l = (p - y)^2",
    params=(_MULTIOUTPUT,),
    follows="torch MSELoss, sklearn mean_squared_error",
    properties=Properties(
        convex="yes", robust="no: squares large errors", expects="values on the target's scale", range="[0, inf)"
    ),
    when="The default for regression when errors are roughly Gaussian: it targets the conditional mean "
    "and punishes large errors most. Prefer huber or mae when outliers dominate.",
    conventions={
        "torch": torch_elementwise("Same formula as lossctl."),
        "sklearn": Convention("Same formula as lossctl."),
        "keras": keras("Same formula as lossctl."),
    },
)
def mse(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Squared error ``(p - y)^2`` per row; mean over rows.

    Follows torch ``MSELoss`` and sklearn ``mean_squared_error``. Example: y = [0, 1], p = [1, 1]
    gives rows [1, 0] and a mean of 0.5.
    """
    return squared_residual(target, pred)


@register_loss(
    "rmse",
    task="regression",
    summary="Root mean squared error (an aggregate: the root of the weighted mean of r^2).",
    formula="sqrt(sum(w r^2) / sum(w))",
    params=(_MULTIOUTPUT,),
    follows="sklearn root_mean_squared_error",
    aggregate=_ROOT_MEAN_PER_OUTPUT,
    properties=Properties(
        convex="yes", robust="no: squares large errors", expects="values on the target's scale", range="[0, inf)"
    ),
    when="The MSE on the target's own scale, to report; it ranks models as mse does. It has only the "
    "mean reduction and no per-row values.",
    conventions={"sklearn": _SKLEARN_ROOT},
)
def rmse(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Contributes ``r^2`` per row; the value is ``sqrt(sum(w r^2) / sum(w))`` (not a mean of roots).

    Follows sklearn ``root_mean_squared_error``. Example: y = [0, 0], p = [3, 4] gives sqrt(12.5).
    """
    return mse(target, pred)


@register_loss(
    "mae",
    aliases=("l1",),
    task="regression",
    aggregate=_MEAN_PER_OUTPUT,
    summary="Mean absolute error.",
    formula="l = |p - y|",
    params=(_MULTIOUTPUT,),
    follows="torch L1Loss, sklearn mean_absolute_error",
    properties=Properties(
        convex="yes (not differentiable at r = 0)",
        robust="yes: grows linearly with the error",
        expects="values on the target's scale",
        range="[0, inf)",
    ),
    when="Targets the conditional median: choose it when a few large errors (outliers, heavy tails) should not "
    "dominate the score, or when the error must read in the target's units. For gradient training near r = 0 "
    "prefer huber or log_cosh, which are smooth there.",
    # Checked against torch L1Loss, sklearn/metrics/_regression.py mean_absolute_error (1.9.1) and
    # keras/src/losses/losses.py mean_absolute_error (keras-team/keras@702a7197).
    conventions={
        "torch": torch_elementwise("Same formula as lossctl."),
        "sklearn": Convention("Same formula as lossctl."),
        "keras": keras("Same formula as lossctl."),
    },
)
def mae(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Absolute error ``|p - y|`` per row; mean over rows. Any real inputs.

    Follows torch ``L1Loss`` and sklearn ``mean_absolute_error``. Example: y = [0, 0], p = [1, -3]
    gives rows [1, 3] and a mean of 2.
    """
    return abs_residual(target, pred)


@register_loss(
    "huber",
    task="regression",
    summary="Huber loss: squared error for small residuals, absolute error beyond delta.",
    formula="l = 0.5 r^2 if |r| <= delta else delta (|r| - 0.5 delta)",
    follows="torch HuberLoss, Keras Huber",
    params=(
        Param(
            "delta", 1.0, "residual size where the loss turns from quadratic to linear", minimum=0.0, min_exclusive=True
        ),
    ),
    properties=Properties(
        convex="yes",
        robust="yes beyond delta: linear for |r| > delta",
        expects="values on the target's scale; delta in the same units",
        range="[0, inf)",
    ),
    when="Regression with occasional outliers: it behaves like mse for residuals up to delta and like mae "
    "beyond, so set delta near the largest residual you still consider noise (e.g. a few inlier standard "
    "deviations). Smooth everywhere, unlike mae.",
    # torch huber_loss (ATen; `|r| < delta` there, equal at the boundary) and Keras huber
    # (keras/src/losses/losses.py @702a7197: where(|e| <= delta, 0.5 e^2, delta |e| - 0.5 delta^2)).
    conventions={
        "torch": torch_elementwise("Same formula as lossctl."),
        "keras": keras("Same formula as lossctl."),
    },
)
def huber(target: np.ndarray, pred: np.ndarray, *, delta: float) -> np.ndarray:
    """``0.5 r^2`` where ``|r| <= delta``, else ``delta (|r| - 0.5 delta)``; ``delta > 0``, any real inputs.

    The two branches meet at ``|r| = delta`` with value ``0.5 delta^2``. Follows torch ``HuberLoss``
    and Keras ``Huber``. Example: delta = 1, y = [0, 0], p = [0.5, 3] gives rows [0.125, 2.5] and a
    mean of 1.3125.
    """
    size = abs_residual(target, pred)
    # m (|r| - m/2) with m = min(|r|, delta) is both branches at once (bit for bit: 0.5 r^2 inside, delta
    # (|r| - delta/2) outside), and never squares a residual the linear branch takes. Written in place as
    # (-m/2 + |r|) m, the same rounding, with one temporary instead of three (a quarter faster per chunk).
    inner = np.minimum(size, delta)
    out = np.multiply(inner, -0.5)
    out += size
    out *= inner
    return out


@register_loss(
    "smooth_l1",
    task="regression",
    summary="Smooth L1 loss: huber divided by beta, so the linear part has slope 1 (beta = 0 is mae).",
    formula="l = 0.5 r^2 / beta if |r| < beta else |r| - 0.5 beta",
    follows="torch SmoothL1Loss",
    params=(Param("beta", 1.0, "residual size where the loss turns linear; 0 gives the L1 loss", minimum=0.0),),
    properties=Properties(
        convex="yes",
        robust="yes beyond beta: linear for |r| >= beta",
        expects="values on the target's scale; beta in the same units",
        range="[0, inf)",
    ),
    when="Bounding-box and keypoint regression (Fast R-CNN, torchvision detectors): like huber, but the linear "
    "part has slope 1 whatever beta, so shrinking beta moves it towards mae without rescaling the loss. "
    "Choose it to reproduce torch SmoothL1Loss numbers.",
    # aten/src/ATen/native/Loss.cpp (pytorch/pytorch@008af87c): beta < 0 is rejected, beta == 0 calls l1_loss.
    conventions={"torch": torch_elementwise("Same formula as lossctl.")},
)
def smooth_l1(target: np.ndarray, pred: np.ndarray, *, beta: float) -> np.ndarray:
    """``0.5 r^2 / beta`` where ``|r| < beta``, else ``|r| - 0.5 beta``; ``beta >= 0``, any real inputs.

    ``beta = 0`` is the absolute error (as torch, which dispatches to L1 there), and for ``beta > 0``
    it equals ``huber(delta=beta) / beta``. Follows torch ``SmoothL1Loss``. Example: beta = 2,
    y = [0, 0], p = [1, 4] gives rows [0.25, 3] and a mean of 1.625.
    """
    size = abs_residual(target, pred)
    if beta == 0.0:
        return size
    # (m / beta) (|r| - m/2) with m = min(|r|, beta): both branches in five passes. Outside, m / beta is exactly
    # 1, so the linear branch is |r| - beta/2 itself; inside, m / beta <= 1 (no product of |r| and beta that
    # could overflow or underflow where the value does not: |r| = 1e307 with beta = 100, or 1e-160 with 5e-161).
    half = np.minimum(size, beta)
    out = half / beta
    half *= -0.5
    half += size
    out *= half
    return out


# Beyond this residual log cosh r = |r| - log 2 to float64 precision (the next term is e^-2|r| = 4e-18).
_LOG_COSH_LINEAR = 20.0


@register_loss(
    "log_cosh",
    task="regression",
    summary="Log-cosh loss: about r^2 / 2 for small residuals and |r| - log 2 for large ones.",
    formula="l = log(cosh(p - y))",
    follows="Keras LogCosh",
    properties=Properties(
        convex="yes",
        robust="yes: grows like |r| - log 2 for large residuals",
        expects="values on the target's scale (the bend is at |r| of about 1)",
        range="[0, inf)",
    ),
    when="A huber without a delta to tune and smooth to every order (useful for second-order optimisers, "
    "e.g. XGBoost custom objectives); the quadratic-to-linear bend sits at |r| ~ 1, so scale the target "
    "so that residuals of 1 are where you stop trusting them.",
    # keras/src/losses/losses.py log_cosh (@702a7197) evaluates r + softplus(-2 r) - log 2: the same function.
    conventions={"keras": keras("Same formula as lossctl.")},
)
def log_cosh(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``log(cosh(r))`` per row, accurate to a few ulps for every finite residual; any real inputs.

    ``cosh`` itself would round to 1 for ``|r| < 1e-8`` and overflow for ``|r| > 710``. With
    ``a = min(|r|, 20)`` and ``e = expm1(a)``, ``cosh a - 1 = e^2 / (2 (1 + e))`` exactly, so
    ``log1p`` of it has no cancellation for small residuals; beyond 20, ``log cosh r = |r| - log 2``
    to within ``e^-40``, which is ``log cosh 20 + (|r| - 20)``. Measured against 60-digit decimal
    arithmetic: within 5e-16 relative. Follows Keras ``LogCosh``. Example: y = [0, 0], p = [0, 1]
    gives rows [0, log(cosh 1) = 0.4337808...] and a mean of 0.2168904...
    """
    size = abs_residual(target, pred)
    capped = np.minimum(size, _LOG_COSH_LINEAR)
    out = np.expm1(capped)
    denominator = out + 1.0
    denominator *= 2.0
    out *= out
    out /= denominator
    np.log1p(out, out=out)
    np.subtract(size, capped, out=capped)  # the linear part beyond the cap (0 below it)
    out += capped
    return out


@register_loss(
    "quantile",
    aliases=("pinball",),
    task="regression",
    aggregate=_MEAN_PER_OUTPUT,
    summary="Quantile (pinball) loss: asymmetric absolute error minimised by the q-th quantile.",
    formula="l = max(q (y - p), (q - 1)(y - p))",
    follows="sklearn mean_pinball_loss(alpha=q)",
    params=(
        Param(
            "q", 0.5, "the quantile level predicted", minimum=0.0, maximum=1.0, min_exclusive=True, max_exclusive=True
        ),
        _MULTIOUTPUT,
    ),
    properties=Properties(
        convex="yes",
        robust="yes: linear on both sides",
        expects="predictions of the q-th conditional quantile",
        range="[0, inf)",
    ),
    when="Quantile regression and prediction intervals (e.g. q = 0.05 and 0.95 for a 90% band): it is "
    "minimised by the q-th conditional quantile, charging under-prediction q and over-prediction 1 - q per "
    "unit. q = 0.5 is mae / 2.",
    # sklearn/metrics/_regression.py mean_pinball_loss (1.9.1): alpha = q; Keras and torch have no such loss.
    conventions={"sklearn": Convention("Same formula as lossctl.")},
)
def quantile(target: np.ndarray, pred: np.ndarray, *, q: float) -> np.ndarray:
    """``q (y - p)`` where ``y >= p`` and ``(1 - q)(p - y)`` otherwise; ``0 < q < 1``, any real inputs.

    Follows sklearn ``mean_pinball_loss(alpha=q)``. Example: q = 0.9, y = [1, 1], p = [0, 2] gives
    rows [0.9, 0.1] (under-prediction costs 9 times more) and a mean of 0.5.
    """
    r = residual(target, pred)  # y - p = -r exactly, so max(q (y - p), (q - 1)(y - p)) = max(-q r, (1 - q) r)
    out = r * -q
    return np.maximum(out, (1.0 - q) * r, out=out)


_KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), the constant Keras' MAPE, MSLE and Poisson use


def _keras_mape(target: np.ndarray, pred: np.ndarray, *, eps: float) -> np.ndarray:
    # keras/src/losses/losses.py mean_absolute_percentage_error:
    # 100 * abs((y_true - y_pred) / maximum(abs(y_true), epsilon)), epsilon = 1e-7.
    return 100.0 * mape(target, pred, eps=eps)


@register_loss(
    "mape",
    task="regression",
    aggregate=_MEAN_PER_OUTPUT,
    summary="Mean absolute percentage error, as a fraction (0.1 is 10%).",
    formula="l = |y - p| / max(|y|, eps)",
    follows="sklearn mean_absolute_percentage_error",
    params=(
        Param(
            "eps", float(np.finfo(np.float64).eps), "floor of |y| in the denominator", minimum=0.0, min_exclusive=True
        ),
        _MULTIOUTPUT,
    ),
    properties=Properties(
        convex="yes in p for fixed y",
        robust="no: unbounded for over-prediction, and explodes for targets near 0",
        expects="targets well away from 0, on a ratio scale",
        range="[0, inf)",
    ),
    when="Reporting relative error when every target is far from zero and series differ in scale (demand "
    "across products). It is asymmetric (an under-prediction costs at most 1, an over-prediction without "
    "bound) and a target of 0 divides by eps: use smape or mae when targets reach 0.",
    conventions={
        # sklearn/metrics/_regression.py (1.9.1): epsilon = xp.finfo(xp.float64).eps, as lossctl's default.
        "sklearn": Convention(
            "Same formula as lossctl.",
            lacks={"eps": "mean_absolute_percentage_error fixes it at the float64 machine epsilon"},
        ),
        "keras": keras(
            "Keras reports a percentage: 100 |y - p| / max(|y|, eps), with eps = 1e-7 (keras.backend.epsilon()).",
            func=_keras_mape,
            defaults={"eps": _KERAS_EPSILON},
            lacks={"eps": "Keras fixes it at 1e-7, keras.backend.epsilon()"},
        ),
    },
)
def mape(target: np.ndarray, pred: np.ndarray, *, eps: float) -> np.ndarray:
    """``|y - p| / max(|y|, eps)`` per row (a fraction, not percent); ``eps > 0``, any real inputs.

    A target of 0 gives ``|p| / eps`` (huge but finite), as scikit-learn. Follows sklearn
    ``mean_absolute_percentage_error``. Example: y = [2, -4], p = [1, -5] gives rows [0.5, 0.25]
    and a mean of 0.375.
    """
    scale = np.abs(target)  # floored in place; the quotient takes the shape both inputs broadcast to
    np.maximum(scale, eps, out=scale)
    return np.divide(abs_residual(target, pred), scale)


_HALF_MAX = float(np.finfo(np.float64).max) / 2.0  # smape: beyond it, 2 |p - y| and |y| + |p| may overflow


@register_loss(
    "smape",
    task="regression",
    summary="Symmetric mean absolute percentage error, in [0, 2].",
    formula="l = |p - y| / ((|y| + |p|) / 2), and 0 where y = p = 0",
    follows="the common definition (Makridakis 1993; M3/M4 competitions), range [0, 2]",
    properties=Properties(
        convex="no",
        robust="partly: each row is at most 2",
        expects="targets and predictions on a ratio scale",
        range="[0, 2]",
    ),
    when="A relative error for forecasts whose targets can be 0 or small, where mape explodes: bounded by 2 "
    "per row and less lopsided between over- and under-prediction. Still erratic when both y and p are near "
    "0, and any row with y = 0 != p costs the maximum 2.",
)
def smape(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``2 |p - y| / (|y| + |p|)`` per row, 0 where both are 0; any real inputs, up to the float64 maximum.

    Where ``|y| + |p|`` exceeds half the float64 maximum, ``2 |p - y|`` (or ``|p - y|``, or the sum itself)
    would overflow: those rows are the same ratio of the halved values, ``2 |p/2 - y/2| / (|y|/2 + |p|/2)``
    (halving is exact there), so y = 1e308, p = -1e308 gives 2, not an overflow. Example: y = [1, 0, 0],
    p = [3, 2, 0] gives rows [1, 2, 0] and a mean of 1.
    """
    with np.errstate(over="ignore"):  # the rows that overflow here are recomputed below
        scale = np.abs(target) + np.abs(pred)  # a target column against a vector of predictions: both broadcast
        out = abs_residual(target, pred) * 2.0
    if scale.size and scale.max() > _HALF_MAX:
        y, p = np.broadcast_arrays(target, pred)
        big = scale > _HALF_MAX
        half_y, half_p = y[big] * 0.5, p[big] * 0.5
        out[big] = 2.0 * (np.abs(half_p - half_y) / (np.abs(half_y) + np.abs(half_p)))
        scale[big] = 1.0
    if scale.size and scale.min() == 0.0:  # the scale is never negative: a zero is its minimum
        scale[scale == 0.0] = 1.0  # and out is 0 there: 0 / 1
    out /= scale
    return out


def _keras_msle(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    # keras/src/losses/losses.py mean_squared_logarithmic_error: both inputs are floored at
    # epsilon = 1e-7 before log(x + 1), so Keras accepts any value (<= -1 included).
    diff = np.log1p(np.maximum(pred, _KERAS_EPSILON)) - np.log1p(np.maximum(target, _KERAS_EPSILON))
    return diff * diff


@register_loss(
    "msle",
    task="regression",
    aggregate=_MEAN_PER_OUTPUT,
    violation=Violation("pred", -1.5),
    summary="Mean squared logarithmic error: the squared difference of log(1 + p) and log(1 + y).",
    formula="l = (log1p(p) - log1p(y))^2",
    params=(_MULTIOUTPUT,),
    follows="sklearn mean_squared_log_error",
    properties=Properties(
        convex="no in p (it is convex in log1p(p))",
        robust="partly: the log damps large values",
        expects="values > -1, usually non-negative quantities spanning orders of magnitude",
        range="[0, inf)",
    ),
    when="Non-negative targets spanning orders of magnitude (counts, prices, populations) where the relative "
    "error matters more than the absolute one; it charges under-prediction more than over-prediction of the "
    "same size. Equivalent to mse on log1p-transformed targets.",
    conventions={
        # sklearn/metrics/_regression.py (1.9.1): log1p of both, ValueError for values <= -1, as lossctl.
        "sklearn": Convention("Same formula as lossctl."),
        "keras": keras(
            "Keras floors both inputs at 1e-7 before log1p (so values <= 0 count as 1e-7 and none is an error).",
            func=_keras_msle,
        ),
    },
)
def msle(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``(log1p(p) - log1p(y))^2`` per row; ``p`` and ``y`` must be ``> -1`` (as scikit-learn).

    Follows sklearn ``mean_squared_log_error``. Example: y = [0, e - 1], p = [e - 1, e - 1] gives
    rows [1, 0] and a mean of 0.5.
    """
    greater_than(target, -1.0, "target")
    greater_than(pred, -1.0, "pred")
    diff = np.subtract(np.log1p(pred), np.log1p(target))
    diff *= diff
    return diff


@register_loss(
    "rmsle",
    task="regression",
    violation=Violation("pred", -1.5),
    summary="Root mean squared logarithmic error (an aggregate: the root of the weighted mean of the msle rows).",
    formula="sqrt(sum(w (log1p(p) - log1p(y))^2) / sum(w))",
    params=(_MULTIOUTPUT,),
    follows="sklearn root_mean_squared_log_error",
    aggregate=_ROOT_MEAN_PER_OUTPUT,
    properties=Properties(
        convex="no",
        robust="partly: the log damps large values",
        expects="values > -1, usually non-negative quantities spanning orders of magnitude",
        range="[0, inf)",
    ),
    when="msle in log1p units, to report (Kaggle's RMSLE); it ranks models as msle does. It has only the mean "
    "reduction and no per-row values.",
    # sklearn/metrics/_regression.py (1.9.1): root_mean_squared_error of the log1p values.
    conventions={"sklearn": _SKLEARN_ROOT},
)
def rmsle(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Contributes the msle row ``(log1p(p) - log1p(y))^2``; the value is the root of their weighted mean.

    ``p`` and ``y`` must be ``> -1``. Follows sklearn ``root_mean_squared_log_error``. Example:
    y = [0, 0], p = [e - 1, e^3 - 1] gives rows [1, 9] and sqrt(5).
    """
    return msle(target, pred)


_MAX_LOG_RATE = math.log(np.finfo(np.float64).max)  # exp() of anything larger overflows float64


def _stirling(target: np.ndarray) -> np.ndarray:
    """Stirling's ``log(y!)``, ``y log y - y + 0.5 log(2 pi y)``, for ``y > 1`` and 0 elsewhere (as torch)."""
    out = np.zeros_like(target)
    big = target > 1.0
    y = target[big]
    out[big] = y * np.log(y) - y + 0.5 * np.log(2.0 * math.pi * y)
    return out


@register_loss(
    "poisson_nll",
    task="regression",
    violation=Violation("target", -1.0),
    summary="Poisson negative log-likelihood (without the log(y!) constant unless full).",
    formula="l = p - y log(p + eps); log_input: exp(x) - y x; full adds y log y - y + 0.5 log(2 pi y) for y > 1",
    follows="torch PoissonNLLLoss (whose default is log_input=True)",
    params=(
        Param("log_input", False, "pred holds log-rates x (the loss is exp(x) - y x)", kind="bool"),
        Param("full", False, "add Stirling's approximation of log(y!) for y > 1", kind="bool"),
        Param("eps", 1e-8, "added to the rate inside the log (rates only)", minimum=0.0, min_exclusive=True),
    ),
    properties=Properties(
        convex="yes (in p, and in x with log_input)",
        robust="no",
        expects="non-negative counts y; rates p >= 0, or log-rates with log_input",
        range="(-inf, inf): without the log(y!) term it can be negative; only differences compare models",
    ),
    when="Training or comparing models of counts (events, clicks, arrivals) that predict a Poisson rate; set "
    "log_input=true when the model outputs log-rates, as torch does by default. Use poisson_deviance for a "
    "score that is 0 at a perfect fit.",
    # aten/src/ATen/native/Loss.cpp poisson_nll_loss (pytorch/pytorch@008af87c) is this formula, Stirling term
    # masked to y > 1; only the default differs (torch.nn.functional.poisson_nll_loss: log_input=True).
    conventions={
        "torch": torch_elementwise(
            "torch's default is log_input=True: pred holds log-rates.", defaults={"log_input": True}
        ),
        # keras/src/losses/losses.py poisson: y_pred - y_true * log(y_pred + epsilon), epsilon = 1e-7,
        # on rates only and without a Stirling term.
        "keras": keras(
            "Keras' Poisson is p - y log(p + 1e-7): rates only, eps = 1e-7 (keras.backend.epsilon()).",
            defaults={"eps": _KERAS_EPSILON},
            lacks={
                "log_input": "Keras' Poisson takes rates only",
                "full": "Keras' Poisson has no Stirling term",
                "eps": "Keras fixes it at 1e-7, keras.backend.epsilon()",
            },
        ),
    },
)
def poisson_nll(target: np.ndarray, pred: np.ndarray, *, log_input: bool, full: bool, eps: float) -> np.ndarray:
    """``p - y log(p + eps)`` per row, or ``exp(x) - y x`` with ``log_input``; ``full`` adds Stirling's term.

    Domain: ``y >= 0``; rates ``p >= 0`` (a rate of 0 is allowed thanks to ``eps > 0``); log-rates at
    most log(float64 max) = 709.78 so that ``exp`` does not overflow. Follows torch
    ``PoissonNLLLoss`` (``log_input=False``). Example: y = [2], p = [1] gives 1 - 2 log(1 + 1e-8)
    = 0.99999998.
    """
    at_least(target, 0.0, "target")
    if log_input:
        at_most(pred, _MAX_LOG_RATE, "pred", f"log-rates <= {_MAX_LOG_RATE:.6g} (exp overflows float64)")
        loss = np.exp(pred) - target * pred
    else:
        at_least(pred, 0.0, "pred")
        loss = pred - target * np.log(pred + eps)
    return loss + _stirling(target) if full else loss


def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(a / b)`` for ``a, b > 0``: the accurate quotient form (sklearn's), and ``log a - log b`` only where the
    quotient over- or underflows (a = 1e300, b = 1e-300 gives 1381.55, not log(inf))."""
    with np.errstate(over="ignore", under="ignore"):
        ratio = a / b
    representable = np.isfinite(ratio) & (ratio >= np.finfo(np.float64).tiny)
    if representable.all():
        return np.log(ratio)
    return np.where(representable, np.log(np.where(representable, ratio, 1.0)), np.log(a) - np.log(b))


def _y_log_ratio(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``y log(y / mu)`` with ``0 log 0 = 0`` (scipy's ``xlogy``), for ``y >= 0`` and ``mu > 0``."""
    target, pred = np.broadcast_arrays(target, pred)  # a column against a vector per row (registry._row_aligned)
    out = np.zeros(target.shape)
    positive = target > 0
    out[positive] = target[positive] * _log_ratio(target[positive], pred[positive])
    return out


def _poisson_unit_deviance(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    deviance = 2.0 * (_y_log_ratio(target, pred) - target + pred)
    _near_perfect(target, pred, 0.0, 1.0, deviance)
    return deviance


@register_loss(
    "poisson_deviance",
    task="regression",
    violation=Violation("pred", 0.0),
    summary="Mean Poisson deviance: twice the log-likelihood gap to a perfect prediction.",
    formula="l = 2 (y log(y / p) - y + p), with y log y = 0 at y = 0",
    follows="sklearn mean_poisson_deviance",
    properties=Properties(
        convex="yes in p",
        robust="no",
        expects="non-negative counts or rates y and strictly positive predicted rates p",
        range="[0, inf)",
    ),
    when="Scoring count or rate models (Poisson GLMs, gradient boosting with loss='poisson'): 0 for a perfect "
    "prediction and comparable across models, unlike poisson_nll. It needs p > 0, so clip zero predictions "
    "deliberately rather than hiding them.",
    # sklearn/metrics/_regression.py (1.9.1): mean_tweedie_deviance(power=1), 2 (xlogy(y, y / p) - y + p).
    conventions={"sklearn": Convention("Same formula as lossctl.")},
)
def poisson_deviance(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``2 (y log(y / p) - y + p)`` per row; ``y >= 0``, ``p > 0`` (as scikit-learn).

    Follows sklearn ``mean_poisson_deviance`` (tweedie power 1). Example: y = [0, 2], p = [1, 1]
    gives rows [2, 4 log 2 - 2 = 0.7725887...] and a mean of 1.3862944... (= 2 log 2).
    """
    at_least(target, 0.0, "target")
    greater_than(pred, 0.0, "pred")
    return _poisson_unit_deviance(target, pred)


@register_loss(
    "tweedie_deviance",
    task="regression",
    violation=Violation("pred", -1.0, params={"power": 1.5}),
    summary="Mean Tweedie deviance: normal (power 0), Poisson (1), compound Poisson-gamma (1-2), gamma (2), ...",
    formula="l = 2 (max(y,0)^(2-k) / ((1-k)(2-k)) - y p^(1-k) / (1-k) + p^(2-k) / (2-k)) for power k; "
    "(y-p)^2 at k = 0; Poisson at k = 1; 2 (log(p/y) + y/p - 1) at k = 2",
    follows="sklearn mean_tweedie_deviance",
    params=(
        Param(
            "power",
            1.5,
            "Tweedie power k: 0 normal, 1 Poisson, (1, 2) compound Poisson-gamma, 2 gamma, 3 inverse Gaussian",
            excluded=(0.0, 1.0),  # as scikit-learn
        ),
    ),
    properties=Properties(
        convex="in p only for power 0 and 1; in log p for 1 <= power <= 2",
        robust="more the higher the power: errors count relative to p^(power/2)",
        expects="by power: k < 0 p > 0; k = 0 any; 1 <= k < 2 y >= 0, p > 0; k >= 2 y > 0, p > 0",
        range="[0, inf)",
    ),
    when="Non-negative targets with exact zeros and a skewed positive part (insurance claim amounts, rainfall): "
    "1 < power < 2 is the compound Poisson-gamma; use the power your model was fitted with (sklearn "
    "TweedieRegressor, LightGBM/XGBoost tweedie objectives). Higher powers weigh errors on large targets less.",
    # sklearn/metrics/_regression.py (1.9.1) _mean_tweedie_deviance and its per-power domain checks; its
    # signature has power=0 as the default.
    conventions={
        "sklearn": Convention(
            "Same formula and domain as lossctl, but sklearn's default power is 0 (the normal deviance, i.e. mse).",
            defaults={"power": 0.0},
        )
    },
)
def tweedie_deviance(target: np.ndarray, pred: np.ndarray, *, power: float) -> np.ndarray:
    """The Tweedie unit deviance of ``power`` per row, with scikit-learn's domain for each power.

    ``power < 0``: ``p > 0`` (``y`` any); ``power = 0``: any (``(y - p)^2``); ``1 <= power < 2``:
    ``y >= 0``, ``p > 0``; ``power >= 2``: ``y > 0``, ``p > 0``; ``0 < power < 1`` is invalid. Follows
    sklearn ``mean_tweedie_deviance``. Example: power = 3 (inverse Gaussian, ``(y - p)^2 / (y p^2)``),
    y = [1], p = [2] gives 2 (1/2 + 1/8 - 1/2) = 0.25; power = 2, y = [1], p = [e] gives 2/e = 0.7357588...
    """
    if power == 0.0:
        return mse(target, pred)
    if power < 0.0:
        greater_than(pred, 0.0, "pred")
    elif power < 2.0:
        at_least(target, 0.0, "target")
        greater_than(pred, 0.0, "pred")
    else:
        greater_than(target, 0.0, "target")
        greater_than(pred, 0.0, "pred")
    if power == 1.0:
        return _poisson_unit_deviance(target, pred)
    if power == 2.0:
        deviance = 2.0 * (_log_ratio(pred, target) + target / pred - 1.0)
        _near_perfect(target, pred, -1.0, 0.0, deviance)
        return deviance
    one, two = 1.0 - power, 2.0 - power
    observed = np.maximum(target, 0.0) if power < 0.0 else target
    deviance = 2.0 * (observed**two / (one * two) - target * pred**one / one + pred**two / two)
    _near_perfect(target, pred, one, two, deviance)
    return deviance


def _near_perfect(target: np.ndarray, pred: np.ndarray, one: float, two: float, deviance: np.ndarray) -> None:
    """Rewrite in place the rows of the Tweedie ``deviance`` of power k (``one = 1 - k``, ``two = 2 - k``; Poisson
    k = 1, gamma k = 2) where ``p`` is within ``_NEAR / max(|1 - k|, |2 - k|)`` relative of ``y > 0``: there the
    terms of sklearn's forms cancel, which gave a negative deviance for a perfect prediction (-1.8e-15 for
    y = p = 7, power 1.2; -1.8e-12 for a Poisson p = y (1 - 1e-12)). With ``L = log(p / y)`` the deviance is
    ``2 y^(2-k) (g((2-k) L) / (2-k) - g((1-k) L) / (1-k))``, ``g(x) = e^x - 1 - x`` (``g(cL) / c`` is 0 at c = 0),
    whose first order terms cancel exactly: 0 at ``p = y``, and accurate to a few ulps around it (Poisson:
    ``2 y g(L)``; gamma: ``2 g(-L)``)."""
    target, pred = np.broadcast_arrays(target, pred)  # a column against a vector per row (registry._row_aligned)
    with np.errstate(divide="ignore"):
        gap = np.divide(pred, target)  # inf at y = 0, negative for y < 0: never near
    gap -= 1.0
    np.abs(gap, out=gap)
    near = gap <= _NEAR / max(abs(one), abs(two))
    if near.any():
        y = target[near]
        log_ratio = np.log1p((pred[near] - y) / y)  # the difference is exact near p = y
        excess = _exp_gap_over(two, log_ratio) - _exp_gap_over(one, log_ratio)
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = 2.0 * y**two * excess
        deviance[near] = np.where(excess == 0.0, 0.0, scaled)  # p = y: 0, also where y^(2-k) overflows (1e300, k < 0)


# Beyond it sklearn's form keeps about 1e-11 relative (power 1.5); within it |x| <= 0.005 in _exp_gap_over.
_NEAR = 0.005
# e^x - 1 - x = x^2 (1/2! + x/3! + ... + x^7/9!) for |x| <= 0.005 leaves 0.005^8 / 10! relative.
_EXP_GAP_SERIES = tuple(1.0 / math.factorial(k) for k in range(2, 10))


def _exp_gap_over(c: float, log_ratio: np.ndarray) -> np.ndarray:
    """``(e^x - 1 - x) / c`` with ``x = c L``, for ``|x| <= 0.005``, by its series (the difference cancels); 0 at
    c = 0, its limit."""
    if c == 0.0:
        return np.zeros_like(log_ratio)
    x = c * log_ratio
    out = np.full_like(x, _EXP_GAP_SERIES[-1])
    for coefficient in _EXP_GAP_SERIES[-2::-1]:
        out *= x
        out += coefficient
    return out * x * x / c


@register_loss(
    "gaussian_nll",
    task="regression",
    violation=Violation("var", -1.0),
    roles=("target", "pred", Role("var", "predicted variance per row (>= 0; floored at eps)", shape="any")),
    summary="Gaussian negative log-likelihood of a predicted mean and variance.",
    formula="l = 0.5 (log(max(v, eps)) + r^2 / max(v, eps)) (+ 0.5 log(2 pi) if full)",
    follows="torch GaussianNLLLoss",
    params=(
        Param("eps", 1e-6, "floor of the variance, for stability", minimum=0.0, min_exclusive=True),
        Param("full", False, "add the constant 0.5 log(2 pi)", kind="bool"),
    ),
    properties=Properties(
        convex="in the mean yes; jointly in (mean, variance) no",
        robust="no: squared error divided by the variance, and tiny variances blow it up",
        expects="a mean and a non-negative variance per row",
        range="(-inf, inf): log v is negative for v < 1",
    ),
    when="Models that predict an uncertainty with each value (heteroscedastic regression, deep ensembles, "
    "mean-variance networks): it rewards calibrated variances and punishes over-confident ones. Without full "
    "the constant 0.5 log(2 pi) is left out, as torch.",
    # torch/nn/functional.py gaussian_nll_loss (torch 2.13): ValueError for var < 0, var.clamp_(min=eps),
    # 0.5 (log var + r^2 / var), + 0.5 log(2 pi) if full.
    conventions={"torch": torch_elementwise("Same formula as lossctl.")},
)
def gaussian_nll(target: np.ndarray, pred: np.ndarray, var: np.ndarray, *, eps: float, full: bool) -> np.ndarray:
    """``0.5 (log v + r^2 / v)`` with ``v = max(var, eps)``, plus ``0.5 log(2 pi)`` if ``full``.

    Domain: ``var >= 0`` (a negative variance is an input error, as torch's ValueError); ``y`` and
    ``p`` any. Follows torch ``GaussianNLLLoss``. Example: y = [0], p = [2], var = [e] gives
    0.5 (1 + 4/e) = 1.2357588...
    """
    at_least(var, 0.0, "var")
    variance = np.maximum(var, eps)
    residual = pred - target
    # r (r / v), not r^2 / v: r^2 overflows from |r| = 1.4e154 on, where the value may be finite (|r| = 1e200,
    # v = 1e300: 5e99); r (r / v) overflows only where the value does.
    loss = 0.5 * (np.log(variance) + residual * (residual / variance))
    return loss + 0.5 * math.log(2.0 * math.pi) if full else loss
