"""Representation-learning losses: embeddings are vector roles (rows x D), one pair or triplet per row.

``contrastive``, ``triplet`` and ``cosine_embedding`` are per-row losses of a row's own embeddings.
``info_nce``, ``nt_xent`` and ``clip`` are batch losses: the rows are cut into consecutive batches
of ``batch_size`` rows in file order (the last batch may be smaller), the other rows of a batch are
each row's negatives, and a row's value is its share of its batch's loss, so the mean over rows is
the mean of the batch losses weighted by batch size. Their cosine similarities are dot products of
embeddings divided by ``max(||v||, 1e-12)``, as torch ``F.normalize``: a zero embedding becomes the
zero vector, with similarity 0 to everything. Float64 throughout; cross-entropies are taken with
log-sum-exp and never cancel, so any temperature > 0 gives finite values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lossctl.aggregates import MEAN, Aggregate, weighted_mean_only
from lossctl.errors import InputError
from lossctl.losses._checks import binary_labels, plus_minus_labels
from lossctl.registry import Convention, Param, Properties, Role, Violation, register_loss
from lossctl.text import count

# torch.nn.functional.normalize(eps=1e-12): v / max(||v||_2, eps).
_NORMALIZE_EPS = 1e-12
# aten/src/ATen/native/Loss.cpp cosine_embedding_loss adds EPSILON to each squared norm, declared
# `constexpr float EPSILON = 1e-12`: the float32 nearest 1e-12, which is 9.99999996e-13 in float64.
_COSINE_EPS = float(np.float32(1e-12))
# At most this many similarity logits (32 MiB of float64) exist at once, whatever the batch size.
_BLOCK = 1 << 22


BATCH_MEAN = Aggregate(
    "batch_mean",
    weighted_mean_only,  # of the rows' shares: with unit weights, the batch losses weighted by their sizes
    reductions=("mean",),
    doc="mean over rows of per-row losses computed within batches of batch_size rows in file order (mean only)",
    many=MEAN.many,
    slopes=MEAN.slopes,
)


def _same_width(loss: str, **embeddings: np.ndarray) -> None:
    """An :class:`InputError` naming the roles and widths unless every embedding has the same number of columns."""
    (first, first_array), *others = embeddings.items()
    width = first_array.shape[1]
    for role, array in others:
        if array.shape[1] != width:
            raise InputError(
                f"{loss}: '{first}' has {count(width, 'column')} but '{role}' has {array.shape[1]}; "
                "the embeddings must have the same width"
            )


def _norms(rows: np.ndarray, p: float = 2.0) -> np.ndarray:
    """The p-norm of each row. Where ``sum |x|^p`` overflows though the norm need not (an element beyond ~1e154 for
    p = 2), which made the norm inf, it is the norm of the row divided by its largest magnitude, times that."""
    with np.errstate(over="ignore"):
        norms = np.linalg.norm(rows, ord=p, axis=1)
    overflowed = np.isinf(norms)
    if overflowed.any():
        scale = np.max(np.abs(rows[overflowed]), axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            norms[overflowed] = scale * np.linalg.norm(rows[overflowed] / scale[:, None], ord=p, axis=1)
    return norms


def _normalize(embeddings: np.ndarray) -> np.ndarray:
    """Rows divided by ``max(||v||_2, 1e-12)``, as torch ``F.normalize``."""
    return embeddings / np.maximum(_norms(embeddings), _NORMALIZE_EPS)[:, None]


def _row_dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", u, v)


# --- per-row losses ----------------------------------------------------------------------------------------------

_ANCHOR = Role("anchor", "the row's reference embedding", shape="vector")


@register_loss(
    "contrastive",
    task="representation",
    violation=Violation("target", 2.0),
    summary="Contrastive (siamese) loss: pulls similar pairs together, pushes dissimilar pairs beyond a margin.",
    formula="l = 0.5 (y d^2 + (1 - y) max(0, margin - d)^2), d = ||anchor - other||_2",
    follows="Hadsell, Chopra & LeCun 2006",
    roles=(
        _ANCHOR,
        Role("other", "the embedding compared with the anchor (same width)", shape="vector"),
        Role("target", "1 for a similar pair, 0 for a dissimilar one"),
    ),
    params=(Param("margin", 1.0, "distance beyond which a dissimilar pair costs nothing", minimum=0.0),),
    properties=Properties(
        convex="no (the dissimilar term max(0, margin - d)^2 is not convex in the embeddings)",
        robust="no: a similar pair costs its squared distance",
        expects="two embeddings of the same width per row; labels 0 or 1",
        range="[0, inf); a dissimilar pair costs at most 0.5 margin^2",
    ),
    when="Evaluating a siamese network on labelled pairs (same / different), with Euclidean distances: similar pairs "
    "should be close, dissimilar ones at least margin apart. Choose margin on the scale of the embeddings' "
    "distances; for normalised embeddings and angles, cosine_embedding is the cosine counterpart.",
)
def contrastive(anchor: np.ndarray, other: np.ndarray, target: np.ndarray, *, margin: float) -> np.ndarray:
    """``0.5 d^2`` for a similar pair (y = 1), ``0.5 max(0, margin - d)^2`` for a dissimilar one (y = 0).

    ``d`` is the Euclidean distance between the row's ``anchor`` and ``other`` embeddings (the squared
    distance is summed directly, not squared from its root). Domain: labels 0 or 1; embeddings of the
    same width. Follows Hadsell, Chopra & LeCun 2006, with its factor 1/2. Example: anchor = [[0, 0],
    [0, 0]], other = [[3, 4], [0.6, 0.8]], y = [1, 0], margin = 2 give d = [5, 1], rows
    [12.5, 0.5] and a mean of 6.5.
    """
    _same_width("contrastive", anchor=anchor, other=other)
    binary_labels(target)
    difference = anchor - other
    squared = _row_dot(difference, difference)
    shortfall = np.maximum(margin - np.sqrt(squared), 0.0)
    return 0.5 * np.where(target == 1.0, squared, shortfall * shortfall)


def _pairwise_distance(u: np.ndarray, v: np.ndarray, p: float, eps: float) -> np.ndarray:
    # torch pairwise_distance (aten/src/ATen/native/Distance.cpp): at::norm(x1 - x2 + eps, p) over the last axis.
    return _norms(u - v + eps, p)


@register_loss(
    "triplet",
    task="representation",
    summary="Triplet margin loss: the anchor should be closer to its positive than to its negative by a margin.",
    formula="l = max(d(a, p) - d(a, n) + margin, 0), d(u, v) = ||u - v + eps||_p; swap: d(a, n) <- min(d(a, n), "
    "d(p, n))",
    follows="torch TripletMarginLoss",
    roles=(
        _ANCHOR,
        Role("positive", "an embedding of the anchor's class (same width)", shape="vector"),
        Role("negative", "an embedding of another class (same width)", shape="vector"),
    ),
    params=(
        Param(
            "margin",
            1.0,
            "how much closer the positive must be than the negative (> 0, as torch)",
            minimum=0.0,
            min_exclusive=True,
        ),
        Param(
            "p", 2.0, "the norm degree of the distance (2: Euclidean, 1: Manhattan)", minimum=0.0, min_exclusive=True
        ),
        Param("eps", 1e-6, "added to every coordinate difference before the norm, as torch", minimum=0.0),
        Param(
            "swap", False, "use the positive-negative distance when it is smaller (Balntas et al. 2016)", kind="bool"
        ),
    ),
    properties=Properties(
        convex="no (a difference of distances)",
        robust="partly: grows linearly with the distances",
        expects="three embeddings of the same width per row",
        range="[0, inf); 0 once d(a, n) >= d(a, p) + margin",
    ),
    when="Evaluating a metric-learning model (face or image retrieval, FaceNet-style embeddings) on mined triplets: "
    "it only asks for the right order of distances, by a margin, and ignores triplets already satisfied. Use swap "
    "to score against the harder of the two negatives' distances.",
    # torch Loss.cpp triplet_margin_loss: clamp_min(margin + dist_pos - dist_neg, 0), dist_neg = min(dist_neg,
    # pairwise_distance(positive, negative)) with swap; torch.nn.functional.triplet_margin_loss rejects margin <= 0.
    conventions={
        "torch": Convention(
            "Same formula as lossctl (torch.nn.TripletMarginLoss, including eps inside the norm). torch takes no "
            "sample weights: with weights lossctl's weighted mean applies."
        ),
    },
)
def triplet(
    anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray, *, margin: float, p: float, eps: float, swap: bool
) -> np.ndarray:
    """``max(d(a, p) - d(a, n) + margin, 0)`` per row, ``d(u, v) = ||u - v + eps||_p`` exactly as torch.

    torch adds ``eps`` to every coordinate of ``u - v`` before the norm (so ``d(u, u) = eps D^(1/p)``,
    not 0, and ``d`` is not symmetric); with ``swap`` the negative distance is ``min(d(a, n), d(p, n))``.
    Domain: embeddings of the same width; ``margin > 0``. Follows torch ``TripletMarginLoss``. Example:
    eps = 0, a = [[0, 0]], p = [[3, 4]], n = [[6, 8]] give d(a, p) = 5, d(a, n) = 10 and
    max(5 - 10 + 1, 0) = 0; n = [[0, 1]] gives max(5 - 1 + 1, 0) = 5.
    """
    _same_width("triplet", anchor=anchor, positive=positive, negative=negative)
    to_negative = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = np.minimum(to_negative, _pairwise_distance(positive, negative, p, eps))
    return np.maximum(margin + _pairwise_distance(anchor, positive, p, eps) - to_negative, 0.0)


@register_loss(
    "cosine_embedding",
    task="representation",
    violation=Violation("target", 0.0),
    summary="Cosine embedding loss: 1 - cos for similar pairs, cos above a margin for dissimilar pairs.",
    formula="l = 1 - cos if y = 1, max(0, cos - margin) if y = -1; cos = a.b / sqrt((|a|^2 + e)(|b|^2 + e)), "
    "e = float32(1e-12) as torch",
    follows="torch CosineEmbeddingLoss",
    roles=(
        _ANCHOR,
        Role("other", "the embedding compared with the anchor (same width)", shape="vector"),
        Role("target", "1 for a similar pair, -1 for a dissimilar one"),
    ),
    params=(
        Param(
            "margin",
            0.0,
            "cosine below which a dissimilar pair costs nothing (torch suggests 0 to 0.5)",
            minimum=-1.0,
            maximum=1.0,
        ),
    ),
    properties=Properties(
        convex="no (in the embeddings)",
        robust="yes: bounded, a row costs at most 2",
        expects="two embeddings of the same width per row; labels 1 or -1",
        range="[0, 2] for similar pairs, [0, 1 - margin] for dissimilar ones",
    ),
    when="Evaluating embeddings compared by angle (sentence or retrieval embeddings) on labelled pairs: only the "
    "direction counts, not the length. Raise margin to tolerate some similarity between dissimilar pairs.",
    # torch Loss.cpp cosine_embedding_loss: prod_sum / sqrt((mag_square1 + EPSILON) * (mag_square2 + EPSILON)),
    # EPSILON a float32 1e-12; where(target == 1, 1 - cos, 0) + where(target == -1, clamp_min(cos - margin, 0), 0).
    conventions={
        "torch": Convention(
            "Same formula as lossctl (torch.nn.CosineEmbeddingLoss, with float32(1e-12) added to each squared "
            "norm). torch gives 0 to a target other than 1 or -1, which lossctl rejects; it takes no sample weights."
        ),
    },
)
def cosine_embedding(anchor: np.ndarray, other: np.ndarray, target: np.ndarray, *, margin: float) -> np.ndarray:
    """``1 - cos`` for y = 1 and ``max(0, cos - margin)`` for y = -1, with torch's guarded cosine.

    ``cos = a.b / sqrt((|a|^2 + e)(|b|^2 + e))`` as torch's ``cosine_embedding_loss``, which adds its
    ``EPSILON``, the float32 ``1e-12`` (9.99999996e-13), to each squared norm: a zero embedding has
    cos = 0, so it costs 1 in a similar pair and ``max(0, -margin)`` in a dissimilar one. Domain:
    labels 1 or -1; embeddings of the same width. Follows torch ``CosineEmbeddingLoss``. Example: a = [[1, 0], [1, 0]],
    b = [[0, 2], [1, 1]], y = [1, -1] give cos = [0, 0.7071], rows [1, 0.7071] and a mean of 0.8536.
    """
    _same_width("cosine_embedding", anchor=anchor, other=other)
    plus_minus_labels(target)
    # torch's order of operations, sqrt(s1 s2), so that rows near cos = 1 (where 1 - cos cancels) round as in
    # torch; sqrt(s1) sqrt(s2) only where s1 s2 overflows.
    with np.errstate(over="ignore", invalid="ignore"):
        squares = (_row_dot(anchor, anchor) + _COSINE_EPS, _row_dot(other, other) + _COSINE_EPS)
        product = squares[0] * squares[1]
        norms = np.where(np.isfinite(product), np.sqrt(product), np.sqrt(squares[0]) * np.sqrt(squares[1]))
        dot = _row_dot(anchor, other)
        cosine = dot / norms
    overflowed = ~(np.isfinite(squares[0]) & np.isfinite(squares[1]) & np.isfinite(dot))
    if overflowed.any():
        # a squared norm or the dot beyond float64 (an element beyond ~1e154) gave a / inf = 0 or inf / inf: the
        # cosine of the normalised rows instead (e is far below the ulp of such a squared norm; a zero row stays
        # the zero vector, with cosine 0 as e gives it)
        cosine[overflowed] = _row_dot(_normalize(anchor[overflowed]), _normalize(other[overflowed]))
    # sqrt(s1) sqrt(s2) (where s1 s2 overflows) and the normalised rows can round 1 up by an ulp: a similar pair of
    # equal embeddings of 1e100 cost -2.2e-16
    np.clip(cosine, -1.0, 1.0, out=cosine)
    return np.where(target == 1.0, 1.0 - cosine, np.maximum(cosine - margin, 0.0))


# --- batch losses ------------------------------------------------------------------------------------------------


def _cross_entropy(
    queries: np.ndarray, keys: np.ndarray, temperature: float, target_start: int, exclude_start: int | None = None
) -> np.ndarray:
    """Per-row cross-entropy of the logits ``q . k / T`` of stacked batches: ``(b, r, D)`` queries, ``(b, m, D)`` keys.

    Query row ``j``'s target is key ``target_start + j``; with ``exclude_start``, key ``exclude_start + j``
    is left out of its softmax (a view's similarity to itself). Each row's loss is written as
    ``(max - target) + log1p(sum of exp(logit - max) over the other logits)``: two non-negative terms,
    so it never cancels and a confident row keeps all its digits. Query rows are taken in blocks of
    at most ``_BLOCK`` logits.
    """
    stacks, rows, _ = queries.shape
    out = np.empty((stacks, rows))
    keys_t = np.swapaxes(keys, 1, 2)
    block = max(1, _BLOCK // (stacks * keys.shape[1]))
    for start in range(0, rows, block):
        stop = min(rows, start + block)
        local, row = np.arange(stop - start), np.arange(start, stop)
        logits = np.matmul(queries[:, start:stop], keys_t) / temperature
        if exclude_start is not None:
            logits[:, local, exclude_start + row] = -np.inf
        target = logits[:, local, target_start + row]
        top = logits.max(axis=2)
        shifted = np.exp(logits - top[..., None])
        np.put_along_axis(shifted, logits.argmax(axis=2)[..., None], 0.0, axis=2)
        out[:, start:stop] = (top - target) + np.log1p(shifted.sum(axis=2))
    return out


def _in_batches(batch_size: int, loss_of_stacks: Callable[..., np.ndarray], *embeddings: np.ndarray) -> np.ndarray:
    """Per-row values of a batch loss: consecutive batches of ``batch_size`` rows, the last possibly smaller.

    Whole batches are stacked (``batches x rows x D``) so that small batches cost one matrix product per
    step, not one Python call per batch; a step holds about ``_BLOCK`` logits.
    """
    n = len(embeddings[0])
    per_step = max(1, _BLOCK // (batch_size * batch_size)) * batch_size
    out = np.empty(n)
    start = 0
    while start < n:
        stop = min(n, start + per_step)
        size = min(batch_size, stop - start)
        whole = start + (stop - start) // size * size
        stacks = [e[start:whole].reshape(-1, size, e.shape[1]) for e in embeddings]
        out[start:whole] = loss_of_stacks(*stacks).reshape(-1)
        start = whole
    return out


def _temperature(default: float) -> Param:
    return Param(
        "temperature",
        default,
        "divides the cosine similarities (the logit scale is 1 / temperature)",
        minimum=0.0,
        min_exclusive=True,
    )


_BATCH_SIZE = Param(
    "batch_size",
    256,
    "rows per batch, in file order (the last batch may be smaller); a batch's other rows are the negatives",
    kind="int",
    minimum=1,
)


@register_loss(
    "info_nce",
    task="representation",
    summary="InfoNCE: cross-entropy of each query against its own key among the keys of its batch.",
    formula="l_i = -log softmax_j(q_i . k_j / T)_i over the rows j of i's batch; q, k L2-normalised",
    follows="van den Oord et al. 2018",
    roles=(
        Role("query", "the row's query embedding", shape="vector"),
        Role(
            "positive",
            "the key that matches the query (same width); the batch's other keys are negatives",
            shape="vector",
        ),
    ),
    params=(_temperature(0.07), _BATCH_SIZE),
    aggregate=BATCH_MEAN,
    batch_param="batch_size",
    properties=Properties(
        convex="no (in the embeddings); convex in the logits",
        robust="yes: embeddings are normalised, a row costs at most 2 / temperature + log(batch_size)",
        expects="two embeddings of the same width per row (any length: they are normalised)",
        range="[0, 2 / temperature + log(batch_size)]; a batch of one row costs 0",
    ),
    when="Evaluating a contrastive retrieval or self-supervised model (CPC, MoCo, dense retrievers) with in-batch "
    "negatives: it is the training objective itself, so set batch_size and temperature as in training (the value "
    "grows like log(batch_size)). Rows are batched in file order: shuffle the file as the training loader did.",
)
def info_nce(query: np.ndarray, positive: np.ndarray, *, temperature: float, batch_size: int) -> np.ndarray:
    """Per row: ``-log softmax(q_i . K^T / T)_i``, ``K`` the batch's keys, all embeddings L2-normalised.

    Rows are cut into consecutive batches of ``batch_size`` (the last may be smaller); each row's value
    is its own cross-entropy, so the mean over rows is the mean of the batch losses weighted by size.
    Embeddings are divided by ``max(||v||, 1e-12)`` (torch ``F.normalize``). Domain: embeddings of the
    same width; ``temperature > 0``. Follows van den Oord et al. 2018 (the MoCo / CLIP one-direction
    form, ``F.cross_entropy(q @ k.T / T, arange(B))``). Example: q = k = [[1, 0], [0, 1]], T = 1: each row
    has logits (1, 0) with its own key first, so both cost log(1 + e^-1) = 0.313262; batch_size = 1 gives 0.
    """
    _same_width("info_nce", query=query, positive=positive)

    def loss(q: np.ndarray, k: np.ndarray) -> np.ndarray:
        return _cross_entropy(q, k, temperature, 0)

    return _in_batches(batch_size, loss, _normalize(query), _normalize(positive))


@register_loss(
    "nt_xent",
    task="representation",
    summary="NT-Xent (SimCLR): cross-entropy of each view against its pair among the other 2N - 1 views of a batch.",
    formula="l_k = -log softmax_{j != k}(z_k . z_j / T) at k's partner view, z the 2N L2-normalised views of a "
    "batch; a row's value is the mean of its two views' losses",
    follows="Chen et al. 2020",
    roles=(
        _ANCHOR,
        Role("positive", "the other augmented view of the same example (same width)", shape="vector"),
    ),
    params=(_temperature(0.5), _BATCH_SIZE),
    aggregate=BATCH_MEAN,
    batch_param="batch_size",
    properties=Properties(
        convex="no (in the embeddings); convex in the logits",
        robust="yes: embeddings are normalised, a view costs at most 2 / temperature + log(2 batch_size - 1)",
        expects="two embeddings (views) of the same width per row",
        range="[0, 2 / temperature + log(2 batch_size - 1)]; a batch of one row costs 0",
    ),
    when="Evaluating a SimCLR-style self-supervised encoder on pairs of augmented views: each view must find its "
    "partner among the 2N - 1 other views of the batch. Set batch_size and temperature as in training (the value "
    "grows like log(2 batch_size)); rows are batched in file order.",
)
def nt_xent(anchor: np.ndarray, positive: np.ndarray, *, temperature: float, batch_size: int) -> np.ndarray:
    """Per row: the mean of the NT-Xent losses of its two views, so the mean over rows is the batch loss.

    A batch of N rows has 2N views ``z = (a_1..a_N, p_1..p_N)``, L2-normalised (``max(||v||, 1e-12)``,
    torch ``F.normalize``); view ``k`` costs ``-log softmax(z_k . z_j / T)`` at its partner, the softmax
    taken over the 2N - 1 views ``j != k`` (self-similarity excluded). SimCLR averages the 2N view losses;
    lossctl gives row i ``(l(a_i) + l(p_i)) / 2``, whose mean over the batch is that average, and weights
    rows, not views. Domain: embeddings of the same width; ``temperature > 0``. Follows Chen et al. 2020.
    Example: a = [[1, 0], [0, 1]], p = a, T = 1: view a_1 sees (a_2, p_1, p_2) with logits (0, 1, 0), so
    every view and row costs log(e + 2) - 1 = 0.551445; batch_size = 1 gives 0.
    """
    _same_width("nt_xent", anchor=anchor, positive=positive)

    def loss(a: np.ndarray, p: np.ndarray) -> np.ndarray:
        rows = a.shape[1]
        views = np.concatenate([a, p], axis=1)
        return 0.5 * (_cross_entropy(a, views, temperature, rows, 0) + _cross_entropy(p, views, temperature, 0, rows))

    return _in_batches(batch_size, loss, _normalize(anchor), _normalize(positive))


@register_loss(
    "clip",
    task="representation",
    summary="CLIP loss: mean of the image-to-text and text-to-image cross-entropies of a batch's cosine similarities.",
    formula="S = (img . txt^T) / T over a batch (L2-normalised rows); l_i = (CE(S_i., i) + CE(S_.i, i)) / 2",
    follows="Radford et al. 2021",
    roles=(
        Role("anchor", "the image embedding", shape="vector"),
        Role("positive", "the embedding of the image's text (same width)", shape="vector"),
    ),
    params=(_temperature(0.07), _BATCH_SIZE),
    aggregate=BATCH_MEAN,
    batch_param="batch_size",
    properties=Properties(
        convex="no (in the embeddings); convex in the logits",
        robust="yes: embeddings are normalised, a row costs at most 2 / temperature + log(batch_size)",
        expects="an image and a text embedding of the same width per row",
        range="[0, 2 / temperature + log(batch_size)]; a batch of one row costs 0",
    ),
    when="Evaluating a dual encoder trained on matched pairs (CLIP, ALIGN, image-text or query-document retrieval): "
    "symmetric InfoNCE, each image must pick its text among the batch's texts and each text its image. Set "
    "temperature to 1 / the model's logit scale (0.01 for CLIP's final scale of 100) and batch_size as in training.",
    # open_clip src/open_clip/loss.py ClipLoss: (F.cross_entropy(logit_scale * img @ txt.T, labels)
    # + F.cross_entropy(logit_scale * txt @ img.T, labels)) / 2 on normalised features.
)
def clip(anchor: np.ndarray, positive: np.ndarray, *, temperature: float, batch_size: int) -> np.ndarray:
    """Per row: ``(CE(S[i, :], i) + CE(S[:, i], i)) / 2``, ``S = img . txt^T / T`` over the row's batch.

    Embeddings are L2-normalised (``max(||v||, 1e-12)``, torch ``F.normalize``); the logit scale is
    ``1 / temperature``. The batch loss is the mean of the image-to-text and text-to-image
    cross-entropies (open_clip ``ClipLoss``); giving row i the mean of its two directions makes the mean
    over rows equal that. Domain: embeddings of the same width; ``temperature > 0``. Follows Radford et al.
    2021. Example: img = txt = [[1, 0], [0, 1]], T = 1: S = I, every direction costs log(1 + e^-1) =
    0.313262, and so does every row.
    """
    _same_width("clip", anchor=anchor, positive=positive)

    def loss(image: np.ndarray, text: np.ndarray) -> np.ndarray:
        return 0.5 * (_cross_entropy(image, text, temperature, 0) + _cross_entropy(text, image, temperature, 0))

    return _in_batches(batch_size, loss, _normalize(anchor), _normalize(positive))
