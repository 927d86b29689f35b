"""Write tests/reference/golden/multilabel.json: reference values of the multi-label losses.

Run from the repository root (``make golden`` runs every generator)::

    .venv/bin/python tests/reference/generate_multilabel.py

Every value comes from a library evaluated in float64: torch (``MultiLabelSoftMarginLoss``,
``MultiLabelMarginLoss``), scikit-learn (``hamming_loss``), and the official ASL code, whose
``AsymmetricLoss.forward`` is transcribed below from Alibaba-MIIL/ASL src/loss_functions/losses.py
(commit 05b193d8a39b) and run in torch. This module imports nothing from lossctl; inputs are drawn from
``numpy.random.default_rng`` with fixed seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch
from golden_file import add, write_golden
from sklearn.metrics import hamming_loss

OUT = Path(__file__).parent / "golden" / "multilabel.json"
F64 = torch.float64
N, K = 10, 5
ASL_SOURCE = "Alibaba-MIIL/ASL src/loss_functions/losses.py @05b193d8 AsymmetricLoss.forward, torch float64"


def t(values: Any) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=F64)


def weighted(rows: np.ndarray, weight: np.ndarray | None, reduction: str = "mean") -> float:
    w = np.ones(len(rows)) if weight is None else weight
    total = float(np.sum(w * rows))
    return total if reduction == "sum" else total / float(np.sum(w))


def multi_hot(rng: np.random.Generator, n: int = N, k: int = K, rate: float = 0.3) -> np.ndarray:
    y = (rng.uniform(size=(n, k)) < rate).astype(np.float64)
    y[0] = 0.0  # a row without a label
    y[1] = 1.0  # a row with every label
    return y


def index_lists(y: np.ndarray) -> torch.Tensor:
    """torch MultiLabelMarginLoss targets: each row's label indices, then -1 padding."""
    rows = []
    for labels in y:
        indices = list(np.flatnonzero(labels))
        rows.append(indices + [-1] * (len(labels) - len(indices)))
    return torch.tensor(rows, dtype=torch.long)


# --- the official AsymmetricLoss, per row (its forward returns -loss.sum() over the whole batch) ------------------


def asl_rows(x: np.ndarray, y: np.ndarray, gamma_neg: float, gamma_pos: float, clip: float, eps: float) -> np.ndarray:
    xt, yt = t(x), t(y)
    x_sigmoid = torch.sigmoid(xt)
    xs_pos = x_sigmoid
    xs_neg = 1 - x_sigmoid
    if clip is not None and clip > 0:
        xs_neg = (xs_neg + clip).clamp(max=1)
    los_pos = yt * torch.log(xs_pos.clamp(min=eps))
    los_neg = (1 - yt) * torch.log(xs_neg.clamp(min=eps))
    loss = los_pos + los_neg
    if gamma_neg > 0 or gamma_pos > 0:
        pt0 = xs_pos * yt
        pt1 = xs_neg * (1 - yt)
        pt = pt0 + pt1
        one_sided_gamma = gamma_pos * yt + gamma_neg * (1 - yt)
        one_sided_w = torch.pow(1 - pt, one_sided_gamma)
        loss *= one_sided_w
    return (-loss.sum(dim=1)).numpy()


