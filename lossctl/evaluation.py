"""One evaluation from start to end: open the data, bind columns, one engine pass, finalize, gate.

This is the whole of ``lossctl eval`` without the printing, and of :func:`lossctl.evaluate`: both build an
:class:`~lossctl.options.Options` and call :func:`run_evaluation`. :mod:`lossctl.comparison` opens and binds
through the same functions (:func:`open_sources`, :func:`input_batches`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from lossctl import __version__
from lossctl.binding import Binding, bind, gate_owners, roles_needed
from lossctl.defaults import TASK_LOOKAHEAD_ROWS, default_chunk_rows
from lossctl.engine import Job, Outcome, Plan, dropped_columns, held_notice, query_column, query_labels
from lossctl.errors import InputError, LossctlError, NoRows, UsageError, option
from lossctl.execution import Split, engine_pass
from lossctl.finalize import build_results
from lossctl.hints import Looks, VectorColumns, multi_output_notices, option_notices
from lossctl.io.convert import decimal_option
from lossctl.io.readers import Source, naming_files
from lossctl.io.replay import Recorded
from lossctl.io.sources import check_stdin_once, check_text_options, open_data
from lossctl.labels import encoders as label_encoders
from lossctl.options import Notify, Options, Progress, check_gate_models
from lossctl.outputs import split_outputs
from lossctl.params import Composite, FailIf, LossRequest, check_params, gated_loss, select_losses
from lossctl.queries import QueriesNotContiguous
from lossctl.registry import get
from lossctl.report import Check, Comparison, Report, Result, group_text
from lossctl.samples import check_per_sample_path
from lossctl.tasks import DEFAULT_LOSSES, infer_task
from lossctl.text import as_utf8, count, show_name, shown_value


@dataclass
class Opened:
    """The inputs of a run, opened (column names known, no data read) and bound."""

    source: Source
    targets: Source | None
    binding: Binding

    @property
    def available(self) -> list[str]:
        return available_columns(self.source, self.targets)


def available_columns(source: Source, targets: Source | None) -> list[str]:
    """The columns roles can bind: the predictions', then the targets file's that the predictions lack."""
    columns = list(source.columns)
    if targets is not None:
        columns += [c for c in targets.columns if c not in columns]
    return columns


def open_sources(
    data: Any,
    options: Options,
    roles: list[str],
    notices: list[str],
    stdin: BinaryIO | None = None,
    *,
    text_checked: bool = True,
) -> Opened:
    """Open ``data`` (and ``--targets``) and bind ``roles`` and the weight and group columns. ``--delimiter`` and
    ``--decimal``, when given, must apply to one of these inputs, unless not ``text_checked``: then the caller checks
    them with its other inputs (:func:`~lossctl.io.sources.check_text_options`)."""
    check_stdin_once({"the predictions": data, option("targets"): options.targets})
    delimiter, decimal = options.delimiter, options.decimal_point
    source = open_data(data, options.input_format, stdin, delimiter=delimiter, decimal=decimal)
    targets = open_targets(options.targets, source, delimiter, decimal)
    if text_checked:
        check_text_options([source, targets], delimiter, options.decimal)
    notices += [*source.notices, *(targets.notices if targets else ())]  # e.g. the delimiter sniffed
    files = (targets.name, targets.columns) if targets is not None else None
    try:
        binding = bind(options, roles, source.columns, source.name, notices, files)
    except (UsageError, InputError) as error:
        raise _misread(error, source, targets) from None
    return Opened(source, targets, binding)


def _misread(error: UsageError | InputError, source: Source, targets: Source | None) -> LossctlError:
    """A binding ``error`` that says why an input's columns may not be those meant, where its reader saw why (a TSV
    holding commas reads as one column, named by its whole header line)."""
    why = "; ".join(part.misread for part in (source, targets) if part is not None and part.misread)
    if not why:
        return error
    message = f"{error}{' ' if str(error).endswith('?') else '; '}{why}"
    return error.reworded(message) if isinstance(error, InputError) else UsageError(message)


def open_targets(data: Any, source: Source, delimiter: str | None, decimal: str) -> Source | None:
    """The :class:`Source` of ``--targets`` (``None`` without): a path, or from Python any data the predictions may
    be. In-memory targets of the same kind as the predictions (two DataFrames) are named ``the targets (pandas
    DataFrame)`` in messages, and the report."""
    if data is None:
        return None
    targets = open_data(data, delimiter=delimiter, decimal=decimal, what="targets")
    if targets.name == source.name and not isinstance(data, str | os.PathLike):
        targets.path = f"the targets ({targets.path})"
    return targets


def key_columns(options: Options) -> tuple[str, ...]:
    """The predictions' ``--on`` key columns (read with the rest, and written beside ``--per-sample`` losses)."""
    return options.join_key.preds if options.join_key is not None else ()


