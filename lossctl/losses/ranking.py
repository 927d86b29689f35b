"""Ranking losses: scores ``x`` (role ``pred``) judged by relevance or preference labels.

``margin_ranking`` is a per-row loss of a pair of scores. ``ranknet`` and ``listnet`` compare the
documents of a query, the rows sharing a ``qid`` value (grouped by exact value; the rows of a query
need not be contiguous), so they see a query's rows at once: the engine streams the input query by
query when each query's rows are contiguous, and holds it whole otherwise. They contribute two columns,
a loss total and the count it is averaged over (pairs, queries), split over the rows involved, and
report their ratio. A sample weight therefore weights a pair by the mean of its two documents' weights and
a query by the mean of its documents' weights: with one weight per query (constant over its rows, as
XGBoost's and LightGBM's group weights) that is the query's weight. Under ``--by``, a group's statistics are
the loss of its rows alone: when the groups split a query, the engine evaluates it again with each
``(query, group)`` as a query of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from lossctl.aggregates import RATIO, Aggregate, Stats, weight_sum
from lossctl.errors import InputError
from lossctl.losses._checks import plus_minus_labels
from lossctl.registry import Convention, Param, Properties, Role, Violation, register_loss

# Candidate (document, document) pairs formed at once by ranknet: 32 MiB per float64 array.
_PAIR_BLOCK = 1 << 22

_QID = Role("qid", "query id: the rows with the same value are the documents of one query")


def _pairs_ratio(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    """RATIO, once the input is known to hold a pair: each chunk (a few queries) may hold none. Sample weights
    that sum to zero are said as such, and a pair whose two documents weigh 0 does not count."""
    weight_sum(stats, summable=False)
    if stats[1] == 0:
        weighted = " and a sample weight > 0" if stats[-2] != stats[-1] else ""
        raise InputError(f"ranknet: no pair of documents with different relevance{weighted} in any query")
    return RATIO.finalize(stats, reduction, params)


PAIRS_RATIO = Aggregate(
    "ratio",
    _pairs_ratio,
    reductions=RATIO.reductions,
    per_row=False,
    no_rows=RATIO.no_rows,
    doc=RATIO.doc,
    many=RATIO.many,
    observations=(1, "with a pair"),
)


@register_loss(
    "margin_ranking",
    task="ranking",
    violation=Violation("target", 0.0),
    summary="Margin ranking loss: the preferred score of each pair should lead the other by a margin.",
    formula="l = max(0, -y (x1 - x2) + margin), y = 1 if x1 should rank higher, -1 if x2 should",
    follows="torch MarginRankingLoss",
    roles=(
        Role("pred", "the score x1 of the pair's first item"),
        Role("other", "the score x2 of the pair's second item"),
        Role("target", "1 when the first item should rank higher, -1 when the second should"),
    ),
    params=(Param("margin", 0.0, "the lead the preferred score must have to cost nothing"),),
    properties=Properties(
        convex="yes, in the scores",
        robust="partly: grows linearly with the ordering violation",
        expects="two scores per row (any real); labels 1 or -1",
        range="[0, inf)",
    ),
    when="Evaluating a scorer on explicit preference pairs (which of two items should rank higher): a hinge on the "
    "score difference. With margin 0 it only counts wrongly ordered pairs, by how much; a positive margin also "
    "charges correctly ordered pairs that are too close.",
    # torch Loss.cpp margin_ranking_loss: (-target * (input1 - input2) + margin).clamp_min_(0).
    conventions={
        "torch": Convention(
            "Same formula as lossctl (torch.nn.MarginRankingLoss, which does not check the labels and takes no "
            "sample weights)."
        ),
    },
)
def margin_ranking(pred: np.ndarray, other: np.ndarray, target: np.ndarray, *, margin: float) -> np.ndarray:
    """``max(0, -y (x1 - x2) + margin)`` per row.

    Domain: any real scores; labels 1 or -1 (torch gives other labels a meaning by accident; lossctl
    rejects them). Follows torch ``MarginRankingLoss``. Example: x1 = [2, 2], x2 = [1, 1], y = [1, -1]
    give rows [0, 1] and a mean of 0.5; with margin 2, rows [1, 3] and a mean of 2.
    """
    plus_minus_labels(target)
    return np.maximum(-target * (pred - other) + margin, 0.0)


def _softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` without overflow: ``max(z, 0) + log1p(exp(-|z|))``, exact for every z."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _queries(qid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows sorted by query (``order``), and each query's first position and size in that order."""
    order = np.argsort(qid, kind="stable")
    ids = qid[order]
    starts = np.concatenate([[0], np.flatnonzero(ids[1:] != ids[:-1]) + 1])
    sizes = np.diff(np.append(starts, len(ids)))
    return order, starts, sizes


