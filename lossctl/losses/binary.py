"""Binary-classification losses: roles ``target`` (y in {0, 1}, soft where noted) and ``pred``.

``pred`` is a probability ``p`` (bce, brier, focal with ``from_logits=false``) or a logit / score
``x`` (bce_logits, hinge, squared_hinge, focal, soft_margin) or a distance (hinge_embedding). Float64
throughout; every log and exp is written so that it neither overflows nor takes log(0), and logits of
+-1e4 give exact finite values.

Multi-label: ``bce``, ``bce_logits``, ``brier``, ``focal``, ``hinge`` and ``squared_hinge`` also take K
prediction columns with K 0/1 target columns. A row's loss is the mean over its K labels, so the value is
the mean over all N K elements, as torch's element-wise losses (and Keras', which average the last axis).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    earlier_seen,
    weighted_mean,
)
from lossctl.errors import DomainError, InputError, UsageError, option
from lossctl.losses._checks import (
    SIGN_LABELS,
    binary_labels,
    plus_minus_labels,
    probabilities,
    reject,
    sign_labels,
    sklearn_labels,
    soft_labels,
)
from lossctl.losses._shared import negated
from lossctl.registry import Convention, Param, Properties, Role, Violation, keras, register_loss, torch_elementwise

# sklearn log_loss clips to np.finfo(y_proba.dtype).eps since 1.5 (its eps=1e-15 parameter was removed).
_MACHINE_EPS = float(np.finfo(np.float64).eps)
# keras.backend.epsilon(): Keras uses 1e-7 whatever the dtype.
_KERAS_EPSILON = 1e-7
# torch BCELoss caps each log at -100 instead of clipping p.
_TORCH_LOG_FLOOR = -100.0

_LABEL_SMOOTHING = Param(
    "label_smoothing",
    0.0,
    "squeeze the targets towards 0.5 as Keras: y <- y (1 - e) + e / 2",
    minimum=0.0,
    maximum=1.0,
)


_LABELS = (
    Role("target", "the label of each row, or K 0/1 columns (multi-label, one per label)", shape="any"),
    Role("pred", "one value per row, or K columns (multi-label), as many as the target", shape="any"),
)


def _same_shape(target: np.ndarray, pred: np.ndarray) -> None:
    """Multi-label inputs pair K prediction columns with K target columns."""
    if target.shape[1:] != pred.shape[1:]:
        shown = ["one value" if a.ndim == 1 else f"{a.shape[1]} values" for a in (target, pred)]
        named = option("model", "NAME=COLUMN", keyword='models={"NAME": "COLUMN"}')
        models = f"; to score each prediction column as a model, use {named}" if target.ndim == 1 else ""
        raise InputError(
            f"'target' has {shown[0]} per row but 'pred' has {shown[1]}: multi-label losses take one 0/1 target "
            f"column per prediction column{models}"
        )


def _row_mean(losses: np.ndarray) -> np.ndarray:
    """A row's loss: the mean over its labels (multi-label), so the value is the mean over all elements."""
    return losses if losses.ndim == 1 else losses.mean(axis=1)


def _smooth(target: np.ndarray, label_smoothing: float) -> np.ndarray:
    # keras/src/losses/losses.py binary_crossentropy: y_true * (1 - label_smoothing) + 0.5 * label_smoothing.
    if label_smoothing == 0.0:
        return target
    return target * (1.0 - label_smoothing) + 0.5 * label_smoothing


def _log1p_exp_neg_abs(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(-|x|))``: in [0, log 2], never overflows."""
    return np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow, accurate to the last bit in both tails."""
    small = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + small), small / (1.0 + small))


def _clipped_log_loss(y: np.ndarray, p: np.ndarray, eps: float) -> np.ndarray:
    # As sklearn log_loss, which builds the columns [1 - p, p] and then clips both to [eps, 1 - eps]:
    # 1 - p is clipped after the subtraction (log(1 - clip(p)) differs for p within eps of 1).
    log_p = np.log(np.clip(p, eps, 1.0 - eps))
    log_q = np.log(np.clip(1.0 - p, eps, 1.0 - eps))
    return -(y * log_p + (1.0 - y) * log_q)


def _keras_log_loss(y: np.ndarray, p: np.ndarray, eps: float) -> np.ndarray:
    # keras/src/backend/tensorflow/nn.py binary_crossentropy (from probabilities):
    # output = clip(output, epsilon, 1 - epsilon); -(target log(output) + (1 - target) log(1 - output)).
    clipped = np.clip(p, eps, 1.0 - eps)
    return -(y * np.log(clipped) + (1.0 - y) * np.log(1.0 - clipped))


