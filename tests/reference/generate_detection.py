"""Write tests/reference/golden/detection.json: reference values of the detection (box) losses.

Run from the repository root::

    .venv/bin/python tests/reference/generate_detection.py

torchvision is not installed here, so its box losses are written out below, line by line, in torch float64,
from pytorch/vision:

- torchvision/ops/_utils.py ``_loss_inter_union``;
- torchvision/ops/giou_loss.py ``generalized_box_iou_loss`` (@90a8f703);
- torchvision/ops/diou_loss.py ``distance_box_iou_loss`` and ``_diou_iou_loss`` (@ae5c3462);
- torchvision/ops/ciou_loss.py ``complete_box_iou_loss`` (@28fbd4bf), which calls ``_diou_iou_loss(boxes1,
  boxes2)`` without its ``eps``: the diou and iou terms keep the default 1e-7 and ``eps`` only enters alpha.

``box_iou`` is the IoU term of those losses, ``1 - inter / (union + eps)``. torchvision takes
``boxes1 = pred`` and ``boxes2 = target`` (its "g" boxes). It has no sample weights: weighted cases weight its
``reduction="none"`` values in torch. This module imports nothing from lossctl; inputs come from
``numpy.random.default_rng`` with fixed seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from golden_file import add_pair, write_golden

OUT = Path(__file__).parent / "golden" / "detection.json"
F64 = torch.float64
SOURCE = {
    "box_iou": "1 - inter / (union + eps) with torchvision/ops/_utils.py _loss_inter_union",
    "giou": "torchvision.ops.generalized_box_iou_loss formula (giou_loss.py @90a8f703)",
    "diou": "torchvision.ops.distance_box_iou_loss formula (diou_loss.py @ae5c3462)",
    "ciou": "torchvision.ops.complete_box_iou_loss formula (ciou_loss.py @28fbd4bf)",
}


# --- torchvision, written out ------------------------------------------------------------------------------------


def loss_inter_union(boxes1: torch.Tensor, boxes2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # torchvision/ops/_utils.py _loss_inter_union
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)

    # Intersection keypoints
    xkis1 = torch.max(x1, x1g)
    ykis1 = torch.max(y1, y1g)
    xkis2 = torch.min(x2, x2g)
    ykis2 = torch.min(y2, y2g)

    intsctk = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
    return intsctk, unionk


def box_iou_loss(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    intsct, union = loss_inter_union(boxes1, boxes2)
    return 1 - intsct / (union + eps)


def generalized_box_iou_loss(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    # torchvision/ops/giou_loss.py, reduction="none"
    intsctk, unionk = loss_inter_union(boxes1, boxes2)
    iouk = intsctk / (unionk + eps)

    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)

    # smallest enclosing box
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)

    area_c = (xc2 - xc1) * (yc2 - yc1)
    miouk = iouk - ((area_c - unionk) / (area_c + eps))
    return 1 - miouk


def diou_iou_loss(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float = 1e-7) -> tuple[torch.Tensor, torch.Tensor]:
    # torchvision/ops/diou_loss.py _diou_iou_loss
    intsct, union = loss_inter_union(boxes1, boxes2)
    iou = intsct / (union + eps)
    # smallest enclosing box
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)
    # The diagonal distance of the smallest enclosing box squared
    diagonal_distance_squared = ((xc2 - xc1) ** 2) + ((yc2 - yc1) ** 2) + eps
    # centers of boxes
    x_p = (x2 + x1) / 2
    y_p = (y2 + y1) / 2
    x_g = (x1g + x2g) / 2
    y_g = (y1g + y2g) / 2
    # The distance between boxes' centers squared.
    centers_distance_squared = ((x_p - x_g) ** 2) + ((y_p - y_g) ** 2)
    # The distance IoU is the IoU penalized by a normalized
    # distance between boxes' centers squared.
    loss = 1 - iou + (centers_distance_squared / diagonal_distance_squared)
    return loss, iou


def distance_box_iou_loss(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    loss, _ = diou_iou_loss(boxes1, boxes2, eps)
    return loss


def complete_box_iou_loss(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    # torchvision/ops/ciou_loss.py, reduction="none"; note _diou_iou_loss is called without eps.
    diou_loss, iou = diou_iou_loss(boxes1, boxes2)

    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)

    # width and height of boxes
    w_pred = x2 - x1
    h_pred = y2 - y1
    w_gt = x2g - x1g
    h_gt = y2g - y1g
    v = (4 / (torch.pi**2)) * torch.pow((torch.atan(w_gt / h_gt) - torch.atan(w_pred / h_pred)), 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)

    return diou_loss + alpha * v


LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "box_iou": box_iou_loss,
    "giou": generalized_box_iou_loss,
    "diou": distance_box_iou_loss,
    "ciou": complete_box_iou_loss,
}


def case(
    loss: str,
    case_id: str,
    target: np.ndarray,
    pred: np.ndarray,
    *,
    eps: float | None = None,
    convention: str = "lossctl",
    sample_weight: np.ndarray | None = None,
    reduction: str = "mean",
) -> None:
    kwargs = {} if eps is None else {"eps": eps}
    rows = LOSSES[loss](torch.tensor(pred, dtype=F64), torch.tensor(target, dtype=F64), **kwargs)
    w = torch.ones_like(rows) if sample_weight is None else torch.tensor(sample_weight, dtype=F64)
    total = (w * rows).sum()
    value = total if reduction == "sum" else total / w.sum()
    reference = SOURCE[loss] + (f", eps={eps}" if eps is not None else "") + ", torch float64"
    if sample_weight is not None or reduction == "sum":
        reference += f"; reduction='none' values, weighted {reduction} in torch"
    add_pair(
        loss,
        case_id,
        target,
        pred,
        float(value),
        rows.tolist(),
        reference,
        params=kwargs,
        convention=convention,
        sample_weight=sample_weight,
        reduction=reduction,
    )


# --- data --------------------------------------------------------------------------------------------------------


def random_boxes(rng: np.random.Generator, n: int, scale: float = 10.0) -> np.ndarray:
    corner = rng.uniform(-scale, scale, (n, 2))
    size = rng.uniform(0.01 * scale, scale, (n, 2))
    return np.hstack([corner, corner + size])


def jitter(rng: np.random.Generator, boxes: np.ndarray, amount: float) -> np.ndarray:
    """Boxes moved and resized a little, still valid: most pairs overlap, a few do not."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 + rng.normal(0.0, amount, (len(boxes), 2))
    half = (boxes[:, 2:] - boxes[:, :2]) / 2 * rng.uniform(0.5, 1.6, (len(boxes), 2))
    return np.hstack([centre - half, centre + half])


