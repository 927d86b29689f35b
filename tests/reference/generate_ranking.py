"""Write tests/reference/golden/ranking.json: reference values of the ranking losses.

Run from the repository root::

    .venv/bin/python tests/reference/generate_ranking.py

- margin_ranking: torch ``MarginRankingLoss`` in float64.
- ranknet (Burges et al. 2005) and listnet (Cao et al. 2007): no installed library has them; they are
  written out below in plain Python floats, a double loop over every pair of rows. ranknet: the mean,
  over the pairs (i, j) with the same qid and y_i > y_j, of log(1 + exp(-(x_i - x_j))), taken as
  max(z, 0) + log1p(exp(-|z|)) with z = x_j - x_i so that scores of +-1e4 stay finite. listnet: per
  query, -sum_i softmax(y)_i log softmax(x)_i, averaged over the queries; each query's value is
  checked against torch ``F.cross_entropy`` with the probability target softmax(y).

Sample weights: a ranknet pair weighs the mean of its two rows' weights and a listnet query the mean of
its rows' weights (the weighted mean over pairs / queries), as lossctl documents.
This module imports nothing from lossctl. Inputs come from ``numpy.random.default_rng`` with fixed seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from golden_file import add, write_golden

OUT = Path(__file__).parent / "golden" / "ranking.json"
F64 = torch.float64


def t(values: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=F64)


def reduce_rows(rows: np.ndarray, weight: np.ndarray | None, reduction: str = "mean") -> float:
    w = np.ones(len(rows)) if weight is None else weight
    total = math.fsum(float(wi * li) for wi, li in zip(w, rows, strict=True))
    return total if reduction == "sum" else total / math.fsum(w)


# --- margin_ranking ----------------------------------------------------------------------------------------------


def margin_ranking_cases(rng: np.random.Generator) -> None:
    case = partial(add, "margin_ranking")
    ref = "torch.nn.MarginRankingLoss float64"
    n = 20
    x1, x2 = np.round(rng.normal(0, 2, n), 4), np.round(rng.normal(0, 2, n), 4)
    y = 2.0 * rng.integers(0, 2, n) - 1.0
    w = np.round(rng.uniform(0.1, 3.0, n), 3)
    inputs = {"pred": x1, "other": x2, "target": y}

    def torch_loss(a: np.ndarray, b: np.ndarray, labels: np.ndarray, margin: float, reduction: str) -> Any:
        out = torch.nn.MarginRankingLoss(margin=margin, reduction=reduction)(t(a), t(b), t(labels))
        return out.numpy() if reduction == "none" else float(out)

    for margin in (0.0, 0.5, -1.0, 3.0):
        rows = torch_loss(x1, x2, y, margin, "none")
        params = {} if margin == 0.0 else {"margin": margin}
        case(
            f"margin-ranking-margin-{margin:g}",
            inputs,
            torch_loss(x1, x2, y, margin, "mean"),
            rows,
            ref + f"(margin={margin:g})",
            params=params,
        )
    rows = torch_loss(x1, x2, y, 0.5, "none")
    case(
        "margin-ranking-torch",
        inputs,
        torch_loss(x1, x2, y, 0.5, "mean"),
        rows,
        ref,
        params={"margin": 0.5},
        convention="torch",
    )
    case(
        "margin-ranking-sum",
        inputs,
        torch_loss(x1, x2, y, 0.5, "sum"),
        rows,
        ref + "(reduction='sum')",
        params={"margin": 0.5},
        reduction="sum",
    )
    case(
        "margin-ranking-weighted",
        inputs,
        reduce_rows(rows, w),
        rows,
        ref + " rows, sum(w l) / sum(w)",
        params={"margin": 0.5},
        sample_weight=w,
    )
    case(
        "margin-ranking-sum-weighted",
        inputs,
        reduce_rows(rows, w, "sum"),
        rows,
        ref + " rows, weighted sum",
        params={"margin": 0.5},
        sample_weight=w,
        reduction="sum",
    )
    case(
        "margin-ranking-torch-weighted",
        inputs,
        reduce_rows(rows, w),
        rows,
        ref + " rows, sum(w l) / sum(w)",
        params={"margin": 0.5},
        sample_weight=w,
        convention="torch",
    )
    # Scores of +-1e4 and ties (x1 = x2).
    e1 = np.array([1e4, -1e4, 1e4, -1e4, 0.0, 2.5, 1e4, -3.0])
    e2 = np.array([-1e4, 1e4, 1e4, -1e4, 0.0, 2.5, 1e4 - 1.0, -1e4])
    ey = np.array([1, 1, -1, 1, 1, -1, -1, -1], dtype=np.float64)
    rows = torch_loss(e1, e2, ey, 1.0, "none")
    case(
        "margin-ranking-extreme-scores-and-ties",
        {"pred": e1, "other": e2, "target": ey},
        torch_loss(e1, e2, ey, 1.0, "mean"),
        rows,
        ref + "(margin=1)",
        params={"margin": 1.0},
    )


# --- ranknet and listnet, by hand --------------------------------------------------------------------------------


def softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def ranknet_reference(x: np.ndarray, y: np.ndarray, qid: np.ndarray, w: np.ndarray | None) -> float:
    weight = [1.0] * len(x) if w is None else [float(v) for v in w]
    losses, pair_weights = [], []
    for i in range(len(x)):
        for j in range(len(x)):
            if qid[i] == qid[j] and y[i] > y[j]:
                pair_weight = (weight[i] + weight[j]) / 2
                losses.append(pair_weight * softplus(float(x[j] - x[i])))
                pair_weights.append(pair_weight)
    assert pair_weights, "no pairs"
    return math.fsum(losses) / math.fsum(pair_weights)


def listnet_reference(x: np.ndarray, y: np.ndarray, qid: np.ndarray, w: np.ndarray | None) -> float:
    weight = [1.0] * len(x) if w is None else [float(v) for v in w]
    losses, query_weights = [], []
    for query in dict.fromkeys(float(q) for q in qid):
        docs = [i for i in range(len(x)) if qid[i] == query]
        xs, ys = [float(x[i]) for i in docs], [float(y[i]) for i in docs]
        top_y, top_x = max(ys), max(xs)
        ey = [math.exp(v - top_y) for v in ys]
        target = [e / math.fsum(ey) for e in ey]
        log_norm = top_x + math.log(math.fsum(math.exp(v - top_x) for v in xs))
        loss = -math.fsum(p * (v - log_norm) for p, v in zip(target, xs, strict=True))
        check = float(F.cross_entropy(t(xs)[None], t(target)[None]))
        assert abs(check - loss) <= 1e-12 * max(1.0, loss), (check, loss)
        query_weight = math.fsum(weight[i] for i in docs) / len(docs)
        losses.append(query_weight * loss)
        query_weights.append(query_weight)
    return math.fsum(losses) / math.fsum(query_weights)


def list_case(
    loss: str,
    reference: Callable[..., float],
    description: str,
    case_id: str,
    inputs: dict[str, np.ndarray],
    weight: np.ndarray | None = None,
    note: str = "",
) -> None:
    expected = reference(inputs["pred"], inputs["target"], inputs["qid"], weight)
    add(loss, case_id, inputs, expected, None, description + note, sample_weight=weight)


def list_cases(rng: np.random.Generator) -> None:
    # Six queries in shuffled (non-contiguous) order, with a one-document query, graded relevance 0..3 with ties,
    # and float query ids; then a query made of ties only (no ranknet pair), scores of +-1e4 and weights.
    sizes = [5, 1, 4, 7, 3, 2]
    qids = np.array([3.0, 7.5, -1.0, 0.0, 12.0, 1e6])
    qid = np.repeat(qids, sizes)
    n = len(qid)
    x = np.round(rng.normal(0.0, 1.5, n), 4)
    y = rng.integers(0, 4, n).astype(np.float64)
    shuffle = rng.permutation(n)
    qid, x, y = qid[shuffle], x[shuffle], y[shuffle]
    w_query = dict(zip(qids, np.round(rng.uniform(0.2, 3.0, len(qids)), 3), strict=True))
    w_constant = np.array([w_query[q] for q in qid])
    w_rows = np.round(rng.uniform(0.1, 3.0, n), 3)
    tied_qid = np.concatenate([qid, [99.0, 99.0, 99.0]])
    tied_x = np.concatenate([x, [0.3, -0.2, 1.0]])
    tied_y = np.concatenate([y, [2.0, 2.0, 2.0]])
    ex = np.array([1e4, -1e4, 0.0, 1e4, -1e4, 5.0, -5.0, 1e4])
    ey = np.array([1.0, 0.0, 2.0, 3.0, 3.0, 0.0, 1.0, 1e4])
    eq = np.array([1, 1, 1, 2, 2, 2, 3, 3], dtype=np.float64)

    single = {"pred": np.array([0.5, 2.0, -1.0]), "target": np.array([1.0, 0.0, 3.0]), "qid": np.array([4.0, 4.0, 5.0])}
    tied = {"pred": tied_x, "target": tied_y, "qid": tied_qid}
    extreme = {"pred": ex, "target": ey, "qid": eq}
    for loss, reference, description in (
        ("ranknet", ranknet_reference, "pairwise logistic loss, Python double loop over the pairs (softplus)"),
        (
            "listnet",
            listnet_reference,
            "ListNet top-one cross-entropy per query in Python (checked against torch F.cross_entropy with "
            "probability targets), mean over queries",
        ),
    ):
        case = partial(list_case, loss, reference, f"{loss}: {description}")
        inputs = {"pred": x, "target": y, "qid": qid}
        case(f"{loss}-random-queries", inputs)
        case(f"{loss}-query-weights", inputs, w_constant, "; one weight per query")
        case(f"{loss}-row-weights", inputs, w_rows, "; pair / query weight = mean of its rows' weights")
        case(f"{loss}-all-tied-query", tied)
        case(f"{loss}-extreme-scores", extreme)
        case(f"{loss}-single-pair-and-single-document", single)
    one = {"pred": x[:1], "target": y[:1], "qid": qid[:1]}
    add(
        "listnet",
        "listnet-single-document",
        one,
        listnet_reference(x[:1], y[:1], qid[:1], None),
        None,
        "listnet: one query of one document costs 0",
    )


def main() -> None:
    torch.set_default_dtype(F64)
    margin_ranking_cases(np.random.default_rng(401))
    list_cases(np.random.default_rng(402))
    write_golden(
        OUT,
        "tests/reference/generate_ranking.py",
        {},
    )


if __name__ == "__main__":
    main()