def batch_rows(options: Options, binding: Binding, columns: Sequence[str]) -> int:
    """Rows per batch for reading ``columns``: the engine's chunk size (:func:`lossctl.engine.run` sizes chunks by
    the columns the losses read, not the ``--by`` and ``--on`` ones), so that each batch is a chunk as it comes;
    batches of another size are copied into chunks."""
    grouping = {*binding.by, *key_columns(options)}
    return options.chunk_rows or default_chunk_rows(len([c for c in columns if c not in grouping]))


def input_batches(
    opened: Opened,
    columns: list[str],
    options: Options,
    notices: list[str],
    rows: int | None = None,
    queries: Sequence[str] = (),
) -> Iterator[pa.RecordBatch]:
    """The record batches of ``columns`` (``rows`` each, by default :func:`batch_rows`), with the targets file's
    columns joined in when there is one (streamed: :class:`~lossctl.io.align.Join`). The key columns, ``--by`` and
    query ids (the ``qid`` role's, and ``queries``: columns read as query ids without the role, as suggest does),
    are the reader's ``dictionary``: they come as dictionaries where the file stores them so; a text reader keeps
    the integers beyond 2^53 of every key column (``--by``, query ids, ``--on``) exact (two ids are never one)."""
    keys = list(dict.fromkeys([*opened.binding.by, *opened.binding.roles.get("qid", []), *queries]))
    chunk_rows = rows or batch_rows(options, opened.binding, columns)
    if opened.targets is None:
        return iter(opened.source.batches(columns, chunk_rows, dictionary=keys, keys=key_columns(options)))
    from lossctl.io.align import joined_batches

    binding = opened.binding
    target_columns = binding.roles.get("target", [])
    data = [*binding.value_columns, *([binding.weight] if binding.weight else [])]  # values, never a likely key
    drop = options.missing == "drop"
    key = options.join_key
    return joined_batches(
        opened.source, opened.targets, columns, target_columns, key, chunk_rows, keys, notices, drop, data
    )


def input_info(path: str, outcome: Outcome) -> dict[str, Any]:
    """The ``input`` object of the report for one input; its path in UTF-8 (:func:`~lossctl.text.as_utf8`), not as
    an ASCII locale decoded it."""
    rows = {"rows": outcome.rows, "rows_used": outcome.rows_used, "rows_dropped": outcome.rows_dropped}
    return {"path": as_utf8(path), **rows}


def dropped_notice(outcome: Outcome, binding: Binding, others: Sequence[str] = ()) -> list[str]:
    """The notice of ``--missing drop``: how many rows were dropped, and why: no partner in ``others`` (the files
    joined to the input), or a missing value, with the count of rows per column. A row missing in one model's
    column is dropped for every model of ``binding``, so that the models are compared on the same rows: the
    notice says so."""
    if not outcome.rows_dropped:
        return []
    dropped = f"dropped {outcome.rows_dropped} of {count(outcome.rows, 'row')}"
    partnerless = f"without a partner in {' or '.join(others)}"
    missing = outcome.rows_dropped - outcome.partnerless
    columns = dropped_columns(outcome.dropped_missing)
    own = {tuple(cs) for roles in binding.models.values() for cs in roles.values()}
    every = (
        "; a row with a missing value in any model's column is dropped for every model, so the models are compared "
        "on the same rows"
        if len(binding.models) > 1 and own.intersection(outcome.dropped_missing)
        else ""
    )
    drop = option("missing", "drop")
    emptied = _emptied_groups(outcome)
    if not outcome.partnerless:
        return [f"{dropped} with missing values ({drop}): {columns}{every}{emptied}"]
    if not missing:
        return [f"{dropped} {partnerless} ({drop}){emptied}"]
    return [
        f"{dropped} ({drop}): {outcome.partnerless} {partnerless}, {missing} with missing values ({columns}){every}"
        f"{emptied}"
    ]


