"""From merged statistics to reported numbers: values, intervals, composites, group gaps and signatures.

The engine (:mod:`lossctl.engine`) returns, per job, merged statistics vectors overall, per group and per
bootstrap replicate; this module turns them into :class:`~lossctl.report.Result` records. ``evaluate`` and
``compare`` both finalize through :func:`finalize_job`, so a number means the same in both.
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossctl import __version__
from lossctl.aggregates import replicate_value
from lossctl.engine import Outcome, Plan
from lossctl.errors import InputError, ZeroWeightSum
from lossctl.params import Composite, LossRequest
from lossctl.report import Result


@dataclass
class Values:
    """One job's (or composite's) finalized numbers: overall and per group code, with replicate values."""

    overall: float
    n: int
    replicates: np.ndarray | None
    groups: dict[int, tuple[float, int, np.ndarray | None]]


def finalize_job(request: LossRequest, outcome: Outcome, j: int, reduction: str, convention: str) -> Values:
    """Job ``j``'s value overall and per group (with their bootstrap replicates); a non-finite value is an error."""
    aggregate = request.spec.aggregate_for(convention)

    overall = outcome.stats[j]

    def value_of(stats: np.ndarray, where: str, whole: np.ndarray | None = None) -> float:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a non-finite value is the error below
            try:
                if whole is None:
                    value = aggregate.finalize(stats, reduction, request.params)
                else:  # a group: what the whole input fixes (class weights) stays fixed, so groups recombine
                    value = aggregate.value_of_part(stats, whole, reduction, request.params)
            except ZeroWeightSum as error:
                raise ZeroWeightSum(f"{request.label}{where}: {error}") from None
        if not math.isfinite(value):
            raise InputError(
                f"{request.label}{where}: the result is not a finite number (no rows with weight, "
                f"or a float64 overflow); check the weights or rescale the inputs"
            )
        return value

    def replicate_values(replicates: np.ndarray | None, wholes: np.ndarray | None = None) -> np.ndarray | None:
        if replicates is None:
            return None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.array(
                [
                    replicate_value(aggregate, row, reduction, request.params, None if wholes is None else wholes[b])
                    for b, row in enumerate(replicates)
                ]
            )

    overall_replicates = outcome.replicates[j] if outcome.replicates else None
    per_group = {}
    for code, stats in outcome.group_stats[j].items():
        where = " in group " + ", ".join(f"{k}={v}" for k, v in outcome.groups[code].items())
        replicates = outcome.group_replicates[j].get(code) if outcome.group_replicates else None
        per_group[code] = (
            value_of(stats, where, overall),
            int(stats[-1]),
            replicate_values(replicates, overall_replicates),
        )
    return Values(value_of(overall, ""), int(overall[-1]), replicate_values(overall_replicates), per_group)


def combine(composite: Composite, parts: Sequence[Values]) -> Values:
    """A composite's numbers: the weighted sum of its parts', overall, per group and per replicate."""
    weights = [weight for weight, _ in composite.terms]

    def total(values: list[Any]) -> Any:
        return None if any(v is None for v in values) else sum(w * v for w, v in zip(weights, values, strict=True))

    groups = {
        code: (
            total([p.groups[code][0] for p in parts]),
            parts[0].groups[code][1],
            total([p.groups[code][2] for p in parts]),
        )
        for code in parts[0].groups
    }
    return Values(total([p.overall for p in parts]), parts[0].n, total([p.replicates for p in parts]), groups)


def plain(group: dict[str, Any]) -> dict[str, Any]:
    """A group's key as JSON has it: dates and times in ISO 8601, decimals as floats, bytes as text."""
    return {column: _plain_value(value) for column, value in group.items()}


