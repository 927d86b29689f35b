"""Write tests/reference/golden/multiclass.json: reference values of the multi-class losses.

Run from the repository root::

    .venv/bin/python tests/reference/generate_multiclass.py

Every value comes from a library evaluated in float64 -- torch (``cross_entropy``, ``nll_loss``,
``multi_margin_loss``, ``kl_div``, ``binary_cross_entropy[_with_logits]``, ``mse_loss``), scikit-learn
(``log_loss``, ``hinge_loss``, ``compute_class_weight``), scipy (``jensenshannon``) -- or, where no installed
library has the loss, from its published formula written out below with torch doing the arithmetic:

- Keras ``CategoricalCrossentropy`` / ``KLDivergence``: keras-team/keras keras/src/backend/numpy/nn.py
  ``categorical_crossentropy`` (renormalise, clip to [1e-7, 1 - 1e-7]) and keras/src/losses/losses.py
  ``kl_divergence`` (clip both inputs to [1e-7, 1]);
- softmax focal loss: Lin et al. 2017, ``-alpha_y (1 - p_y)^gamma log p_y``;
- class-balanced loss: Cui et al. 2019, ``(1 - beta) / (1 - beta^n_c)`` normalised to sum to the number of
  classes (as their reference code ``weights / sum(weights) * no_of_classes``, over the classes present);
- distillation: Hinton et al. 2015, ``T^2 KL(softmax(t / T) || softmax(x / T))``;
- ELBO: pytorch/examples vae/main.py ``loss_function`` (BCE summed over the pixels plus
  ``-0.5 * sum(1 + logvar - mu^2 - logvar.exp())``), with beta (Higgins et al. 2017).

Sample weights, which torch lacks, are applied to torch's ``reduction='none'`` rows in torch: the weighted
mean is ``sum(w l) / sum(w d)`` with ``d`` torch's per-row denominator (the target's class weight, 0 for an
ignored row; 1 without class weights or with soft targets). This module imports nothing from lossctl.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import sklearn
import torch
import torch.nn.functional as F
from golden_file import add, write_golden
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import brier_score_loss, hinge_loss, log_loss, zero_one_loss
from sklearn.utils.class_weight import compute_class_weight

OUT = Path(__file__).parent / "golden" / "multiclass.json"
F64 = torch.float64
KERAS_EPSILON = 1e-7  # keras.backend.epsilon()
MACHINE_EPS = float(np.finfo(np.float64).eps)
N = 12  # rows per random case


def t(values: Any) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=F64)


def labels_tensor(values: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.int64))


def reduce(
    rows: torch.Tensor, weight: np.ndarray | None, reduction: str, denominator: torch.Tensor | None = None
) -> float:
    """torch-side reduction of ``reduction='none'`` rows: the sample-weighted sum, or that over the weighted
    per-row denominators (1 per row by default)."""
    w = torch.ones_like(rows) if weight is None else t(weight)
    d = torch.ones_like(rows) if denominator is None else denominator
    total = (w * rows).sum()
    return float(total if reduction == "sum" else total / (w * d).sum())


def keras_mean(rows: np.ndarray, weight: np.ndarray | None, reduction: str) -> float:
    # Keras reduction "sum_over_batch_size": sum(w * l) / number of rows.
    w = np.ones_like(rows) if weight is None else weight
    total = float(np.sum(w * rows))
    return total if reduction == "sum" else total / len(rows)


# --- data ---------------------------------------------------------------------------------------------------------


def logits(rng: np.random.Generator, n: int, k: int, scale: float = 2.0) -> np.ndarray:
    return rng.normal(0.0, scale, (n, k))


def labels(rng: np.random.Generator, n: int, k: int, absent: int | None = None) -> np.ndarray:
    """Class indices in 0..k-1 covering every class (except ``absent``), with an imbalance."""
    classes = [c for c in range(k) if c != absent]
    head = np.array(classes[: min(len(classes), n)], dtype=np.float64)
    tail = rng.choice(classes, size=n - len(head), p=skewed(len(classes)))
    out = np.concatenate([head, tail]).astype(np.float64)
    rng.shuffle(out)
    return out


def skewed(k: int) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1)
    return p / p.sum()


def softmax(x: np.ndarray) -> np.ndarray:
    return torch.softmax(t(x), dim=1).numpy()


def dirichlet(rng: np.random.Generator, n: int, k: int, concentration: float = 1.0) -> np.ndarray:
    return rng.dirichlet(np.full(k, concentration), n)


def weights(rng: np.random.Generator, n: int = N) -> np.ndarray:
    w = rng.uniform(0.1, 3.0, n)
    w[2] = 0.0  # a zero weight must drop its row
    return w


EXTREME_LOGITS = np.array(
    [
        [1e4, -1e4, 0.0],
        [-1e4, 1e4, 0.0],
        [1e4, 1e4, -1e4],
        [0.0, 0.0, 0.0],
        [-1e4, -1e4, -1e4],
        [1e4, 0.0, -1e4],
    ]
)
EXTREME_TARGETS = np.array([0.0, 0.0, 2.0, 1.0, 2.0, 2.0])


# --- cross_entropy and nll (torch) -----------------------------------------------------------------------------------


def torch_ce(
    x: np.ndarray,
    y: np.ndarray,
    *,
    class_weight: np.ndarray | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    log_probabilities: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """torch's reduction='none' rows and the per-row denominators of its 'mean' (see the module docstring)."""
    weight = None if class_weight is None else t(class_weight)
    kwargs: dict[str, Any] = {"weight": weight, "reduction": "none"}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    if y.ndim == 2:
        rows = F.cross_entropy(t(x), t(y), label_smoothing=label_smoothing, **kwargs)
        return rows, torch.ones(len(y), dtype=F64)
    target = labels_tensor(y)
    if log_probabilities:
        rows = F.nll_loss(t(x), target, **kwargs)
    else:
        rows = F.cross_entropy(t(x), target, label_smoothing=label_smoothing, **kwargs)
    kept = torch.ones(len(y), dtype=F64) if ignore_index is None else (target != ignore_index).to(F64)
    index = target.clamp(min=0)
    class_w = torch.ones(len(y), dtype=F64) if weight is None else weight[index]
    return rows, kept * class_w


def check_torch_mean(x: np.ndarray, y: np.ndarray, rows: torch.Tensor, denominator: torch.Tensor, **kw: Any) -> None:
    """Our torch-side weighted mean must equal torch's own reduction='mean' (the definition we follow)."""
    kw = {k: v for k, v in kw.items() if v is not None}
    weight = kw.pop("class_weight", None)
    log_probabilities = kw.pop("log_probabilities", False)
    args = (t(x), t(y) if y.ndim == 2 else labels_tensor(y))
    weight_t = None if weight is None else t(weight)
    if log_probabilities:
        mean = F.nll_loss(*args, weight=weight_t, **kw)
    else:
        mean = F.cross_entropy(*args, weight=weight_t, **kw)
    ours = float(rows.sum() / denominator.sum())
    assert math.isclose(float(mean), ours, rel_tol=1e-13), (float(mean), ours)


