"""Multi-class losses: ``pred`` holds K columns (logits, probabilities or log-probabilities) and ``target`` a
class index in 0..K-1 (an integer-valued float) or, where a loss allows it, K columns of a target distribution.

Float64 throughout. Softmax goes through a log-sum-exp that leaves the largest logit's own term out of the sum
(``log1p`` of the other classes' mass), so logits of +-1e4 give exact finite values and a probability close to
1 keeps the digits of its complement.

Two losses depend on the whole input, not on each row alone, and return several contribution columns that
their :class:`~lossctl.aggregates.Aggregate` resolves once every chunk is merged (the engine adds the chunks'
weighted column sums):

- ``cross_entropy`` / ``nll`` with ``class_weight`` or ``ignore_index``: ``[loss, class weight of the target,
  ignored]``, the weighted mean dividing by the targets' class weights as torch; with ``class_weight=balanced``,
  ``[per-class loss parts (K), per-class counts (K), class-index targets?, ignored]``, the weights
  ``n / (K n_c)`` being known only at the end. Without either parameter the rows are the per-row losses.
- ``class_balanced``: ``[per-class loss parts (C), per-class counts (C)]``, the effective-number weights of
  Cui et al. computed from the whole input's counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from lossctl.aggregates import (
    MEAN,
    MEAN_OVER_ROWS,
    Aggregate,
    Notice,
    Stats,
    counted_rows,
    weight_sum,
    weighted_mean,
)
from lossctl.errors import InputError, UsageError, ZeroWeightSum, option
from lossctl.losses._checks import (
    at_least,
    at_most,
    binary_labels,
    class_indices,
    distributions,
    probabilities,
    reject,
    sklearn_labels,
)
from lossctl.losses._shared import negated
from lossctl.losses.binary import bce_elementwise, bce_logits, clipped_rows
from lossctl.registry import Convention, Param, Properties, Role, Violation, keras, register_loss
from lossctl.text import count

# sklearn log_loss clips to np.finfo(y_proba.dtype).eps (sklearn/metrics/_classification.py, _log_loss, 1.9.1).
_MACHINE_EPS = float(np.finfo(np.float64).eps)
# keras.backend.epsilon(): Keras uses 1e-7 whatever the dtype.
_KERAS_EPSILON = 1e-7
# exp(logvar) overflows float64 beyond log(max float) = 709.78.
_MAX_LOG_VARIANCE = math.log(float(np.finfo(np.float64).max))

_TARGET_ANY = Role("target", "a class index in 0..K-1, or K columns of a target distribution", shape="any")
_TARGET_INDEX = Role("target", "a class index in 0..K-1")
_TARGET_DISTRIBUTION = Role("target", "K columns of a target distribution", shape="vector")
_LOGITS = Role("pred", "K columns of logits, one per class", shape="vector")

_CLASS_WEIGHT = Param(
    "class_weight",
    None,
    "one weight per class (a list 1,2,0.5) or 'balanced' (scikit-learn's n / (K n_c), counted over the whole "
    "input); with class-index targets the weighted mean divides by the sum of the targets' weights (torch)",
    kind="floats",
    minimum=0.0,
    choices=("balanced",),
)
_IGNORE_INDEX = Param(
    "ignore_index",
    None,
    "rows whose class index equals it contribute nothing and leave the denominator (torch's default is -100); "
    "class-index targets only",
    kind="int",
)


# --- shapes and shared pieces -------------------------------------------------------------------------------------


def _columns(values: np.ndarray) -> np.ndarray:
    """A vector role bound to a single plain column arrives as 1-D: read it as one column."""
    return values.reshape(len(values), -1)


def _n_classes(pred: np.ndarray, role: str = "pred") -> int:
    k = pred.shape[1]
    if k < 2:
        raise InputError(
            f"'{role}' has {k} column{'s' if k != 1 else ''}; a multi-class loss needs one column per class "
            "(K >= 2); for one logit or probability per row use a binary loss (bce_logits, bce)"
        )
    return k


def _same_width(values: np.ndarray, role: str, other: np.ndarray, other_role: str) -> None:
    if values.shape[1] != other.shape[1]:
        raise InputError(
            f"'{role}' has {count(values.shape[1], 'column')} but '{other_role}' has {other.shape[1]}: "
            "both need one column per class (or per component), in the same order"
        )


def _per_class(values: tuple[float, ...] | None, name: str, n_classes: int) -> np.ndarray | None:
    if values is None:
        return None
    if len(values) != n_classes:
        raise InputError(
            f"parameter '{name}' has {count(len(values), 'value')} but 'pred' has {n_classes} columns: "
            "give one per class"
        )
    return np.asarray(values, dtype=np.float64)


def _indices(target: np.ndarray, n_classes: int, ignored: np.ndarray | None = None) -> np.ndarray:
    """The class-index targets as integers (0 in ignored rows); non-integers or indices outside 0..K-1 are
    domain errors naming K."""
    class_indices(target, n_classes, skip=ignored)
    index = target.astype(np.intp)
    if ignored is not None:
        index[ignored] = 0
    return index


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise ``log softmax(x)``. The largest logit's term (exactly 1 after the shift) is left out of the sum
    and added back by ``log1p``: ``-log1p(e^-40)`` is 4.2e-18, which ``log(1 + e^-40)`` rounds to 0.

    Worked column by column (the Arrow layout, in which the engine hands over K columns): a row-wise
    ``argmax`` across a 10-wide row-major axis measured 1.6 times slower for the same numbers.
    """
    rows, classes = x.shape
    columns = x if x.flags.f_contiguous else np.asfortranarray(x)
    top = columns[:, 0].copy()
    for k in range(1, classes):
        np.maximum(top, columns[:, k], out=top)
    shifted = np.subtract(columns, top[:, None], order="F")
    others = np.exp(shifted)
    excluded = np.zeros(rows, dtype=bool)  # one top term per row: the first column holding the maximum
    total = np.zeros(rows)
    for k in range(classes):
        column = others[:, k]
        is_top = shifted[:, k] == 0.0
        is_top &= ~excluded
        np.copyto(column, 0.0, where=is_top)
        excluded |= is_top
        total += column
    np.log1p(total, out=total)
    shifted -= total[:, None]
    return shifted


# g(t) = t - log1p(t) = t^2 (1/2 - t/3 + t^2/4 - ...) for |t| <= 0.1, where the difference would cancel: 16 terms
# leave 0.1^16 / 9 relative. Beyond 0.1 the difference loses at most 5 bits.
_G_SERIES = tuple((-1.0) ** k / (k + 2) for k in range(16))
_G_SERIES_LIMIT = 0.1


def _t_minus_log1p(t: np.ndarray) -> np.ndarray:
    """``t - log1p(t) >= 0`` for ``t > -1``, to a few ulps relative (the series near 0)."""
    out = t - np.log1p(t)
    small = np.abs(t) <= _G_SERIES_LIMIT
    if small.any():
        ts = t[small]
        series = np.full_like(ts, _G_SERIES[-1])
        for coefficient in _G_SERIES[-2::-1]:
            series *= ts
            series += coefficient
        out[small] = ts * ts * series
    return out


