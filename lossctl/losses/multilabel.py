"""Multi-label losses: ``pred`` holds K columns (logits, scores or probabilities, one per label) and ``target``
K columns of 0/1 labels (torch's index-list targets of ``MultiLabelMarginLoss`` are written as multi-hot).

Each function returns one loss per row; the value is the (weighted) mean over rows. The binary losses
(``bce``, ``bce_logits``, ``focal``, ...) take multi-label columns too (:mod:`lossctl.losses.binary`).
"""

from __future__ import annotations

import numpy as np

from lossctl.errors import InputError
from lossctl.losses._checks import binary_labels
from lossctl.losses._shared import negated
from lossctl.losses.binary import logit_loss, sigmoid
from lossctl.registry import Convention, Param, Properties, Role, Violation, register_loss
from lossctl.text import count

_TARGET = Role("target", "K columns of 0/1 labels, one per label", shape="vector")
_VIOLATION = Violation("target", 0.5)


def _labels(target: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``target`` and ``pred`` as rows x K (a single column read as K = 1), after the shape and label checks."""
    target, pred = target.reshape(len(target), -1), pred.reshape(len(pred), -1)
    if target.shape[1] != pred.shape[1]:
        raise InputError(
            f"'target' has {count(target.shape[1], 'column')} but 'pred' has {pred.shape[1]}: a multi-label loss "
            "takes one 0/1 target column per prediction column, in the same order"
        )
    binary_labels(target)
    return target, pred


@register_loss(
    "multilabel_soft_margin",
    on_probabilities="bce",
    task="multilabel",
    violation=_VIOLATION,
    summary="Multi-label soft-margin loss: the logistic loss of each label's logit, averaged over the K labels.",
    formula="l = -(1/K) sum_k c_k [y_k log sigmoid(x_k) + (1 - y_k) log sigmoid(-x_k)]",
    follows="torch MultiLabelSoftMarginLoss",
    roles=(_TARGET, Role("pred", "K columns of logits, one per label", shape="vector")),
    params=(
        Param(
            "class_weight",
            None,
            "one weight per label multiplying its term (torch's weight); the row still divides by K",
            kind="floats",
            minimum=0.0,
        ),
    ),
    properties=Properties(
        convex="yes, in the logits",
        robust="no, but grows only linearly in |x| for confident mistakes",
        expects="logits (any real), K columns; K 0/1 target columns",
        range="[0, inf)",
    ),
    when="Multi-label classification (tags, attributes, several diseases per scan) evaluated on the logits a "
    "sigmoid head was trained on: the mean of K independent logistic losses, exact for any logit. Use "
    "class_weight to weigh rare labels up, as torch's weight does.",
    # torch/nn/functional.py multilabel_soft_margin_loss: -(y logsigmoid(x) + (1 - y) logsigmoid(-x)), times
    # weight, summed over the classes and divided by their number; then the mean over rows.
    conventions={"torch": Convention("Same formula as lossctl (MultiLabelSoftMarginLoss(weight=class_weight)).")},
)
def multilabel_soft_margin(
    target: np.ndarray, pred: np.ndarray, *, class_weight: tuple[float, ...] | None
) -> np.ndarray:
    """``(1/K) sum_k c_k bce_logits(y_k, x_k)`` per row, ``c`` = ``class_weight`` (1 without).

    Each term is ``max(x, 0) - x y + log1p(exp(-|x|))``, exact for every logit. Domain: any real logits;
    K 0/1 target columns; ``class_weight`` one weight per label. Follows torch ``MultiLabelSoftMarginLoss``.
    Example: y = [[1, 0]], x = [[0, 0]] gives log 2 = 0.693147; class_weight = [1, 3] gives 2 log 2.
    """
    target, pred = _labels(target, pred)
    terms = logit_loss(target, pred)
    if class_weight is not None:
        if len(class_weight) != pred.shape[1]:
            raise InputError(
                f"parameter 'class_weight' has {count(len(class_weight), 'value')} but 'pred' has {pred.shape[1]} "
                "columns: give one per label"
            )
        terms = terms * np.asarray(class_weight, dtype=np.float64)
    return terms.mean(axis=1)


@register_loss(
    "multilabel_margin",
    task="multilabel",
    violation=_VIOLATION,
    summary="Multi-label margin loss: every relevant label's score should lead every irrelevant one's by 1.",
    formula="l = sum_{j: y_j = 1} sum_{i: y_i = 0} max(0, 1 - (x_j - x_i)) / K",
    follows="torch MultiLabelMarginLoss",
    roles=(_TARGET, Role("pred", "K columns of scores, one per label", shape="vector")),
    properties=Properties(
        convex="yes, in the scores",
        robust="partly: linear in each margin violation",
        expects="scores (any real), K columns; K 0/1 target columns (torch's index lists written as multi-hot)",
        range="[0, inf)",
    ),
    when="Multi-label ranking: a row costs nothing once each of its labels outscores each label it lacks by a "
    "margin of 1, whatever the calibration. A row with no label, or with every label, costs 0.",
    # aten/src/ATen/native/LossMultiLabelMargin.cpp: for each target index j (up to the first -1) and each
    # non-target class i, max(0, 1 - (x[j] - x[i])), summed and divided by the number of classes.
    conventions={
        "torch": Convention(
            "Same formula as lossctl; torch takes each row's labels as class indices padded with -1 "
            "([[3, 0, -1, 1]] is the multi-hot [1, 1, 0, 1])."
        )
    },
)
def multilabel_margin(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``sum_{j relevant} sum_{i irrelevant} max(0, 1 - x_j + x_i) / K`` per row.

    Worked one relevant column at a time (K passes over rows x K), so memory stays rows x K. Domain: any real
    scores; K 0/1 target columns. Follows torch ``MultiLabelMarginLoss`` with multi-hot targets. Example:
    y = [[1, 0, 0, 1]], x = [[0.1, 0.2, 0.4, 0.8]] gives (1.1 + 1.3 + 0.4 + 0.6) / 4 = 0.85 (torch's own example).
    """
    target, pred = _labels(target, pred)
    irrelevant = 1.0 - target
    total = np.zeros(len(pred))
    for j in range(pred.shape[1]):
        violations = np.maximum(1.0 - pred[:, j : j + 1] + pred, 0.0)
        total += target[:, j] * (violations * irrelevant).sum(axis=1)
    return total / pred.shape[1]


@register_loss(
    "asymmetric",
    aliases=("asl",),
    task="multilabel",
    violation=_VIOLATION,
    summary="Asymmetric loss (ASL): a focal bce that focuses and clips the negatives harder than the positives.",
    formula="l = -sum_k [y (1 - p)^gamma_pos log(max(p, eps)) + (1 - y) p_m^gamma_neg log(max(1 - p_m, eps))], "
    "p = sigmoid(x), p_m = max(p - clip, 0)",
    follows="Ridnik et al. 2021, official AsymmetricLoss (Alibaba-MIIL/ASL)",
    roles=(_TARGET, Role("pred", "K columns of logits, one per label", shape="vector")),
    params=(
        Param("gamma_pos", 0.0, "focusing exponent of the positive labels' (1 - p)", minimum=0.0),
        Param("gamma_neg", 4.0, "focusing exponent of the negative labels' shifted probability p_m", minimum=0.0),
        Param(
            "clip",
            0.05,
            "probability margin: a negative label costs nothing once p <= clip (0 turns the shift off)",
            minimum=0.0,
            maximum=1.0,
        ),
        Param("eps", 1e-8, "floor of the probabilities inside each log", minimum=0.0, min_exclusive=True),
    ),
    properties=Properties(
        convex="no for gamma > 0 (in the logits)",
        robust="no, but easy negatives are down-weighted by p_m^gamma_neg and discarded below clip",
        expects="logits (any real), K columns; K 0/1 target columns",
        range="[0, K (-log eps)]",
    ),
    when="Multi-label problems with many labels and few positives per row (tagging, COCO/OpenImages "
    "attributes): the many easy negatives would dominate bce; ASL weighs them down harder than focal loss does "
    "and drops those already below clip. Its value is a sum over labels, so it grows with K.",
    # Alibaba-MIIL/ASL src/loss_functions/losses.py (@05b193d8) AsymmetricLoss.forward: xs_neg = (1 - sigmoid(x)
    # + clip).clamp(max=1), log(clamp(min=eps)) of both sides, weight pow(1 - pt, gamma_pos y + gamma_neg (1 - y)),
    # return -loss.sum() over the batch: lossctl's --reduction sum. The class defaults gamma_pos=1; the paper and
    # its README train with gamma_pos=0, lossctl's default.
    conventions={
        "torch": Convention(
            "Same formula as lossctl (the official AsymmetricLoss module, which returns the sum over the batch: "
            "--reduction sum; its constructor's gamma_pos default is 1, the paper's is 0)."
        )
    },
)
def asymmetric(
    target: np.ndarray, pred: np.ndarray, *, gamma_pos: float, gamma_neg: float, clip: float, eps: float
) -> np.ndarray:
    """``-sum_k [y (1 - p)^g+ log max(p, eps) + (1 - y) p_m^g- log max(1 - p_m, eps)]`` per row (Ridnik et al.).

    ``p = sigmoid(x)`` and ``1 - p = sigmoid(-x)`` are both formed without cancellation; ``1 - p_m =
    min(1 - p + clip, 1)``. Domain: any real logits; K 0/1 target columns. Follows the official
    ``AsymmetricLoss`` per row (it returns the batch sum). Example: y = [[1, 0]], x = [[0, 0]], defaults:
    -log 0.5 + 0.45^4 (-log 0.55) = 0.693147 + 0.024515 = 0.717662.
    """
    target, pred = _labels(target, pred)
    p, q = sigmoid(pred), sigmoid(-pred)
    q_shifted = np.minimum(q + clip, 1.0) if clip > 0 else q
    p_shifted = np.maximum(p - clip, 0.0) if clip > 0 else p
    positive = (q**gamma_pos) * np.log(np.maximum(p, eps))
    negative = (p_shifted**gamma_neg) * np.log(np.maximum(q_shifted, eps))
    return negated((target * positive + (1.0 - target) * negative).sum(axis=1))


@register_loss(
    "hamming",
    task="multilabel",
    violation=_VIOLATION,
    summary="Hamming loss: the fraction of a row's labels predicted wrong (prediction = score >= threshold).",
    formula="l = (1/K) sum_k [ [p_k >= threshold] != y_k ]",
    follows="sklearn hamming_loss",
    roles=(_TARGET, Role("pred", "K columns of probabilities, scores or 0/1 predictions", shape="vector")),
    params=(Param("threshold", 0.5, "a label is predicted where its score is >= threshold"),),
    properties=Properties(
        convex="no (a step function of the scores)",
        robust="yes: each row costs at most 1",
        expects="K columns of scores (thresholded) or 0/1 predictions; K 0/1 target columns",
        range="[0, 1]",
    ),
    when="Reporting a multi-label classifier's decisions in one number that reads as the share of wrong label "
    "assignments. It ignores how confident the scores are; pair it with bce or multilabel_soft_margin.",
    # sklearn/metrics/_classification.py hamming_loss (1.9.1): count_nonzero(y_true - y_pred, sample_weight)
    # / (n_samples * n_labels * mean(sample_weight)), the weighted mean of each row's share of wrong labels.
    conventions={"sklearn": Convention("Same formula as lossctl (hamming_loss on the thresholded predictions).")},
)
def hamming(target: np.ndarray, pred: np.ndarray, *, threshold: float) -> np.ndarray:
    """The share of the K labels of a row where ``[p_k >= threshold]`` differs from ``y_k``.

    Domain: any real scores; K 0/1 target columns. Follows sklearn ``hamming_loss`` applied to the
    thresholded predictions. Example: y = [[1, 0, 1, 0]], p = [[0.9, 0.6, 0.2, 0.1]] gives 2/4 = 0.5.
    """
    target, pred = _labels(target, pred)
    return ((pred >= threshold) != (target == 1.0)).mean(axis=1)
