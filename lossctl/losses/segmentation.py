"""Segmentation losses: soft Dice, Jaccard (IoU), Tversky and focal Tversky of a probability map.

Roles ``target`` (the mask ``y``) and ``pred`` (probabilities ``p``), both of shape ``any``. Each loss is
a ratio of the soft confusion sums ``TP = sum p y``, ``FP = sum p (1 - y)`` and ``FN = sum (1 - p) y``
over the pixels of one sample, and the layout of the input says what a sample is:

* vector columns (a list column or several columns: ``rows x K`` arrays) hold one sample per row. The
  function returns two columns per row, ``[loss, nothing_to_score]``; the value is the weighted mean of
  the losses (``--reduction sum``: their weighted sum), and ``--per-sample`` writes them.
  ``nothing_to_score`` is 1 where the score is 0/0 because the prediction and the target are both empty
  (``smooth = 0``): such a sample is a perfect match, loss 0, and the aggregate's notice counts them
  (tversky's other 0/0, of pixels its alpha or beta weighs 0, is a miss).
* scalar columns (1-D arrays, one pixel per row) make the whole input (or each ``--by`` group) one
  sample, with no per-row loss. The function returns three columns per pixel, ``[p y, p (1 - y),
  (1 - p) y]``; the engine adds their weighted sums chunk by chunk (so a sample weight weighs a pixel)
  and the aggregate computes the one loss from the merged ``[TP, FP, FN, sum(w), n]`` (mean reduction only).

One :class:`~lossctl.aggregates.Aggregate` per loss finalizes both layouts and tells them apart by the
length of the merged statistics vector: 4 (two columns) for samples, 5 (three columns) for pixels. The
length is fixed by the shape of the columns, never by the data or the weights, so a vector of zeros, a
zero weight or a chunk boundary cannot make one layout pass for the other.

The loss is computed as ``error / total`` (e.g. Dice: ``(FP + FN) / (2 TP + FP + FN + s)``), which is
``1 - score`` without the cancellation, so a near-perfect sample keeps its digits. Targets may be soft
(any value in [0, 1]), as segmentation_models_pytorch (smp), which applies no check to binary targets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lossctl.aggregates import Aggregate, Notice, Stats, weighted_mean
from lossctl.errors import InputError, UsageError
from lossctl.losses._checks import probabilities, soft_labels
from lossctl.registry import Convention, Param, Properties, Role, Violation, register_loss

# (TP, FP, FN, params) -> (loss, nothing_to_score); elementwise on arrays or on 0-d sums.
LossOfSums = Callable[[np.ndarray, np.ndarray, np.ndarray, Mapping[str, Any]], tuple[np.ndarray, np.ndarray]]

_PIXEL_STATS = 3 + 2  # [TP, FP, FN, sum(w), n] from scalar columns
_ONE_SAMPLE = (
    "over scalar columns (one pixel per row) scores the whole input as one sample, with no per-row values; bind "
    "pred and target to list columns or 2-D arrays (one sample per row) for a loss per row"
)
_KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), added to the denominator by Keras' dice and tversky


def _layout(values: np.ndarray) -> str:
    if values.ndim == 1:
        return "a scalar column (one pixel per row)"
    return f"{values.shape[1]} values per row (one sample per row)"


def _confusion(target: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The soft ``p y``, ``p (1 - y)`` and ``(1 - p) y`` of every pixel, after the shape and domain checks."""
    if target.shape[1:] != pred.shape[1:]:
        raise InputError(
            f"'target' and 'pred' must have the same layout: 'target' is {_layout(target)}, 'pred' is {_layout(pred)}"
        )
    soft_labels(target)
    probabilities(pred)
    # The products as smp's soft_tversky_score writes them (output * (1 - target), (1 - output) * target).
    return pred * target, pred * (1.0 - target), (1.0 - pred) * target


def _columns(*columns: np.ndarray) -> np.ndarray:
    # Column-major (rows x m), so that NumPy sums each contribution column pairwise, not row by row.
    return np.stack(columns).T


