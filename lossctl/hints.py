"""Notices for inputs that are valid but probably not what the user meant. They never change a number.

- Predictions given to a loss that takes logits (``cross_entropy``, ``bce_logits``, ``focal``...) that all look
  like probabilities (every value in [0, 1] and, for K columns, every row summing to 1): the notice names the
  loss for probabilities (the registry's ``on_probabilities``), and ``--convention lossctl`` when the run's
  convention refuses that loss.
- Several prediction columns bound to a regression loss against one target column: they are evaluated as one
  multi-output prediction (each column against the target, pooled), which is rarely what a user comparing columns
  meant; the notice names ``--model``. A list column holding several values per row against a one-value target is
  the same multi-output prediction, seen only once the values are read (:class:`ListOutputLook`); K columns against
  a list column of K values are not (:class:`VectorColumns`).
- Options that do nothing in this run: ``--seed`` without ``--bootstrap``, ``--significant`` without
  ``--fail-if-worse``, and ``--per-sample`` for a loss that is
  an aggregate of the whole input (``rmse``: no per-row values), or a composite with such a part, left out of the
  file; each with its aggregate's own reason (``Aggregate.no_rows``), as when no loss has per-row values.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.errors import UsageError, option
from lossctl.io.columns import quoted_columns
from lossctl.params import build_requests
from lossctl.tasks import ROW_SUM_TOLERANCE
from lossctl.text import show_name

if TYPE_CHECKING:
    from lossctl.binding import Binding
    from lossctl.engine import Job
    from lossctl.options import Options
    from lossctl.params import LossRequest


class ProbabilityLook:
    """Watches the predictions of logit losses chunk by chunk; ``notices()`` names those that all looked like
    probabilities. The check is a minimum, a maximum and (for K columns) row sums per chunk. The loss advised for
    probabilities is one the ``convention`` has, or the advice says to leave the convention."""

    def __init__(self, jobs: Sequence[Job], convention: str = "lossctl") -> None:
        self._convention = convention
        self._watched: dict[tuple[str, ...], list[Job]] = {}
        for job in jobs:
            spec = job.request.spec
            if spec.on_probabilities and job.request.params.get("from_logits", True):
                self._watched.setdefault(tuple(job.roles["pred"]), []).append(job)
        self._looks = dict.fromkeys(self._watched, True)
        self._width = dict.fromkeys(self._watched, 0)  # values per row; 0 until a row is seen

    def __bool__(self) -> bool:
        return bool(self._watched)

    def observe(self, values: dict[tuple[str, ...], np.ndarray]) -> None:
        """Look at one chunk's converted columns (rows with a missing value are left out)."""
        for columns in self._watched:
            if not self._looks[columns]:
                continue
            array = values[columns].reshape(len(values[columns]), -1)
            array = array[np.isfinite(array).all(axis=1)]
            if not array.size:  # no row left, or only rows of a list column that are null (a chunk of width 0)
                continue
            self._width[columns] = array.shape[1]
            in_range = bool(array.min() >= 0.0 and array.max() <= 1.0)
            sums_to_one = array.shape[1] == 1 or bool(np.all(np.abs(array.sum(axis=1) - 1.0) <= ROW_SUM_TOLERANCE))
            self._looks[columns] = in_range and sums_to_one

    def __getstate__(self) -> dict[str, Any]:
        """What a Dask task sends back: what its chunks looked like, not the jobs (a plugin's loss among them)."""
        return {"_looks": self._looks, "_width": self._width}

    def merge(self, other: ProbabilityLook) -> None:
        """Add what ``other`` saw of another part of the input (a Dask task's rows)."""
        for columns in self._watched:
            self._looks[columns] = self._looks[columns] and other._looks[columns]
            self._width[columns] = other._width[columns] or self._width[columns]

    def notices(self) -> list[str]:
        """One per loss and shape, naming every prediction binding that looked so: with ``--model 'm*'`` the
        models' columns share one line (``'m0', 'm1', ... (300 columns)``), not one line each."""
        found: dict[tuple[str, str, str | None], list[str]] = {}
        for columns, jobs in self._watched.items():
            if not (self._looks[columns] and self._width[columns]):
                continue
            shape = "every row sums to 1" if self._width[columns] > 1 else "every value is in [0, 1]"
            for job in jobs:
                named = found.setdefault((job.request.spec.name, shape, job.request.spec.on_probabilities), [])
                named += [column for column in columns if column not in named]
        return [
            f"{name}: the predictions in {quoted_columns(columns)} look like probabilities ({shape}), but {name} "
            f"takes logits; for probabilities use {twin}{self._leaving(twin)}"
            for (name, shape, twin), columns in found.items()
        ]

    def _leaving(self, twin: str | None) -> str:
        """`` with --convention lossctl`` when the loss advised is refused under this run's convention."""
        try:
            build_requests([twin or ""], (), self._convention)
        except UsageError:
            return f" with {option('convention', 'lossctl')}"
        return ""