def logit_loss(y: np.ndarray, x: np.ndarray, pos_weight: float = 1.0) -> np.ndarray:
    # torch's (1 - y) x + (1 + (pw - 1) y) softplus(-x), with softplus(-x) = max(-x, 0) + log1p(exp(-|x|)).
    # The linear part is (1 - y) x for x >= 0 and -pw y x for x < 0, so for y in [0, 1] and pw >= 0 every
    # term is >= 0: no cancellation, exact for every logit (pw = 1 gives max(x, 0) - x y + log1p(exp(-|x|))).
    linear = np.where(x >= 0, (1.0 - y) * x, -pos_weight * y * x)
    return linear + (1.0 + (pos_weight - 1.0) * y) * _log1p_exp_neg_abs(x)


def _torch_bce(target: np.ndarray, pred: np.ndarray, *, eps: None, label_smoothing: float) -> np.ndarray:
    # pytorch aten/src/ATen/native/Loss.cpp binary_cross_entropy_out_cpu:
    # (y - 1) * max(log1p(-p), -100) - y * max(log(p), -100); p is not clipped and y is not smoothed
    # (the convention refuses both parameters: eps is None, label_smoothing 0).
    _same_shape(target, pred)
    soft_labels(target)
    probabilities(pred, logits_loss="bce_logits")
    y = target
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(pred), np.log1p(-pred)
    capped = (log_p < _TORCH_LOG_FLOOR) | (log_q < _TORCH_LOG_FLOOR)
    log_p, log_q = np.maximum(log_p, _TORCH_LOG_FLOOR), np.maximum(log_q, _TORCH_LOG_FLOOR)
    return np.column_stack([_row_mean(negated(y * log_p + (1.0 - y) * log_q)), _any_per_row(capped)])


def _keras_bce(target: np.ndarray, pred: np.ndarray, *, eps: float, label_smoothing: float) -> np.ndarray:
    _same_shape(target, pred)
    soft_labels(target)
    probabilities(pred, logits_loss="bce_logits")
    losses = _row_mean(_keras_log_loss(_smooth(target, label_smoothing), pred, eps))
    return np.column_stack([losses, _any_per_row((pred < eps) | (pred > 1.0 - eps))])


def _sklearn_bce(target: np.ndarray, pred: np.ndarray, **params: Any) -> np.ndarray:
    """:func:`bce` on the 0/1 labels sklearn's ``log_loss`` takes (it refuses soft targets as "continuous")."""
    sklearn_labels(target, "log_loss")
    return _bce(target, pred, **params, logits_loss=f"bce_logits with {option('convention', 'lossctl')}")


def _sklearn_one_label(
    note: str,
    function: Callable[..., np.ndarray],
    loss: str,
    metric: str,
    instead: str | None,
    lacks: Mapping[str, str] | None = None,
) -> Convention:
    """The sklearn convention of ``function`` (lossctl's, which is sklearn's on one label column), which has no
    multi-label form: sklearn's ``log_loss`` and ``brier_score_loss`` read K 0/1 target columns as the one-hot
    classes of one label (another number than the mean over the N K labels), ``hinge_loss`` refuses them."""

    def one_label(target: np.ndarray, pred: np.ndarray, **params: Any) -> np.ndarray:
        if max(target.shape[1:] + pred.shape[1:], default=1) > 1:
            reads = f"reads K 0/1 columns as the one-hot classes of one label, {instead}'s number" if instead else ""
            raise UsageError(
                f"loss '{loss}' with convention sklearn takes one label column: sklearn's {metric} "
                f"{reads or 'refuses K columns'}; without {option('convention', 'sklearn')} the value is the mean over "
                "the N K labels"
            )
        return function(target, pred, **params)

    return Convention(note, one_label, lacks=dict(lacks or {}), one_label=True)


def _any_per_row(flags: np.ndarray) -> np.ndarray:
    """A 0/1 flag per row: any of its elements (multi-label: its K labels) flagged."""
    return flags if flags.ndim == 1 else np.asarray(flags.any(axis=1))


def clipped_rows(
    library: str, column: int = 1, eps: float | None = None
) -> Callable[[Stats, Mapping[str, Any]], list[Notice]]:
    """The notice of rows whose probability was clipped to ``[eps, 1 - eps]`` as ``library`` clips it (docs/cli.md:
    "Clipped probabilities ... are counted and reported as notices"), from contribution ``column``; ``eps`` is the
    loss's parameter, or the constant given here for a loss without one (``focal``)."""

    def notices(stats: Stats, params: Mapping[str, Any]) -> list[Notice]:
        amount = counted_rows(stats, column)
        if amount is None:
            return []
        bound = params["eps"] if eps is None else eps
        return [Notice(amount, f"had a probability within eps = {bound:g} of 0 or 1, clipped (as {library})")]

    return notices