# The --by groups an emptied-groups notice names; it counts the others.
_EMPTIED_SHOWN = 5


def _emptied_groups(outcome: Outcome) -> str:
    """``; group g=b has no rows left, so it has no results`` for the ``--by`` groups whose every row was dropped:
    read, so coded, but with no row in any job's group statistics (their last column counts the rows), which is a
    column per group, not a pass over the rows."""
    if not outcome.groups or not outcome.group_stats:
        return ""
    rows = np.max([stats[:, -1] for stats in outcome.group_stats], axis=0)
    empty = np.flatnonzero(rows == 0)
    if not empty.size:
        return ""
    shown = "; ".join(group_text(outcome.groups[code]) for code in empty[:_EMPTIED_SHOWN])
    if empty.size == 1:
        return f"; group {shown} has no rows left, so it has no results"
    more = f" and {empty.size - _EMPTIED_SHOWN} more" if empty.size > _EMPTIED_SHOWN else ""
    return f"; {empty.size} groups have no rows left, so they have no results: {shown}{more}"


def jobs_for(requests: Sequence[LossRequest], binding: Binding) -> list[Job]:
    """One job per loss and model, each with the columns of the roles it reads."""
    return [
        Job(request, {role: roles[role] for role in request.spec.role_names}, model)
        for request in requests
        for model, roles in binding.role_sets()
    ]


@dataclass(frozen=True)
class Inferred:
    """The task the first rows look like without ``--loss``, and the default losses chosen for it (not those only a
    ``--fail-if`` names: the user named them)."""

    task: str
    chosen: tuple[LossRequest, ...]


def with_defaults(
    batches: Iterator[pa.RecordBatch], binding: Binding, options: Options, notices: list[str]
) -> tuple[list[LossRequest], list[LossRequest | Composite], Iterator[pa.RecordBatch], Inferred | None]:
    """The requests to run: the selected ones, or the defaults of the task the first batch looks like, then the
    losses that only a ``--fail-if`` names (:func:`~lossctl.binding.gate_owners`); what each ``--fail-if`` gates; and
    the task with its defaults (``None`` when the losses are selected)."""
    if options.requests:
        requests = list(options.requests)
        return requests, gate_owners(options, requests), batches, None
    read: list[pa.RecordBatch] = []  # more than one only while no row has every bound value (--missing drop)
    looked: dict[str | None, str | None] = {model: None for model, _ in binding.role_sets()}
    named_classes = options.positive is not None or bool(options.classes)
    with decimal_option(options.decimal):
        for batch in batches:
            read.append(batch)
            looked |= {
                model: looked[model] or infer_task(batch, roles, named_classes) for model, roles in binding.role_sets()
            }
            if None not in looked.values() or options.missing != "drop":  # else a missing value stops the pass
                break
            rows = sum(part.num_rows for part in read)
            if rows >= TASK_LOOKAHEAD_ROWS:
                losses = option("loss", keyword="losses")
                raise UsageError(
                    f"no {losses} given, and none of the first {rows:,} rows has every bound value to tell the task "
                    f"by ({option('missing', 'drop')} drops them); name the losses with {losses}"
                )
    # A model with no complete row takes the others' task (its rows are dropped for every model); without any, the
    # pass says every row was dropped.
    told = next((task for task in looked.values() if task is not None), "regression")
    tasks = {model: task or told for model, task in looked.items()}
    if len(set(tasks.values())) > 1:  # one set of losses serves every model: none fits them all
        losses = option("loss", keyword="losses")
        seen = ", ".join(f"{model}: {task}" for model, task in tasks.items())
        raise UsageError(f"no {losses} given, and the models' data look like different tasks ({seen}); name the losses "
                         f"with {losses}")  # fmt: skip
    task = next(iter(tasks.values()))
    names, left_out = default_losses(task, options)
    requests = default_requests(task, names, options)
    defaults = len(names)  # distinct losses: one request each, before those only a --fail-if names
    owners = gate_owners(options, requests)
    gated = [request.label for request in requests[defaults:]]
    also = f", and {', '.join(gated)} for {option('fail_if')}" if gated else ""
    aside = f" (left out {'; '.join(left_out)})" if left_out else ""
    chosen = ", ".join(request.label for request in requests[:defaults])
    notices.append(
        f"no {option('loss', keyword='losses')} given: the data looks like {task}; evaluating {chosen}{also}{aside}"
    )
    rest = itertools.chain(read, batches)
    return requests, owners, rest, Inferred(task, tuple(requests[:defaults]))


