"""Write tests/reference/golden/binary.json: reference values of the binary-classification losses.

Run from the repository root::

    .venv/bin/python tests/reference/generate_binary.py

Every value comes from a library evaluated in float64 -- torch (``BCELoss``, ``BCEWithLogitsLoss``,
``MultiMarginLoss``), scikit-learn (``log_loss``, ``brier_score_loss``, ``hinge_loss``) -- or, where the
library is not installed here, from its formula written out below from its source:

- torchvision ``sigmoid_focal_loss``: pytorch/vision torchvision/ops/focal_loss.py (commit 148ddaaa5d27);
- Keras ``BinaryCrossentropy`` / ``BinaryFocalCrossentropy`` / ``Hinge`` / ``SquaredHinge``:
  keras-team/keras keras/src/losses/losses.py and keras/src/backend/tensorflow/nn.py (Keras 3).

This module imports nothing from lossctl. Inputs are drawn from ``numpy.random.default_rng`` with fixed seeds.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import sklearn
import torch
from golden_file import add, add_pair, write_golden
from sklearn.metrics import brier_score_loss, hinge_loss, log_loss

OUT = Path(__file__).parent / "golden" / "binary.json"
F64 = torch.float64
KERAS_EPSILON = 1e-7  # keras.backend.epsilon()
MACHINE_EPS = float(np.finfo(np.float64).eps)


def t(values: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=F64)


def weighted_mean(per_sample: np.ndarray, weight: np.ndarray | None) -> float:
    if weight is None:
        return float(np.mean(per_sample))
    return float(np.sum(weight * per_sample) / np.sum(weight))


def smooth(y: np.ndarray, eps: float) -> np.ndarray:
    # Keras: y_true * (1 - label_smoothing) + 0.5 * label_smoothing
    return y * (1.0 - eps) + 0.5 * eps


# --- scikit-learn ------------------------------------------------------------------------------------------------


def sk_log_loss_rows(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.array([log_loss([yi], [pi], labels=[0, 1]) for yi, pi in zip(y, p, strict=True)])


def sk_brier_rows(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.array([brier_score_loss([yi], [pi], pos_label=1) for yi, pi in zip(y, p, strict=True)])


def sk_hinge_rows(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    # One-hot sample weights pick row i out of hinge_loss's weighted average while it still sees every label.
    eye = np.eye(len(y))
    return np.array([hinge_loss(y, x, sample_weight=eye[i]) for i in range(len(y))])


# --- torch -------------------------------------------------------------------------------------------------------


def torch_bce(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None, reduction: str = "none") -> Any:
    out = torch.nn.BCELoss(weight=None if weight is None else t(weight), reduction=reduction)(t(p), t(y))
    return out.numpy() if reduction == "none" else float(out)


def torch_bce_logits(
    y: np.ndarray, x: np.ndarray, pos_weight: float | None = None, weight: np.ndarray | None = None, reduction="none"
) -> Any:
    module = torch.nn.BCEWithLogitsLoss(
        weight=None if weight is None else t(weight),
        pos_weight=None if pos_weight is None else torch.tensor(pos_weight, dtype=F64),
        reduction=reduction,
    )
    out = module(t(x), t(y))
    return out.numpy() if reduction == "none" else float(out)


def torch_margin_rows(y_sign: np.ndarray, x: np.ndarray, margin: float, power: int) -> np.ndarray:
    """Binary (squared) hinge through torch MultiMarginLoss on the two columns (-x/2, x/2).

    With K = 2 columns, MultiMarginLoss is max(0, margin - x_c + x_k)^p / 2 and x_c - x_k = t x exactly.
    """
    columns = t(np.stack([-x / 2.0, x / 2.0], axis=1))
    classes = torch.tensor((y_sign > 0).astype(np.int64))
    module = torch.nn.MultiMarginLoss(p=power, margin=margin, reduction="none")
    return 2.0 * module(columns, classes).numpy()


def torchvision_focal_rows(y: np.ndarray, x: np.ndarray, alpha: float, gamma: float) -> np.ndarray:
    # pytorch/vision torchvision/ops/focal_loss.py sigmoid_focal_loss, reduction="none", line by line.
    inputs, targets = t(x), t(y)
    p = torch.sigmoid(inputs)
    ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.numpy()


def focal_probability_rows(y: np.ndarray, p: np.ndarray, ce: np.ndarray, alpha: float, gamma: float) -> np.ndarray:
    """torchvision's focal formula with p given and the cross-entropy term ``ce`` computed by a library."""
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss


# --- Keras, written from keras/src/losses/losses.py and keras/src/backend/tensorflow/nn.py ------------------------