def _mixture_terms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a log(2a / (a + b)) + b log(2b / (a + b))`` per element (one class's share of 2 JS), ``0 log 0 = 0``; >= 0.

    Where ``a`` and ``b`` are within a factor 3 the two logs are about ``-u`` and ``u`` (``u = (b - a) / 2a``)
    and their sum cancels (1 - 1e-16 against 1 gave -2e-17 for a JS of 3.5e-17): there it is written as
    ``a g(u) + b g(v)``, ``g(t) = t - log1p(t)``, ``v = (a - b) / 2b``, since ``-log1p(u) = g(u) - u`` and the
    first-order parts ``a u + b v`` are exactly 0; every term is >= 0. Elsewhere the sum is at least
    ``0.13 (a + b)`` and the logs are written directly, ``2a / (a + b)`` rather than ``a / m`` (``m = (a + b) / 2``
    underflows to 0 for a subnormal ``a``)."""
    out = np.zeros_like(a)
    close = (a > 0) & (b > 0) & (a <= 3.0 * b) & (b <= 3.0 * a)
    x, z = a[close], b[close]
    out[close] = x * _t_minus_log1p((z - x) / (2.0 * x)) + z * _t_minus_log1p((x - z) / (2.0 * z))
    total = a + b
    for values, far in ((a, (a > 0) & ~close), (b, (b > 0) & ~close)):
        out[far] += values[far] * np.log(2.0 * values[far] / total[far])
    return out


# --- cross_entropy and nll: class weights, balanced weights, ignored rows -------------------------------------------


def _weighted_nll(
    target: np.ndarray,
    log_p: np.ndarray,
    *,
    label_smoothing: float,
    class_weight: tuple[float, ...] | str | None,
    ignore_index: int | None,
) -> np.ndarray:
    """The contributions of torch's ``cross_entropy`` on log-probabilities ``log_p`` (see the module docstring
    for the column layouts); aten/src/ATen/native/LossNLL.cpp (cross_entropy_loss_label_smoothing and
    cross_entropy_loss_prob_target) is the definition followed term by term."""
    n, k = log_p.shape
    nll = negated(log_p)
    eps = label_smoothing
    if target.ndim == 2:
        _same_width(target, "target", log_p, "pred")
        distributions(target, "target")
        if ignore_index is not None:
            raise UsageError(
                f"parameter 'ignore_index' applies to class-index targets only; 'target' has {k} columns "
                "(a distribution per row): drop ignore_index"
            )
        hard = False
        ignored = np.zeros(n, dtype=bool)
        share = target if eps == 0.0 else target * (1.0 - eps) + eps / k
    else:
        hard = True
        ignored = target == ignore_index if ignore_index is not None else np.zeros(n, dtype=bool)
        index = _indices(target, k, ignored)
    if class_weight == "balanced":
        if hard:
            counts = np.zeros((n, k))
            counts[np.flatnonzero(~ignored), index[~ignored]] = 1.0
            share = counts if eps == 0.0 else counts * (1.0 - eps) + (eps / k) * (~ignored)[:, None]
        else:
            counts = target
        flags = np.column_stack([np.full(n, float(hard)), ignored.astype(np.float64)])
        return np.hstack([share * nll, counts, flags])
    weights = None if isinstance(class_weight, str) else _per_class(class_weight, "class_weight", k)
    if hard:
        target_weight = np.ones(n) if weights is None else weights[index]
        loss = target_weight * nll[np.arange(n), index]
        if eps > 0.0:
            # torch: (1 - e) w_y nll_y + (e / K) sum_k w_k nll_k, both masked for ignored rows.
            spread = nll.sum(axis=1) if weights is None else nll @ weights
            loss = (1.0 - eps) * loss + (eps / k) * spread
        loss = np.where(ignored, 0.0, loss)
        denominator = np.where(ignored, 0.0, target_weight)
    else:
        # torch: -sum_k w_k y_k log p_k per row, and the mean divides by the number of rows.
        terms = share * nll
        loss = terms.sum(axis=1) if weights is None else terms @ weights
        denominator = np.ones(n)
    if class_weight is None and ignore_index is None:
        return loss
    return np.column_stack([loss, denominator, ignored.astype(np.float64)])


def _balanced_weights(counts: np.ndarray) -> np.ndarray:
    """scikit-learn's ``n / (K n_c)`` (compute_class_weight('balanced'), weighted counts with sample weights)
    over the K classes present; absent classes get 0 (scikit-learn refuses them; only label smoothing or a
    soft target can reach them)."""
    present = counts > 0
    weights = np.zeros(len(counts))
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def _class_weighted_finalize(
    stats: Stats, reduction: str, params: Mapping[str, Any], whole: Stats | None = None
) -> float:
    """torch's class-weighted mean; ``balanced`` weights come from the class counts of ``whole`` (the whole input,
    when ``stats`` are a ``--by`` group's) or of ``stats`` themselves."""
    values = np.asarray(stats, dtype=np.float64)
    if params["class_weight"] == "balanced":
        k = (len(values) - 4) // 2
        counts = values[k : 2 * k]
        weights = _balanced_weights(np.asarray(whole if whole is not None else stats, dtype=np.float64)[k : 2 * k])
        numerator = float(values[:k] @ weights)
        hard = values[2 * k] > 0
        denominator = float(weights @ counts) if hard else float(values[-2])
    elif params["class_weight"] is not None or params["ignore_index"] is not None:
        numerator, denominator = float(values[0]), float(values[1])
    else:
        numerator, denominator = float(values[0]), float(values[-2])
    if reduction == "sum":
        return numerator
    if denominator <= 0:
        weight_sum(values)  # sample weights that sum to zero: the message of every weighted mean
        raise ZeroWeightSum(
            "nothing to average: every row is ignored (ignore_index) or has a class weight or sample weight of 0",
            summable=True,
        )
    return numerator / denominator


def _ignored_rows(stats: Stats, params: Mapping[str, Any]) -> list[Notice]:
    ignore_index = params.get("ignore_index")
    if ignore_index is None or stats[-3] <= 0:
        return []
    ignored, weight_sum, rows = float(stats[-3]), float(stats[-2]), float(stats[-1])
    what = f"ignored (ignore_index={ignore_index})"
    if weight_sum == rows:  # unit sample weights: the weighted count is the row count
        count = round(ignored)
        return [Notice(f"{count} row{'s' if count != 1 else ''}", what)]
    return [Notice(f"rows carrying {ignored:g} of the total sample weight {weight_sum:g}", what)]


CLASS_WEIGHTED_MEAN = Aggregate(
    "class_weighted_mean",
    _class_weighted_finalize,
    notices=_ignored_rows,
    finalize_part=lambda part, whole, reduction, params: _class_weighted_finalize(part, reduction, params, whole),
    doc="torch's weighted mean: sum(w_class * w * l) / sum(w_class * w) over the rows not ignored",
)


def _keras_cross_entropy(
    target: np.ndarray,
    pred: np.ndarray,
    *,
    label_smoothing: float,
    class_weight: tuple[float, ...] | str | None,
    ignore_index: int | None,
) -> np.ndarray:
    # keras/src/losses/losses.py categorical_crossentropy(from_logits=True) smooths y_true * (1 - e) + e / K, then
    # the backend takes -sum(target * log_softmax(output)): no clipping from logits. class_weight and
    # ignore_index are None (the convention refuses them).
    pred = _columns(pred)
    _n_classes(pred)
    return _probability_rows(target, _log_softmax(pred), label_smoothing)


@register_loss(
    "cross_entropy",
    on_probabilities="categorical_ce",
    aliases=("ce", "softmax_ce"),
    task="multiclass",
    violation=Violation("target", 99.0),
    summary="Softmax cross-entropy of K logits against a class index or a target distribution.",
    formula="l = -log softmax(x)_y (class index); -sum_k y_k log softmax(x)_k (distribution); label smoothing, "
    "class weights and ignore_index as torch",
    follows="torch CrossEntropyLoss",
    roles=(_TARGET_ANY, _LOGITS),
    params=(
        Param(
            "label_smoothing",
            0.0,
            "mix the target with the uniform distribution as torch: y <- y (1 - e) + e / K",
            minimum=0.0,
            maximum=1.0,
            max_exclusive=True,
        ),
        _CLASS_WEIGHT,
        _IGNORE_INDEX,
    ),
    aggregate=CLASS_WEIGHTED_MEAN,
    properties=Properties(
        convex="yes, in the logits",
        robust="no, but grows only linearly in the logit gap for confident mistakes",
        expects="logits (any real), K >= 2 columns; a class index or K columns of a distribution as target",
        range="[0, inf); with soft or smoothed targets the minimum is their entropy, not 0",
    ),
    when="The standard loss of a softmax classifier, evaluated on the logits it was trained on (exact where "
    "probabilities round to 0 or 1). class_weight reproduces a weighted torch criterion (balanced: "
    "scikit-learn's inverse class frequencies); ignore_index skips padding labels such as -100. Use "
    "categorical_ce when only probabilities were saved.",
    # aten/src/ATen/native/LossNLL.cpp (pytorch/pytorch@0321fa77): cross_entropy_loss_label_smoothing divides the
    # smoothing term by the targets' weights too; cross_entropy_loss_prob_target divides by N whatever the weights.
    conventions={
        "torch": Convention(
            "Same formula as lossctl (CrossEntropyLoss(weight=class_weight, ignore_index, label_smoothing); torch's "
            "own ignore_index default is -100, lossctl's none). torch has no sample weights: with them lossctl "
            "weighs both sums of the class-weighted mean."
        ),
        "keras": keras(
            "Same formula as lossctl (CategoricalCrossentropy(from_logits=True), and SparseCategoricalCrossentropy"
            "(from_logits=True) for class indices: log-softmax, no clipping); label_smoothing as lossctl (Keras' "
            "sparse form has none).",
            func=_keras_cross_entropy,
            lacks={
                "class_weight": "CategoricalCrossentropy has no class weights",
                "ignore_index": "SparseCategoricalCrossentropy's ignore_class is not imitated",
            },
        ),
    },
)
def cross_entropy(
    target: np.ndarray,
    pred: np.ndarray,
    *,
    label_smoothing: float,
    class_weight: tuple[float, ...] | str | None,
    ignore_index: int | None,
) -> np.ndarray:
    """``-log softmax(x)_y`` per row via log-sum-exp; ``-sum_k y_k log softmax(x)_k`` for K-column targets.

    Exactly torch ``CrossEntropyLoss``: ``label_smoothing`` e replaces the target by ``(1 - e) onehot + e / K``;
    ``class_weight`` w multiplies each class's term and, with class-index targets, the mean divides by
    ``sum w_y`` (sample weights multiply both sums); with K-column targets it divides by the rows (sum of the
    sample weights). ``balanced`` is scikit-learn's ``n / (K n_c)`` counted over the whole input (weighted
    counts with sample weights; K is the number of classes present). ``ignore_index`` rows count nowhere.
    Domain: any real logits, K >= 2; a class index in 0..K-1, or rows of K probabilities summing to 1 within
    1e-6. Example: y = [0, 1], x = [[0, 0], [1e4, -1e4]] gives rows [log 2, 2e4] and a mean of 1e4 + log(2) / 2.
    """
    pred = _columns(pred)
    _n_classes(pred)
    return _weighted_nll(
        target,
        _log_softmax(pred),
        label_smoothing=label_smoothing,
        class_weight=class_weight,
        ignore_index=ignore_index,
    )


