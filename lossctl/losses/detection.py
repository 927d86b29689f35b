"""Detection losses: IoU-based losses of a predicted box against a true box, one pair per row.

Roles ``target`` and ``pred`` are vectors of exactly 4 values ``(x1, y1, x2, y2)`` per row (4 columns or
a list column), with ``x2 >= x1`` and ``y2 >= y1``. Zero-area boxes are valid, as in torchvision: ``eps``
keeps every denominator positive. The formulas are torchvision's (``torchvision/ops/giou_loss.py``,
``diou_loss.py``, ``ciou_loss.py`` and ``_utils.py``'s ``_loss_inter_union``, pytorch/vision @28fbd4bf),
written with the same operations in the same order, so float64 results agree to the last bit or so, and
with ``eps`` entering exactly where torchvision puts it. Any real coordinates are accepted (the losses are
translation-invariant); torchvision's docstrings ask for ``0 <= x1 < x2`` but its code does not.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lossctl.errors import InputError
from lossctl.losses._checks import box_sizes, reject
from lossctl.registry import Convention, Param, Properties, Role, Violation, register_loss

_TORCHVISION_EPS = 1e-7  # _diou_iou_loss's default eps, which complete_box_iou_loss does not override
_ASPECT = 4.0 / math.pi**2  # ciou's 4 / pi^2


class _Boxes(NamedTuple):
    x1: np.ndarray
    y1: np.ndarray
    x2: np.ndarray
    y2: np.ndarray


def _boxes(values: np.ndarray, role: str) -> _Boxes:
    width = 1 if values.ndim == 1 else values.shape[1]
    if width != 4:
        raise InputError(f"'{role}' must hold 4 values per row (x1, y1, x2, y2), got {width}")
    box_sizes(values, role)
    return _Boxes(values[:, 0], values[:, 1], values[:, 2], values[:, 3])


def _pair(target: np.ndarray, pred: np.ndarray) -> tuple[_Boxes, _Boxes]:
    """``(boxes1, boxes2)`` in torchvision's names: the prediction, then the true ("g") box."""
    return _boxes(pred, "pred"), _boxes(target, "target")


def _inter_union(b: _Boxes, g: _Boxes) -> tuple[np.ndarray, np.ndarray]:
    # torchvision/ops/_utils.py _loss_inter_union: the intersection counts only where it is strictly positive
    # in both directions; union = area1 + area2 - intersection.
    xkis1, ykis1 = np.maximum(b.x1, g.x1), np.maximum(b.y1, g.y1)
    xkis2, ykis2 = np.minimum(b.x2, g.x2), np.minimum(b.y2, g.y2)
    overlap = (ykis2 > ykis1) & (xkis2 > xkis1)
    inter = np.where(overlap, (xkis2 - xkis1) * (ykis2 - ykis1), 0.0)
    union = (b.x2 - b.x1) * (b.y2 - b.y1) + (g.x2 - g.x1) * (g.y2 - g.y1) - inter
    return inter, union


def _enclosing(b: _Boxes, g: _Boxes) -> tuple[np.ndarray, np.ndarray]:
    """Width and height of the smallest box enclosing both."""
    return np.maximum(b.x2, g.x2) - np.minimum(b.x1, g.x1), np.maximum(b.y2, g.y2) - np.minimum(b.y1, g.y1)


def _diou_iou(b: _Boxes, g: _Boxes, eps: float) -> tuple[np.ndarray, np.ndarray]:
    # torchvision/ops/diou_loss.py _diou_iou_loss: 1 - iou + centre distance^2 / (enclosing diagonal^2 + eps).
    inter, union = _inter_union(b, g)
    iou = inter / (union + eps)
    width, height = _enclosing(b, g)
    diagonal_squared = (width**2 + height**2) + eps
    dx = (b.x2 + b.x1) / 2 - (g.x1 + g.x2) / 2
    dy = (b.y2 + b.y1) / 2 - (g.y1 + g.y2) / 2
    return 1 - iou + (dx**2 + dy**2) / diagonal_squared, iou