def _capped_rows(stats: Stats, params: Mapping[str, Any]) -> list[Notice]:
    """torch does not clip: the notice of rows whose log torch caps at -100 (p within about 4e-44 of 0 or 1)."""
    amount = counted_rows(stats)
    what = "had a probability so near 0 or 1 that torch caps its log at -100"
    return [] if amount is None else [Notice(amount, what)]


CLIPPING_MEAN = Aggregate(
    "mean", weighted_mean, notices=clipped_rows("scikit-learn"), doc=MEAN.doc, many=MEAN.many, slopes=MEAN.slopes
)


@register_loss(
    "bce",
    aliases=("log_loss", "binary_cross_entropy"),
    task="binary",
    roles=_LABELS,
    violation=Violation("pred", 1.5),
    aggregate=CLIPPING_MEAN,
    summary="Binary cross-entropy (log loss) of predicted probabilities.",
    formula="l = -(y log p + (1 - y) log(1 - p)), with p and 1 - p clipped to [eps, 1 - eps]",
    follows="sklearn log_loss",
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
        _LABEL_SMOOTHING,
    ),
    properties=Properties(
        convex="yes, in p",
        robust="no: a confident wrong prediction costs up to -log(eps) (36.04 with the default eps)",
        expects="probabilities in [0, 1]; targets in [0, 1] (soft targets allowed)",
        range="[0, -log(eps)]; with soft targets the minimum is the entropy of y, not 0",
    ),
    when="Evaluating the probabilities of a binary classifier (the log loss of sklearn and Kaggle): a strictly "
    "proper scoring rule, so it rewards calibration as well as ranking. It is dominated by a few confident "
    "mistakes; compare with brier when that matters. When the model outputs logits use bce_logits, which is "
    "exact where probabilities round to 0 or 1.",
    conventions={
        "sklearn": _sklearn_one_label(
            "Same formula as lossctl (log_loss clips p and 1 - p to the dtype's eps); one column of 0/1 labels only "
            "(log_loss refuses soft targets and reads K 0/1 columns as one-hot classes: categorical_ce).",
            _sklearn_bce,
            "bce",
            "log_loss",
            "categorical_ce",
            lacks={
                "eps": "log_loss clips to the float64 machine epsilon; its eps parameter was removed in 1.5",
                "label_smoothing": "log_loss has no label smoothing",
            },
        ),
        "torch": torch_elementwise(
            "torch BCELoss does not clip: it caps each log at -100 (a p of exactly 0 or 1 costs 100, not 36.04); "
            "eps does not apply (its value is null). Its weighted mean (BCELoss(weight=w)) divides sum(w*l) "
            "by the row count.",
            func=_torch_bce,
            defaults={"eps": None},
            aggregate=replace(MEAN_OVER_ROWS, notices=_capped_rows),
            lacks={
                "eps": "BCELoss does not clip p, it caps each log at -100",
                "label_smoothing": "BCELoss has no label smoothing",
            },
        ),
        "keras": keras(
            "Keras BinaryCrossentropy clips p to [1e-7, 1 - 1e-7] (eps = keras.backend.epsilon()) and takes "
            "log(1 - clipped p).",
            func=_keras_bce,
            defaults={"eps": _KERAS_EPSILON},
            aggregate=replace(MEAN_OVER_ROWS, notices=clipped_rows("Keras")),
            lacks={"eps": "Keras clips at 1e-7, keras.backend.epsilon()"},
        ),
    },
)
def bce(target: np.ndarray, pred: np.ndarray, *, eps: float, label_smoothing: float) -> np.ndarray:
    """``-(y log p + (1 - y) log(1 - p))`` per row, ``p`` and ``1 - p`` each clipped to ``[eps, 1 - eps]``.

    Domain: ``p`` in [0, 1] (0 and 1 are clipped, not errors) and ``y`` in [0, 1] (soft targets
    allowed). ``label_smoothing`` e first replaces ``y`` by ``y (1 - e) + e / 2`` (Keras). Follows
    sklearn ``log_loss``, which clips the columns ``[1 - p, p]`` to the float64 eps. Example: y = [1, 0],
    p = [0.5, 0.2] gives rows [log 2, -log 0.8] = [0.693147, 0.223144] and a mean of 0.458145.
    """
    return _bce(target, pred, eps=eps, label_smoothing=label_smoothing, logits_loss="bce_logits")


