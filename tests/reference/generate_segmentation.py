"""Write tests/reference/golden/segmentation.json: reference values of the segmentation losses.

Run from the repository root::

    .venv/bin/python tests/reference/generate_segmentation.py

segmentation_models_pytorch (smp) and Keras are not installed here, so their code is written out below, line
by line, in torch float64, from their sources:

- smp ``DiceLoss`` / ``JaccardLoss`` / ``TverskyLoss``, binary mode: qubvel-org/segmentation_models.pytorch
  segmentation_models_pytorch/losses/dice.py (@bc597e9a), jaccard.py (@4a06535b), tversky.py (@f58fd6d6)
  and _functional.py ``soft_dice_score`` / ``soft_jaccard_score`` / ``soft_tversky_score`` (@97dce8c1);
- Keras ``dice`` / ``tversky``: keras-team/keras keras/src/losses/losses.py (@702a7197).

smp is called on one sample at a time (a batch of one: its binary mode sums over the batch too, dims = (0, 2)),
with ``from_logits=False``; a mean over samples, sample weights and the ``sum`` reduction are applied to those
per-sample values here, in torch. Where lossctl's definition departs from smp -- smp zeroes the loss of a
sample whose target is empty (``mask = y_true.sum(dims) > 0``), lossctl scores it -- the case says so and
leaves the mask out. Weighted whole-input cases use integer weights, so that the reference is smp on the
pixels repeated that many times. This module imports nothing from lossctl; inputs come from
``numpy.random.default_rng`` with fixed seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from golden_file import add_pair, write_golden

OUT = Path(__file__).parent / "golden" / "segmentation.json"
F64 = torch.float64
SMP_EPS = 1e-7  # smp's default eps (the clamp_min of the score's denominator)
KERAS_EPSILON = 1e-7  # keras.backend.epsilon()
SMP = "smp {}(mode='binary', from_logits=False{}) formula (segmentation_models_pytorch losses), torch float64"
KERAS = "Keras {} formula (keras/src/losses/losses.py @702a7197), torch float64"


# --- smp, written out --------------------------------------------------------------------------------------------


def smp_score(kind: str, output: torch.Tensor, target: torch.Tensor, smooth: float, alpha: float, beta: float):
    """_functional.py soft_dice_score / soft_jaccard_score / soft_tversky_score with dims = (0, 2)."""
    dims = (0, 2)
    if kind == "tversky":
        intersection = torch.sum(output * target, dim=dims)  # TP
        fp = torch.sum(output * (1.0 - target), dim=dims)
        fn = torch.sum((1 - output) * target, dim=dims)
        return (intersection + smooth) / (intersection + alpha * fp + beta * fn + smooth).clamp_min(SMP_EPS)
    intersection = torch.sum(output * target, dim=dims)
    cardinality = torch.sum(output + target, dim=dims)
    if kind == "dice":
        return (2.0 * intersection + smooth) / (cardinality + smooth).clamp_min(SMP_EPS)
    union = cardinality - intersection
    return (intersection + smooth) / (union + smooth).clamp_min(SMP_EPS)


def smp_loss(
    kind: str,
    target: np.ndarray,
    pred: np.ndarray,
    *,
    smooth: float,
    alpha: float = 0.5,
    beta: float = 0.5,
    gamma: float | None = None,
    empty_mask: bool = True,
) -> float:
    """DiceLoss.forward (binary mode, from_logits=False, log_loss=False) on one sample: a batch of one.

    TverskyLoss inherits it and only changes compute_score and aggregate_loss (``loss.mean() ** gamma``);
    JaccardLoss.forward is the same code. ``empty_mask=False`` leaves out smp's zeroing of empty targets.
    """
    y_true = torch.tensor(target, dtype=F64).view(1, 1, -1)
    y_pred = torch.tensor(pred, dtype=F64).view(1, 1, -1)
    scores = smp_score(kind, y_pred, y_true.type_as(y_pred), smooth, alpha, beta)
    loss = 1.0 - scores
    if empty_mask:
        mask = y_true.sum((0, 2)) > 0
        loss *= mask.to(loss.dtype)
    loss = loss.mean()
    if gamma is not None:
        loss = loss**gamma
    return float(loss)


def per_samples(kind: str, target: np.ndarray, pred: np.ndarray, **kwargs: Any) -> torch.Tensor:
    return torch.tensor([smp_loss(kind, t, p, **kwargs) for t, p in zip(target, pred, strict=True)], dtype=F64)


def reduce(losses: torch.Tensor, weight: np.ndarray | None, reduction: str) -> float:
    w = torch.ones_like(losses) if weight is None else torch.tensor(weight, dtype=F64)
    total = (w * losses).sum()
    return float(total if reduction == "sum" else total / w.sum())


SMP_CLASS = {"dice": "DiceLoss", "jaccard": "JaccardLoss", "tversky": "TverskyLoss", "focal_tversky": "TverskyLoss"}


def smp_params(loss: str, params: dict[str, Any]) -> dict[str, Any]:
    kwargs = {"smooth": params.get("smooth", 1.0)}
    if loss in ("tversky", "focal_tversky"):
        kwargs |= {"alpha": params.get("alpha", 0.5), "beta": params.get("beta", 0.5)}
    if loss == "focal_tversky":
        kwargs["gamma"] = params.get("gamma", 1.0)
    return kwargs


def smp_case(
    loss: str,
    case_id: str,
    target: np.ndarray,
    pred: np.ndarray,
    *,
    params: dict[str, Any] | None = None,
    sample_weight: np.ndarray | None = None,
    reduction: str = "mean",
    empty_mask: bool = True,
    note: str = "",
) -> None:
    """A scalar-column input is one sample; a vector-column input is one sample per row."""
    params = params or {}
    kind = "tversky" if loss == "focal_tversky" else loss
    kwargs = smp_params(loss, params) | {"empty_mask": empty_mask}
    shown = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "empty_mask")
    reference = SMP.format(SMP_CLASS[loss], ", " + shown)
    if target.ndim == 1:
        if sample_weight is None:
            value = smp_loss(kind, target, pred, **kwargs)
            reference += " on the whole input as one sample"
        else:
            repeats = sample_weight.astype(int)
            assert np.array_equal(repeats, sample_weight), "whole-input weights must be integers"
            value = smp_loss(kind, np.repeat(target, repeats), np.repeat(pred, repeats), **kwargs)
            reference += " on the pixels repeated by their integer weights"
    else:
        value = reduce(per_samples(kind, target, pred, **kwargs), sample_weight, reduction)
        reference += f" per row (one sample each), weighted {reduction} in torch"
    if not empty_mask:
        reference += "; without smp's zeroing of samples whose target is empty (lossctl scores them)"
    add_pair(
        loss,
        case_id,
        target,
        pred,
        value,
        None,
        reference + note,
        params=params,
        sample_weight=sample_weight,
        reduction=reduction,
    )


# --- Keras, written out ------------------------------------------------------------------------------------------


def keras_dice(target: np.ndarray, pred: np.ndarray) -> float:
    # keras dice(y_true, y_pred, axis=None): inputs = y_true, targets = y_pred;
    # 1 - 2 sum(inputs * targets) / (sum(y_true) + sum(y_pred) + epsilon).
    y_true, y_pred = torch.tensor(target, dtype=F64), torch.tensor(pred, dtype=F64)
    intersection = torch.sum(y_true * y_pred)
    dice = torch.divide(2.0 * intersection, torch.sum(y_true) + torch.sum(y_pred) + KERAS_EPSILON)
    return float(1 - dice)


def keras_tversky(target: np.ndarray, pred: np.ndarray, alpha: float, beta: float) -> float:
    # keras tversky(y_true, y_pred, alpha, beta): inputs = reshape(y_true, [-1]), targets = reshape(y_pred, [-1]);
    # fp = sum((1 - targets) * inputs), fn = sum(targets * (1 - inputs));
    # 1 - intersection / (intersection + fp * alpha + fn * beta + epsilon).
    inputs = torch.tensor(target, dtype=F64).reshape(-1)
    targets = torch.tensor(pred, dtype=F64).reshape(-1)
    intersection = torch.sum(inputs * targets)
    fp = torch.sum((1 - targets) * inputs)
    fn = torch.sum(targets * (1 - inputs))
    tversky = torch.divide(intersection, intersection + fp * alpha + fn * beta + KERAS_EPSILON)
    value = float(1 - tversky)
    released = keras_released_tversky(target, pred, alpha, beta)
    if abs(value - released) > 1e-5:  # Keras computes in float32 here
        raise ValueError(f"tversky: transcription {value} differs from Keras {released}")
    return value


def keras_released_tversky(target: np.ndarray, pred: np.ndarray, alpha: float, beta: float) -> float:
    """Keras 3.15.1's own Tversky (alpha and beta swapped; keras-team/keras#23333 fixes it on main): the
    transcription above must reproduce the release, not the fix."""
    import keras

    if keras.__version__ != "3.15.1":
        raise ValueError(f"the keras convention reproduces Keras <= 3.15.1; installed: {keras.__version__}")
    loss = keras.losses.Tversky(alpha=alpha, beta=beta, reduction="sum")
    return float(loss(np.reshape(target, (1, -1)), np.reshape(pred, (1, -1))))


def keras_released_sum(loss: str, target: np.ndarray, pred: np.ndarray, **params: float) -> float:
    """Keras 3.15.1's ``Dice`` / ``Tversky`` with ``reduction='sum'`` and no sample weight, on the input as given:
    with axis=None the loss is a scalar, which ``reduce_values`` returns unreduced (the mean's number)."""
    import keras

    if keras.__version__ != "3.15.1":
        raise ValueError(f"the keras convention reproduces Keras <= 3.15.1; installed: {keras.__version__}")
    made = keras.losses.Dice if loss == "dice" else keras.losses.Tversky
    return float(made(reduction="sum", **params)(target, pred))


# --- data --------------------------------------------------------------------------------------------------------


def masks(rng: np.random.Generator, shape: tuple[int, ...], foreground: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """A binary mask and probabilities that lean towards it (confident and unsure pixels, exact 0 and 1 too)."""
    target = (rng.random(shape) < foreground).astype(np.float64)
    noise = rng.uniform(0.0, 0.6, shape)
    pred = np.where(target == 1.0, 1.0 - noise, noise)
    flat = pred.reshape(-1)
    flat[:2] = [0.0, 1.0]
    return target, pred


def segmentation_cases(rng: np.random.Generator) -> None:
    y1, p1 = masks(rng, (48,))
    y2, p2 = masks(rng, (6, 16))
    w2 = rng.uniform(0.1, 3.0, 6)
    w2[2] = 0.0
    w1 = rng.integers(0, 4, 48).astype(np.float64)
    soft_y = rng.uniform(0.0, 1.0, (5, 12))
    soft_p = rng.uniform(0.0, 1.0, (5, 12))

    # Empty samples: row 0 both empty, row 1 empty target with a non-empty prediction, row 2 empty prediction.
    ye, pe = masks(rng, (4, 10))
    ye[0], pe[0] = 0.0, 0.0
    ye[1] = 0.0
    pe[2] = 0.0
    both_empty = np.delete(ye, 1, axis=0), np.delete(pe, 1, axis=0)

    ones = np.ones((3, 8))
    _, p_ones = masks(rng, (3, 8))

    for loss, extra in (
        ("dice", {}),
        ("jaccard", {}),
        ("tversky", {"alpha": 0.3, "beta": 0.7}),
        ("focal_tversky", {"alpha": 0.3, "beta": 0.7, "gamma": 2.0}),
    ):
        smp_case(loss, f"{loss}-pixels", y1, p1, params=dict(extra))
        smp_case(loss, f"{loss}-samples", y2, p2, params=dict(extra))
        smp_case(loss, f"{loss}-samples-weighted", y2, p2, params=dict(extra), sample_weight=w2)
        smp_case(loss, f"{loss}-samples-sum", y2, p2, params=dict(extra), sample_weight=w2, reduction="sum")
        smp_case(loss, f"{loss}-pixels-weighted", y1, p1, params=dict(extra), sample_weight=w1)
        smp_case(loss, f"{loss}-smooth0", y2, p2, params=extra | {"smooth": 0.0})
        smp_case(loss, f"{loss}-smooth0-pixels", y1, p1, params=extra | {"smooth": 0.0})
        smp_case(loss, f"{loss}-smooth-2.5", y2, p2, params=extra | {"smooth": 2.5})
        smp_case(loss, f"{loss}-soft-targets", soft_y, soft_p, params=dict(extra))
        smp_case(loss, f"{loss}-all-ones", ones, ones, params=dict(extra))
        smp_case(loss, f"{loss}-target-all-ones", ones, p_ones, params=dict(extra))
        # An empty target and prediction: smp's mask gives 0, as lossctl's smooth (s / s) and its 0/0 rule.
        smp_case(loss, f"{loss}-both-empty-smooth1", *both_empty, params=dict(extra))
        smp_case(loss, f"{loss}-both-empty-smooth0", *both_empty, params=extra | {"smooth": 0.0})
        zeros = np.zeros(20)
        smp_case(loss, f"{loss}-pixels-all-empty-smooth0", zeros, zeros, params=extra | {"smooth": 0.0})
        # A false positive on an empty mask: smp would hide it behind its mask, lossctl counts it.
        # (Without the both-empty row, which the mask-free formula would score 1 with smooth = 0.)
        smp_case(loss, f"{loss}-empty-target", ye[1:], pe[1:], params=dict(extra), empty_mask=False)
        params = extra | {"smooth": 0.0}
        smp_case(loss, f"{loss}-empty-target-smooth0", ye[1:], pe[1:], params=params, empty_mask=False)

    # Tversky's alpha and beta: dice at 0.5 / 0.5, jaccard at 1 / 1, recall-leaning and precision-leaning.
    for alpha, beta in ((0.5, 0.5), (1.0, 1.0), (0.1, 0.9), (0.9, 0.1), (0.0, 1.0)):
        smp_case("tversky", f"tversky-alpha-{alpha}-beta-{beta}", y2, p2, params={"alpha": alpha, "beta": beta})
    for gamma in (0.75, 1.0, 4.0 / 3.0):
        params = {"alpha": 0.7, "beta": 0.3, "gamma": gamma}
        smp_case("focal_tversky", f"focal_tversky-gamma-{gamma:.4g}", y2, p2, params=params)
        smp_case("focal_tversky", f"focal_tversky-gamma-{gamma:.4g}-pixels", y1, p1, params=params)

    # Keras pools every pixel of the input (dice's axis=None; tversky flattens), vector columns included.
    for case_id, y, p in (("pixels", y1, p1), ("samples", y2, p2), ("soft", soft_y, soft_p), ("empty", ye, pe)):
        dice_value = keras_dice(y, p)
        add_pair("dice", f"dice-keras-{case_id}", y, p, dice_value, None, KERAS.format("dice"), convention="keras")
        for alpha, beta in ((0.5, 0.5), (0.3, 0.7)):
            add_pair(
                "tversky",
                f"tversky-keras-{case_id}-{alpha}-{beta}",
                y,
                p,
                keras_tversky(y, p, alpha, beta),
                None,
                KERAS.format("tversky") + " (its alpha weighs sum((1 - p) y))",
                params={"alpha": alpha, "beta": beta},
                convention="keras",
            )
    # reduction='sum' of Keras' one pooled loss is that loss (a scalar is not reduced); scalar and list columns.
    for case_id, y, p in (("pixels", y1, p1), ("samples", y2, p2)):
        for loss, params in (("dice", {}), ("tversky", {"alpha": 0.3, "beta": 0.7})):
            value = keras_dice(y, p) if loss == "dice" else keras_tversky(y, p, **params)
            if abs(value - keras_released_sum(loss, y, p, **params)) > 1e-5:  # Keras computes in float32 here
                raise ValueError(f"{loss}: reduction='sum' {value} differs from Keras")
            add_pair(
                loss,
                f"{loss}-keras-{case_id}-sum",
                y,
                p,
                value,
                None,
                KERAS.format(loss) + ", reduction='sum' (checked against Keras 3.15.1)",
                params=params,
                convention="keras",
                reduction="sum",
            )
    zeros = np.zeros(10)
    add_pair(
        "dice",
        "dice-keras-all-empty",
        zeros,
        zeros,
        keras_dice(zeros, zeros),
        None,
        KERAS.format("dice"),
        convention="keras",
    )


def main() -> None:
    torch.set_default_dtype(F64)
    segmentation_cases(np.random.default_rng(301))
    write_golden(
        OUT,
        "tests/reference/generate_segmentation.py",
        {
            "segmentation_models_pytorch": "DiceLoss/JaccardLoss/TverskyLoss formulas, "
            "qubvel-org/segmentation_models.pytorch losses (dice.py @bc597e9a, _functional.py @97dce8c1)",
            "keras": "dice/tversky formulas, keras-team/keras keras/src/losses/losses.py @702a7197; tversky "
            "checked against Keras 3.15.1 (the last release before keras-team/keras#23333)",
        },
    )


if __name__ == "__main__":
    main()
