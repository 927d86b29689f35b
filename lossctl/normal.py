"""``--ci LEVEL`` without ``--bootstrap``: normal-approximation intervals by the delta method.

Every reported value is a function ``f(S)`` of a sum ``S = sum_i x_i`` of per-row statistics vectors
(:mod:`lossctl.stats`: ``x_i = [w_i c_i1, ..., w_i c_im, w_i, 1]``). With rows independent, ``S`` is
approximately normal with covariance ``n/(n-1) * sum_i (x_i - mean)(x_i - mean)^T``, so ``f(S)`` is
approximately normal with variance ``g^T Cov(S) g``, ``g`` the gradient of ``f`` at ``S`` (the delta
method; Casella & Berger, Statistical Inference, 5.5.4). For a weighted mean ``S_1 / S_w`` this is the
usual standard error of a ratio estimator, and for an unweighted mean ``s / sqrt(n)``. Aggregates (``rmse``'s
root, ratios, whole-input Dice, class-balanced weights) and composites (their gradients add up) are handled
the same way: ``g`` is taken numerically from the aggregate's own finalizer, so any aggregate qualifies.

:class:`Moments` keeps the centered cross-products of the stacked statistics, merged across chunks by Chan,
Golub & LeVeque's pairwise update (1979): no catastrophic cancellation, whatever the data's offset.
In a run with a ranking loss the observations are queries, not rows: ``x_i`` is a query's summed statistics
(:mod:`lossctl.units`).
:class:`GroupMoments` does the same per group.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from lossctl.errors import option
from lossctl.report import group_text

# Relative step of the central differences that give the finalizer's gradient (:func:`gradients`).
_STEP = 5e-4
# 2^-511: the square of a smaller number is below float64's smallest normal number (2^-1022), rounded or 0.
_SQUARES_UNDERFLOW = 2.0**-511
# A variance within this fraction of the size of its terms, |g|^T |Cov| |g|, is rounding error: that of a value whose
# varying statistics move together (a weighted mean of equal losses, a query ratio, compare's delta of one model
# against itself), whose true variance is 0; its square root (~1e-8 relative) would make up an interval's width.
_ROUNDING = 16 * np.finfo(float).eps
# The output's index in a label under multioutput=raw: the loss's label, then [k] (then, in compare, ' delta').
_OUTPUT_INDEX = re.compile(r"\[\d+\]")


def chunk_moments(
    columns: list[np.ndarray], weight: np.ndarray | None, sums: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray]:
    """``(n, mean, m2)`` of a chunk's varying statistics: count, column means and centered cross-products
    of ``w * c`` for each column ``c`` (and of ``w`` itself when weighted); ``sums`` are their column sums,
    known already (:func:`~lossctl.stats.weighted_sums`).

    Each centered column is written once, into a column-major matrix; the cross-products are the dot
    products of its columns (0.7 ms for three columns of 262,144 rows, against 1.3-2 ms for ``X.T @ X``).
    """
    rows = len(columns[0])
    values = [*columns, weight] if weight is not None else columns
    mean = sums / rows
    centered = np.empty((rows, len(values)), order="F")
    for k, column in enumerate(values):
        if weight is not None and k < len(columns):
            np.multiply(column, weight, out=centered[:, k])
            centered[:, k] -= mean[k]
        else:
            np.subtract(column, mean[k], out=centered[:, k])
    m2 = np.empty((len(values), len(values)))
    for a in range(len(values)):
        for b in range(a, len(values)):
            m2[a, b] = m2[b, a] = np.dot(centered[:, a], centered[:, b])
    return rows, mean, m2


def run_moments(
    values: np.ndarray, starts: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`chunk_moments` of each run of rows sorted by group (run ``i`` starts at ``starts[i]``, group
    ``codes[i]``): ``(codes, n, means, m2s)``."""
    sizes = np.diff(np.append(starts, len(values)))
    mean = np.add.reduceat(values, starts, axis=0) / sizes[:, None]
    centered = values - np.repeat(mean, sizes, axis=0)
    k = values.shape[1]
    m2 = np.empty((len(codes), k, k))
    for a in range(k):
        for b in range(a, k):
            m2[:, a, b] = m2[:, b, a] = np.add.reduceat(centered[:, a] * centered[:, b], starts)
    return codes, sizes, mean, m2