@register_loss(
    "nll",
    task="multiclass",
    violation=Violation("target", 99.0),
    summary="Negative log-likelihood of K log-probabilities (a log_softmax output) at the target class.",
    formula="l = -w_y log p_y; weighted mean sum(w_y l) / sum(w_y) as torch",
    follows="torch NLLLoss",
    roles=(_TARGET_INDEX, Role("pred", "K columns of log-probabilities (log_softmax outputs)", shape="vector")),
    params=(_CLASS_WEIGHT, _IGNORE_INDEX),
    aggregate=CLASS_WEIGHTED_MEAN,
    properties=Properties(
        convex="yes, in the log-probabilities (linear)",
        robust="no: a log-probability of -1000 costs 1000",
        expects="log-probabilities (<= 0), K >= 2 columns; a class index as target",
        range="[0, inf)",
    ),
    when="Scoring a model whose outputs were saved after log_softmax (torch's NLLLoss pipeline). On raw logits "
    "use cross_entropy; on probabilities use categorical_ce.",
    conventions={
        "torch": Convention(
            "Same formula as lossctl (NLLLoss(weight=class_weight, ignore_index); torch's own ignore_index default "
            "is -100, lossctl's none). torch takes any number as a log-probability; lossctl refuses one above 0 "
            "under this convention too: a probability above 1 means the columns are not log_softmax outputs "
            "(logits or probabilities), and the number would score nothing."
        ),
    },
)
def nll(
    target: np.ndarray,
    pred: np.ndarray,
    *,
    class_weight: tuple[float, ...] | str | None,
    ignore_index: int | None,
) -> np.ndarray:
    """``-log p_y`` per row, ``pred`` holding log-probabilities; ``class_weight`` and ``ignore_index`` as torch.

    With class weights the mean divides by ``sum w_y`` over the rows not ignored (torch ``NLLLoss``);
    ``balanced`` as in ``cross_entropy``. Domain: log-probabilities <= 0, K >= 2 columns; a class index in
    0..K-1. The rows are not checked to be normalised. Example: y = [0, 1], log p = [[log 0.5, log 0.5],
    [log 0.8, log 0.2]] gives rows [log 2, log 5] and a mean of 1.151293; with class_weight = [1, 3] the mean is
    (log 2 + 3 log 5) / 4 = 1.380365.
    """
    pred = _columns(pred)
    _n_classes(pred)
    at_most(pred, 0.0, "pred", "log-probabilities <= 0")
    return _weighted_nll(target, pred, label_smoothing=0.0, class_weight=class_weight, ignore_index=ignore_index)


# --- probabilities ------------------------------------------------------------------------------------------------


# Probability rows written with 6 decimals sum to 1 within K * 5e-7: accepted up to 1e-4 and used as given,
# with a notice counting the rows off by more than 1e-6 (docs/losses.md, categorical_ce).
_ROW_SUM_TOLERANCE = 1e-4
_ROW_SUM_NOTICE = 1e-6


def _probability_rows_of(pred: np.ndarray, *, keras_renormalises: bool = False) -> np.ndarray:
    """Check rows of K probabilities summing to 1 within 1e-4 and return, per row, whether it is off by more
    than 1e-6 (the notice's count). Beyond the tolerance the error names Keras' renormalising convention where
    the loss has it (``keras_renormalises``)."""
    probabilities(pred, "pred")
    sums = pred.sum(axis=1)
    hint = f" ({option('convention', 'keras')} divides each row by its sum)" if keras_renormalises else ""
    reject(
        "pred",
        f"rows of probabilities summing to 1 within {_ROW_SUM_TOLERANCE:g}{hint}",
        sums,
        np.abs(sums - 1.0) > _ROW_SUM_TOLERANCE,
    )
    return (np.abs(sums - 1.0) > _ROW_SUM_NOTICE).astype(np.float64)


def _rows_off(stats: Stats, params: Mapping[str, Any]) -> list[Notice]:
    """The notice of probability rows used as given though they sum to 1 only within 1e-4, and of the rows
    whose probabilities were clipped."""
    amount = counted_rows(stats)
    what = (
        f"of pred: probabilities summing to 1 only within {_ROW_SUM_TOLERANCE:g} (off by more than "
        f"{_ROW_SUM_NOTICE:g}), used as given, not renormalised"
    )
    return ([Notice(amount, what)] if amount is not None else []) + clipped_rows("scikit-learn", 2)(stats, params)


ROW_SUM_MEAN = Aggregate("mean", weighted_mean, notices=_rows_off, doc=MEAN.doc)


def _one_hot(target: np.ndarray, k: int) -> np.ndarray:
    """Class-index targets as rows of K one-hot columns; K-column targets as they are (after the width check)."""
    if target.ndim == 2:
        return target
    rows = np.zeros((len(target), k))
    rows[np.arange(len(target)), _indices(target, k)] = 1.0
    return rows


def _probability_rows(target: np.ndarray, log_p: np.ndarray, label_smoothing: float = 0.0) -> np.ndarray:
    """``-log p_y`` (class index) or ``-sum_k y_k log p_k`` (distribution) from clipped ``log_p``; label smoothing
    e replaces the target by ``y (1 - e) + e / K`` first (Keras)."""
    n, k = log_p.shape
    if target.ndim == 2:
        _same_width(target, "target", log_p, "pred")
        distributions(target, "target")
    if label_smoothing == 0.0 and target.ndim == 1:
        return negated(log_p[np.arange(n), _indices(target, k)])
    y = _one_hot(target, k)
    if label_smoothing > 0.0:
        y = y * (1.0 - label_smoothing) + label_smoothing / k
    return negated((y * log_p).sum(axis=1))


def _sklearn_categorical_ce(target: np.ndarray, pred: np.ndarray, **params: Any) -> np.ndarray:
    # sklearn/metrics/_classification.py log_loss (1.9.1) binarizes y_true: K target columns are read as class
    # labels (one-hot rows), and a target distribution is refused ("Multioutput target data is not supported").
    if target.ndim == 2 and target.shape[1] > 1:
        sklearn_labels(target, "log_loss")
    return categorical_ce(target, pred, **params)


def _keras_categorical_ce(target: np.ndarray, pred: np.ndarray, *, eps: float, label_smoothing: float) -> np.ndarray:
    # keras/src/backend/numpy/nn.py categorical_crossentropy (keras-team/keras@020b8b26; the TensorFlow backend
    # matches): output / sum(output), then clip to [epsilon, 1 - epsilon], then -sum(target * log(output));
    # keras/src/losses/losses.py categorical_crossentropy smooths y_true * (1 - e) + e / K before. As Keras divides
    # first, only the rows' proportions count: any values >= 0 ([2, 3, 5] is [0.2, 0.3, 0.5]) with a positive sum.
    pred = _columns(pred)
    _n_classes(pred)
    at_least(pred, 0.0, "pred")
    sums = pred.sum(axis=1)
    if not np.isfinite(sums).all():  # values near float64's largest: their sum overflows, their proportions do not
        pred = pred / np.maximum(pred.max(axis=1, keepdims=True), np.finfo(np.float64).tiny)
        sums = pred.sum(axis=1)
    reject("pred", "rows with a positive sum (Keras divides by it)", sums, sums <= 0)
    shares = pred / sums[:, None]
    log_p = np.log(np.clip(shares, eps, 1.0 - eps))
    return np.column_stack([_probability_rows(target, log_p, label_smoothing), _clipped(shares, eps)])