def soft_margin_cases(rng: np.random.Generator) -> None:
    y = multi_hot(rng)
    x = rng.normal(0.0, 2.0, (N, K))
    w = rng.uniform(0.5, 2.0, N)
    ref = "torch.nn.MultiLabelSoftMarginLoss, float64"
    rows = torch.nn.MultiLabelSoftMarginLoss(reduction="none")(t(x), t(y)).numpy()
    add("multilabel_soft_margin", "multilabel_soft_margin-random", {"target": y, "pred": x}, rows.mean(), rows, ref)
    add("multilabel_soft_margin", "multilabel_soft_margin-weighted", {"target": y, "pred": x}, weighted(rows, w),
        rows, ref + "; reduction='none' rows, weighted mean", sample_weight=w)  # fmt: skip
    add("multilabel_soft_margin", "multilabel_soft_margin-sum", {"target": y, "pred": x}, rows.sum(), rows,
        ref + " (reduction='sum')", reduction="sum")  # fmt: skip
    class_weight = [0.5, 1.0, 2.0, 0.0, 3.0]
    module = torch.nn.MultiLabelSoftMarginLoss(weight=t(class_weight), reduction="none")
    rows = module(t(x), t(y)).numpy()
    add("multilabel_soft_margin", "multilabel_soft_margin-class-weight", {"target": y, "pred": x}, rows.mean(), rows,
        ref + f" with weight={class_weight}", params={"class_weight": class_weight})  # fmt: skip
    add("multilabel_soft_margin", "multilabel_soft_margin-class-weight-torch", {"target": y, "pred": x},
        rows.mean(), rows, ref + f" with weight={class_weight}", params={"class_weight": class_weight},
        convention="torch")  # fmt: skip
    extreme = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 40.0], [800.0, -800.0, -40.0], [0.0, 0.0, 0.0]])
    labels = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    rows = torch.nn.MultiLabelSoftMarginLoss(reduction="none")(t(extreme), t(labels)).numpy()
    add("multilabel_soft_margin", "multilabel_soft_margin-extreme-logits", {"target": labels, "pred": extreme},
        rows.mean(), rows, ref + " (logsigmoid is exact for any logit)")  # fmt: skip


def margin_cases(rng: np.random.Generator) -> None:
    y = multi_hot(rng)
    x = rng.normal(0.0, 1.0, (N, K))
    w = rng.uniform(0.5, 2.0, N)
    ref = "torch.nn.MultiLabelMarginLoss on the index lists of the multi-hot targets, float64"
    rows = torch.nn.MultiLabelMarginLoss(reduction="none")(t(x), index_lists(y)).numpy()
    add("multilabel_margin", "multilabel_margin-random", {"target": y, "pred": x}, rows.mean(), rows, ref)
    add("multilabel_margin", "multilabel_margin-weighted", {"target": y, "pred": x}, weighted(rows, w), rows,
        ref + "; reduction='none' rows, weighted mean", sample_weight=w)  # fmt: skip
    add("multilabel_margin", "multilabel_margin-torch", {"target": y, "pred": x}, rows.mean(), rows, ref,
        convention="torch")  # fmt: skip
    doc_y, doc_x = np.array([[1.0, 0.0, 0.0, 1.0]]), np.array([[0.1, 0.2, 0.4, 0.8]])  # labels 3 and 0
    doc = torch.nn.MultiLabelMarginLoss()(t(doc_x), torch.tensor([[3, 0, -1, 1]])).item()
    big_x = np.array([[1e6, -1e6, 0.0], [-1e6, 1e6, 3.0], [1e-300, 0.0, -1e-300], [5.0, 5.0, 5.0]])
    big_y = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    rows = torch.nn.MultiLabelMarginLoss(reduction="none")(t(big_x), index_lists(big_y)).numpy()
    add("multilabel_margin", "multilabel_margin-torch-doc-example", {"target": doc_y, "pred": doc_x}, doc, None,
        "torch MultiLabelMarginLoss docstring example (0.85)")  # fmt: skip
    add("multilabel_margin", "multilabel_margin-extreme", {"target": big_y, "pred": big_x}, rows.mean(), rows, ref)