def _bce(target: np.ndarray, pred: np.ndarray, *, eps: float, label_smoothing: float, logits_loss: str) -> np.ndarray:
    """:func:`bce`, whose error for values outside [0, 1] advises ``logits_loss``: under ``--convention sklearn``,
    which bce_logits lacks (scikit-learn has no log loss of logits), bce_logits with the convention left."""
    _same_shape(target, pred)
    probabilities(pred, logits_loss=logits_loss)
    soft_labels(target)
    losses = _row_mean(_clipped_log_loss(_smooth(target, label_smoothing), pred, eps))
    return np.column_stack([losses, _any_per_row((pred < eps) | (pred > 1.0 - eps))])  # 2nd: counts clipped rows


def bce_elementwise(target: np.ndarray, pred: np.ndarray, *, eps: float, label_smoothing: float) -> np.ndarray:
    """The bce of each element, for arrays of any shape (``elbo`` sums it over a row's D columns)."""
    soft_labels(target)
    probabilities(pred)
    return _clipped_log_loss(_smooth(target, label_smoothing), pred, eps)


@register_loss(
    "bce_logits",
    on_probabilities="bce",
    task="binary",
    roles=_LABELS,
    violation=Violation("target", 1.5),
    summary="Binary cross-entropy computed from logits (sigmoid inside), exact for any logit.",
    formula="l = (1 - y) x + (1 + (pos_weight - 1) y) log(1 + exp(-x)); pos_weight = 1: "
    "max(x, 0) - x y + log1p(exp(-|x|))",
    follows="torch BCEWithLogitsLoss",
    params=(
        Param(
            "pos_weight",
            1.0,
            "weight of the positive-class term, e.g. n_negative / n_positive for imbalanced data (as torch)",
            minimum=0.0,
        ),
        _LABEL_SMOOTHING,
    ),
    properties=Properties(
        convex="yes, in x",
        robust="no, but grows only linearly in |x| for confident mistakes",
        expects="logits (any real); targets in [0, 1] (soft targets allowed)",
        range="[0, inf); with soft targets the minimum is the entropy of y, not 0",
    ),
    when="Evaluating a sigmoid-output model on its raw logits (what torch's BCEWithLogitsLoss and Keras' "
    "BinaryCrossentropy(from_logits=True) train on): no clipping, exact and finite for any logit. Set "
    "pos_weight to n_negative / n_positive to weigh a rare positive class up.",
    conventions={
        "torch": torch_elementwise(
            "Same formula as lossctl. Its weighted mean (BCEWithLogitsLoss(weight=w)) divides sum(w*l) by the "
            "row count.",
            aggregate=MEAN_OVER_ROWS,
            lacks={"label_smoothing": "BCEWithLogitsLoss has no label smoothing"},
        ),
        "keras": keras(
            "Same formula as lossctl (BinaryCrossentropy(from_logits=True) uses "
            "tf.nn.sigmoid_cross_entropy_with_logits; Keras has no pos_weight).",
            lacks={"pos_weight": "BinaryCrossentropy has no pos_weight"},
        ),
    },
)
def bce_logits(target: np.ndarray, pred: np.ndarray, *, pos_weight: float, label_smoothing: float) -> np.ndarray:
    """``(1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x))`` per row, ``x`` a logit; torch's ``pos_weight``.

    With ``pw = 1`` this is ``max(x, 0) - x y + log1p(exp(-|x|))``, the BCE of ``sigmoid(x)`` without
    ever forming it. Domain: any real ``x``; ``y`` in [0, 1] (soft targets allowed);
    ``label_smoothing`` as in ``bce``. Follows torch ``BCEWithLogitsLoss``. Example: y = [1, 0],
    x = [0, 1e4] gives rows [log 2, 1e4]; y = [1], x = [0], pos_weight = 3 gives 3 log 2 = 2.079442.
    """
    _same_shape(target, pred)
    soft_labels(target)
    return _row_mean(logit_loss(_smooth(target, label_smoothing), pred, pos_weight))


