"""Merging the outcomes of parts of one input: what the Dask engine's client does with its tasks' results.

Each task runs :func:`lossctl.engine.run` on its rows (numbered as in the whole input, ``first_row``) and returns
an :class:`~lossctl.engine.Outcome`: statistics vectors overall, per group and per bootstrap replicate, and the
per-row samples. Statistics are sums, so the outcome of the whole input is the sum of its parts' (added with
Neumaier compensation, as the engine adds its chunks). Groups are keyed by their *values*, not by the parts' local
codes, and numbered in order of first appearance over the parts in input order: the codes one pass would give.
Bootstrap counts and sampled rows depend on the row number alone, so they too are those of one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lossctl.distribution import Sample
from lossctl.engine import Outcome, Plan, check_rows, in_plan_order
from lossctl.io.convert import VectorWidths
from lossctl.normal import GroupMoments, Moments
from lossctl.stats import Accumulator


def _add(slot: Accumulator | None, stats: np.ndarray) -> Accumulator:
    slot = slot or Accumulator(stats.shape)
    slot.add(stats)
    return slot


def _group_key(label: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(label.values())


def _by_code(parts: Sequence[np.ndarray], codes: Sequence[np.ndarray], groups: int) -> np.ndarray:
    """Per-group arrays of the parts (their rows by local code) summed into one array by global code, each
    group's parts added in input order with compensation."""
    total = np.zeros((groups, *parts[0].shape[1:]))
    compensation = np.zeros_like(total)
    for values, code in zip(parts, codes, strict=True):
        rows, at = values, code[: len(values)]
        before = total[at]
        added = before + rows
        big = np.abs(before) >= np.abs(rows)
        compensation[at] += np.where(big, (before - added) + rows, (rows - added) + before)
        total[at] = added
    return total + compensation


def merge_outcomes(parts: Sequence[Outcome], plan: Plan) -> Outcome:
    """The outcome of the whole input from the outcomes of its ``parts``, given in input order, for ``plan``'s jobs.

    A part without rows to evaluate (all dropped, or none) adds its row count only; the merged outcome is
    checked as one pass's would be (:func:`~lossctl.engine.check_rows`). The ``--ci`` moments merge as the
    engine merges its chunks' (Chan, Golub & LeVeque).
    """
    rows = sum(part.rows for part in parts)
    rows_used = sum(part.rows_used for part in parts)
    partnerless = sum(part.partnerless for part in parts)
    jobs = len(plan.jobs)
    dropped_missing: dict[tuple[str, ...], int] = {}
    widths = VectorWidths()  # a list column's K, the same in every part as in every chunk
    for part in parts:
        widths.merge(part.widths)
        for columns, dropped in part.dropped_missing.items():
            dropped_missing[columns] = dropped_missing.get(columns, 0) + dropped
    check_rows(rows, rows_used, partnerless, in_plan_order(plan, dropped_missing))
    used = [part for part in parts if part.rows_used]
    first = used[0]
    overall: list[Accumulator | None] = [None] * jobs
    replicates: list[Accumulator | None] = [None] * jobs
    codes: dict[tuple[Any, ...], int] = {}
    labels: list[dict[str, Any]] = []
    global_codes: list[np.ndarray] = []
    samples: list[Sample | None] = [None] * jobs
    moments = Moments(first.moments.width, first.moments.columns) if first.moments is not None else None
    group_moments = (
        GroupMoments(first.group_moments.width, first.group_moments.columns)
        if first.group_moments is not None
        else None
    )
    for part in used:
        local = []
        for label in part.groups:
            code = codes.setdefault(_group_key(label), len(labels))
            if code == len(labels):
                labels.append(label)
            local.append(code)
        local_to_global = np.array(local, dtype=np.int64)
        global_codes.append(local_to_global)
        for j in range(jobs):
            overall[j] = _add(overall[j], part.stats[j])
            if part.replicates is not None:
                replicates[j] = _add(replicates[j], part.replicates[j])
            sample = part.samples[j]
            if sample is not None:
                merged = samples[j] or Sample()
                merged.merge(sample)
                samples[j] = merged
        if moments is not None and part.moments is not None:
            moments.merge(part.moments.n, part.moments.mean, part.moments.m2)
        if group_moments is not None and part.group_moments is not None:
            present = np.flatnonzero(part.group_moments.n[: len(local_to_global)] > 0)
            group_moments.merge(
                local_to_global[present],
                part.group_moments.n[present],
                part.group_moments.mean[present],
                part.group_moments.m2[present],
            )
    groups = len(labels)
    resampled = group_resampled = counted = group_counted = None
    if first.resampled is not None:
        resampled = sum(part.resampled or 0 for part in used)
        if groups:
            group_resampled = np.zeros(groups)
            for part, to_global in zip(used, global_codes, strict=True):
                if part.group_resampled is not None:
                    group_resampled[to_global] += part.group_resampled[: len(to_global)]
    if first.counted is not None:  # by query: each statistic's queries (Outcome.counted)
        counted = np.sum([part.counted for part in used if part.counted is not None], axis=0)
        if groups:
            group_counted = np.zeros((groups, len(first.counted)))
            for part, to_global in zip(used, global_codes, strict=True):
                if part.group_counted is not None:
                    group_counted[to_global] += part.group_counted[: len(to_global)]
    group_stats = [
        _by_code([part.group_stats[j] for part in used], global_codes, groups) for j in range(jobs)
    ] if groups else []  # fmt: skip
    group_replicates = None
    if groups and first.group_replicates is not None:
        group_replicates = [
            _by_code([part.group_replicates[j] for part in used if part.group_replicates], global_codes, groups)
            for j in range(jobs)
        ]
    return Outcome(
        rows=rows,
        rows_used=rows_used,
        stats=[slot.value for slot in overall if slot is not None],
        groups=labels,
        group_stats=group_stats,
        replicates=[slot.value for slot in replicates if slot is not None] if first.replicates is not None else None,
        group_replicates=group_replicates,
        samples=samples,
        layout=first.layout,
        moments=moments,
        group_moments=group_moments,
        notices=list(dict.fromkeys(notice for part in parts for notice in part.notices)),
        partnerless=partnerless,
        dropped_missing=in_plan_order(plan, dropped_missing),
        widths=widths.first,
        resampled=resampled,
        group_resampled=group_resampled,
        counted=counted,
        group_counted=group_counted,
    )