def detection_cases(rng: np.random.Generator) -> None:
    target = random_boxes(rng, 16)
    pred = jitter(rng, target, 2.0)
    weight = rng.uniform(0.1, 3.0, 16)
    weight[5] = 0.0
    far_target = random_boxes(rng, 8, scale=1e4)
    far_pred = jitter(rng, far_target, 2e3)
    tiny_target = random_boxes(rng, 8, scale=1e-3)
    tiny_pred = jitter(rng, tiny_target, 2e-4)

    # Edges, one pair per row (target, pred):
    identical = np.array([[0.0, 0.0, 1.0, 1.0], [-3.0, 2.0, 5.0, 2.5], [10.0, 10.0, 400.0, 30.0]])
    disjoint_t = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0], [-5.0, -5.0, -4.0, -1.0]])
    disjoint_p = np.array([[2.0, 0.0, 3.0, 1.0], [5.0, 7.0, 6.0, 9.0], [2.0, 0.0, 4.0, 2.0], [4.0, 1.0, 5.0, 5.0]])
    # rows 2 and 4 (from 1) touch along an edge or a corner: a zero-width intersection
    inside_t = np.array([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 2.0, 3.0], [0.0, 0.0, 10.0, 1.0]])
    inside_p = np.array([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 4.0, 4.0], [4.0, 0.25, 6.0, 0.75]])
    # zero-area boxes: a horizontal segment, a vertical one, and (not for ciou) points
    flat_t = np.array([[0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 1.0, 3.0], [0.0, 0.0, 3.0, 1.0]])
    flat_p = np.array([[0.0, 0.0, 2.0, 0.0], [1.0, 1.0, 3.0, 1.0], [0.0, 0.0, 2.0, 2.0], [1.0, 0.5, 2.0, 0.5]])
    point_t = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0]])
    point_p = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])

    for loss in LOSSES:
        case(loss, f"{loss}-random", target, pred)
        case(loss, f"{loss}-weighted", target, pred, sample_weight=weight)
        case(loss, f"{loss}-sum", target, pred, sample_weight=weight, reduction="sum")
        case(loss, f"{loss}-eps-1e-3", target, pred, eps=1e-3)
        case(loss, f"{loss}-large-coordinates", far_target, far_pred)
        case(loss, f"{loss}-tiny-boxes", tiny_target, tiny_pred)
        case(loss, f"{loss}-tiny-boxes-eps-1e-12", tiny_target, tiny_pred, eps=1e-12)
        case(loss, f"{loss}-identical", identical, identical)
        case(loss, f"{loss}-disjoint", disjoint_t, disjoint_p)
        case(loss, f"{loss}-inside", inside_t, inside_p)
        case(loss, f"{loss}-zero-area", flat_t, flat_p)
        if loss != "ciou":  # torchvision's aspect ratio of a point is 0/0 = NaN: lossctl rejects it
            case(loss, f"{loss}-points", point_t, point_p)
        if loss != "box_iou":
            case(loss, f"{loss}-torch", target, pred, convention="torch")
            case(loss, f"{loss}-torch-edges", inside_t, inside_p, convention="torch", eps=1e-5)


def main() -> None:
    torch.set_default_dtype(F64)
    detection_cases(np.random.default_rng(401))
    write_golden(
        OUT,
        "tests/reference/generate_detection.py",
        {
            "torchvision": "box loss formulas, pytorch/vision torchvision/ops giou_loss.py @90a8f703, "
            "diou_loss.py @ae5c3462, ciou_loss.py @28fbd4bf, _utils.py _loss_inter_union",
        },
    )


if __name__ == "__main__":
    main()
