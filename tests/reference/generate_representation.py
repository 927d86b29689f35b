"""Write tests/reference/golden/representation.json: reference values of the representation-learning losses.

Run from the repository root::

    .venv/bin/python tests/reference/generate_representation.py

- triplet, cosine_embedding: torch ``TripletMarginLoss`` / ``CosineEmbeddingLoss`` in float64.
- contrastive: no installed library has it; its formula (Hadsell, Chopra & LeCun 2006, with the factor
  1/2) is written out below in torch float64, the distance from ``torch.linalg.vector_norm``.
- info_nce, nt_xent, clip: written out below batch by batch (a plain Python loop over the batches) on
  torch float64, embeddings normalised with ``F.normalize`` (eps 1e-12) and every cross-entropy taken
  by ``F.cross_entropy`` on the similarity matrix: InfoNCE as MoCo / CPC (``q @ k.T / T`` against the
  diagonal), NT-Xent as SimCLR (Chen et al. 2020; the positive logit first, then the 2N - 2 negatives
  of the view, label 0, as in the common PyTorch ports), CLIP as open_clip ``ClipLoss``
  (src/open_clip/loss.py: the mean of the image and text cross-entropies of
  ``logit_scale * img @ txt.T``). A row's value: its cross-entropy (info_nce), the mean of its two
  views' (nt_xent) or of its two directions' (clip); the reported value is the mean of the batch
  losses weighted by batch size, computed from the batch losses, not from the rows.

Sample weights (no library has them here) weight the per-row values: sum(w l) / sum(w).
This module imports nothing from lossctl. Inputs come from ``numpy.random.default_rng`` with fixed seeds,
rounded to 4 decimals (the rounded numbers are the exact inputs) to keep the file small.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from golden_file import add, write_golden

OUT = Path(__file__).parent / "golden" / "representation.json"
F64 = torch.float64


def t(values: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=F64)


def reduce_rows(rows: np.ndarray, weight: np.ndarray | None, reduction: str = "mean") -> float:
    w = np.ones(len(rows)) if weight is None else weight
    total = math.fsum(float(wi * li) for wi, li in zip(w, rows, strict=True))
    return total if reduction == "sum" else total / math.fsum(w)


def embeddings(rng: np.random.Generator, n: int, d: int, scale: float = 1.0) -> np.ndarray:
    return np.round(rng.normal(0.0, scale, (n, d)), 4)


def weights(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.round(rng.uniform(0.1, 3.0, n), 3)


# --- per-row losses ----------------------------------------------------------------------------------------------


def contrastive_rows(a: np.ndarray, o: np.ndarray, y: np.ndarray, margin: float) -> np.ndarray:
    # Hadsell et al. 2006, eq. 4 with D_W the Euclidean distance: (1 - Y) 1/2 D^2 + Y 1/2 max(0, m - D)^2 where
    # their Y = 0 marks a similar pair; lossctl's target is 1 for similar, so y here is 1 - Y.
    d = torch.linalg.vector_norm(t(a) - t(o), dim=1)
    yt = t(y)
    return (0.5 * (yt * d**2 + (1 - yt) * torch.clamp(margin - d, min=0.0) ** 2)).numpy()


def contrastive_cases(rng: np.random.Generator) -> None:
    case = partial(add, "contrastive")
    ref = "Hadsell et al. 2006 formula in torch float64 (torch.linalg.vector_norm)"
    n, d = 16, 5
    a, o = embeddings(rng, n, d), embeddings(rng, n, d)
    y = rng.integers(0, 2, n).astype(np.float64)
    w = weights(rng, n)
    for margin in (1.0, 2.5, 0.0):
        rows = contrastive_rows(a, o, y, margin)
        params = {} if margin == 1.0 else {"margin": margin}
        case(
            f"contrastive-margin-{margin:g}",
            {"anchor": a, "other": o, "target": y},
            reduce_rows(rows, None),
            rows,
            ref,
            params=params,
        )
    rows = contrastive_rows(a, o, y, 2.5)
    inputs = {"anchor": a, "other": o, "target": y}
    case("contrastive-weighted", inputs, reduce_rows(rows, w), rows, ref, params={"margin": 2.5}, sample_weight=w)
    case(
        "contrastive-sum-weighted",
        inputs,
        reduce_rows(rows, w, "sum"),
        rows,
        ref,
        params={"margin": 2.5},
        sample_weight=w,
        reduction="sum",
    )
    # Zero distances (other = anchor): a similar pair costs 0, a dissimilar one 0.5 margin^2; identical anchors.
    same = np.tile(a[:1], (6, 1))
    y6 = np.array([1, 0, 1, 0, 1, 0], dtype=np.float64)
    other = np.concatenate([same[:2], a[1:5]])
    rows = contrastive_rows(same, other, y6, 1.5)
    case(
        "contrastive-zero-distance-identical-anchors",
        {"anchor": same, "other": other, "target": y6},
        reduce_rows(rows, None),
        rows,
        ref,
        params={"margin": 1.5},
    )
    big_a, big_o = embeddings(rng, 6, 3, 1e4), embeddings(rng, 6, 3, 1e4)
    rows = contrastive_rows(big_a, big_o, y6, 3e4)
    case(
        "contrastive-large-embeddings",
        {"anchor": big_a, "other": big_o, "target": y6},
        reduce_rows(rows, None),
        rows,
        ref,
        params={"margin": 3e4},
    )


def triplet_torch(
    anchor: np.ndarray, pos: np.ndarray, neg: np.ndarray, **kwargs: Any
) -> tuple[np.ndarray, float, float]:
    def run(reduction: str) -> torch.Tensor:
        return torch.nn.TripletMarginLoss(reduction=reduction, **kwargs)(t(anchor), t(pos), t(neg))

    return run("none").numpy(), float(run("mean")), float(run("sum"))


def triplet_cases(rng: np.random.Generator) -> None:
    case = partial(add, "triplet")
    ref = "torch.nn.TripletMarginLoss float64"
    size, d = 16, 5
    a, p, n = embeddings(rng, size, d), embeddings(rng, size, d), embeddings(rng, size, d)
    inputs = {"anchor": a, "positive": p, "negative": n}
    w = weights(rng, size)
    rows, mean, total = triplet_torch(a, p, n)
    case("triplet-default", inputs, mean, rows, ref)
    case("triplet-torch", inputs, mean, rows, ref, convention="torch")
    case("triplet-sum", inputs, total, rows, ref + "(reduction='sum')", reduction="sum")
    case("triplet-weighted", inputs, reduce_rows(rows, w), rows, ref + " rows, sum(w l) / sum(w)", sample_weight=w)
    case(
        "triplet-torch-weighted",
        inputs,
        reduce_rows(rows, w),
        rows,
        ref + " rows, sum(w l) / sum(w)",
        convention="torch",
        sample_weight=w,
    )
    for kwargs in (
        {"p": 1.0},
        {"p": 3.0, "margin": 0.5},
        {"p": 1.5, "eps": 0.0},
        {"swap": True},
        {"swap": True, "margin": 2.0, "eps": 1e-3},
        {"eps": 0.0, "margin": 3.0},
    ):
        rows, mean, _ = triplet_torch(a, p, n, **kwargs)
        label = "-".join(f"{k}-{v:g}" if not isinstance(v, bool) else k for k, v in kwargs.items())
        case(f"triplet-{label}", inputs, mean, rows, ref + f"({kwargs})", params=kwargs)
    rows, _, total = triplet_torch(a, p, n, swap=True, p=1.0)
    case(
        "triplet-swap-p1-sum-weighted",
        inputs,
        reduce_rows(rows, w, "sum"),
        rows,
        ref + "(swap, p=1) weighted sum",
        params={"swap": True, "p": 1.0},
        sample_weight=w,
        reduction="sum",
    )
    # Zero distances: a = p = n costs exactly the margin (both distances are eps * D^(1/p)); identical anchors.
    same = np.tile(a[:1], (5, 1))
    pos = np.concatenate([same[:2], p[:3]])
    neg = np.concatenate([same[:1], n[:4]])
    edge = {"anchor": same, "positive": pos, "negative": neg}
    rows, mean, _ = triplet_torch(same, pos, neg)
    case("triplet-zero-distance-identical-anchors", edge, mean, rows, ref)
    rows, mean, _ = triplet_torch(same, pos, neg, swap=True, eps=0.0)
    case(
        "triplet-zero-distance-swap-eps-0",
        edge,
        mean,
        rows,
        ref + "(swap=True, eps=0)",
        params={"swap": True, "eps": 0.0},
    )
    big = {
        "anchor": embeddings(rng, 6, 3, 1e4),
        "positive": embeddings(rng, 6, 3, 1e4),
        "negative": embeddings(rng, 6, 3, 1e4),
    }
    rows, mean, _ = triplet_torch(big["anchor"], big["positive"], big["negative"], margin=1e3)
    case("triplet-large-embeddings", big, mean, rows, ref + "(margin=1e3)", params={"margin": 1e3})


def cosine_torch(a: np.ndarray, b: np.ndarray, y: np.ndarray, margin: float = 0.0) -> tuple[np.ndarray, float, float]:
    def run(reduction: str) -> torch.Tensor:
        return torch.nn.CosineEmbeddingLoss(margin=margin, reduction=reduction)(t(a), t(b), t(y))

    return run("none").numpy(), float(run("mean")), float(run("sum"))


def cosine_embedding_cases(rng: np.random.Generator) -> None:
    case = partial(add, "cosine_embedding")
    ref = "torch.nn.CosineEmbeddingLoss float64"
    size, d = 16, 5
    a, b = embeddings(rng, size, d), embeddings(rng, size, d)
    y = 2.0 * rng.integers(0, 2, size) - 1.0
    w = weights(rng, size)
    inputs = {"anchor": a, "other": b, "target": y}
    rows, mean, total = cosine_torch(a, b, y)
    case("cosine-embedding-default", inputs, mean, rows, ref)
    case("cosine-embedding-torch", inputs, mean, rows, ref, convention="torch")
    case("cosine-embedding-sum", inputs, total, rows, ref + "(reduction='sum')", reduction="sum")
    case(
        "cosine-embedding-weighted",
        inputs,
        reduce_rows(rows, w),
        rows,
        ref + " rows, sum(w l) / sum(w)",
        sample_weight=w,
    )
    for margin in (0.3, -0.5, 1.0, -1.0):
        rows, mean, _ = cosine_torch(a, b, y, margin)
        case(
            f"cosine-embedding-margin-{margin:g}",
            inputs,
            mean,
            rows,
            ref + f"(margin={margin:g})",
            params={"margin": margin},
        )
    rows, _, total = cosine_torch(a, b, y, 0.2)
    case(
        "cosine-embedding-torch-sum-weighted",
        inputs,
        reduce_rows(rows, w, "sum"),
        rows,
        ref + " weighted sum",
        convention="torch",
        params={"margin": 0.2},
        sample_weight=w,
        reduction="sum",
    )
    # Zero and tiny embeddings (where torch's 1e-12 on each squared norm matters), identical vectors, opposite ones.
    # The identical vectors have exact squares and products, so 1 - cos (which cancels) rounds the same in any order.
    zero, tiny, exact = np.zeros(d), np.full(d, 1e-7), np.array([0.5, -1.5, 2.0, 0.0, 1.0])
    a_edge = np.stack([zero, zero, zero, tiny, tiny, exact, exact, exact, exact])
    b_edge = np.stack([zero, a[1], a[1], tiny, a[1], exact, exact, -exact, 1e4 * exact])
    y_edge = np.array([1, 1, -1, 1, -1, 1, -1, 1, -1], dtype=np.float64)
    rows, mean, _ = cosine_torch(a_edge, b_edge, y_edge, -0.25)
    case(
        "cosine-embedding-zero-tiny-identical",
        {"anchor": a_edge, "other": b_edge, "target": y_edge},
        mean,
        rows,
        ref + "(margin=-0.25)",
        params={"margin": -0.25},
    )


# --- batch losses ------------------------------------------------------------------------------------------------


def batches(n: int, batch_size: int) -> list[slice]:
    return [slice(start, min(n, start + batch_size)) for start in range(0, n, batch_size)]


def info_nce_batch(q: torch.Tensor, k: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    qn, kn = F.normalize(q, dim=1), F.normalize(k, dim=1)
    logits = qn @ kn.T / temperature
    labels = torch.arange(len(q))
    return F.cross_entropy(logits, labels, reduction="none"), F.cross_entropy(logits, labels)


def nt_xent_batch(a: torch.Tensor, p: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    n = len(a)
    z = F.normalize(torch.cat([a, p]), dim=1)
    sim = z @ z.T / temperature
    views = torch.arange(2 * n)
    partner = (views + n) % (2 * n)
    logits = []
    for k in range(2 * n):
        negatives = [j for j in range(2 * n) if j not in (k, int(partner[k]))]
        logits.append(torch.cat([sim[k, partner[k]].reshape(1), sim[k, negatives]]))
    per_view = F.cross_entropy(torch.stack(logits), torch.zeros(2 * n, dtype=torch.long), reduction="none")
    rows = (per_view[:n] + per_view[n:]) / 2
    return rows, per_view.mean()


def clip_batch(image: torch.Tensor, text: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    image, text = F.normalize(image, dim=1), F.normalize(text, dim=1)
    logit_scale = 1.0 / temperature
    logits_per_image = logit_scale * image @ text.T
    logits_per_text = logit_scale * text @ image.T
    labels = torch.arange(len(image))
    by_image = F.cross_entropy(logits_per_image, labels, reduction="none")
    by_text = F.cross_entropy(logits_per_text, labels, reduction="none")
    total = (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2
    return (by_image + by_text) / 2, total


BATCH_REFERENCES = {
    "info_nce": (info_nce_batch, ("query", "positive"), "F.cross_entropy(normalize(q) @ normalize(k).T / T, arange)"),
    "nt_xent": (nt_xent_batch, ("anchor", "positive"), "SimCLR NT-Xent: F.cross_entropy([positive, negatives], 0)"),
    "clip": (clip_batch, ("anchor", "positive"), "open_clip ClipLoss: mean of the two F.cross_entropy directions"),
}


def batch_case(
    loss: str,
    case_id: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    temperature: float,
    batch_size: int,
    weight: np.ndarray | None = None,
) -> None:
    fn, roles, ref = BATCH_REFERENCES[loss]
    n = len(x)
    rows = np.empty(n)
    batch_means = []
    for part in batches(n, batch_size):
        batch_rows, batch_loss = fn(t(x[part]), t(y[part]), temperature)
        rows[part] = batch_rows.numpy()
        batch_means.append((float(batch_loss), part.stop - part.start))
        assert abs(float(batch_rows.mean()) - float(batch_loss)) <= 1e-12 * max(1.0, abs(float(batch_loss)))
    # torch's log_softmax ends in log(sum(exp(x - max))), which keeps only absolute accuracy: a row costing
    # 1e-7 would carry a 1e-9 relative error. The cases keep every row above 1e-5 (or exactly 0); the
    # tests check tiny losses by hand against log1p.
    assert all(r == 0.0 or r >= 1e-5 for r in rows), (case_id, rows.min())
    if weight is None:
        expected = math.fsum(loss_ * size for loss_, size in batch_means) / n
    else:
        expected = reduce_rows(rows, weight)
    add(
        loss,
        case_id,
        {roles[0]: x, roles[1]: y},
        expected,
        rows,
        f"{ref} in torch float64, batches of {batch_size} in order; the mean of the batch losses weighted by size"
        + (", rows weighted sum(w l) / sum(w)" if weight is not None else ""),
        params={"temperature": temperature, "batch_size": batch_size},
        sample_weight=weight,
    )


def batch_cases(loss: str, rng: np.random.Generator) -> None:
    case = partial(batch_case, loss)
    d = 4
    x, y = embeddings(rng, 11, d), embeddings(rng, 11, d)
    noisy = np.round(x + rng.normal(0.0, 0.5, x.shape), 4)
    w = weights(rng, 11)
    case(f"{loss}-several-batches", x, noisy, temperature=0.5, batch_size=4)
    case(f"{loss}-one-batch-smaller-than-batch-size", x, noisy, temperature=0.3, batch_size=256)
    case(f"{loss}-random-pairs-temperature-0.07", x, y, temperature=0.07, batch_size=5)
    case(f"{loss}-batch-size-1", x[:5], noisy[:5], temperature=0.2, batch_size=1)
    case(f"{loss}-batch-size-2-odd-rows", x[:7], noisy[:7], temperature=1.0, batch_size=2)
    case(f"{loss}-weighted", x, noisy, temperature=0.3, batch_size=3, weight=w)
    # Identical anchors in a batch, a zero embedding (F.normalize keeps it zero) and embeddings of scale 1e4.
    edge_x = np.concatenate([np.tile(x[:1], (3, 1)), np.zeros((1, d)), 1e4 * x[4:6]])
    edge_y = np.concatenate([noisy[:3], noisy[3:4], np.zeros((1, d)), 1e4 * noisy[5:6]])
    case(f"{loss}-identical-zero-and-large-embeddings", edge_x, edge_y, temperature=0.25, batch_size=6)
    # At a small temperature every row must be wrongly matched to stay above 1e-5: the keys are the queries
    # shifted by one row, so another key of the batch beats a row's own (tiny losses are tested by hand).
    case(f"{loss}-small-temperature", x[:6], np.roll(x[:6], 1, axis=0), temperature=0.02, batch_size=3)


def main() -> None:
    torch.set_default_dtype(F64)
    contrastive_cases(np.random.default_rng(301))
    triplet_cases(np.random.default_rng(302))
    cosine_embedding_cases(np.random.default_rng(303))
    batch_cases("info_nce", np.random.default_rng(304))
    batch_cases("nt_xent", np.random.default_rng(305))
    batch_cases("clip", np.random.default_rng(306))
    write_golden(
        OUT,
        "tests/reference/generate_representation.py",
        {},
    )


if __name__ == "__main__":
    main()
