"""Write ``tests/reference/golden/regression.json``: reference values for the regression losses.

Run from the repository root with the reference libraries installed::

    .venv/bin/python tests/reference/generate_regression.py

Every expected value comes from a library (torch in float64, scikit-learn) or, where no installed
library has the loss, from a formula written here independently: Keras' documented formulas (Keras is
not a dependency; they are transcribed from ``keras/src/losses/losses.py``), the common sMAPE, and
log-cosh evaluated as ``log((e^r + e^-r) / 2)`` in 60-digit decimal arithmetic. Nothing is imported
from lossctl. Data come from ``numpy.random.default_rng`` with fixed seeds, so a rerun writes the same
file (unless a library's numbers change, which is what a rerun is for).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.special
import sklearn
import torch
import torch.nn.functional as F
from golden_file import add, write_golden
from sklearn import metrics

OUT = Path(__file__).parent / "golden" / "regression.json"
N = 16  # rows per random case: enough to exercise the reductions, small enough to commit
KERAS_EPSILON = 1e-7  # keras.backend.epsilon()
KERAS_SOURCE = "keras/src/losses/losses.py (keras-team/keras@702a71970049f5e8bcf68346ece3e41c3f76001e)"


def reduce_rows(rows: Sequence[float], weight: Sequence[float] | None, reduction: str, keras: bool = False) -> float:
    """Reduce reference rows exactly as the library would: the weighted mean sum(w l) / sum(w)
    (Keras: / n), or the weighted sum; math.fsum so the reference adds no rounding of its own."""
    w = [1.0] * len(rows) if weight is None else [float(v) for v in weight]
    total = math.fsum(wi * li for wi, li in zip(w, rows, strict=True))
    if reduction == "sum":
        return total
    return total / (len(rows) if keras else math.fsum(w))


# --- torch -------------------------------------------------------------------------------------


def tensor(values: Sequence[float] | np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=torch.float64)


def torch_case(
    case_id: str,
    loss: str,
    fn: Callable[..., torch.Tensor],
    reference: str,
    target: np.ndarray,
    pred: np.ndarray,
    *,
    var: np.ndarray | None = None,
    torch_kwargs: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    convention: str = "lossctl",
    weight: np.ndarray | None = None,
    reduction: str = "mean",
) -> None:
    """torch takes (input=pred, target[, var]); it has no sample weights, so a weighted case weights
    torch's reduction='none' values in torch (float64)."""
    args = [tensor(pred), tensor(target)] + ([] if var is None else [tensor(var)])
    kwargs = torch_kwargs or {}
    rows = fn(*args, reduction="none", **kwargs)
    if weight is None:
        value = fn(*args, reduction=reduction, **kwargs)
    else:
        w = tensor(weight)
        value = (w * rows).sum() if reduction == "sum" else (w * rows).sum() / w.sum()
        reference += " (reduction='none', weighted in torch)"
    inputs = {"target": target, "pred": pred} | ({} if var is None else {"var": var})
    add(
        loss,
        case_id,
        inputs,
        value.item(),
        rows.tolist(),
        reference,
        params=params,
        convention=convention,
        sample_weight=weight,
        reduction=reduction,
    )


# --- scikit-learn ------------------------------------------------------------------------------


def sklearn_case(
    case_id: str,
    loss: str,
    metric: Callable[..., float],
    target: np.ndarray,
    pred: np.ndarray,
    *,
    sk_kwargs: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    convention: str = "lossctl",
    weight: np.ndarray | None = None,
    reduction: str = "mean",
    per_row: bool = True,
) -> None:
    """The mean is sklearn's (with sample_weight); each row is sklearn on that one row; a ``sum``
    is the weighted sum of those rows (sklearn has no sum reduction)."""
    kwargs = sk_kwargs or {}
    rows = [metric([y], [p], **kwargs) for y, p in zip(target, pred, strict=True)] if per_row else None
    if reduction == "sum":
        value = reduce_rows(rows, weight, "sum")
    else:
        value = metric(target, pred, sample_weight=weight, **kwargs)
    add(
        loss,
        case_id,
        {"target": target, "pred": pred},
        value,
        rows,
        f"sklearn.metrics.{metric.__name__}" + (f" {kwargs}" if kwargs else ""),
        params=params,
        convention=convention,
        sample_weight=weight,
        reduction=reduction,
    )


# --- formulas written here ---------------------------------------------------------------------