def keras_bce_rows(y: np.ndarray, p: np.ndarray, label_smoothing: float = 0.0) -> np.ndarray:
    # losses.binary_crossentropy smooths y; backend binary_crossentropy clips output to [eps, 1 - eps] and returns
    # -(target * log(output) + (1 - target) * log(1 - output)).
    y = smooth(y, label_smoothing) if label_smoothing else y
    output = np.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    bce = y * np.log(output)
    bce += (1 - y) * np.log(1 - output)
    return -bce


def keras_bce_logits_rows(y: np.ndarray, x: np.ndarray, label_smoothing: float = 0.0) -> np.ndarray:
    # from_logits=True: tf.nn.sigmoid_cross_entropy_with_logits, documented as max(x, 0) - x * z + log(1 + exp(-|x|)).
    z = smooth(y, label_smoothing) if label_smoothing else y
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def keras_hinge_labels(y: np.ndarray) -> np.ndarray:
    # convert_binary_labels_to_hinge: 2y - 1 when every label is 0 or 1, else unchanged.
    return 2.0 * y - 1.0 if np.all((y == 0) | (y == 1)) else y


def keras_hinge_rows(y: np.ndarray, x: np.ndarray, squared: bool = False) -> np.ndarray:
    rows = np.maximum(1.0 - keras_hinge_labels(y) * x, 0.0)
    return rows * rows if squared else rows


def keras_focal_rows(
    y: np.ndarray, pred: np.ndarray, *, apply_class_balancing: bool, alpha: float, gamma: float, from_logits: bool
) -> np.ndarray:
    # losses.binary_focal_crossentropy: sigmoid first when from_logits, then the clipped probability BCE.
    y_pred = torch.sigmoid(t(pred)).numpy() if from_logits else pred
    bce = keras_bce_rows(y, y_pred)
    p_t = y * y_pred + (1 - y) * (1 - y_pred)
    focal_bce = np.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y * alpha + (1 - y) * (1 - alpha)) * focal_bce
    return focal_bce


def keras_mean(per_sample: np.ndarray, weight: np.ndarray | None) -> float:
    # reduction="sum_over_batch_size": sum(w * l) / number of rows.
    w = np.ones_like(per_sample) if weight is None else weight
    return float(np.sum(w * per_sample) / len(per_sample))


# --- the cases ---------------------------------------------------------------------------------------------------

LABELS = [0, 1]


