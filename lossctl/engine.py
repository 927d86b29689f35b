"""One pass over the chunks of an input: every selected loss's statistics, merged exactly, finalized once.

The engine reads nothing itself: it takes Arrow record batches (from a file, a join or stdin). The reader
thread (:class:`_Reader`) reads one chunk ahead, cuts chunks (or, for ranking losses that stream, whole
queries: :mod:`lossctl.queries`), converts each bound column to float64 once per chunk, finds missing and
infinite values and, with ``--by``, gives every row its global group code (:mod:`lossctl.groups`). The main
thread computes each job's per-row contributions and reduces them (:class:`_Worker`): the overall statistics
vector, one per group (few groups in one ``bincount`` table of short row-order cells, many by sorted runs
within cache-sized blocks), and the cross-products of ``--ci`` (:mod:`lossctl.normal`). With ``--bootstrap``
chunks are computed by a pool of one worker per core, since the replicates' work (:mod:`lossctl.bootstrap`)
is long and releases the GIL; they are merged in file order either way. Chunks are merged with
compensation (:class:`~lossctl.stats.Accumulator`), so the result does not depend on how the input was
cut beyond float64 rounding.

Per-group, replicate and cross-product statistics are kept for every job at once, in one stacked vector
per row (:class:`Layout`): each job's ``w*c`` columns, then ``w`` and 1.
"""

from __future__ import annotations

import contextvars
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from lossctl.aggregates import earlier_rows
from lossctl.bootstrap import replicate_sums
from lossctl.defaults import LOSS_BLOCK_ROWS, block_rows, default_chunk_rows
from lossctl.distribution import Sample, row_keys
from lossctl.errors import (
    DomainError,
    InputError,
    LossctlError,
    MismatchedWidths,
    NoRows,
    UsageError,
    check_site,
    option,
)
from lossctl.groups import GroupCoder
from lossctl.io.columns import quoted_columns
from lossctl.losses._shared import chunk_scope
from lossctl.memory import chunk_limit, group_limit
from lossctl.normal import GroupMoments, Moments, chunk_moments, group_moments, run_moments
from lossctl.options import Options
from lossctl.outputs import per_output_losses, raw_outputs
from lossctl.params import LossRequest
from lossctl.prefetch import prefetch
from lossctl.queries import QueriesNotContiguous, query_chunks
from lossctl.registry import per_row_losses, row_overflow
from lossctl.stats import Accumulator, GroupAccumulator, all_finite, segment_sums, weighted_sums
from lossctl.text import count, show_name, shown_value
from lossctl.threads import blas_single_threaded, workers
from lossctl.units import Units, first_rows

if TYPE_CHECKING:
    import pyarrow as pa

    from lossctl.hints import Looks
    from lossctl.io.convert import DecimalMarks, VectorWidths
    from lossctl.labels import Encoder

MAX_ROWS_SHOWN = 5

_T = TypeVar("_T")
# A group's rows of a block of the chunk are added in row order at most this many at a time (NumPy's
# pairwise sum itself adds up to 128 values in a row before pairing).
_SHORT_RUNS = 128
# From this many loss evaluations per whole chunk (ten losses; five models of two losses), chunks are computed
# on two threads side by side.
_PARALLEL_JOBS = 8
# Up to this many groups in a chunk, a block's rows are summed in cells of _SHORT_RUNS rows per group.
_FEW_GROUPS = 64


@dataclass(frozen=True)
class Job:
    """One loss with the columns bound to each of its roles, for one model (``None`` without ``--model``)."""

    request: LossRequest
    roles: dict[str, list[str]]
    model: str | None = None


@dataclass(frozen=True)
class Plan:
    """What one pass computes: the jobs, the sample weights, the groups, the bootstrap replicates, and
    (``moments``) the cross-products of the normal-approximation intervals."""

    jobs: list[Job]
    weight: str | None = None
    by: list[str] = field(default_factory=list)
    keys: tuple[str, ...] = ()  # the --on key columns, written beside --per-sample losses
    bootstrap: int = 0
    seed: int = 0
    distributions: bool = False
    moments: bool = False
    hold: bool = False  # losses reading queries together see the whole input at once (queries not contiguous)
    encoders: Mapping[str, Encoder] = field(default_factory=dict)  # label columns (lossctl.labels)

    @property
    def columns(self) -> list[str]:
        names = [c for job in self.jobs for cols in job.roles.values() for c in cols]
        names += [c for c in (self.weight, *self.by, *self.keys) if c]
        return list(dict.fromkeys(names))

    def job_index(self, request: LossRequest, model: str | None) -> int:
        """The index of the job evaluating ``request`` for ``model``."""
        return next(j for j, job in enumerate(self.jobs) if job.request is request and job.model == model)

    @property
    def query_ids(self) -> list[tuple[str, ...]]:
        """The query id columns of the losses reading queries: with any, the unit intervals resample is the query
        (:mod:`lossctl.units`)."""
        return list(dict.fromkeys(tuple(job.roles["qid"]) for job in self.jobs if _reads_queries(job)))

    @property
    def value_columns(self) -> list[tuple[str, ...]]:
        """Every distinct column binding the jobs read, converted once per chunk."""
        bound = [tuple(cols) for job in self.jobs for cols in job.roles.values()]
        return list(dict.fromkeys(bound + ([(self.weight,)] if self.weight else [])))


# Receives, per chunk: the 0-based file rows kept, the --on key columns' values (or None) and each
# per-row job's per-row losses (job index -> array; rows x outputs for multioutput=raw).
PerSampleSink = Callable[[np.ndarray, "list[pa.Array] | None", dict[int, np.ndarray]], None]


@dataclass
class BadValues:
    """Rows of one column binding holding missing or infinite values (or negative weights), counted over the whole
    input."""

    count: int = 0
    rows: list[int] = field(default_factory=list)

    def add(self, mask: np.ndarray, row_index: np.ndarray) -> None:
        self.count += int(mask.sum())
        if len(self.rows) < MAX_ROWS_SHOWN:
            self.rows.extend(int(r) for r in row_index[mask][: MAX_ROWS_SHOWN - len(self.rows)])

    def extend(self, later: BadValues) -> None:
        """Add the rows of ``later``, counted in a later part of the input."""
        self.count += later.count
        self.rows.extend(later.rows[: MAX_ROWS_SHOWN - len(self.rows)])

    def describe(self, columns: tuple[str, ...], what: str) -> str:
        """``column 'w' has 2 {what}s (rows 3, 7; 0-based)``; for several columns (one vector), which rows hold one:
        ``columns 'a', 'b' have {what}s in 2 rows (rows 3, 7; 0-based)``."""
        shown = ", ".join(map(str, self.rows)) + (", ..." if self.count > len(self.rows) else "")
        rows = "row" if self.count == 1 else "rows"
        if len(columns) > 1:
            return f"{bound_columns(columns)} have {what}s in {count(self.count, 'row')} ({rows} {shown}; 0-based)"
        return f"{bound_columns(columns)} has {count(self.count, what)} ({rows} {shown}; 0-based)"


def bound_columns(columns: tuple[str, ...]) -> str:
    """``column 'w'``, or ``columns 'a', 'b', 'c'`` for a binding of several: messages name each column, not the
    binding's label ``a,b,c``, which no column is named."""
    return f"column '{show_name(columns[0])}'" if len(columns) == 1 else f"columns {quoted_columns(columns)}"


def dropped_columns(dropped_missing: Mapping[tuple[str, ...], int]) -> str:
    """``1 in column 'y', 2 in column 'm_b'``: the rows ``--missing drop`` dropped, counted per column."""
    return ", ".join(f"{n} in {bound_columns(bound)}" for bound, n in dropped_missing.items() if n)


@dataclass
class Refusals:
    """What makes the input fail but is told only after the last chunk, counted over every chunk: the rows of each
    column with missing or infinite values or negative weights, and the first refusal of a loss's domain
    (:meth:`_State.take`). The Dask engine's tasks return theirs, which the client merges in input order
    (:meth:`merge`), so its error is the one a local pass over the whole input gives. ``failure``: a part's error
    in computing a loss (a plugin's own) before any refusal, which a whole pass tells at once, and not at all
    after a refusal, when it computes no more losses: the part counts its later bad values, and the merge keeps
    the failure only if no earlier part refused. ``marks``: the decimal marks of the text columns
    (:class:`~lossctl.io.convert.DecimalMarks`), an error when one is held, which ends the computing: told before
    bad values and domain refusals, as one chunk tells it. ``seen``: a refused part's :attr:`Outcome.seen`, for the
    client to check the later parts against (not merged)."""

    missing: dict[tuple[str, ...], BadValues] = field(default_factory=dict)
    infinite: dict[tuple[str, ...], BadValues] = field(default_factory=dict)
    negative: dict[tuple[str, ...], BadValues] = field(default_factory=dict)
    domain: DomainError | None = None
    failure: LossctlError | None = None
    marks: DecimalMarks | None = None
    seen: list[Any] = field(default_factory=list)

    @property
    def bad_values(self) -> bool:
        return bool(self.missing or self.infinite or self.negative)

    @property
    def held(self) -> bool:
        """Whether a decimal mark is an error."""
        return self.marks is not None and self.marks.held is not None

    def __bool__(self) -> bool:
        return self.bad_values or self.held or self.domain is not None or self.failure is not None

    def merge(self, later: Refusals, plan: Plan) -> None:
        """Add the refusals of a later part of the input, as the chunks of one pass add theirs: bad values are
        counted; a domain refusal as :meth:`told`. A failure ends the pass: after one, nothing later counts; a later
        part's counts only if nothing was refused before. Decimal marks are merged; after one held, only marks
        count (one pass computes no more)."""
        if self.failure is not None:
            return
        if later.failure is not None and not self:
            self.failure = later.failure
            return
        if self.marks is None:
            self.marks = later.marks
        elif later.marks is not None:
            self.marks.merge(later.marks)
        if self.held:
            return
        for mine, theirs in zip(
            (self.missing, self.infinite, self.negative), (later.missing, later.infinite, later.negative), strict=True
        ):
            for column, bad in theirs.items():
                mine.setdefault(column, BadValues()).extend(bad)
        if later.domain is not None:
            self.told(later.domain, plan)

    def told(self, found: DomainError, plan: Plan) -> None:
        """Take ``found``, a domain refusal of later rows, as one pass over all the rows would: counted when it is
        this one; in its place when it is an earlier job's, or the same job's check that comes first in the loss
        (:meth:`~lossctl.errors.DomainError.precedes`: one pass over rows failing both checks tells that one,
        wherever its rows are); else not told."""
        first = self.domain
        if first is None:
            self.domain = found
        elif not first.add(found):
            job, earlier = _job_of(plan, found), _job_of(plan, first)
            if job < earlier or (job == earlier and found.precedes(first)):
                self.domain = found

    def error(self, plan: Plan) -> LossctlError:
        """The error to report: a failure before any refusal, a held decimal mark, bad values (in the plan's column
        order), else the domain refusal."""
        if self.failure is not None:
            return self.failure
        if self.marks is not None and self.marks.held is not None:
            return self.marks.error()
        missing, infinite, negative = (in_plan_order(plan, bad) for bad in (self.missing, self.infinite, self.negative))
        error = bad_values_error(missing, infinite, negative)
        if error is not None:
            return error
        assert self.domain is not None
        return self.domain