class ListOutputLook:
    """Watches the regression losses whose ``pred`` is one column against one target column: a list column that holds
    K > 1 values per row is evaluated as one multi-output prediction (or, in the target, as one multi-output target
    against the one prediction), as K columns are (:func:`multi_output_notices`), but its width is known only once a
    chunk is converted."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self._watched: dict[tuple[tuple[str, ...], tuple[str, ...], str | None], list[str]] = {}
        for job in jobs:
            pred, target = job.roles.get("pred", []), job.roles.get("target", [])
            if job.request.spec.task == "regression" and len(pred) == 1 and len(target) == 1:
                labels = self._watched.setdefault((tuple(pred), tuple(target), job.model), [])
                labels += [job.request.label] if job.request.label not in labels else []
        self._width = dict.fromkeys(self._watched, 0)  # values per row of a list column; 0 until one is seen
        self._target_width = dict.fromkeys(self._watched, 0)  # the same, of a list target against a scalar pred

    def __bool__(self) -> bool:
        return bool(self._watched)

    def observe(self, values: dict[tuple[str, ...], np.ndarray]) -> None:
        for key in self._watched:
            pred, target = values[key[0]], values[key[1]]
            if not self._width[key] and pred.ndim == 2 and pred.shape[1] > 1 and target.ndim == 1:
                self._width[key] = pred.shape[1]
            if not self._target_width[key] and target.ndim == 2 and target.shape[1] > 1 and pred.ndim == 1:
                self._target_width[key] = target.shape[1]

    def merge(self, other: ListOutputLook) -> None:
        """Add what ``other`` saw of a later part of the input (a Dask task's rows)."""
        for key in self._watched:
            self._width[key] = self._width[key] or other._width[key]
            self._target_width[key] = self._target_width[key] or other._target_width[key]

    def notices(self) -> list[str]:
        found = []
        for (pred, target, model), labels in self._watched.items():
            if self._width[(pred, target, model)]:
                where = f" of model '{model}'" if model is not None else ""
                width = self._width[(pred, target, model)]
                found.append(
                    f"the list column '{show_name(pred[0])}'{where} holds {width} values per row, evaluated as one "
                    f"multi-output prediction, each against '{show_name(target[0])}' ({', '.join(labels)})"
                )
            if self._target_width[(pred, target, model)]:
                where = f" of model '{model}'" if model is not None else ""
                width = self._target_width[(pred, target, model)]
                found.append(
                    f"the list column '{show_name(target[0])}' holds {width} values per row, evaluated as one "
                    f"multi-output target, each against the one prediction '{show_name(pred[0])}'{where} "
                    f"({', '.join(labels)})"
                )
        return found


class Looks:
    """The watchers of the converted chunks (:class:`ProbabilityLook`, :class:`ListOutputLook`) as one."""

    def __init__(self, jobs: Sequence[Job], convention: str = "lossctl") -> None:
        self._looks = [look for look in (ProbabilityLook(jobs, convention), ListOutputLook(jobs)) if look]

    def __bool__(self) -> bool:
        return bool(self._looks)

    def observe(self, values: dict[tuple[str, ...], np.ndarray]) -> None:
        for look in self._looks:
            look.observe(values)

    def merge(self, other: Looks) -> None:
        """Add what ``other`` (the same watchers, of a Dask task: :func:`lossctl.cluster.run_part`) saw of a later
        part of the input, as though this one had observed its chunks."""
        for look, theirs in zip(self._looks, other._looks, strict=True):
            look.merge(theirs)  # type: ignore[arg-type]  # the same watchers, in the same order

    def notices(self) -> list[str]:
        return [notice for look in self._looks for notice in look.notices()]


class VectorColumns:
    """The bound columns seen holding a vector per row (list columns, JSON-array cells) once a chunk is converted:
    one such column against K columns is K against K, no multi-output notice (:func:`multi_output_notices`)."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def observe(self, values: dict[tuple[str, ...], np.ndarray]) -> None:
        self.found.update(key[0] for key, array in values.items() if len(key) == 1 and array.ndim == 2)


def multi_output_notices(
    requests: Sequence[LossRequest], binding: Binding, vectors: Collection[str] = frozenset()
) -> list[str]:
    """A notice per model whose prediction spans several columns against one target column in regression losses,
    and one for several target columns against one prediction column (each model's): each is scored against it.
    A one column of ``vectors`` (a list column, :class:`VectorColumns`) holds as many values: no notice."""
    labels = [r.label for r in requests if r.spec.task == "regression" and "pred" in r.spec.role_names]
    found = []
    scalar_preds = []  # the one prediction column of each model, against several target columns
    for model, roles in binding.role_sets():
        pred, target = roles.get("pred", []), roles.get("target", [])
        if labels and len(pred) == 1 and len(target) > 1 and pred[0] not in vectors:
            scalar_preds.append(f"'{pred[0]}'" + (f" of model '{model}'" if model is not None else ""))
        if labels and len(pred) > 1 and len(target) == 1 and target[0] not in vectors:
            where = f" of model '{model}'" if model is not None else ""
            named = option("model", "NAME=COLUMN", keyword='models={"NAME": "COLUMN"}')
            fix = (
                f"give each column its own {named}" if model is not None else f"use {option('model', keyword='models')}"
            )
            found.append(
                f"the {len(pred)} columns {', '.join(pred)}{where} are evaluated as one multi-output prediction, "
                f"each against '{target[0]}' ({', '.join(labels)}); to compare them as models, {fix}"
            )
    if scalar_preds:
        target = binding.roles["target"]
        found.append(
            f"the {len(target)} columns {', '.join(target)} are evaluated as one multi-output target, each against "
            f"the one prediction {', '.join(scalar_preds)} ({', '.join(labels)}); to score one prediction column per "
            "target column, give the prediction as many columns"
        )
    return found


def option_notices(options: Options, requests: Sequence[LossRequest]) -> list[str]:
    """A notice per option given that has no effect on this run's results."""
    found = []
    if options.seed and not options.bootstrap:
        found.append(f"{option('seed')} has no effect without {option('bootstrap')} (it seeds the resampling)")
    if options.significant and options.fail_if_worse is None:
        found.append(
            f"{option('significant')} has no effect without {option('fail_if_worse')} (it fails that gate only "
            "where it is significant)"
        )

    def per_row(request: LossRequest) -> bool:  # in some binding; which bindings do is told by lossctl.samples
        return request.spec.aggregate_for(options.convention).per_row

    # Each with its aggregate's own reason, as the usage error when no loss has per-row values words it.
    reasons = [f"{r.label} {r.spec.aggregate_for(options.convention).no_rows}" for r in requests if not per_row(r)]
    for composite in options.composites:
        parts = list(dict.fromkeys(r.label for _, r in composite.terms if not per_row(r)))
        if parts:
            reasons.append(f"{composite.name} adds up {', '.join(parts)}, with no per-row values")
    if options.per_sample and reasons and any(map(per_row, requests)):  # none: a usage error
        found.append(f"{option('per_sample')}: {'; '.join(dict.fromkeys(reasons))}; left out of {options.per_sample}")
    return found