def group_moments(
    columns: list[np.ndarray],
    codes: np.ndarray,
    counts: np.ndarray,
    sums: np.ndarray,
    summed: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`run_moments` of rows in any order, each of group ``codes[i]``: ``(groups, n, means, m2s)`` of the
    groups present. ``counts`` and ``sums`` (groups x columns) are each group's rows and column sums, known
    already; ``summed(values)`` sums ``values`` per group as those sums were taken, so no sort is needed."""
    present = np.flatnonzero(counts)
    mean = np.zeros_like(sums)
    mean[present] = sums[present] / counts[present, None]
    centered = [column - mean[codes, k] for k, column in enumerate(columns)]
    k = len(columns)
    m2 = np.empty((len(present), k, k))
    for a in range(k):
        for b in range(a, k):
            m2[:, a, b] = m2[:, b, a] = summed(centered[a] * centered[b])[present]
    return present, counts[present].astype(np.int64), mean[present], m2


class Moments:
    """Row count, column means and centered cross-products ``sum (x - mean)(x - mean)^T`` of ``columns``
    of the stacked statistics (the others are constant per row: their variance is 0), merged chunk by chunk."""

    def __init__(self, width: int, columns: np.ndarray) -> None:
        self.width = width
        self.columns = columns
        self.n = 0
        self.mean = np.zeros(len(columns))
        self.m2 = np.zeros((len(columns), len(columns)))

    def merge(self, n: int, mean: np.ndarray, m2: np.ndarray) -> None:
        """Chan, Golub & LeVeque's update with another set's ``(n, mean, m2)``."""
        total = self.n + n
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is inf here, no interval later
            delta = mean - self.mean
            self.m2 += m2 + np.outer(delta, delta) * (self.n * n / total)
            self.mean += delta * (n / total)
        self.n = total

    def covariance(self, every_row: bool = False) -> np.ndarray | None:
        """``Cov(S)`` over the full stacked width, or ``None`` below 2 rows (with a nonzero weight, unless
        ``every_row``: see :func:`covariance`)."""
        return covariance(self.n, self.mean, self.m2, self.width, self.columns, every_row)

    def observed_once(self, counted: int) -> bool:
        """Whether one unit alone has the stacked statistic ``counted`` nonzero (:func:`one_observed`)."""
        return one_observed(self.n, self.mean, self.m2, self.columns, counted)


def covariance(
    n: int, mean: np.ndarray, m2: np.ndarray, width: int, columns: np.ndarray, every_row: bool = False
) -> np.ndarray | None:
    """``n/(n-1) * m2`` placed at ``columns`` of a ``width x width`` matrix (zeros elsewhere); ``None`` below 2 rows,
    or when one row alone has a nonzero weight: the others add nothing to a weighted mean, and the one row's loss
    is the value, whose variance then came out 0 (a zero-width interval of one observation). With ``every_row``
    (a value over every row, :attr:`~lossctl.aggregates.Aggregate.every_row`) the rows of weight 0 are
    observations of 0, and one nonzero weight among them has an interval.

    A statistic whose values are all below :data:`_SQUARES_UNDERFLOW` in size (sample weights of 1e-300, squared
    residuals of 1e-200) has squares below float64's normal range: its cross-products came out 0, hence a
    zero-width interval. Its row and column are NaN instead, as an overflow's are: no interval, with a notice."""
    if n < 2 or (not every_row and one_observed(n, mean, m2, columns, width - 2)):
        return None
    full = np.zeros((width, width))
    with np.errstate(over="ignore", invalid="ignore"):
        full[np.ix_(columns, columns)] = m2 * (n / (n - 1))
        size = np.maximum(np.abs(mean), np.sqrt(np.abs(np.diagonal(m2)) / n))
    tiny = columns[(size > 0) & (size < _SQUARES_UNDERFLOW)]
    full[tiny, :] = full[:, tiny] = np.nan
    return full


def one_observed(n: int, mean: np.ndarray, m2: np.ndarray, columns: np.ndarray, counted: int) -> bool:
    """Whether the stacked statistic ``counted`` (``w``, nonnegative) has one nonzero value: then ``(sum w)^2 =
    sum w^2`` (Kish's effective sample size is 1), with two or more it is larger. ``w`` is the weight (the
    stacked column before the row count, which varies only when weighted), or a ratio's denominator
    (:attr:`~lossctl.aggregates.Aggregate.observations`: ranknet's one query with a pair among queries without).

    With ``sum w = n mean`` and ``sum w^2 = m2 + n mean^2``, that is ``n <= 1 + m2 / (n mean^2)``: a ratio of the
    weights' scale, so weights of 1e300 do not overflow (``mean ** 2`` did: an internal error) and weights whose
    ``m2`` overflowed are left to :func:`interval`'s overflow notice."""
    at = np.flatnonzero(columns == counted)
    if not at.size:
        return False
    k = int(at[0])
    weight, spread = float(mean[k]), float(m2[k, k])
    if not (weight > 0 and math.isfinite(spread)):
        return False
    return n <= (spread / n / weight / weight + 1) * (1 + 1e-12)


class GroupMoments:
    """:class:`Moments` per group: arrays over group codes of counts, means and cross-products."""

    def __init__(self, width: int, columns: np.ndarray) -> None:
        self.width = width
        self.columns = columns
        k = len(columns)
        self.n = np.zeros(0, dtype=np.int64)
        self.mean = np.zeros((0, k))
        self.m2 = np.zeros((0, k, k))

    def merge(self, codes: np.ndarray, n: np.ndarray, mean: np.ndarray, m2: np.ndarray) -> None:
        """:meth:`Moments.merge` for each group ``codes[i]`` (distinct) with ``(n[i], mean[i], m2[i])``."""
        if len(codes) == 0:
            return
        self._reserve(int(codes.max()) + 1)
        before = self.n[codes]
        total = before + n
        with np.errstate(over="ignore", invalid="ignore"):  # as in Moments.merge
            delta = mean - self.mean[codes]
            self.m2[codes] += m2 + delta[:, :, None] * delta[:, None, :] * (before * n / total)[:, None, None]
            self.mean[codes] += delta * (n / total)[:, None]
        self.n[codes] = total

    def _reserve(self, groups: int) -> None:
        if groups > len(self.n):
            size = max(groups, 2 * len(self.n))
            k = len(self.columns)
            self.n = np.concatenate([self.n, np.zeros(size - len(self.n), dtype=np.int64)])
            self.mean = np.concatenate([self.mean, np.zeros((size - len(self.mean), k))])
            self.m2 = np.concatenate([self.m2, np.zeros((size - len(self.m2), k, k))])

    def covariance(self, group: int, every_row: bool = False) -> np.ndarray | None:
        if group >= len(self.n):
            return None
        return covariance(int(self.n[group]), self.mean[group], self.m2[group], self.width, self.columns, every_row)

    def observed_once(self, group: int, counted: int) -> bool:
        """:meth:`Moments.observed_once` of ``group``."""
        if group >= len(self.n):
            return False
        return one_observed(int(self.n[group]), self.mean[group], self.m2[group], self.columns, counted)


def gradients(finalize: Callable[[np.ndarray], np.ndarray], stats: np.ndarray) -> np.ndarray:
    """The gradient of ``finalize`` at each row of ``stats`` (K x width) by five-point central differences:
    ``f'(x) = (f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h)) / 12h``, of error ``O(h^4)`` (K x width).

    ``h`` is :data:`_STEP` relative to the entry, and made exactly representable (``(x + h) - x``). The error
    of the differences is about ``eps / h`` from rounding plus ``h^4`` from truncation, about 1e-13 relative
    here: a two-point difference with ``h`` = 1e-6 gave gradients, hence intervals, that moved by 1e-10
    relative with the last bits of the sums, i.e. with ``--chunk-rows``.

    ``finalize`` maps K vectors to K values, NaN where it is not defined. The last entry of a vector is the
    row count, which has no variance: no step is taken there. An entry that is not finite (a root at 0, a step
    leaving the finalizer's domain) comes back NaN; :func:`interval` needs it only if its statistic varies.
    """
    grads = np.full(stats.shape, np.nan)
    grads[:, -1] = 0.0
    scale = np.abs(stats[:, :-1]).max(axis=1, initial=0.0)
    for k in range(stats.shape[1] - 1):
        step = _STEP * np.maximum(np.maximum(np.abs(stats[:, k]), 1e-8 * scale), 1e-300)
        step = (stats[:, k] + step) - stats[:, k]
        at = []
        for multiple in (-2.0, -1.0, 1.0, 2.0):
            moved = stats.copy()
            moved[:, k] += multiple * step
            at.append(finalize(moved))
        grads[:, k] = (at[0] - 8 * at[1] + 8 * at[2] - at[3]) / (12 * step)
    grads[~np.isfinite(grads)] = np.nan
    return grads


def interval(value: float, grad: np.ndarray | None, cov: np.ndarray | None, level: float) -> dict[str, float] | None:
    """``value -+ z sqrt(g^T Cov g)``, z the standard normal quantile at ``(1 + level) / 2``; ``None`` when the
    gradient or the covariance is missing, or the variance is not finite. z is taken as minus the quantile at
    ``(1 - level) / 2``, which stays above 0 for every level below 1, where ``(1 + level) / 2`` rounds to 1 for a
    level within 1.1e-16 of 1 (``--ci 0.9999999999999999``, an internal error from ``inv_cdf(1.0)``).

    Only the statistics that vary over the rows enter ``g^T Cov g``: one that is the same in every row does not
    move the value, whatever its derivative (``rmse`` of residuals all 0, the root's infinite slope at 0: [0, 0],
    as every bootstrap replicate, not "no interval"). A variance within rounding of its terms (:data:`_ROUNDING`) is 0:
    that of statistics that vary together, so the value does not (a weighted mean of equal losses), is [v, v] too."""
    if grad is None or cov is None:
        return None
    # NaN (an overflow or underflow: covariance) varies; a statistic the value does not depend on (another
    # loss's, stacked beside) is left out, so that its NaN does not take this interval too
    varying = np.flatnonzero((cov != 0).any(axis=1) & (grad != 0))
    grad, cov = grad[varying], cov[np.ix_(varying, varying)]
    if not np.isfinite(grad).all():
        return None
    from statistics import NormalDist  # only for --ci: it imports fractions and decimal

    with np.errstate(over="ignore", invalid="ignore"):
        variance = max(float(grad @ cov @ grad), 0.0)
        terms = float(np.abs(grad) @ np.abs(cov) @ np.abs(grad))
    if not math.isfinite(variance):  # losses or weights whose squares overflow or underflow (see covariance)
        return None
    if variance <= _ROUNDING * terms:  # (terms that overflow leave the variance as it is)
        variance = 0.0
    half = -NormalDist().inv_cdf((1 - level) / 2) * math.sqrt(variance)
    return {"low": value - half, "high": value + half, "level": level}


class NoInterval:
    """Records whose interval (normal-approximation or bootstrap) cannot be computed, and the notices that say why."""

    def __init__(self, weighted: bool = False, unit: str = "rows") -> None:
        self._missing: dict[tuple[str, str], list[dict[str, Any] | None]] = {}
        # The records whose bootstrap interval left replicates out: (group, replicates left out, replicates)
        self._partial: dict[tuple[str, str], list[tuple[dict[str, Any] | None, int, int]]] = {}
        self.weighted = weighted
        self.unit = unit  # what an interval resamples: rows, or queries with a ranking loss (lossctl.units)

    def _rows(self, every_row: bool, observed: str | None = None) -> str:
        """The observations a record's interval counts: with weights, those of weight 0 do not, unless
        ``every_row``; those ``observed`` where the value says which count (``with a pair``,
        :attr:`~lossctl.aggregates.Aggregate.observations`)."""
        if observed is not None and not every_row:
            return f"{self.unit} {observed}"
        return f"{self.unit} with a nonzero weight" if self.weighted and not every_row else self.unit

    def check(
        self,
        label: str,
        group: dict[str, Any] | None,
        value: float,
        grad: np.ndarray | None,
        cov: np.ndarray | None,
        level: float,
        every_row: bool = False,
        observed: str | None = None,
    ) -> dict[str, float] | None:
        """The interval of one record, or ``None`` (remembered with the reason); ``every_row``: its value counts
        the rows of weight 0 (:attr:`~lossctl.aggregates.Aggregate.every_row`); ``observed``: which units count
        (:meth:`_rows`)."""
        found = interval(value, grad, cov, level)
        if found is None:
            if cov is None:
                reason = f"fewer than 2 {self._rows(every_row, observed)}"
            elif grad is not None and not np.isfinite(cov[np.ix_(grad != 0, grad != 0)]).all():
                reason = (
                    "the squares of the losses or weights are beyond float64's range (rescale the inputs, or use "
                    f"{option('bootstrap')})"
                )
            else:
                reason = "the value has no finite derivative in its statistics"
            self.skip(label, group, reason)
        return found

    def percentile(
        self,
        label: str,
        group: dict[str, Any] | None,
        replicates: np.ndarray,
        resampled: int,
        level: float,
        every_row: bool = False,
        observed: str | None = None,
    ) -> dict[str, float] | None:
        """The bootstrap's percentile interval of one record from its replicate values (in ``compare`` the paired
        differences), or ``None`` (remembered with the reason): below 2 rows resampled (``resampled``, those of
        nonzero weight when weighted, unless ``every_row``; the units ``observed``, :meth:`_rows`) every replicate
        holds the one row, a zero-width interval that would call any delta significant; where a replicate's value
        is infinite (its sums overflow float64); and on a tiny input or group every replicate may draw none of its
        rows (0/0 is no value, and only the finite values count). When only some replicates have no value, the
        interval is of the others, and a notice says how many were left out."""
        from lossctl.bootstrap import percentile_interval

        if resampled < 2:
            self.skip(label, group, f"fewer than 2 {self._rows(every_row, observed)}")
            return None
        if np.isinf(replicates).any():
            self.skip(label, group, "the sums of a bootstrap replicate overflow float64 (rescale the inputs)")
            return None
        finite = replicates[np.isfinite(replicates)]
        found = percentile_interval(finite, level)
        if found is None:
            self.skip(label, group, "no bootstrap replicate has a value (each drew too few of its rows)")
        elif len(finite) < len(replicates):
            left_out = (group, len(replicates) - len(finite), len(replicates))
            self._partial.setdefault((label, self._rows(every_row, observed)), []).append(left_out)
        return found

    def skip(self, label: str, group: dict[str, Any] | None, reason: str) -> None:
        """Remember a record without an interval, and why."""
        self._missing.setdefault((label, reason), []).append(group)

    def notices(self) -> list[str]:
        """One line per loss and reason: the outputs of ``multioutput=raw`` (``mse[0]`` ... ``mse[999]``, or
        ``mse[0] delta`` in ``compare``) and the models (``mse@a``, ``mse@b``) missing theirs for the same reason
        share one line, as a loss's groups do, not one each."""
        lines: dict[tuple[str, str, str], list[str]] = {}
        for (label, reason), groups in self._missing.items():
            named = [g for g in groups if g is not None]
            where = ["the overall value"] if None in groups else []
            if named:
                where.append(f"{len(named)} group{'s' if len(named) > 1 else ''} (first: {group_text(named[0])})")
            loss = _OUTPUT_INDEX.sub("", label.partition("@")[0], count=1)
            lines.setdefault((loss, " and ".join(where), reason), []).append(label)
        messages = []
        for (_, places, why), labels in lines.items():
            messages.append(f"{_shown(labels)}: no confidence interval for {places}: {why}")
        return messages + self._left_out()

    def _left_out(self) -> list[str]:
        """One line per loss whose bootstrap intervals left out replicates without a value, its outputs and models
        together (as :meth:`notices` groups them): how many, of how many, overall and at most in a group."""
        by_loss: dict[tuple[str, str], list[str]] = {}
        for label, rows in self._partial:
            by_loss.setdefault((_OUTPUT_INDEX.sub("", label.partition("@")[0], count=1), rows), []).append(label)
        messages = []
        for (_, rows), labels in by_loss.items():
            records = [record for label in labels for record in self._partial[label, rows]]
            total = records[0][2]
            overall = max((out for group, out, _ in records if group is None), default=0)
            named = [(group, out) for group, out, _ in records if group is not None]
            where = [f"{overall} of {total} for the overall value"] if overall else []
            if named:
                groups = {group_text(group) for group, _ in named}
                most, first = max(out for _, out in named), group_text(named[0][0])
                many = f"up to {most} of {total} in {len(groups)} groups (first: {first})"
                where.append(f"{most} of {total} in group {first}" if len(groups) == 1 else many)
            messages.append(
                f"{_shown(labels)}: bootstrap replicates that drew none of the {rows} have no value and are "
                f"left out of the interval: {' and '.join(where)}"
            )
        return messages


def _shown(labels: list[str]) -> str:
    """The labels of one loss in a notice: the one, or the first to the last and how many."""
    return labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]} ({_results(labels)})"


def _results(labels: list[str]) -> str:
    """``1000 outputs``, ``3 models``, or ``6 results`` where both vary, for the labels of one loss."""
    losses = {label.partition("@")[0] for label in labels}
    models = {label.partition("@")[2] for label in labels}
    noun = "results" if len(losses) > 1 and len(models) > 1 else "outputs" if len(losses) > 1 else "models"
    return f"{len(labels)} {noun}"