def _aspect(width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """``width / height``, +inf where the height is 0 (the width is then > 0), as torch's division."""
    return np.divide(width, height, out=np.full_like(width, np.inf), where=height > 0)


_EPS = Param(
    "eps",
    1e-7,
    "added to the denominators where torchvision adds it, so zero-area boxes give finite values",
    minimum=0.0,
    min_exclusive=True,
)
_ROLES = (
    Role("target", "the true box (x1, y1, x2, y2), x2 >= x1 and y2 >= y1", shape="vector"),
    Role("pred", "the predicted box (x1, y1, x2, y2), x2 >= x1 and y2 >= y1", shape="vector"),
)
_EXPECTS = "boxes (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1, 4 columns or a list column each"


@register_loss(
    "box_iou",
    task="detection",
    violation=Violation("pred", -1e6, column=2),
    roles=_ROLES,
    summary="IoU loss of a box pair: 1 - intersection over union.",
    formula="l = 1 - inter / (union + eps)",
    follows="the IoU term of torchvision's box losses",
    params=(_EPS,),
    properties=Properties(
        convex="no",
        robust="yes: each pair costs at most 1",
        expects=_EXPECTS,
        range="[0, 1]; identical boxes of area A cost eps / (A + eps), not 0",
    ),
    when="Box regression scored by overlap, the quantity detection metrics threshold (mAP at IoU 0.5): scale "
    "invariant, unlike an L1 loss on corners. It is flat (1) for every non-overlapping pair, so prefer giou, "
    "diou or ciou to train from poor initial boxes.",
    # torchvision has no plain IoU loss (ops.box_iou is a pairwise matrix without eps): no torch convention.
)
def box_iou(target: np.ndarray, pred: np.ndarray, *, eps: float) -> np.ndarray:
    """``1 - inter / (union + eps)`` per box pair, as the ``iou`` of torchvision's box losses.

    Domain: 4 values per row, ``x2 >= x1`` and ``y2 >= y1`` (zero-area boxes allowed); ``eps > 0``.
    The intersection counts only where the boxes overlap with positive width and height
    (``_loss_inter_union``). Example: target (0, 0, 2, 2), pred (1, 1, 3, 3): inter = 1,
    union = 4 + 4 - 1 = 7, so 1 - 1 / (7 + 1e-7) = 0.857142859...
    """
    inter, union = _inter_union(*_pair(target, pred))
    return 1 - inter / (union + eps)


@register_loss(
    "giou",
    task="detection",
    violation=Violation("pred", -1e6, column=2),
    roles=_ROLES,
    summary="Generalized IoU loss: the IoU loss plus the share of the enclosing box that neither box covers.",
    formula="l = 1 - (iou - (area_c - union) / (area_c + eps)), iou = inter / (union + eps), area_c the "
    "smallest enclosing box",
    follows="torchvision generalized_box_iou_loss",
    params=(_EPS,),
    properties=Properties(
        convex="no",
        robust="yes: each pair costs less than 2",
        expects=_EXPECTS,
        range="[0, 2)",
    ),
    when="Training box regression (DETR, FCOS) when predictions may not overlap their target: unlike box_iou it "
    "still decreases as a disjoint box moves towards its target. Converges slower than diou when one box "
    "contains the other.",
    # torchvision/ops/giou_loss.py (pytorch/vision @90a8f703): the same operations; torchvision has no weights.
    conventions={"torch": Convention("Same formula as lossctl (torchvision.ops.generalized_box_iou_loss).")},
)
def giou(target: np.ndarray, pred: np.ndarray, *, eps: float) -> np.ndarray:
    """``1 - (iou - (area_c - union) / (area_c + eps))`` per box pair, ``iou = inter / (union + eps)``.

    ``area_c`` is the area of the smallest box enclosing both. Domain as ``box_iou``. Follows
    torchvision ``generalized_box_iou_loss``. Example: target (0, 0, 1, 1), pred (2, 0, 3, 1): inter = 0,
    union = 2, area_c = 3, so 1 - (0 - 1 / (3 + 1e-7)) = 1.333333322...
    """
    b, g = _pair(target, pred)
    inter, union = _inter_union(b, g)
    iou = inter / (union + eps)
    width, height = _enclosing(b, g)
    area_c = width * height
    return 1 - (iou - ((area_c - union) / (area_c + eps)))


@register_loss(
    "diou",
    task="detection",
    violation=Violation("pred", -1e6, column=2),
    roles=_ROLES,
    summary="Distance IoU loss: the IoU loss plus the squared centre distance over the enclosing box's diagonal.",
    formula="l = 1 - iou + rho^2 / (c^2 + eps), rho the distance of the centres, c the enclosing box's diagonal",
    follows="torchvision distance_box_iou_loss",
    params=(_EPS,),
    properties=Properties(
        convex="no",
        robust="yes: each pair costs less than 2",
        expects=_EXPECTS,
        range="[0, 2)",
    ),
    when="Training box regression when boxes may be disjoint or nested: the centre-distance term keeps pulling a "
    "box towards its target where giou stalls (one box inside the other), so it converges faster (Zheng et al. "
    "2020). Also the DIoU criterion of DIoU-NMS.",
    # torchvision/ops/diou_loss.py _diou_iou_loss (pytorch/vision @ae5c3462): eps in iou's and the diagonal's
    # denominators, as here.
    conventions={"torch": Convention("Same formula as lossctl (torchvision.ops.distance_box_iou_loss).")},
)
def diou(target: np.ndarray, pred: np.ndarray, *, eps: float) -> np.ndarray:
    """``1 - iou + rho^2 / (c^2 + eps)`` per box pair, ``iou = inter / (union + eps)``.

    ``rho`` is the distance between the boxes' centres and ``c`` the diagonal of the smallest box
    enclosing both. Domain as ``box_iou``. Follows torchvision ``distance_box_iou_loss``. Example:
    target (0, 0, 1, 1), pred (2, 0, 3, 1): iou = 0, rho^2 = 4, c^2 = 9 + 1, so 1 + 4 / (10 + 1e-7)
    = 1.39999999...
    """
    loss, _ = _diou_iou(*_pair(target, pred), eps)
    return loss


@register_loss(
    "ciou",
    task="detection",
    violation=Violation("pred", -1e6, column=2),
    roles=_ROLES,
    summary="Complete IoU loss: the distance IoU loss plus an aspect-ratio consistency term alpha v.",
    formula="l = diou + alpha v, v = (4 / pi^2) (atan(w_t / h_t) - atan(w_p / h_p))^2, "
    "alpha = v / (1 - iou + v + eps); diou and iou with eps = 1e-7 (as torchvision)",
    follows="torchvision complete_box_iou_loss, with eps entering exactly where torchvision's code puts it",
    params=(_EPS,),
    properties=Properties(
        convex="no",
        robust="yes: each pair costs less than 3",
        expects=_EXPECTS + "; no point boxes (zero width and height: the aspect ratio is 0/0)",
        range="[0, 3)",
    ),
    when="Training box regression (YOLOv4/v5 and later) when the aspect ratio matters too: diou plus a penalty "
    "on the mismatch of width/height ratios, weighted up as the overlap grows.",
    # torchvision/ops/ciou_loss.py (pytorch/vision @28fbd4bf) calls _diou_iou_loss(boxes1, boxes2) without
    # passing eps on, so the diou and iou terms always use that function's default 1e-7; the eps argument only
    # enters alpha = v / (1 - iou + v + eps). w / h with h = 0 < w is +inf and atan gives pi / 2, as torch.
    conventions={"torch": Convention("Same formula as lossctl (torchvision.ops.complete_box_iou_loss).")},
)
def ciou(target: np.ndarray, pred: np.ndarray, *, eps: float) -> np.ndarray:
    """``diou + alpha v`` per box pair, with torchvision's ``v`` and ``alpha``.

    ``v = (4 / pi^2) (atan(w_t / h_t) - atan(w_p / h_p))^2`` and ``alpha = v / (1 - iou + v + eps)``. As in
    torchvision, the ``diou`` and ``iou`` terms use ``eps = 1e-7`` whatever ``eps`` is (its
    ``complete_box_iou_loss`` does not pass ``eps`` on to ``_diou_iou_loss``); ``eps`` enters ``alpha`` only.
    Domain as ``box_iou``, and neither box may be a point (zero width and height), whose aspect ratio 0/0
    makes torchvision return NaN; a zero height with a positive width is an angle of pi / 2. Example:
    target (0, 0, 2, 1), pred (0, 0, 1, 1): iou = 1 / (2 + 1e-7), rho^2 = 0.25, c^2 = 5, v = (4 / pi^2)
    (atan 2 - pi / 4)^2 = 0.0419565, alpha v = 0.0032481, so 0.5 + 0.05 + 0.0032481 = 0.5532482 (to 7 digits)
    """
    b, g = _pair(target, pred)
    w_pred, h_pred = b.x2 - b.x1, b.y2 - b.y1
    w_gt, h_gt = g.x2 - g.x1, g.y2 - g.y1
    for role, width, height in (("pred", w_pred, h_pred), ("target", w_gt, h_gt)):
        reject(
            role, "boxes with a width or height > 0 (ciou: a point's aspect ratio is 0/0)", width, width + height == 0
        )
    diou_loss, iou = _diou_iou(b, g, _TORCHVISION_EPS)
    v = _ASPECT * (np.arctan(_aspect(w_gt, h_gt)) - np.arctan(_aspect(w_pred, h_pred))) ** 2
    alpha = v / (1 - iou + v + eps)
    return diou_loss + alpha * v
