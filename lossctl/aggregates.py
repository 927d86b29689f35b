"""How a merged statistics vector becomes the reported value (see :mod:`lossctl.stats` for the vector).

Kept free of NumPy imports so that ``import lossctl`` and ``lossctl --help`` stay light; the
finalizers index the vector and use :mod:`math`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from lossctl.errors import UsageError, ZeroWeightSum

if TYPE_CHECKING:
    import numpy as np

# A merged statistics vector: a NumPy array in the engine, any sequence of floats to the finalizers.
Stats: TypeAlias = "Sequence[float] | np.ndarray"


@dataclass(frozen=True)
class Notice:
    """What a loss counted, for a notice: ``amount`` (``3 rows``, ``rows carrying 2.5 of the weight``) then ``what``
    happened to it (``had a probability within eps ... clipped``); ``str()`` is the sentence. Models whose notices
    differ only in the amount share one line (:func:`lossctl.finalize.loss_notices`)."""

    amount: str
    what: str

    def __str__(self) -> str:
        return f"{self.amount} {self.what}"


@dataclass(frozen=True)
class Aggregate:
    """``finalize(stats, reduction, params)`` turns the merged ``[sum(w*c)..., sum(w), n]`` into the value.

    ``reductions`` are the ``--reduction`` values it supports (aggregate losses have only ``mean``);
    ``per_row`` says whether the value is a mean of per-row losses, so that per-sample values exist
    (the contributions' first column when the loss returns several, e.g. a loss and its class weight);
    ``rows(contributions, params)``, where given, makes them of a binding's contributions, or is ``None`` where that
    binding has none (segmentation: a row of vector columns is a sample, ``[loss, nothing_to_score]``, while scalar
    columns give pixel sums, the whole input one sample; ``class_balanced``: known only with ``counts``); ``no_rows``
    says why a binding has none, after the loss's label (``--per-sample``'s refusal and notice, ``per_sample()``);
    ``notices(stats, params)`` reports what the user should know (rows ignored, empty samples...), as
    :class:`Notice`\\ s;
    ``doc`` says in words how rows are reduced (``lossctl describe``); ``many``, where given, is the same
    finalizer over many vectors at once: ``stats[k]`` is then an array (one value per vector), and so is the
    result (groups and bootstrap replicates are finalized by thousands); ``slopes``, where given, is the
    gradient of ``many`` (one entry per statistic, ``0`` where the value does not depend on it), for
    ``--ci``'s delta method (:mod:`lossctl.normal` otherwise differentiates numerically, to about 1e-10).
    ``finalize_part(part, whole, reduction, params)``, where given, finalizes a part of the input (a ``--by``
    group) with what the whole input fixes (class weights from the whole input's class counts), so that the parts
    recombine into the whole's value. ``seen(arrays, rows)`` and ``across(before, later)``, where given, refuse
    rows that a chunk alone does not rule out (labels 0 and -1 in different chunks): ``seen`` tells what a chunk's
    rows show (its role ``arrays``; ``rows``, their numbers in the input), read from the rows so that rows of
    weight 0 count too; ``across`` merges what earlier rows showed (``None`` before the first chunk) with what later
    rows show, a chunk's or a Dask part's, or raises the ``DomainError`` one chunk holding them all would raise,
    at its row in the input. The engine calls them on each chunk before merging its statistics, and the Dask
    client on each part, in input order. Once a chunk is refused, the engine checks the later chunks' rows inside
    :func:`earlier_rows`, where the loss's own check reads what the earlier rows showed (:func:`earlier_seen`), so
    that it refuses the rows one chunk holding them all would refuse. ``counted_parts(stats, params)``, where
    given, is what the notices count in the parts of the input (``--by`` groups) that are samples of their own
    (segmentation on scalar columns: each group one sample, not counted in the whole input's notice): over the
    groups' vectors (``stats[k]`` arrays, as ``many``), a mask of the groups counted and what happened to them (a
    :class:`Notice`'s ``what``), or ``None`` where the parts are not samples. ``every_row``: the value divides by
    the number of rows, not the weight sum (Keras' ``sum_over_batch_size``), so a row of weight 0 is an observation
    of 0 for the intervals (:mod:`lossctl.normal`), not a row left out. ``unweighted``, where given, says why the
    value cannot take sample weights (the library weighs what the weighted sums ``sum(w*c)`` cannot give): a run
    with weights is refused (:meth:`~lossctl.registry.LossSpec.aggregate_reducing`), whatever their values.
    ``observations``, where given, is ``(k, words)``: the value's observations are the units (queries) whose
    statistic ``k`` is not 0, a ratio's denominator (ranknet's pairs), not every unit of nonzero weight, and
    ``words`` say which they are (``with a pair``): fewer than 2 of them give no interval (:mod:`lossctl.normal`).
    """

    name: str
    finalize: Callable[[Stats, str, Mapping[str, Any]], float]
    reductions: tuple[str, ...] = ("mean", "sum")
    per_row: bool = True
    rows: Callable[[Any, Mapping[str, Any]], Any] | None = None
    no_rows: str = "is an aggregate of the whole input, with no per-row values"
    notices: Callable[[Stats, Mapping[str, Any]], list[Notice]] | None = None
    doc: str = ""
    finalize_part: Callable[[Stats, Stats, str, Mapping[str, Any]], float] | None = None
    seen: Callable[[Mapping[str, Any], Any], Any] | None = None
    across: Callable[[Any, Any], Any] | None = None
    counted_parts: Callable[[Any, Mapping[str, Any]], tuple[Any, str] | None] | None = None

    many: Callable[[Any, str, Mapping[str, Any]], Any] | None = None
    slopes: Callable[[Any, str, Mapping[str, Any]], list[Any]] | None = None
    every_row: bool = False
    unweighted: str | None = None
    observations: tuple[int, str] | None = None

    def value_of_part(self, part: Stats, whole: Stats, reduction: str, params: Mapping[str, Any]) -> float:
        """The value of a part of the input: :attr:`finalize_part`, or the part finalized on its own."""
        if self.finalize_part is None:
            return self.finalize(part, reduction, params)
        return self.finalize_part(part, whole, reduction, params)


_earlier: ContextVar[Any] = ContextVar("lossctl_earlier_rows", default=None)


@contextmanager
def earlier_rows(seen: Any) -> Iterator[None]:
    """Check rows knowing what the rows before them showed the loss, ``seen`` (its :attr:`Aggregate.seen`, merged
    by :attr:`Aggregate.across` over them): the engine's check of a chunk after a refusal."""
    token = _earlier.set(seen)
    try:
        yield
    finally:
        _earlier.reset(token)


def earlier_seen() -> Any:
    """What the rows before the checked ones showed the loss, inside :func:`earlier_rows`; ``None`` otherwise (the
    rows checked are all there is, as in the Python API, or the first chunk)."""
    return _earlier.get()


def counted_rows(stats: Stats, column: int = 1) -> str | None:
    """The rows counted in a loss's contribution ``column`` (a 0/1 flag per row; the second by default), in words
    for a notice: ``"3 rows"``, or the weight they carry when there are sample weights; ``None`` when there is no
    such column (e.g. a convention's function without it) or nothing was counted."""
    if len(stats) < column + 3 or stats[column] == 0:
        return None
    if stats[-2] != stats[-1]:
        return f"rows carrying {stats[column]:g} of the weight"
    count = int(stats[column])
    return f"{count} row{'s' if count != 1 else ''}"


def weight_sum(stats: Stats, summable: bool = True) -> float:
    """``sum(w)`` where it is a denominator: weights that sum to zero leave the weighted mean undefined
    (an input error), while a sum or a mean over the row count is 0 (docs/losses.md, "Weights that sum to zero").
    ``summable``: the loss has a sum reduction, which the message offers."""
    if stats[-2] <= 0:
        raise ZeroWeightSum(
            "the sample weights sum to zero, so the weighted mean sum(w*l)/sum(w) is undefined", summable
        )
    return float(stats[-2])


def weighted_mean(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    """The weighted mean ``sum(w*l)/sum(w)`` of the first contribution (torch, sklearn); ``sum``: ``sum(w*l)``.

    The finalizer of every per-row loss, including those whose extra columns only feed notices or checks.
    """
    return float(stats[0]) if reduction == "sum" else float(stats[0]) / weight_sum(stats)


def weighted_mean_only(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    """:func:`weighted_mean` for a loss that has only the mean reduction (the batch losses): weights that sum to
    zero are an input error whose message offers no sum reduction, which such a loss refuses."""
    return float(stats[0]) / weight_sum(stats, summable=False)


def weighted_mean_many(stats: Any, reduction: str, params: Mapping[str, Any]) -> Any:
    """:func:`weighted_mean` of many vectors (``stats[k]`` arrays)."""
    return stats[0] if reduction == "sum" else stats[0] / stats[-2]


def _weighted_mean_slopes(stats: Any, reduction: str, params: Mapping[str, Any]) -> list[Any]:
    """d/dS of :func:`weighted_mean_many`: ``1 / S_w`` and ``-S_1 / S_w^2`` (the sum: 1 and 0), the latter taken as
    ``-(S_1 / S_w) / S_w``: ``S_w^2`` overflows from weights summing to 1e155 on (a slope of 0, a zero-width
    interval)."""
    if reduction == "sum":
        return [1.0] + [0.0] * (len(stats) - 1)
    return [1.0 / stats[-2]] + [0.0] * (len(stats) - 3) + [-(stats[0] / stats[-2]) / stats[-2], 0.0]


def _mean_over_rows(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    # Keras' "sum_over_batch_size": sum(w*l) divided by the number of rows, not the weight sum.
    return float(stats[0]) if reduction == "sum" else float(stats[0] / stats[-1])


def _root_mean(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    return math.sqrt(stats[0] / weight_sum(stats, summable=False))


def _ratio(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
    # Two contributions: a loss total and the count it is averaged over (pairs, queries), both weighted: weights
    # that sum to zero leave the count 0, an undefined mean (0/0 would read as an overflow).
    weight_sum(stats, summable=False)
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
    every_row=True,
)
ROOT_MEAN = Aggregate(
    "root_mean",
    _root_mean,
    reductions=("mean",),
    per_row=False,
    no_rows="is the root of a mean over the whole input, with no per-row values (the loss under the root, mse for "
    "rmse and msle for rmsle, has them)",
    doc="root of the weighted mean of the per-row contributions (an aggregate: mean only, no per-row values)",
    many=lambda stats, reduction, params: (stats[0] / stats[-2]) ** 0.5,
    slopes=lambda stats, reduction, params: [  # as the mean's, without a product beyond float64 (S_1 S_w, S_w^1.5)
        0.5 / (stats[0] ** 0.5 * stats[-2] ** 0.5),  # d sqrt(S_1 / S_w) / dS_1
        *[0.0] * (len(stats) - 3),
        -0.5 * (stats[0] / stats[-2]) ** 0.5 / stats[-2],
        0.0,
    ],
)
RATIO = Aggregate(
    "ratio",
    _ratio,
    reductions=("mean",),
    per_row=False,
    no_rows="averages over the pairs or queries it scores, not over rows, with no per-row values",
    doc="the summed loss over the number of pairs or queries it averages (mean only, no per-row values)",
    many=lambda stats, reduction, params: stats[0] / stats[1],
    slopes=lambda stats, reduction, params: (
        [1.0 / stats[1], -(stats[0] / stats[1]) / stats[1]] + [0.0] * (len(stats) - 2)
    ),
)


def split_stats(stats: Stats) -> list[list[float]]:
    """A multi-output statistics vector ``[s_0, s_1..s_K, sum(w), n]`` (column 0 pooled, then one column per
    output, see :mod:`lossctl.outputs`) as K single-output vectors ``[s_k, sum(w), n]``."""
    return [[float(stats[k]), float(stats[-2]), float(stats[-1])] for k in range(1, len(stats) - 2)]


def multioutput(base: Aggregate) -> Aggregate:
    """``base`` for a loss with scikit-learn's ``multioutput`` parameter.

    Unset, the value is ``base`` over the pooled column (the mean over all elements); ``uniform`` is the mean
    of ``base`` over each output (sklearn's ``uniform_average``: for rmse the mean of the per-output roots);
    ``raw`` results are split into one result per output before they are finalized, each by ``base``.
    """

    def finalize(stats: Stats, reduction: str, params: Mapping[str, Any]) -> float:
        mode = params.get("multioutput")
        if mode == "uniform":
            values = [base.finalize(part, reduction, params) for part in split_stats(stats)]
            return math.fsum(values) / len(values)
        if mode == "raw" and len(stats) != 3:
            raise UsageError(
                "multioutput=raw gives one value per output, and this takes one value per loss "
                "(compare, a composite, a check): use multioutput=uniform"
            )
        return base.finalize(stats, reduction, params)

    def outputs(stats: Any) -> list[list[Any]]:
        """The per-output vectors of ``stats`` (vectors or, for ``many``, arrays of them by statistic)."""
        return [[stats[k], stats[-2], stats[-1]] for k in range(1, len(stats) - 2)]

    def many(stats: Any, reduction: str, params: Mapping[str, Any]) -> Any:
        assert base.many is not None
        if params.get("multioutput") == "uniform":
            return sum(base.many(part, reduction, params) for part in outputs(stats)) / (len(stats) - 3)
        return base.many(stats, reduction, params)

    def slopes(stats: Any, reduction: str, params: Mapping[str, Any]) -> list[Any]:
        """The gradient: ``base``'s, or for ``uniform`` the mean of each output's, placed at its statistics."""
        assert base.slopes is not None
        if params.get("multioutput") != "uniform":
            return base.slopes(stats, reduction, params)
        width, k = len(stats), len(stats) - 3
        total: list[Any] = [0.0] * width
        for position, part in enumerate(outputs(stats), start=1):
            own, weight, rows = base.slopes(part, reduction, params)
            total[position] = total[position] + own / k
            total[-2] = total[-2] + weight / k
            total[-1] = total[-1] + rows / k
        return total

    return Aggregate(
        base.name,
        finalize,
        base.reductions,
        base.per_row,
        notices=base.notices,
        no_rows=base.no_rows,
        doc=base.doc + "; multioutput=uniform: the mean of the per-output values, raw: one result per output",
        many=many if base.many is not None else None,
        slopes=slopes if base.slopes is not None else None,
    )