def ce_case(
    case_id: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    loss: str = "cross_entropy",
    class_weight: np.ndarray | None = None,
    param_class_weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    sample_weight: np.ndarray | None = None,
    reduction: str = "mean",
    convention: str = "lossctl",
    per_sample: bool = True,
    note: str = "",
) -> None:
    log_probabilities = loss == "nll"
    rows, denominator = torch_ce(
        x,
        y,
        class_weight=class_weight,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        log_probabilities=log_probabilities,
    )
    check_torch_mean(
        x,
        y,
        rows,
        denominator,
        class_weight=class_weight,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing if not log_probabilities else None,
        log_probabilities=log_probabilities,
    )
    params: dict[str, Any] = {}
    if label_smoothing:
        params["label_smoothing"] = label_smoothing
    if param_class_weight is not None:
        params["class_weight"] = param_class_weight
    elif class_weight is not None:
        params["class_weight"] = [float(v) for v in class_weight]
    if ignore_index is not None:
        params["ignore_index"] = ignore_index
    name = "torch.nn.functional.nll_loss" if log_probabilities else "torch.nn.functional.cross_entropy"
    add(
        loss,
        case_id,
        {"target": y, "pred": x},
        reduce(rows, sample_weight, reduction, denominator),
        rows.numpy() if per_sample else None,
        name + (f" ({note})" if note else ""),
        params=params,
        convention=convention,
        sample_weight=sample_weight,
        reduction=reduction,
    )


