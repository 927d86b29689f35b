"""``--per-sample PATH``: the per-row loss of every per-row loss, streamed chunk by chunk to a file.

The file is Parquet, CSV or JSON Lines by extension; it is written to a temporary file beside the
target and renamed only when the run succeeds (:meth:`PerSampleWriter.commit`), so a failed run
leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl import tempfiles
from lossctl.errors import InputError, UsageError, option
from lossctl.io.formats import EXTENSIONS
from lossctl.outputs import raw_outputs
from lossctl.report import plain_value
from lossctl.text import show_name

if TYPE_CHECKING:
    import pyarrow as pa

    from lossctl.engine import PerSampleSink, Plan
    from lossctl.params import Composite

# The (weight, job index) terms whose per-row losses add up to one column of the file.
Terms = list[tuple[float, int]]
# A column of the file: its name, its terms, the baseline's terms of a delta (else None) and the output it holds
# of a multioutput=raw loss (else None).
Column = tuple[str, Terms, Terms | None, int | None]

# The formats --per-sample writes, named by the extensions that name them as inputs (docs/cli.md, "Input"), so
# rows.pq and rows.ndjson are written as lossctl reads them.
PER_SAMPLE_FORMATS = ("parquet", "csv", "jsonl")
PER_SAMPLE_EXTENSIONS = {
    suffix: kind for kind in PER_SAMPLE_FORMATS for suffix, named in EXTENSIONS.items() if named == kind
}


def check_per_sample_path(path: str) -> str:
    """The format (``parquet``, ``csv``, ``jsonl``) that ``path``'s extension names; a usage error for another."""
    kind = PER_SAMPLE_EXTENSIONS.get(Path(path).suffix.lower())
    if kind is None:
        writes = ", ".join(PER_SAMPLE_EXTENSIONS)
        if path == "-":  # as -o - is: not a file named '-' of unknown format
            raise UsageError(
                f"{option('per_sample')} writes a file, not standard output ('-'): give a name ending in {writes}"
            )
        # /dev/null, /dev/stdout, >(cmd): the format is the name's, for a device or a pipe too (no --format here)
        special = (
            f" (of a device or pipe too): leave out {option('per_sample')} to write no per-row losses, or write to a "
            "named pipe with an extension (mkfifo rows.csv)"
            if tempfiles.is_special(Path(path))
            else ""
        )
        unknown = f"cannot tell the format of '{show_name(path)}' from its extension"
        raise UsageError(f"{unknown}; {option('per_sample')} writes {writes}{special}")
    return kind