def _clipped(pred: np.ndarray, eps: float) -> np.ndarray:
    """1 for each row with a probability clipped to ``[eps, 1 - eps]``, else 0 (counted in a notice)."""
    return np.asarray(((pred < eps) | (pred > 1.0 - eps)).any(axis=1), dtype=np.float64)


_KERAS_LABEL_SMOOTHING = Param(
    "label_smoothing",
    0.0,
    "mix the target with the uniform distribution as Keras: y <- y (1 - e) + e / K (class indices one-hot first)",
    minimum=0.0,
    maximum=1.0,
)


@register_loss(
    "categorical_ce",
    aliases=("multi_log_loss",),
    task="multiclass",
    violation=Violation("pred", 0.5, add=True),
    summary="Multi-class log loss of predicted class probabilities.",
    formula="l = -log p_y, p clipped to [eps, 1 - eps]; soft targets: -sum_k y_k log p_k",
    follows="sklearn log_loss (multi-class), Keras CategoricalCrossentropy",
    roles=(_TARGET_ANY, Role("pred", "K columns of class probabilities summing to 1", shape="vector")),
    params=(
        Param(
            "eps",
            _MACHINE_EPS,
            "probabilities are clipped to [eps, 1 - eps] (float64 machine epsilon, as sklearn)",
            minimum=0.0,
            maximum=0.5,
            min_exclusive=True,
            max_exclusive=True,
        ),
        _KERAS_LABEL_SMOOTHING,
    ),
    aggregate=ROW_SUM_MEAN,
    properties=Properties(
        convex="yes, in p",
        robust="no: a confident wrong prediction costs up to -log(eps) (36.04 with the default eps)",
        expects="K >= 2 columns of probabilities summing to 1; a class index or a distribution as target",
        range="[0, -log(eps)]; with soft targets the minimum is the entropy of y, not 0",
    ),
    when="Evaluating saved class probabilities (predict_proba, softmax outputs): the multi-class log loss of "
    "scikit-learn and Kaggle, a strictly proper scoring rule. Rows must sum to 1 (within 1e-4, so probabilities "
    "written with 6 decimals pass). When logits were saved, cross_entropy is exact where probabilities round to "
    "0 or 1.",
    conventions={
        "sklearn": Convention(
            "Same formula as lossctl (log_loss clips p to the float64 eps; it only warns on rows that do not sum "
            "to 1, where lossctl rejects rows off by more than 1e-4). sklearn has no label smoothing, and K target "
            "columns must be one-hot (log_loss refuses target distributions).",
            func=_sklearn_categorical_ce,
            lacks={
                "eps": "log_loss clips to the float64 machine epsilon; its eps parameter was removed in 1.5",
                "label_smoothing": "log_loss has no label smoothing",
            },
        ),
        "keras": keras(
            "Keras CategoricalCrossentropy (and SparseCategoricalCrossentropy for class indices) divides each row "
            "by its sum, so rows need not sum to 1 (any values >= 0 with a positive sum: [2, 3, 5] is [0.2, 0.3, "
            "0.5]), then clips p to [1e-7, 1 - 1e-7] (eps = "
            "keras.backend.epsilon()); label_smoothing as lossctl (Keras' sparse form has none).",
            func=_keras_categorical_ce,
            defaults={"eps": _KERAS_EPSILON},
            aggregate=replace(MEAN_OVER_ROWS, notices=clipped_rows("Keras")),
            lacks={"eps": "Keras clips at 1e-7, keras.backend.epsilon()"},
        ),
    },
)
def categorical_ce(target: np.ndarray, pred: np.ndarray, *, eps: float, label_smoothing: float) -> np.ndarray:
    """``-log p_y`` per row (``-sum_k y_k log p_k`` for K-column targets), ``p`` clipped to ``[eps, 1 - eps]``.

    Domain: K >= 2 columns of probabilities in [0, 1] whose rows sum to 1 within 1e-4 (used as given, not
    renormalised; rows off by more than 1e-6 are counted in a notice); a class index in 0..K-1 or rows of a
    target distribution. ``label_smoothing`` e replaces the target by ``y (1 - e) + e / K`` (Keras). Follows
    sklearn ``log_loss``. Example: y = [0, 2], p = [[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]] gives rows
    [log 2, -log 0.8] and a mean of 0.458145.
    """
    pred = _columns(pred)
    _n_classes(pred)
    off = _probability_rows_of(pred, keras_renormalises=True)
    losses = _probability_rows(target, np.log(np.clip(pred, eps, 1.0 - eps)), label_smoothing)
    return np.column_stack([losses, off, _clipped(pred, eps)])


# --- margins ------------------------------------------------------------------------------------------------------


