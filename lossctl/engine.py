"""One pass over the chunks of an input: every selected loss's statistics, merged exactly, finalized once.

The engine reads nothing itself: it takes Arrow record batches (from a file, a join or stdin),
converts the bound columns to float64 once per chunk, checks missing and infinite values, and
feeds every loss. Chunks are merged through :class:`~lossctl.stats.Accumulator`, so the result does
not depend on how the input was cut beyond float64 rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from lossctl.errors import DomainError, InputError, UsageError
from lossctl.params import LossRequest
from lossctl.stats import Accumulator, weighted_sums

if TYPE_CHECKING:
    import pyarrow as pa

MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Binding:
    """Which columns feed which role; ``weight`` is the sample-weight column, if any."""

    roles: dict[str, list[str]]
    weight: str | None = None

    @property
    def columns(self) -> list[str]:
        names = [c for cols in self.roles.values() for c in cols]
        if self.weight:
            names.append(self.weight)
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Options:
    reduction: str = "mean"
    convention: str = "lossctl"
    missing: str = "error"
    chunk_rows: int = 1 << 18


@dataclass
class _BadValues:
    """Rows of one column holding missing or infinite values, counted over the whole input."""

    count: int = 0
    rows: list[int] = field(default_factory=list)

    def add(self, mask: np.ndarray, row_index: np.ndarray) -> None:
        self.count += int(mask.sum())
        if len(self.rows) < MAX_ROWS_SHOWN:
            self.rows.extend(int(r) for r in row_index[mask][: MAX_ROWS_SHOWN - len(self.rows)])

    def describe(self, column: str, what: str) -> str:
        shown = ", ".join(map(str, self.rows)) + (", ..." if self.count > len(self.rows) else "")
        values = "value" if self.count == 1 else "values"
        return f"column '{column}' has {self.count} {what} {values} (rows {shown}; 0-based)"


@dataclass
class Outcome:
    """What one pass found: row counts and, per request, the merged statistics."""

    rows: int
    rows_used: int
    stats: list[np.ndarray]

    @property
    def rows_dropped(self) -> int:
        return self.rows - self.rows_used


def _convert(batch: pa.RecordBatch, binding: Binding, offset: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """float64 arrays per column (vector roles as rows x K matrices) and per-column missing masks."""
    from lossctl.io.convert import to_float64, to_float64_matrix

    values: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for role, columns in binding.roles.items():
        if len(columns) == 1 and batch.schema.field(columns[0]).type.num_fields == 0:
            array, mask = to_float64(batch.column(columns[0]), columns[0], row_offset=offset)
        else:
            array, mask = to_float64_matrix([batch.column(c) for c in columns], columns)
        values[role] = array
        if mask is not None:
            missing[",".join(columns)] = mask
    if binding.weight:
        array, mask = to_float64(batch.column(binding.weight), binding.weight, row_offset=offset)
        values["weight"] = array
        if mask is not None:
            missing[binding.weight] = mask
    return values, missing


def chunk_size(requests: list[LossRequest], chunk_rows: int) -> int | None:
    """Rows per chunk for these losses: ``None`` (everything at once) when one needs the whole input,
    else ``chunk_rows`` rounded to a multiple of every batch loss's batch size, so no batch is cut."""
    if any(request.spec.whole_input for request in requests):
        return None
    batch = math.lcm(*(int(r.params[r.spec.batch_param]) for r in requests if r.spec.batch_param))
    return max(1, chunk_rows // batch) * batch


def rechunk(batches: Iterable[pa.RecordBatch], rows: int | None) -> Iterator[pa.RecordBatch]:
    """Re-cut ``batches`` into chunks of exactly ``rows`` rows (the last may be shorter); ``None``: one chunk."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if not pending and rows is not None and batch.num_rows == rows:
            yield batch
            continue
        pending.append(batch)
        count += batch.num_rows
        while rows is not None and count >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows).combine_chunks().to_batches()[0]
            rest = table.slice(rows)
            pending, count = rest.combine_chunks().to_batches(), rest.num_rows
    if count:
        table = pa.Table.from_batches(pending).combine_chunks()
        yield from table.to_batches(max_chunksize=count)


def run(
    batches: Iterable[pa.RecordBatch],
    requests: list[LossRequest],
    binding: Binding,
    options: Options,
) -> Outcome:
    """Evaluate every request over ``batches`` in one pass and return the merged statistics."""
    for request in requests:
        if options.reduction not in request.spec.aggregate_for(options.convention).reductions:
            raise UsageError(f"loss '{request.spec.name}' is an aggregate: it has only the mean reduction")
    funcs = [request.spec.function(options.convention) for request in requests]
    accumulators: list[Accumulator] = []
    missing_rows: dict[str, _BadValues] = {}
    infinite_rows: dict[str, _BadValues] = {}
    rows = rows_used = 0
    for batch in rechunk(batches, chunk_size(requests, options.chunk_rows)):
        offset, rows = rows, rows + batch.num_rows
        values, missing = _convert(batch, binding, offset)
        row_index = np.arange(offset, rows)
        for column, array in _columns_of(values, binding):
            infinite = np.isinf(array).reshape(len(array), -1).any(axis=1)
            if infinite.any():
                infinite_rows.setdefault(column, _BadValues()).add(infinite, row_index)
        keep = None
        if missing:
            any_missing = np.logical_or.reduce(list(missing.values()))
            if options.missing == "drop":
                keep = ~any_missing
            else:
                for column, mask in missing.items():
                    missing_rows.setdefault(column, _BadValues()).add(mask, row_index)
        if missing_rows or infinite_rows:
            continue
        if keep is not None:
            values = {role: array[keep] for role, array in values.items()}
            row_index = row_index[keep]
        if len(row_index) == 0:
            continue
        rows_used += len(row_index)
        weight = values.pop("weight", None)
        if weight is not None:
            _check_weights(weight, binding.weight or "", row_index)
        for i, (request, func) in enumerate(zip(requests, funcs, strict=True)):
            contributions = _contributions(request, func, values, binding, row_index)
            stats = weighted_sums(contributions, weight)
            if len(accumulators) <= i:
                accumulators.append(Accumulator(len(stats)))
            accumulators[i].add(stats)
    _raise_bad_values(missing_rows, infinite_rows)
    if rows_used == 0:
        if rows == 0:
            raise InputError("the input has no rows")
        raise InputError(f"all {rows} rows were dropped for missing values: nothing left to evaluate")
    stats = [acc.value for acc in accumulators]
    if binding.weight and stats and stats[0][-2] <= 0:
        raise InputError(f"the weights in column '{binding.weight}' sum to zero: the weighted mean is undefined")
    return Outcome(rows, rows_used, stats)


def _columns_of(values: dict[str, np.ndarray], binding: Binding) -> Iterator[tuple[str, np.ndarray]]:
    for role, array in values.items():
        yield (binding.weight or "" if role == "weight" else ",".join(binding.roles[role])), array


def _check_weights(weight: np.ndarray, column: str, row_index: np.ndarray) -> None:
    negative = weight < 0
    if negative.any():
        first = int(np.argmax(negative))
        raise InputError(
            f"column '{column}' has {int(negative.sum())} negative weights (first: {weight[first]:g} "
            f"at row {row_index[first]}); sample weights must be >= 0"
        )


def _contributions(
    request: LossRequest, func: object, values: dict[str, np.ndarray], binding: Binding, row_index: np.ndarray
) -> np.ndarray:
    spec = request.spec
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            contributions = func(*(values[role] for role in spec.role_names), **request.params)  # type: ignore[operator]
    except DomainError as error:
        columns = binding.roles[error.role]
        raise error.locate(spec.name, columns, int(row_index[error.first_row]) - error.first_row) from None
    finite = np.isfinite(contributions)
    if not finite.all():
        first = int(np.argmax(~finite.reshape(len(finite), -1).all(axis=1)))
        raise InputError(
            f"{request.label}: the loss overflows float64 at row {row_index[first]} "
            f"({int((~finite).sum())} values); rescale the inputs"
        )
    return contributions


def _raise_bad_values(missing_rows: dict[str, _BadValues], infinite_rows: dict[str, _BadValues]) -> None:
    if missing_rows:
        problems = "; ".join(bad.describe(column, "missing") for column, bad in missing_rows.items())
        raise InputError(f"{problems}; use --missing drop to drop those rows")
    if infinite_rows:
        raise InputError("; ".join(bad.describe(column, "infinite") for column, bad in infinite_rows.items()))
