"""From merged statistics to reported numbers: values, intervals, composites, group gaps and signatures.

The engine (:mod:`lossctl.engine`) returns, per job, merged statistics vectors overall, per group (an array,
one row per group code) and per bootstrap replicate; this module turns them into :class:`~lossctl.report.Result`
records. ``evaluate`` and ``compare`` both finalize through :func:`finalize_job`, so a number means the same in
both. A run with ``--by`` and ``--bootstrap`` has groups x replicates of vectors (2 million for 10,000 groups and
200 replicates): the common aggregates have a ``many`` form that finalizes an array of vectors in a few NumPy
operations (:func:`finalize_many`); the others are finalized one vector at a time.
"""

from __future__ import annotations

import contextlib
import functools
import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from lossctl import __version__
from lossctl.aggregates import Aggregate, Notice, Stats
from lossctl.engine import Layout, Outcome, Plan, naming_loss
from lossctl.errors import InputError, ZeroWeightSum
from lossctl.labels import ClassIndex, PositiveLabel
from lossctl.memory import collector_paused
from lossctl.normal import NoInterval, gradients
from lossctl.params import Composite, LossRequest, unsigned_exponents
from lossctl.registry import overflow_remedy, sum_overflow
from lossctl.report import NOT_PLAIN, PlainKey, Result, format_value, group_text
from lossctl.text import MAX_LISTED, count, listing


