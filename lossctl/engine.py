"""One pass over the chunks of an input: every selected loss's statistics, merged exactly, finalized once.

The engine reads nothing itself: it takes Arrow record batches (from a file, a join or stdin),
converts each bound column to float64 once per chunk, checks missing and infinite values over the
whole input, and feeds every job. Per chunk it adds, for each job, the overall statistics vector,
one vector per ``--by`` group and one per bootstrap replicate; chunks are merged through
:class:`~lossctl.stats.Accumulator`, so the result does not depend on how the input was cut beyond
float64 rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.bootstrap import replicate_sums
from lossctl.defaults import default_chunk_rows
from lossctl.distribution import Sample, row_keys
from lossctl.errors import DomainError, InputError, UsageError
from lossctl.groups import GroupCoder
from lossctl.losses._shared import chunk_scope
from lossctl.options import Options
from lossctl.params import LossRequest
from lossctl.prefetch import prefetch
from lossctl.registry import per_row_losses
from lossctl.stats import Accumulator, grouped_sums, weighted_sums
from lossctl.text import count

if TYPE_CHECKING:
    import pyarrow as pa

    from lossctl.labels import Encoder

MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Job:
    """One loss with the columns bound to each of its roles, for one model (``None`` without ``--model``)."""

    request: LossRequest
    roles: dict[str, list[str]]
    model: str | None = None


@dataclass(frozen=True)
class Plan:
    """What one pass computes: the jobs, the sample weights, the groups, the bootstrap replicates."""

    jobs: list[Job]
    weight: str | None = None
    by: list[str] = field(default_factory=list)
    key: str | None = None
    bootstrap: int = 0
    seed: int = 0
    distributions: bool = False
    encoders: Mapping[str, Encoder] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        names = [c for job in self.jobs for cols in job.roles.values() for c in cols]
        names += [c for c in (self.weight, *self.by, self.key) if c]
        return list(dict.fromkeys(names))

    def job_index(self, request: LossRequest, model: str | None) -> int:
        """The index of the job evaluating ``request`` for ``model``."""
        return next(j for j, job in enumerate(self.jobs) if job.request is request and job.model == model)

    @property
    def value_columns(self) -> list[tuple[str, ...]]:
        """Every distinct column binding the jobs read, converted once per chunk."""
        bound = [tuple(cols) for job in self.jobs for cols in job.roles.values()]
        return list(dict.fromkeys(bound + ([(self.weight,)] if self.weight else [])))


# Receives, per chunk: the 0-based file rows kept, the --on key values (or None) and each
# per-row job's per-row losses (job index -> array).
PerSampleSink = Callable[[np.ndarray, "pa.Array | None", dict[int, np.ndarray]], None]


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
    """What one pass found: row counts and, per job, the merged statistics overall, per group, per replicate."""

    rows: int
    rows_used: int
    stats: list[np.ndarray]
    groups: list[dict[str, Any]]
    group_stats: list[dict[int, np.ndarray]]
    replicates: list[np.ndarray] | None
    group_replicates: list[dict[int, np.ndarray]] | None
    samples: list[Sample | None]

    @property
    def rows_dropped(self) -> int:
        return self.rows - self.rows_used


class _Accumulators:
    """Per job: the overall accumulator, one per group code, and the replicates' (compensated) sums."""

    def __init__(self) -> None:
        self.overall: Accumulator | None = None
        self.groups: dict[int, Accumulator] = {}
        self.replicates: Accumulator | None = None
        self.group_replicates: dict[int, Accumulator] = {}
        self.sample: Sample | None = None

    @staticmethod
    def _add(slot: Accumulator | None, stats: np.ndarray) -> Accumulator:
        slot = slot or Accumulator(stats.shape)
        slot.add(stats)
        return slot


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


def _convert(
    batch: pa.RecordBatch, plan: Plan, offset: int
) -> tuple[dict[tuple[str, ...], np.ndarray], dict[tuple[str, ...], np.ndarray]]:
    """float64 arrays per bound column set (vector roles as rows x K matrices) and their missing masks."""
    from lossctl.io.convert import is_vector_column, to_float64, to_float64_matrix

    values: dict[tuple[str, ...], np.ndarray] = {}
    missing: dict[tuple[str, ...], np.ndarray] = {}
    for columns in plan.value_columns:
        scalar = len(columns) == 1 and not is_vector_column(batch.column(columns[0]))
        if scalar and columns[0] in plan.encoders:  # labels: class names, a positive class, query ids
            array = plan.encoders[columns[0]].encode(batch.column(columns[0]), columns[0], offset)
            mask = np.isnan(array) if np.isnan(array).any() else None
        elif scalar:
            array, mask = to_float64(batch.column(columns[0]), columns[0], row_offset=offset)
        else:
            array, mask = to_float64_matrix([batch.column(c) for c in columns], list(columns), row_offset=offset)
        values[columns] = array
        if mask is not None:
            missing[columns] = mask
    return values, missing