def bad_values_error(
    missing: Mapping[tuple[str, ...], BadValues],
    infinite: Mapping[tuple[str, ...], BadValues],
    negative: Mapping[tuple[str, ...], BadValues],
) -> InputError | None:
    """The error of the bad values counted per column binding (``None`` without any): missing values first (with
    the fix, ``--missing drop``), then infinite values, then negative weights; each names every binding holding
    one, in the order given. Eval's and suggest's one message."""
    if missing:
        problems = "; ".join(bad.describe(column, "missing value") for column, bad in missing.items())
        return InputError(f"{problems}; use {option('missing', 'drop')} to drop those rows", row=_first(missing))
    if infinite:
        problems = "; ".join(bad.describe(column, "infinite value") for column, bad in infinite.items())
        return InputError(problems, row=_first(infinite))
    if negative:
        problems = "; ".join(bad.describe(column, "negative weight") for column, bad in negative.items())
        return InputError(f"{problems}; sample weights must be >= 0", row=_first(negative))
    return None


def _first(bad: Mapping[tuple[str, ...], BadValues]) -> int:
    """The row a message about ``bad`` values cites first: its first column's first row."""
    return next(iter(bad.values())).rows[0]


class Refused(InputError):
    """A part of the input (``run(part=True)``) failed: its :class:`Refusals`, to merge with the other parts'."""

    def __init__(self, refusals: Refusals, plan: Plan) -> None:
        self.refusals = refusals
        error = refusals.error(plan)
        super().__init__(str(error), row=getattr(error, "row", None))  # a failure may be a usage error


@dataclass(frozen=True)
class Layout:
    """Where each job's statistics sit in the stacked vector ``[job 0's columns, job 1's..., w, 1]``."""

    widths: tuple[int, ...]
    # Jobs taken out of others' (:func:`lossctl.outputs.split_outputs`: one job per output of multioutput=raw): job
    # ``i``'s vector is job ``picks[i][0]``'s at positions ``picks[i][1]`` (all of it when ``None``).
    picks: tuple[tuple[int, tuple[int, ...] | None], ...] = ()

    @property
    def width(self) -> int:
        return sum(self.widths) + 2

    def columns(self, job: int) -> np.ndarray:
        """The stacked positions of job ``job``'s vector ``[its columns..., w, n]``."""
        if self.picks:
            source, positions = self.picks[job]
            columns = Layout(self.widths).columns(source)
            return columns if positions is None else columns[list(positions)]
        start = sum(self.widths[:job])
        return np.concatenate([np.arange(start, start + self.widths[job]), [self.width - 2, self.width - 1]])


@dataclass
class Outcome:
    """What one pass found: row counts and, per job, the merged statistics overall, per group (rows of an
    array by group code; groups without rows have ``n`` 0) and per replicate, and the ``--ci`` moments."""

    rows: int
    rows_used: int
    stats: list[np.ndarray]
    groups: list[dict[str, Any]]
    group_stats: list[np.ndarray]
    replicates: list[np.ndarray] | None
    group_replicates: list[np.ndarray] | None
    samples: list[Sample | None]
    layout: Layout | None = None
    moments: Moments | None = None
    group_moments: GroupMoments | None = None
    notices: list[str] = field(default_factory=list)
    partnerless: int = 0
    dropped_missing: dict[tuple[str, ...], int] = field(default_factory=dict)
    # Each vector binding's width and the row it was first seen at (VectorWidths), checked across parts too.
    widths: dict[tuple[str, ...], tuple[int, int]] = field(default_factory=dict)
    # With --bootstrap and --weight or a ranking loss, the bootstrap's observations, overall and per group code: the
    # rows (queries: lossctl.units) of nonzero weight (one of weight 0 resampled adds nothing to any replicate).
    resampled: int | None = None
    group_resampled: np.ndarray | None = None
    # With --bootstrap and a ranking loss, how many queries have each stacked statistic nonzero, overall and per group
    # code (groups x width): a ratio's observations are those of a nonzero denominator (Aggregate.observations).
    counted: np.ndarray | None = None
    group_counted: np.ndarray | None = None
    # What the rows showed each job's loss (Aggregate.across), for the Dask client to check across parts.
    seen: list[Any] = field(default_factory=list)
    # A Dask part's lossctl.hints.Looks (what its chunks looked like), merged by the client in input order.
    looks: Looks | None = None
    # A part's labels, by label column (Encoder.met): what the Dask client replays in input order.
    labels: dict[str, dict[Any, int]] = field(default_factory=dict)
    # The decimal marks of a part's text columns (DecimalMarks), which the Dask client merges in input order.
    marks: DecimalMarks | None = None

    def resampled_rows(
        self, rows: int, group: int | None = None, every_row: bool = False, counted: int | None = None
    ) -> int:
        """The observations a bootstrap resamples among ``rows`` rows (overall, or of ``group``): those of nonzero
        weight when weighted, queries with a ranking loss (those whose stacked statistic ``counted`` is nonzero,
        where given), unless the value is over ``every_row`` (Keras' mean, where a row of weight 0 is an observation
        of 0). One alone gives replicates that all hold it, a zero-width interval."""
        if every_row:
            return rows
        counts = self.counted if group is None or self.group_counted is None else self.group_counted[group]
        if counted is not None and counts is not None:
            return int(counts[counted])
        if group is None:
            return rows if self.resampled is None else self.resampled
        return rows if self.group_resampled is None else int(self.group_resampled[group])

    @property
    def rows_dropped(self) -> int:
        """The rows ``--missing drop`` left out: the :attr:`partnerless` ones, and the others with a missing value,
        counted per column in :attr:`dropped_missing` (a row missing in two columns counts in both)."""
        return self.rows - self.rows_used

    def covariance(self, group: int | None = None, every_row: bool = False) -> np.ndarray | None:
        """``Cov(S)`` of the stacked statistics (:class:`Layout`), overall or of one group, for the delta
        method; ``None`` without ``--ci`` moments or below 2 rows (:func:`~lossctl.normal.covariance`)."""
        if group is None:
            return self.moments.covariance(every_row) if self.moments is not None else None
        return self.group_moments.covariance(group, every_row) if self.group_moments is not None else None

    def observed_once(self, group: int | None, every_row: bool, counted: int | None) -> bool:
        """Whether one unit (query) alone, overall or of ``group``, has the stacked statistic ``counted`` nonzero
        (ranknet's one query with a pair): its value is that unit's, with no interval (``--ci`` moments). Never
        where ``counted`` is ``None`` (the weight counts, :meth:`covariance`) or the value is over ``every_row``."""
        if counted is None or every_row:
            return False
        if group is None:
            return self.moments is not None and self.moments.observed_once(counted)
        return self.group_moments is not None and self.group_moments.observed_once(group, counted)


def query_column(plan: Plan) -> str | None:
    """The query id column the whole-input losses read, when they all read one (and only those stream)."""
    whole = [job for job in plan.jobs if job.request.spec.whole_input]
    columns = {tuple(job.roles.get("qid", ())) for job in whole}
    if len(columns) != 1:
        return None
    (column,) = columns
    return column[0] if len(column) == 1 else None


def _reads_queries(job: Job) -> bool:
    """Whether the job's loss compares the documents of each query (a ranking loss reading a ``qid``)."""
    return job.request.spec.whole_input and "qid" in job.roles


def query_labels(plan: Plan, pairwise: bool = False) -> str:
    """The labels of the losses that read whole queries (``pairwise``: that compare their documents in pairs), each
    once, however many models each is evaluated for."""
    requests = [
        job.request for job in plan.jobs if job.request.spec.whole_input and (job.request.spec.pairwise or not pairwise)
    ]
    return ", ".join(dict.fromkeys(request.label for request in requests))


def held_notice(plan: Plan, apart: QueriesNotContiguous) -> str:
    """Why the whole input is held: a query whose rows are apart (``apart``), and how to stream instead."""
    labels = query_labels(plan)
    return (
        f"{labels}: the rows of query {shown_value(apart.qid)} are not contiguous (it appears again at row "
        f"{apart.row}), so the whole input is held in memory; sort the file by '{query_column(plan)}' to stream it "
        "query by query"
    )