@register_loss(
    "multiclass_hinge",
    task="multiclass",
    violation=Violation("target", 99.0),
    summary="Crammer-Singer multi-class hinge loss of K decision scores.",
    formula="l = max(0, 1 + max_{k != y} x_k - x_y)",
    follows="sklearn hinge_loss (multi-class, Crammer-Singer)",
    roles=(_TARGET_INDEX, Role("pred", "K columns of decision scores, one per class", shape="vector")),
    properties=Properties(
        convex="yes, in the scores",
        robust="partly: grows linearly with the margin violation",
        expects="decision scores (any real), K >= 2 columns; a class index as target",
        range="[0, inf)",
    ),
    when="Evaluating a multi-class SVM or any scorer by its margin (sklearn's decision_function): zero once the "
    "true class beats every other class by 1, linear beyond. It ignores calibration; use cross_entropy for "
    "logits meant as log-odds.",
    conventions={
        "sklearn": Convention(
            "Same formula as lossctl (hinge_loss with labels=range(K); with K = 2 scikit-learn takes one decision "
            "value per row, which is lossctl's loss with x_1 - x_0 as that value)."
        ),
    },
)
def multiclass_hinge(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``max(0, 1 - (x_y - max_{k != y} x_k))`` per row (Crammer and Singer 2001).

    Domain: any real scores, K >= 2 columns; a class index in 0..K-1. Follows sklearn ``hinge_loss``
    (multi-class). Example: y = [0, 2], x = [[2, 0.5, -1], [1, 0, 0.5]] gives margins [1.5, -0.5], rows [0, 1.5]
    and a mean of 0.75.
    """
    pred = _columns(pred)
    k = _n_classes(pred)
    rows = np.arange(len(pred))
    index = _indices(target, k)
    others = pred.copy()
    others[rows, index] = -np.inf
    return np.maximum(1.0 - (pred[rows, index] - others.max(axis=1)), 0.0)


@register_loss(
    "multi_margin",
    task="multiclass",
    violation=Violation("target", 99.0),
    summary="torch's multi-class margin loss: the mean over classes of the (squared) margin violations.",
    formula="l = w_y sum_{k != y} max(0, margin - x_y + x_k)^p / K",
    follows="torch MultiMarginLoss",
    roles=(_TARGET_INDEX, Role("pred", "K columns of scores, one per class", shape="vector")),
    params=(
        Param("margin", 1.0, "the lead x_y - x_k each other class must leave to cost nothing"),
        Param("p", 1, "exponent of each violation: 1 or 2 (as torch)", kind="int", minimum=1, maximum=2),
        Param(
            "class_weight",
            None,
            "one weight per class multiplying the rows of that class (torch's weight); the mean still divides "
            "by the rows",
            kind="floats",
            minimum=0.0,
        ),
    ),
    properties=Properties(
        convex="yes, in the scores",
        robust="p = 1: partly (linear in the violation); p = 2: no",
        expects="scores (any real), K >= 2 columns; a class index as target",
        range="[0, inf)",
    ),
    when="Reproducing torch's MultiMarginLoss (Weston-Watkins style: every violating class counts, unlike "
    "multiclass_hinge which counts only the worst one).",
    conventions={
        "torch": Convention(
            "Same formula as lossctl (MultiMarginLoss(p, margin, weight=class_weight); its mean divides by the "
            "rows, not by the class weights)."
        ),
    },
)
def multi_margin(
    target: np.ndarray, pred: np.ndarray, *, margin: float, p: int, class_weight: tuple[float, ...] | None
) -> np.ndarray:
    """``w_y sum_{k != y} max(0, margin - x_y + x_k)^p / K`` per row, ``w`` = ``class_weight`` (1 without).

    Domain: any real scores, K >= 2 columns; a class index in 0..K-1. Follows torch ``MultiMarginLoss``.
    Example: y = [0], x = [[1, 0.5, -1]] gives violations [0.5, 0] and 0.5 / 3 = 0.166667 (p = 2: 0.25 / 3).
    """
    pred = _columns(pred)
    k = _n_classes(pred)
    rows = np.arange(len(pred))
    index = _indices(target, k)
    violation = np.maximum(margin - pred[rows, index][:, None] + pred, 0.0)
    violation[rows, index] = 0.0
    if p == 2:
        violation = violation * violation
    loss = violation.sum(axis=1) / k
    weights = _per_class(class_weight, "class_weight", k)
    return loss if weights is None else weights[index] * loss


# --- divergences --------------------------------------------------------------------------------------------------


def _keras_kl_div(target: np.ndarray, pred: np.ndarray, *, from_logits: bool, log_target: bool) -> np.ndarray:
    # keras/src/losses/losses.py kl_divergence (Keras 3): y_true = clip(y_true, epsilon, 1), y_pred = clip(y_pred,
    # epsilon, 1), sum(y_true * log(y_true / y_pred), axis=-1). from_logits and log_target are false (the
    # convention refuses them).
    pred = _columns(pred)
    _n_classes(pred)
    _same_width(target, "target", pred, "pred")
    probabilities(target, "target")
    probabilities(pred, "pred")
    y = np.clip(target, _KERAS_EPSILON, 1.0)
    p = np.clip(pred, _KERAS_EPSILON, 1.0)
    return (y * np.log(y / p)).sum(axis=1)


@register_loss(
    "kl_div",
    task="multiclass",
    violation=Violation("pred", -0.1),
    summary="Kullback-Leibler divergence KL(y || p) of a predicted distribution from the target distribution.",
    formula="l = sum_k y_k log(y_k / p_k), 0 log 0 = 0; from_logits: p = softmax(x)",
    follows="torch KLDivLoss(reduction='batchmean') on log p",
    roles=(_TARGET_DISTRIBUTION, Role("pred", "K columns of probabilities (or logits)", shape="vector")),
    params=(
        Param("from_logits", False, "pred holds logits: p = softmax(x)", kind="bool"),
        Param(
            "log_target",
            False,
            "target holds log-probabilities t = log y (torch's log_target): l = sum_k exp(t_k) (t_k - log p_k)",
            kind="bool",
        ),
    ),
    properties=Properties(
        convex="yes, in p",
        robust="no: infinite where p_k = 0 < y_k (an input error)",
        expects="K >= 2 columns each: target and pred rows of probabilities summing to 1 (pred may be logits)",
        range="[0, inf)",
    ),
    when="Matching a predicted distribution to a soft target (label distributions, teacher outputs, annotator "
    "votes): it is cross_entropy minus the target's entropy, so 0 at a perfect match. For the symmetric, "
    "bounded version use js_div; for teacher logits use distillation.",
    conventions={
        "torch": Convention(
            "Same formula as lossctl: KLDivLoss(reduction='batchmean', log_target)(log p, y), with log p = "
            "log_softmax(x) for from_logits (torch's xlogy gives 0 log 0 = 0). torch takes any rows; lossctl "
            "refuses under this convention too rows that are not distributions (values outside [0, 1], or not "
            "summing to 1 within 1e-6), whose number is no divergence, and p = 0 where y > 0, whose divergence is "
            "infinite."
        ),
        "keras": keras(
            "Keras KLDivergence clips y and p to [1e-7, 1] before sum y log(y / p): zeros in y add "
            "1e-7 log(1e-7 / p), p = 0 is allowed and rows need not sum to 1; it has no from_logits.",
            func=_keras_kl_div,
            lacks={
                "from_logits": "Keras' KLDivergence takes probabilities only",
                "log_target": "Keras' KLDivergence takes target probabilities only",
            },
        ),
    },
)
def kl_div(target: np.ndarray, pred: np.ndarray, *, from_logits: bool, log_target: bool) -> np.ndarray:
    """``sum_k y_k (log y_k - log p_k)`` per row, terms with ``y_k = 0`` being 0.

    Domain: target and pred each K >= 2 columns of probabilities summing to 1 within 1e-6 (with
    ``from_logits``, pred holds any real logits and ``log p = log_softmax(x)``; with ``log_target``, target
    holds log-probabilities ``t <= 0`` whose ``exp`` rows sum to 1, and ``y log y`` is ``exp(t) t``, as torch's
    ``log_target=True``); ``p_k = 0`` where ``y_k > 0`` is an input error (the divergence is infinite). Follows
    torch ``KLDivLoss(reduction='batchmean')`` applied to ``log p``. Example: y = [[0.5, 0.5]],
    p = [[0.25, 0.75]] gives 0.5 log 2 + 0.5 log(2/3) = 0.143841.
    """
    pred = _columns(pred)
    _n_classes(pred)
    _same_width(target, "target", pred, "pred")
    if log_target:
        at_most(target, 0.0, "target", "log-probabilities <= 0 (log_target)")
        log_y = target
        target = np.exp(log_y)
        distributions(target, "target")
    else:
        distributions(target, "target")
    if from_logits:
        log_p = _log_softmax(pred)
    else:
        distributions(pred, "pred")
        reject(
            "pred",
            "probabilities > 0 where the target is > 0 (KL is infinite there)",
            pred,
            (pred == 0) & (target > 0),
        )
        log_p = np.log(np.where(pred > 0, pred, 1.0))
    positive = target > 0
    terms = np.zeros_like(target)
    log_target_values = log_y[positive] if log_target else np.log(target[positive])
    terms[positive] = target[positive] * (log_target_values - log_p[positive])
    return terms.sum(axis=1)


@register_loss(
    "js_div",
    task="multiclass",
    violation=Violation("pred", -0.1),
    summary="Jensen-Shannon divergence between the target and predicted distributions (natural log).",
    formula="l = (KL(y || m) + KL(p || m)) / 2, m = (y + p) / 2",
    follows="scipy.spatial.distance.jensenshannon(y, p) ** 2 (base e)",
    roles=(_TARGET_DISTRIBUTION, Role("pred", "K columns of probabilities", shape="vector")),
    properties=Properties(
        convex="yes, in p",
        robust="yes: bounded by log 2 per row",
        expects="K >= 2 columns each: target and pred rows of probabilities summing to 1",
        range="[0, log 2]",
    ),
    when="A symmetric, bounded distance between distributions that tolerates zeros on either side (where "
    "kl_div is infinite): comparing label distributions, topic mixtures or ensembles.",
)
def js_div(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``0.5 (sum_k y_k log(y_k / m_k) + sum_k p_k log(p_k / m_k))`` per row, ``m = (y + p) / 2``, 0 log 0 = 0.

    Domain: target and pred each K >= 2 columns of probabilities whose rows sum to 1 within 1e-6; each row is
    then divided by its sum, as scipy's ``jensenshannon`` does (whose default base is e). Never negative, and
    accurate where y and p nearly agree (scipy's own terms cancel there: y = [[1, 0]], p = [[1 - 2^-53, 2^-53]]
    is 2^-54 log 2). Example: y = [[1, 0]], p = [[0, 1]] gives log 2 = 0.693147; y = p gives 0.
    """
    pred = _columns(pred)
    _n_classes(pred)
    _same_width(target, "target", pred, "pred")
    distributions(target, "target")
    distributions(pred, "pred")
    y = target / target.sum(axis=1, keepdims=True)
    p = pred / pred.sum(axis=1, keepdims=True)
    return 0.5 * _mixture_terms(y, p).sum(axis=1)


# --- focal and class-balanced -------------------------------------------------------------------------------------


def _focal_rows(index: np.ndarray, pred: np.ndarray, gamma: float) -> np.ndarray:
    log_p = _log_softmax(pred)[np.arange(len(pred)), index]
    # 1 - p_y as -expm1(log p_y): exact for p_y close to 1, where 1 - exp(log p_y) would cancel.
    return negated(np.expm1(log_p)) ** gamma * negated(log_p)


@register_loss(
    "focal_multiclass",
    task="multiclass",
    violation=Violation("target", 99.0),
    summary="Softmax focal loss: cross-entropy down-weighted on well-classified rows by (1 - p_y)^gamma.",
    formula="l = -alpha_y (1 - p_y)^gamma log p_y, p = softmax(x); label smoothing e: "
    "-sum_k alpha_k y_k (1 - p_k)^gamma log p_k with y = (1 - e) onehot + e / K (Keras)",
    follows="Lin et al. 2017 (softmax form); label smoothing as Keras CategoricalFocalCrossentropy",
    roles=(_TARGET_INDEX, _LOGITS),
    params=(
        Param("gamma", 2.0, "focusing exponent of (1 - p_y); 0 gives cross_entropy", minimum=0.0),
        Param(
            "alpha",
            None,
            "one weight per class multiplying the rows of that class (none: 1); the mean divides by the rows",
            kind="floats",
            minimum=0.0,
        ),
        _KERAS_LABEL_SMOOTHING,
    ),
    properties=Properties(
        convex="no for gamma > 0 (in the logits); gamma = 0 is cross_entropy",
        robust="no, but easy rows (p_y near 1) are down-weighted by (1 - p_y)^gamma",
        expects="logits (any real), K >= 2 columns; a class index as target",
        range="[0, inf)",
    ),
    when="Multi-class problems with many easy examples or heavy imbalance (dense detection heads, long-tailed "
    "classification): (1 - p_y)^gamma lets the hard rows count. Report it as a training loss; for gamma > 0 it "
    "is not a proper scoring rule.",
)
def focal_multiclass(
    target: np.ndarray, pred: np.ndarray, *, gamma: float, alpha: tuple[float, ...] | None, label_smoothing: float
) -> np.ndarray:
    """``-alpha_y (1 - p_y)^gamma log p_y`` per row, ``p = softmax(x)`` via log-sum-exp (Lin et al. 2017).

    ``1 - p_y`` is formed as ``-expm1(log p_y)``, so confident rows keep their digits. With ``label_smoothing``
    e the target becomes ``y = (1 - e) onehot + e / K`` and every class contributes
    ``-alpha_k y_k (1 - p_k)^gamma log p_k`` (Keras ``CategoricalFocalCrossentropy``, whose alpha is one number).
    Domain: any real logits, K >= 2 columns; a class index in 0..K-1; ``alpha`` one weight per class. Example:
    y = [0], x = [[0, 0]] gives p_y = 0.5 and 0.25 log 2 = 0.173287.
    """
    pred = _columns(pred)
    k = _n_classes(pred)
    index = _indices(target, k)
    weights = _per_class(alpha, "alpha", k)
    if label_smoothing > 0.0:
        log_p = _log_softmax(pred)
        smoothed = _one_hot(target, k) * (1.0 - label_smoothing) + label_smoothing / k
        terms = smoothed * negated(np.expm1(log_p)) ** gamma * negated(log_p)
        return terms.sum(axis=1) if weights is None else terms @ weights
    loss = _focal_rows(index, pred, gamma)
    return loss if weights is None else weights[index] * loss


# 1 - beta^n below this (a tiny count) is formed as n (-log beta), whose relative error |n log beta| / 2 is then nil.
_SMALLEST_SHARE = 1e-290
# focal_multiclass's default, used by class_balanced's focal base (docs/losses.md gives class_balanced no gamma).
_CLASS_BALANCED_GAMMA = 2.0


def _effective_number_weights(counts: np.ndarray, beta: float) -> np.ndarray:
    """Cui et al. 2019: ``(1 - beta) / (1 - beta^n_c)``, normalised so that the classes present (n_c > 0) sum to
    their number; absent classes get 0. ``1 - beta^n`` is ``-expm1(n log beta)``, exact for small n.

    The common factor ``1 - beta`` cancels in the normalisation, which works with ``(1 - beta^n_min) / (1 - beta^n_c)``
    in (0, 1]: a tiny (sample-weighted) count makes ``1 / (1 - beta^n)`` overflow, where the normalised weights are
    finite (about ``[K, 0]``). Where ``1 - beta^n`` underflows (below 1e-290) it is ``n (-log beta)``, to
    ``|n log beta| / 2`` relative, and the ratios are taken from logarithms."""
    present = counts > 0
    weights = np.zeros(len(counts))
    if beta == 0.0:
        weights[present] = 1.0
        return weights
    n = counts[present]
    log_beta = math.log(beta)
    share = -np.expm1(n * log_beta)  # 1 - beta^n
    if share.min() >= _SMALLEST_SHARE:
        inverse = share.min() / share
    else:
        tiny = share < _SMALLEST_SHARE
        log_share = np.empty_like(share)
        log_share[tiny] = np.log(n[tiny]) + math.log(-log_beta)
        log_share[~tiny] = np.log(share[~tiny])
        inverse = np.exp(log_share.min() - log_share)
    weights[present] = inverse * (present.sum() / inverse.sum())
    return weights


def _class_balanced_finalize(
    stats: Stats, reduction: str, params: Mapping[str, Any], whole: Stats | None = None
) -> float:
    """The class-balanced mean; the class counts are ``counts``, or those of ``whole`` (the whole input, when
    ``stats`` are a ``--by`` group's), or of ``stats`` themselves."""
    values = np.asarray(stats, dtype=np.float64)
    c = (len(values) - 2) // 2
    counted = np.asarray(whole if whole is not None else stats, dtype=np.float64)[c : 2 * c]
    counts = counted if params["counts"] is None else np.asarray(params["counts"], dtype=np.float64)
    denominator = 1.0 if reduction == "sum" else weight_sum(values)  # raises for weights that sum to zero
    if not (counts > 0).any():  # counted from sample weights that are all 0: the sum over rows is 0
        return 0.0
    return float(values[:c] @ _effective_number_weights(counts, params["beta"])) / denominator


def _class_balanced_rows(contributions: np.ndarray, params: Mapping[str, Any]) -> np.ndarray | None:
    """Each row's ``w_{y_i} · base_i`` (its ``members * base`` columns times the class weights), where ``counts``
    fix the class weights up front; without them the whole input's counts do, and no row has its loss until the
    end (``None``)."""
    if params["counts"] is None:
        return None
    classes = contributions.shape[1] // 2
    weights = _effective_number_weights(np.asarray(params["counts"], dtype=np.float64), params["beta"])
    return contributions[:, :classes] @ weights


CLASS_BALANCED_MEAN = Aggregate(
    "class_balanced_mean",
    _class_balanced_finalize,
    rows=_class_balanced_rows,
    no_rows="without counts= weighs each row by class weights fixed by the class counts of the whole input, known "
    "only once it is read: give the counts (counts=N0,N1,...) for per-row values",
    finalize_part=lambda part, whole, reduction, params: _class_balanced_finalize(part, reduction, params, whole),
    doc="mean over rows of the class weight (from class counts over the whole input) times the base loss",
)


@register_loss(
    "class_balanced",
    task="multiclass",
    violation=Violation("target", 99.0),
    weights_scale=False,
    summary="Class-balanced loss: a base loss weighted by the inverse effective number of samples of each class.",
    formula="mean of w_y base_i, w_c = (1 - beta) / (1 - beta^n_c) normalised to sum to the number of classes "
    "present (absent classes 0)",
    follows="Cui et al. 2019",
    roles=(
        _TARGET_INDEX,
        Role("pred", "K columns of logits (one logit column with base=bce_logits)", shape="any"),
    ),
    params=(
        Param(
            "beta",
            0.9999,
            "effective-number hyperparameter: 0 weighs classes equally, towards 1 approaches 1 / n_c",
            minimum=0.0,
            maximum=1.0,
            max_exclusive=True,
        ),
        Param(
            "base",
            "cross_entropy",
            "the per-row loss weighted: cross_entropy, focal_multiclass (gamma 2) or bce_logits (classes {0, 1})",
            kind="choice",
            choices=("cross_entropy", "focal_multiclass", "bce_logits"),
        ),
        Param(
            "counts",
            None,
            "training-set samples per class (none: counted over the whole input, weighted by sample weights); a "
            "class is present when its count is > 0",
            kind="floats",
            minimum=0.0,
        ),
    ),
    aggregate=CLASS_BALANCED_MEAN,
    properties=Properties(
        convex="as the base loss (cross_entropy, bce_logits: yes; focal: no)",
        robust="as the base loss",
        expects="logits: K >= 2 columns (one column with base=bce_logits); a class index as target",
        range="[0, inf)",
    ),
    when="Long-tailed classification: rare classes weigh more, but less extremely than 1 / n_c as beta < 1 "
    "accounts for overlap between samples. Pass the training set's counts to score a validation set with "
    "the training weights; without counts they come from the evaluated input.",
)
def class_balanced(
    target: np.ndarray, pred: np.ndarray, *, beta: float, base: str, counts: tuple[float, ...] | None
) -> np.ndarray:
    """Contributes ``[base_i [y_i = c] for each class c, [y_i = c] for each class c]`` per row; the value is
    ``sum_i s_i w_{y_i} base_i / sum_i s_i`` with sample weights ``s`` (the mean over rows: N with unit weights).

    ``w_c = (1 - beta) / (1 - beta^n_c)`` (Cui et al. 2019), normalised so the weights of the classes present
    sum to their number; absent classes get 0. ``n_c`` is ``counts`` when given, else the (sample-weighted)
    count of class c over the whole input, so a weight of 2 is the row twice; only with ``counts`` are the weights
    known before the input is read, and so the per-row losses ``w_{y_i} base_i`` (``per_sample``). ``base``:
    ``cross_entropy`` (``-log softmax(x)_y``), ``focal_multiclass`` (gamma 2, no alpha) or ``bce_logits`` (``pred``
    one logit column, classes {0, 1}). Domain: as the base loss. Example: beta = 0, y = [0, 1], x = [[0, 0], [0, 0]]
    gives weights [1, 1] and log 2 = 0.693147.
    """
    n = len(target)
    if base == "bce_logits":
        if pred.ndim == 2 and pred.shape[1] != 1:
            raise InputError(
                f"'pred' has {pred.shape[1]} columns; class_balanced with base=bce_logits takes one logit per row"
            )
        binary_labels(target)
        n_classes = 2
        index = target.astype(np.intp)
        losses = bce_logits(target, pred.reshape(n), pos_weight=1.0, label_smoothing=0.0)
    else:
        if pred.ndim == 1:
            raise InputError(
                f"'pred' has one column; class_balanced with base={base} needs one logit column per class "
                "(use base=bce_logits for one logit per row)"
            )
        n_classes = _n_classes(pred)
        index = _indices(target, n_classes)
        if base == "cross_entropy":
            losses = negated(_log_softmax(pred)[np.arange(n), index])
        else:
            losses = _focal_rows(index, pred, _CLASS_BALANCED_GAMMA)
    if counts is not None:
        if len(counts) != n_classes:
            raise InputError(
                f"parameter 'counts' has {count(len(counts), 'value')} but there are {n_classes} classes: "
                "give one per class"
            )
        if not any(count > 0 for count in counts):
            raise UsageError("class_balanced: parameter 'counts' needs at least one count > 0")
    members = np.zeros((n, n_classes))
    members[np.arange(n), index] = 1.0
    return np.hstack([members * losses[:, None], members])


# --- teacher and latent ----------------------------------------------------------------------------------------


@register_loss(
    "distillation",
    aliases=("kd",),
    task="multiclass",
    summary="Knowledge-distillation loss: T^2 KL between the temperature-softened teacher and student outputs.",
    formula="l = T^2 sum_k q_k (log q_k - log p_k), q = softmax(t / T), p = softmax(x / T)",
    follows="Hinton et al. 2015",
    roles=(
        Role("teacher", "K columns of the teacher's logits", shape="vector"),
        Role("pred", "K columns of the student's logits", shape="vector"),
    ),
    params=(
        Param(
            "temperature",
            4.0,
            "softmax temperature T applied to both sets of logits",
            minimum=0.0,
            min_exclusive=True,
        ),
    ),
    properties=Properties(
        convex="yes, in the student's logits",
        robust="no, but grows only linearly in the logit gap",
        expects="teacher and student logits (any real), K >= 2 columns each, classes in the same order",
        range="[0, inf)",
    ),
    when="Measuring how closely a student model reproduces a teacher's softened outputs (the soft-target term "
    "of Hinton et al.); T^2 keeps its scale comparable across temperatures. Add the hard-label term with a "
    "composite such as '0.5*kd+0.5*cross_entropy'.",
)
def distillation(teacher: np.ndarray, pred: np.ndarray, *, temperature: float) -> np.ndarray:
    """``T^2 KL(softmax(t / T) || softmax(x / T))`` per row, both log-softmaxes via log-sum-exp.

    Roles ``teacher`` (the soft target, first, as ``target`` elsewhere) and ``pred`` (the student); there is
    no class-index target. Domain: any real logits, K >= 2 columns each. Follows Hinton et al. 2015 (torch
    ``kl_div(log_softmax(x / T), log_softmax(t / T), log_target=True, reduction='batchmean') * T^2``). Example:
    T = 1, t = [[0, log 3]], x = [[0, 0]] gives q = [1/4, 3/4], p = [1/2, 1/2] and 0.75 log 3 - log 2 = 0.130812.
    """
    teacher, pred = _columns(teacher), _columns(pred)
    _n_classes(teacher, "teacher")
    _same_width(teacher, "teacher", pred, "pred")
    log_q = _log_softmax(teacher / temperature)
    log_p = _log_softmax(pred / temperature)
    return temperature * temperature * (np.exp(log_q) * (log_q - log_p)).sum(axis=1)


@register_loss(
    "elbo",
    aliases=("vae",),
    task="multiclass",
    aggregate=replace(MEAN, notices=clipped_rows("bce", eps=_MACHINE_EPS)),
    violation=Violation("pred", 1.5),
    summary="Negative ELBO of a Gaussian-latent VAE: reconstruction loss plus beta times the KL to N(0, I).",
    formula="l = recon(y, p) summed over D + beta (-0.5 sum_z (1 + logvar - mu^2 - exp(logvar)))",
    follows="Kingma & Welling 2014; beta-VAE (Higgins et al. 2017) for beta",
    roles=(
        Role("target", "D columns: the input being reconstructed", shape="vector"),
        Role("pred", "D columns: the reconstruction (probabilities with recon=bce)", shape="vector"),
        Role("mu", "Z columns: the encoder's means", shape="vector"),
        Role("logvar", "Z columns: the encoder's log-variances", shape="vector"),
    ),
    params=(
        Param(
            "recon",
            "bce",
            "reconstruction term: bce (on probabilities, clipped to the float64 eps) or mse, summed over D",
            kind="choice",
            choices=("bce", "mse"),
        ),
        Param("beta", 1.0, "weight of the KL term (beta-VAE); 1 is the ELBO", minimum=0.0),
    ),
    properties=Properties(
        convex="no (jointly); each term is convex in its own inputs",
        robust="no",
        expects="target and pred with the same D columns (in [0, 1] for recon=bce); mu and logvar with Z columns",
        range="[0, inf) for recon=mse; with recon=bce and non-binary targets the minimum is their entropy",
    ),
    when="Tracking a VAE's training objective per sample from saved reconstructions and encoder outputs "
    "(pytorch/examples' VAE loss with recon=bce); beta > 1 gives the beta-VAE objective.",
)
def elbo(
    target: np.ndarray, pred: np.ndarray, mu: np.ndarray, logvar: np.ndarray, *, recon: str, beta: float
) -> np.ndarray:
    """``sum_d recon(y_d, p_d) + beta * 0.5 sum_z (mu_z^2 + exp(lv_z) - 1 - lv_z)`` per row.

    ``recon=bce``: ``-(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to [eps, 1 - eps] (lossctl's ``bce``);
    ``recon=mse``: ``(p - y)^2``. The KL term is formed as ``mu^2 + (expm1(lv) - lv)``, exact near lv = 0.
    Domain: target and pred with the same D columns (recon=bce: both in [0, 1]); mu and logvar with the same Z
    columns, logvar <= 709.78 (exp overflows beyond). Example: y = [[1, 0]], p = [[0.5, 0.5]], mu = [[0]],
    logvar = [[0]] gives 2 log 2 + 0 = 1.386294; mu = [[1]] adds 0.5.
    """
    target, pred, mu, logvar = _columns(target), _columns(pred), _columns(mu), _columns(logvar)
    _same_width(target, "target", pred, "pred")
    _same_width(mu, "mu", logvar, "logvar")
    at_most(logvar, _MAX_LOG_VARIANCE, "logvar", f"log-variances <= {_MAX_LOG_VARIANCE:.6g} (exp overflows float64)")
    if recon == "bce":
        reconstruction = bce_elementwise(target, pred, eps=_MACHINE_EPS, label_smoothing=0.0).sum(axis=1)
        clipped = np.asarray(((pred < _MACHINE_EPS) | (pred > 1.0 - _MACHINE_EPS)).any(axis=1), dtype=np.float64)
    else:
        reconstruction = ((pred - target) ** 2).sum(axis=1)
        clipped = np.zeros(len(pred))
    kl = 0.5 * (mu * mu + (np.expm1(logvar) - logvar)).sum(axis=1)
    return np.column_stack([reconstruction + beta * kl, clipped])  # 2nd: the rows bce clipped, for the notice


# --- decisions and scores of peers: categorical_hinge (Keras), brier_multiclass and zero_one (scikit-learn) -------


def _one_hot_rows(target: np.ndarray, k: int) -> np.ndarray:
    """A class index, or K columns that must be one-hot (0/1 with a single 1 per row), as one-hot rows."""
    if target.ndim == 2:
        if target.shape[1] != k:
            raise InputError(
                f"'target' has {count(target.shape[1], 'column')} but 'pred' has {k}: one-hot rows need one per class"
            )
        binary_labels(target, "target")
        ones = target.sum(axis=1)
        reject("target", "one-hot rows (a single 1 per row)", ones, ones != 1.0)
    return _one_hot(target, k)


@register_loss(
    "categorical_hinge",
    task="multiclass",
    violation=Violation("target", 99.0),
    summary="Keras' categorical hinge: the best wrong score, with the true class counted as 0, against the true one.",
    formula="l = max(0, 1 + max_k((1 - t_k) x_k) - sum_k t_k x_k), t the one-hot target",
    follows="Keras CategoricalHinge",
    roles=(
        Role("target", "a class index in 0..K-1, or K one-hot columns", shape="any"),
        Role("pred", "K columns of scores, one per class", shape="vector"),
    ),
    properties=Properties(
        convex="yes, in the scores",
        robust="partly: grows linearly with the margin violation",
        expects="scores (any real), K >= 2 columns; a class index or one-hot rows as target",
        range="[0, inf)",
    ),
    when="Reproducing Keras' CategoricalHinge. It differs from multiclass_hinge (Crammer-Singer) where every "
    "wrong score is negative: Keras' max also sees the true class's zeroed entry, so the loss is "
    "max(0, 1 - x_y) there. Prefer multiclass_hinge for a margin that ignores the scores' offset.",
    # keras/src/losses/losses.py categorical_hinge (Keras 3.15.1): pos = sum(y_true * y_pred), neg = max((1 - y_true)
    # * y_pred), maximum(neg - pos + 1, 0).
    conventions={"keras": keras("Same formula as lossctl (CategoricalHinge takes one-hot targets).")},
)
def categorical_hinge(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``max(0, 1 + max_k((1 - t_k) x_k) - sum_k t_k x_k)`` per row, ``t`` the one-hot target.

    The true class enters the max as 0 (Keras multiplies it out), so the value is ``max(0, 1 - x_y)`` when every
    other score is below 0. Domain: any real scores, K >= 2 columns; a class index in 0..K-1 or one-hot rows.
    Follows Keras ``CategoricalHinge``. Example: y = [0, 1], x = [[2, 0.5, -1], [-1, -2, -3]] gives
    [max(0, 1 + 0.5 - 2), max(0, 1 + 0 + 2)] = [0, 3] and a mean of 1.5.
    """
    pred = _columns(pred)
    k = _n_classes(pred)
    onehot = _one_hot_rows(target, k)
    positive = (onehot * pred).sum(axis=1)
    negative = ((1.0 - onehot) * pred).max(axis=1)
    return np.maximum(negative - positive + 1.0, 0.0)


@register_loss(
    "brier_multiclass",
    task="multiclass",
    violation=Violation("pred", 0.5, add=True),
    summary="Multi-class Brier score: the squared distance of the probability row from the one-hot target.",
    formula="l = sum_k (p_k - [y = k])^2",
    follows="sklearn brier_score_loss (multi-class, scale_by_half=False)",
    roles=(_TARGET_INDEX, Role("pred", "K columns of class probabilities summing to 1", shape="vector")),
    aggregate=ROW_SUM_MEAN,
    properties=Properties(
        convex="yes, in p",
        robust="yes: bounded, a row costs at most 2",
        expects="K >= 2 columns of probabilities summing to 1; a class index as target",
        range="[0, 2]",
    ),
    when="Judging calibrated class probabilities with a bounded, proper score that a few confident mistakes "
    "cannot dominate (unlike categorical_ce). It is scikit-learn's multi-class brier_score_loss, whose range is "
    "[0, 2]; the binary brier is half of it for K = 2.",
    # sklearn/metrics/_classification.py brier_score_loss (1.9.1): scale_by_half="auto" keeps [0, 2] for more
    # than two classes: average(sum((transformed_labels - y_proba) ** 2, axis=1), weights=sample_weight).
    conventions={"sklearn": Convention("Same formula as lossctl (brier_score_loss with labels=range(K)).")},
)
def brier_multiclass(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``sum_k (p_k - [y = k])^2`` per row.

    Domain: K >= 2 columns of probabilities whose rows sum to 1 within 1e-4 (as ``categorical_ce``, with the same
    notice); a class index in 0..K-1. Follows sklearn ``brier_score_loss`` for more than two classes
    (``scale_by_half=False``). Example: y = [0], p = [[0.5, 0.25, 0.25]] gives 0.25 + 0.0625 + 0.0625 = 0.375.
    """
    pred = _columns(pred)
    k = _n_classes(pred)
    off = _probability_rows_of(pred)
    residual = pred - _one_hot(target, k)
    return np.column_stack([(residual * residual).sum(axis=1), off])


@register_loss(
    "zero_one",
    task="multiclass",
    violation=Violation("target", 0.5),
    summary="Zero-one loss: the share of rows whose predicted class is wrong (1 - accuracy).",
    formula="l = [yhat != y]; yhat = argmax_k x_k (K columns), [p >= threshold] (one probability column), or the "
    "label itself",
    follows="sklearn zero_one_loss",
    roles=(
        Role("target", "the class label of each row (an integer, or text beside a column of text labels)"),
        Role(
            "pred",
            "K columns of scores (argmax), one probability column, or one label column",
            shape="any",
            labels=True,
        ),
    ),
    params=(
        Param(
            "threshold",
            0.5,
            "one probability column: the class is 1 where p >= threshold",
            minimum=0.0,
            maximum=1.0,
            min_exclusive=True,
        ),
    ),
    properties=Properties(
        convex="no (a step function)",
        robust="yes: each row costs at most 1",
        expects="K >= 2 columns of scores or probabilities, or one column of probabilities or labels; integer labels",
        range="[0, 1]",
    ),
    when="Reporting the error rate of the decisions a model makes (1 - accuracy) beside a proper loss: it ignores "
    "confidence, so two models can tie on it and differ widely on categorical_ce or brier.",
    # sklearn/metrics/_classification.py zero_one_loss (1.9.1, normalize=True): 1 - accuracy_score, the weighted
    # mean of [y_pred != y_true]; scikit-learn takes labels, lossctl decides them from scores first.
    conventions={"sklearn": Convention("Same formula as lossctl (zero_one_loss on the decided labels).")},
)
def zero_one(target: np.ndarray, pred: np.ndarray, *, threshold: float) -> np.ndarray:
    """``[yhat != y]`` per row.

    ``yhat`` is the first ``argmax`` of K >= 2 score columns (as NumPy); with one column, a probability in
    [0, 1] is decided by ``p >= threshold`` (class 1 or 0) and any other value is read as a label. Domain:
    integer labels as target, class indices in 0..K-1 with K columns; with one column, values in [0, 1] or
    integers (a value such as 2.5 is neither); a row whose one column holds a fractional probability needs the
    label 0 or 1 (a -1 of -1/1 labels is an input error, not a certain mistake: ``--positive 1`` maps it).
    Follows sklearn ``zero_one_loss``. Example: y = [0, 1, 1], x = [[2, 1], [0.2, 0.7], [3, -1]] gives rows
    [0, 0, 1] and a mean of 1/3; one column p = [0.3, 0.5, 2] against y = [0, 1, 2] gives 0.
    """
    if pred.ndim == 2 and pred.shape[1] > 1:
        class_indices(target, pred.shape[1])  # a label outside 0..K-1 is no class: never an argmax, always 'wrong'
        decided = pred.argmax(axis=1).astype(np.float64)
    else:
        reject("target", "class labels (integers)", target, target != np.floor(target))
        values = pred.reshape(len(pred))
        probability = (values >= 0.0) & (values <= 1.0)
        fractional = values != np.floor(values)
        reject("pred", "probabilities in [0, 1] or integer labels", values, ~probability & fractional)
        # A probability decides class 0 or 1: against any other label (-1 of -1/1 labels) it would always be wrong.
        expected = "labels 0 or 1 where pred is a probability (it decides class 0 or 1; --positive LABEL maps others)"
        reject("target", expected, target, fractional & (target != 0.0) & (target != 1.0))
        decided = np.where(probability, (values >= threshold).astype(np.float64), values)
    return (decided != target).astype(np.float64)