def bce_cases(rng: np.random.Generator) -> None:
    case = partial(add_pair, "bce")
    n = 24
    y = rng.integers(0, 2, n).astype(np.float64)
    p = rng.uniform(0.01, 0.99, n)
    w = rng.uniform(0.1, 3.0, n)
    y_soft = rng.uniform(0.0, 1.0, n)
    rows = sk_log_loss_rows(y, p)
    ref = "sklearn.metrics.log_loss(labels=[0, 1])"
    mean = log_loss(y, p, labels=LABELS)
    case("bce-random", y, p, mean, rows, ref)
    case("bce-sklearn", y, p, mean, rows, ref, convention="sklearn")
    case("bce-label-smoothing-zero", y, p, mean, rows, ref, params={"label_smoothing": 0.0})
    add_pair("log_loss", "bce-alias-log-loss", y, p, mean, rows, ref)
    weighted = log_loss(y, p, labels=LABELS, sample_weight=w)
    case("bce-weighted", y, p, weighted, rows, ref + ", sample_weight", sample_weight=w)
    total = log_loss(y, p, labels=LABELS, normalize=False)
    case("bce-sum", y, p, total, rows, ref + ", normalize=False", reduction="sum")
    total = log_loss(y, p, labels=LABELS, normalize=False, sample_weight=w)
    case(
        "bce-sum-weighted",
        y,
        p,
        total,
        rows,
        ref + ", normalize=False, sample_weight",
        sample_weight=w,
        reduction="sum",
    )

    # Clipping: p exactly 0 and 1, within eps of 0 and 1, and 1 - p rounding (1 - 2^-53 must clip to 1 - eps).
    y_edge = np.array([0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0], dtype=np.float64)
    p_edge = np.array(
        [0, 0, 1, 1, 1 - 2.0**-53, 2.0**-53, 1e-300, 1e-300, 1 - MACHINE_EPS, 1 - MACHINE_EPS, 0.5, 1e-17]
    )
    mean = log_loss(y_edge, p_edge, labels=LABELS)
    case("bce-clipping-edges", y_edge, p_edge, mean, sk_log_loss_rows(y_edge, p_edge), ref + ", p = 0 and 1")
    # A larger eps: sklearn removed its eps parameter, so its clipping rule is written out, with eps = 1e-7.
    e = 1e-7
    rows_e = -(y_edge * np.log(np.clip(p_edge, e, 1 - e)) + (1 - y_edge) * np.log(np.clip(1 - p_edge, e, 1 - e)))
    ref_e = "sklearn log_loss clipping rule ([1 - p, p] clipped to [eps, 1 - eps]) written out with eps=1e-7"
    case("bce-eps-1e-7", y_edge, p_edge, float(np.mean(rows_e)), rows_e, ref_e, params={"eps": e})

    soft_rows = torch_bce(y_soft, p)
    ref_soft = "torch.nn.BCELoss float64 (p in [0.01, 0.99]: neither the -100 cap nor the eps clip acts)"
    case("bce-soft-targets", y_soft, p, float(np.mean(soft_rows)), soft_rows, ref_soft)
    for e, target, name in ((0.1, y, "hard"), (0.3, y_soft, "soft")):
        rows_e = torch_bce(smooth(target, e), p)
        ref_e = f"torch.nn.BCELoss float64 on targets smoothed as Keras (e={e:g}), sum(w l) / sum(w)"
        params = {"label_smoothing": e}
        case(
            f"bce-label-smoothing-{name}",
            target,
            p,
            weighted_mean(rows_e, w),
            rows_e,
            ref_e,
            params=params,
            sample_weight=w,
        )

    # torch: no clipping, each log capped at -100; BCELoss(weight=w) divides sum(w l) by the row count.
    y_t = np.concatenate([y_edge, y[:8]])
    p_t = np.concatenate([[0, 0, 1, 1, 1e-50, 1e-50, 1 - 1e-16, 1 - 1e-16, 0.5, 0.5, 1e-17, 1e-17], p[:8]])
    w_t = w[:20]
    rows_t = torch_bce(y_t, p_t)
    ref_t = "torch.nn.BCELoss float64"
    torch_case = partial(case, convention="torch")
    torch_case("bce-torch", y_t, p_t, torch_bce(y_t, p_t, reduction="mean"), rows_t, ref_t)
    mean = torch_bce(y_t, p_t, weight=w_t, reduction="mean")
    torch_case("bce-torch-weighted", y_t, p_t, mean, rows_t, ref_t + "(weight=w): sum(w l) / n", sample_weight=w_t)
    total = torch_bce(y_t, p_t, weight=w_t, reduction="sum")
    ref_sum = ref_t + "(weight=w, reduction='sum')"
    torch_case("bce-torch-sum-weighted", y_t, p_t, total, rows_t, ref_sum, sample_weight=w_t, reduction="sum")
    # torch's BCELoss has no label smoothing: lossctl refuses it under --convention torch.

    # Keras: p clipped to [1e-7, 1 - 1e-7], log(1 - clipped p); the weighted mean divides by the row count.
    rows_k = keras_bce_rows(y_t, p_t)
    ref_k = "Keras BinaryCrossentropy formula (losses.py, backend/tensorflow/nn.py), sum_over_batch_size"
    keras_case = partial(case, convention="keras")
    keras_case("bce-keras", y_t, p_t, keras_mean(rows_k, None), rows_k, ref_k)
    keras_case("bce-keras-weighted", y_t, p_t, keras_mean(rows_k, w_t), rows_k, ref_k, sample_weight=w_t)
    keras_case(
        "bce-keras-sum", y_t, p_t, float(np.sum(w_t * rows_k)), rows_k, ref_k, sample_weight=w_t, reduction="sum"
    )
    rows_s = keras_bce_rows(y_t, p_t, label_smoothing=0.2)
    params = {"label_smoothing": 0.2}
    keras_case(
        "bce-keras-label-smoothing", y_t, p_t, keras_mean(rows_s, w_t), rows_s, ref_k, params=params, sample_weight=w_t
    )