def _as_json_writes(table: pa.Table) -> pa.Table:
    """``table`` with the columns Arrow's CSV writer writes otherwise than JSON Lines and the results do
    (:func:`~lossctl.report.plain_value`) as those write them. Bytes (a key that is not UTF-8: valid UTF-8 was read
    as text) as text (``b"\\xff"`` is ``\\xff``): Arrow's CSV writer refuses them ("Invalid UTF8 payload").
    Timestamps and times in ISO 8601 (``1970-01-01T00:00:00.000000001+00:00``): the CSV writer wrote
    ``1970-01-01 00:00:00.000000001Z``, and zeros of a whole second (``00:00:01.000000000``). Only those columns are
    converted, value by value. Durations in seconds: the CSV writer wrote the count of the column's unit (``1`` for
    1 ms, where JSON Lines wrote ``0.001``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from lossctl.keys import python_values

    for index, kind in enumerate(table.schema.types):
        if (
            pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
            or pa.types.is_binary_view(kind)
            or pa.types.is_timestamp(kind)
            or pa.types.is_time(kind)
        ):
            values = python_values(table.column(index))  # a time64[ns] value keeps its nanoseconds, as in JSON Lines
            texts = [None if value is None else plain_value(value) for value in values]
            table = table.set_column(index, table.field(index).name, pa.array(texts, pa.large_string()))
        elif pa.types.is_duration(kind):
            ticks = table.column(index).cast(pa.int64()).cast(pa.float64(), safe=False)  # past 2**53: rounded
            seconds = pc.divide(ticks, float(_TICKS_PER_SECOND[kind.unit]))
            table = table.set_column(index, table.field(index).name, seconds)
    return table


_TICKS_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


class PerSampleWriter:
    """Writes ``(row or key columns, loss columns...)`` chunks; ``labels`` name the loss columns in order.

    Every write failure (a full disk, a file-size limit, the folder removed mid-run) is an
    :class:`~lossctl.errors.InputError` ``cannot write 'PATH': ...``, and :meth:`abort` removes the
    temporary file even when closing it fails on that same full disk.
    """

    def __init__(self, path: str, id_columns: list[str], labels: list[str]) -> None:
        self.path = Path(path)
        self.target = path  # as given: an object store's URL is not a local path
        self.format = check_per_sample_path(path)
        self.id_columns = id_columns
        self.labels = labels
        self._tmp = tempfiles.create(path)  # an object store's path is uploaded when published
        self._writer: Any = None
        self._text: Any = None
        self._file: Any = None  # what Arrow's writer writes to, when the target is written in place
        self._reader_left = False
        self._schema: pa.Schema | None = None  # of the first rows written, which a Parquet or CSV file keeps

    def write(self, ids: Sequence[np.ndarray | pa.Array], losses: list[np.ndarray]) -> None:
        import pyarrow as pa

        from lossctl.arrow import to_arrow

        # NumPy columns (row numbers, losses) go over by their buffers: pa.table would import pandas for them
        arrays = [to_arrow(v) if isinstance(v, np.ndarray) else v for v in [*ids, *losses]]
        table = pa.table(dict(zip([*self.id_columns, *self.labels], arrays, strict=True)))
        if self._reader_left:
            return
        if self.format == "csv":
            table = _as_json_writes(table)
        if self.format != "jsonl":  # JSON Lines writes each value as it is
            table = self._as_first(table)
        try:
            self._write(table)
        except OSError as error:
            self._raise_unless_reader_left(error)

    def _as_first(self, table: pa.Table) -> pa.Table:
        """``table`` in the types of the first rows written: a key whose type changes between chunks (integer ids
        of a CSV file, then doubles of a Parquet file after it) is cast to the first chunk's when every value
        survives. Else a CSV file takes the values as they are, and a Parquet file, whose schema is the first
        rows', is an input error naming the column (it was Arrow's "Table schema does not match", an internal
        error)."""
        import pyarrow as pa

        if self._schema is None:
            self._schema = table.schema
        if table.schema.equals(self._schema):
            return table
        try:
            return table.cast(self._schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            if self.format == "csv":
                return table
            name, first, later = next(
                (field.name, field.type, kind)
                for field, kind in zip(self._schema, table.schema.types, strict=True)
                if field.type != kind
            )
        raise InputError(
            f"cannot write '{show_name(self.target)}': column '{show_name(name)}' is {first} in the first rows but "
            f"{later} in later ones, which {first} cannot hold; write {option('per_sample')} as JSON Lines (.jsonl), "
            "or give the column one type in every input"
        )

    def _raise_unless_reader_left(self, error: OSError) -> None:
        """A named pipe's reader that left early (``--per-sample ps.csv`` read by ``head``) is no error, as for
        ``-o``: the rows that follow are not written. Any other failure is ``cannot write``."""
        if not (isinstance(error, BrokenPipeError) and tempfiles.in_place(self._tmp)):
            raise tempfiles.cannot_write(self.target, error) from error
        self._reader_left = True
        with contextlib.suppress(OSError):
            self._close()

    def _write(self, table: pa.Table) -> None:
        if self.format == "parquet":
            import pyarrow.parquet as pq

            self._writer = self._writer or pq.ParquetWriter(self._sink(), table.schema)
            self._writer.write_table(table)
        elif self.format == "csv":
            import pyarrow.csv as pacsv

            self._writer = self._writer or pacsv.CSVWriter(self._sink(), table.schema)
            self._writer.write_table(table)
        else:
            self._text = self._text or open(self._tmp, "w", encoding="utf-8")  # noqa: SIM115 (closed in _close)
            from lossctl.keys import python_values

            names = table.column_names  # the values as keys are shown: a time64[ns] key keeps its nanoseconds
            for values in zip(*map(python_values, table.columns), strict=True):
                self._text.write(json.dumps(dict(zip(names, values, strict=True)), default=plain_value) + "\n")

    def _sink(self) -> Any:
        self._file = tempfiles.open_for_arrow(self._tmp)
        return self._file or self._tmp

    def _close(self) -> None:
        handles, self._writer, self._text, self._file = (self._writer, self._text, self._file), None, None, None
        for handle in handles:
            if handle is not None:
                handle.close()

    def commit(self) -> None:
        """Finish the file; it is published with the run's other outputs (:mod:`lossctl.tempfiles`)."""
        try:
            self._close()
        except OSError as error:
            try:  # before abort(), which forgets that the target is written in place
                self._raise_unless_reader_left(error)
            finally:
                self.abort()
            return
        tempfiles.publish(self._tmp)

    def abort(self) -> None:
        """Remove the temporary file. Closing may fail (flushing to a full disk): the file goes anyway."""
        try:
            self._close()
        except OSError:
            pass
        finally:
            tempfiles.discard(self._tmp)


