"""From merged statistics to reported numbers, for many vectors at once: groups, replicates, gradients.

An :class:`~lossctl.aggregates.Aggregate` finalizes one statistics vector; a run with ``--by`` and
``--bootstrap`` has groups x replicates of them (2 million for 10,000 groups and 200 replicates). The
common aggregates have a ``many`` form that finalizes an array of vectors in a few NumPy operations; the
others are finalized one vector at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from lossctl.aggregates import Aggregate, Stats
from lossctl.normal import gradients


def finalize_many(aggregate: Aggregate, stats: np.ndarray, reduction: str, params: Mapping[str, Any]) -> np.ndarray:
    """The value of each vector (the last axis of ``stats``): an array of ``stats.shape[:-1]``, NaN or inf where
    the value is not finite (the caller decides whether that is an error)."""
    flat = stats.reshape(-1, stats.shape[-1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if aggregate.many is not None:
            values = np.broadcast_to(np.asarray(aggregate.many(flat.T, reduction, params), dtype=np.float64), len(flat))
        else:
            values = np.array([aggregate.finalize(cast(Stats, row), reduction, params) for row in flat], np.float64)
    return values.reshape(stats.shape[:-1])


def gradients_of(aggregate: Aggregate, stats: np.ndarray, reduction: str, params: Mapping[str, Any]) -> np.ndarray:
    """The finalizer's gradient at each row of ``stats``, NaN rows where it has none (:mod:`lossctl.normal`):
    the aggregate's own ``slopes`` where it has them, else central differences."""
    if aggregate.slopes is not None:
        stats = np.atleast_2d(stats)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            slopes = aggregate.slopes(stats.T, reduction, params)
        grads = np.column_stack([np.broadcast_to(np.asarray(slope, dtype=np.float64), len(stats)) for slope in slopes])
        grads[~np.isfinite(grads).all(axis=1)] = np.nan
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