def default_requests(task: str, names: list[str], options: Options) -> list[LossRequest]:
    """The default losses ``names`` of ``task`` as the selected losses: ``--param [LOSS.]KEY=VALUE`` reaches them
    (and a loss only a ``--fail-if`` names) as it reaches losses given with ``--loss``; a ``--param`` that none of
    them takes is a usage error naming the defaults."""
    specs = [get(name) for name in names] + [gated_loss(gate)[0] for gate in options.gates]
    try:
        check_params(options.params, specs)
    except UsageError as error:
        raise UsageError(
            f"{error}; without {option('loss', keyword='losses')} the selected losses are the defaults of {task}: "
            f"{', '.join(names)}"
        ) from None
    return select_losses(names, options.params, options.convention, options.gates)[0]


def default_losses(task: str, options: Options) -> tuple[list[str], list[str]]:
    """The default losses of ``task`` that the run's ``--convention`` and ``--reduction`` allow, and why each other
    one is left out: the user did not ask for them, so one that cannot follow the options is not an error (``eval
    --reduction sum`` on regression leaves out ``rmse``, ``--convention sklearn`` on multi-label data ``bce``, which
    log_loss takes on one label column only); with none left it is a usage error saying to name losses."""
    names: list[str] = []
    left_out: list[str] = []
    for name in DEFAULT_LOSSES[task]:
        spec = get(name)
        convention = spec.conventions.get(options.convention)
        if options.convention != "lossctl" and convention is None:
            left_out.append(f"{name}: no {options.convention} convention")
        elif task.startswith("multilabel") and convention is not None and convention.one_label:
            left_out.append(f"{name}: one label column under the {options.convention} convention")
        elif options.reduction not in spec.aggregate_for(options.convention).reductions:
            left_out.append(f"{name}: only the mean reduction")
        else:
            names.append(name)
    if not names:
        losses = option("loss", keyword="losses")
        raise UsageError(
            f"no {losses} given, and the options leave none of the default losses of {task} ({'; '.join(left_out)}); "
            f"name the losses with {losses}"
        )
    return names, left_out


def inferred(error: InputError, defaults: Inferred | None) -> InputError:
    """``error`` of a loss the user did not name (no ``--loss``: the defaults of the task the first chunk looks
    like) with why that loss was chosen: the notice saying so is not printed when the run fails. A loss only a
    ``--fail-if`` names was named by the user: its error stays as it is."""
    if defaults is None:
        return error
    label = next((r.label for r in defaults.chosen if str(error).startswith(f"{r.label}: ")), None)
    if label is None:
        return error
    losses = option("loss", keyword="losses")
    return error.reworded(
        f"{error} ({label} was chosen without {losses}: the first rows read look like {defaults.task}; name the "
        f"losses with {losses})"
    )


def located(error: InputError, opened: Opened, columns: Sequence[str], options: Options) -> InputError:
    """``error`` naming the file that holds the row it cites when its input is several files
    (:func:`~lossctl.io.readers.naming_files`). Of the ``columns`` read, those the ``--targets`` input gives are
    its own: aligned by row order, a row the message cites in one of them (the first column it names, whose row it
    cites) is the targets input's row; joined by ``--on``, it is the predictions' row the targets row is joined to,
    and the message says so, naming those columns as the targets file's."""
    targets = opened.targets
    if targets is None or error.rows_of != "data":
        return naming_files(error, opened.source, targets)
    from lossctl.io.align import taken_from_targets

    given = taken_from_targets(columns, opened.binding.roles.get("target", []), opened.source, targets)
    message = str(error)
    if options.join_key is None:
        if error.row is not None and cited_column(message, columns) in given:
            error = InputError(message, row=error.row, rows_of="targets")
        return naming_files(error, opened.source, targets)
    named = [column for column in given if f"column '{show_name(column)}'" in message]
    if not named or "row" not in message:
        return naming_files(error, opened.source)
    for column in named:
        message = message.replace(f"column '{show_name(column)}'", f"column '{show_name(column)}' of {targets.name}")
    joined = f"{message} (rows are numbered as in {opened.source.name}, to which {option('on')} joins them)"
    return naming_files(error.reworded(joined), opened.source)