def asymmetric_cases(rng: np.random.Generator) -> None:
    y = multi_hot(rng, rate=0.2)
    x = rng.normal(-1.0, 2.5, (N, K))
    w = rng.uniform(0.5, 2.0, N)
    for params in (
        {},
        {"gamma_pos": 1.0, "gamma_neg": 4.0, "clip": 0.05, "eps": 1e-8},
        {"gamma_pos": 0.0, "gamma_neg": 2.0, "clip": 0.0, "eps": 1e-8},
        {"gamma_pos": 0.0, "gamma_neg": 0.0, "clip": 0.0, "eps": 1e-8},
    ):
        full = {"gamma_pos": 0.0, "gamma_neg": 4.0, "clip": 0.05, "eps": 1e-8} | params
        rows = asl_rows(x, y, full["gamma_neg"], full["gamma_pos"], full["clip"], full["eps"])
        name = "-".join(f"{k}{v:g}" for k, v in params.items()) or "defaults"
        ref = f"{ASL_SOURCE}, per row ({full})"
        add("asymmetric", f"asymmetric-{name}", {"target": y, "pred": x}, rows.mean(), rows, ref, params=params)
    rows = asl_rows(x, y, 4.0, 0.0, 0.05, 1e-8)
    add("asymmetric", "asymmetric-weighted", {"target": y, "pred": x}, weighted(rows, w), rows,
        f"{ASL_SOURCE}; weighted mean of the rows", sample_weight=w)  # fmt: skip
    total = float(asl_rows(x, y, 4.0, 0.0, 0.05, 1e-8).sum())
    add("asymmetric", "asymmetric-sum-is-the-official-value", {"target": y, "pred": x}, total, rows,
        f"{ASL_SOURCE}: -loss.sum(), the module's own output", reduction="sum")  # fmt: skip
    add("asl", "asymmetric-alias-torch", {"target": y, "pred": x}, total, rows, f"{ASL_SOURCE}: -loss.sum()",
        reduction="sum", convention="torch")  # fmt: skip
    # Logits where the clip or eps decides: +-1e4 and +-50 give probabilities of exactly 0 or 1 in float64.
    extreme = np.array([[1e4, -1e4, 50.0], [-50.0, 0.0, 1e4], [-1e4, 2.0, -2.0]])
    labels = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    rows = asl_rows(extreme, labels, 4.0, 0.0, 0.05, 1e-8)
    add("asymmetric", "asymmetric-extreme-logits", {"target": labels, "pred": extreme}, rows.mean(), rows,
        f"{ASL_SOURCE} (eps floors log 0, the clip bounds the negatives)")  # fmt: skip


def hamming_cases(rng: np.random.Generator) -> None:
    y = multi_hot(rng)
    p = rng.uniform(size=(N, K))
    w = rng.uniform(0.5, 2.0, N)
    ref = "sklearn.metrics.hamming_loss(y, p >= threshold)"
    for threshold in (0.5, 0.3):
        decided = (p >= threshold).astype(int)
        value = hamming_loss(y.astype(int), decided)
        rows = np.array([hamming_loss(y[i : i + 1].astype(int), decided[i : i + 1]) for i in range(N)])
        params = {} if threshold == 0.5 else {"threshold": threshold}
        add("hamming", f"hamming-threshold-{threshold}", {"target": y, "pred": p}, value, rows, ref, params=params)
    decided = (p >= 0.5).astype(int)
    add("hamming", "hamming-weighted", {"target": y, "pred": p}, hamming_loss(y.astype(int), decided, sample_weight=w),
        None, ref + " with sample_weight", sample_weight=w)  # fmt: skip
    add("hamming", "hamming-sklearn", {"target": y, "pred": p}, hamming_loss(y.astype(int), decided), None, ref,
        convention="sklearn")  # fmt: skip
    scores = np.array([[-1e300, 1e300], [0.0, -0.0], [5e-324, -5e-324]])
    labels = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    decided = (scores >= 0.0).astype(int)
    value = hamming_loss(labels.astype(int), decided)
    add("hamming", "hamming-extreme-scores-threshold-0", {"target": labels, "pred": scores}, value, None,
        ref + " (threshold 0 on scores)", params={"threshold": 0.0})  # fmt: skip


def main() -> None:
    torch.set_default_dtype(F64)
    soft_margin_cases(np.random.default_rng(1401))
    margin_cases(np.random.default_rng(1402))
    asymmetric_cases(np.random.default_rng(1403))
    hamming_cases(np.random.default_rng(1404))
    write_golden(
        OUT,
        "tests/reference/generate_multilabel.py",
        {"scikit-learn": sklearn.__version__, "asl": "AsymmetricLoss transcribed from Alibaba-MIIL/ASL @05b193d8"},
    )


if __name__ == "__main__":
    main()