def chunk_size(requests: list[LossRequest], chunk_rows: int) -> int | None:
    """Rows per chunk for these losses: ``None`` (everything at once) when one needs the whole input,
    else ``chunk_rows`` rounded to a multiple of every batch loss's batch size, so no batch is cut.
    (Losses reading queries are cut at query boundaries instead: :mod:`lossctl.queries`.)"""
    if any(request.spec.whole_input for request in requests):
        return None
    batch = math.lcm(*(int(r.params[r.spec.batch_param]) for r in requests if r.spec.batch_param))
    return max(1, chunk_rows // batch) * batch


@dataclass(frozen=True)
class BatchBound:
    """The memory bound of chunks that whole batches make longer than ``--chunk-rows`` (``ordinary`` rows): a chunk
    of ``rows`` rows for the batch losses of ``requests`` (docs/cli.md, "Faults": a batch of more rows than memory
    holds is an input error saying what to change, not a MemoryError). Looked at only past ``ordinary`` rows."""

    requests: tuple[LossRequest, ...]
    ordinary: int
    rows: int

    def check(self, held: int, pending: Sequence[pa.RecordBatch]) -> None:
        """Stop when the ``held`` rows of ``pending`` (one chunk's, so far) are more than a chunk may hold."""
        if held <= self.ordinary:
            return
        limit, available = chunk_limit()
        if limit is None or sum(batch.nbytes for batch in pending) <= limit:
            return
        memory = f"the {held:,} rows read so far are more than the {available / 1e9:.1f} GB of memory available holds"
        sizes = {r.label: (name, int(r.params[name])) for r in self.requests if (name := r.spec.batch_param)}
        large = {label: name for label, (name, size) in sizes.items() if size > self.ordinary}
        if large:
            smaller = "use a smaller " + " or ".join(dict.fromkeys(large.values()))
            raise InputError(f"{', '.join(large)}: a batch's rows are held at once, and {memory}; {smaller}")
        raise InputError(
            f"{', '.join(sizes)}: read together, their batches need chunks of {self.rows:,} rows (the least common "
            f"multiple of their sizes), and {memory}; evaluate them in separate runs, or choose sizes that divide "
            "one another"
        )


def rechunk(
    batches: Iterable[pa.RecordBatch], rows: int | None, bound: BatchBound | None = None
) -> Iterator[pa.RecordBatch]:
    """Re-cut ``batches`` into chunks of exactly ``rows`` rows (the last may be shorter); ``None``: one chunk.
    A chunk beyond what ``bound`` lets memory hold is an input error, raised as soon as it is.

    Batches are joined by :func:`~lossctl.io.parts.batches_table`: a column's type may change between them.
    """
    from lossctl.io.parts import batches_table

    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if not pending and rows is not None and batch.num_rows == rows:
            yield batch
            continue
        pending.append(batch)
        held += batch.num_rows
        if bound is not None:
            bound.check(held, pending)
        while rows is not None and held >= rows:
            table = batches_table(pending)
            yield table.slice(0, rows).combine_chunks().to_batches()[0]
            rest = table.slice(rows)
            pending, held = rest.combine_chunks().to_batches(), rest.num_rows
    if held:
        table = batches_table(pending).combine_chunks()
        yield from table.to_batches(max_chunksize=held)


def _convert(
    batch: pa.RecordBatch,
    plan: Plan,
    offset: int,
    marks: DecimalMarks | None = None,
    widths: VectorWidths | None = None,
) -> tuple[dict[tuple[str, ...], np.ndarray], dict[tuple[str, ...], np.ndarray], dict[tuple[str, ...], np.ndarray]]:
    """float64 arrays per bound column set (vector roles as rows x K matrices), the masks of their missing values
    and of their rows with an infinite value. One pass over a column tells that it has neither
    (:func:`~lossctl.stats.all_finite`); only a column that has one is looked at again."""
    from lossctl.io.convert import (
        DecimalsHeld,
        VectorWidthError,
        float64_values,
        is_vector_column,
        nan_mask,
        to_float64_matrix,
    )

    values: dict[tuple[str, ...], np.ndarray] = {}
    missing: dict[tuple[str, ...], np.ndarray] = {}
    infinite: dict[tuple[str, ...], np.ndarray] = {}
    for columns in plan.value_columns:
        mask = None
        seen = widths is not None and widths.holds_vectors(columns)
        labels = columns[0] in plan.encoders  # labels: class names, a positive class, query ids
        if len(columns) == 1 and not seen and not is_vector_column(batch.column(columns[0]), labels):
            if labels:
                array = plan.encoders[columns[0]].encode(batch.column(columns[0]), columns[0], offset)
                if columns[0] == plan.weight:
                    _check_weight_is_not_recoded(batch.column(columns[0]), columns[0], array, offset)
            else:
                array = float64_values(batch.column(columns[0]), columns[0], row_offset=offset, marks=marks)
            finite = all_finite(array)
            mask = None if finite else nan_mask(array)
        else:
            columns_read = [batch.column(c) for c in columns]
            try:
                array, mask = to_float64_matrix(columns_read, list(columns), row_offset=offset, as_json=seen)
            except VectorWidthError as error:  # cited from the input's first row, as any chunking cites it
                raise (widths.cite(error) if widths is not None else error) from None
            finite = all_finite(array)
        if widths is not None:
            widths.saw(columns, array, mask, offset)
        if marks is not None and marks.held in columns:
            raise DecimalsHeld  # the columns after it: one chunk would tell the held column's error first
        values[columns] = array
        if mask is not None:
            missing[columns] = mask
        if not finite and np.isinf(array).any():  # rare: only then which rows (a row-wise any() costs 3x)
            infinite[columns] = np.isinf(array).reshape(len(array), -1).any(axis=1)
    for column, encoder in plan.encoders.items():
        encoder.check_widths(column, values)
    return values, missing, infinite


def _check_weight_is_not_recoded(column: pa.Array, name: str, labels: np.ndarray, offset: int) -> None:
    """A column that is both labels and the sample weight (one converted array serves both) weighs rows by its
    own numbers: text is not numeric, and numbers that ``--positive`` or ``--classes`` recode are refused."""
    from lossctl.io.convert import to_float64

    numbers, _ = to_float64(column, name, row_offset=offset)
    if not np.array_equal(numbers, labels, equal_nan=True):
        raise InputError(
            f"column '{show_name(name)}' is both the labels (recoded by {option('positive')} or "
            f"{option('classes')}) and the sample weight; give the weights in a column of their own"
        )


@dataclass
class _Chunk:
    """One chunk as the reader thread prepared it: converted columns of the rows kept (``row_index``: their
    file rows), the missing and infinite values found, and with ``--by`` each row's group as ``numbers[local]``
    (:meth:`~lossctl.groups.GroupCoder.codes`); ``group_queries``: by query id columns that the groups split, each
    row's query within its group (:func:`_group_queries`)."""

    offset: int
    rows: int
    missing: dict[tuple[str, ...], np.ndarray]
    infinite: dict[tuple[str, ...], np.ndarray]
    negative: dict[tuple[str, ...], np.ndarray]
    partnerless: int = 0
    dropped_missing: dict[tuple[str, ...], int] = field(default_factory=dict)
    values: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    row_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    keys: list[pa.Array] | None = None
    local: np.ndarray | None = None
    numbers: np.ndarray | None = None
    group_queries: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)


class _Reader:
    """The reader thread's share of the work, chunk after chunk, in file order (module docstring)."""

    def __init__(
        self,
        plan: Plan,
        options: Options,
        coder: GroupCoder | None,
        keys: bool,
        notify: Callable[[str], None],
        observe: Callable[[dict[tuple[str, ...], np.ndarray]], None] | None = None,
        widths: VectorWidths | None = None,
    ) -> None:
        self.plan = plan
        self.options = options
        self.coder = coder
        self.keys = keys
        self.notify = notify
        self.observe = observe
        self.failed = False
        from lossctl.io.convert import DecimalMarks, VectorWidths

        # Decimal points and commas are not mixed across chunks either; with --decimal , points are refused.
        self.marks = DecimalMarks(options.decimal, [name for columns in plan.value_columns for name in columns])
        # Under --by, the query id columns of the ranking losses (their groups' values read queries cut by group).
        self.query_columns = plan.query_ids if coder is not None else []
        self.told_split = False
        self.widths = widths if widths is not None else VectorWidths()  # nor list columns' widths

    def chunks(self, batches: Iterable[pa.RecordBatch], rows_per_chunk: int, first_row: int) -> Iterator[_Chunk]:
        """The prepared chunks; ``first_row`` numbers the first row as the whole input does (a part's)."""
        requests = [job.request for job in self.plan.jobs]
        column = query_column(self.plan)
        if column is not None:
            chunks = query_chunks(batches, column, None if self.plan.hold else rows_per_chunk, self._large_query)
        else:
            size = chunk_size(requests, rows_per_chunk)
            batched = tuple(request for request in requests if request.spec.batch_param)
            bound = BatchBound(batched, rows_per_chunk, size) if size is not None and size > rows_per_chunk else None
            chunks = rechunk(batches, size, bound)
        offset = first_row
        for batch in chunks:
            yield self.prepare(batch, offset)
            offset += batch.num_rows

    def _large_query(self, qid: object, documents: int) -> None:
        labels = query_labels(self.plan, pairwise=True)
        if labels:
            pairs = documents * (documents - 1) // 2
            self.notify(
                f"{labels}: query {shown_value(qid)} has {documents:,} documents, {pairs:,} pairs to compare: "
                "this takes a while"
            )

    def prepare(self, batch: pa.RecordBatch, offset: int) -> _Chunk:
        from lossctl.io.convert import DecimalsHeld, decimal_option

        try:
            with decimal_option(self.options.decimal):
                values, missing, infinite = _convert(batch, self.plan, offset, self.marks, self.widths)
        except DecimalsHeld:  # the run ends in the held error: the later chunks are only read for their marks
            self.failed = True
            return _Chunk(offset, batch.num_rows, {}, {}, {})
        if self.observe is not None:
            self.observe(values)
        drop = self.options.missing == "drop"
        partnerless = _partnerless(batch) if drop else None
        dropped = [*missing.values(), *([partnerless] if partnerless is not None else [])] if drop else []
        negative = _negative_weights(values, self.plan.weight, dropped)
        chunk = _Chunk(offset, batch.num_rows, {} if drop else missing, infinite, negative)
        # After a missing (not dropped) or infinite value, or a negative weight, the run ends in an error: only
        # count the others.
        self.failed = self.failed or bool(infinite) or bool(missing and not drop) or bool(negative)
        if self.failed:
            return chunk
        chunk.row_index = np.arange(offset, offset + batch.num_rows)
        chunk.partnerless = int(partnerless.sum()) if partnerless is not None else 0
        if self.coder is not None:
            chunk.local, chunk.numbers = _group_codes(self.coder, batch, partnerless if chunk.partnerless else None)
        chunk.keys = [batch.column(name) for name in self.plan.keys] if self.keys and self.plan.keys else None
        if drop and (missing or chunk.partnerless):
            dropped = list(missing.values())
            if partnerless is not None and chunk.partnerless:  # a row without a partner counts as that alone
                dropped.append(partnerless)
                chunk.dropped_missing = {columns: int((mask & ~partnerless).sum()) for columns, mask in missing.items()}
            else:
                chunk.dropped_missing = {columns: int(mask.sum()) for columns, mask in missing.items()}
            keep = ~np.logical_or.reduce(dropped)
            values = {columns: array[keep] for columns, array in values.items()}
            chunk.row_index = chunk.row_index[keep]
            chunk.local = chunk.local[keep] if chunk.local is not None else None
            chunk.keys = [key.filter(keep) for key in chunk.keys] if chunk.keys is not None else None
        chunk.values = values
        if self.query_columns:
            self._queries_in_groups(chunk)
        return chunk

    def _queries_in_groups(self, chunk: _Chunk) -> None:
        """Each query id column whose queries the ``--by`` groups split in this chunk, with each row's query within
        its group (:func:`_group_queries`): a group's ranking value is the loss of its rows alone (docs/cli.md). A
        chunk holds whole queries (streamed or held), so each is seen whole. Told once, when first found."""
        if chunk.local is None or chunk.rows < 2:
            return
        for columns in self.query_columns:
            qid = chunk.values[columns]
            if qid.ndim != 1:
                continue  # a query id is one value per row: the loss refuses it
            split = _group_queries(qid, chunk.local)
            if split is None:
                continue
            chunk.group_queries[columns], position = split
            if not self.told_split:
                self.told_split = True
                self.notify(
                    f"{query_labels(self.plan)}: the documents of a query fall in several {option('by')} groups (row "
                    f"{int(chunk.row_index[position])} and another row of its query), so a group's value is the loss "
                    "of the group's rows alone, each query cut to its documents in the group, and the groups do not "
                    "recombine into the overall value"
                )