def _same_query_pairs(starts: np.ndarray, sizes: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every ordered pair of positions (in query order) of the same query, in blocks of about ``_PAIR_BLOCK``."""
    partners = np.repeat(sizes, sizes)  # position r pairs with each of its query's positions
    first = np.repeat(starts, sizes)
    ends = np.cumsum(partners)
    position, n = 0, len(partners)
    while position < n:
        done = ends[position - 1] if position else 0
        stop = max(position + 1, int(np.searchsorted(ends, done + _PAIR_BLOCK, side="right")))
        counts = partners[position:stop]
        left = np.repeat(np.arange(position, stop), counts)
        right = first[left] + np.arange(len(left)) - np.repeat(np.cumsum(counts) - counts, counts)
        yield left, right
        position = stop


@register_loss(
    "ranknet",
    aliases=("pairwise_logistic",),
    task="ranking",
    summary="RankNet (pairwise logistic) loss: the logistic loss of the score difference, averaged over the "
    "differently relevant document pairs of all queries.",
    formula="mean over all pairs (i, j) with qid_i = qid_j and y_i > y_j of log(1 + exp(-(x_i - x_j)))",
    follows="Burges et al. 2005",
    roles=(
        Role("target", "the document's relevance (any real; only the order within a query counts)"),
        Role("pred", "the document's score"),
        _QID,
    ),
    aggregate=PAIRS_RATIO,
    whole_input=True,
    pairwise=True,
    properties=Properties(
        convex="yes, in the scores",
        robust="partly: grows linearly with a pair's ordering violation",
        expects="a score, a relevance and a query id per row",
        range="[0, inf); log 2 for a pair with equal scores",
    ),
    when="Evaluating a learning-to-rank model with the pairwise objective of RankNet / LambdaMART "
    "(XGBoost rank:pairwise): every pair of documents of a query with different relevance counts once, so "
    "queries with many documents weigh more. Use listnet to weigh queries equally.",
)
def ranknet(target: np.ndarray, pred: np.ndarray, qid: np.ndarray) -> np.ndarray:
    """Two columns per row: half the losses and half the count of the pairs the row is in; the value is their ratio.

    The pairs are every ``(i, j)`` of the same query with ``y_i > y_j`` (ties in relevance make no
    pair), pooled across queries, each costing ``log(1 + exp(-(x_i - x_j)))`` computed as a softplus
    (exact for scores of +-1e4). A query with one document, or all its relevances tied, adds no pair;
    an input without any pair is an input error. A pair is weighted by the mean of its two documents'
    sample weights. Follows Burges et al. 2005. Example: one query, x = [2, 1, 0], y = [2, 1, 1]: pairs
    (0, 1) and (0, 2) cost log(1 + e^-1) and log(1 + e^-2), a mean of 0.220095.
    """
    n = len(pred)
    order, starts, sizes = _queries(qid)
    x, y = pred[order], target[order]
    losses = np.zeros(n)
    pairs = np.zeros(n)
    for left, right in _same_query_pairs(starts, sizes):
        better = y[left] > y[right]
        i, j = left[better], right[better]
        half = 0.5 * _softplus(x[j] - x[i])
        losses += np.bincount(i, weights=half, minlength=n) + np.bincount(j, weights=half, minlength=n)
        pairs += 0.5 * (np.bincount(i, minlength=n) + np.bincount(j, minlength=n))
    contributions = np.empty((n, 2))
    contributions[order, 0] = losses
    contributions[order, 1] = pairs
    return contributions


@register_loss(
    "listnet",
    task="ranking",
    summary="ListNet loss: per query, the cross-entropy between the softmax of the relevances and of the scores.",
    formula="per query: -sum_i softmax(y)_i log softmax(x)_i over its documents; mean over queries",
    follows="Cao et al. 2007",
    roles=(
        Role("target", "the document's relevance (any real; softmax(y) is the target distribution)"),
        Role("pred", "the document's score"),
        _QID,
    ),
    aggregate=RATIO,
    whole_input=True,
    properties=Properties(
        convex="yes, in the scores",
        robust="partly: grows linearly with the scores' errors",
        expects="a score, a relevance and a query id per row",
        range="[entropy of softmax(y), inf) per query; a query with one document costs 0",
    ),
    when="Evaluating a learning-to-rank model with the listwise top-one objective of ListNet: each query counts "
    "once, whatever its number of documents (unlike ranknet), and the whole list's score distribution is compared "
    "with the relevances'. Only score differences within a query matter.",
)
def listnet(target: np.ndarray, pred: np.ndarray, qid: np.ndarray) -> np.ndarray:
    """Two columns per row: its query's loss and 1, each divided by the query's size; the value is their ratio.

    A query's loss is ``-sum_i softmax(y)_i log softmax(x)_i`` over its documents, computed as
    ``sum_i softmax(y)_i ((max x - x_i) + log sum_j exp(x_j - max x))``: non-negative terms, exact for
    scores of +-1e4. Every query counts once, one with a single document too (it costs 0). A query is
    weighted by the mean of its documents' sample weights. Follows Cao et al. 2007 (top-one
    probabilities). Example: one query, x = [0, 0], y = [0, 0] costs log 2; x = [1, 0], y = [1, 0] costs
    -(s log s + (1 - s) log(1 - s)) with s = sigmoid(1), 0.582203.
    """
    n = len(pred)
    order, starts, sizes = _queries(qid)
    x, y = pred[order], target[order]
    relevance = np.exp(y - np.repeat(np.maximum.reduceat(y, starts), sizes))
    relevance /= np.repeat(np.add.reduceat(relevance, starts), sizes)
    below_top = np.repeat(np.maximum.reduceat(x, starts), sizes) - x
    log_partition = np.log(np.add.reduceat(np.exp(-below_top), starts))
    query_loss = np.add.reduceat(relevance * (below_top + np.repeat(log_partition, sizes)), starts)
    contributions = np.empty((n, 2))
    contributions[order, 0] = np.repeat(query_loss / sizes, sizes)
    contributions[order, 1] = np.repeat(1.0 / sizes, sizes)
    return contributions