@register_loss(
    "brier",
    task="binary",
    roles=_LABELS,
    violation=Violation("target", 0.5),
    summary="Brier score: squared error of the predicted probability of the positive class.",
    formula="l = (p - y)^2",
    follows="sklearn brier_score_loss",
    properties=Properties(
        convex="yes, in p",
        robust="yes: bounded, a row costs at most 1",
        expects="probabilities in [0, 1]; labels 0 or 1",
        range="[0, 1]",
    ),
    when="Judging calibrated probabilities with a bounded score that a few confident mistakes cannot dominate "
    "(unlike bce). It is a proper scoring rule but insensitive to the difference between p = 0.001 and "
    "p = 0.01, so prefer bce for rare events.",
    conventions={
        "sklearn": _sklearn_one_label(
            "Same formula as lossctl (brier_score_loss, binary case); one label column only (brier_score_loss reads "
            "K 0/1 columns as one-hot classes: brier_multiclass).",
            lambda *a, **k: brier(*a, **k),
            "brier",
            "brier_score_loss",
            "brier_multiclass",
        )
    },
)
def brier(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``(p - y)^2`` per row.

    Domain: ``p`` in [0, 1]; ``y`` a hard label, 0 or 1 (as sklearn's ``brier_score_loss``, which
    rejects continuous targets; for soft targets ``mse`` computes the same number). Follows sklearn
    ``brier_score_loss``. Example: y = [1, 0], p = [0.9, 0.4] gives rows [0.01, 0.16] and a mean of 0.085.
    """
    _same_shape(target, pred)
    binary_labels(target)
    probabilities(pred)
    residual = pred - target
    return _row_mean(residual * residual)


def _label_set_seen(arrays: Mapping[str, np.ndarray], rows: np.ndarray) -> dict[float, tuple[int, int]]:
    """The chunk's label of a set, 0 or -1, with the rows holding it and the first (``rows``: the chunk's row
    numbers in the input); ``{}`` for labels all 1. A chunk that passed ``sign_labels`` holds one set, told by its
    smallest label; one it refused (the engine hands its set on to the later chunks), the set of its first value
    that is 0 or -1, as ``sign_labels`` chooses it. Read from the rows, not the weighted statistics, so that rows
    of weight 0 count too."""
    target = arrays["target"]
    flat = target.reshape(-1)
    smallest = float(flat.min()) if flat.size else 1.0
    if smallest >= 1.0:
        return {}
    is_label = target == smallest
    if smallest not in (0.0, -1.0) or (flat[: np.argmax(is_label.reshape(-1))] == 0).any():
        decisive = np.flatnonzero((flat == 0) | (flat == -1))  # a refused chunk: another label, or 0 before -1
        if not decisive.size:
            return {}
        smallest = float(flat[decisive[0]])
        is_label = target == smallest
    holding = is_label.reshape(len(target), -1).any(axis=1)
    return {smallest: (int(np.count_nonzero(holding)), int(rows[np.argmax(holding)]))}


def _other_label_set(
    before: dict[float, tuple[int, int]] | None, later: dict[float, tuple[int, int]]
) -> dict[float, tuple[int, int]]:
    """Refuse the rows of ``later`` (a chunk, or a part of the Dask engine) holding the other set's label than
    ``before`` (-1 after 0, or 0 after -1), as ``sign_labels`` refuses them in one chunk: the set of the first row
    holding 0 or -1 is the one intended. Else the two merged."""
    merged = dict(before or {})
    for label, (count, first) in later.items():
        if merged and label not in merged:
            raise DomainError("target", SIGN_LABELS, label, count, first)
        held, earliest = merged.get(label, (0, first))
        merged[label] = (held + count, min(earliest, first))
    return merged


ONE_LABEL_SET_MEAN = replace(MEAN, seen=_label_set_seen, across=_other_label_set)
# Keras' sum(w*l) / n, checked across chunks as lossctl's mean is.
ONE_LABEL_SET_OVER_ROWS = replace(MEAN_OVER_ROWS, seen=_label_set_seen, across=_other_label_set)


def _signs(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """The label as -1 or +1: ``2y - 1`` for labels in {0, 1}, ``y`` for labels in {-1, 1}."""
    _same_shape(target, pred)
    earlier = earlier_seen()  # the set the earlier chunks chose (_label_set_seen), after a refusal
    sign_labels(target, earlier=next(iter(earlier)) if earlier else None)
    # All 1 reads the same either way; any -1 means the {-1, 1} set (the check ruled out a mix with 0).
    return target if np.any(target == -1.0) else 2.0 * target - 1.0


@register_loss(
    "hinge",
    task="binary",
    roles=_LABELS,
    violation=Violation("target", 2.0),
    aggregate=ONE_LABEL_SET_MEAN,
    summary="Hinge loss of a score: zero once the label-signed score clears the margin.",
    formula="l = max(0, margin - t x), t = 2y - 1 for labels in {0, 1}, t = y for labels in {-1, 1}",
    follows="sklearn hinge_loss, Keras Hinge",
    params=(Param("margin", 1.0, "the signed score t x a row must reach to cost nothing"),),
    properties=Properties(
        convex="yes, in x",
        robust="partly: grows linearly with the margin violation",
        expects="scores or logits (any real); labels all in {0, 1} or all in {-1, 1}",
        range="[0, inf)",
    ),
    when="Evaluating an SVM or any model whose output is a decision score, not a probability: it measures how "
    "far rows are from the right side of the margin and ignores rows already beyond it. Use bce_logits when "
    "the scores are meant to be calibrated logits.",
    conventions={
        "sklearn": _sklearn_one_label(
            "Same formula as lossctl (hinge_loss maps the smaller of two labels to -1; its margin is fixed at 1). "
            "Not imitated: given a target holding a single class, hinge_loss reads every row as the negative "
            "class (LabelBinarizer), so all 1 gives max(0, 1 + x); lossctl keeps t = +1. One label column only "
            "(hinge_loss refuses K columns).",
            lambda *a, **k: hinge(*a, **k),
            "hinge",
            "hinge_loss",
            None,
            lacks={"margin": "hinge_loss fixes the margin at 1"},
        ),
        "keras": keras(
            "Same formula as lossctl (Keras converts labels that are all 0 or 1 to -1 or 1; its margin is fixed at 1).",
            lacks={"margin": "Keras' Hinge fixes the margin at 1"},
            aggregate=ONE_LABEL_SET_OVER_ROWS,
        ),
    },
)
def hinge(target: np.ndarray, pred: np.ndarray, *, margin: float) -> np.ndarray:
    """``max(0, margin - t x)`` per row, ``t`` = ``2y - 1`` for labels in {0, 1} and ``y`` for {-1, 1}.

    Domain: any real score ``x``; the labels of the input are all in {0, 1} or all in {-1, 1} (a
    mix such as {-1, 0, 1} is an input error). Follows sklearn ``hinge_loss`` and Keras ``Hinge``.
    Example: y = [1, 0, 1], x = [2, 0.5, -1] gives t = [1, -1, 1], rows [0, 1.5, 2] and a mean of 7/6.
    """
    return _row_mean(np.maximum(margin - _signs(target, pred) * pred, 0.0))


@register_loss(
    "squared_hinge",
    task="binary",
    roles=_LABELS,
    violation=Violation("target", 2.0),
    aggregate=ONE_LABEL_SET_MEAN,
    summary="Squared hinge loss of a score (the L2-SVM loss).",
    formula="l = max(0, margin - t x)^2, t = 2y - 1 for labels in {0, 1}, t = y for labels in {-1, 1}",
    follows="Keras SquaredHinge",
    params=(Param("margin", 1.0, "the signed score t x a row must reach to cost nothing"),),
    properties=Properties(
        convex="yes, in x",
        robust="no: squares the margin violation",
        expects="scores or logits (any real); labels all in {0, 1} or all in {-1, 1}",
        range="[0, inf)",
    ),
    when="Evaluating an L2-SVM (sklearn LinearSVC's default loss) or a scorer trained with Keras SquaredHinge: "
    "smooth, unlike hinge, and harder on large margin violations.",
    conventions={
        "keras": keras(
            "Same formula as lossctl (Keras converts labels that are all 0 or 1 to -1 or 1; its margin is fixed at 1).",
            lacks={"margin": "Keras' SquaredHinge fixes the margin at 1"},
            aggregate=ONE_LABEL_SET_OVER_ROWS,
        ),
    },
)
def squared_hinge(target: np.ndarray, pred: np.ndarray, *, margin: float) -> np.ndarray:
    """``max(0, margin - t x)^2`` per row, with ``t`` and the label domain as ``hinge``.

    Follows Keras ``SquaredHinge``. Example: y = [1, 0, 1], x = [2, 0.5, -1] gives rows [0, 2.25, 4]
    and a mean of 25/12.
    """
    violation = np.maximum(margin - _signs(target, pred) * pred, 0.0)
    return _row_mean(violation * violation)


def _keras_focal(target: np.ndarray, pred: np.ndarray, *, alpha: float, gamma: float, from_logits: bool) -> np.ndarray:
    # keras/src/losses/losses.py binary_focal_crossentropy: with from_logits it takes sigmoid(x) and then the
    # clipped probability BCE (p clipped to [1e-7, 1 - 1e-7], so a logit of 1e4 on a negative costs 16.1, not
    # 1e4); p_t = y p + (1 - y)(1 - p) from the unclipped p; alpha only with apply_class_balancing.
    _same_shape(target, pred)
    soft_labels(target)
    if from_logits:
        p = sigmoid(pred)
    else:
        probabilities(pred, logits_loss="focal:from_logits=true")
        p = pred
    p_t = target * p + (1.0 - target) * (1.0 - p)
    loss = (1.0 - p_t) ** gamma * _keras_log_loss(target, p, _KERAS_EPSILON)
    if alpha >= 0:
        loss = (target * alpha + (1.0 - target) * (1.0 - alpha)) * loss
    return np.column_stack([_row_mean(loss), _any_per_row((p < _KERAS_EPSILON) | (p > 1.0 - _KERAS_EPSILON))])


@register_loss(
    "focal",
    on_probabilities="focal:from_logits=false",
    task="binary",
    roles=_LABELS,
    aggregate=replace(MEAN, notices=clipped_rows("bce", eps=_MACHINE_EPS)),
    violation=Violation("target", 1.5),
    summary="Sigmoid focal loss: bce down-weighted on well-classified rows by (1 - p_t)^gamma.",
    formula="l = alpha_t (1 - p_t)^gamma bce, p = sigmoid(x), p_t = p y + (1 - p)(1 - y), "
    "alpha_t = alpha y + (1 - alpha)(1 - y) (none if alpha < 0)",
    follows="torchvision sigmoid_focal_loss",
    params=(
        Param("alpha", 0.25, "weight of the positive class (1 - alpha for the negative); < 0 disables it", maximum=1.0),
        Param("gamma", 2.0, "focusing exponent of (1 - p_t); 0 gives (alpha-weighted) bce", minimum=0.0),
        Param("from_logits", True, "pred holds logits; false: probabilities in [0, 1]", kind="bool"),
    ),
    properties=Properties(
        convex="no for gamma > 0 (in x); gamma = 0 is bce_logits",
        robust="no, but easy rows (p_t near 1) are down-weighted by (1 - p_t)^gamma",
        expects="logits (any real), or probabilities in [0, 1] with from_logits=false; targets in [0, 1]",
        range="[0, inf)",
    ),
    when="Heavy class imbalance or dense detection (RetinaNet), where a flood of easy negatives would dominate "
    "bce: (1 - p_t)^gamma lets the hard rows count. Report it as a training loss; for gamma > 0 it is not a "
    "proper scoring rule, so judge calibration with bce or brier.",
    conventions={
        "torch": torch_elementwise(
            "Same formula as lossctl (torchvision.ops.sigmoid_focal_loss, which takes logits only; lossctl "
            "computes 1 - p_t without cancellation, so tiny losses of very confident rows keep their digits).",
            lacks={"from_logits": "sigmoid_focal_loss takes logits only"},
        ),
        "keras": keras(
            "Keras BinaryFocalCrossentropy: no alpha by default (apply_class_balancing=False; an explicit alpha "
            "turns it on) and from_logits=False by default; from logits it takes sigmoid(x), then clips it to "
            "[1e-7, 1 - 1e-7] for the log.",
            func=_keras_focal,
            defaults={"alpha": -1.0, "from_logits": False},
            aggregate=replace(MEAN_OVER_ROWS, notices=clipped_rows("Keras", eps=_KERAS_EPSILON)),
        ),
    },
)
def focal(target: np.ndarray, pred: np.ndarray, *, alpha: float, gamma: float, from_logits: bool) -> np.ndarray:
    """``alpha_t (1 - p_t)^gamma bce`` per row (Lin et al. 2017); ``alpha < 0`` drops ``alpha_t``.

    ``p = sigmoid(x)``, ``p_t = p y + (1 - p)(1 - y)``, ``alpha_t = alpha y + (1 - alpha)(1 - y)``.
    From logits the bce term is ``bce_logits`` and ``1 - p_t = p (1 - y) + sigmoid(-x) y`` is formed
    without subtracting from 1, so every logit, up to +-1e4, gives an exact finite value. With
    ``from_logits=false``, ``pred`` holds ``p`` in [0, 1] and the bce term is ``bce`` (clipped to the
    float64 eps). Domain: ``y`` in [0, 1] (soft targets allowed). Follows torchvision
    ``sigmoid_focal_loss``. Example: y = [1], x = [0] gives p_t = 0.5 and 0.25 * 0.25 * log 2 = 0.043322.
    """
    _same_shape(target, pred)
    soft_labels(target)
    if from_logits:
        cross_entropy = logit_loss(target, pred)
        one_minus_p_t = sigmoid(pred) * (1.0 - target) + sigmoid(-pred) * target
    else:
        probabilities(pred, logits_loss="focal:from_logits=true")
        cross_entropy = _clipped_log_loss(target, pred, _MACHINE_EPS)
        one_minus_p_t = pred * (1.0 - target) + (1.0 - pred) * target
    loss = one_minus_p_t**gamma * cross_entropy
    if alpha >= 0:
        loss = (alpha * target + (1.0 - alpha) * (1.0 - target)) * loss
    # 2nd column: the rows whose probability the bce term clipped (none from logits), for the notice
    clipped = np.zeros(len(loss)) if from_logits else _any_per_row((pred < _MACHINE_EPS) | (pred > 1.0 - _MACHINE_EPS))
    return np.column_stack([_row_mean(loss), clipped])


def _torch_soft_margin(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    # aten/src/ATen/native/Loss.cpp soft_margin_loss takes the target as the sign itself: a 0 label costs
    # log1p(exp(0)) = log 2 whatever the score, not lossctl's 0 -> -1. Only -1/1 labels give torch's number.
    convention = option("convention", "lossctl")
    reject(
        "target",
        f"labels 1 or -1 (torch's SoftMarginLoss costs a 0 label log 2 whatever the score; {convention} maps "
        "0/1 labels to -1/1)",
        target,
        (target != 1.0) & (target != -1.0),
    )
    return soft_margin(target, pred)


@register_loss(
    "soft_margin",
    task="binary",
    violation=Violation("target", 2.0),
    aggregate=ONE_LABEL_SET_MEAN,
    summary="Soft-margin (logistic) loss of a score against a label -1/1: the smooth counterpart of hinge.",
    formula="l = log(1 + exp(-t x)), t = 2y - 1 for labels in {0, 1}, t = y for labels in {-1, 1}",
    follows="torch SoftMarginLoss",
    properties=Properties(
        convex="yes, in x",
        robust="partly: grows linearly with a confident mistake",
        expects="scores or logits (any real); labels all in {0, 1} or all in {-1, 1}",
        range="[0, inf)",
    ),
    when="Reproducing torch's SoftMarginLoss, the logistic loss written for -1/1 labels; with 0/1 labels it equals "
    "bce_logits. It is the smooth version of hinge: every row counts, even beyond the margin.",
    # aten/src/ATen/native/Loss.cpp soft_margin_loss: log1p(exp(-input * target)), mean over elements.
    conventions={
        "torch": Convention(
            "Same formula as lossctl on -1/1 labels. torch takes any label as the sign itself (a 0 costs log 2 "
            "whatever the score); lossctl refuses labels other than 1 and -1 under this convention: 0/1 labels, "
            "which it maps to -1/1, would give a number neither torch's meaning nor lossctl's.",
            func=_torch_soft_margin,
        )
    },
)
def soft_margin(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``log(1 + exp(-t x))`` per row, ``t`` = ``y`` for labels in {-1, 1} and ``2y - 1`` for {0, 1}.

    Written as ``max(-t x, 0) + log1p(exp(-|t x|))``, exact for every score. Domain: any real ``x``; the labels
    of the input are all in {0, 1} or all in {-1, 1}. Follows torch ``SoftMarginLoss``. Example: y = [1, -1],
    x = [0, 1e4] gives rows [log 2, 1e4] and a mean of 5000.346574.
    """
    margin = -_signs(target, pred) * pred
    return _row_mean(np.maximum(margin, 0.0) + _log1p_exp_neg_abs(margin))