def _ratio(error: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``error / total`` and the mask where ``total`` is 0; there ``error <= total`` is 0 too and the loss is 0."""
    nothing = total == 0.0
    return error / np.where(nothing, 1.0, total), nothing


def _dice_of(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, params: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    # 1 - (2 TP + s) / (sum p + sum y + s), with sum p + sum y = 2 TP + FP + FN.
    error = fp + fn
    return _ratio(error, 2.0 * tp + error + params["smooth"])


def _jaccard_of(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, params: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    # 1 - (TP + s) / (sum p + sum y - TP + s), with sum p + sum y - TP = TP + FP + FN.
    error = fp + fn
    return _ratio(error, tp + error + params["smooth"])


def _tversky_of(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, params: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    if params["smooth"] != 0.0:
        error = params["alpha"] * fp + params["beta"] * fn
        return _ratio(error, tp + error + params["smooth"])
    # Without smooth the score is scale-free: rescale so that alpha FP + beta FN of subnormal sums
    # (e.g. FP = 5e-324) cannot underflow to 0 and turn a total miss into an empty sample.
    scale = np.maximum(np.maximum(tp, fp), fn)
    empty = scale == 0.0
    scale = np.where(empty, 1.0, scale)
    tp, fp, fn = tp / scale, fp / scale, fn / scale
    error = params["alpha"] * fp + params["beta"] * fn
    loss, nothing = _ratio(error, tp + error)
    # alpha = 0 (beta = 0) leaves the false positives (negatives) out of the score: a sample holding only those is
    # 0/0 without being empty, and scores 0 (loss 1), as smp's clamp_min(eps) of the denominator makes it; only an
    # empty prediction of an empty mask is a perfect match (docs/losses.md).
    return np.where(nothing & ~empty, 1.0, loss), empty


def _focal_tversky_of(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, params: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    loss, nothing = _tversky_of(tp, fp, fn, params)
    return loss ** params["gamma"], nothing


def _contributions(target: np.ndarray, pred: np.ndarray, loss_of: LossOfSums, params: Mapping[str, Any]) -> np.ndarray:
    """Per pixel ``[TP, FP, FN]`` (scalar columns) or per sample ``[loss, nothing_to_score]`` (vector columns)."""
    tp, fp, fn = _confusion(target, pred)
    if target.ndim == 1:
        return _columns(tp, fp, fn)
    loss, nothing = loss_of(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1), params)
    return _columns(loss, nothing.astype(np.float64))


def _sample_losses(contributions: np.ndarray, params: Mapping[str, Any]) -> np.ndarray | None:
    """Each sample's loss, of vector columns (``[loss, nothing_to_score]`` per row); scalar columns' pixel sums
    ``[TP, FP, FN]`` make the whole input one sample, with no per-row loss."""
    return contributions[:, 0] if contributions.shape[1] == 2 else None


def _sums(stats: Stats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The merged ``TP, FP, FN`` of scalar columns, as 0-d arrays for the elementwise formulas."""
    return np.asarray(stats[0], np.float64), np.asarray(stats[1], np.float64), np.asarray(stats[2], np.float64)


def _aggregate(name: str, loss_of: LossOfSums, nothing_words: str) -> Aggregate:
    """The reduction of loss ``name``: a mean over samples, or one sample from the pixel sums (module docstring)."""

    def finalize(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
        if len(stats) == _PIXEL_STATS:
            if reduction != "mean":
                raise UsageError(
                    f"loss '{name}' over scalar columns (one pixel per row) scores the whole input as one sample: "
                    "it has only the mean reduction; use list columns for one sample per row"
                )
            loss, _ = loss_of(*_sums(stats), params)
            return float(loss)
        return weighted_mean(stats, reduction, params)

    what = f"with {nothing_words} counted as perfect (loss 0; smooth=0)"

    def notices(stats: Stats, params: Mapping[str, Any]) -> list[Notice]:
        pixels = len(stats) == _PIXEL_STATS
        count = float(loss_of(*_sums(stats), params)[1]) if pixels else float(stats[1])
        if count == 0.0:
            return []
        if not pixels and stats[-2] != stats[-1]:
            return [Notice(f"samples carrying {count:g} of the weight", what)]
        return [Notice(f"{count:g} {'sample' if count == 1.0 else 'samples'}", what)]

    def counted_parts(stats: Any, params: Mapping[str, Any]) -> tuple[Any, str] | None:
        """Scalar columns make each ``--by`` group one sample: the groups whose sample is empty."""
        return (loss_of(*_sums(stats), params)[1], what) if len(stats) == _PIXEL_STATS else None

    return Aggregate(
        "mean over samples (a row of vector columns is a sample; scalar columns make the whole input one "
        "sample, mean reduction only)",
        finalize,
        reductions=("mean", "sum"),
        rows=_sample_losses,
        no_rows=_ONE_SAMPLE,
        notices=notices,
        counted_parts=counted_parts,
    )


def _keras_aggregate(loss_of: LossOfSums) -> Aggregate:
    """Keras pools every pixel of the batch into one score (dice's axis=None, tversky's flatten).

    The loss is then a scalar, which Keras' ``reduce_values`` returns as it is under every reduction: ``sum``
    gives the same number as ``mean``. A ``sample_weight`` instead multiplies that one loss, broadcast to the
    weights' shape, before the reduction: ``L * mean(w)`` (``reduction='sum'``: ``L * sum(w)``), where ``L``
    pools the pixels unweighted. The engine's sums weigh every row, so ``L`` cannot be had from them: weights are
    refused (``unweighted``) rather than given a number Keras never reports.
    """

    def finalize(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
        return float(loss_of(*_sums(stats), params)[0])

    return Aggregate(
        "one score over all pixels (Keras: axis=None)",
        finalize,
        reductions=("mean", "sum"),
        per_row=False,
        no_rows="pools every pixel of the input into one score under --convention keras (axis=None), with no "
        "per-row values; the lossctl convention scores each row of list columns as one sample",
        unweighted="Keras multiplies its one pooled, unweighted loss by the mean sample weight, or by their sum with "
        "reduction='sum', which lossctl's weighted sums cannot give",
    )


def _keras_pooled(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``[TP, FP, FN]`` per row (a sample's sums for vector columns): Keras scores the whole batch at once."""
    tp, fp, fn = _confusion(target, pred)
    if target.ndim == 2:
        tp, fp, fn = tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1)
    return _columns(tp, fp, fn)


def _keras_dice_of(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, params: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    # keras/src/losses/losses.py dice: 1 - 2 sum(y p) / (sum(y) + sum(p) + epsilon).
    error = fp + fn + _KERAS_EPSILON
    return error / (2.0 * tp + error), np.zeros_like(tp, dtype=bool)


def _keras_tversky_of(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, params: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    # keras/src/losses/losses.py tversky, with inputs = y_true and targets = y_pred: its "fp" is
    # sum((1 - p) y), i.e. the false negatives, and its "fn" is sum(p (1 - y)), the false positives:
    # 1 - TP / (TP + alpha FN + beta FP + epsilon).
    error = params["alpha"] * fn + params["beta"] * fp + _KERAS_EPSILON
    return error / (tp + error), np.zeros_like(tp, dtype=bool)


def _keras_dice(target: np.ndarray, pred: np.ndarray, *, smooth: float) -> np.ndarray:
    return _keras_pooled(target, pred)  # smooth is 0: the convention refuses it


def _keras_tversky(target: np.ndarray, pred: np.ndarray, *, alpha: float, beta: float, smooth: float) -> np.ndarray:
    return _keras_pooled(target, pred)  # alpha and beta enter at the aggregate, smooth is 0


_SMOOTH = Param(
    "smooth",
    1.0,
    "added to the score's numerator and denominator (as smp's smooth): an empty prediction of an empty mask "
    "scores 1, and small masks are judged less harshly; 0 gives the plain ratio",
    minimum=0.0,
)
_ALPHA = Param("alpha", 0.5, "weight of the false positives FP = sum p (1 - y)", minimum=0.0)
_BETA = Param("beta", 0.5, "weight of the false negatives FN = sum (1 - p) y", minimum=0.0)
_ROLES = (
    Role("target", "the mask y: 0 or 1 per pixel (soft values in [0, 1] allowed)", shape="any"),
    Role("pred", "the predicted probability p of the foreground per pixel", shape="any"),
)
_ROLES_NOTE = "probabilities in [0, 1]; masks of 0 and 1 (soft targets in [0, 1] allowed)"
_KERAS_WEIGHTS = (
    " --reduction sum gives the same score (Keras' reduction='sum' of its one loss). Sample weights are refused "
    "(exit 2): Keras multiplies its one pooled, unweighted loss by the mean weight (reduction='sum': their sum), "
    "which lossctl's weighted sums cannot give."
)

_DICE_AGGREGATE = _aggregate("dice", _dice_of, "empty prediction and target")
_JACCARD_AGGREGATE = _aggregate("jaccard", _jaccard_of, "empty prediction and target")
_TVERSKY_AGGREGATE = _aggregate("tversky", _tversky_of, "empty prediction and target")
_FOCAL_TVERSKY_AGGREGATE = _aggregate("focal_tversky", _focal_tversky_of, "empty prediction and target")


@register_loss(
    "dice",
    task="segmentation",
    violation=Violation("pred", 1.5),
    weights_scale=False,
    roles=_ROLES,
    summary="Soft Dice loss with additive smoothing: 1 - the soft Dice coefficient of mask and probability map.",
    formula="l = 1 - (2 TP + s) / (sum p + sum y + s), TP = sum p y, per sample",
    follows="soft Dice (Milletari et al. 2016) with additive smoothing; smp DiceLoss(smooth=1) on one sample",
    params=(_SMOOTH,),
    aggregate=_DICE_AGGREGATE,
    properties=Properties(
        convex="no (a ratio of sums)",
        robust="yes: each sample costs at most 1",
        expects=_ROLES_NOTE,
        range="[0, 1]",
    ),
    when="Segmentation where the foreground is small (lesions, cells, roads): an overlap score that ignores the "
    "true negatives dominating a pixel-wise bce. Give one image per row (list columns) to average per image, as "
    "papers report; scalar columns pool every pixel into one score. Pair it with bce for training stability.",
    # smp's DiceLoss defaults are from_logits=True and smooth=0 (lossctl takes probabilities and smooth=1); its
    # eps=1e-7 only floors a denominator below 1e-7 (an empty sample with smooth=0, which smp then masks).
    # Keras' dice (keras/src/losses/losses.py @702a7197) has no smooth and pools the batch by default (axis=None).
    conventions={
        "keras": Convention(
            "Keras Dice: 1 - 2 sum(y p) / (sum y + sum p + 1e-7), no smooth, and with its default axis=None every "
            "pixel of the input is pooled into one score (vector columns too); an empty prediction and target "
            "cost 1." + _KERAS_WEIGHTS,
            func=_keras_dice,
            aggregate=_keras_aggregate(_keras_dice_of),
            defaults={"smooth": 0.0},
            lacks={"smooth": "Keras adds 1e-7, keras.backend.epsilon(), to the denominator instead"},
        ),
    },
)
def dice(target: np.ndarray, pred: np.ndarray, *, smooth: float) -> np.ndarray:
    """``1 - (2 TP + s) / (sum p + sum y + s)`` per sample, computed as ``(FP + FN) / (2 TP + FP + FN + s)``.

    ``TP = sum p y``, ``FP = sum p (1 - y)``, ``FN = sum (1 - p) y`` over a sample's pixels. Domain: ``p``
    in [0, 1], ``y`` in [0, 1] (soft masks allowed), ``s >= 0``. A row of vector columns (a list column
    or several columns) is a sample, and the value is the weighted mean over samples; scalar columns
    (one pixel per row) make the whole input, or each ``--by`` group, one sample, whose sums a sample
    weight weighs pixel by pixel (mean reduction only). Follows smp
    ``DiceLoss(mode="binary", from_logits=False, smooth=1)`` on one sample, except that smp zeroes the
    loss of a sample whose target is empty (its mask ``y_true.sum(dims) > 0``), which would hide false
    positives on empty images: lossctl scores them. With ``s = 0`` an empty prediction of an empty
    mask is 0/0, a perfect match (loss 0), reported in a notice. Example: y = [1, 1, 0, 0],
    p = [1, 0.5, 0.5, 0], s = 1: TP = 1.5, sum p = 2, sum y = 2, so 1 - 4 / 5 = 0.2.
    """
    return _contributions(target, pred, _dice_of, {"smooth": smooth})


@register_loss(
    "jaccard",
    aliases=("iou", "soft_iou"),
    task="segmentation",
    violation=Violation("pred", 1.5),
    weights_scale=False,
    roles=_ROLES,
    summary="Soft Jaccard (IoU) loss with additive smoothing: 1 - the soft intersection over union.",
    formula="l = 1 - (TP + s) / (sum p + sum y - TP + s), TP = sum p y, per sample",
    follows="soft Jaccard; smp JaccardLoss(smooth=1) on one sample",
    params=(_SMOOTH,),
    aggregate=_JACCARD_AGGREGATE,
    properties=Properties(
        convex="no (a ratio of sums)",
        robust="yes: each sample costs at most 1",
        expects=_ROLES_NOTE,
        range="[0, 1]",
    ),
    when="Optimising or reporting the intersection over union that segmentation benchmarks rank by (PASCAL VOC, "
    "Cityscapes): it ranks samples as dice does but punishes partial overlaps more (J = D / (2 - D) for hard "
    "masks). Give one image per row to average per image.",
    # smp JaccardLoss (losses/jaccard.py): soft_jaccard_score = (I + s) / (card - I + s).clamp_min(eps), the same
    # empty-target mask as DiceLoss; Keras has no Jaccard loss (keras.metrics.IoU thresholds the prediction).
)
def jaccard(target: np.ndarray, pred: np.ndarray, *, smooth: float) -> np.ndarray:
    """``1 - (TP + s) / (sum p + sum y - TP + s)`` per sample, computed as ``(FP + FN) / (TP + FP + FN + s)``.

    Domain and samples as ``dice``. Follows smp ``JaccardLoss(mode="binary", from_logits=False,
    smooth=1)`` on one sample, without smp's zeroing of samples whose target is empty. With ``s = 0``
    an empty prediction of an empty mask is a perfect match (loss 0), reported in a notice. Example:
    y = [1, 1, 0, 0], p = [1, 0.5, 0.5, 0], s = 1: TP = 1.5, union = 2 + 2 - 1.5 = 2.5, so
    1 - 2.5 / 3.5 = 2/7 = 0.285714...
    """
    return _contributions(target, pred, _jaccard_of, {"smooth": smooth})


@register_loss(
    "tversky",
    task="segmentation",
    violation=Violation("pred", 1.5),
    weights_scale=False,
    roles=_ROLES,
    summary="Tversky loss: a Dice loss that weighs false positives by alpha and false negatives by beta.",
    formula="l = 1 - (TP + s) / (TP + alpha FP + beta FN + s), FP = sum p (1 - y), FN = sum (1 - p) y, per sample",
    follows="Salehi et al. 2017; smp TverskyLoss on one sample",
    params=(_ALPHA, _BETA, _SMOOTH),
    aggregate=_TVERSKY_AGGREGATE,
    properties=Properties(
        convex="no (a ratio of sums)",
        robust="yes: each sample costs at most 1",
        expects=_ROLES_NOTE,
        range="[0, 1]",
    ),
    when="Imbalanced segmentation where missing foreground costs more than over-segmenting it (small lesions): "
    "raise beta above alpha (Salehi et al. use alpha = 0.3, beta = 0.7) to favour recall. alpha = beta = 1 is "
    "jaccard; alpha = beta = 0.5 is dice with smooth doubled (exactly dice when smooth = 0).",
    # smp soft_tversky_score (losses/_functional.py): (I + s) / (I + alpha fp + beta fn + s).clamp_min(eps) with
    # fp = sum p (1 - y), fn = sum (1 - p) y, as Salehi et al. Keras' tversky names them the other way round.
    conventions={
        "keras": Convention(
            "Keras Tversky as released up to Keras 3.15.1: 1 - TP / (TP + alpha FN + beta FP + 1e-7): its code "
            "weighs the false negatives sum((1 - p) y) by alpha and the false positives by beta (the reverse of "
            "Salehi et al. and smp; only alpha != beta tells; keras-team/keras#23333, commit fa9afd5a, swaps them "
            "back on Keras' main branch, so later releases match lossctl's own alpha and beta), has no smooth, and "
            "flattens the input, pooling every pixel into one score (vector columns too); an empty prediction and "
            "target cost 1." + _KERAS_WEIGHTS,
            func=_keras_tversky,
            aggregate=_keras_aggregate(_keras_tversky_of),
            defaults={"smooth": 0.0},
            lacks={"smooth": "Keras adds 1e-7, keras.backend.epsilon(), to the denominator instead"},
            versions="<=3.15.1",
        ),
    },
)
def tversky(target: np.ndarray, pred: np.ndarray, *, alpha: float, beta: float, smooth: float) -> np.ndarray:
    """``1 - (TP + s) / (TP + alpha FP + beta FN + s)`` per sample, as ``(alpha FP + beta FN) / (TP + ... + s)``.

    ``alpha`` weighs the false positives ``sum p (1 - y)`` and ``beta`` the false negatives
    ``sum (1 - p) y`` (Salehi et al. 2017, smp). Domain and samples as ``dice``; ``alpha, beta >= 0``.
    Follows smp ``TverskyLoss(mode="binary", from_logits=False, smooth=1)`` on one sample, without smp's
    zeroing of samples whose target is empty. With ``s = 0`` an empty prediction of an empty mask is a
    perfect match (loss 0), reported in a notice; a sample whose only pixels weigh 0 (``alpha = 0``: a
    prediction on an empty mask; ``beta = 0``: a mask predicted empty) is 0/0 too and scores 0, loss 1 (smp).
    Example: y = [1, 1, 0, 0], p = [1, 0.5, 0.5, 0], alpha = 0.3, beta = 0.7, s = 1: TP = 1.5, FP = 0.5,
    FN = 0.5, so 1 - 2.5 / 3 = 1/6 = 0.1666...
    """
    return _contributions(target, pred, _tversky_of, {"alpha": alpha, "beta": beta, "smooth": smooth})


@register_loss(
    "focal_tversky",
    task="segmentation",
    violation=Violation("pred", 1.5),
    weights_scale=False,
    roles=_ROLES,
    summary="Focal Tversky loss: each sample's Tversky loss raised to the power gamma.",
    formula="l = (1 - (TP + s) / (TP + alpha FP + beta FN + s))^gamma, per sample",
    follows="smp TverskyLoss(gamma) on one sample",
    params=(
        _ALPHA,
        _BETA,
        _SMOOTH,
        Param(
            "gamma",
            1.0,
            "exponent of each sample's Tversky loss: > 1 shrinks the small losses of good samples, so the "
            "mean dwells on the hard ones (Abraham & Khan 2019 write it as 1/gamma)",
            minimum=0.0,
            min_exclusive=True,
        ),
    ),
    aggregate=_FOCAL_TVERSKY_AGGREGATE,
    properties=Properties(
        convex="no",
        robust="yes: each sample costs at most 1",
        expects=_ROLES_NOTE,
        range="[0, 1]",
    ),
    when="Imbalanced segmentation averaged over images when a few hard images should dominate the mean (gamma "
    "> 1) or, with gamma < 1, when nearly-right images should still count. gamma = 1 is tversky.",
    # smp TverskyLoss (losses/tversky.py @f58fd6d6): aggregate_loss returns loss.mean() ** gamma, which on one
    # sample is tversky^gamma. smp's newer FocalTverskyLoss (losses/focal_tversky.py @0fab35ab) computes
    # (1 - (1 - TI)^gamma)^gamma instead (gamma applied in compute_score and again in aggregate_loss): not followed.
)
def focal_tversky(
    target: np.ndarray, pred: np.ndarray, *, alpha: float, beta: float, smooth: float, gamma: float
) -> np.ndarray:
    """``tversky^gamma`` per sample (``gamma > 0``); samples, domain and empty samples as ``tversky``.

    Follows smp ``TverskyLoss(mode="binary", from_logits=False, smooth=1, gamma=gamma)`` on one sample,
    whose ``aggregate_loss`` is ``loss.mean() ** gamma``. With vector columns the power is taken per
    sample, before the mean. Example: y = [1, 1, 0, 0], p = [1, 0.5, 0.5, 0], alpha = 0.3, beta = 0.7,
    s = 1, gamma = 2: (1/6)^2 = 1/36 = 0.02777...
    """
    params = {"alpha": alpha, "beta": beta, "smooth": smooth, "gamma": gamma}
    return _contributions(target, pred, _focal_tversky_of, params)