def bce_logits_cases(rng: np.random.Generator) -> None:
    case = partial(add_pair, "bce_logits")
    n = 24
    y = rng.integers(0, 2, n).astype(np.float64)
    x = rng.normal(0.0, 3.0, n)
    w = rng.uniform(0.1, 3.0, n)
    y_soft = rng.uniform(0.0, 1.0, n)
    ref = "torch.nn.BCEWithLogitsLoss float64"
    rows = torch_bce_logits(y, x)
    case("bce-logits-random", y, x, torch_bce_logits(y, x, reduction="mean"), rows, ref)
    case("bce-logits-weighted", y, x, weighted_mean(rows, w), rows, ref + ", sum(w l) / sum(w)", sample_weight=w)

    # Logits of +-1e4 (and +-500), hard and soft targets. x = -500 with y = 0 is left out: torch's
    # (1 - y) x - log_sigmoid(x) cancels to 0 there, where the exact value is 7e-218.
    y_edge = np.array([1, 1, 0, 0, 0.3, 0.3, 1, 0, 0, 1, 1, 0.5])
    x_edge = np.array([1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 0, 0, 500, -500, 500, 0])
    rows_edge = torch_bce_logits(y_edge, x_edge)
    case("bce-logits-extreme", y_edge, x_edge, float(np.mean(rows_edge)), rows_edge, ref)
    case("bce-logits-torch", y_edge, x_edge, float(np.mean(rows_edge)), rows_edge, ref, convention="torch")
    y_pw, x_pw = np.concatenate([y_edge, y[:12]]), np.concatenate([x_edge, x[:12]])
    for pw in (3.0, 0.5):
        mean = torch_bce_logits(y_pw, x_pw, pos_weight=pw, reduction="mean")
        rows_pw = torch_bce_logits(y_pw, x_pw, pos_weight=pw)
        case(
            f"bce-logits-pos-weight-{pw:g}",
            y_pw,
            x_pw,
            mean,
            rows_pw,
            ref + f"(pos_weight={pw:g})",
            params={"pos_weight": pw},
        )

    rows_soft = torch_bce_logits(y_soft, x)
    case("bce-logits-soft-targets", y_soft, x, float(np.mean(rows_soft)), rows_soft, ref)
    rows_s = torch_bce_logits(smooth(y, 0.2), x)
    ref_s = ref + " on targets smoothed as Keras"
    case("bce-logits-label-smoothing", y, x, float(np.mean(rows_s)), rows_s, ref_s, params={"label_smoothing": 0.2})

    pw2 = {"pos_weight": 2.0}
    rows_pw = torch_bce_logits(y, x, pos_weight=2.0)
    total = torch_bce_logits(y, x, pos_weight=2.0, weight=w, reduction="sum")
    ref_sum = ref + "(weight=w, pos_weight=2, reduction='sum')"
    case("bce-logits-sum-weighted", y, x, total, rows_pw, ref_sum, params=pw2, sample_weight=w, reduction="sum")
    # torch: BCEWithLogitsLoss(weight=w) divides sum(w l) by the row count.
    mean = torch_bce_logits(y, x, pos_weight=2.0, weight=w, reduction="mean")
    ref_tw = ref + "(weight=w, pos_weight=2): sum(w l) / n"
    case("bce-logits-torch-weighted", y, x, mean, rows_pw, ref_tw, convention="torch", params=pw2, sample_weight=w)

    rows_k = keras_bce_logits_rows(y_edge, x_edge, label_smoothing=0.1)
    ref_k = "Keras BinaryCrossentropy(from_logits=True, label_smoothing=0.1) formula, sum_over_batch_size"
    w_k, params = w[:12], {"label_smoothing": 0.1}
    mean = keras_mean(rows_k, w_k)
    case("bce-logits-keras", y_edge, x_edge, mean, rows_k, ref_k, convention="keras", params=params, sample_weight=w_k)


def brier_cases(rng: np.random.Generator) -> None:
    case = partial(add_pair, "brier")
    n = 24
    y = rng.integers(0, 2, n).astype(np.float64)
    p = rng.uniform(0.0, 1.0, n)
    w = rng.uniform(0.1, 3.0, n)
    ref = "sklearn.metrics.brier_score_loss"
    rows = sk_brier_rows(y, p)
    case("brier-random", y, p, brier_score_loss(y, p), rows, ref)
    case("brier-sklearn", y, p, brier_score_loss(y, p), rows, ref, convention="sklearn")
    case(
        "brier-weighted", y, p, brier_score_loss(y, p, sample_weight=w), rows, ref + ", sample_weight", sample_weight=w
    )
    total = math.fsum(w * rows)
    case("brier-sum-weighted", y, p, total, rows, ref + " per row, weighted sum", sample_weight=w, reduction="sum")
    ones = np.ones(8)
    p8 = np.array([0.0, 1.0, 0.5, 0.25, 0.9, 1e-9, 0.999, 0.1])
    case("brier-single-class", ones, p8, brier_score_loss(ones, p8), sk_brier_rows(ones, p8), ref + ", every label 1")
    y8 = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=np.float64)
    case("brier-edges", y8, p8, brier_score_loss(y8, p8), sk_brier_rows(y8, p8), ref)