def _plain_value(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def interval(replicate_values: np.ndarray | None, level: float) -> dict[str, float] | None:
    """The percentile interval of the finite replicate values, or ``None`` without replicates."""
    from lossctl.bootstrap import percentile_interval

    if replicate_values is None:
        return None
    return percentile_interval(replicate_values[np.isfinite(replicate_values)], level)


def build_results(
    plan: Plan,
    outcome: Outcome,
    composites: Sequence[Composite],
    reduction: str,
    convention: str,
    ci: float,
    notices: list[str],
) -> tuple[list[Result], list[dict[str, Any]]]:
    """Every job (and composite, per model) finalized overall and per group, with intervals, and the gaps."""
    values = [finalize_job(job.request, outcome, j, reduction, convention) for j, job in enumerate(plan.jobs)]
    entries: list[tuple[LossRequest | Composite, str | None, str, Values, int | None]] = []
    for j, job in enumerate(plan.jobs):
        request = job.request
        entries.append((request, job.model, signature(request, reduction, convention, plan.weight), values[j], j))
        aggregate = request.spec.aggregate_for(convention)
        if aggregate.notices:
            messages = aggregate.notices(outcome.stats[j], request.params)
            where = f"{request.label}" + (f"@{job.model}" if job.model is not None else "")
            notices.extend(f"{where}: {message}" for message in messages)
    models = list(dict.fromkeys(job.model for job in plan.jobs))
    for composite in composites:
        sig = composite_signature(composite, reduction, convention, plan.weight)
        for model in models:
            parts = [values[plan.job_index(r, model)] for _, r in composite.terms]
            entries.append((composite, model, sig, combine(composite, parts), None))

    results: list[Result] = []
    gaps: list[dict[str, Any]] = []
    for owner, model, sig, numbers, job_index in entries:
        name = owner.name
        params = {"formula": owner.formula} if isinstance(owner, Composite) else owner.params
        sample = outcome.samples[job_index] if job_index is not None else None
        overall = Result(
            name, owner.label, params, reduction, numbers.overall, numbers.n, sig, None,
            interval(numbers.replicates, ci), model, request=owner,
            distribution=sample.summary() if sample else None,
        )  # fmt: skip
        results.append(overall)
        if numbers.replicates is not None and not np.isfinite(numbers.replicates).any():
            notices.append(
                f"{owner.label}: no bootstrap replicate has a value (too few rows with weight); its interval is null"
            )
        group_values = []
        for code, key in enumerate(outcome.groups):
            if code not in numbers.groups:
                continue
            group = plain(key)
            value, n, replicates = numbers.groups[code]
            group_values.append((value, group))
            results.append(
                Result(name, owner.label, params, reduction, value, n, sig, group, interval(replicates, ci), model,
                       request=owner)
            )  # fmt: skip
        if group_values:
            gaps.append(gap(name, params, group_values, model))
    return results, gaps


def gap(name: str, params: dict[str, Any], group_values: list[tuple[float, dict[str, Any]]], model: str | None
        ) -> dict[str, Any]:  # fmt: skip
    """The ``gaps`` record of one loss (and model): the largest minus the smallest group value, and the group
    with the largest value (for a loss, the worst served)."""
    worst = max(group_values, key=lambda item: item[0])
    best = min(group_values, key=lambda item: item[0])
    record = {"loss": name, "params": params, "gap": worst[0] - best[0], "worst_group": worst[1]}
    return record | ({"model": model} if model is not None else {})


def signature(request: LossRequest, reduction: str, convention: str, weight: str | None) -> str:
    """Everything that fixes a number: loss, every parameter, reduction, weighting, convention, version."""
    head = [request.name, *(f"{k}={v!r}" for k, v in request.params.items())]
    return "|".join(head + _signature_tail(reduction, request.spec.convention_tag(convention), weight))


def composite_signature(composite: Composite, reduction: str, convention: str, weight: str | None) -> str:
    """A composite's signature: its name and every part with all of its parameters."""
    parts = "+".join(
        f"{w!r}*" + ":".join([r.spec.name, *(f"{k}={v!r}" for k, v in r.params.items())]) for w, r in composite.terms
    )
    return "|".join([f"{composite.name}={parts}", *_signature_tail(reduction, convention, weight)])


def _signature_tail(reduction: str, convention: str, weight: str | None) -> list[str]:
    return [
        f"reduction={reduction}",
        *([f"weight={weight}"] if weight else []),
        f"convention={convention}",
        f"lossctl={__version__}",
    ]