def cited_column(message: str, columns: Sequence[str]) -> str | None:
    """The first of ``columns`` that ``message`` names (``column 'x'``, or ``columns 'x', ...`` first), by place in
    the message: the column whose row an error cites."""
    places = {
        column: min(found)
        for column in columns
        if (found := [i for word in ("column", "columns") if (i := message.find(f"{word} '{show_name(column)}'")) >= 0])
    }
    return min(places, key=places.__getitem__) if places else None


def run_evaluation(
    data: Any,
    options: Options,
    *,
    distributions: bool = False,
    progress: Progress | None = None,
    notify: Notify | None = None,
    stdin: BinaryIO | None = None,
) -> Report:
    """Evaluate ``options`` on ``data`` (anything :func:`~lossctl.io.sources.open_data` takes).

    ``distributions`` attaches the quantiles and histogram of each per-row loss to its overall result (for
    the table and plots); ``progress(rows_read, total_rows_or_None)`` is called as chunks are read, and
    ``notify(message)`` with notices that matter before the work ends (a query with 10^8 pairs), which
    otherwise join the report's.
    """
    if options.join_key is not None and options.targets is None:
        raise UsageError(f"{option('on')} needs {option('targets')}: it names the key column shared by both files")
    if options.per_sample:
        check_per_sample_path(options.per_sample)
    notices: list[str] = []
    notify = notify_once(notify) if notify is not None else None  # a pass run again (queries held) tells it again
    roles = roles_needed(options.requests, options.gates, options.composites)
    opened = open_sources(data, options, roles, notices, stdin)
    binding = opened.binding
    columns = binding.columns(*key_columns(options))
    try:
        batches = input_batches(opened, columns, options, notices)
        requests, owners, batches, defaults = with_defaults(batches, binding, options, notices)
    except InputError as error:  # in the targets' keys, or the first chunk, read for the task's default losses
        raise located(error, opened, columns, options) from None
    check_gate_models(options.gates, list(binding.models))
    jobs = jobs_for(requests, binding)
    encoders = label_encoders(jobs, options.classes, options.positive)
    plan = Plan(
        jobs, binding.weight, binding.by, key_columns(options), options.bootstrap, options.seed, distributions,
        moments=options.normal_ci, encoders=encoders,
    )  # fmt: skip
    total = opened.source.num_rows
    report_progress = (lambda rows: progress(rows, total)) if progress else None
    told_at = len(notices)  # the multi-output notices' place, told once a chunk shows which columns are lists
    notices += option_notices(options, requests)
    look, vectors = Looks(plan.jobs, options.convention), VectorColumns()
    split = Split((data, options.targets), partial(part_batches, binding, columns, options), _join_reason(options))

    def finished(plan: Plan, batches: Iterator[pa.RecordBatch]) -> tuple[Outcome, list[Result], list[dict[str, Any]]]:
        passing = engine_pass(
            batches, plan, options, notices, split=split, progress=report_progress, notify=notify, looks=look,
            observe=vectors.observe,
        )  # fmt: skip
        with passing as outcome:  # --per-sample is published only if the results are too
            notices[told_at:told_at] = multi_output_notices(requests, binding, vectors.found)
            notices.extend(
                outcome.notices
                + dropped_notice(outcome, binding, [opened.targets.name] if opened.targets else [])
                + look.notices()
            )
            notices.extend(notice for encoder in encoders.values() for notice in encoder.notices())
            plan, outcome = split_outputs(plan, outcome)  # multioutput=raw: one result per output
            results, gaps = build_results(
                plan, outcome, options.composites, options.reduction, options.convention, options.level, notices
            )
        return outcome, results, gaps

    once = read_once([opened.source, opened.targets]) if query_column(plan) is not None else None
    recorded = batches = Recorded(batches) if once is not None else batches  # kept, should a query's rows be apart
    try:
        try:
            outcome, results, gaps = finished(plan, batches)
        except QueriesNotContiguous as apart:  # a query's rows are apart: read again, every row at once
            notices.append(held_notice(plan, apart))
            again = partial(input_batches, opened, columns, options, notices)
            outcome, results, gaps = finished(replace(plan, hold=True), read_again(recorded, once, plan, apart, again))
    except NoRows:
        raise NoRows.naming(opened.source.label) from None
    except InputError as error:  # a missing or out-of-domain value of the targets file, in rows joined by --on
        raise inferred(located(error, opened, columns, options), defaults) from None
    info = input_info(opened.source.path, outcome)
    if opened.targets is not None:
        info["targets"] = as_utf8(opened.targets.path)
    groups = {"by": binding.by, "gaps": gaps} if binding.by else None
    checks = gate_checks(options.gates, owners, results)
    unique = list(dict.fromkeys(notices))  # a pass run again (queries held) says the same things again
    return Report(__version__, info, binding.report_columns(), results, groups, checks, unique)