@register_loss(
    "hinge_embedding",
    task="binary",
    violation=Violation("target", 0.0),
    summary="Hinge embedding loss: a distance kept small for similar pairs (1) and above a margin for others (-1).",
    formula="l = x if y = 1, max(0, margin - x) if y = -1",
    follows="torch HingeEmbeddingLoss",
    params=(Param("margin", 1.0, "the distance a dissimilar pair (y = -1) must reach to cost nothing"),),
    properties=Properties(
        convex="yes, in x",
        robust="partly: linear in the distance",
        expects="distances (e.g. an L1 distance between two embeddings, >= 0 in use); labels 1 or -1",
        range="[0, inf) for non-negative distances",
    ),
    when="Scoring pairs by a distance computed elsewhere (metric learning, siamese networks, semi-supervised "
    "embeddings): similar pairs pay their distance, dissimilar pairs pay how far they fall short of the margin. "
    "For the embeddings themselves use contrastive or cosine_embedding.",
    # aten/src/ATen/native/Loss.cpp hinge_embedding_loss: where(target != 1, clamp_min(margin - x, 0), 0)
    # + where(target != -1, x, 0); a label other than 1 and -1 would add both terms, so lossctl rejects it.
    conventions={
        "torch": Convention(
            "Same formula as lossctl. torch takes any label; lossctl refuses labels other than 1 and -1 under this "
            "convention too: torch adds both terms for such a label, a number that scores no pair."
        )
    },
)
def hinge_embedding(target: np.ndarray, pred: np.ndarray, *, margin: float) -> np.ndarray:
    """``x`` where ``y = 1`` and ``max(0, margin - x)`` where ``y = -1``, ``x`` a distance.

    Domain: any real ``x``; labels 1 or -1 (torch adds both terms for any other label; lossctl rejects it).
    Follows torch ``HingeEmbeddingLoss``. Example: y = [1, -1, -1], x = [0.3, 0.4, 2], margin 1, gives rows
    [0.3, 0.6, 0] and a mean of 0.3.
    """
    plus_minus_labels(target)
    return np.where(target == 1.0, pred, np.maximum(margin - pred, 0.0))