@contextmanager
def per_sample_sink(
    plan: Plan,
    path: str | None,
    pairs: Sequence[tuple[int, int]] = (),
    composites: Sequence[Composite] = (),
    convention: str = "lossctl",
    notices: list[str] | None = None,
    shown: str | None = None,
) -> Iterator[PerSampleSink | None]:
    """The engine's sink writing the per-row losses of ``plan``'s per-row jobs to ``path``, beside the values
    of the plan's ``--on`` key columns or the 0-based row numbers; the file is published only if the block
    succeeds. ``shown``: the ``--per-sample`` path the notices name, when ``path`` is one part of it (Dask).

    Whether a job has per-row losses may depend on its binding (segmentation: a row of list columns is a sample,
    scalar columns make the whole input one): the engine hands over those it has, and the first chunk's fix the
    columns. A job that could have them but has none in its binding is left out, with a line in ``notices`` saying
    why (:attr:`~lossctl.aggregates.Aggregate.no_rows`); when no job has any, that is a usage error.

    A column is named by the loss's label, with ``@MODEL`` when the run has models; each ``(baseline, candidate)``
    pair of job indices adds the per-row delta ``LABEL:delta@CANDIDATE`` (``compare``). A composite whose parts
    are all per-row losses is per-row too: its column, after the losses', holds the weighted sum of its parts'
    per-row losses (with a delta column per pair of models under ``compare``).
    """
    if not path:
        yield None
        return
    aggregates = [job.request.spec.aggregate_for(convention) for job in plan.jobs]

    def label(j: int, prefix: str = "", output: int | None = None) -> str:
        job = plan.jobs[j]
        request = job.request if output is None else replace(job.request, output=output)
        return request.label + prefix + (f"@{job.model}" if job.model is not None else "")

    def none_of() -> None:
        """Refuse the run: why each job has no per-row values, in one line."""
        reasons = (f"{job.request.label} {a.no_rows}" for job, a in zip(plan.jobs, aggregates, strict=True))
        why = "; ".join(dict.fromkeys(reasons))
        raise UsageError(f"{option('per_sample')}: none of the selected losses has per-row values: {why}")

    def layout(losses: dict[int, np.ndarray]) -> list[Column]:
        """The file's loss columns: a multioutput=raw loss has one per output (``mse[0]``, ``mse[1]``), as its
        results do; their number is known from the first chunk's losses, and so is which jobs have them."""
        per_row_jobs = [j for j in range(len(plan.jobs)) if j in losses]
        if not per_row_jobs:
            none_of()
        left_out = [j for j, aggregate in enumerate(aggregates) if aggregate.per_row and j not in losses]
        if left_out and notices is not None:  # the losses that are aggregates whatever the binding: hints.py
            why = "; ".join(dict.fromkeys(f"{plan.jobs[j].request.label} {aggregates[j].no_rows}" for j in left_out))
            notice = f"{option('per_sample')}: {why}; left out of {show_name(shown or path)}"
            notices.extend([notice] if notice not in notices else [])  # a pass run again (queries held) tells it once

        def split(j: int, terms: Terms, baseline: Terms | None, prefix: str = "") -> list[Column]:
            if not raw_outputs(plan.jobs[j].request):
                return [(label(j, prefix), terms, baseline, None)]
            return [(label(j, prefix, k), terms, baseline, k) for k in range(losses[j].shape[1])]

        columns = [column for j in per_row_jobs for column in split(j, [(1.0, j)], None)]
        for b, c in pairs:
            if b in losses and c in losses:
                columns += split(c, [(1.0, c)], [(1.0, b)], ":delta")
        models = list(dict.fromkeys(job.model for job in plan.jobs))
        model_pairs = list(dict.fromkeys((plan.jobs[b].model, plan.jobs[c].model) for b, c in pairs))
        for composite in composites:

            def terms(model: str | None, composite: Composite = composite) -> Terms:
                return [(weight, plan.job_index(request, model)) for weight, request in composite.terms]

            def named(model: str | None, suffix: str = "", composite: Composite = composite) -> str:
                return composite.label + suffix + (f"@{model}" if model is not None else "")

            if any(j not in losses for model in models for _, j in terms(model)):
                continue  # a part without per-row values: named in hints.py's notice or in the one above
            columns += [(named(model), terms(model), None, None) for model in models]
            columns += [(named(c, ":delta"), terms(c), terms(b), None) for b, c in model_pairs]
        # A loss named as a key column (--on mse, -l mse) is mse#2: the table kept one of two 'mse' columns, not
        # the key.
        writer.labels = unique_labels([*ids, *(name for name, _, _, _ in columns)])[len(ids) :]
        return columns

    if not any(aggregate.per_row for aggregate in aggregates):  # whatever the binding: refused before reading
        none_of()
    ids = list(plan.keys) or ["row"]
    writer = PerSampleWriter(path, ids, [])
    columns: list[Column] = []

    def sink(rows: np.ndarray, keys: list[pa.Array] | None, losses: dict[int, np.ndarray]) -> None:
        nonlocal columns
        columns = columns or layout(losses)

        def total(terms: Terms, output: int | None) -> np.ndarray:
            if len(terms) == 1 and terms[0][0] == 1.0:  # a loss's own column: no copy
                own = losses[terms[0][1]]
                return own if output is None else own[:, output]
            return np.sum([weight * losses[j] for weight, j in terms], axis=0)

        values = [total(t, k) if b is None else total(t, k) - total(b, k) for _, t, b, k in columns]
        writer.write(keys if keys is not None else [rows], values)

    try:
        yield sink
    except BaseException:
        writer.abort()
        raise
    writer.commit()


def unique_labels(labels: list[str]) -> list[str]:
    """Column names for the labels: a repeated label gets ``#2``, ``#3``... (the same loss asked twice)."""
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return unique