def hinge_cases(rng: np.random.Generator) -> None:
    case = partial(add_pair, "hinge")
    n = 24
    y01 = rng.integers(0, 2, n).astype(np.float64)
    x = rng.normal(0.0, 1.5, n)
    w = rng.uniform(0.1, 3.0, n)
    y_pm = 2.0 * rng.integers(0, 2, n) - 1.0
    ref = "sklearn.metrics.hinge_loss"
    rows01 = sk_hinge_rows(y01, x)
    rows_pm = sk_hinge_rows(y_pm, x)
    # Cross-check: torch MultiMarginLoss reads the same labels the same way.
    for rows, signs in ((rows01, 2 * y01 - 1), (rows_pm, y_pm)):
        assert np.allclose(rows, torch_margin_rows(signs, x, 1.0, 1), rtol=1e-14, atol=0), "sklearn and torch disagree"
    case("hinge-labels-01", y01, x, hinge_loss(y01, x), rows01, ref + ", labels 0/1")
    case("hinge-labels-pm1", y_pm, x, hinge_loss(y_pm, x), rows_pm, ref + ", labels -1/1")
    case("hinge-sklearn", y01, x, hinge_loss(y01, x), rows01, ref, convention="sklearn")
    mean = hinge_loss(y_pm, x, sample_weight=w)
    case("hinge-weighted", y_pm, x, mean, rows_pm, ref + ", sample_weight", sample_weight=w)
    total = math.fsum(w * rows01)
    case("hinge-sum-weighted", y01, x, total, rows01, ref + " per row, weighted sum", sample_weight=w, reduction="sum")
    for m in (2.0, 0.5):
        # max(0, m - t x) = m max(0, 1 - t (x / m)); m = 2 and 0.5 scale exactly in binary floating point.
        rows_m = m * sk_hinge_rows(y01, x / m)
        ref_m = ref + f" on x / {m:g}, times {m:g}"
        case(f"hinge-margin-{m:g}", y01, x, m * hinge_loss(y01, x / m), rows_m, ref_m, params={"margin": m})
    # A single class: sklearn reads every row as the negative class, so the all-ones column comes from torch.
    ones, zeros, x8 = np.ones(8), np.zeros(8), x[:8]
    rows_1 = torch_margin_rows(ones, x8, 1.0, 1)
    ref_1 = "torch.nn.MultiMarginLoss(p=1) on the columns (-x/2, x/2), times 2 (t = +1)"
    case("hinge-single-class-ones", ones, x8, float(np.mean(rows_1)), rows_1, ref_1)
    rows_0 = sk_hinge_rows(zeros, x8)
    case("hinge-single-class-zeros", zeros, x8, hinge_loss(zeros, x8), rows_0, ref + ", every label 0")
    rows_k = keras_hinge_rows(y01, x)
    ref_k = "Keras Hinge formula (convert_binary_labels_to_hinge), sum_over_batch_size"
    case("hinge-keras", y01, x, keras_mean(rows_k, w), rows_k, ref_k, convention="keras", sample_weight=w)


def squared_hinge_cases(rng: np.random.Generator) -> None:
    case = partial(add_pair, "squared_hinge")
    n = 24
    y01 = rng.integers(0, 2, n).astype(np.float64)
    x = rng.normal(0.0, 1.5, n)
    w = rng.uniform(0.1, 3.0, n)
    y_pm = 2.0 * rng.integers(0, 2, n) - 1.0
    ref = "torch.nn.MultiMarginLoss(p=2) on the columns (-x/2, x/2), times 2"
    for name, y in (("01", y01), ("pm1", y_pm)):
        rows = torch_margin_rows(keras_hinge_labels(y), x, 1.0, 2)
        assert np.allclose(rows, keras_hinge_rows(y, x, squared=True), rtol=1e-14, atol=0), "torch and Keras disagree"
        case(f"squared-hinge-labels-{name}", y, x, float(np.mean(rows)), rows, ref)
    rows = torch_margin_rows(2 * y01 - 1, x, 2.0, 2)
    case("squared-hinge-margin-2", y01, x, float(np.mean(rows)), rows, ref + ", margin=2", params={"margin": 2.0})
    rows = torch_margin_rows(y_pm, x, 1.0, 2)
    case("squared-hinge-weighted", y_pm, x, weighted_mean(rows, w), rows, ref + ", sum(w l) / sum(w)", sample_weight=w)
    case("squared-hinge-sum", y_pm, x, math.fsum(rows), rows, ref + ", sum", reduction="sum")
    rows_k = keras_hinge_rows(y01, x, squared=True)
    ref_k = "Keras SquaredHinge formula, sum_over_batch_size"
    case("squared-hinge-keras", y01, x, keras_mean(rows_k, w), rows_k, ref_k, convention="keras", sample_weight=w)