def keras_cross_entropy_cases(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
    """Keras CategoricalCrossentropy(from_logits=True) (SparseCategoricalCrossentropy for class indices):
    keras/src/losses/losses.py smooths y * (1 - e) + e / K, then -sum(y * log_softmax(x)), and the weighted mean
    divides by the row count (sum_over_batch_size). Its own data stream, so the other cases keep theirs."""
    k = x.shape[1]
    soft = dirichlet(np.random.default_rng(1611), len(y), k)
    ref = "Keras CategoricalCrossentropy(from_logits=True) formula, torch log_softmax, sum_over_batch_size"
    cases = (
        ("ce-keras-weighted", x, y, 0.0, w, "mean"),
        ("ce-keras-label-smoothing-sum", x, y, 0.1, w, "sum"),
        ("ce-keras-soft-label-smoothing", x, soft, 0.2, w, "mean"),
        ("ce-keras-logits-1e4", EXTREME_LOGITS, EXTREME_TARGETS, 0.0, None, "mean"),
    )
    for case_id, logits_, target, e, weight, reduction in cases:
        one_hot = np.eye(logits_.shape[1])[target.astype(int)] if target.ndim == 1 else target
        smoothed = one_hot * (1.0 - e) + e / logits_.shape[1]
        rows = -(t(smoothed) * torch.log_softmax(t(logits_), dim=1)).sum(dim=1).numpy()
        value = keras_mean(rows, weight, reduction)
        add("cross_entropy", case_id, {"target": target, "pred": logits_}, value, rows, ref,
            params={"label_smoothing": e}, convention="keras", sample_weight=weight, reduction=reduction)  # fmt: skip


def balanced_weights(y: np.ndarray, k: int, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """scikit-learn's compute_class_weight('balanced') over the classes present; absent classes get 0."""
    present = np.unique(y)
    found = compute_class_weight("balanced", classes=present, y=y, sample_weight=sample_weight)
    out = np.zeros(k)
    out[present.astype(int)] = found
    return out


def cross_entropy_cases(rng: np.random.Generator) -> None:
    x5, y5 = logits(rng, N, 5), labels(rng, N, 5)
    w = weights(rng)
    cw5 = np.array([1.0, 2.0, 0.5, 3.0, 0.25])
    ce_case("ce-random-k5", x5, y5)
    ce_case("ce-k2", logits(rng, N, 2), labels(rng, N, 2))
    ce_case("ce-k10", logits(rng, 16, 10, 3.0), labels(rng, 16, 10))
    ce_case("ce-logits-1e4", EXTREME_LOGITS, EXTREME_TARGETS)
    ce_case("ce-weighted", x5, y5, sample_weight=w)
    ce_case("ce-sum", x5, y5, sample_weight=w, reduction="sum")
    ce_case("ce-torch", x5, y5, convention="torch")
    keras_cross_entropy_cases(x5, y5, w)
    ce_case("ce-class-weight", x5, y5, class_weight=cw5)
    ce_case("ce-class-weight-weighted", x5, y5, class_weight=cw5, sample_weight=w)
    ce_case("ce-class-weight-sum", x5, y5, class_weight=cw5, sample_weight=w, reduction="sum")
    ce_case("ce-label-smoothing", x5, y5, label_smoothing=0.1)
    ce_case("ce-label-smoothing-class-weight", x5, y5, label_smoothing=0.2, class_weight=cw5)
    ce_case(
        "ce-label-smoothing-class-weight-weighted",
        x5,
        y5,
        label_smoothing=0.3,
        class_weight=cw5,
        sample_weight=w,
        convention="torch",
    )
    y_ignored = y5.copy()
    y_ignored[[1, 4, 7]] = -100
    ce_case("ce-ignore-index", x5, y_ignored, ignore_index=-100)
    ce_case(
        "ce-ignore-index-smoothing-class-weight",
        x5,
        y_ignored,
        ignore_index=-100,
        label_smoothing=0.1,
        class_weight=cw5,
        sample_weight=w,
    )
    ce_case("ce-ignore-index-in-range", x5, y5, ignore_index=1, class_weight=cw5, label_smoothing=0.05)
    ce_case("ce-ignore-index-extreme", EXTREME_LOGITS, np.array([0.0, -1.0, 2.0, -1.0, 2.0, 2.0]), ignore_index=-1)
    ce_case("ce-ignore-index-sum", x5, y_ignored, ignore_index=-100, reduction="sum", sample_weight=w)

    # balanced: scikit-learn's weights (sample-weighted counts when weighted) through torch's weight=.
    ce_case(
        "ce-balanced", x5, y5, class_weight=balanced_weights(y5, 5), param_class_weight="balanced", per_sample=False
    )
    ce_case(
        "ce-balanced-weighted",
        x5,
        y5,
        class_weight=balanced_weights(y5, 5, w),
        param_class_weight="balanced",
        sample_weight=w,
        per_sample=False,
        note="weights from sklearn compute_class_weight('balanced', sample_weight=w)",
    )
    y_absent = labels(rng, 14, 5, absent=3)
    x_absent = logits(rng, 14, 5)
    ce_case(
        "ce-balanced-class-absent-smoothing",
        x_absent,
        y_absent,
        class_weight=balanced_weights(y_absent, 5),
        param_class_weight="balanced",
        label_smoothing=0.1,
        per_sample=False,
        note="absent class 3 weighted 0",
    )
    ce_case(
        "ce-balanced-sum",
        x_absent,
        y_absent,
        class_weight=balanced_weights(y_absent, 5),
        param_class_weight="balanced",
        reduction="sum",
        per_sample=False,
    )
    kept = y_ignored != -100
    ce_case(
        "ce-balanced-ignore-index",
        x5,
        y_ignored,
        class_weight=balanced_weights(y_ignored[kept], 5),
        param_class_weight="balanced",
        ignore_index=-100,
        per_sample=False,
        note="counts over the rows not ignored",
    )
    ce_case(
        "ce-class-absent",
        x_absent,
        y_absent,
        class_weight=np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        label_smoothing=0.2,
    )

    # soft targets: torch's probability-target path (the mean divides by N even with class weights).
    y_soft = dirichlet(rng, N, 5)
    ce_case("ce-soft", x5, y_soft)
    ce_case("ce-soft-one-hot", x5, np.eye(5)[y5.astype(int)])
    ce_case("ce-soft-class-weight", x5, y_soft, class_weight=cw5, sample_weight=w)
    ce_case("ce-soft-label-smoothing-class-weight", x5, y_soft, class_weight=cw5, label_smoothing=0.25)
    ce_case("ce-soft-sum", x5, y_soft, reduction="sum", sample_weight=w)
    ce_case("ce-soft-logits-1e4", EXTREME_LOGITS, dirichlet(rng, 6, 3, 0.5))
    soft_counts = y_soft.sum(axis=0)
    soft_balanced = soft_counts.sum() / (5 * soft_counts)
    ce_case(
        "ce-soft-balanced",
        x5,
        y_soft,
        class_weight=soft_balanced,
        param_class_weight="balanced",
        label_smoothing=0.1,
        per_sample=False,
        note="balanced n / (K n_c) from the soft counts n_c = sum_i y_ic, written here",
    )


def nll_cases(rng: np.random.Generator) -> None:
    log_p = torch.log_softmax(t(logits(rng, N, 4)), dim=1).numpy()
    y = labels(rng, N, 4)
    w = weights(rng)
    cw = np.array([0.5, 1.0, 2.0, 4.0])
    ce_case("nll-random", log_p, y, loss="nll")
    ce_case("nll-k2", torch.log_softmax(t(logits(rng, N, 2)), dim=1).numpy(), labels(rng, N, 2), loss="nll")
    ce_case("nll-weighted", log_p, y, loss="nll", sample_weight=w)
    ce_case("nll-sum", log_p, y, loss="nll", sample_weight=w, reduction="sum")
    ce_case("nll-class-weight", log_p, y, loss="nll", class_weight=cw, sample_weight=w)
    ce_case("nll-torch", log_p, y, loss="nll", class_weight=cw, convention="torch")
    y_ignored = y.copy()
    y_ignored[[0, 5]] = -100
    ce_case("nll-ignore-index", log_p, y_ignored, loss="nll", ignore_index=-100, class_weight=cw)
    ce_case(
        "nll-balanced",
        log_p,
        y,
        loss="nll",
        class_weight=balanced_weights(y, 4),
        param_class_weight="balanced",
        per_sample=False,
    )
    extreme = torch.log_softmax(t(EXTREME_LOGITS), dim=1).numpy()
    ce_case("nll-log-probabilities-2e4", extreme, EXTREME_TARGETS, loss="nll")


# --- categorical_ce (sklearn log_loss; Keras) -------------------------------------------------------------------------


def sk_log_loss_rows(y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    return np.array([log_loss([yi], [pi], labels=list(range(k))) for yi, pi in zip(y, p, strict=True)])


def keras_cce_rows(y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    # keras/src/backend/numpy/nn.py categorical_crossentropy: output / sum(output), clip to [eps, 1 - eps],
    # -sum(target * log(output)); sparse targets are one-hot encoded first.
    target = np.eye(k)[y.astype(int)] if y.ndim == 1 else y
    output = p / np.sum(p, axis=-1, keepdims=True)
    output = np.clip(output, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return -np.sum(target * np.log(output), axis=-1)


def soft_log_loss_rows(y: np.ndarray, p: np.ndarray, eps: float) -> np.ndarray:
    # The multi-class log loss of a target distribution, -sum_k y_k log clip(p_k, eps, 1 - eps), in torch.
    return (-(t(y) * torch.log(torch.clamp(t(p), eps, 1.0 - eps))).sum(dim=1)).numpy()


def categorical_ce_cases(rng: np.random.Generator) -> None:
    for k, name in ((4, "k4"), (2, "k2"), (10, "k10")):
        p = softmax(logits(rng, N, k))
        y = labels(rng, N, k)
        add(
            "categorical_ce",
            f"categorical_ce-{name}",
            {"target": y, "pred": p},
            log_loss(y, p, labels=list(range(k))),
            sk_log_loss_rows(y, p, k),
            "sklearn.metrics.log_loss",
        )
    k = 4
    p = softmax(logits(rng, N, k))
    p[0] = [1.0, 0.0, 0.0, 0.0]
    p[1] = [0.0, 1.0, 0.0, 0.0]
    p[2] = [0.5, 0.5, 0.0, 0.0]
    y = labels(rng, N, k)
    y[:3] = [0, 0, 3]
    w = weights(rng)
    sk_rows = sk_log_loss_rows(y, p, k)
    add(
        "categorical_ce",
        "categorical_ce-clipped-0-and-1",
        {"target": y, "pred": p},
        log_loss(y, p, labels=list(range(k))),
        sk_rows,
        "sklearn.metrics.log_loss (clips to the float64 eps)",
    )
    add(
        "categorical_ce",
        "categorical_ce-weighted",
        {"target": y, "pred": p},
        log_loss(y, p, labels=list(range(k)), sample_weight=w),
        sk_rows,
        "sklearn.metrics.log_loss(sample_weight=w)",
        sample_weight=w,
    )
    add(
        "categorical_ce",
        "categorical_ce-sum",
        {"target": y, "pred": p},
        log_loss(y, p, labels=list(range(k)), sample_weight=w, normalize=False),
        sk_rows,
        "sklearn.metrics.log_loss(sample_weight=w, normalize=False)",
        sample_weight=w,
        reduction="sum",
    )
    add(
        "categorical_ce",
        "categorical_ce-eps",
        {"target": y, "pred": p},
        float(np.mean(soft_log_loss_rows(np.eye(k)[y.astype(int)], p, 1e-3))),
        soft_log_loss_rows(np.eye(k)[y.astype(int)], p, 1e-3),
        "-sum y log clamp(p, eps, 1 - eps) in torch",
        params={"eps": 1e-3},
    )
    add(
        "categorical_ce",
        "categorical_ce-sklearn",
        {"target": y, "pred": p},
        log_loss(y, p, labels=list(range(k)), sample_weight=w),
        sk_rows,
        "sklearn.metrics.log_loss(sample_weight=w)",
        convention="sklearn",
        sample_weight=w,
    )
    y_soft = dirichlet(rng, N, k)
    soft_rows = soft_log_loss_rows(y_soft, p, MACHINE_EPS)
    add(
        "categorical_ce",
        "categorical_ce-soft",
        {"target": y_soft, "pred": p},
        float(np.mean(soft_rows)),
        soft_rows,
        "-sum y log clamp(p, eps, 1 - eps) in torch (sklearn's clipping; log_loss takes no soft targets)",
    )
    one_hot = np.eye(k)[y.astype(int)]
    add(
        "categorical_ce",
        "categorical_ce-one-hot-sklearn",
        {"target": one_hot, "pred": p},
        log_loss(one_hot, p),
        sk_rows,
        "sklearn.metrics.log_loss with a label indicator matrix",
        convention="sklearn",
    )
    keras_ref = "Keras CategoricalCrossentropy, keras/src/backend/numpy/nn.py categorical_crossentropy"
    keras_rows = keras_cce_rows(y, p, k)
    add(
        "categorical_ce",
        "categorical_ce-keras-weighted",
        {"target": y, "pred": p},
        keras_mean(keras_rows, w, "mean"),
        keras_rows,
        keras_ref + " (sparse targets one-hot encoded); sum_over_batch_size",
        convention="keras",
        sample_weight=w,
    )
    unnormalised = p * rng.uniform(0.5, 1.0, (N, 1))
    keras_rows = keras_cce_rows(y_soft, unnormalised, k)
    add(
        "categorical_ce",
        "categorical_ce-keras-soft-unnormalised",
        {"target": y_soft, "pred": unnormalised},
        keras_mean(keras_rows, None, "mean"),
        keras_rows,
        keras_ref + " (rows renormalised)",
        convention="keras",
    )
    add(
        "categorical_ce",
        "categorical_ce-keras-sum",
        {"target": y_soft, "pred": unnormalised},
        keras_mean(keras_rows, w, "sum"),
        keras_rows,
        keras_ref,
        convention="keras",
        sample_weight=w,
        reduction="sum",
    )


# --- multiclass_hinge (sklearn) and multi_margin (torch) -------------------------------------------------------------


def sk_hinge_rows(y: np.ndarray, scores: np.ndarray, **kw: Any) -> np.ndarray:
    # One-hot sample weights pick row i out of hinge_loss's weighted average while it still sees every label.
    eye = np.eye(len(y))
    return np.array([hinge_loss(y, scores, sample_weight=eye[i], **kw) for i in range(len(y))])


def multiclass_hinge_cases(rng: np.random.Generator) -> None:
    w = weights(rng)
    for k, name in ((4, "k4"), (10, "k10")):
        x, y = logits(rng, N, k, 1.0), labels(rng, N, k)
        kw = {"labels": list(range(k))}
        add(
            "multiclass_hinge",
            f"multiclass_hinge-{name}",
            {"target": y, "pred": x},
            hinge_loss(y, x, **kw),
            sk_hinge_rows(y, x, **kw),
            "sklearn.metrics.hinge_loss(labels=range(K))",
        )
    x, y = logits(rng, N, 3, 1.0), labels(rng, N, 3)
    x[0] = [1.0, 1.0, 0.0]  # a tie: margin 0, loss 1
    y[0] = 0
    x[1] = [5.0, -5.0, 3.0]
    y[1] = 0
    kw = {"labels": [0, 1, 2]}
    rows = sk_hinge_rows(y, x, **kw)
    add(
        "multiclass_hinge",
        "multiclass_hinge-weighted",
        {"target": y, "pred": x},
        hinge_loss(y, x, sample_weight=w, **kw),
        rows,
        "sklearn.metrics.hinge_loss(labels=range(K), sample_weight=w)",
        sample_weight=w,
    )
    add(
        "multiclass_hinge",
        "multiclass_hinge-sklearn",
        {"target": y, "pred": x},
        hinge_loss(y, x, sample_weight=w, **kw),
        rows,
        "sklearn.metrics.hinge_loss(labels=range(K), sample_weight=w)",
        convention="sklearn",
        sample_weight=w,
    )
    add(
        "multiclass_hinge",
        "multiclass_hinge-sum",
        {"target": y, "pred": x},
        float(np.sum(w * rows)),
        rows,
        "sum of w * sklearn.metrics.hinge_loss rows",
        sample_weight=w,
        reduction="sum",
    )
    x2, y2 = logits(rng, N, 2, 1.0), labels(rng, N, 2)
    difference = x2[:, 1] - x2[:, 0]
    add(
        "multiclass_hinge",
        "multiclass_hinge-k2",
        {"target": y2, "pred": x2},
        hinge_loss(y2, difference),
        sk_hinge_rows(y2, difference),
        "sklearn.metrics.hinge_loss (binary) on the decision value x_1 - x_0",
    )
    add(
        "multiclass_hinge",
        "multiclass_hinge-logits-1e4",
        {"target": EXTREME_TARGETS, "pred": EXTREME_LOGITS},
        hinge_loss(EXTREME_TARGETS, EXTREME_LOGITS, labels=[0, 1, 2]),
        sk_hinge_rows(EXTREME_TARGETS, EXTREME_LOGITS, labels=[0, 1, 2]),
        "sklearn.metrics.hinge_loss(labels=range(K))",
    )


def multi_margin_case(
    case_id: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    p: int = 1,
    margin: float = 1.0,
    class_weight: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    reduction: str = "mean",
    convention: str = "lossctl",
) -> None:
    weight = None if class_weight is None else t(class_weight)
    rows = F.multi_margin_loss(t(x), labels_tensor(y), p=p, margin=margin, weight=weight, reduction="none")
    if sample_weight is None and reduction == "mean":
        mean = F.multi_margin_loss(t(x), labels_tensor(y), p=p, margin=margin, weight=weight)
        assert math.isclose(float(mean), float(rows.mean()), rel_tol=1e-14)
    params: dict[str, Any] = {"p": p, "margin": margin}
    if class_weight is not None:
        params["class_weight"] = [float(v) for v in class_weight]
    add(
        "multi_margin",
        case_id,
        {"target": y, "pred": x},
        reduce(rows, sample_weight, reduction),
        rows.numpy(),
        "torch.nn.functional.multi_margin_loss",
        params=params,
        convention=convention,
        sample_weight=sample_weight,
        reduction=reduction,
    )


def multi_margin_cases(rng: np.random.Generator) -> None:
    x, y = logits(rng, N, 4, 1.0), labels(rng, N, 4)
    w = weights(rng)
    multi_margin_case("multi_margin-p1", x, y)
    multi_margin_case("multi_margin-p2-margin-half", x, y, p=2, margin=0.5)
    multi_margin_case("multi_margin-class-weight", x, y, class_weight=np.array([1.0, 0.5, 2.0, 3.0]))
    multi_margin_case("multi_margin-weighted", x, y, p=2, sample_weight=w)
    multi_margin_case("multi_margin-sum", x, y, sample_weight=w, reduction="sum", class_weight=np.ones(4) * 2)
    multi_margin_case("multi_margin-torch", x, y, p=2, margin=2.0, convention="torch")
    multi_margin_case("multi_margin-k2", logits(rng, N, 2, 1.0), labels(rng, N, 2))
    multi_margin_case("multi_margin-logits-1e4", EXTREME_LOGITS, EXTREME_TARGETS, p=2)


# --- kl_div (torch; Keras) and js_div (scipy) ------------------------------------------------------------------------


def kl_case(
    case_id: str,
    y: np.ndarray,
    pred: np.ndarray,
    *,
    from_logits: bool = False,
    sample_weight: np.ndarray | None = None,
    reduction: str = "mean",
    convention: str = "lossctl",
) -> None:
    log_p = torch.log_softmax(t(pred), dim=1) if from_logits else torch.log(t(pred))
    rows = F.kl_div(log_p, t(y), reduction="none").sum(dim=1)
    if sample_weight is None and reduction == "mean":
        batchmean = F.kl_div(log_p, t(y), reduction="batchmean")
        assert math.isclose(float(batchmean), float(rows.mean()), rel_tol=1e-13, abs_tol=1e-300)
    add(
        "kl_div",
        case_id,
        {"target": y, "pred": pred},
        reduce(rows, sample_weight, reduction),
        rows.numpy(),
        "torch.nn.functional.kl_div(log p, y, reduction='batchmean')"
        + (", log p = log_softmax(x)" if from_logits else ""),
        params={"from_logits": True} if from_logits else {},
        convention=convention,
        sample_weight=sample_weight,
        reduction=reduction,
    )


def keras_kl_rows(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    # keras/src/losses/losses.py kl_divergence: clip both to [epsilon, 1], sum(y * log(y / p), axis=-1).
    y = np.clip(y, KERAS_EPSILON, 1)
    p = np.clip(p, KERAS_EPSILON, 1)
    return np.sum(y * np.log(y / p), axis=-1)


def divergence_cases(rng: np.random.Generator) -> None:
    k = 5
    y, p = dirichlet(rng, N, k), softmax(logits(rng, N, k))
    w = weights(rng)
    kl_case("kl_div-random", y, p)
    one_hot = np.eye(k)[labels(rng, N, k).astype(int)]
    kl_case("kl_div-one-hot-target", one_hot, p)
    sparse = dirichlet(rng, N, k, 0.3)
    sparse[sparse < 0.05] = 0.0
    sparse /= sparse.sum(axis=1, keepdims=True)
    kl_case("kl_div-zeros-in-target", sparse, p)
    x = logits(rng, N, k)
    kl_case("kl_div-from-logits", y, x, from_logits=True)
    kl_case("kl_div-from-logits-1e4", dirichlet(rng, 6, 3), EXTREME_LOGITS, from_logits=True)
    kl_case("kl_div-weighted", y, p, sample_weight=w)
    kl_case("kl_div-sum", y, p, sample_weight=w, reduction="sum")
    kl_case("kl_div-torch", sparse, x, from_logits=True, convention="torch")
    kl_case("kl_div-k2", dirichlet(rng, N, 2), softmax(logits(rng, N, 2)))
    keras_ref = "Keras KLDivergence, keras/src/losses/losses.py kl_divergence; sum_over_batch_size"
    rows = keras_kl_rows(y, p)
    add(
        "kl_div",
        "kl_div-keras-weighted",
        {"target": y, "pred": p},
        keras_mean(rows, w, "mean"),
        rows,
        keras_ref,
        convention="keras",
        sample_weight=w,
    )
    p_zeros = p.copy()
    p_zeros[:, 0] = 0.0  # Keras clips p = 0 up to 1e-7; the target's zeros contribute 1e-7 log(1e-7 / p)
    rows = keras_kl_rows(one_hot, p_zeros)
    add(
        "kl_div",
        "kl_div-keras-zeros",
        {"target": one_hot, "pred": p_zeros},
        keras_mean(rows, None, "mean"),
        rows,
        keras_ref,
        convention="keras",
    )

    def js_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return jensenshannon(a, b, axis=1) ** 2

    ref = "scipy.spatial.distance.jensenshannon(y, p, axis=1) ** 2 (base e)"
    for case_id, a, b in (
        ("js_div-random", y, p),
        ("js_div-zeros-both-sides", sparse, one_hot),
        ("js_div-k2", dirichlet(rng, N, 2), dirichlet(rng, N, 2)),
        ("js_div-k10", dirichlet(rng, N, 10), dirichlet(rng, N, 10, 0.5)),
    ):
        rows = js_rows(a, b)
        add("js_div", case_id, {"target": a, "pred": b}, float(np.mean(rows)), rows, ref)
    same = y.copy()
    same[:4] = p[:4]
    rows = js_rows(same, p)
    add("js_div", "js_div-identical-rows", {"target": same, "pred": p}, float(np.mean(rows)), rows, ref)
    rows = js_rows(y, p)
    add(
        "js_div",
        "js_div-weighted",
        {"target": y, "pred": p},
        float(np.sum(w * rows) / np.sum(w)),
        rows,
        ref,
        sample_weight=w,
    )
    add(
        "js_div",
        "js_div-sum",
        {"target": y, "pred": p},
        float(np.sum(w * rows)),
        rows,
        ref,
        sample_weight=w,
        reduction="sum",
    )


# --- focal_multiclass, class_balanced (formulas with torch arithmetic) ------------------------------------------------


def focal_rows(x: np.ndarray, y: np.ndarray, gamma: float, alpha: np.ndarray | None = None) -> torch.Tensor:
    # Lin et al. 2017, softmax form: -alpha_y (1 - p_y)^gamma log p_y with log p = log_softmax(x).
    target = labels_tensor(y)
    log_p = torch.log_softmax(t(x), dim=1).gather(1, target[:, None])[:, 0]
    rows = -((1 - log_p.exp()) ** gamma) * log_p
    return rows if alpha is None else t(alpha)[target] * rows


def focal_cases(rng: np.random.Generator) -> None:
    x, y = logits(rng, N, 4), labels(rng, N, 4)
    w = weights(rng)
    ref = "softmax focal loss -alpha_y (1 - p_y)^gamma log p_y (Lin et al. 2017), torch log_softmax"
    alpha = np.array([0.25, 0.5, 1.0, 2.0])
    for case_id, gamma, a, weight, reduction in (
        ("focal_multiclass-gamma2", 2.0, None, None, "mean"),
        ("focal_multiclass-gamma-half-alpha", 0.5, alpha, None, "mean"),
        ("focal_multiclass-weighted", 2.0, alpha, w, "mean"),
        ("focal_multiclass-sum", 1.0, None, w, "sum"),
    ):
        rows = focal_rows(x, y, gamma, a)
        params: dict[str, Any] = {"gamma": gamma}
        if a is not None:
            params["alpha"] = [float(v) for v in a]
        add(
            "focal_multiclass",
            case_id,
            {"target": y, "pred": x},
            reduce(rows, weight, reduction),
            rows.numpy(),
            ref,
            params=params,
            sample_weight=weight,
            reduction=reduction,
        )
    rows = F.cross_entropy(t(x), labels_tensor(y), reduction="none")
    add(
        "focal_multiclass",
        "focal_multiclass-gamma0-is-cross-entropy",
        {"target": y, "pred": x},
        float(rows.mean()),
        rows.numpy(),
        "torch.nn.functional.cross_entropy (gamma = 0)",
        params={"gamma": 0.0},
    )
    rows = focal_rows(EXTREME_LOGITS, EXTREME_TARGETS, 2.0)
    add(
        "focal_multiclass",
        "focal_multiclass-logits-1e4",
        {"target": EXTREME_TARGETS, "pred": EXTREME_LOGITS},
        float(rows.mean()),
        rows.numpy(),
        ref,
    )
    x10, y10 = logits(rng, N, 10, 3.0), labels(rng, N, 10)
    rows = focal_rows(x10, y10, 3.0)
    add(
        "focal_multiclass",
        "focal_multiclass-k10",
        {"target": y10, "pred": x10},
        float(rows.mean()),
        rows.numpy(),
        ref,
        params={"gamma": 3.0},
    )


def cui_weights(counts: np.ndarray, beta: float) -> np.ndarray:
    """Cui et al. 2019: effective_num = 1 - beta^n, weights = (1 - beta) / effective_num, then
    weights / sum(weights) * no_of_classes, over the classes present (n > 0); absent classes 0."""
    present = counts > 0
    out = np.zeros(len(counts))
    effective_num = 1.0 - np.power(beta, counts[present])
    raw = (1.0 - beta) / effective_num
    out[present] = raw / np.sum(raw) * present.sum()
    return out


def class_balanced_case(
    case_id: str,
    y: np.ndarray,
    pred: np.ndarray,
    base_rows: torch.Tensor,
    n_classes: int,
    *,
    base: str,
    beta: float,
    counts: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    reduction: str = "mean",
) -> None:
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    seen = np.array([s[y == c].sum() for c in range(n_classes)])
    w = cui_weights(seen if counts is None else counts, beta)
    rows = t(w[y.astype(int)]) * base_rows
    total = float((t(s) * rows).sum())
    params: dict[str, Any] = {"base": base, "beta": beta}
    if counts is not None:
        params["counts"] = [float(v) for v in counts]
    add(
        "class_balanced",
        case_id,
        {"target": y, "pred": pred},
        total if reduction == "sum" else total / float(s.sum()),
        None,
        f"Cui et al. 2019 weights (written here) times torch {base} rows; mean over rows sum(s w_y l) / sum(s)",
        params=params,
        sample_weight=sample_weight,
        reduction=reduction,
    )


def class_balanced_cases(rng: np.random.Generator) -> None:
    k = 5
    x, y = logits(rng, 16, k), labels(rng, 16, k)
    w = weights(rng, 16)
    ce_rows = F.cross_entropy(t(x), labels_tensor(y), reduction="none")
    class_balanced_case("class_balanced-ce-counts-from-data", y, x, ce_rows, k, base="cross_entropy", beta=0.9)
    class_balanced_case("class_balanced-ce-default-beta", y, x, ce_rows, k, base="cross_entropy", beta=0.9999)
    counts = np.array([5000.0, 2000.0, 300.0, 40.0, 7.0])
    class_balanced_case("class_balanced-ce-counts", y, x, ce_rows, k, base="cross_entropy", beta=0.999, counts=counts)
    class_balanced_case(
        "class_balanced-ce-zero-count",
        y,
        x,
        ce_rows,
        k,
        base="cross_entropy",
        beta=0.99,
        counts=np.array([10.0, 0.0, 3.0, 1.0, 50.0]),
    )
    class_balanced_case("class_balanced-ce-beta0", y, x, ce_rows, k, base="cross_entropy", beta=0.0)
    class_balanced_case("class_balanced-ce-weighted", y, x, ce_rows, k, base="cross_entropy", beta=0.9, sample_weight=w)
    class_balanced_case(
        "class_balanced-ce-sum", y, x, ce_rows, k, base="cross_entropy", beta=0.9, sample_weight=w, reduction="sum"
    )
    y_absent = labels(rng, 16, k, absent=1)
    x_absent = logits(rng, 16, k)
    rows = F.cross_entropy(t(x_absent), labels_tensor(y_absent), reduction="none")
    class_balanced_case("class_balanced-ce-class-absent", y_absent, x_absent, rows, k, base="cross_entropy", beta=0.9)
    class_balanced_case("class_balanced-focal", y, x, focal_rows(x, y, 2.0), k, base="focal_multiclass", beta=0.99)
    class_balanced_case(
        "class_balanced-focal-counts",
        y,
        x,
        focal_rows(x, y, 2.0),
        k,
        base="focal_multiclass",
        beta=0.999,
        counts=counts,
        sample_weight=w,
    )
    xb = rng.normal(0.0, 2.0, 16)
    xb[:2] = [1e4, -1e4]
    yb = (rng.uniform(size=16) < 0.25).astype(np.float64)
    yb[:3] = [0.0, 0.0, 1.0]
    rows = F.binary_cross_entropy_with_logits(t(xb), t(yb), reduction="none")
    class_balanced_case("class_balanced-bce-logits", yb, xb, rows, 2, base="bce_logits", beta=0.9)
    class_balanced_case(
        "class_balanced-bce-logits-counts",
        yb,
        xb,
        rows,
        2,
        base="bce_logits",
        beta=0.9999,
        counts=np.array([900.0, 100.0]),
        sample_weight=w,
    )
    x10, y10 = logits(rng, 24, 10), labels(rng, 24, 10)
    rows = F.cross_entropy(t(x10), labels_tensor(y10), reduction="none")
    class_balanced_case("class_balanced-k10", y10, x10, rows, 10, base="cross_entropy", beta=0.99)


# --- distillation and elbo -------------------------------------------------------------------------------------------


def distillation_cases(rng: np.random.Generator) -> None:
    def rows_of(teacher: np.ndarray, student: np.ndarray, temperature: float) -> torch.Tensor:
        # Hinton et al. 2015: T^2 KL(softmax(t / T) || softmax(x / T)) per row.
        log_q = torch.log_softmax(t(teacher) / temperature, dim=1)
        log_p = torch.log_softmax(t(student) / temperature, dim=1)
        return F.kl_div(log_p, log_q, log_target=True, reduction="none").sum(dim=1) * temperature**2

    ref = "T^2 torch.nn.functional.kl_div(log_softmax(x / T), log_softmax(t / T), log_target=True)"
    teacher, student = logits(rng, N, 6, 3.0), logits(rng, N, 6, 3.0)
    w = weights(rng)
    for case_id, temperature, weight, reduction in (
        ("distillation-default-t4", 4.0, None, "mean"),
        ("distillation-t1", 1.0, None, "mean"),
        ("distillation-t-half-weighted", 0.5, w, "mean"),
        ("distillation-sum", 2.0, w, "sum"),
    ):
        rows = rows_of(teacher, student, temperature)
        add(
            "distillation",
            case_id,
            {"teacher": teacher, "pred": student},
            reduce(rows, weight, reduction),
            rows.numpy(),
            ref,
            params={"temperature": temperature},
            sample_weight=weight,
            reduction=reduction,
        )
    extreme_student = EXTREME_LOGITS[::-1].copy()
    rows = rows_of(EXTREME_LOGITS, extreme_student, 1.0)
    add(
        "distillation",
        "distillation-logits-1e4",
        {"teacher": EXTREME_LOGITS, "pred": extreme_student},
        float(rows.mean()),
        rows.numpy(),
        ref,
        params={"temperature": 1.0},
    )
    t10, s10 = logits(rng, N, 10), logits(rng, N, 10)
    rows = rows_of(t10, s10, 3.0)
    add(
        "distillation",
        "distillation-k10",
        {"teacher": t10, "pred": s10},
        float(rows.mean()),
        rows.numpy(),
        ref,
        params={"temperature": 3.0},
    )


def elbo_cases(rng: np.random.Generator) -> None:
    d, z = 8, 3
    y = (rng.uniform(size=(N, d)) < 0.4).astype(np.float64)
    y[:3] = rng.uniform(size=(3, d))  # grey levels: soft targets in [0, 1]
    p = rng.uniform(0.02, 0.98, (N, d))
    mu, logvar = rng.normal(0.0, 1.0, (N, z)), rng.normal(0.0, 0.7, (N, z))
    w = weights(rng)

    def kl_rows(beta: float) -> torch.Tensor:
        # pytorch/examples vae/main.py: KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return beta * (-0.5 * torch.sum(1 + t(logvar) - t(mu).pow(2) - t(logvar).exp(), dim=1))

    ref = "pytorch/examples VAE loss: torch BCE (or MSE) summed over D + beta * KLD"
    bce_rows = F.binary_cross_entropy(t(p), t(y), reduction="none").sum(dim=1)
    mse_rows = F.mse_loss(t(p), t(y), reduction="none").sum(dim=1)
    inputs = {"target": y, "pred": p, "mu": mu, "logvar": logvar}
    for case_id, recon_rows, recon, beta, weight, reduction in (
        ("elbo-bce", bce_rows, "bce", 1.0, None, "mean"),
        ("elbo-mse", mse_rows, "mse", 1.0, None, "mean"),
        ("elbo-beta4-weighted", bce_rows, "bce", 4.0, w, "mean"),
        ("elbo-beta0-sum", mse_rows, "mse", 0.0, w, "sum"),
    ):
        rows = recon_rows + kl_rows(beta)
        add(
            "elbo",
            case_id,
            inputs,
            reduce(rows, weight, reduction),
            rows.numpy(),
            ref,
            params={"recon": recon, "beta": beta},
            sample_weight=weight,
            reduction=reduction,
        )
    # Probabilities of exactly 0 and 1: lossctl clips them to [eps, 1 - eps] as sklearn log_loss (torch's BCE
    # would cap each log at -100 instead); sklearn's log_loss(normalize=False) sums the row's D terms.
    y01 = (rng.uniform(size=(6, d)) < 0.5).astype(np.float64)
    p01 = rng.uniform(0.1, 0.9, (6, d))
    p01[0, :2] = [0.0, 1.0]
    p01[1, :2] = [1.0, 0.0]
    y01[0, :2] = [1.0, 0.0]
    y01[1, :2] = [1.0, 0.0]
    recon01 = np.array([log_loss(a, b, labels=[0, 1], normalize=False) for a, b in zip(y01, p01, strict=True)])
    mu01, lv01 = rng.normal(0.0, 1.0, (6, 2)), np.array([[0.0, 1e-9], [-30.0, 5.0], [700.0, 0.0]] * 2)
    kl01 = -0.5 * torch.sum(1 + t(lv01) - t(mu01).pow(2) - t(lv01).exp(), dim=1)
    rows01 = t(recon01) + kl01
    add(
        "elbo",
        "elbo-clipped-probabilities",
        {"target": y01, "pred": p01, "mu": mu01, "logvar": lv01},
        float(rows01.mean()),
        rows01.numpy(),
        "sklearn.metrics.log_loss(normalize=False) per row + pytorch/examples KLD",
    )


# --- issue 14: the peers' multi-class losses and parameters ---------------------------------------------------------

KERAS_3_15 = "keras/src/losses/losses.py (Keras 3.15.1)"


def keras_cross_check(expected: float, keras_value: float, what: str) -> None:
    """The transcribed Keras formula (float64) against Keras 3.15.1 itself, which computes in float32 here."""
    if abs(expected - keras_value) > 1e-5 * max(1.0, abs(expected)):
        raise ValueError(f"{what}: transcription {expected} differs from Keras {keras_value}")


def keras_categorical_hinge_rows(onehot: np.ndarray, x: np.ndarray) -> np.ndarray:
    # categorical_hinge: pos = sum(y_true * y_pred), neg = max((1 - y_true) * y_pred), maximum(neg - pos + 1, 0).
    pos = np.sum(onehot * x, axis=-1)
    neg = np.max((1.0 - onehot) * x, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


def keras_smoothed_cce_rows(onehot: np.ndarray, p: np.ndarray, label_smoothing: float) -> np.ndarray:
    # categorical_crossentropy: y_true * (1 - e) + e / K, then the backend's output / sum(output), clip to
    # [epsilon, 1 - epsilon], -sum(target * log(output)).
    y = onehot * (1.0 - label_smoothing) + label_smoothing / onehot.shape[1]
    output = np.clip(p / p.sum(axis=1, keepdims=True), KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return -np.sum(y * np.log(output), axis=1)


def keras_focal_rows(
    onehot: np.ndarray, x: np.ndarray, alpha: float, gamma: float, label_smoothing: float
) -> np.ndarray:
    # categorical_focal_crossentropy(from_logits=True): smooth y_true, softmax, output / sum, clip to
    # [epsilon, 1 - epsilon], sum(alpha * (1 - output)^gamma * -y_true log(output)).
    y = onehot * (1.0 - label_smoothing) + label_smoothing / onehot.shape[1]
    output = softmax(x)
    output = np.clip(output / output.sum(axis=1, keepdims=True), KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return np.sum(alpha * np.power(1.0 - output, gamma) * -y * np.log(output), axis=1)


def keras_version() -> str:
    import keras

    return keras.__version__


def keras_running(make: Any, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    import keras

    return float(make(keras)(y_true, y_pred))


def categorical_hinge_cases(rng: np.random.Generator) -> None:
    k = 4
    y = labels(rng, N, k)
    x = logits(rng, N, k)
    x[3] = [-1.0, -2.0, -0.5, -3.0]  # every score negative: the true class's zeroed entry is the max
    w = weights(rng)
    onehot = np.eye(k)[y.astype(int)]
    rows = keras_categorical_hinge_rows(onehot, x)
    ref = f"Keras categorical_hinge transcribed from {KERAS_3_15}"
    keras_cross_check(float(rows.mean()), keras_running(lambda m: m.losses.CategoricalHinge(), onehot, x), ref)
    add("categorical_hinge", "categorical_hinge-index", {"target": y, "pred": x}, rows.mean(), rows, ref)
    add("categorical_hinge", "categorical_hinge-one-hot", {"target": onehot, "pred": x}, rows.mean(), rows, ref)
    add("categorical_hinge", "categorical_hinge-weighted", {"target": y, "pred": x}, weighted_mean(rows, w), rows,
        ref + ", weighted mean sum(w l)/sum(w)", sample_weight=w)  # fmt: skip
    add("categorical_hinge", "categorical_hinge-keras", {"target": onehot, "pred": x}, keras_mean(rows, w, "mean"),
        rows, ref + ", sum_over_batch_size", convention="keras", sample_weight=w)  # fmt: skip
    big = np.array([[1e300, -1e300, 0.0], [-1e300, 1e300, 5.0], [0.0, 0.0, 0.0]])
    big_y = np.array([0.0, 0.0, 2.0])
    rows = keras_categorical_hinge_rows(np.eye(3)[big_y.astype(int)], big)
    add("categorical_hinge", "categorical_hinge-extreme", {"target": big_y, "pred": big}, rows.mean(), rows, ref)


def weighted_mean(rows: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * rows) / np.sum(w))


def brier_multiclass_cases(rng: np.random.Generator) -> None:
    k = 4
    y = labels(rng, N, k)
    p = dirichlet(rng, N, k)
    w = weights(rng)
    ref = "sklearn.metrics.brier_score_loss(labels=range(K)) (multi-class, range [0, 2])"
    rows = np.array([brier_score_loss([yi], [pi], labels=list(range(k))) for yi, pi in zip(y, p, strict=True)])
    value = brier_score_loss(y, p, labels=list(range(k)))
    add("brier_multiclass", "brier_multiclass-random", {"target": y, "pred": p}, value, rows, ref)
    add("brier_multiclass", "brier_multiclass-sklearn", {"target": y, "pred": p}, value, rows, ref,
        convention="sklearn")  # fmt: skip
    value = brier_score_loss(y, p, labels=list(range(k)), sample_weight=w)
    add("brier_multiclass", "brier_multiclass-weighted", {"target": y, "pred": p}, value, rows,
        ref + ", sample_weight", sample_weight=w)  # fmt: skip
    certain = np.eye(3)[[0, 1, 2, 0]]
    wrong = np.array([0.0, 2.0, 1.0, 0.0])
    value = brier_score_loss(wrong, certain, labels=[0, 1, 2])
    add("brier_multiclass", "brier_multiclass-certain", {"target": wrong, "pred": certain}, value, None,
        ref + " (certain predictions: 0 or 2 per row)")  # fmt: skip


def zero_one_cases(rng: np.random.Generator) -> None:
    k = 4
    y = labels(rng, N, k)
    x = logits(rng, N, k)
    w = weights(rng)
    ref = "sklearn.metrics.zero_one_loss(y, argmax(x))"
    decided = x.argmax(axis=1)
    rows = (decided != y).astype(float)
    add("zero_one", "zero_one-argmax", {"target": y, "pred": x}, zero_one_loss(y, decided), rows, ref)
    add("zero_one", "zero_one-weighted", {"target": y, "pred": x}, zero_one_loss(y, decided, sample_weight=w), rows,
        ref + ", sample_weight", sample_weight=w)  # fmt: skip
    add("zero_one", "zero_one-sklearn-sum", {"target": y, "pred": x}, zero_one_loss(y, decided, normalize=False),
        rows, ref + ", normalize=False", convention="sklearn", reduction="sum")  # fmt: skip
    yb = (rng.uniform(size=N) < 0.5).astype(float)
    pb = rng.uniform(size=N)
    pb[:3] = [0.5, 0.0, 1.0]
    for threshold in (0.5, 0.7):
        decided_b = (pb >= threshold).astype(int)
        params = {} if threshold == 0.5 else {"threshold": threshold}
        add("zero_one", f"zero_one-probability-threshold-{threshold}", {"target": yb, "pred": pb},
            zero_one_loss(yb, decided_b), None, f"sklearn.metrics.zero_one_loss(y, p >= {threshold})",
            params=params)  # fmt: skip
    label_y = np.array([0.0, 1.0, 2.0, 3.0, 2.0, 7.0])
    label_p = np.array([0.0, 1.0, 3.0, 3.0, 2.0, 7.0])
    add("zero_one", "zero_one-label-column", {"target": label_y, "pred": label_p}, zero_one_loss(label_y, label_p),
        None, "sklearn.metrics.zero_one_loss on labels")  # fmt: skip


def issue14_parameter_cases(rng: np.random.Generator) -> None:
    """label_smoothing of categorical_ce and focal_multiclass (Keras), kl_div log_target (torch), and
    categorical_ce on probability rows written with 6 decimals (scikit-learn uses them as given)."""
    k = 4
    y = labels(rng, N, k)
    onehot = np.eye(k)[y.astype(int)]
    p = dirichlet(rng, N, k, concentration=2.0)
    x = logits(rng, N, k)
    w = weights(rng)
    for e in (0.1, 0.3):
        rows = keras_smoothed_cce_rows(onehot, p, e)
        ref = f"Keras categorical_crossentropy(label_smoothing={e}) transcribed from {KERAS_3_15} (rows in [0.01, 1])"
        keras_cross_check(float(rows.mean()), keras_running(
            lambda m, e=e: m.losses.CategoricalCrossentropy(label_smoothing=e), onehot, p), ref)  # fmt: skip
        add("categorical_ce", f"categorical_ce-label-smoothing-{e}", {"target": y, "pred": p}, rows.mean(), rows, ref,
            params={"label_smoothing": e})  # fmt: skip
        add("categorical_ce", f"categorical_ce-label-smoothing-{e}-keras", {"target": onehot, "pred": p},
            keras_mean(rows, w, "mean"), rows, ref + ", sum_over_batch_size", params={"label_smoothing": e},
            convention="keras", sample_weight=w)  # fmt: skip
        for gamma in (2.0, 0.5):
            rows = keras_focal_rows(onehot, x, 1.0, gamma, e)
            ref = f"Keras categorical_focal_crossentropy(alpha=1, gamma={gamma}, from_logits=True, label_smoothing={e})"

            def focal_keras(m: Any, g: float = gamma, e: float = e) -> Any:
                return m.losses.CategoricalFocalCrossentropy(alpha=1.0, gamma=g, from_logits=True, label_smoothing=e)

            keras_cross_check(float(rows.mean()), keras_running(focal_keras, onehot, x), ref)
            add("focal_multiclass", f"focal_multiclass-label-smoothing-{e}-gamma-{gamma}", {"target": y, "pred": x},
                rows.mean(), rows, ref + f", transcribed from {KERAS_3_15}",
                params={"gamma": gamma, "label_smoothing": e})  # fmt: skip
        rows = keras_focal_rows(onehot, x, 0.25, 2.0, e)
        add("focal_multiclass", f"focal_multiclass-label-smoothing-{e}-alpha", {"target": y, "pred": x}, rows.mean(),
            rows, f"Keras categorical_focal_crossentropy(alpha=0.25, label_smoothing={e}); lossctl alpha per class",
            params={"alpha": [0.25] * k, "label_smoothing": e})  # fmt: skip
    rounded = np.round(p, 6)
    rounded[0] = [0.333333, 0.333333, 0.333333, 0.0]
    rows = sk_log_loss_rows(y, rounded, k)
    ref = "sklearn.metrics.log_loss on probabilities rounded to 6 decimals (rows off by up to 1e-6, used as given)"
    add("categorical_ce", "categorical_ce-six-decimals", {"target": y, "pred": rounded}, rows.mean(), rows, ref)
    add("categorical_ce", "categorical_ce-six-decimals-sklearn", {"target": y, "pred": rounded}, rows.mean(), rows,
        ref, convention="sklearn")  # fmt: skip
    q = dirichlet(rng, N, k)
    log_q, log_target = np.log(p), np.log(q)
    log_target[1] = np.log([1.0, 1e-300, 1e-300, 1e-300])  # nearly one-hot: exp(t) underflows nowhere
    q = np.exp(log_target)
    rows = torch.nn.KLDivLoss(reduction="none", log_target=True)(t(log_q), t(log_target)).sum(dim=1).numpy()
    value = float(torch.nn.KLDivLoss(reduction="batchmean", log_target=True)(t(log_q), t(log_target)))
    ref = "torch.nn.KLDivLoss(reduction='batchmean', log_target=True)(log p, log y), float64"
    add("kl_div", "kl_div-log-target", {"target": log_target, "pred": p}, value, rows, ref,
        params={"log_target": True})  # fmt: skip
    add("kl_div", "kl_div-log-target-torch-weighted", {"target": log_target, "pred": p},
        weighted_mean(rows, w), rows, ref + "; reduction='none' rows, weighted mean", params={"log_target": True},
        convention="torch", sample_weight=w)  # fmt: skip
    rows = torch.nn.KLDivLoss(reduction="none", log_target=True)(
        torch.log_softmax(t(x), dim=1), t(log_target)).sum(dim=1).numpy()  # fmt: skip
    add("kl_div", "kl_div-log-target-from-logits", {"target": log_target, "pred": x}, rows.mean(), rows,
        ref + " with log p = log_softmax(x)", params={"log_target": True, "from_logits": True})  # fmt: skip


def main() -> None:
    torch.set_default_dtype(F64)
    cross_entropy_cases(np.random.default_rng(201))
    nll_cases(np.random.default_rng(202))
    categorical_ce_cases(np.random.default_rng(203))
    multiclass_hinge_cases(np.random.default_rng(204))
    multi_margin_cases(np.random.default_rng(205))
    divergence_cases(np.random.default_rng(206))
    focal_cases(np.random.default_rng(207))
    class_balanced_cases(np.random.default_rng(208))
    distillation_cases(np.random.default_rng(209))
    elbo_cases(np.random.default_rng(210))
    categorical_hinge_cases(np.random.default_rng(211))
    brier_multiclass_cases(np.random.default_rng(212))
    zero_one_cases(np.random.default_rng(213))
    issue14_parameter_cases(np.random.default_rng(214))
    write_golden(
        OUT,
        "tests/reference/generate_multiclass.py",
        {
            "scikit-learn": sklearn.__version__,
            "scipy": scipy.__version__,
            "keras": "formulas from keras-team/keras keras/src/backend/numpy/nn.py, keras/src/losses/losses.py; "
            f"issue 14's cross-checked against Keras {keras_version()}",
        },
    )


if __name__ == "__main__":
    main()