def run(
    batches: Iterable[pa.RecordBatch],
    plan: Plan,
    options: Options,
    per_sample: PerSampleSink | None = None,
    progress: Callable[[int], None] | None = None,
    observe: Callable[[dict[tuple[str, ...], np.ndarray]], None] | None = None,
    first_row: int = 0,
    part: bool = False,
) -> Outcome:
    """Evaluate every job of ``plan`` over ``batches`` in one pass and return the merged statistics.

    ``progress(rows_read)`` is called after each chunk is read; ``observe(values)`` sees each chunk's converted
    columns (by bound column set), for notices about the data (:mod:`lossctl.hints`). ``first_row`` is the
    input's row number of the first batch's first row: a part of a larger input (a task of the Dask engine,
    :mod:`lossctl.cluster`) numbers its rows as the whole input does, so bootstrap counts, sampled rows and
    messages do not depend on the split. With ``part``, an empty outcome is not an error here: the parts are
    merged first (:func:`lossctl.partials.merge_outcomes`), then checked with :func:`check_rows`.
    """
    requests = [job.request for job in plan.jobs]
    for request in requests:
        if options.reduction not in request.spec.aggregate_for(options.convention).reductions:
            raise UsageError(f"loss '{request.spec.name}' is an aggregate: it has only the mean reduction")
    slots = [_Accumulators() for _ in plan.jobs]
    coder = GroupCoder(plan.by) if plan.by else None
    missing_rows: dict[str, _BadValues] = {}
    infinite_rows: dict[str, _BadValues] = {}
    rows = rows_used = 0
    width = sum(len(columns) for columns in plan.value_columns)
    rows_per_chunk = options.chunk_rows or default_chunk_rows(width)
    for batch in rechunk(prefetch(batches), chunk_size(requests, rows_per_chunk)):
        offset, rows = first_row + rows, rows + batch.num_rows
        if progress is not None:
            progress(rows)
        values, missing = _convert(batch, plan, offset)
        if observe is not None:
            observe(values)
        row_index = np.arange(offset, first_row + rows)
        for columns, array in values.items():
            infinite = np.isinf(array).reshape(len(array), -1).any(axis=1)
            if infinite.any():
                infinite_rows.setdefault(",".join(columns), _BadValues()).add(infinite, row_index)
        keep = None
        if missing:
            any_missing = np.logical_or.reduce(list(missing.values()))
            if options.missing == "drop":
                keep = ~any_missing
            else:
                for columns, mask in missing.items():
                    missing_rows.setdefault(",".join(columns), _BadValues()).add(mask, row_index)
        if missing_rows or infinite_rows:
            continue
        codes = coder.codes(batch) if coder else None
        keys = batch.column(plan.key) if plan.key and per_sample else None
        if keep is not None:
            values = {columns: array[keep] for columns, array in values.items()}
            row_index = row_index[keep]
            codes = codes[keep] if codes is not None else None
            keys = keys.filter(keep) if keys is not None else None
        if len(row_index) == 0:
            continue
        rows_used += len(row_index)
        weight = values[(plan.weight,)] if plan.weight else None
        if weight is not None:
            _check_weights(weight, plan.weight or "", row_index)
        per_row: dict[int, np.ndarray] = {}
        sampled = _sampled_rows(row_index, slots) if plan.distributions else None
        with chunk_scope():
            contributions_of = [_contributions(job, options.convention, values, row_index) for job in plan.jobs]
        for j, (job, contributions) in enumerate(zip(plan.jobs, contributions_of, strict=True)):
            _accumulate(slots[j], contributions, weight, codes, row_index, plan)
            if job.request.spec.per_row:
                losses = per_row_losses(contributions)
                if per_sample is not None:
                    per_row[j] = losses
                if sampled is not None:
                    positions, sample_keys = sampled
                    sample = slots[j].sample = slots[j].sample or Sample()
                    sample.see_maximum(losses)
                    sample.add(losses[positions], sample_keys, rows=len(losses))
        if per_sample is not None:
            per_sample(row_index, keys, per_row)
    _raise_bad_values(missing_rows, infinite_rows)
    if not part:
        check_rows(rows, rows_used)
    stats = [slot.overall.value for slot in slots if slot.overall]
    return Outcome(
        rows=rows,
        rows_used=rows_used,
        stats=stats,
        groups=[coder.label(code) for code in range(len(coder.keys))] if coder else [],
        group_stats=[{g: acc.value for g, acc in slot.groups.items()} for slot in slots],
        replicates=[slot.replicates.value for slot in slots if slot.replicates] if plan.bootstrap else None,
        group_replicates=[{g: a.value for g, a in slot.group_replicates.items()} for slot in slots]
        if plan.bootstrap
        else None,
        samples=[slot.sample for slot in slots],
    )


def check_rows(rows: int, rows_used: int) -> None:
    """An input without rows to evaluate is an input error, never a NaN (docs/cli.md)."""
    if rows_used == 0:
        if rows == 0:
            raise InputError("the input has no rows")
        raise InputError(f"all {rows} rows were dropped for missing values: nothing left to evaluate")