def focal_cases(rng: np.random.Generator) -> None:
    case = partial(add_pair, "focal")
    n = 24
    y = rng.integers(0, 2, n).astype(np.float64)
    x = rng.normal(0.0, 2.5, n)
    w = rng.uniform(0.1, 3.0, n)
    y_soft = rng.uniform(0.0, 1.0, n)
    p = rng.uniform(0.01, 0.99, n)
    ref = "torchvision.ops.sigmoid_focal_loss formula (focal_loss.py) in torch float64"
    rows = torchvision_focal_rows(y, x, 0.25, 2.0)
    case("focal-random", y, x, float(np.mean(rows)), rows, ref)
    case("focal-torch", y, x, float(np.mean(rows)), rows, ref, convention="torch")
    case("focal-weighted", y, x, weighted_mean(rows, w), rows, ref + ", sum(w l) / sum(w)", sample_weight=w)
    case(
        "focal-sum-weighted", y, x, math.fsum(w * rows), rows, ref + ", weighted sum", sample_weight=w, reduction="sum"
    )
    y_edge = np.array([1, 1, 0, 0, 0.3, 0.3, 1, 0])
    x_edge = np.array([1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 0, 0])
    rows_edge = torchvision_focal_rows(y_edge, x_edge, 0.25, 2.0)
    case("focal-extreme-logits", y_edge, x_edge, float(np.mean(rows_edge)), rows_edge, ref)
    for alpha, gamma in ((-1.0, 2.0), (0.75, 0.5), (0.25, 0.0), (-1.0, 0.0), (0.5, 5.0)):
        rows_ag = torchvision_focal_rows(y, x, alpha, gamma)
        params = {"alpha": alpha, "gamma": gamma}
        case(f"focal-alpha-{alpha:g}-gamma-{gamma:g}", y, x, float(np.mean(rows_ag)), rows_ag, ref, params=params)
    rows_bce = torch_bce_logits(y, x)
    ref_bce = "torch.nn.BCEWithLogitsLoss float64 (focal with gamma=0, alpha<0)"
    params = {"alpha": -1.0, "gamma": 0.0}
    case("focal-gamma-0-no-alpha-is-bce-logits", y, x, float(np.mean(rows_bce)), rows_bce, ref_bce, params=params)
    rows_soft = torchvision_focal_rows(y_soft, x, 0.25, 2.0)
    case("focal-soft-targets", y_soft, x, float(np.mean(rows_soft)), rows_soft, ref)

    # from_logits=false: the focal formula on p, its cross-entropy term from a library.
    probabilities = {"from_logits": False}
    rows_p = focal_probability_rows(y, p, torch_bce(y, p), 0.25, 2.0)
    ref_p = "torchvision focal formula on p, ce from torch.nn.BCELoss float64 (p in [0.01, 0.99])"
    case("focal-probabilities", y, p, float(np.mean(rows_p)), rows_p, ref_p, params=probabilities)
    y8 = np.array([0, 1, 0, 1, 0, 1, 1, 0], dtype=np.float64)
    p8 = np.array([0.0, 0.0, 1.0, 1.0, 0.5, 0.5, 1e-300, 1 - 2.0**-53])
    rows_p = focal_probability_rows(y8, p8, sk_log_loss_rows(y8, p8), 0.25, 2.0)
    ref_p = "torchvision focal formula on p, ce from sklearn.metrics.log_loss per row (clipped to eps)"
    case("focal-probabilities-edges", y8, p8, float(np.mean(rows_p)), rows_p, ref_p, params=probabilities)

    # Keras: alpha only with apply_class_balancing (off by default), from_logits=False by default, and from logits
    # sigmoid then the probability BCE clipped to [1e-7, 1 - 1e-7]; the weighted mean divides by the row count.
    keras_case = partial(case, convention="keras")
    ref_k = "Keras BinaryFocalCrossentropy formula (losses.py binary_focal_crossentropy), sum_over_batch_size"
    y_k, p_k, w_k = np.concatenate([y8, y[:8]]), np.concatenate([p8, p[:8]]), w[:16]
    rows_k = keras_focal_rows(y_k, p_k, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False)
    keras_case("focal-keras-defaults", y_k, p_k, keras_mean(rows_k, w_k), rows_k, ref_k, sample_weight=w_k)
    rows_k = keras_focal_rows(y_k, p_k, apply_class_balancing=False, alpha=0.25, gamma=1.5, from_logits=False)
    params = {"gamma": 1.5}
    total = float(np.sum(w_k * rows_k))
    keras_case("focal-keras-sum", y_k, p_k, total, rows_k, ref_k, params=params, sample_weight=w_k, reduction="sum")
    y_kx, x_k = np.concatenate([y_edge, y[:8]]), np.concatenate([x_edge, x[:8]])
    rows_k = keras_focal_rows(y_kx, x_k, apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True)
    ref_kx = ref_k + " (apply_class_balancing=True, alpha=0.25, from_logits=True)"
    params = {"alpha": 0.25, "from_logits": True}
    keras_case("focal-keras-logits-alpha", y_kx, x_k, keras_mean(rows_k, None), rows_k, ref_kx, params=params)