_DEC = decimal.Context(prec=60, Emax=10**9, Emin=-(10**9))


def log_cosh_exact(r: float) -> float:
    """log(cosh r) from its definition, in 60-digit decimal: no cancellation or overflow to avoid."""
    e = _DEC.exp(_DEC.create_decimal(r))
    return float(_DEC.ln(_DEC.divide(_DEC.add(e, _DEC.divide(1, e)), 2)))


def gaussian_nll_exact(y: float, p: float, v: float) -> float:
    """torch's 0.5 (log v + r^2 / v), v = max(var, 1e-6), in 60-digit decimal: r^2 cannot overflow."""
    variance = _DEC.create_decimal(max(v, 1e-6))
    r = _DEC.subtract(_DEC.create_decimal(p), _DEC.create_decimal(y))
    return float(_DEC.divide(_DEC.add(_DEC.ln(variance), _DEC.divide(_DEC.multiply(r, r), variance)), 2))


def formula_case(
    case_id: str,
    loss: str,
    row: Callable[..., float],
    reference: str,
    inputs: dict[str, np.ndarray],
    *,
    params: dict[str, Any] | None = None,
    convention: str = "lossctl",
    weight: np.ndarray | None = None,
    reduction: str = "mean",
) -> None:
    """Rows from ``row(y, p[, v])`` in Python floats; Keras conventions divide the weighted sum by n."""
    keras = convention == "keras"
    columns = [inputs[role].tolist() for role in inputs]
    rows = [row(*values) for values in zip(*columns, strict=True)]
    value = reduce_rows(rows, weight, reduction, keras=keras)
    if keras:
        reference += "; Keras reduction sum_over_batch_size: sum(w l) / n"
    add(
        loss,
        case_id,
        inputs,
        value,
        rows,
        reference,
        params=params,
        convention=convention,
        sample_weight=weight,
        reduction=reduction,
    )


def keras_huber(delta: float) -> Callable[[float, float], float]:
    # Keras huber: where(|e| <= delta, 0.5 e^2, delta |e| - 0.5 delta^2), e = y_pred - y_true.
    def row(y: float, p: float) -> float:
        e = abs(p - y)
        return 0.5 * e * e if e <= delta else delta * e - 0.5 * delta * delta

    return row


def keras_mape(y: float, p: float) -> float:
    # Keras mean_absolute_percentage_error: 100 * abs((y_true - y_pred) / maximum(abs(y_true), epsilon)).
    return 100.0 * abs((y - p) / max(abs(y), KERAS_EPSILON))


def keras_msle(y: float, p: float) -> float:
    # Keras mean_squared_logarithmic_error: (log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2,
    # log(x + 1) evaluated as log1p (float64 arithmetic, the spec's convention policy).
    return (math.log1p(max(p, KERAS_EPSILON)) - math.log1p(max(y, KERAS_EPSILON))) ** 2


def keras_poisson(y: float, p: float) -> float:
    # Keras poisson: y_pred - y_true * log(y_pred + epsilon).
    return p - y * math.log(p + KERAS_EPSILON)


def smape_row(y: float, p: float) -> float:
    # The common sMAPE: |p - y| / ((|y| + |p|) / 2), defined as 0 when y = p = 0.
    denominator = (abs(y) + abs(p)) / 2.0
    return 0.0 if denominator == 0.0 else abs(p - y) / denominator


# --- data --------------------------------------------------------------------------------------