def read_once(sources: Sequence[Source | None]) -> Source | None:
    """The first of ``sources`` that gives its rows only once (standard input, a pipe, a ``RecordBatchReader``)."""
    return next((source for source in sources if source is not None and source.once), None)


def read_again(
    recorded: Iterator[pa.RecordBatch],
    once: Source | None,
    plan: Plan,
    apart: QueriesNotContiguous,
    again: Callable[[], Iterator[pa.RecordBatch]],
) -> Iterator[pa.RecordBatch]:
    """The batches of the pass run again, held, when the rows of query ``apart`` turn out apart: ``again()`` reads
    the inputs again, unless one of them (``once``) is read once: then the batches ``recorded`` as they passed
    (:class:`~lossctl.io.replay.Recorded`), and the rest. When they could not be kept, an input error says why."""
    if once is None or not isinstance(recorded, Recorded):
        return again()
    if recorded.failed is not None:
        raise InputError(
            f"{query_labels(plan)}: the rows of query {shown_value(apart.qid)} are not contiguous (it appears again "
            f"at row {apart.row}), and {once.name} is read once: its rows could not be kept in {recorded.folder} to "
            f"be read again ({recorded.failed}); sort it by '{query_column(plan)}', or set TMPDIR to a writable "
            "folder with room",
            row=apart.row,
        )
    return recorded.again()


def notify_once(notify: Notify) -> Callable[[str], None]:
    """``notify`` passing each message once: when a query's rows turn out apart, the pass runs again over the
    held input and announces the large queries it had announced already."""
    told: set[str] = set()

    def tell(message: str) -> None:
        if message not in told:
            told.add(message)
            notify(message)

    return tell


def part_batches(
    binding: Binding, columns: list[str], options: Options, sources: Sequence[Source | None]
) -> Iterator[pa.RecordBatch]:
    """The batches of one part of the input (the predictions', and the targets' aligned by order), for a task of
    the Dask engine (:class:`~lossctl.execution.Split`)."""
    predictions, targets = sources
    if predictions is None:
        raise UsageError("no data to evaluate")
    return input_batches(Opened(predictions, targets, binding), columns, options, [])


def _join_reason(options: Options) -> str | None:
    """Why the input cannot be read in parts: a ``--on`` join needs every target row at hand."""
    return f"{option('targets')} {option('on')} joins the whole files" if options.join_key is not None else None


def gate_checks(
    gates: Sequence[FailIf], owners: list[LossRequest | Composite], results: Sequence[Result | Comparison]
) -> list[Check]:
    """One check per ``--fail-if`` and model, on the overall value of the loss it names (for a comparison, the
    candidate's value). ``LOSS@MODEL`` gates one model (:func:`~lossctl.options.check_gate_models`); without ``@``
    the gate holds for every model."""
    models = list(dict.fromkeys(r.model for r in results))
    checks = []
    for gate, owner in zip(gates, owners, strict=True):
        for model in [gate.model] if gate.model is not None else models:
            record = next(r for r in results if r.group is None and r.request is owner and r.model == model)
            value = record.candidate if isinstance(record, Comparison) else record.value
            name = owner.name if isinstance(owner, Composite) else owner.spec.name
            params = {"formula": owner.formula} if isinstance(owner, Composite) else owner.params
            passed = not gate.holds(value)
            check = Check(gate.expr, name, value, passed, model=model, params=params, label=owner.label, gate=gate)
            checks.append(check)
    return checks
