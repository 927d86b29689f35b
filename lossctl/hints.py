"""Notices for inputs that are valid but probably not what the user meant. They never change a number.

- Predictions given to a loss that takes logits (``cross_entropy``, ``bce_logits``, ``focal``...) that all look
  like probabilities (every value in [0, 1] and, for K columns, every row summing to 1): the notice names the
  loss for probabilities (the registry's ``on_probabilities``).
- Several prediction columns bound to a regression loss against one target column: they are evaluated as one
  multi-output prediction (each column against the target, pooled), which is rarely what a user comparing columns
  meant; the notice names ``--model``.
- Options that do nothing in this run: ``--seed`` without ``--bootstrap``, ``--significant`` without
  ``--fail-if-worse``, and ``--per-sample`` for a loss that is
  an aggregate of the whole input (``rmse``: no per-row values), or a composite with such a part, left out of the
  file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from lossctl.errors import option

if TYPE_CHECKING:
    from lossctl.binding import Binding
    from lossctl.engine import Job
    from lossctl.options import Options
    from lossctl.params import LossRequest

# Row sums within this of 1 count as probability rows (probabilities written with 6 decimals pass).
_ROW_SUM_TOLERANCE = 1e-4


class ProbabilityLook:
    """Watches the predictions of logit losses chunk by chunk; ``notices()`` names those that all looked like
    probabilities. The check is a minimum, a maximum and (for K columns) row sums per chunk."""

    def __init__(self, jobs: Sequence[Job]) -> None:
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
            if not len(array):
                continue
            self._width[columns] = array.shape[1]
            in_range = bool(array.min() >= 0.0 and array.max() <= 1.0)
            sums_to_one = array.shape[1] == 1 or bool(np.all(np.abs(array.sum(axis=1) - 1.0) <= _ROW_SUM_TOLERANCE))
            self._looks[columns] = in_range and sums_to_one

    def notices(self) -> list[str]:
        found = []
        for columns, jobs in self._watched.items():
            if not (self._looks[columns] and self._width[columns]):
                continue
            names = ", ".join(f"'{c}'" for c in columns)
            shape = "every row sums to 1" if self._width[columns] > 1 else "every value is in [0, 1]"
            twins = {job.request.spec.name: job.request.spec.on_probabilities for job in jobs}
            for name, twin in twins.items():
                found.append(
                    f"{name}: the predictions in {names} look like probabilities ({shape}), but {name} "
                    f"takes logits; for probabilities use {twin}"
                )
        return found


def multi_output_notices(requests: Sequence[LossRequest], binding: Binding) -> list[str]:
    """A notice per model whose prediction spans several columns against one target column in regression losses."""
    labels = [r.label for r in requests if r.spec.task == "regression" and "pred" in r.spec.role_names]
    found = []
    for model, roles in binding.role_sets():
        pred, target = roles.get("pred", []), roles.get("target", [])
        if labels and len(pred) > 1 and len(target) == 1:
            where = f" of model '{model}'" if model is not None else ""
            named = option("model", "NAME=COLUMN", keyword='models={"NAME": "COLUMN"}')
            fix = (
                f"give each column its own {named}" if model is not None else f"use {option('model', keyword='models')}"
            )
            found.append(
                f"the {len(pred)} columns {', '.join(pred)}{where} are evaluated as one multi-output prediction, "
                f"each against '{target[0]}' ({', '.join(labels)}); to compare them as models, {fix}"
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
    aggregates = list(dict.fromkeys(r.label for r in requests if not r.spec.per_row))
    aggregates += [c.name for c in options.composites if not all(r.spec.per_row for _, r in c.terms)]
    if options.per_sample and aggregates and any(r.spec.per_row for r in requests):  # none: a usage error
        verb = "is an aggregate" if len(aggregates) == 1 else "are aggregates"
        found.append(
            f"{option('per_sample')}: {', '.join(aggregates)} {verb} of the whole input, with no per-row values; "
            f"left out of {options.per_sample}"
        )
    return found