def _group_queries(qid: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``None`` when each query's rows are all in one group; else each row's query within its group (a code for
    each distinct ``(qid, group)``) and the position of a row whose query has rows in another group too."""
    order = np.lexsort((local, qid))
    ids, groups = qid[order], local[order]
    same_query = ids[1:] == ids[:-1]
    other_group = groups[1:] != groups[:-1]
    split = np.flatnonzero(same_query & other_group)
    if not split.size:
        return None
    codes = np.empty(len(qid))
    codes[order] = np.concatenate([[0], np.cumsum(~same_query | other_group)])
    return codes, int(order[split[0] + 1])


def _group_codes(
    coder: GroupCoder, batch: pa.RecordBatch, partnerless: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``--by`` group as ``(local, numbers)`` (:meth:`~lossctl.groups.GroupCoder.codes`). A row without
    a partner (``partnerless``, dropped) is in no group: it is counted as one without a partner, and a key read
    from the other file is unknown in it, not missing (coding its null made a group of missing keys that no row
    had: ``group g=(missing) has no rows left``). Its ``local`` is 0, never read. The batch is filtered only when
    some of its rows have no partner."""
    if partnerless is None:
        return coder.codes(batch)
    import pyarrow as pa

    partnered = ~partnerless
    local, numbers = coder.codes(batch.filter(pa.array(partnered)))
    every = np.zeros(batch.num_rows, dtype=local.dtype)
    every[partnered] = local
    return every, numbers


def _partnerless(batch: pa.RecordBatch) -> np.ndarray | None:
    """The rows of a joined batch without a partner in the other file (:data:`~lossctl.io.align.NO_PARTNER`)."""
    from lossctl.arrow import booleans
    from lossctl.io.align import NO_PARTNER

    if NO_PARTNER not in batch.schema.names:
        return None
    return booleans(batch.column(NO_PARTNER))


def _group_order(local: np.ndarray, distinct: int) -> np.ndarray:
    """The stable order sorting ``local`` (in ``0..distinct-1``): NumPy's radix sort of 8- or 16-bit keys, in
    two passes above 65,535 (a comparison sort of a chunk's int64 codes took 10x longer)."""
    if distinct <= 1 << 8:
        return np.argsort(local.astype(np.uint8), kind="stable")
    if distinct <= 1 << 16:
        return np.argsort(local.astype(np.uint16), kind="stable")
    low = np.argsort((local & 0xFFFF).astype(np.uint16), kind="stable")
    high = local[low] >> 16
    return low[np.argsort(high.astype(np.uint16 if distinct <= 1 << 32 else np.uint64), kind="stable")]


@dataclass
class _Partial:
    """One chunk's statistics, computed by a worker, merged by the main thread in file order."""

    rows_used: int
    stats: list[np.ndarray]
    widths: tuple[int, ...]
    row_index: np.ndarray
    keys: list[pa.Array] | None
    per_row: dict[int, np.ndarray] = field(default_factory=dict)
    samples: list[tuple[np.ndarray, np.ndarray, int, float] | None] = field(default_factory=list)
    groups: tuple[np.ndarray, np.ndarray] | None = None
    replicates: np.ndarray | None = None
    group_replicates: tuple[np.ndarray, np.ndarray] | None = None
    moments: tuple[int, np.ndarray, np.ndarray] | None = None
    group_moments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    resampled: int = 0
    group_resampled: tuple[np.ndarray, np.ndarray] | None = None
    counted: np.ndarray | None = None  # by query: each stacked statistic's nonzero queries (Outcome.counted)
    group_counted: tuple[np.ndarray, np.ndarray] | None = None


def run(
    batches: Iterable[pa.RecordBatch],
    plan: Plan,
    options: Options,
    per_sample: PerSampleSink | None = None,
    progress: Callable[[int], object] | None = None,
    notify: Callable[[str], None] | None = None,
    observe: Callable[[dict[tuple[str, ...], np.ndarray]], None] | None = None,
    first_row: int = 0,
    part: bool = False,
    seen: Sequence[Any] | None = None,
    widths: VectorWidths | None = None,
) -> Outcome:
    """Evaluate every job of ``plan`` over ``batches`` in one pass and return the merged statistics.

    ``progress(rows_read)`` is called after each chunk is read; ``notify(message)`` says what the user should
    know before the work is done (a query with many pairs), from the reader thread; without it, the message
    joins :attr:`Outcome.notices`. ``observe(values)`` sees each chunk's converted columns (by bound column
    set), for notices about the data (:mod:`lossctl.hints`). Raises :class:`~lossctl.queries.QueriesNotContiguous`
    when losses stream query by query and a query's rows turn out apart (then run again with ``Plan.hold``).

    ``first_row`` is the input's row number of the first batch's first row: a part of a larger input (a task of
    the Dask engine, :mod:`lossctl.cluster`) numbers its rows as the whole input does, so bootstrap counts,
    sampled rows and messages do not depend on the split. With ``part``, an empty outcome is not an error here:
    the parts are merged first (:func:`lossctl.partials.merge_outcomes`), then checked with :func:`check_rows`.
    ``seen``: what the rows before the part showed each job's loss (:attr:`Outcome.seen`), when the Dask client
    judges again, after the earlier parts, a part whose rows they contradict (a label set). ``widths``: the
    list columns' widths, filled as the chunks are read (a failed Dask task's, checked against the earlier parts').
    """
    requests = [job.request for job in plan.jobs]
    for request in requests:
        request.spec.aggregate_reducing(options.convention, options.reduction, plan.weight is not None)
    width = sum(len(columns) for columns in plan.value_columns)
    rows_per_chunk = options.chunk_rows or default_chunk_rows(width)
    coder = _coder(plan) if plan.by else None
    told: list[str] = []
    reader = _Reader(plan, options, coder, per_sample is not None, notify or told.append, observe, widths)
    worker = _Worker(plan, options, per_sample is not None)
    state = _State(plan, first_row, part)
    if seen is not None:
        state.seen = list(seen)
    chunks = prefetch(reader.chunks(batches, rows_per_chunk, first_row))
    # The main thread computes the chunks while the reader reads. More workers only pay off when a chunk's
    # work is long and spent in NumPy and BLAS: the bootstrap (200 replicates on 10M rows, 5.3 s on one
    # thread, 3.3 s on two), or many losses on whole chunks (ten regression losses by 10 groups: 0.74 s on one,
    # 0.68 s on two); with a few losses the reader thread keeps the second core busy already. Losses summed in
    # blocks make calls short enough for two threads to contend for the GIL: ten losses 0.52 s on two, 0.49 s
    # on one; five models of three losses 0.75 s on two, 0.67 s on one.
    parallel = workers() > 1 and (
        plan.bootstrap > 0 or (len(plan.jobs) >= _PARALLEL_JOBS and worker.loss_block is None)
    )
    with blas_single_threaded():
        if not parallel:
            for chunk in chunks:
                if state.admit(chunk, progress):
                    state.take(chunk, worker, per_sample)
        else:
            with ThreadPoolExecutor(workers(), thread_name_prefix="lossctl-worker") as pool:
                pending: deque[tuple[_Chunk, Future[_Partial]]] = deque()
                for chunk in chunks:
                    if state.admit(chunk, progress):
                        # In a copy of this thread's context (one per chunk: a context runs in one thread at a
                        # time), so that errors raised there spell options as the run does.
                        work = contextvars.copy_context().run
                        pending.append((chunk, pool.submit(work, worker.work, chunk, state.thresholds())))
                    while len(pending) > workers() or (pending and pending[0][1].done()):
                        done, future = pending.popleft()
                        state.take(done, worker, per_sample, future)
                while pending:
                    done, future = pending.popleft()
                    state.take(done, worker, per_sample, future)
    # A held decimal mark is told after the last chunk, as one chunk would tell it (DecimalMarks); a part's marks,
    # held or not, are merged with the other parts' by the Dask client.
    state.refused.marks = reader.marks
    outcome = state.outcome(coder, part)
    outcome.marks = reader.marks
    outcome.notices = told
    outcome.widths = reader.widths.first
    outcome.seen = state.seen
    return outcome


def check_rows(
    rows: int, rows_used: int, partnerless: int = 0, dropped_missing: Mapping[tuple[str, ...], int] | None = None
) -> None:
    """An input without rows to evaluate is an input error, never a NaN (docs/cli.md). When rows were dropped for
    missing values, the message counts them per column (``dropped_missing``), as the drop notice does: an empty
    column (one model's of ``--model 'm_*'``) is named, not left to guess."""
    if rows_used == 0:
        if rows == 0:
            raise NoRows()
        every = "the only row was" if rows == 1 else f"all {rows} rows were"
        columns = dropped_columns(dropped_missing or {})
        counted = f" ({columns})" if columns else ""
        if not partnerless:
            raise InputError(f"{every} dropped for missing values{counted}: nothing left to evaluate")
        if partnerless == rows:
            raise InputError(f"{every} dropped for having no partner: nothing left to evaluate")
        raise InputError(
            f"{every} dropped, {partnerless} for having no partner and {rows - partnerless} for missing values"
            f"{counted}: nothing left to evaluate"
        )


def _coder(plan: Plan) -> GroupCoder:
    """The group coder, with the number of groups whose statistics fit in memory (docs/cli.md, "Faults")."""
    stacked = sum(len(job.roles) for job in plan.jobs) + 2  # a floor before the jobs' widths are known
    per_group = 16 * stacked * (1 + plan.bootstrap) + (8 * stacked * stacked if plan.moments else 0)
    limit, available = group_limit(per_group, results=len(plan.jobs))
    by = ", ".join(plan.by)

    def too_many(groups: int) -> str:
        kept = f" x {plan.bootstrap} replicates" if plan.bootstrap else ""
        fix = (
            f"; drop {option('bootstrap')} or group by fewer values"
            if plan.bootstrap
            else "; group by a column with fewer values"
        )
        return (
            f"{option('by')} {by}: more than {limit:,} groups so far; their statistics{kept} would not fit in the "
            f"{available / 1e9:.1f} GB of memory available{fix}"
        )

    return GroupCoder(plan.by, limit, too_many)


class _Worker:
    """A chunk's statistics (:class:`_Partial`), on any worker thread: it reads only its chunk."""

    def __init__(self, plan: Plan, options: Options, per_sample: bool = False) -> None:
        self.plan = plan
        self.options = options
        # The per-row losses travel with a chunk's statistics only to be written (--per-sample): kept otherwise,
        # every loss's rows of the chunks waiting to be merged stayed in memory (ten losses on 10M rows: peak RSS
        # about 263 MB -> 246 MB, CPU 0.85 s -> 0.78 s, five runs each).
        self.per_sample = per_sample
        width = sum(len(columns) for columns in plan.value_columns)
        self.group_block = block_rows(width)
        # Sums (and the table's samples) are computed block by block, so that the losses' temporaries stay in the
        # core's cache (on 10M rows: bce 0.40 -> 0.37 s; ten regression losses, CPU 0.82 -> 0.78 s and peak RSS
        # 236 -> 210 MB); --ci's moments are taken per block and merged (10M rows: 0.364 -> 0.349 s). Per-row
        # output, replicates and groups read whole chunks (groups in blocks measured no faster); so do losses that
        # score rows together, and plugins, whose messages count a chunk's rows.
        self.loss_block = (
            LOSS_BLOCK_ROWS
            if not (per_sample or plan.bootstrap or plan.by)
            and all(not job.request.spec.rows_interact and job.request.spec.origin is None for job in plan.jobs)
            else None
        )
        self.evaluators = [
            job.request.spec.evaluator(job.request.params, options.convention, options.reduction) for job in plan.jobs
        ]
        self.aggregates = [job.request.spec.aggregate_for(options.convention) for job in plan.jobs]

    def refusal(
        self, chunk: _Chunk, error: DomainError | None, before: Sequence[Any]
    ) -> tuple[DomainError | None, list[Any]]:
        """The first refusal of the chunk's rows by the jobs up to the loss that raised ``error`` on an earlier
        chunk (all jobs for the first refusal, ``error`` ``None``), in job order, as one chunk holding the rows
        before it too would meet them: that loss's, to count, or an earlier job's, to tell instead; ``None`` if they
        all take the chunk. ``before``: what each job's loss has seen of the rows before the chunk, which its check
        reads (:func:`~lossctl.aggregates.earlier_rows`); returned with the chunk's rows added (:meth:`across`), or
        as it was for a job that refuses them."""
        seen = list(before)
        for j, job in enumerate(self.plan.jobs):
            try:
                with chunk_scope(), np.errstate(over="ignore", invalid="ignore"), earlier_rows(before[j]):
                    _contributions(job, self.options, chunk.values, chunk.row_index)
                seen[j] = self.across(job, chunk, before[j])
            except DomainError as found:
                seen[j] = self.handed_on(job, chunk, before[j])
                return found, seen
            except (InputError, UsageError):
                seen[j] = self.handed_on(job, chunk, before[j])
            if error is not None and _raised_by(job, error):
                break
        return None, seen

    def handed_on(self, job: Job, chunk: _Chunk, before: Any) -> Any:
        """What the rows show the job's loss with the chunk's, which it refused: ``before`` when the chunk's rows
        contradict it (the earlier rows' choice stands, as in one chunk)."""
        try:
            return self.across(job, chunk, before)
        except DomainError:
            return before

    def across(self, job: Job, chunk: _Chunk, seen: Any) -> Any:
        """Refuse the chunk's rows that what the earlier chunks showed, ``seen``, rules out for the job's loss
        (``Aggregate.across``), at their row numbers in the input; else return what the rows show with the chunk's."""
        aggregate = job.request.spec.aggregate_for(self.options.convention)
        if aggregate.seen is None or aggregate.across is None:
            return None
        try:
            return aggregate.across(seen, aggregate.seen(_job_arrays(job, chunk.values), chunk.row_index))
        except DomainError as error:
            raise _in_input(job, error) from None

    def work(self, chunk: _Chunk, thresholds: list[int | None]) -> _Partial:
        plan = self.plan
        values, row_index = chunk.values, chunk.row_index
        weight = values[(plan.weight,)] if plan.weight else None
        if self.loss_block is not None:
            try:
                summed = self._sums_in_blocks(chunk, weight, self.loss_block, thresholds)
            except (InputError, UsageError):
                summed = None  # the whole chunk below raises it again, counting the chunk's rows, not the block's
            if summed is not None:
                return summed
        contributions, stats = [], []
        # The jobs of a chunk share its intermediates (losses/_shared.py). A sum that overflows is reported
        # once, as an input error, when the result is finalized: NumPy's RuntimeWarnings ("overflow
        # encountered in reduce") would reach stderr as extra lines.
        with chunk_scope(), np.errstate(over="ignore", invalid="ignore"):
            for job in plan.jobs:
                job_contributions, sums = self._job_sums(job, values, weight, row_index)
                contributions.append(job_contributions)
                stats.append(sums)
        columns = [c.reshape(len(c), -1) for c in contributions]
        partial = _Partial(len(row_index), stats, tuple(c.shape[1] for c in columns), row_index, chunk.keys)
        sampled = _sampled_rows(row_index, thresholds) if plan.distributions else None
        for j, (job, c) in enumerate(zip(plan.jobs, contributions, strict=True)):
            sample = None
            wanted = self.per_sample or sampled is not None
            losses = per_row_losses(self.aggregates[j], c, job.request.params) if wanted else None
            if losses is not None:
                if self.per_sample:
                    partial.per_row[j] = per_output_losses(c) if raw_outputs(job.request) else losses
                if sampled is not None:
                    positions, sample_keys = sampled
                    sample = (losses[positions], sample_keys, len(losses), float(losses.max()))
            partial.samples.append(sample)
        with np.errstate(over="ignore", invalid="ignore"):
            in_groups = self._group_columns(chunk, columns) if chunk.group_queries else columns
            units = self._units(chunk) if (plan.bootstrap or plan.moments) and plan.query_ids else None
            if units is not None:
                self._by_unit(partial, chunk, columns, in_groups, weight, units)
                return partial
            if chunk.local is not None and chunk.numbers is not None:
                flat = [np.ascontiguousarray(c[:, k]) for c in in_groups for k in range(c.shape[1])]
                partial.groups, partial.group_moments = self._by_group(flat, weight, chunk.local, chunk.numbers)
            if plan.bootstrap:
                codes = chunk.numbers[chunk.local] if chunk.local is not None and chunk.numbers is not None else None
                stacked = _stacked(columns, weight)
                if in_groups is columns:
                    partial.replicates, partial.group_replicates = replicate_sums(
                        stacked, row_index, codes, plan.bootstrap, plan.seed
                    )
                else:  # the same draws of the rows, summing what each group's value reads
                    partial.replicates, _ = replicate_sums(stacked, row_index, None, plan.bootstrap, plan.seed)
                    _, partial.group_replicates = replicate_sums(
                        _stacked(in_groups, weight), row_index, codes, plan.bootstrap, plan.seed
                    )
            if plan.bootstrap and weight is not None:
                positive = weight != 0
                partial.resampled = int(np.count_nonzero(positive))
                if chunk.local is not None and chunk.numbers is not None:
                    counts = np.bincount(chunk.local[positive], minlength=len(chunk.numbers))
                    partial.group_resampled = (chunk.numbers, counts[:, None].astype(np.float64))
            if plan.moments:
                partial.moments = _moments(columns, stats, weight)
        return partial

    def _units(self, chunk: _Chunk) -> tuple[Units, Units | None]:
        """The chunk's queries, the units of a run with a ranking loss (:mod:`lossctl.units`), and under ``--by`` their
        parts in each group (the queries themselves when no query has rows in two groups)."""
        ids = [chunk.values[columns] for columns in self.plan.query_ids]
        queries = Units.of(first_rows(ids, chunk.row_index))
        return queries, queries.within(chunk.local, chunk.row_index) if chunk.local is not None else None

    def _by_unit(
        self,
        partial: _Partial,
        chunk: _Chunk,
        columns: list[np.ndarray],
        in_groups: list[np.ndarray],
        weight: np.ndarray | None,
        units: tuple[Units, Units | None],
    ) -> None:
        """:meth:`work`'s groups, replicates and moments when the unit is the query: the statistics of each query
        (of each query's part in a group) summed, then resampled or taken as one observation. Each query's count is
        that of its first row (:func:`~lossctl.bootstrap.replicate_sums`), and the groups' sums are those of rows."""
        plan = self.plan
        queries, pieces = units
        overall = queries.sums(_stacked(columns, weight))
        if plan.bootstrap:
            partial.replicates, _ = replicate_sums(overall, queries.first, None, plan.bootstrap, plan.seed)
            # The queries of nonzero weight (unweighted, every query has a weight: its size), and of each statistic
            partial.counted = np.count_nonzero(overall, axis=0)
            partial.resampled = int(partial.counted[-2])
        if plan.moments:
            varying = overall[:, :-1]  # a query's weight (its size, unweighted) varies too; its row count is not used
            partial.moments = chunk_moments(list(varying.T), None, varying.sum(axis=0))
        numbers = chunk.numbers
        if pieces is None or chunk.local is None or numbers is None:
            return
        flat = [np.ascontiguousarray(c[:, k]) for c in in_groups for k in range(c.shape[1])]
        partial.groups, _ = self._by_group(flat, weight, chunk.local, numbers, with_moments=False)
        whole = pieces is queries and in_groups is columns  # no query split: the groups' units are the queries
        grouped = overall if whole else pieces.sums(_stacked(in_groups, weight))
        local = pieces.pick(chunk.local)
        if plan.bootstrap:
            _, partial.group_replicates = replicate_sums(
                grouped, pieces.first, numbers[local], plan.bootstrap, plan.seed
            )
            nonzero = grouped != 0
            counts = np.column_stack([np.bincount(local, nonzero[:, k], len(numbers)) for k in range(nonzero.shape[1])])
            partial.group_counted = (numbers, counts)
            partial.group_resampled = (numbers, counts[:, -2:-1])
        if plan.moments:
            stats = list(grouped[:, :-1].T)

            def summed(values: np.ndarray) -> np.ndarray:
                return np.bincount(local, values, len(numbers))

            sums = np.column_stack([summed(column) for column in stats])
            present, n, mean, m2 = group_moments(stats, local, np.bincount(local, minlength=len(numbers)), sums, summed)
            partial.group_moments = (numbers[present], n, mean, m2)

    def _group_columns(self, chunk: _Chunk, columns: list[np.ndarray]) -> list[np.ndarray]:
        """``columns`` (each job's contributions, rows x width) with the groups' own in place of a ranking job's
        whose queries the groups split: its contributions with each query cut to its rows in each group, so a group's
        statistics are those of its rows alone (ranknet: the pairs of two of its documents)."""
        in_groups = list(columns)
        with chunk_scope():
            for j, job in enumerate(self.plan.jobs):
                qid = chunk.group_queries.get(tuple(job.roles["qid"])) if _reads_queries(job) else None
                if qid is not None:
                    contributions = _contributions(job, self.options, chunk.values, chunk.row_index, {"qid": qid})
                    in_groups[j] = contributions.reshape(len(contributions), -1)
        return in_groups

    def _job_sums(
        self, job: Job, values: dict[tuple[str, ...], np.ndarray], weight: np.ndarray | None, row_index: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One job's contributions for these rows and their statistics vector (:func:`~lossctl.stats.weighted_sums`)."""
        contributions = _contributions(job, self.options, values, row_index)
        sums = weighted_sums(contributions, weight)
        if not np.isfinite(sums).all():  # a non-finite row makes its column's sum non-finite
            _check_finite(job, contributions, row_index)
        return contributions, sums

    def _sums_in_blocks(
        self, chunk: _Chunk, weight: np.ndarray | None, block: int, thresholds: list[int | None]
    ) -> _Partial | None:
        """The chunk's statistics (and the samples of its per-row losses), ``block`` rows at a time: each block's
        losses are computed, summed and sampled while its rows are in the core's cache, the blocks' sums added
        (with ``--ci``, the blocks' moments merged as chunks' are: :meth:`~lossctl.normal.Moments.merge`).
        ``None`` when a sum is not finite: the whole chunk then finds the row, or reports the overflow, as without
        blocks.

        The inputs are shaped once per chunk; a block takes a slice of each distinct input array once, so the jobs
        of a block share its intermediates (:mod:`lossctl.losses._shared` knows arrays by identity).
        """
        jobs, rows = self.plan.jobs, len(chunk.row_index)
        inputs = [_job_inputs(job, chunk.values) for job in jobs]
        distinct = {id(array): array for job_inputs in inputs for array in job_inputs}
        sampled = _sampled_rows(chunk.row_index, thresholds) if self.plan.distributions else None
        samplers = [_BlockSample() if sampled is not None and a.per_row else None for a in self.aggregates]
        totals: list[np.ndarray] = []
        moments: Moments | None = None  # with --ci, the blocks' moments merged
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, max(rows, 1), block):
                part = slice(start, start + block)
                sliced = {key: array[part] for key, array in distinct.items()}
                part_weight = weight[part] if weight is not None else None
                if sampled is not None:
                    first, end = np.searchsorted(sampled[0], (start, start + block))
                    in_block = sampled[0][first:end] - start
                sums, columns = [], []
                with chunk_scope():
                    for evaluate, job_inputs, sampler, aggregate, job in zip(
                        self.evaluators, inputs, samplers, self.aggregates, jobs, strict=True
                    ):
                        contributions = evaluate([sliced[id(array)] for array in job_inputs])
                        sums.append(weighted_sums(contributions, part_weight))
                        if sampler is not None:
                            losses = per_row_losses(aggregate, contributions, job.request.params)
                            if losses is not None:
                                sampler.add(losses, in_block)
                        if self.plan.moments:
                            columns.append(contributions.reshape(len(contributions), -1))
                    if self.plan.moments:
                        n, mean, m2 = _moments(columns, sums, part_weight)
                        moments = moments or Moments(0, np.arange(len(mean)))
                        moments.merge(n, mean, m2)
                totals = sums if start == 0 else [total + s for total, s in zip(totals, sums, strict=True)]
        if not all(np.isfinite(total).all() for total in totals):
            return None
        widths = tuple((len(total) - 2) for total in totals)
        samples = [
            sampler.sample(sampled[1], rows) if sampler is not None and sampler.values and sampled is not None else None
            for sampler in samplers  # no values: a binding without per-row losses (segmentation on scalar columns)
        ]
        partial = _Partial(rows, totals, widths, chunk.row_index, chunk.keys, samples=samples)
        if moments is not None:
            partial.moments = (moments.n, moments.mean, moments.m2)
        return partial

    def _by_group(
        self,
        columns: list[np.ndarray],
        weight: np.ndarray | None,
        local: np.ndarray,
        numbers: np.ndarray,
        with_moments: bool = True,
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None]:
        """Each group's stacked statistics over the chunk (with ``--ci`` also its moments, summed as the statistics
        are, so that ``--ci`` leaves the values as they are): the rows of each block of the chunk sorted by group
        (a radix sort of the chunk-local group numbers), each group's run summed pairwise
        (:func:`~lossctl.stats.segment_sums`), the blocks' sums added per group. With few groups, or when no group
        has more than ``_SHORT_RUNS`` rows in a block, the rows are added in row order instead, in cells of at most
        ``_SHORT_RUNS`` rows (``bincount``: no sort, and a sequence that short is as accurate as a pairwise sum's
        base case), and the cells of a group summed pairwise.

        Blocks keep the sort and its gathers in the core's cache: on 10M rows and 10 groups, sorting whole
        262,144-row chunks cost three times the losses themselves, blocks of 32,768 rows about as much as
        the losses; sums over the sorted runs stay pairwise, so a group's sum is as accurate as ``np.sum``.
        ``with_moments=False``: no moments (their observations are queries: :meth:`_by_unit`).
        """
        groups_count = len(numbers)
        local = local.astype(np.intp, copy=False)  # bincount's index type: cast once, not once per column
        sums = np.zeros((groups_count, len(columns) + 2))
        varying = len(columns) + (weight is not None)
        moments = GroupMoments(len(columns) + 2, np.arange(varying)) if self.plan.moments and with_moments else None
        # The whole chunk is one block when its cells form one table: few groups (cells of _SHORT_RUNS rows), or
        # no group with more than _SHORT_RUNS rows in the chunk (10,000 groups: one bincount per statistic per
        # chunk instead of one per block). With fewer groups than rows / _SHORT_RUNS, some group has more.
        chunk_counts = None
        if groups_count > _FEW_GROUPS and groups_count * _SHORT_RUNS >= len(local):
            chunk_counts = np.bincount(local, minlength=groups_count)
        whole = groups_count <= _FEW_GROUPS or (chunk_counts is not None and chunk_counts.max() <= _SHORT_RUNS)
        step = len(local) if whole else self.group_block
        for start in range(0, len(local), step):
            block = slice(start, start + step)
            counts = (
                chunk_counts
                if whole and chunk_counts is not None
                else np.bincount(local[block], minlength=groups_count)
            )
            w = weight[block] if weight is not None else None
            if whole or counts.max() <= _SHORT_RUNS:
                # Each group's rows of the block in cells of at most _SHORT_RUNS consecutive rows, added in row
                # order by bincount (no sort); the cells of a group then summed pairwise. Many small groups
                # need one cell per group; a few large ones, one per group and 128 rows. --ci's moments are
                # summed the same way: sorted, the sums were added in another order and a group's value
                # changed in its last digit with --ci.
                cells = local[block]
                per_group = 1 if counts.max() <= _SHORT_RUNS else -(-len(cells) // _SHORT_RUNS)
                if per_group > 1:
                    cells = cells + _cell_offsets(len(cells), groups_count)

                def summed(column: np.ndarray, cells: np.ndarray = cells, per_group: int = per_group) -> np.ndarray:
                    table = np.bincount(cells, column, groups_count * per_group).reshape(per_group, groups_count)
                    return np.ascontiguousarray(table.T).sum(axis=1) if per_group > 1 else table[0]

                values = [column[block] if w is None else column[block] * w for column in columns]
                stats = [*values, w] if w is not None else values
                block_sums = np.column_stack([summed(column) for column in stats])
                sums[:, : len(stats)] += block_sums
                if w is None:
                    sums[:, -2] += counts
                sums[:, -1] += counts
                if moments is not None:
                    moments.merge(*group_moments(stats, local[block], counts, block_sums, summed))
                continue
            order = _group_order(local[block], len(numbers))
            in_groups = local[block][order]
            starts = np.flatnonzero(np.concatenate([[True], in_groups[1:] != in_groups[:-1]]))
            runs = in_groups[starts]  # distinct: a group is one run of the sorted block
            counts = np.diff(starts, append=len(order)).astype(np.float64)
            w = w[order] if w is not None else None
            rows = [c[block][order] if w is None else c[block][order] * w for c in columns]
            if w is not None:
                rows.append(w)
            run_sums = segment_sums(rows, starts)
            sums[runs] += np.column_stack([run_sums, counts] if w is not None else [run_sums, counts, counts])
            if moments is not None:
                moments.merge(*run_moments(np.column_stack(rows), starts, runs))
        present = np.flatnonzero(sums[:, -1] > 0)
        groups = (numbers[present], sums[present])
        if moments is None:
            return groups, None
        return groups, (numbers[present], moments.n[present], moments.mean[present], moments.m2[present])


@lru_cache(maxsize=4)
def _cell_offsets(rows: int, groups: int) -> np.ndarray:
    """``groups * (i // _SHORT_RUNS)`` for each row ``i`` of a block: added to a row's group, its cell (the same for
    every chunk of a run, so computed once)."""
    offsets = groups * (np.arange(rows) // _SHORT_RUNS)
    offsets.flags.writeable = False
    return offsets


def _moments(
    columns: list[np.ndarray], stats: list[np.ndarray], weight: np.ndarray | None
) -> tuple[int, np.ndarray, np.ndarray]:
    """:func:`~lossctl.normal.chunk_moments` of the rows of ``columns`` (each job's contributions, rows x width)
    whose statistics vectors are ``stats``: the varying statistics, each job's sums and, when weighted, the weight."""
    sums = np.concatenate([job_stats[:-2] for job_stats in stats] + [stats[0][-2:-1]])
    flat = [c[:, k] for c in columns for k in range(c.shape[1])]
    return chunk_moments(flat, weight, sums if weight is not None else sums[:-1])


def _stacked(columns: list[np.ndarray], weight: np.ndarray | None) -> np.ndarray:
    """The stacked statistics of each row (:class:`Layout`): every job's ``w*c`` columns, then ``w`` and 1.

    Column-major: each column is written contiguously, and BLAS reads row blocks of it as they are.
    """
    rows = len(columns[0]) if columns else 0
    stacked = np.empty((rows, sum(c.shape[1] for c in columns) + 2), order="F")
    position = 0
    for c in columns:
        for k in range(c.shape[1]):
            if weight is None:
                stacked[:, position] = c[:, k]
            else:
                np.multiply(c[:, k], weight, out=stacked[:, position])
            position += 1
    stacked[:, -2] = 1.0 if weight is None else weight
    stacked[:, -1] = 1.0
    return stacked


def _varying(layout: Layout, weight_varies: bool) -> int:
    """How many leading stacked columns vary from one observation to the next: every job's, and ``w`` when weighted
    or when the observations are queries (``weight_varies``: either; :mod:`lossctl.units`)."""
    return layout.width - (1 if weight_varies else 2)


class _State:
    """Everything the main thread accumulates over the chunks, in file order."""

    def __init__(self, plan: Plan, first_row: int = 0, part: bool = False) -> None:
        self.plan = plan
        self.first_row = first_row
        self.part = part
        self.rows = 0
        self.rows_used = 0
        self.partnerless = 0
        self.dropped_missing: dict[tuple[str, ...], int] = {}
        self.refused = Refusals()
        self.overall: list[Accumulator | None] = [None for _ in plan.jobs]
        # What each job's loss saw of the rows (Aggregate.across): the later chunks are checked against it.
        self.seen: list[Any] = [None for _ in plan.jobs]
        self.samples: list[Sample | None] = [None for _ in plan.jobs]
        self.layout: Layout | None = None
        self.groups: GroupAccumulator | None = None
        self.replicates: Accumulator | None = None
        self.group_replicates: GroupAccumulator | None = None
        self.moments: Moments | None = None
        self.group_moments: GroupMoments | None = None
        self.resampled = 0
        self.group_resampled: GroupAccumulator | None = None
        self.counted: np.ndarray | None = None
        self.group_counted: GroupAccumulator | None = None

    @property
    def failed(self) -> bool:
        return self.refused.bad_values or self.refused.failure is not None

    def admit(self, chunk: _Chunk, progress: Callable[[int], object] | None) -> bool:
        """Count the chunk's rows and bad values; whether it has rows to compute (none after an error)."""
        if progress is not None:
            progress(chunk.offset + chunk.rows - self.first_row)
        self.bad_values(chunk)
        return not self.failed and len(chunk.row_index) > 0

    def bad_values(self, chunk: _Chunk) -> None:
        self.rows = chunk.offset + chunk.rows - self.first_row
        self.partnerless += chunk.partnerless
        for columns, dropped in chunk.dropped_missing.items():
            if dropped:
                self.dropped_missing[columns] = self.dropped_missing.get(columns, 0) + dropped
        for bad, found in (
            (self.refused.missing, chunk.missing),
            (self.refused.infinite, chunk.infinite),
            (self.refused.negative, chunk.negative),
        ):
            for columns, mask in found.items():
                rows = np.arange(chunk.offset, chunk.offset + chunk.rows)
                bad.setdefault(columns, BadValues()).add(mask, rows)

    def take(
        self, chunk: _Chunk, worker: _Worker, per_sample: PerSampleSink | None, future: Future[_Partial] | None = None
    ) -> None:
        """Merge the chunk's statistics, computed by ``worker`` (or by a thread, ``future``). A value outside a
        loss's domain ends the run after the last chunk, not at once: its rows are counted in the later chunks too
        (:meth:`_Worker.refusal`), and an earlier job's refusal or a missing or infinite value there is told
        instead, as one chunk would (the message does not depend on the chunking)."""
        refused = self.refused
        if refused.failure is not None:
            return
        if refused.domain is None:
            try:
                partial = future.result() if future is not None else worker.work(chunk, self.thresholds())
                seen = [worker.across(job, chunk, seen) for job, seen in zip(self.plan.jobs, self.seen, strict=True)]
            except DomainError:
                pass  # told as one chunk would tell it, below
            except (InputError, UsageError) as error:
                if not self.part:
                    raise
                refused.failure = error  # told by the client unless an earlier part refused (Refusals.merge)
                return
            else:
                self.seen = seen
                self.merge(partial, per_sample)
                return
        found, self.seen = worker.refusal(chunk, refused.domain, self.seen)
        if found is not None:
            refused.told(found, self.plan)

    def thresholds(self) -> list[int | None]:
        """The samples' current thresholds (rows with larger keys cannot enter them any more)."""
        return [sample.threshold for sample in self.samples if sample]

    def merge(self, partial: _Partial, per_sample: PerSampleSink | None) -> None:
        if self.failed:
            return
        self.rows_used += partial.rows_used
        with np.errstate(over="ignore", invalid="ignore"):
            for j, stats in enumerate(partial.stats):
                overall = self.overall[j] = self.overall[j] or Accumulator(stats.shape)
                overall.add(stats)
            self.layout = self.layout or Layout(partial.widths)
            width = self.layout.width
            if partial.groups is not None:
                self.groups = self.groups or GroupAccumulator(width)
                self.groups.add(*partial.groups)
            if partial.replicates is not None:
                self.replicates = self.replicates or Accumulator(partial.replicates.shape)
                self.replicates.add(partial.replicates)
            if partial.group_replicates is not None:
                self.group_replicates = self.group_replicates or GroupAccumulator(partial.group_replicates[1].shape[1:])
                self.group_replicates.add(*partial.group_replicates)
        varying = np.arange(_varying(self.layout, self.plan.weight is not None or bool(self.plan.query_ids)))
        if partial.moments is not None:
            self.moments = self.moments or Moments(width, varying)
            self.moments.merge(*partial.moments)
        if partial.group_moments is not None:
            self.group_moments = self.group_moments or GroupMoments(width, varying)
            self.group_moments.merge(*partial.group_moments)
        self.resampled += partial.resampled
        if partial.group_resampled is not None:
            self.group_resampled = self.group_resampled or GroupAccumulator(1)
            self.group_resampled.add(*partial.group_resampled)
        if partial.counted is not None:
            self.counted = partial.counted if self.counted is None else self.counted + partial.counted
        if partial.group_counted is not None:
            self.group_counted = self.group_counted or GroupAccumulator(partial.group_counted[1].shape[1])
            self.group_counted.add(*partial.group_counted)
        for j, sample in enumerate(partial.samples):
            if sample is not None:
                values, keys, rows, maximum = sample
                kept = self.samples[j] = self.samples[j] or Sample()
                kept.maximum = max(kept.maximum, maximum)
                kept.add(values, keys, rows=rows)
        if per_sample is not None:
            per_sample(partial.row_index, partial.keys, partial.per_row)

    def outcome(self, coder: GroupCoder | None, part: bool = False) -> Outcome:
        if self.refused:
            if part:
                self.refused.seen = self.seen
                raise Refused(self.refused, self.plan)
            raise self.refused.error(self.plan)
        if not part:
            check_rows(self.rows, self.rows_used, self.partnerless, in_plan_order(self.plan, self.dropped_missing))
        stats = [accumulator.value for accumulator in self.overall if accumulator is not None]
        layout = self.layout
        groups_total = len(coder.keys) if coder is not None else 0
        jobs = range(len(self.plan.jobs))
        group_stats = replicates = group_replicates = None
        if layout is not None:
            if self.groups is not None:
                grouped = self.groups.value(groups_total)
                group_stats = [grouped[:, layout.columns(j)] for j in jobs]
            if self.replicates is not None:
                overall = self.replicates.value
                replicates = [overall[:, layout.columns(j)] for j in jobs]
            if self.group_replicates is not None:
                per_group = self.group_replicates.value(groups_total)
                group_replicates = [per_group[:, :, layout.columns(j)] for j in jobs]
        return Outcome(
            rows=self.rows,
            rows_used=self.rows_used,
            stats=stats,
            groups=[coder.label(code) for code in range(groups_total)] if coder else [],
            group_stats=group_stats or [],
            replicates=replicates,
            group_replicates=group_replicates,
            samples=self.samples,
            layout=layout,
            moments=self.moments,
            group_moments=self.group_moments,
            partnerless=self.partnerless,
            dropped_missing=in_plan_order(self.plan, self.dropped_missing),
            **self._resampled(groups_total),
        )

    def _resampled(self, groups: int) -> dict[str, Any]:
        """:class:`Outcome`'s counts of the bootstrap's observations, with --bootstrap and --weight or a ranking
        loss."""
        if not ((self.plan.weight or self.plan.query_ids) and self.plan.bootstrap):
            return {}
        by_group = self.group_resampled.value(groups)[:, 0] if self.group_resampled is not None else None
        counted = self.group_counted.value(groups) if self.group_counted is not None else None
        return {
            "resampled": self.resampled,
            "group_resampled": by_group,
            "counted": self.counted,
            "group_counted": counted,
        }


class _BlockSample:
    """One job's sampled per-row losses and their maximum, gathered block by block (the tuple
    :meth:`_Worker.work` makes of a whole chunk's losses)."""

    def __init__(self) -> None:
        self.values: list[np.ndarray] = []
        self.maximum = -np.inf

    def add(self, losses: np.ndarray, positions: np.ndarray) -> None:
        self.values.append(losses[positions])
        if len(losses):
            self.maximum = max(self.maximum, float(losses.max()))

    def sample(self, keys: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray, int, float]:
        return np.concatenate(self.values), keys, rows, self.maximum


def _sampled_rows(row_index: np.ndarray, thresholds: list[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's rows that may enter the per-row samples, and their keys: every job samples the same rows
    (keys depend on the row alone), so the rows are chosen once, below the samples' common threshold."""
    keys = row_keys(row_index)
    if not thresholds or None in thresholds:
        return np.arange(len(keys)), keys
    positions = np.flatnonzero(keys < np.uint64(min(t for t in thresholds if t is not None)))
    return positions, keys[positions]


def _negative_weights(
    values: dict[tuple[str, ...], np.ndarray], column: str | None, dropped: list[np.ndarray]
) -> dict[tuple[str, ...], np.ndarray]:
    """The rows of the chunk with a negative sample weight (``{}`` when none is), after checking that the weights
    are one number per row; counted over the whole input as missing values are. Rows ``--missing drop`` leaves
    out (the ``dropped`` masks) are not evaluated: their weights do not count."""
    if column is None:
        return {}
    weight = values[(column,)]
    if weight.ndim != 1:
        raise InputError(
            f"column '{show_name(column)}' holds several values per row; a sample weight is one number per row"
        )
    negative = weight < 0
    if not negative.any():
        return {}
    for mask in dropped:
        negative &= ~mask
    return {(column,): negative} if negative.any() else {}


def _raised_by(job: Job, error: DomainError) -> bool:
    """Whether ``error`` (located) names the job's loss and one of its roles' columns."""
    name = job.request.spec.name
    return any(
        error.where == DomainError(role, error.expected, 0.0, 0, 0).locate(name, list(columns), 0).where
        for role, columns in job.roles.items()
    )


def _job_of(plan: Plan, error: DomainError) -> int:
    """The index of the job whose loss raised ``error`` (located)."""
    return next((index for index, job in enumerate(plan.jobs) if _raised_by(job, error)), len(plan.jobs))


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
    names = quoted_columns(columns)
    noun, verb = ("column", "holds") if len(columns) == 1 else ("columns", "hold")
    raise InputError(
        f"{job.request.spec.name}: {noun} {names} ({role}) {verb} "
        f"{array.shape[1]} values per row, but the role '{role}' takes one value per row"
    )


def _job_arrays(job: Job, values: dict[tuple[str, ...], np.ndarray]) -> dict[str, np.ndarray]:
    """The job's arrays by role, each as its role takes it (:func:`_shaped`)."""
    return {role: _shaped(job, role, values[tuple(job.roles[role])]) for role in job.request.spec.role_names}


def _contributions(
    job: Job,
    options: Options,
    values: dict[tuple[str, ...], np.ndarray],
    row_index: np.ndarray,
    replaced: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """The job's contributions for these rows, with the ``replaced`` roles' arrays in place of their columns'."""
    spec = job.request.spec
    arrays = _job_arrays(job, values) | dict(replaced or {})
    try:  # in the caller's np.errstate: an overflow is reported as an input error, not a RuntimeWarning
        contributions = spec.contributions(arrays, job.request.params, options.convention, options.reduction)
    except DomainError as error:
        raise _located(job, error, row_index) from None
    except MismatchedWidths as error:
        raise error.naming(job.roles) from None
    except (InputError, UsageError) as error:
        raise naming_loss(error, job.request) from None
    return contributions


def _job_inputs(job: Job, values: dict[tuple[str, ...], np.ndarray]) -> list[np.ndarray]:
    """The job's arrays as its loss's function takes them (:meth:`~lossctl.registry.LossSpec.inputs`); vectors of
    different lengths are an error naming the columns of each role (whose model, which file compared)."""
    try:
        return job.request.spec.inputs(_job_arrays(job, values))
    except MismatchedWidths as error:
        raise error.naming(job.roles) from None


def _in_input(job: Job, error: DomainError) -> DomainError:
    """A refusal across chunks or parts (``Aggregate.across``), whose row is the input's, with the loss and columns."""
    return error.locate(job.request.spec.name, job.roles[error.role], 0)


def across_parts(plan: Plan, convention: str, seen: list[Any], later: Sequence[Any]) -> DomainError | None:
    """Merge what a later part's rows showed each job's loss (``Outcome.seen``) into ``seen``, the earlier parts',
    as the engine merges its chunks' (``Aggregate.across``); the first job's refusal if any (its job's ``seen``
    left as it was, so that the later parts' rows it refuses are counted too)."""
    refused = None
    for j, job in enumerate(plan.jobs):
        across = job.request.spec.aggregate_for(convention).across
        if across is None or later[j] is None:
            continue
        try:
            seen[j] = across(seen[j], later[j])
        except DomainError as error:
            refused = refused or _in_input(job, error)
    return refused


def _located(job: Job, error: DomainError, row_index: np.ndarray) -> DomainError:
    """A loss's refusal of rows of a chunk with the loss, its columns and the rows' numbers in the input."""
    offset = int(row_index[error.first_row]) - error.first_row
    return error.locate(job.request.spec.name, job.roles[error.role], offset, check_site(error.__traceback__))


def naming_loss(error: InputError | UsageError, request: LossRequest) -> InputError | UsageError:
    """A loss's own refusal of its inputs or parameters ("'target' has 2 columns but 'pred' has 3"), or its
    aggregate's refusal of the merged statistics, after the loss's label, so that a run of several losses says
    which one refused. An error that names the loss already, or that carries more than its text (a subclass), is
    returned as it is."""
    text, name = str(error), request.spec.name
    if type(error) not in (InputError, UsageError) or text.startswith((f"{name}:", f"loss '{name}'")):
        return error
    labelled = f"{request.label}: {text}"
    return error.reworded(labelled) if isinstance(error, InputError) else UsageError(labelled)


def _check_finite(job: Job, contributions: np.ndarray, row_index: np.ndarray) -> None:
    """An input error naming the first row whose contribution is not finite, if there is one (the chunk's sums
    tell whether to look: their overflow alone is reported when the result is finalized)."""
    spec = job.request.spec
    if spec.origin is not None:  # a built-in loss of finite inputs is finite unless it overflows; a plugin's may not be
        from lossctl.plugins import check_finite

        check_finite(spec, job.request.label, contributions, row_index)
        return
    finite = np.isfinite(contributions)
    if not finite.all():
        position = int(np.argmax(~finite.reshape(len(finite), -1).all(axis=1)))
        first, bad = int(row_index[position]), int((~finite).sum())
        raise row_overflow(job.request.label, job.request.params, first, bad)


def in_plan_order(plan: Plan, by_column: Mapping[tuple[str, ...], _T]) -> dict[tuple[str, ...], _T]:
    """``by_column`` (keyed by a column binding) in the order of the plan's columns, not in the order the chunks
    first showed each: the messages do not depend on ``--chunk-rows``."""
    order = {columns: index for index, columns in enumerate(plan.value_columns)}
    return dict(sorted(by_column.items(), key=lambda item: order[item[0]]))