def multilabel_cases(rng: np.random.Generator) -> None:
    """K = 4 label columns: the mean over all N K elements, as torch's element-wise losses with reduction='mean'."""
    n, k = 8, 4
    y = (rng.uniform(size=(n, k)) < 0.4).astype(np.float64)
    p = rng.uniform(0.02, 0.98, (n, k))
    x = rng.normal(0.0, 2.0, (n, k))
    x[0] = [1e4, -1e4, 40.0, -40.0]  # extreme logits
    w = rng.uniform(0.5, 2.0, n)
    inputs_p, inputs_x = {"target": y, "pred": p}, {"target": y, "pred": x}

    rows = torch.nn.BCELoss(reduction="none")(t(p), t(y)).numpy()
    whole = float(torch.nn.BCELoss()(t(p), t(y)))
    add("bce", "bce-multilabel", inputs_p, whole, rows.mean(axis=1), "torch.nn.BCELoss (mean over N x K), float64")
    row_means = rows.mean(axis=1)
    add("bce", "bce-multilabel-weighted", inputs_p, float(np.sum(w * row_means) / np.sum(w)), row_means,
        "torch BCELoss(reduction='none') rows averaged over the labels, weighted mean", sample_weight=w)  # fmt: skip
    rows_w = torch.nn.BCELoss(weight=t(w[:, None]), reduction="mean")(t(p), t(y))
    add("bce", "bce-multilabel-torch-weight", inputs_p, float(rows_w), rows.mean(axis=1),
        "torch.nn.BCELoss(weight=w[:, None]) (mean over N x K)", convention="torch", sample_weight=w)  # fmt: skip
    keras_rows = keras_bce_rows(y, p)
    add("bce", "bce-multilabel-keras", inputs_p, keras_mean(keras_rows.mean(axis=1), w), keras_rows.mean(axis=1),
        "Keras BinaryCrossentropy formula (mean over the last axis), sum_over_batch_size", convention="keras",
        sample_weight=w)  # fmt: skip
    rows = torch.nn.BCEWithLogitsLoss(reduction="none")(t(x), t(y)).numpy()
    add("bce_logits", "bce_logits-multilabel-extreme", inputs_x, float(torch.nn.BCEWithLogitsLoss()(t(x), t(y))),
        rows.mean(axis=1), "torch.nn.BCEWithLogitsLoss (mean over N x K), float64")  # fmt: skip
    whole = torch.nn.BCEWithLogitsLoss(weight=t(w[:, None]))(t(x), t(y))
    add("bce_logits", "bce_logits-multilabel-torch-weight", inputs_x, float(whole), rows.mean(axis=1),
        "torch.nn.BCEWithLogitsLoss(weight=w[:, None])", convention="torch", sample_weight=w)  # fmt: skip
    brier_rows = torch.nn.MSELoss(reduction="none")(t(p), t(y)).numpy()
    add("brier", "brier-multilabel", inputs_p, float(torch.nn.MSELoss()(t(p), t(y))), brier_rows.mean(axis=1),
        "torch.nn.MSELoss on N x K probabilities against 0/1 labels (the Brier score of each element)")  # fmt: skip
    focal_rows = torchvision_focal_rows(y, x, 0.25, 2.0)
    add("focal", "focal-multilabel-extreme", inputs_x, float(focal_rows.mean()), focal_rows.mean(axis=1),
        "torchvision sigmoid_focal_loss formula, reduction='mean' over N x K, torch float64")  # fmt: skip
    keras_rows = keras_focal_rows(y, p, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False)
    add("focal", "focal-multilabel-keras", inputs_p, keras_mean(keras_rows.mean(axis=1), None),
        keras_rows.mean(axis=1), "Keras BinaryFocalCrossentropy formula (mean over the last axis)",
        convention="keras")  # fmt: skip
    # torch's reduction='sum' adds all N K element losses (lossctl and Keras add each row's mean over its labels).
    modules = (("bce", torch.nn.BCELoss, inputs_p), ("bce_logits", torch.nn.BCEWithLogitsLoss, inputs_x))
    for loss, module, inputs in modules:
        pred = t(inputs["pred"])
        total = float(module(weight=t(w[:, None]), reduction="sum")(pred, t(y)))
        rows = module(reduction="none")(pred, t(y)).numpy().mean(axis=1)
        ref = f"torch.nn.{module.__name__}(weight=w[:, None], reduction='sum'): the sum over N x K"
        add(loss, f"{loss}-multilabel-torch-sum", inputs, total, rows, ref, convention="torch", sample_weight=w,
            reduction="sum")  # fmt: skip
    add("focal", "focal-multilabel-torch-sum", inputs_x, float(focal_rows.sum()), focal_rows.mean(axis=1),
        "torchvision sigmoid_focal_loss formula, reduction='sum' over N x K", convention="torch",
        reduction="sum")  # fmt: skip
    for loss, squared in (("hinge", False), ("squared_hinge", True)):
        rows = keras_hinge_rows(y, x, squared=squared).mean(axis=1)
        ref = f"Keras {'SquaredHinge' if squared else 'Hinge'} formula: mean over the last axis of the label columns"
        add(loss, f"{loss}-multilabel", inputs_x, float(rows.mean()), rows, ref)
        add(loss, f"{loss}-multilabel-keras-weighted", inputs_x, keras_mean(rows, w), rows,
            ref + ", sum_over_batch_size", convention="keras", sample_weight=w)  # fmt: skip
        signs = 2.0 * y - 1.0
        rows = keras_hinge_rows(signs, x, squared=squared).mean(axis=1)
        add(loss, f"{loss}-multilabel-plus-minus", {"target": signs, "pred": x}, float(rows.mean()), rows, ref)