def real_data(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions on any real scale, with two outliers."""
    rng = np.random.default_rng(seed)
    target = rng.normal(0.0, 2.0, n)
    pred = target + rng.normal(0.0, 1.5, n)
    pred[:2] += np.array([9.0, -12.0])
    return target, pred


def count_data(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts (zeros included) and strictly positive rates."""
    rng = np.random.default_rng(seed)
    return rng.poisson(3.0, n).astype(np.float64), rng.gamma(2.0, 1.5, n)


def positive_data(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.gamma(2.0, 2.0, n), rng.gamma(2.0, 2.0, n)


def weights(seed: int, n: int = N) -> np.ndarray:
    w = np.random.default_rng(seed).uniform(0.1, 3.0, n)
    w[3] = 0.0  # a zero weight must drop its row
    return w


def million(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of +-1e6 (and ordinary ones) around targets of mixed sign."""
    target = np.array([0.0, 1.0, -3.0, 2.5, 1e6, -1e6, 0.25, 7.0])[:n]
    pred = target + np.array([1e6, -1e6, 1e6, -1e6, 0.5, -0.5, 2.0, -1e6])[:n]
    return target, pred


# --- the cases ---------------------------------------------------------------------------------


def regression_cases() -> None:
    y, p = real_data(1)
    w = weights(2)
    ym, pm = million()

    # mse / rmse: torch MSELoss, sklearn mean_squared_error / root_mean_squared_error.
    torch_case("mse-random", "mse", F.mse_loss, "torch.nn.functional.mse_loss", y, p)
    sklearn_case("mse-weighted", "mse", metrics.mean_squared_error, y, p, weight=w)
    torch_case("mse-sum", "mse", F.mse_loss, "torch.nn.functional.mse_loss", y, p, reduction="sum")
    torch_case("mse-torch", "mse", F.mse_loss, "torch.nn.functional.mse_loss", ym, pm, convention="torch")
    sklearn_case("mse-sklearn", "mse", metrics.mean_squared_error, y, p, weight=w, convention="sklearn")
    formula_case(
        "mse-keras-weighted",
        "mse",
        lambda a, b: (a - b) ** 2,
        f"Keras mean_squared_error, {KERAS_SOURCE}",
        {"target": y, "pred": p},
        convention="keras",
        weight=w,
    )
    rmse = metrics.root_mean_squared_error
    sklearn_case("rmse-random", "rmse", rmse, y, p, per_row=False)
    sklearn_case("rmse-weighted", "rmse", rmse, y, p, weight=w, per_row=False, convention="sklearn")

    # mae: torch L1Loss and sklearn mean_absolute_error.
    torch_case("mae-random", "mae", F.l1_loss, "torch.nn.functional.l1_loss", y, p)
    sklearn_case("mae-weighted", "mae", metrics.mean_absolute_error, y, p, weight=w)
    torch_case("mae-sum", "mae", F.l1_loss, "torch.nn.functional.l1_loss", y, p, reduction="sum")
    torch_case("mae-residual-1e6", "mae", F.l1_loss, "torch.nn.functional.l1_loss", ym, pm)
    torch_case("mae-torch", "mae", F.l1_loss, "torch.nn.functional.l1_loss", y, p, convention="torch")
    sklearn_case("mae-sklearn", "mae", metrics.mean_absolute_error, y, p, weight=w, convention="sklearn")
    formula_case(
        "mae-keras-weighted",
        "mae",
        lambda a, b: abs(a - b),
        f"Keras mean_absolute_error, {KERAS_SOURCE}",
        {"target": y, "pred": p},
        convention="keras",
        weight=w,
    )

    # huber: torch HuberLoss; scipy.special.huber as a second, independent implementation.
    torch_case("huber-random", "huber", F.huber_loss, "torch.nn.functional.huber_loss", y, p, params={"delta": 1.0})
    r = p - y
    rows = scipy.special.huber(2.0, r)
    add(
        "huber",
        "huber-random-scipy",
        {"target": y, "pred": p},
        reduce_rows(rows.tolist(), None, "mean"),
        rows.tolist(),
        "scipy.special.huber(delta, r)",
        params={"delta": 2.0},
    )
    at_delta_y = np.array([0.0, 0.0, 1.0, -2.0, 3.0, 0.0])
    at_delta_p = at_delta_y + np.array([1.5, -1.5, 1.5, -1.5, np.nextafter(1.5, 0.0), np.nextafter(1.5, 3.0)])
    torch_case(
        "huber-at-delta",
        "huber",
        F.huber_loss,
        "torch.nn.functional.huber_loss",
        at_delta_y,
        at_delta_p,
        torch_kwargs={"delta": 1.5},
        params={"delta": 1.5},
    )
    torch_case(
        "huber-weighted",
        "huber",
        F.huber_loss,
        "torch.nn.functional.huber_loss",
        y,
        p,
        torch_kwargs={"delta": 0.25},
        params={"delta": 0.25},
        weight=w,
    )
    torch_case(
        "huber-sum",
        "huber",
        F.huber_loss,
        "torch.nn.functional.huber_loss",
        y,
        p,
        torch_kwargs={"delta": 3.0},
        params={"delta": 3.0},
        reduction="sum",
    )
    torch_case("huber-residual-1e6", "huber", F.huber_loss, "torch.nn.functional.huber_loss", ym, pm)
    torch_case(
        "huber-torch",
        "huber",
        F.huber_loss,
        "torch.nn.functional.huber_loss",
        y,
        p,
        torch_kwargs={"delta": 2.0},
        params={"delta": 2.0},
        convention="torch",
    )
    formula_case(
        "huber-keras-weighted",
        "huber",
        keras_huber(1.0),
        f"Keras huber, {KERAS_SOURCE}",
        {"target": y, "pred": p},
        convention="keras",
        weight=w,
    )
    formula_case(
        "huber-keras-sum",
        "huber",
        keras_huber(0.5),
        f"Keras huber, {KERAS_SOURCE}",
        {"target": y, "pred": p},
        params={"delta": 0.5},
        convention="keras",
        weight=w,
        reduction="sum",
    )

    # smooth_l1: torch SmoothL1Loss (beta = 0 dispatches to l1_loss in torch).
    sl1 = "torch.nn.functional.smooth_l1_loss"
    torch_case("smooth_l1-random", "smooth_l1", F.smooth_l1_loss, sl1, y, p)
    at_beta_y = np.array([0.0, 0.0, 2.0, -1.0, 0.0, 0.0])
    at_beta_p = at_beta_y + np.array([0.5, -0.5, 0.5, -0.5, np.nextafter(0.5, 0.0), 0.1])
    torch_case(
        "smooth_l1-at-beta",
        "smooth_l1",
        F.smooth_l1_loss,
        sl1,
        at_beta_y,
        at_beta_p,
        torch_kwargs={"beta": 0.5},
        params={"beta": 0.5},
    )
    torch_case(
        "smooth_l1-beta-0",
        "smooth_l1",
        F.smooth_l1_loss,
        sl1,
        y,
        p,
        torch_kwargs={"beta": 0.0},
        params={"beta": 0.0},
    )
    torch_case(
        "smooth_l1-weighted",
        "smooth_l1",
        F.smooth_l1_loss,
        sl1,
        y,
        p,
        torch_kwargs={"beta": 2.0},
        params={"beta": 2.0},
        weight=w,
    )
    torch_case("smooth_l1-sum", "smooth_l1", F.smooth_l1_loss, sl1, y, p, reduction="sum")
    torch_case("smooth_l1-residual-1e6", "smooth_l1", F.smooth_l1_loss, sl1, ym, pm)
    torch_case(
        "smooth_l1-torch",
        "smooth_l1",
        F.smooth_l1_loss,
        sl1,
        y,
        p,
        torch_kwargs={"beta": 0.1},
        params={"beta": 0.1},
        convention="torch",
    )

    # log_cosh: no installed library has it (Keras LogCosh is the reference it follows).
    lc = "log((e^r + e^-r) / 2) in 60-digit decimal, r = p - y in float64"

    def lc_row(a: float, b: float) -> float:
        return log_cosh_exact(b - a)

    formula_case("log_cosh-random", "log_cosh", lc_row, lc, {"target": y, "pred": p})
    tiny = np.array([1e-8, -1e-8, 3e-12, 1e-5, -2.5e-4, 0.0, 0.1, 1.0])
    formula_case("log_cosh-tiny", "log_cosh", lc_row, lc, {"target": np.zeros(len(tiny)), "pred": tiny})
    huge = np.array([1e4, -1e4, 1e6, -1e6, 710.0, -711.5, 30.0, 19.0])
    formula_case("log_cosh-huge", "log_cosh", lc_row, lc, {"target": np.full(len(huge), 0.5), "pred": huge + 0.5})
    formula_case("log_cosh-weighted", "log_cosh", lc_row, lc, {"target": y, "pred": p}, weight=w)
    formula_case("log_cosh-sum", "log_cosh", lc_row, lc, {"target": ym, "pred": pm}, reduction="sum")
    formula_case(
        "log_cosh-keras-weighted",
        "log_cosh",
        lc_row,
        f"Keras log_cosh, {KERAS_SOURCE}: {lc}",
        {"target": y, "pred": p},
        convention="keras",
        weight=w,
    )

    # quantile: sklearn mean_pinball_loss(alpha=q).
    pin = metrics.mean_pinball_loss
    sklearn_case("quantile-median", "quantile", pin, y, p)
    for q in (0.9, 0.01, 0.99, 1e-6, 1.0 - 1e-6):
        sklearn_case(f"quantile-q{q:g}", "quantile", pin, y, p, sk_kwargs={"alpha": q}, params={"q": q})
    sklearn_case("quantile-weighted", "quantile", pin, y, p, sk_kwargs={"alpha": 0.25}, params={"q": 0.25}, weight=w)
    sklearn_case(
        "quantile-sum",
        "quantile",
        pin,
        y,
        p,
        sk_kwargs={"alpha": 0.75},
        params={"q": 0.75},
        weight=w,
        reduction="sum",
    )
    sklearn_case("quantile-residual-1e6", "quantile", pin, ym, pm, sk_kwargs={"alpha": 0.3}, params={"q": 0.3})
    sklearn_case(
        "quantile-sklearn", "quantile", pin, y, p, sk_kwargs={"alpha": 0.8}, params={"q": 0.8}, convention="sklearn"
    )

    # mape: sklearn mean_absolute_percentage_error (a fraction, eps = float64 machine epsilon).
    mape = metrics.mean_absolute_percentage_error
    ya, pa = real_data(3)
    ya = np.where(np.abs(ya) < 0.5, 0.5, ya)
    sklearn_case("mape-random", "mape", mape, ya, pa)
    yz = np.array([0.0, 0.0, 1.0, -2.0, 1e-20, 3.0])
    pz = np.array([0.0, 1e-3, 1.5, -1.0, 2.0, 0.0])
    sklearn_case("mape-zero-target", "mape", mape, yz, pz)
    sklearn_case("mape-weighted", "mape", mape, ya, pa, weight=w)
    sklearn_case("mape-sum", "mape", mape, ya, pa, reduction="sum")
    sklearn_case("mape-sklearn", "mape", mape, ya, pa, weight=w, convention="sklearn")
    formula_case(
        "mape-keras-weighted",
        "mape",
        keras_mape,
        f"Keras mean_absolute_percentage_error, {KERAS_SOURCE}",
        {"target": ya, "pred": pa},
        convention="keras",
        weight=w,
    )
    formula_case(
        "mape-keras-zero-target",
        "mape",
        keras_mape,
        f"Keras mean_absolute_percentage_error, {KERAS_SOURCE}",
        {"target": yz, "pred": pz},
        convention="keras",
    )

    # smape: no library; the common definition written above.
    sm = "sMAPE |p - y| / ((|y| + |p|) / 2), 0 at y = p = 0 (formula written in the generator)"
    formula_case("smape-random", "smape", smape_row, sm, {"target": y, "pred": p})
    formula_case("smape-zeros", "smape", smape_row, sm, {"target": yz, "pred": pz})
    formula_case("smape-weighted", "smape", smape_row, sm, {"target": ya, "pred": pa}, weight=w)
    formula_case("smape-sum", "smape", smape_row, sm, {"target": ym, "pred": pm}, reduction="sum")

    # msle / rmsle: sklearn mean_squared_log_error / root_mean_squared_log_error.
    msle, rmsle = metrics.mean_squared_log_error, metrics.root_mean_squared_log_error
    yc, pc = count_data(4)
    sklearn_case("msle-random", "msle", msle, yc, pc)
    yl = np.array([0.0, 0.0, -0.5, 3.0, -0.999, 1e6, 0.0, 2.0])
    pl = np.array([0.0, 4.0, 0.0, -0.25, 0.5, 2e6, 1e-12, -0.9])
    sklearn_case("msle-zeros-negatives", "msle", msle, yl, pl)
    sklearn_case("msle-weighted", "msle", msle, yc, pc, weight=w)
    sklearn_case("msle-sum", "msle", msle, yc, pc, weight=w, reduction="sum")
    sklearn_case("msle-sklearn", "msle", msle, yc, pc, convention="sklearn")
    formula_case(
        "msle-keras-weighted",
        "msle",
        keras_msle,
        f"Keras mean_squared_logarithmic_error, {KERAS_SOURCE}",
        {"target": yc, "pred": pc},
        convention="keras",
        weight=w,
    )
    yk = np.array([0.0, -0.5, -3.0, 1e-8, 2.0, 0.0])
    pk = np.array([-2.0, 1.0, 4.0, 0.0, -1.0, 1e-7])
    formula_case(
        "msle-keras-clipped",
        "msle",
        keras_msle,
        f"Keras mean_squared_logarithmic_error, {KERAS_SOURCE}",
        {"target": yk, "pred": pk},
        convention="keras",
    )
    sklearn_case("rmsle-random", "rmsle", rmsle, yc, pc, per_row=False)
    sklearn_case("rmsle-weighted", "rmsle", rmsle, yc, pc, weight=w, per_row=False)
    sklearn_case("rmsle-zeros-negatives", "rmsle", rmsle, yl, pl, per_row=False)
    sklearn_case("rmsle-sklearn", "rmsle", rmsle, yc, pc, weight=w, per_row=False, convention="sklearn")

    # poisson_nll: torch PoissonNLLLoss (torch's own default is log_input=True).
    pnll = "torch.nn.functional.poisson_nll_loss"
    rates = {"log_input": False}
    torch_case("poisson_nll-rates", "poisson_nll", F.poisson_nll_loss, pnll, yc, pc, torch_kwargs=rates, params=rates)
    y0 = np.array([0.0, 3.0, 0.0, 1.0, 2.0, 5.0])
    p0 = np.array([0.0, 0.0, 2.0, 1e-12, 1.0, 5.0])
    torch_case(
        "poisson_nll-zero-pred", "poisson_nll", F.poisson_nll_loss, pnll, y0, p0, torch_kwargs=rates, params=rates
    )
    torch_case(
        "poisson_nll-zero-pred-eps",
        "poisson_nll",
        F.poisson_nll_loss,
        pnll,
        y0,
        p0,
        torch_kwargs={"log_input": False, "eps": 1e-3},
        params={"log_input": False, "eps": 1e-3},
    )
    x = np.random.default_rng(5).normal(0.5, 1.5, N)
    x[:3] = [-30.0, 25.0, 0.0]
    logs = {"log_input": True}
    torch_case("poisson_nll-log-input", "poisson_nll", F.poisson_nll_loss, pnll, yc, x, torch_kwargs=logs, params=logs)
    yf = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 10.0, 3.0, 100.0])
    pf = np.array([0.5, 0.5, 2.0, 1.0, 2.0, 8.0, 0.0, 90.0])
    full = {"log_input": False, "full": True}
    torch_case("poisson_nll-full", "poisson_nll", F.poisson_nll_loss, pnll, yf, pf, torch_kwargs=full, params=full)
    full_log = {"log_input": True, "full": True}
    torch_case(
        "poisson_nll-full-log-input",
        "poisson_nll",
        F.poisson_nll_loss,
        pnll,
        yf,
        np.log(pf + 0.1),
        torch_kwargs=full_log,
        params=full_log,
    )
    torch_case(
        "poisson_nll-weighted",
        "poisson_nll",
        F.poisson_nll_loss,
        pnll,
        yc,
        pc,
        torch_kwargs=rates,
        params=rates,
        weight=w,
    )
    torch_case(
        "poisson_nll-sum",
        "poisson_nll",
        F.poisson_nll_loss,
        pnll,
        yc,
        x,
        torch_kwargs=logs,
        params=logs,
        reduction="sum",
    )
    torch_case(
        "poisson_nll-torch-default",
        "poisson_nll",
        F.poisson_nll_loss,
        pnll + " with torch's defaults",
        yc,
        x,
        convention="torch",
    )
    formula_case(
        "poisson_nll-keras-weighted",
        "poisson_nll",
        keras_poisson,
        f"Keras poisson, {KERAS_SOURCE}",
        {"target": yc, "pred": pc},
        convention="keras",
        weight=w,
    )
    formula_case(
        "poisson_nll-keras-zero-pred",
        "poisson_nll",
        keras_poisson,
        f"Keras poisson, {KERAS_SOURCE}",
        {"target": y0, "pred": p0},
        convention="keras",
    )

    # poisson_deviance / tweedie_deviance: sklearn.
    pdev, tdev = metrics.mean_poisson_deviance, metrics.mean_tweedie_deviance
    sklearn_case("poisson_deviance-random", "poisson_deviance", pdev, yc, pc)
    yd = np.array([0.0, 0.0, 1.0, 4.0, 1e-300, 50.0])
    pd = np.array([1e-3, 2.0, 1.0, 1.0, 3.0, 49.0])
    sklearn_case("poisson_deviance-zeros", "poisson_deviance", pdev, yd, pd)
    sklearn_case("poisson_deviance-weighted", "poisson_deviance", pdev, yc, pc, weight=w)
    sklearn_case("poisson_deviance-sum", "poisson_deviance", pdev, yc, pc, reduction="sum")
    sklearn_case("poisson_deviance-sklearn", "poisson_deviance", pdev, yc, pc, weight=w, convention="sklearn")

    yg, pg = positive_data(6)
    yr, _ = real_data(7)
    for power, target, pred in (
        (0.0, y, p),
        (1.0, yc, pc),
        (1.5, yc, pc),
        (1.2, yd, pd),
        (2.0, yg, pg),
        (3.0, yg, pg),
        (2.5, yg, pg),
        (-1.0, yr, pg),
        (-0.5, yr, pg),
    ):
        sklearn_case(
            f"tweedie_deviance-power{power:g}",
            "tweedie_deviance",
            tdev,
            target,
            pred,
            sk_kwargs={"power": power},
            params={"power": power},
        )
    sklearn_case("tweedie_deviance-weighted", "tweedie_deviance", tdev, yc, pc, sk_kwargs={"power": 1.5}, weight=w)
    sklearn_case(
        "tweedie_deviance-sum",
        "tweedie_deviance",
        tdev,
        yg,
        pg,
        sk_kwargs={"power": 3.0},
        params={"power": 3.0},
        weight=w,
        reduction="sum",
    )
    sklearn_case("tweedie_deviance-sklearn-default", "tweedie_deviance", tdev, y, p, convention="sklearn")
    sklearn_case(
        "tweedie_deviance-sklearn-power2",
        "tweedie_deviance",
        tdev,
        yg,
        pg,
        sk_kwargs={"power": 2.0},
        params={"power": 2.0},
        convention="sklearn",
    )

    # gaussian_nll: torch GaussianNLLLoss.
    gnll = "torch.nn.functional.gaussian_nll_loss"
    v = np.random.default_rng(8).uniform(0.05, 4.0, N)
    torch_case("gaussian_nll-random", "gaussian_nll", F.gaussian_nll_loss, gnll, y, p, var=v)
    torch_case(
        "gaussian_nll-full",
        "gaussian_nll",
        F.gaussian_nll_loss,
        gnll,
        y,
        p,
        var=v,
        torch_kwargs={"full": True},
        params={"full": True},
    )
    yv = np.array([0.0, 1.0, -2.0, 0.5, 3.0, 0.0])
    pv = np.array([0.0, 1.001, -2.0, 0.0, 2.0, 1e-4])
    vv = np.array([0.0, 1e-9, 1e-7, 1e-6, 2e-6, 0.0])
    torch_case("gaussian_nll-var-below-eps", "gaussian_nll", F.gaussian_nll_loss, gnll, yv, pv, var=vv)
    torch_case(
        "gaussian_nll-var-below-eps-full",
        "gaussian_nll",
        F.gaussian_nll_loss,
        gnll,
        yv,
        pv,
        var=vv,
        torch_kwargs={"full": True, "eps": 1e-3},
        params={"full": True, "eps": 1e-3},
    )
    # Residuals of 1e150..1e200 over large variances: r^2 overflows float64 (torch: inf), r^2 / v does not.
    formula_case(
        "gaussian_nll-residual-1e200",
        "gaussian_nll",
        gaussian_nll_exact,
        "0.5 (ln max(v, 1e-6) + r^2 / max(v, 1e-6)) in 60-digit decimal (torch.nn.functional.gaussian_nll_loss's "
        "formula; torch's float64 r^2 overflows here)",
        {
            "target": np.array([0.0, 1e150, 0.0, -3.0]),
            "pred": np.array([1e200, 0.0, 1e-300, 1e160]),
            "var": np.array([1e300, 1e301, 1e-300, 1e305]),
        },
    )
    torch_case("gaussian_nll-weighted", "gaussian_nll", F.gaussian_nll_loss, gnll, y, p, var=v, weight=w)
    torch_case("gaussian_nll-sum", "gaussian_nll", F.gaussian_nll_loss, gnll, y, p, var=v, reduction="sum")
    torch_case(
        "gaussian_nll-torch",
        "gaussian_nll",
        F.gaussian_nll_loss,
        gnll,
        ym,
        pm,
        var=np.full(len(ym), 2.5),
        convention="torch",
    )


def multioutput_cases() -> None:
    """scikit-learn's multioutput on K = 3 output columns: uniform_average and raw_values (lossctl's uniform and
    raw); without the parameter lossctl pools every element, which is sklearn's metric on the raveled arrays."""
    rng = np.random.default_rng(1405)
    n, k = 12, 3
    scale = np.array([1.0, 10.0, 100.0])
    y = rng.normal(size=(n, k)) * scale
    p = y + rng.normal(size=(n, k)) * scale * 0.3
    y_pos, p_pos = np.abs(y) + 0.5, np.abs(p) + 0.5
    w = rng.uniform(0.5, 2.0, n)
    cases: list[tuple[str, Callable[..., Any], dict[str, Any], dict[str, Any], np.ndarray, np.ndarray]] = [
        ("mse", metrics.mean_squared_error, {}, {}, y, p),
        ("rmse", metrics.root_mean_squared_error, {}, {}, y, p),
        ("mae", metrics.mean_absolute_error, {}, {}, y, p),
        ("quantile", metrics.mean_pinball_loss, {"alpha": 0.8}, {"q": 0.8}, y, p),
        ("mape", metrics.mean_absolute_percentage_error, {}, {}, y, p),
        ("msle", metrics.mean_squared_log_error, {}, {}, y_pos, p_pos),
        ("rmsle", metrics.root_mean_squared_log_error, {}, {}, y_pos, p_pos),
    ]
    for loss, metric, sk_kwargs, params, target, pred in cases:
        ref = f"sklearn.metrics.{metric.__name__}"
        inputs = {"target": target, "pred": pred}
        for mode, sk_mode in (("uniform", "uniform_average"), ("raw", "raw_values")):
            for weight in (None, w):
                value = metric(target, pred, multioutput=sk_mode, sample_weight=weight, **sk_kwargs)
                suffix = "-weighted" if weight is not None else ""
                add(loss, f"{loss}-multioutput-{mode}{suffix}", inputs, value, None, f"{ref}(multioutput='{sk_mode}')",
                    params=params | {"multioutput": mode}, sample_weight=weight)  # fmt: skip
        pooled = metric(target.ravel(), pred.ravel(), **sk_kwargs)
        add(loss, f"{loss}-multioutput-pooled", inputs, pooled, None, f"{ref} on the raveled N x K elements",
            params=params)  # fmt: skip
    # scikit-learn's roots default to multioutput='uniform_average' (the --convention sklearn default).
    for loss, metric, target, pred in (
        ("rmse", metrics.root_mean_squared_error, y, p),
        ("rmsle", metrics.root_mean_squared_log_error, y_pos, p_pos),
    ):
        add(loss, f"{loss}-multioutput-sklearn-default", {"target": target, "pred": pred},
            metric(target, pred, sample_weight=w), None, f"sklearn.metrics.{metric.__name__} (default multioutput)",
            convention="sklearn", sample_weight=w)  # fmt: skip
    # torch's reduction='sum' adds all N K element losses (lossctl and Keras add each row's mean over its outputs).
    torch_sums: list[tuple[str, Callable[..., torch.Tensor], dict[str, Any], np.ndarray, np.ndarray]] = [
        ("mse", F.mse_loss, {}, y, p),
        ("mae", F.l1_loss, {}, y, p),
        ("huber", F.huber_loss, {"delta": 5.0}, y, p),
        ("smooth_l1", F.smooth_l1_loss, {"beta": 5.0}, y, p),
        ("poisson_nll", F.poisson_nll_loss, {}, y_pos, np.log(p_pos)),
    ]
    for loss, function, params, target, pred in torch_sums:
        elements = function(tensor(pred), tensor(target), reduction="none", **params).numpy()
        add(loss, f"{loss}-multioutput-torch-sum", {"target": target, "pred": pred}, float(elements.sum()),
            elements.mean(axis=1), f"torch.nn.functional.{function.__name__}(reduction='sum'): the sum over N x K",
            params=params, convention="torch", reduction="sum")  # fmt: skip
    var = np.abs(rng.normal(size=(n, 1))) + 0.1
    elements = F.gaussian_nll_loss(tensor(p), tensor(y), tensor(var), reduction="none").numpy()
    total = float(F.gaussian_nll_loss(tensor(p), tensor(y), tensor(var), reduction="sum"))
    add("gaussian_nll", "gaussian_nll-multioutput-torch-sum", {"target": y, "pred": p, "var": var[:, 0]}, total,
        elements.mean(axis=1), "torch.nn.functional.gaussian_nll_loss(reduction='sum'), one variance per row",
        convention="torch", reduction="sum")  # fmt: skip


def main() -> None:
    regression_cases()
    multioutput_cases()
    write_golden(
        OUT,
        "tests/reference/generate_regression.py",
        {
            "scikit-learn": sklearn.__version__,
            "scipy": scipy.__version__,
            "keras": f"not installed: formulas transcribed from {KERAS_SOURCE}",
        },
    )


if __name__ == "__main__":
    main()
