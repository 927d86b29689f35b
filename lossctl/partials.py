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
from lossctl.engine import Outcome, check_rows
from lossctl.stats import Accumulator


def _add(slot: Accumulator | None, stats: np.ndarray) -> Accumulator:
    slot = slot or Accumulator(stats.shape)
    slot.add(stats)
    return slot


def _group_key(label: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(label.values())


def merge_outcomes(parts: Sequence[Outcome], jobs: int) -> Outcome:
    """The outcome of the whole input from the outcomes of its ``parts``, given in input order, for ``jobs`` jobs.

    A part without rows to evaluate (all dropped, or none) adds its row count only; the merged outcome is
    checked as one pass's would be (:func:`~lossctl.engine.check_rows`).
    """
    rows = sum(part.rows for part in parts)
    rows_used = sum(part.rows_used for part in parts)
    check_rows(rows, rows_used)
    used = [part for part in parts if part.rows_used]
    bootstrap = used[0].replicates is not None
    overall: list[Accumulator | None] = [None] * jobs
    replicates: list[Accumulator | None] = [None] * jobs
    codes: dict[tuple[Any, ...], int] = {}
    labels: list[dict[str, Any]] = []
    group_stats: list[dict[int, Accumulator]] = [{} for _ in range(jobs)]
    group_replicates: list[dict[int, Accumulator]] = [{} for _ in range(jobs)]
    samples: list[Sample | None] = [None] * jobs
    for part in used:
        local_to_global = []
        for label in part.groups:
            code = codes.setdefault(_group_key(label), len(labels))
            if code == len(labels):
                labels.append(label)
            local_to_global.append(code)
        for j in range(jobs):
            overall[j] = _add(overall[j], part.stats[j])
            if part.replicates is not None:
                replicates[j] = _add(replicates[j], part.replicates[j])
            for local, stats in part.group_stats[j].items():
                code = local_to_global[local]
                group_stats[j][code] = _add(group_stats[j].get(code), stats)
            if part.group_replicates is not None:
                for local, stats in part.group_replicates[j].items():
                    code = local_to_global[local]
                    group_replicates[j][code] = _add(group_replicates[j].get(code), stats)
            sample = part.samples[j]
            if sample is not None:
                merged = samples[j] or Sample()
                merged.merge(sample)
                samples[j] = merged
    return Outcome(
        rows=rows,
        rows_used=rows_used,
        stats=[slot.value for slot in overall if slot is not None],
        groups=labels,
        group_stats=[{code: slot.value for code, slot in per_job.items()} for per_job in group_stats],
        replicates=[slot.value for slot in replicates if slot is not None] if bootstrap else None,
        group_replicates=[{code: slot.value for code, slot in per_job.items()} for per_job in group_replicates]
        if bootstrap
        else None,
        samples=samples,
    )
