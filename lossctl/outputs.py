"""Multi-output regression (scikit-learn's ``multioutput``): a value per output column.

With ``multioutput`` set, a regression loss contributes per row ``[l, l_1, ..., l_K]``: ``l`` is the mean of
the row's K per-output losses, so per-sample values and the pooled value stay what they are without the
parameter, and ``l_k`` is the loss of output k. The merged statistics ``[s, s_1..s_K, sum(w), n]`` split into
K ordinary single-output vectors ``[s_k, sum(w), n]`` (:func:`lossctl.aggregates.split_stats`), which the
loss's own aggregate finalizes. ``uniform`` averages the K values (:func:`lossctl.aggregates.multioutput`);
``raw`` reports each as its own result, ``mse[0]``, ``mse[1]``... (:func:`split_outputs`), with its groups,
bootstrap replicates and intervals split the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lossctl.distribution import Sample
    from lossctl.engine import Outcome, Plan
    from lossctl.params import LossRequest


def with_outputs(contributions: np.ndarray) -> np.ndarray:
    """``[row mean, per-output losses...]`` of elementwise losses (rows, or rows x K)."""
    columns = contributions.reshape(len(contributions), -1)
    return np.column_stack([columns.mean(axis=1), columns])


def raw_outputs(request: LossRequest) -> bool:
    """True for a loss that reports one result per output (``multioutput=raw``)."""
    return request.params.get("multioutput") == "raw"


def per_output_losses(contributions: np.ndarray) -> np.ndarray:
    """Each output's per-row losses (rows x K) from the contributions of :func:`with_outputs`."""
    return contributions[:, 1:]


def _positions(width: int, k: int) -> tuple[int, ...]:
    """Where output ``k``'s single-output statistics sit in a multi-output vector of ``width``."""
    return (1 + k, width - 2, width - 1)


def _output(values: np.ndarray, k: int) -> np.ndarray:
    """Output ``k``'s single-output statistics from the last axis of ``values`` (one vector or a stack)."""
    return values[..., list(_positions(values.shape[-1], k))]


def split_outputs(plan: Plan, outcome: Outcome) -> tuple[Plan, Outcome]:
    """``plan`` and ``outcome`` with every ``multioutput=raw`` job replaced by one job per output.

    The new jobs carry the request with its ``output`` index (named ``mse[k]``) and the sliced statistics
    overall, per group and per replicate, and their place in the stacked statistics of ``--ci`` (the layout's
    picks); per-row samples describe the pooled rows, so outputs have none.
    """
    from lossctl.engine import Job

    jobs: list[Job] = []
    stats: list[np.ndarray] = []
    group_stats: list[np.ndarray] = []
    samples: list[Sample | None] = []
    picks: list[tuple[int, tuple[int, ...] | None]] = []
    replicates: list[np.ndarray] | None = [] if outcome.replicates is not None else None
    group_replicates: list[np.ndarray] | None = [] if outcome.group_replicates is not None else None
    for j, job in enumerate(plan.jobs):
        raw = raw_outputs(job.request)
        outputs = range(len(outcome.stats[j]) - 3) if raw else [None]
        for k in outputs:
            jobs.append(job if k is None else Job(replace(job.request, output=k), job.roles, job.model))
            stats.append(outcome.stats[j] if k is None else _output(outcome.stats[j], k))
            if outcome.groups:
                group_stats.append(outcome.group_stats[j] if k is None else _output(outcome.group_stats[j], k))
            samples.append(outcome.samples[j] if k is None else None)
            picks.append((j, None if k is None else _positions(len(outcome.stats[j]), k)))
            if replicates is not None and outcome.replicates is not None:
                replicates.append(outcome.replicates[j] if k is None else _output(outcome.replicates[j], k))
            if group_replicates is not None and outcome.group_replicates is not None:
                by_group = outcome.group_replicates[j]
                group_replicates.append(by_group if k is None else _output(by_group, k))
    split = replace(
        outcome,
        stats=stats,
        group_stats=group_stats,
        replicates=replicates,
        group_replicates=group_replicates,
        samples=samples,
        layout=None if outcome.layout is None else replace(outcome.layout, picks=tuple(picks)),
    )
    return replace(plan, jobs=jobs), split