def _sampled_rows(row_index: np.ndarray, slots: list[_Accumulators]) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's rows that may enter the per-row samples, and their keys: every job samples the same rows
    (keys depend on the row alone), so the rows are chosen once, below the samples' common threshold."""
    keys = row_keys(row_index)
    thresholds = [slot.sample.threshold for slot in slots if slot.sample]
    if not thresholds or any(threshold is None for threshold in thresholds):
        return np.arange(len(keys)), keys
    positions = np.flatnonzero(keys < np.uint64(min(t for t in thresholds if t is not None)))
    return positions, keys[positions]


def _accumulate(
    slot: _Accumulators,
    contributions: np.ndarray,
    weight: np.ndarray | None,
    codes: np.ndarray | None,
    row_index: np.ndarray,
    plan: Plan,
) -> None:
    # A sum that overflows is reported once, as an input error, when the result is finalized: NumPy's
    # RuntimeWarnings ("overflow encountered in reduce") would reach stderr as extra lines.
    with np.errstate(over="ignore", invalid="ignore"):
        _accumulate_sums(slot, contributions, weight, codes, row_index, plan)


def _accumulate_sums(
    slot: _Accumulators,
    contributions: np.ndarray,
    weight: np.ndarray | None,
    codes: np.ndarray | None,
    row_index: np.ndarray,
    plan: Plan,
) -> None:
    slot.overall = slot._add(slot.overall, weighted_sums(contributions, weight))
    if plan.bootstrap:
        replicas = replicate_sums(contributions, weight, row_index, plan.bootstrap, plan.seed)
        slot.replicates = slot._add(slot.replicates, replicas)
    if codes is None:
        return
    present = np.unique(codes)
    local = np.searchsorted(present, codes)
    per_group = grouped_sums(contributions, weight, local, len(present))
    for i, code in enumerate(present.tolist()):
        slot.groups[code] = slot._add(slot.groups.get(code), per_group[i])
        if plan.bootstrap:
            rows = local == i
            group_weight = weight[rows] if weight is not None else None
            replicas = replicate_sums(contributions[rows], group_weight, row_index[rows], plan.bootstrap, plan.seed)
            slot.group_replicates[code] = slot._add(slot.group_replicates.get(code), replicas)


def _check_weights(weight: np.ndarray, column: str, row_index: np.ndarray) -> None:
    negative = weight < 0
    if negative.any():
        first = int(np.argmax(negative))
        raise InputError(
            f"column '{column}' has {int(negative.sum())} negative weights (first: {weight[first]:g} "
            f"at row {row_index[first]}); sample weights must be >= 0"
        )


def _shaped(job: Job, role: str, array: np.ndarray) -> np.ndarray:
    """``array`` as ``role`` takes it: one column is a K = 1 vector for a vector role (as
    :func:`~lossctl.io.convert.to_float64_matrix` makes it); several values per row for a one-value role
    are an input error, where the loss would otherwise read the first value only, or fail on the shape."""
    ndims = job.request.spec.role(role).ndims
    if array.ndim in ndims:
        return array
    if array.ndim == 1:
        return array.reshape(-1, 1)
    columns = job.roles[role]
    names = ", ".join(f"'{c}'" for c in columns)
    noun, verb = ("column", "holds") if len(columns) == 1 else ("columns", "hold")
    raise InputError(
        f"{job.request.spec.name}: {noun} {names} ({role}) {verb} "
        f"{array.shape[1]} values per row, but the role '{role}' takes one value per row"
    )


def _contributions(
    job: Job, convention: str, values: dict[tuple[str, ...], np.ndarray], row_index: np.ndarray
) -> np.ndarray:
    spec = job.request.spec
    arrays = {role: _shaped(job, role, values[tuple(job.roles[role])]) for role in spec.role_names}
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            contributions = spec.contributions(arrays, job.request.params, convention)
    except DomainError as error:
        raise error.locate(
            spec.name, job.roles[error.role], int(row_index[error.first_row]) - error.first_row
        ) from None
    finite = np.isfinite(contributions)
    if not finite.all():
        first = int(np.argmax(~finite.reshape(len(finite), -1).all(axis=1)))
        bad = int((~finite).sum())
        # A built-in loss of finite inputs is finite unless it overflows; a plugin's may not be.
        if spec.origin is not None:
            value = contributions.reshape(len(contributions), -1)[first][~finite.reshape(len(finite), -1)[first]][0]
            raise InputError(
                f"loss '{job.request.label}' ({spec.origin}) returned {value} at row {row_index[first]} "
                f"({count(bad, 'non-finite value')}); a loss must return finite numbers"
            )
        raise InputError(
            f"{job.request.label}: the loss overflows float64 at row {row_index[first]} "
            f"({count(bad, 'value')}); rescale the inputs"
        )
    return contributions


def _raise_bad_values(missing_rows: dict[str, _BadValues], infinite_rows: dict[str, _BadValues]) -> None:
    if missing_rows:
        problems = "; ".join(bad.describe(column, "missing") for column, bad in missing_rows.items())
        raise InputError(f"{problems}; use --missing drop to drop those rows")
    if infinite_rows:
        raise InputError("; ".join(bad.describe(column, "infinite") for column, bad in infinite_rows.items()))