def finalize_many(aggregate: Aggregate, stats: np.ndarray, reduction: str, params: Mapping[str, Any]) -> np.ndarray:
    """The value of each vector (the last axis of ``stats``): an array of ``stats.shape[:-1]``, NaN or inf where
    the value is not finite (the caller decides whether that is an error: a bootstrap replicate that drew no row
    with weight is left out of its interval)."""
    flat = stats.reshape(-1, stats.shape[-1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if aggregate.many is not None:
            values = np.broadcast_to(np.asarray(aggregate.many(flat.T, reduction, params), dtype=np.float64), len(flat))
        else:
            values = np.array([_finalized(aggregate, row, reduction, params) for row in flat], np.float64)
    return values.reshape(stats.shape[:-1])


def _finalized(aggregate: Aggregate, stats: np.ndarray, reduction: str, params: Mapping[str, Any]) -> float:
    """One vector's value, NaN where it has none (weights summing to zero)."""
    try:
        return aggregate.finalize(cast(Stats, stats), reduction, params)
    except ZeroWeightSum:
        return math.nan


def _parts_of(
    aggregate: Aggregate, parts: np.ndarray, wholes: np.ndarray, reduction: str, params: Mapping[str, Any]
) -> np.ndarray:
    """The value of each part (a group's vector, by row) finalized with what its whole fixes (the aggregate's
    ``finalize_part``), ``wholes`` broadcast against ``parts``; NaN where a part has none."""
    flat = parts.reshape(-1, parts.shape[-1])
    whole = np.broadcast_to(wholes, parts.shape).reshape(-1, parts.shape[-1])
    values = np.full(len(flat), np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i, (part, of) in enumerate(zip(flat, whole, strict=True)):
            with contextlib.suppress(ZeroWeightSum):
                values[i] = aggregate.value_of_part(cast(Stats, part), cast(Stats, of), reduction, params)
    return values.reshape(parts.shape[:-1])


def gradients_of(aggregate: Aggregate, stats: np.ndarray, reduction: str, params: Mapping[str, Any]) -> np.ndarray:
    """The finalizer's gradient at each row of ``stats``, NaN entries where it has none (:mod:`lossctl.normal`):
    the aggregate's own ``slopes`` where it has them, else central differences."""
    if aggregate.slopes is not None:
        stats = np.atleast_2d(stats)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            slopes = aggregate.slopes(stats.T, reduction, params)
        grads = np.column_stack([np.broadcast_to(np.asarray(slope, dtype=np.float64), len(stats)) for slope in slopes])
        grads[~np.isfinite(grads)] = np.nan
        return grads

    def finalize(moved: np.ndarray) -> np.ndarray:
        if aggregate.many is not None:
            return finalize_many(aggregate, moved, reduction, params)
        values = np.full(len(moved), np.nan)
        for i, row in enumerate(moved):
            try:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    values[i] = aggregate.finalize(cast(Stats, row), reduction, params)
            except (ArithmeticError, ValueError):  # InputError is a ValueError: outside the finalizer's domain
                pass
        return values

    return gradients(finalize, np.atleast_2d(stats))


@dataclass
class GroupValues:
    """Each present group's finalized numbers, column by column (a million groups are a few lists and arrays,
    not a million tuples): codes ascending, values, row counts, replicate values and gradients (by row)."""

    codes: list[int]
    values: list[float]
    n: list[int]
    replicates: np.ndarray | None = None
    gradients: np.ndarray | None = None

    def rows(self) -> Iterator[tuple[int, float, int, np.ndarray | None, np.ndarray | None]]:
        """``(code, value, n, replicates, gradient)`` of each group, in code order."""
        none = [None] * len(self.codes)
        replicates = none if self.replicates is None else self.replicates
        gradients = none if self.gradients is None else self.gradients
        return zip(self.codes, self.values, self.n, replicates, gradients, strict=True)

    def get(self, code: int) -> tuple[float, int, np.ndarray | None, np.ndarray | None] | None:
        """Group ``code``'s ``(value, n, replicates, gradient)``, or ``None`` when it has no rows."""
        i = self._index.get(code)
        if i is None:
            return None
        replicates = None if self.replicates is None else self.replicates[i]
        return self.values[i], self.n[i], replicates, None if self.gradients is None else self.gradients[i]

    @functools.cached_property
    def _index(self) -> dict[int, int]:
        return {code: i for i, code in enumerate(self.codes)}


_NO_GROUPS = GroupValues([], [], [])


@dataclass
class Values:
    """One job's (or composite's) finalized numbers: overall and per group, with replicate values and, for
    ``--ci`` without ``--bootstrap``, the gradient of the value in the stacked statistics (the delta method)."""

    overall: float
    n: int
    replicates: np.ndarray | None
    groups: GroupValues
    gradient: np.ndarray | None = None


def finalize_job(
    request: LossRequest, outcome: Outcome, j: int, reduction: str, convention: str, moments: bool = False
) -> Values:
    """Job ``j``'s value overall and per group (with their bootstrap replicates, and with ``moments`` their
    gradients for the delta method); a value that is not finite is an input error naming the group."""
    aggregate = request.spec.aggregate_for(convention)
    params = request.params
    every_row = over_every_row(request, convention, reduction)

    def checked(values: np.ndarray, stats: np.ndarray, where: Any, whole: np.ndarray | None = None) -> np.ndarray:
        """``values``, or the input error of the first that is not finite, said of its place (``where``): the
        finalizer's own (of a part of ``whole`` when given, as the value was made) or an overflow's."""
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            place = where(int(bad[0]))
            try:  # the finalizer's own message where it has one (weights that sum to zero)
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    if whole is not None:
                        aggregate.value_of_part(cast(Stats, stats[bad[0]]), cast(Stats, whole), reduction, params)
                    else:
                        aggregate.finalize(cast(Stats, stats[bad[0]]), reduction, params)
            except ZeroWeightSum as error:
                raise error.naming(f"{request.label}{place}") from None
            except InputError as error:  # the finalizer's refusal ("no pair ..."), in a group named with the group
                if not place or type(error) is not InputError:
                    raise
                reason = str(error).removeprefix(f"{request.spec.name}: ")
                raise InputError(f"{request.label}{place}: {reason}") from None
            if not np.isfinite(stats[bad[0]]).all():
                raise sum_overflow(f"{request.label}{place}", stats[bad[0]], request.params)
            raise InputError(
                f"{request.label}{place}: the result is not a finite number (a float64 overflow); "
                f"{overflow_remedy(request.params)}"
            )
        return values

    def embedded(stats: np.ndarray) -> np.ndarray | None:
        """The gradients at ``stats`` (K x its width) placed in the stacked statistics (K x M); NaN: none."""
        if not moments or outcome.layout is None:
            return None
        local = gradients_of(aggregate, stats, reduction, params)
        full = np.zeros((len(local), outcome.layout.width))
        full[:, outcome.layout.columns(j)] = local
        return full

    overall = outcome.stats[j]
    try:  # a refusal of the whole input (a finalizer's input error) says which loss refused
        overall_value = finalize_many(aggregate, overall[None, :], reduction, params)
    except InputError as error:
        raise naming_loss(error, request) from None
    value = float(checked(overall_value, overall[None, :], lambda i: "")[0])
    whole_replicates = _fixed_size(outcome.replicates[j], overall[-1], reduction) if outcome.replicates else None
    replicates = (
        _drawn(finalize_many(aggregate, whole_replicates, reduction, params), whole_replicates, every_row)
        if whole_replicates is not None
        else None
    )
    gradient = embedded(overall[None, :])
    per_group = _NO_GROUPS
    if outcome.groups:
        stats = outcome.group_stats[j]
        present = np.flatnonzero(stats[:, -1] > 0)
        part = aggregate.finalize_part is not None  # what the whole input fixes stays fixed in each group
        values = (
            _parts_of(aggregate, stats[present], overall, reduction, params)
            if part
            else finalize_many(aggregate, stats[present], reduction, params)
        )
        group_values = checked(
            values,
            stats[present],
            lambda i: in_group(outcome.groups[present[i]]),
            overall if part else None,
        )
        group_replicates = None
        if outcome.group_replicates and whole_replicates is not None:
            reps = _fixed_size(outcome.group_replicates[j][present], stats[present, -1][:, None, None], reduction)
            group_replicates = _drawn(
                _parts_of(aggregate, reps, whole_replicates[None, :, :], reduction, params)
                if part
                else finalize_many(aggregate, reps, reduction, params),
                reps,
                every_row,
            )
        group_gradients = embedded(stats[present])
        # Whole columns to Python at once: a million groups are a million of each (indexing NumPy per group
        # cost a second per loss).
        per_group = GroupValues(
            present.tolist(),
            group_values.tolist(),
            stats[present, -1].astype(np.int64).tolist(),
            group_replicates,
            group_gradients,
        )
    return Values(value, int(overall[-1]), replicates, per_group, gradient[0] if gradient is not None else None)


def _drawn(values: np.ndarray, replicates: np.ndarray, every_row: bool) -> np.ndarray:
    """Bootstrap replicates' ``values``, NaN (left out of the interval) where a replicate drew no row of nonzero
    weight: its sum of weights ``replicates[..., -2]`` is 0, and it resamples nothing, whatever its finalizer makes
    of sums of 0 (a mean's 0/0 is NaN already; ``dice`` with ``smooth`` scored it 0, a perfect score no row earned,
    which pulled the lower bound of a small group's interval to 0). With ``every_row`` (Keras' mean over every
    row, :attr:`~lossctl.aggregates.Aggregate.every_row`) rows of weight 0 are observations of 0: only a replicate
    that drew no row at all (``replicates[..., -1]`` is 0) has no value. Infinite where its sums overflow float64
    (:meth:`~lossctl.normal.NoInterval.percentile` then gives no interval: leaving those out kept only the
    replicates that drew few rows)."""
    overflowed = ~np.isfinite(replicates).all(axis=-1)
    drew = replicates[..., -1 if every_row else -2]
    return np.where(drew == 0, np.nan, np.where(overflowed, np.inf, values))


def _fixed_size(replicates: np.ndarray, rows: Any, reduction: str) -> np.ndarray:
    """Bootstrap replicates' statistics (``[..., n_b]`` on the last axis) as replicates of ``rows`` rows.

    The Poisson bootstrap draws a row k ~ Poisson(1) times, so a replicate has ``n_b = sum(k)`` rows, not the
    sample's n. A mean (a ratio) does not see it, but a sum does: its variance became ``sum(l^2)``, the rows'
    mean included, not ``n Var(l)`` as with n fixed (the normal approximation's, and a resampling of n rows):
    losses 1, 2, 3, 4, 6 gave the 90% interval [4, 31] of their sum 16, for [8.9, 23.1] from --ci. Under
    ``--reduction sum`` each replicate is scaled to n rows (n times its mean); one that drew no row stays 0, and
    has no value (:func:`_drawn`).
    """
    if reduction != "sum":
        return replicates
    drawn = replicates[..., -1:]
    with np.errstate(invalid="ignore", over="ignore"):
        return replicates * (rows / np.where(drawn > 0, drawn, np.inf))


def over_every_row(owner: LossRequest | Composite, convention: str, reduction: str) -> bool:
    """Whether ``owner``'s value counts rows of weight 0 as observations of 0, for its intervals: a sum
    ``sum(w*l)``, and Keras' mean over every row (:attr:`~lossctl.aggregates.Aggregate.every_row`), whose values do
    not divide by the weight sum (a composite when each of its terms does)."""
    requests = [request for _, request in owner.terms] if isinstance(owner, Composite) else [owner]
    return reduction == "sum" or all(request.spec.aggregate_for(convention).every_row for request in requests)


def observations(
    owner: LossRequest | Composite, convention: str, layout: Layout | None, job: int | None
) -> tuple[int | None, str | None]:
    """The stacked statistic whose nonzero units are the observations of job ``job``'s value, and the words for them
    (:attr:`~lossctl.aggregates.Aggregate.observations`: ranknet's queries ``with a pair``); ``(None, None)`` where
    they are the units of nonzero weight (a composite's too)."""
    if isinstance(owner, Composite) or layout is None or job is None:
        return None, None
    found = owner.spec.aggregate_for(convention).observations
    if found is None:
        return None, None
    statistic, words = found
    return int(layout.columns(job)[statistic]), words


def in_group(group: Mapping[str, Any]) -> str:
    """Where in a message: `` in group g=a, h=(missing)`` (:func:`~lossctl.report.group_text`: a missing key and a
    boolean as the command line spells them, not as Python's ``None`` and ``True``)."""
    return " in group " + group_text(group)


def combine(composite: Composite, parts: Sequence[Values]) -> Values:
    """A composite's numbers: the weighted sum of its parts', overall, per group, per replicate and gradient."""
    weights = [weight for weight, _ in composite.terms]

    def total(values: list[Any]) -> Any:
        return None if any(v is None for v in values) else sum(w * v for w, v in zip(weights, values, strict=True))

    first = parts[0].groups
    if any(part.groups.codes != first.codes for part in parts):  # the terms share the model's rows
        raise AssertionError("a composite's terms have different groups")
    values = np.asarray(total([np.asarray(part.groups.values, dtype=np.float64) for part in parts]))
    groups = GroupValues(
        first.codes,
        values.tolist(),
        first.n,
        total([part.groups.replicates for part in parts]),
        total([part.groups.gradients for part in parts]),
    )
    overall = total([p.overall for p in parts])
    if not math.isfinite(overall) or not np.isfinite(values).all():
        raise InputError(f"{composite.name}: the weighted sum overflows float64; use smaller weights or rescale")
    return Values(overall, parts[0].n, total([p.replicates for p in parts]), groups, total([p.gradient for p in parts]))


def plain_keys(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every group's key as JSON has it (:class:`~lossctl.report.PlainKey`); ``groups`` themselves where no value
    needs changing (a million integer or text keys: the types of each column are looked at, no key is copied)."""
    columns = groups[0].keys() if groups else ()
    kinds = {kind for column in columns for kind in set(map(type, map(operator.itemgetter(column), groups)))}
    return [PlainKey(key) for key in groups] if any(issubclass(kind, NOT_PLAIN) for kind in kinds) else groups


def build_results(
    plan: Plan,
    outcome: Outcome,
    composites: Sequence[Composite],
    reduction: str,
    convention: str,
    ci: float,
    notices: list[str],
) -> tuple[list[Result], list[dict[str, Any]]]:
    """Every job (and composite, per model) finalized overall and per group, with intervals at level ``ci`` (the
    bootstrap's percentile intervals, or with ``plan.moments`` the normal approximation), and the gaps."""
    with collector_paused():  # a record per group and loss: millions with a million groups
        return _build_results(plan, outcome, composites, reduction, convention, ci, notices)


def _build_results(
    plan: Plan,
    outcome: Outcome,
    composites: Sequence[Composite],
    reduction: str,
    convention: str,
    ci: float,
    notices: list[str],
) -> tuple[list[Result], list[dict[str, Any]]]:
    values = [
        finalize_job(job.request, outcome, j, reduction, convention, plan.moments) for j, job in enumerate(plan.jobs)
    ]
    entries: list[tuple[LossRequest | Composite, str | None, str, Values, int | None]] = []
    for j, job in enumerate(plan.jobs):
        request = job.request
        entries.append((request, job.model, signature(request, reduction, convention, plan), values[j], j))
    notices.extend(loss_notices(plan, outcome, convention))
    models = list(dict.fromkeys(job.model for job in plan.jobs))
    for composite in composites:
        sig = composite_signature(composite, reduction, convention, plan)
        for model in models:
            parts = [values[plan.job_index(r, model)] for _, r in composite.terms]
            entries.append((composite, model, sig, combine(composite, parts), None))

    results: list[Result] = []
    gaps: list[dict[str, Any]] = []
    no_interval = NoInterval(plan.weight is not None, "queries" if plan.query_ids else "rows")

    keys = plain_keys(outcome.groups)  # shared by every loss's results
    # The overall Cov(S), read (never written) by every loss's interval: made once, not once per loss (a W x W
    # matrix of the stacked statistics, W over 1000 for multioutput=raw over 1000 outputs: 4 s of a 5-row run).
    shared_cov: dict[bool, np.ndarray | None] = {}

    def covariance(group: int | None, every_row: bool, counted: int | None) -> np.ndarray | None:
        if outcome.observed_once(group, every_row, counted):
            return None  # one query with a pair (Aggregate.observations): fewer than 2 observations
        if group is not None:
            return outcome.covariance(group, every_row)
        if every_row not in shared_cov:
            shared_cov[every_row] = outcome.covariance(None, every_row)
        return shared_cov[every_row]

    def interval_of(
        value: float,
        n: int,
        replicates: Any,
        gradient: Any,
        label: str,
        group: int | None,
        every_row: bool,
        observed: tuple[int | None, str | None],
    ) -> dict[str, float] | None:
        where = None if group is None else keys[group]
        counted, words = observed
        if not plan.moments:
            if replicates is None:
                return None
            resampled = outcome.resampled_rows(n, group, every_row, counted)
            return no_interval.percentile(label, where, replicates, resampled, ci, every_row, words)
        cov = covariance(group, every_row, counted)
        return no_interval.check(label, where, value, gradient, cov, ci, every_row, words)

    for owner, model, sig, numbers, job_index in entries:
        name, owner_label = owner.name, owner.label
        label = owner_label + (f"@{model}" if model is not None else "")
        params = {"formula": owner.formula} if isinstance(owner, Composite) else owner.params
        sample = outcome.samples[job_index] if job_index is not None else None
        every_row = over_every_row(owner, convention, reduction)
        observed = observations(owner, convention, outcome.layout, job_index)
        bounds = interval_of(
            numbers.overall, numbers.n, numbers.replicates, numbers.gradient, label, None, every_row, observed
        )
        overall = Result(
            name, owner_label, params, reduction, numbers.overall, numbers.n, sig, None, bounds, model,
            request=owner,
            distribution=sample.summary() if sample else None,
        )  # fmt: skip
        results.append(overall)
        group_values, groups = [], []
        for code, value, n, replicates, gradient in numbers.groups.rows():
            group = keys[code]
            group_values.append(value)
            groups.append(group)
            needed = plan.moments or replicates is not None  # else no interval: skip the call (3M for 1M groups)
            bounds = interval_of(value, n, replicates, gradient, label, code, every_row, observed) if needed else None
            results.append(
                Result(name, owner_label, params, reduction, value, n, sig, group, bounds, model, request=owner)
            )
        if group_values:
            gaps.append(gap(name, params, group_values, groups, model, label))
    notices.extend(no_interval.notices())
    return results, gaps


def loss_notices(plan: Plan, outcome: Outcome, convention: str, names: Mapping[str, str] | None = None) -> list[str]:
    """What each job's loss counted (clipped probabilities, ignored rows, degenerate samples), named
    ``LABEL@MODEL``, or ``LABEL in NAME`` for a model ``names`` maps to an input's name (``compare``'s two files).

    The same notice of one loss for several models (a --model glob of 300 columns) is one line, whatever each model
    counted: the first model's notice, then the other models grouped by what they counted (:func:`_models_line`)."""
    found: list[str] = []
    # (label, what) -> amount -> models, in the order met
    shared: dict[tuple[str, str], dict[str, list[str]]] = {}
    for j, job in enumerate(plan.jobs):
        aggregate = job.request.spec.aggregate_for(convention)
        if aggregate.notices:
            model, label = job.model, job.request.label
            notices = aggregate.notices(outcome.stats[j], job.request.params) + _part_notices(
                aggregate, outcome, j, job.request.params
            )
            if model is None or (names and model in names):
                where = label if model is None or not names else f"{label} in {names[model]}"
                found.extend(f"{where}: {notice}" for notice in notices)
                continue
            for notice in notices:
                shared.setdefault((label, notice.what), {}).setdefault(notice.amount, []).append(model)
    found.extend(_models_line(label, what, amounts) for (label, what), amounts in shared.items())
    return found


def _models_line(label: str, what: str, amounts: Mapping[str, list[str]]) -> str:
    """One loss's notice for many models: ``bce@m0: 2 rows had ...; the same for 298 more models (m1, m2, ...); 1 row
    for model m299``: the first model's notice, the models that counted the same, then each other amount with its models
    (the first :data:`~lossctl.text.MAX_LISTED` amounts, then how many models are left)."""
    (amount, models), *rest = amounts.items()
    line = f"{label}@{models[0]}: {amount} {what}"
    if len(models) > 1:
        line += f"; the same for {count(len(models) - 1, 'more model')} ({listing(models[1:], 'models')})"
    line += "".join(
        f"; {amount} for model{'s' if len(models) > 1 else ''} {listing(models, 'models')}"
        for amount, models in rest[:MAX_LISTED]
    )
    left = sum(len(models) for _, models in rest[MAX_LISTED:])
    return line + (f"; ... ({count(left, 'more model')})" if left else "")


def _part_notices(aggregate: Aggregate, outcome: Outcome, j: int, params: Mapping[str, Any]) -> list[Notice]:
    """Job ``j``'s notice of the ``--by`` groups its aggregate counts as samples of their own (``2 groups (g=a, g=c)
    with empty prediction and target counted as perfect ...``), naming the first :data:`~lossctl.text.MAX_LISTED`
    (groups of several keys separated by semicolons: ``(g=a, h=x; g=b, h=y)``)."""
    if aggregate.counted_parts is None or not outcome.groups:
        return []
    stats = outcome.group_stats[j]
    present = np.flatnonzero(stats[:, -1] > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        counted = aggregate.counted_parts(stats[present].T, params)
    if counted is None:
        return []
    mask, what = counted
    codes = present[np.asarray(mask, dtype=bool)]
    if not codes.size:
        return []
    keys = [outcome.groups[code] for code in codes[: MAX_LISTED + 1].tolist()]
    separator = ", " if all(len(key) == 1 for key in keys) else "; "
    listed = listing([group_text(key) for key in keys], "groups", codes.size, separator)
    return [Notice(f"{count(codes.size, 'group')} ({listed})", what)]


def gap(
    name: str,
    params: dict[str, Any],
    values: Sequence[float],
    groups: Sequence[dict[str, Any]],
    model: str | None,
    label: str,
) -> dict[str, Any]:
    """The ``gaps`` record of one loss (and model) from its groups' ``values``: the largest minus the smallest,
    and the group with the largest value (for a loss, the worst served). On a tie the worst is the first such group
    in the order the groups first appear; values within 1e-12 relative of the largest tie, since equal groups' sums
    round differently with the chunking and the engine (values agree to 1e-12 across them), and the worst group must
    not. A gap that overflows float64 (groups at -1e308 and 1e308) is an input error naming ``label``, as a value is."""
    array = np.asarray(values, dtype=np.float64)
    top = float(array.max())
    tied = top * (1 - 1e-12) if top > 0 else top * (1 + 1e-12)  # not top - 1e-12 |top|: inf - inf is NaN
    worst = int(np.argmax(array >= tied))
    difference = top - float(array.min())
    if not math.isfinite(difference):
        raise InputError(f"{label}: the gap between its groups overflows float64; rescale the inputs")
    record = {"loss": name, "params": params, "gap": difference, "worst_group": groups[worst]}
    return record | ({"model": model} if model is not None else {})


def signature(request: LossRequest, reduction: str, convention: str, plan: Plan) -> str:
    """Everything that fixes a number: loss, every parameter, reduction, weighting, what the labels mean
    (``--positive``, ``--classes``), convention, version. Values are spelled as the command line and the CSV
    ``params`` column spell them (``multioutput=none``, ``log_input=false``), not as Python's reprs."""
    head = [request.name, *(f"{k}={format_value(v)}" for k, v in request.params.items())]
    return "|".join(head + _signature_tail(reduction, request.spec.convention_tag(convention), plan))


def composite_signature(composite: Composite, reduction: str, convention: str, plan: Plan) -> str:
    """A composite's signature: its name, every part with all of its parameters (numbers without an exponent sign,
    as in its formula), and the convention with the library releases its parts reproduce (``keras<=3.15.1`` when a
    part's own signature says so)."""
    parts = "+".join(
        unsigned_exponents(":".join([f"{w!r}*{r.spec.name}", *(f"{k}={format_value(v)}" for k, v in r.params.items())]))
        for w, r in composite.terms
    )
    tags = sorted({r.spec.convention_tag(convention) for _, r in composite.terms} - {convention})
    tag = ",".join(tags) if tags else convention
    return "|".join([f"{composite.name}={parts}", *_signature_tail(reduction, tag, plan)])


def _signature_tail(reduction: str, convention: str, plan: Plan) -> list[str]:
    """The run's settings in a signature. ``--positive`` and ``--classes`` decide which label is 1 and which class
    is index 0: ``bce --positive cat`` and ``--positive dog`` give two numbers on one file."""
    encoders = plan.encoders.values()
    positive = next((e.positive for e in encoders if isinstance(e, PositiveLabel) and e.positive is not None), None)
    classes = next((e.classes for e in encoders if isinstance(e, ClassIndex) and e.classes), None)
    return [
        f"reduction={reduction}",
        *([f"weight={plan.weight}"] if plan.weight else []),
        *([f"positive={positive}"] if positive is not None else []),
        *([f"classes={','.join(classes)}"] if classes else []),
        f"convention={convention}",
        f"lossctl={__version__}",
    ]