def soft_margin_cases(rng: np.random.Generator) -> None:
    n = 16
    y = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    x = rng.normal(0.0, 3.0, n)
    w = rng.uniform(0.5, 2.0, n)
    ref = "torch.nn.SoftMarginLoss, float64"
    rows = torch.nn.SoftMarginLoss(reduction="none")(t(x), t(y)).numpy()
    add_pair("soft_margin", "soft_margin-random", y, x, rows.mean(), rows, ref)
    add_pair("soft_margin", "soft_margin-torch", y, x, rows.mean(), rows, ref, convention="torch")
    add_pair("soft_margin", "soft_margin-weighted", y, x, float(np.sum(w * rows) / np.sum(w)), rows,
             ref + "; reduction='none' rows, weighted mean", sample_weight=w)  # fmt: skip
    add_pair("soft_margin", "soft_margin-zero-one-labels", (y + 1) / 2, x, rows.mean(), rows,
             ref + " on the labels 2y - 1")  # fmt: skip
    # torch's log1p(exp(-y x)) overflows to inf beyond |x| ~ 709; scipy's logaddexp is exact there.
    big_y = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    big_x = np.array([1e4, 1e4, -1e4, -800.0, 1e-300])
    rows = np.logaddexp(0.0, -big_y * big_x)
    add_pair("soft_margin", "soft_margin-extreme", big_y, big_x, float(rows.mean()), rows,
             "numpy.logaddexp(0, -y x) (torch's log1p(exp(-y x)) overflows beyond |x| = 709)")  # fmt: skip


def hinge_embedding_cases(rng: np.random.Generator) -> None:
    n = 16
    y = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    d = rng.uniform(0.0, 2.5, n)
    w = rng.uniform(0.5, 2.0, n)
    ref = "torch.nn.HingeEmbeddingLoss, float64"
    for margin in (1.0, 2.0):
        rows = torch.nn.HingeEmbeddingLoss(margin=margin, reduction="none")(t(d), t(y)).numpy()
        params = {} if margin == 1.0 else {"margin": margin}
        add_pair("hinge_embedding", f"hinge_embedding-margin-{margin:g}", y, d, rows.mean(), rows,
                 f"{ref}, margin={margin:g}", params=params)  # fmt: skip
    rows = torch.nn.HingeEmbeddingLoss(reduction="none")(t(d), t(y)).numpy()
    add_pair("hinge_embedding", "hinge_embedding-torch", y, d, rows.mean(), rows, ref, convention="torch")
    add_pair("hinge_embedding", "hinge_embedding-weighted-sum", y, d, float(np.sum(w * rows)), rows,
             ref + "; reduction='none' rows, weighted sum", sample_weight=w, reduction="sum")  # fmt: skip
    big_y, big_d = np.array([1.0, -1.0, -1.0, 1.0]), np.array([1e300, 1e300, -1e300, -5.0])
    rows = torch.nn.HingeEmbeddingLoss(reduction="none")(t(big_d), t(big_y)).numpy()
    add_pair("hinge_embedding", "hinge_embedding-extreme", big_y, big_d, float(rows.mean()), rows, ref)


def main() -> None:
    torch.set_default_dtype(F64)
    bce_cases(np.random.default_rng(101))
    bce_logits_cases(np.random.default_rng(102))
    brier_cases(np.random.default_rng(103))
    hinge_cases(np.random.default_rng(104))
    squared_hinge_cases(np.random.default_rng(105))
    focal_cases(np.random.default_rng(106))
    multilabel_cases(np.random.default_rng(107))
    soft_margin_cases(np.random.default_rng(108))
    hinge_embedding_cases(np.random.default_rng(109))
    write_golden(
        OUT,
        "tests/reference/generate_binary.py",
        {
            "scikit-learn": sklearn.__version__,
            "scipy": scipy.__version__,
            "torchvision": "sigmoid_focal_loss formula, pytorch/vision torchvision/ops/focal_loss.py @ 148ddaaa5d27",
            "keras": "formulas from keras-team/keras keras/src/losses/losses.py, backend/tensorflow/nn.py (Keras 3)",
        },
    )


if __name__ == "__main__":
    main()
