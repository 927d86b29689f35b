"""How a merged statistics vector becomes the reported value (see :mod:`lossctl.stats` for the vector).

Kept free of NumPy imports so that ``import lossctl`` and ``lossctl --help`` stay light; the
finalizers index the vector and use :mod:`math`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Stats = Sequence[float]


@dataclass(frozen=True)
class Aggregate:
    """``finalize(stats, reduction, params)`` turns the merged ``[sum(w*c)..., sum(w), n]`` into the value.

    ``reductions`` are the ``--reduction`` values it supports (aggregate losses have only ``mean``);
    ``per_row`` says whether the value is a mean of per-row losses, so that per-sample values exist
    (the contributions' first column when the loss returns several, e.g. a loss and its class weight);
    ``notices(stats, params)`` reports what the user should know (rows ignored, empty samples...);
    ``doc`` says in words how rows are reduced (``lossctl describe``); ``many``, where given, is the same
    finalizer over many vectors at once: ``stats[k]`` is then an array (one value per vector), and so is the
    result (groups and bootstrap replicates are finalized by thousands); ``slopes``, where given, is the
    gradient of ``many`` (one entry per statistic, ``0`` where the value does not depend on it), for
    ``--ci``'s delta method (:mod:`lossctl.normal` otherwise differentiates numerically, to about 1e-10).
    """

    name: str
    finalize: Callable[[Stats, str, Mapping[str, Any]], float]
    reductions: tuple[str, ...] = ("mean", "sum")
    per_row: bool = True
    notices: Callable[[Stats, Mapping[str, Any]], list[str]] | None = None
    doc: str = ""
    many: Callable[[Any, str, Mapping[str, Any]], Any] | None = None
    slopes: Callable[[Any, str, Mapping[str, Any]], list[Any]] | None = None


def weighted_mean(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    """The weighted mean ``sum(w*l)/sum(w)`` of the first contribution (torch, sklearn); ``sum``: ``sum(w*l)``.

    The finalizer of every per-row loss, including those whose extra columns only feed notices or checks.
    """
    return float(stats[0]) if reduction == "sum" else float(stats[0] / stats[-2])


def weighted_mean_many(stats: Any, reduction: str, params: Mapping[str, Any]) -> Any:
    """:func:`weighted_mean` of many vectors (``stats[k]`` arrays)."""
    return stats[0] if reduction == "sum" else stats[0] / stats[-2]


def _weighted_mean_slopes(stats: Any, reduction: str, params: Mapping[str, Any]) -> list[Any]:
    """d/dS of :func:`weighted_mean_many`: ``1 / S_w`` and ``-S_1 / S_w^2`` (the sum: 1 and 0)."""
    if reduction == "sum":
        return [1.0] + [0.0] * (len(stats) - 1)
    return [1.0 / stats[-2]] + [0.0] * (len(stats) - 3) + [-stats[0] / stats[-2] ** 2, 0.0]


def _mean_over_rows(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    # Keras' "sum_over_batch_size": sum(w*l) divided by the number of rows, not the weight sum.
    return float(stats[0]) if reduction == "sum" else float(stats[0] / stats[-1])


def _root_mean(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    return math.sqrt(stats[0] / stats[-2])


def _ratio(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    # Two contributions: a loss total and the count it is averaged over (pairs, queries).
    return float(stats[0] / stats[1])


MEAN = Aggregate(
    "mean",
    weighted_mean,
    doc="weighted mean of the per-row losses, sum(w*l)/sum(w); --reduction sum gives sum(w*l)",
    many=weighted_mean_many,
    slopes=_weighted_mean_slopes,
)
MEAN_OVER_ROWS = Aggregate(
    "mean_over_rows",
    _mean_over_rows,
    doc="sum(w*l) / n, the number of rows (Keras)",
    many=lambda stats, reduction, params: stats[0] if reduction == "sum" else stats[0] / stats[-1],
    slopes=lambda stats, reduction, params: [1.0 if reduction == "sum" else 1.0 / stats[-1]] + [0.0] * (len(stats) - 1),
)
ROOT_MEAN = Aggregate(
    "root_mean",
    _root_mean,
    reductions=("mean",),
    per_row=False,
    doc="root of the weighted mean of the per-row contributions (an aggregate: mean only, no per-row values)",
    many=lambda stats, reduction, params: (stats[0] / stats[-2]) ** 0.5,
    slopes=lambda stats, reduction, params: [
        0.5 / ((stats[0] * stats[-2]) ** 0.5),  # d sqrt(S_1 / S_w) / dS_1
        *[0.0] * (len(stats) - 3),
        -0.5 * (stats[0] ** 0.5) * stats[-2] ** -1.5,
        0.0,
    ],
)
RATIO = Aggregate(
    "ratio",
    _ratio,
    reductions=("mean",),
    per_row=False,
    doc="the summed loss over the number of pairs or queries it averages (mean only, no per-row values)",
    many=lambda stats, reduction, params: stats[0] / stats[1],
    slopes=lambda stats, reduction, params: [1.0 / stats[1], -stats[0] / stats[1] ** 2] + [0.0] * (len(stats) - 2),
)
