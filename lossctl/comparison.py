"""``compare``: the same losses for several models over the same targets, with paired deltas.

Two files (``compare BASELINE CANDIDATE``) or models held in one file (``compare PATH --model A=... --model
B=...``, each later model against the first) become models of one engine pass over one aligned stream, so every
row is weighted identically for each model (the bootstrap's Poisson counts are keyed by row): the interval of a
delta is a paired interval, much narrower than two independent ones when the models err on the same rows. Two
files are read in lockstep, chunk by chunk, when their rows are aligned by order.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from lossctl import __version__
from lossctl.arrow import to_arrow
from lossctl.binding import Binding, bound_as, roles_needed
from lossctl.engine import Outcome, Plan, held_notice, query_column
from lossctl.errors import InputError, NoRows, UsageError, flags_spelled, option
from lossctl.evaluation import (
    Opened,
    batch_rows,
    dropped_notice,
    gate_checks,
    inferred,
    input_batches,
    input_info,
    jobs_for,
    key_columns,
    located,
    notify_once,
    open_sources,
    read_again,
    read_once,
    with_defaults,
)
from lossctl.execution import Split, engine_pass
from lossctl.finalize import (
    Values,
    combine,
    composite_signature,
    finalize_job,
    gap,
    in_group,
    loss_notices,
    observations,
    over_every_row,
    plain_keys,
    signature,
)
from lossctl.hints import VectorColumns, multi_output_notices, option_notices
from lossctl.io.columns import column_not_found, format_columns, quoted_columns, resolve_colspec
from lossctl.io.convert import is_text_type
from lossctl.io.parts import batches_table
from lossctl.io.readers import Source, naming_files
from lossctl.io.replay import Recorded
from lossctl.io.sources import check_stdin_once, check_text_options, open_data
from lossctl.labels import encoders as label_encoders
from lossctl.normal import NoInterval
from lossctl.options import Notify, Options, Progress, check_gate_models
from lossctl.outputs import split_outputs
from lossctl.params import Composite, LossRequest
from lossctl.prefetch import prefetch
from lossctl.queries import QueriesNotContiguous
from lossctl.report import Check, CompareReport, Comparison
from lossctl.samples import check_per_sample_path
from lossctl.text import as_utf8, count, fraction, show_name, shown_value, written, written_number

# Roles that hold data rather than a model's output: read once, from the baseline (or --targets) file.
DATA_ROLES = ("target", "qid", "teacher")
# How a message names the values of a data role (or the --weight column, "weight") that differ between the
# files, and what the models share.
_DIFFERING = {
    "target": ("targets", "truth"),
    "qid": ("query ids", "queries"),
    "teacher": ("teacher logits", "teacher"),
    "weight": ("weights", "weights"),
}
# The tasks whose losses read a prediction's width as its classes (labels, pixels): the models compared must agree.
_CLASS_TASKS = ("multiclass", "multilabel", "segmentation")
CANDIDATE = "candidate:"
BASELINE_MODEL, CANDIDATE_MODEL = "baseline", "candidate"
# The candidate's row numbers, beside its columns when --on joins it to the baseline (a NUL: no file's column).
_CANDIDATE_ROW = "\0candidate row"


def _no_candidate() -> str:
    """The error of a comparison with one input and no models, as the caller spells the call."""
    if flags_spelled():
        return "compare needs a CANDIDATE file, or two or more --model columns of one file to compare"
    return "compare needs a candidate, or two or more models (columns of the baseline) to compare"


def verdict(baseline: float, delta: float, ci: dict[str, float] | None) -> str:
    """``same`` when the delta is negligible or, with a bootstrap, when its interval contains 0; lower is better."""
    if negligible(baseline, delta) or (ci is not None and ci["low"] <= 0 <= ci["high"]):
        return "same"
    return "better" if delta < 0 else "worse"


def negligible(baseline: float, difference: float) -> bool:
    """Whether ``difference`` (between two values near ``baseline``) is rounding: ``<= 1e-12 · max(|baseline|, 1)``."""
    return abs(difference) <= 1e-12 * max(abs(baseline), 1.0)


def run_comparison(
    baseline: Any,
    candidate: Any,
    options: Options,
    stdin: BinaryIO | None = None,
    progress: Progress | None = None,
    notify: Notify | None = None,
) -> CompareReport:
    """Compare ``options``' losses between ``baseline`` and ``candidate`` (two inputs with the same columns and
    targets) or, with ``candidate=None``, between the ``options.models`` of ``baseline`` (each later model against
    the first). ``progress(rows_read, baseline_rows_or_None)`` is called as chunks are read, and
    ``notify(message)`` with notices that matter before the work ends, as in
    :func:`~lossctl.evaluation.run_evaluation`.

    Rows are aligned by ``options.on`` or by order. ``options.fail_if_worse`` (percent) fails a check when a
    candidate is worse by more than that on any loss, with ``options.significant`` only where the paired
    bootstrap interval of the delta excludes 0; ``options.fail_if`` gates the candidates' values.
    """
    if options.per_sample:
        check_per_sample_path(options.per_sample)
    check_stdin_once({"the baseline": baseline, "the candidate": candidate, option("targets"): options.targets})
    # Before any reading, as every usage error: a missing BASELINE file was reported instead (exit 3).
    if candidate is None and not options.models:
        raise UsageError(_no_candidate())
    if candidate is not None and options.models:
        raise UsageError(
            "--model compares models held in one file: give one PATH, or two files without --model"
            if flags_spelled()
            else "models compares models held in one input: give no candidate, or two inputs without models"
        )
    if candidate is None and options.join_key is not None and options.targets is None:  # else silently unused
        raise UsageError(
            f"{option('on')} needs {option('targets')} or a candidate file: it names the key column shared by two "
            "files, and the models of one file are compared row by row"
        )
    notices: list[str] = []
    roles = roles_needed(options.requests, options.gates, options.composites)
    opened = open_sources(baseline, options, roles, notices, stdin, text_checked=candidate is None)
    if candidate is None:
        if len(opened.binding.models) < 2:
            raise UsageError(_no_candidate())
        binding, names = opened.binding, list(opened.binding.models)
        read = binding.columns(*key_columns(options))
        try:
            batches = input_batches(opened, read, options, notices)
        except InputError as error:  # in the targets' keys
            raise located(error, opened, read, options) from None
        candidate_source, candidate_rows, in_candidate_order = None, None, None
    else:
        if candidate is baseline and type(candidate).__name__ == "RecordBatchReader":
            raise UsageError(
                "the baseline and the candidate are the same RecordBatchReader, which can be read only once; "
                "give two readers, or a Table"
            )
        candidate_source = open_data(
            candidate, options.input_format, delimiter=options.delimiter, decimal=options.decimal_point
        )
        notices += candidate_source.notices
        check_text_options([opened.source, opened.targets, candidate_source], options.delimiter, options.decimal)
        binding = _two_models(
            opened.binding, opened.source, candidate_source, options.role_columns(), key_columns(options)
        )
        names = [BASELINE_MODEL, CANDIDATE_MODEL]
        try:
            batches, candidate_rows, in_candidate_order = _aligned(opened, candidate_source, binding, options, notices)
        except InputError as error:  # in the targets' keys, or targets differing between the files
            if error.rows_of == "compared":
                raise naming_files(error, opened.source, candidate=candidate_source) from None
            raise located(error, opened, opened.binding.columns(*key_columns(options)), options) from None
    try:
        requests, owners, batches, defaults = with_defaults(
            batches, binding, options, notices
        )  # the task's defaults without --loss
    except InputError as error:  # in the first chunk, read for the task
        raise _in_candidate(error, opened, candidate_source, binding, options, None, in_candidate_order) from None
    # The baseline's binding: two files bind the same columns, told once and without the sides' model names.
    told_at = len(notices)  # the multi-output notices' place, told once a chunk shows which columns are lists
    notices += option_notices(options, requests)
    vectors = VectorColumns()
    if candidate is None:
        check_gate_models(options.gates, names[1:], baseline=names[0])
    else:
        check_gate_models(options.gates, [])
    jobs = jobs_for(requests, binding)
    encoders = label_encoders(jobs, options.classes, options.positive)
    keys = key_columns(options)
    plan = Plan(
        jobs, binding.weight, binding.by, keys, options.bootstrap, options.seed,
        moments=options.normal_ci, encoders=encoders,
    )  # fmt: skip
    pairs = [(plan.job_index(r, names[0]), plan.job_index(r, name)) for r in requests for name in names[1:]]
    total = opened.source.num_rows
    report_progress = (lambda rows: progress(rows, total)) if progress else None
    notify = notify_once(notify) if notify is not None else None  # a pass run again (queries held) tells it again
    split = Split(
        (baseline, candidate, options.targets),
        partial(part_aligned, opened.binding, binding, options),
        f"{option('targets')} {option('on')} joins the whole files" if options.join_key is not None else None,
    )

    def finished(
        plan: Plan, batches: Iterator[pa.RecordBatch]
    ) -> tuple[Outcome, list[Comparison], list[dict[str, Any]]]:
        with engine_pass(
            batches, plan, options, notices, split=split, pairs=pairs, progress=report_progress, notify=notify,
            observe=vectors.observe,
        ) as outcome:  # fmt: skip
            _check_same_widths(plan, outcome, pairs, bool(options.models))
            notices[told_at:told_at] = multi_output_notices(requests, opened.binding, vectors.found)
            notices.extend(outcome.notices)  # e.g. a query with 10^8 pairs
            notices.extend(
                dropped_notice(outcome, binding, [s.name for s in (candidate_source, opened.targets) if s is not None])
            )
            notices.extend(notice for encoder in encoders.values() for notice in encoder.notices())
            outputs = split_outputs(plan, outcome)
            sides = dict(zip(names, _names(opened.source, candidate_source), strict=True)) if candidate_source else None
            notices.extend(loss_notices(*outputs, options.convention, sides))
            return outcome, *_comparisons(*outputs, options, names, notices)

    sources = (opened.source, candidate_source, opened.targets)
    once = read_once(sources) if query_column(plan) is not None else None
    recorded = batches = Recorded(batches) if once is not None else batches  # kept, should a query's rows be apart
    try:
        try:
            outcome, comparisons, gaps = finished(plan, batches)
        except QueriesNotContiguous as apart:  # a query's rows are apart: read again, every row at once
            notices.append(held_notice(plan, apart))
            again = partial(part_aligned, opened.binding, binding, options, sources)
            held = read_again(recorded, once, plan, apart, again)
            outcome, comparisons, gaps = finished(replace(plan, hold=True), held)
    except NoRows:
        raise NoRows.naming(opened.source.label) from None
    except InputError as error:  # a missing, infinite or out-of-domain value, maybe in a column of the candidate
        raise inferred(_in_candidate(error, opened, candidate_source, binding, options, plan, in_candidate_order),
                       defaults) from None  # fmt: skip
    if candidate_source is not None:
        notices = [_shown_notice(notice, binding, *_names(opened.source, candidate_source)) for notice in notices]
    checks = gate_checks(options.gates, owners, comparisons)
    if options.fail_if_worse is not None:
        checks += [worse_check(c, options.fail_if_worse, options.significant) for c in comparisons if c.group is None]
    info = _input(opened, candidate_source, candidate_rows, outcome, names)
    groups = {"by": binding.by, "gaps": gaps} if binding.by else None
    columns = opened.binding.report_columns()
    unique = list(dict.fromkeys(notices))  # a pass run again (queries held) says the same things again
    return CompareReport(__version__, info, columns, comparisons, groups, checks, unique)


def _check_same_widths(plan: Plan, outcome: Outcome, pairs: Sequence[tuple[int, int]], named: bool) -> None:
    """The models compared by a loss of classes (:data:`_CLASS_TASKS`) must give as many values per row to each
    role (K classes, labels, pixels): a 3-class model beside a 4-class one, or 3 columns beside 4, are each scored,
    but not over one set of classes. (Regression outputs, each scored against the target, and embeddings may differ
    in width.) An input error naming both bindings and widths (``outcome.widths``: each binding's, where it holds a
    value); ``named``: the models are ``--model`` ones, named in the message (two files' are named by the caller)."""
    for base, cand in pairs:
        if plan.jobs[base].request.spec.task not in _CLASS_TASKS:
            continue
        for role, columns in plan.jobs[base].roles.items():
            theirs = plan.jobs[cand].roles[role]
            ours_seen, theirs_seen = outcome.widths.get(tuple(columns)), outcome.widths.get(tuple(theirs))
            if ours_seen is None or theirs_seen is None or ours_seen[0] == theirs_seen[0]:
                continue
            sides = [
                quoted_columns(cs) + (f" of model '{plan.jobs[job].model}'" if named else "")
                for job, cs in ((base, columns), (cand, theirs))
            ]
            holds = ["hold" if len(cs) > 1 else "holds" for cs in (columns, theirs)]
            raise InputError(
                f"the models' {role} values per row differ: {sides[0]} {holds[0]} {ours_seen[0]}, {sides[1]} "
                f"{holds[1]} {theirs_seen[0]}; compare scores the models over the same targets, so each must give "
                "as many values per row (the same classes, labels or outputs)"
            )


def _in_candidate(
    error: InputError,
    opened: Opened,
    candidate_source: Source | None,
    binding: Binding,
    options: Options,
    plan: Plan | None,
    in_candidate_order: Callable[[], Iterator[pa.RecordBatch] | None] | None,
) -> InputError:
    """``error`` naming a model column of either file as that file's (both files have it), the candidate's rows
    numbered as that file numbers them (or, joined by ``--on``, saying that they are the baseline's rows), and the
    file holding the row it cites when that input is several files (each file's, for a row of both files read in
    lockstep). ``plan``: the pass's, ``None`` before the losses are known."""
    if error.rows_of == "compared":  # the same row of both files, read in lockstep
        return naming_files(error, opened.source, candidate=candidate_source)
    if candidate_source is None:
        return located(error, opened, opened.binding.columns(*key_columns(options)), options)
    base_name, candidate_name = _names(opened.source, candidate_source)
    if _shown(str(error), binding, candidate_name) == str(error):  # the baseline's columns only
        shown = _shown(str(error), binding, candidate_name, base_name)
        named = error if shown == str(error) else error.reworded(shown)  # kept as it is: its class, for the API
        return located(named, opened, opened.binding.columns(*key_columns(options)), options)
    # Without a plan yet (the first chunk, read for the task), the rows are numbered as the baseline's.
    own = (
        _candidate_error(in_candidate_order, plan, options, binding, str(error))
        if in_candidate_order and plan
        else None
    )
    if own is not None:  # numbered as the candidate file numbers its rows
        return candidate_source.naming_file(own.reworded(_shown(str(own), binding, candidate_name)))
    if options.join_key:
        joined = f" (rows are numbered as in {base_name}, to which {option('on')} joins them)"
        shown = _shown(str(error), binding, candidate_name, base_name)
        return opened.source.naming_file(error.reworded(shown + joined))
    named = error.reworded(_shown(str(error), binding, candidate_name, base_name))
    if _candidate_only(str(error), binding):
        return candidate_source.naming_file(named)
    # The row cited first is of a column of the baseline (or of --targets) that the message names before.
    return located(named, opened, opened.binding.columns(*key_columns(options)), options)


def part_aligned(
    base_binding: Binding, binding: Binding, options: Options, sources: Sequence[Source | None]
) -> Iterator[pa.RecordBatch]:
    """The aligned batches of one part of the baseline, the candidate (``None`` for models of one file) and the
    targets, for a task of the Dask engine (:class:`~lossctl.execution.Split`)."""
    baseline, candidate, targets = sources
    if baseline is None:
        raise UsageError("compare needs a BASELINE")
    opened = Opened(baseline, targets, base_binding)
    if candidate is None:
        return input_batches(opened, binding.columns(*key_columns(options)), options, [])
    return _aligned(opened, candidate, binding, options, [])[0]


def _two_models(
    binding: Binding, baseline: Source, candidate: Source, explicit: Mapping[str, str], keys: Sequence[str]
) -> Binding:
    """The baseline's binding with two models: the baseline's own columns and the candidate's, renamed. A column
    the candidate lacks is an input error, which says so when the baseline's column was guessed (``explicit``: the
    roles given a COLSPEC): the guess's notice is not printed when the run fails, and the user never named it.
    So is a glob that matches other columns in the candidate (:func:`_check_same_matches`; ``keys``: ``--on``)."""
    model_roles = {role: cs for role, cs in binding.roles.items() if role not in DATA_ROLES}
    _check_same_matches(binding, model_roles, baseline, candidate, explicit, keys)
    columns = list(dict.fromkeys(c for cs in model_roles.values() for c in cs))
    available = set(candidate.columns)  # a set: 10,000 columns looked up in the list took 2.6 s
    missing = [c for c in columns if c not in available]
    if missing:
        names = _names(baseline, candidate)
        error = column_not_found(missing[0], candidate.columns, names[1])
        role = next(role for role, cs in model_roles.items() if missing[0] in cs)
        if role in explicit:
            raise error
        raise error.reworded(
            f"{error} ('{show_name(missing[0])}' is the {role} guessed from its name in {names[0]}; compare reads "
            "both files by the same column names)"
        )
    data_roles = {role: cs for role, cs in binding.roles.items() if role in DATA_ROLES}
    models = {
        BASELINE_MODEL: model_roles,
        CANDIDATE_MODEL: {role: [CANDIDATE + c for c in cs] for role, cs in model_roles.items()},
    }
    return Binding(data_roles, binding.weight, binding.by, models)


def _check_same_matches(
    binding: Binding,
    model_roles: Mapping[str, list[str]],
    baseline: Source,
    candidate: Source,
    explicit: Mapping[str, str],
    keys: Sequence[str],
) -> None:
    """A model role's COLSPEC must name the same columns in the candidate as in the baseline, whose columns are
    read from both files: a glob (``--pred 'logit_*'``) matching a fourth ``logit_3`` only in the candidate would
    leave it out of its model without a word. An input error naming both lists."""
    reserved = {c for c in (binding.weight, *binding.by, *keys) if c}
    names = _names(baseline, candidate)
    for role, spec in explicit.items():
        ours = model_roles.get(role)
        if ours is None:
            continue
        elsewhere = {c for other, cs in binding.roles.items() if other != role for c in cs} | reserved
        theirs = resolve_colspec(spec, candidate.columns, names[1], elsewhere)
        if theirs != ours:
            raise InputError(
                f"{bound_as(role, spec)} matches {count(len(ours), 'column')} in {names[0]} ({format_columns(ours)}) "
                f"but {count(len(theirs), 'column')} in {names[1]} ({format_columns(theirs)}); compare reads the same "
                f"columns from both files: name them ({bound_as(role, ','.join(ours))})"
            )


def _aligned(
    opened: Opened, candidate: Source, binding: Binding, options: Options, notices: list[str]
) -> tuple[Iterator[pa.RecordBatch], int | None, Callable[[], Iterator[pa.RecordBatch] | None] | None]:
    """The baseline's batches with the candidate's model columns (renamed ``candidate:...``) beside them, the
    candidate's own row count where it may differ from the baseline's (a join, ``None`` in lockstep), and for a
    join the same rows in the candidate's order, for messages (:func:`_candidate_order`; ``None`` in lockstep).

    Aligned by ``--on`` through a join, else read in lockstep, chunk by chunk. Where the candidate file holds
    the columns of the data roles too (targets, query ids, teacher logits: read from the baseline for both models),
    they must equal the baseline's row by row (unless ``--targets`` gives them), and so must the ``--weight``
    column, the baseline's weighing both models (with ``--targets`` too); in lockstep, so must the other
    columns both files hold with integers or text (likely keys, ``id``).
    """
    model_columns = [c.removeprefix(CANDIDATE) for c in _renamed(binding)]
    data = {c: role for role in DATA_ROLES for c in binding.roles.get(role, [])}
    in_candidate = set(candidate.columns)  # a set: 10,000 columns looked up in the list took 2 s
    checked = [] if options.targets is not None else [c for c in data if c in in_candidate]
    held_by: dict[str, str] = {}  # the file of a checked column not the baseline's: a weight in --targets only
    if binding.weight is not None and binding.weight in in_candidate and binding.weight not in data:
        data[binding.weight] = "weight"  # the baseline's weights weigh both models, --targets or not
        checked.append(binding.weight)
        if opened.targets is not None and binding.weight not in opened.source.columns:
            held_by[binding.weight] = opened.targets.name
    base_columns = [c for c in binding.columns(*key_columns(options)) if not c.startswith(CANDIDATE)]
    key = options.join_key
    names = _names(opened.source, candidate)
    if key is not None:  # named by side before reading: two DataFrames were both 'pandas DataFrame'
        for source, columns, name in ((opened.source, key.preds, names[0]), (candidate, key.targets, names[1])):
            missing = [c for c in columns if c not in source.columns]
            if missing:
                raise column_not_found(missing[0], source.columns, name)
    # Values a loss reads (the baseline's targets and weights, each model's predictions) are never a likely key.
    values = {*model_columns, *checked, *binding.value_columns, *([binding.weight] if binding.weight else [])}
    shared = [] if key else [c for c in opened.source.columns if c in in_candidate and c not in values]
    if key is None:  # in lockstep, a column both files store in the same bytes is equal without a check
        from lossctl.io.stored import same_stored_columns

        same = same_stored_columns(opened.source, candidate, [c for c in checked + shared if c not in model_columns])
        checked = [c for c in checked if c not in same]
        shared = [c for c in shared if c not in same]
    chunk_rows = batch_rows(options, binding, base_columns + model_columns)  # both files' columns in a chunk
    base_batches = input_batches(opened, list(dict.fromkeys(base_columns + shared)), options, notices, chunk_rows)
    if key is not None:
        from lossctl.io import attach_targets

        table = _table(base_batches, base_columns)
        other = candidate.read(list(dict.fromkeys([*key.targets, *model_columns, *checked])), keys=key.targets)
        other = other.rename_columns([c if c in key.targets else CANDIDATE + c for c in other.column_names])
        # The candidate's own row numbers, for messages about its values (one int32 per joined row, 80 MB on
        # 20M rows; the batches the engine reads leave it out).
        width = np.int32 if other.num_rows < 2**31 else np.int64
        other = other.append_column(_CANDIDATE_ROW, to_arrow(np.arange(other.num_rows, dtype=width)))
        drop = options.missing == "drop"
        try:
            joined, more = attach_targets(table, other, key, *names, drop=drop, marked=True)
        except InputError as error:  # the rows "of the targets" in this join are the candidate's: named here, once
            raise InputError(str(naming_files(error, opened.source, candidate))) from None
        notices += more
        their_rows = joined.column(_CANDIDATE_ROW)
        _check_same_targets(
            joined, checked, 0, *names, missing_ok=drop, their_rows=their_rows, roles=data, held_by=held_by
        )
        # A target column bound as a prediction too (``--pred y_true``) stays: it is the candidate's prediction.
        only_checked = [CANDIDATE + c for c in checked if c not in model_columns]
        batches = joined.drop_columns([*only_checked, _CANDIDATE_ROW]).to_batches(max_chunksize=chunk_rows)
        return iter(batches), other.num_rows, partial(_candidate_order, joined, other.num_rows, chunk_rows)
    # The candidate is decoded on a thread of its own, one batch ahead, while the reader thread decodes the
    # baseline: 20M-row compare 1.23 s -> 1.05 s; a second batch ahead gained nothing and held 30 MB more.
    other_batches = prefetch(
        candidate.batches(list(dict.fromkeys(model_columns + checked + shared)), chunk_rows), depth=1
    )
    unread = [c for c in shared if c not in base_columns]
    drop = options.missing == "drop"
    return _lockstep(
        base_batches, other_batches, checked, shared, unread, model_columns, *names, missing_ok=drop,
        first_row=opened.source.first_row, roles=data, held_by=held_by,
    ), None, None  # fmt: skip


def _candidate_order(joined: pa.Table, rows: int, chunk_rows: int) -> Iterator[pa.RecordBatch] | None:
    """The rows joined by ``--on`` again, one per candidate row in the candidate's order, so that a pass over them
    numbers rows as the candidate file does (:func:`_candidate_error`). A candidate row the join left out (with
    ``--missing drop``: no key, or no partner in the baseline) is a row without a partner, which the engine
    drops; ``None`` where there is one without ``--missing drop`` (the join refuses such a row first)."""
    from lossctl.io.align import NO_PARTNER

    theirs = joined.column(_CANDIDATE_ROW).fill_null(-1).to_numpy()
    positions = np.full(rows, -1, dtype=np.int64)
    positions[theirs[theirs >= 0]] = np.flatnonzero(theirs >= 0)
    left_out = positions < 0
    drop = NO_PARTNER in joined.column_names
    if left_out.any() and not drop:
        return None
    table = joined.drop_columns([_CANDIDATE_ROW]).take(pa.array(positions, mask=left_out))
    if drop:
        partnerless = table.column(NO_PARTNER).fill_null(True)
        table = table.set_column(table.column_names.index(NO_PARTNER), NO_PARTNER, partnerless)
    return iter(table.to_batches(max_chunksize=chunk_rows))


def _candidate_error(
    again: Callable[[], Iterator[pa.RecordBatch] | None], plan: Plan, options: Options, binding: Binding, first: str
) -> InputError | None:
    """The input error of message ``first`` (in the baseline's row numbers) about the candidate's values, found
    again by a pass over the candidate's losses alone, its rows in the candidate's order (``again``), so that the
    rows named are the candidate file's. ``None`` when ``first`` or the message found names another column too (a
    missing baseline prediction or target: the rows of ``first`` are right for it), or when none is found."""
    from lossctl.engine import run

    batches = again() if _candidate_only(first, binding) else None
    if batches is None:
        return None
    jobs = [job for job in plan.jobs if job.model == CANDIDATE_MODEL]
    alone = replace(plan, jobs=jobs, by=[], keys=(), bootstrap=0, distributions=False, moments=False, hold=True)
    try:
        run(batches, alone, replace(options, per_sample=None))
    except InputError as error:
        return error if _candidate_only(str(error), binding) else None
    return None


def _candidate_only(message: str, binding: Binding) -> bool:
    """Whether ``message`` names a column of the candidate's and no other column."""
    renamed = _renamed(binding)
    others = [c for c in binding.columns() if c not in renamed]
    return any(f"'{show_name(c)}'" in message for c in renamed) and not any(
        f"'{show_name(c)}'" in message for c in others
    )


def _names(baseline: Source, candidate: Source) -> tuple[str, str]:
    """How messages name the two inputs: by their own names (``a.csv``, ``b.csv``), or, when these are the same
    (two pandas DataFrames), as ``the baseline (pandas DataFrame)`` and ``the candidate (pandas DataFrame)``.
    The report's ``input.path`` keeps the plain names."""
    if baseline.name != candidate.name:
        return baseline.name, candidate.name
    return f"the baseline ({baseline.name})", f"the candidate ({candidate.name})"


def _shown(message: str, binding: Binding, candidate: str, baseline: str | None = None) -> str:
    """``message`` with the candidate's columns, renamed ``candidate:pred`` beside the baseline's, named as the
    user knows them: ``'pred' in b.csv``; with ``baseline`` (an error's message), the baseline's model columns too,
    which the candidate file also has: ``'pred' in a.csv``. One pass, so that a name shown is not named again."""
    shown = {f"'{show_name(c)}'": f"'{show_name(c.removeprefix(CANDIDATE))}' in {candidate}" for c in _renamed(binding)}
    if baseline is not None:
        shown |= {f"'{show_name(c)}'": f"'{show_name(c)}' in {baseline}" for c in _renamed(binding, BASELINE_MODEL)}
    named = sorted((quoted for quoted in shown if quoted in message), key=len, reverse=True)
    if not named:
        return message
    return re.sub("|".join(map(re.escape, named)), lambda found: shown[found.group()], message)


def _shown_notice(notice: str, binding: Binding, baseline: str, candidate: str) -> str:
    """A notice as :func:`_shown` names columns: the candidate's as that file's, and, when it names some of them,
    the baseline's as that file's too (``1 in column 'p' in a.jsonl, 1 in column 'p' in b.jsonl``), not one column
    of each file named alike; a notice of the baseline's columns alone keeps their plain names."""
    shown = _shown(notice, binding, candidate)
    return shown if shown == notice else _shown(notice, binding, candidate, baseline)


def _renamed(binding: Binding, model: str = CANDIDATE_MODEL) -> list[str]:
    """The columns of ``model`` (the candidate's: renamed ``candidate:...``)."""
    return list(dict.fromkeys(c for cs in binding.models[model].values() for c in cs))


def _table(batches: Iterator[pa.RecordBatch], columns: list[str]) -> pa.Table:
    collected = list(batches)
    if not collected:
        return pa.table({name: pa.array([], pa.float64()) for name in columns})
    return batches_table(collected)


def _lockstep(
    base: Iterator[pa.RecordBatch],
    other: Iterator[pa.RecordBatch],
    checked: list[str],
    shared: list[str],
    unread: list[str],
    model_columns: list[str],
    base_path: str,
    other_path: str,
    missing_ok: bool = False,
    first_row: int = 0,
    roles: Mapping[str, str] | None = None,
    held_by: Mapping[str, str] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Each baseline batch with the same rows of the candidate stream beside it (renamed); the row counts, the
    checked data columns (``roles`` and ``held_by`` as :func:`_check_same_targets`) and the ``shared`` likely keys
    must agree (``unread``, read only for that, are then left out, and so are the checked columns unless a model
    reads them too). Memory holds one batch of each side. Messages number rows from ``first_row``, the input's row
    number of the first (a Dask task's part)."""
    only_checked = [c for c in checked if c not in model_columns]
    pending: list[pa.RecordBatch] = []
    held = 0
    offset = 0
    kinds: dict[str, pa.DataType] = {}  # the shared columns' types, for the fix of a row count that differs
    for batch in base:
        kinds = {name: batch.schema.field(name).type for name in shared}
        while held < batch.num_rows:
            more = next(other, None)
            if more is None:
                break
            pending.append(more)
            held += more.num_rows
        if held < batch.num_rows:
            base_rows = offset + batch.num_rows + sum(rest.num_rows for rest in base)
            raise _row_counts(base_path, base_rows, other_path, offset + held, kinds)
        table = batches_table(pending)
        rows, rest = table.slice(0, batch.num_rows), table.slice(batch.num_rows)
        pending, held = rest.to_batches(), rest.num_rows
        row = first_row + offset
        _check_same_rows(batch, rows, shared, row, base_path, other_path)  # misaligned rows explain all else
        _check_same_targets(
            _beside(batch, rows), checked, row, base_path, other_path, missing_ok, roles=roles, held_by=held_by
        )
        yield _beside(batch.drop_columns(unread), rows.drop_columns(only_checked + shared))
        offset += batch.num_rows
    extra = list(itertools.islice(other, 1))
    if held or extra:
        other_rows = offset + held + sum(rest.num_rows for rest in itertools.chain(extra, other))
        seen = (pending + extra)[0]  # the candidate's types, where the baseline had no batch (a header only)
        kinds = kinds or {name: seen.schema.field(name).type for name in shared}
        raise _row_counts(base_path, offset, other_path, other_rows, kinds)


def _beside(batch: pa.RecordBatch, rows: pa.Table) -> pa.RecordBatch:
    """``batch`` with ``rows``' columns appended, renamed ``candidate:...``."""
    arrays = list(batch.columns) + [column.combine_chunks() for column in rows.columns]
    names = list(batch.schema.names) + [CANDIDATE + name for name in rows.column_names]
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _row_counts(
    base_path: str, base_rows: int, other_path: str, other_rows: int, shared: dict[str, pa.DataType]
) -> InputError:
    """Found when one stream ends first; the rest of the other was counted for the message, whose fix names the
    first likely key both files hold (``shared``: name and type)."""
    from lossctl.io.align import order_fix

    rows = "1 row" if base_rows == 1 else f"{base_rows} rows"
    return InputError(
        f"{base_path} has {rows} but {other_path} has {other_rows}; rows are aligned by order, so the counts must "
        f"match (or use {order_fix(shared)})"
    )


def _check_same_rows(
    batch: pa.RecordBatch, rows: pa.Table, shared: list[str], offset: int, base_path: str, other_path: str
) -> None:
    """Files aligned by order hold the same rows: a likely key both hold (integers or text) must be equal."""
    from lossctl.io.align import first_difference, misaligned

    for name in shared:
        ours, theirs = batch.column(name), rows.column(name).combine_chunks()
        differing = first_difference(ours, theirs)
        if differing is not None:
            values = ours[differing].as_py(), theirs[differing].as_py()
            raise misaligned(name, offset + differing, *values, base_path, other_path, rows_of="compared")


def _check_same_targets(
    table: Any,
    checked: list[str],
    offset: int,
    base_path: str,
    other_path: str,
    missing_ok: bool = False,
    their_rows: pa.ChunkedArray | None = None,
    roles: Mapping[str, str] | None = None,
    held_by: Mapping[str, str] | None = None,
) -> None:
    """Both models must be scored on the same truth: a column of a data role or the weight (``roles``: column ->
    role, or ``weight``; a target without it) that the candidate also holds must be equal, as the baseline's is the
    one read for both models. ``held_by``: the name of the file holding a column read from ``--targets``, not
    ``base_path``.

    The columns are compared in one type (:func:`_one_type`), so that the same truth written by two formats is
    equal: ``2`` in a CSV file and ``"2"`` in a JSON Lines one. A row whose baseline target is missing (null or
    NaN, :func:`_missing`) is not compared: it is the missing value of a used column, which the engine reports
    (naming ``--missing drop``) or drops, so that neither model is scored on it. With ``missing_ok`` (``--missing
    drop``) nor is a row whose candidate target is missing: it is a row without a partner in the candidate (its
    predictions are missing too, and the row is dropped and counted), or a missing value that contradicts nothing,
    the baseline's target being the one scored. ``their_rows`` (joined by ``--on``) are the candidate's own row
    numbers, which the message names beside the baseline's; else both files' row is ``offset`` + the position."""
    for name in checked:
        ours, theirs = table.column(name), table.column(CANDIDATE + name)
        if ours.type == theirs.type and ours.equals(theirs):
            continue
        left, right = _one_type(ours, theirs)
        if left.type == right.type and left.equals(right):
            continue
        pairs = enumerate(zip(left.to_pylist(), right.to_pylist(), strict=True))
        differs = (i for i, (a, b) in pairs if not _missing(a) and not _same(a, b) and not (missing_ok and _missing(b)))
        differing = next(differs, None)
        if differing is None:
            continue
        ours_shown, theirs_shown = shown_value(ours[differing].as_py()), shown_value(theirs[differing].as_py())
        row = offset + differing
        ours_path = (held_by or {}).get(name, base_path)
        if their_rows is None:
            where = f"{ours_shown} in {ours_path} but {theirs_shown} in {other_path} at row {row}"
        else:
            where = (
                f"{ours_shown} in {ours_path} at row {row} but {theirs_shown} in {other_path} at row "
                f"{their_rows[differing].as_py()}"
            )
        role = (roles or {}).get(name, "target")
        values, same = _DIFFERING[role]
        fix = (
            "compare takes them from the baseline: give the candidate the same weights, or none"
            if role == "weight"
            else f"give {option('targets', 'FILE')} to take the {values} from one file"
        )
        raise InputError(
            f"the {values} differ: column '{show_name(name)}' is {where}; both models must be scored on the same "
            f"{same} ({fix})",
            row=row,
            rows_of="compared",
            their_row=None if their_rows is None else their_rows[differing].as_py(),
        )


def _one_type(left: Any, right: Any) -> tuple[Any, Any]:
    """Two target columns of different types in one type, in which they are compared: numbers by value in the
    narrower float type if either is a float (a float32 ``0.1`` from Parquet equals ``0.1`` from CSV; int ``1``
    equals ``1.0``), and text that reads as numbers as those numbers (JSON Lines' ``"2"`` equals CSV's ``2``, as
    a loss reads both). Any other pair as it is, for :func:`_same` to compare value by value."""
    left, right = (_decoded(column) for column in (left, right))
    number = [_numeric(column.type) for column in (left, right)]
    text = [is_text_type(column.type) for column in (left, right)]
    try:
        if all(number):
            floats = [column.type for column in (left, right) if pa.types.is_floating(column.type)]
            kind = min(floats, key=lambda kind: kind.bit_width) if floats else pa.int64()
            return left.cast(kind), right.cast(kind)
        if any(number) and any(text):
            numbers, texts = (left, right) if number[0] else (right, left)
            as_numbers = texts.cast(pa.float64()).cast(numbers.type)  # safe: "2.5" is not the integer 2
            return (numbers, as_numbers) if number[0] else (as_numbers, numbers)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # text that is not all numbers, or 2.5 and "2"
        pass
    return left, right


def _missing(value: object) -> bool:
    """Whether a value is missing as a loss reads it: null, or a float NaN (as Parquet and Arrow may store it)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _same(a: object, b: object) -> bool:
    """Whether two target values are the same truth: NaN is NaN, and a text that reads as a number is it."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, str) != isinstance(b, str) and isinstance(b if isinstance(a, str) else a, int | float):
        text, number = (a, b) if isinstance(a, str) else (b, a)
        try:
            return written_number(str(text).strip()) == number
        except ValueError:
            return False
    return a == b


def _decoded(column: Any) -> Any:
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def _comparisons(
    plan: Plan, outcome: Outcome, options: Options, names: list[str], notices: list[str]
) -> tuple[list[Comparison], list[dict[str, Any]]]:
    """Per loss (and composite) and candidate model, the comparison overall and per group, and the gaps of the
    per-group deltas; ``notices`` gets why a ``--ci`` interval could not be computed. ``plan`` and ``outcome``
    have one job per output of a ``multioutput=raw`` loss (:func:`~lossctl.outputs.split_outputs`), each model's
    with a request of its own: a candidate's job is found by the request's value."""
    requests = [job.request for job in plan.jobs if job.model == names[0]]
    values = [
        finalize_job(job.request, outcome, j, options.reduction, options.convention, plan.moments)
        for j, job in enumerate(plan.jobs)
    ]
    no_interval = NoInterval(plan.weight is not None, "queries" if plan.query_ids else "rows")

    def normal(value: float, base: np.ndarray | None, cand: np.ndarray | None, label: str, code: int | None,
               group: dict[str, Any] | None, every_row: bool,
               observed: tuple[int | None, str | None]) -> dict[str, float] | None:  # fmt: skip
        """The paired interval of ``f(S_cand) - f(S_base)``: both gradients live in the stacked statistics of
        the one pass, so ``g = grad_cand - grad_base`` meets the joint covariance of both models' rows.
        ``observed``: the observations as the baseline's value counts them (:func:`~lossctl.finalize.observations`)."""
        if not plan.moments:
            return None
        gradient = None if base is None or cand is None else cand - base
        once = outcome.observed_once(code, every_row, observed[0])
        cov = None if once else outcome.covariance(code, every_row)
        return no_interval.check(label, group, value, gradient, cov, options.level, every_row, observed[1])

    owners: list[tuple[LossRequest | Composite, str]] = [
        (r, signature(r, options.reduction, options.convention, plan)) for r in requests
    ]
    owners += [(c, composite_signature(c, options.reduction, options.convention, plan)) for c in options.composites]

    def numbers(owner: LossRequest | Composite, model: str) -> Values:
        if isinstance(owner, Composite):
            return combine(owner, [values[plan.job_index(r, model)] for _, r in owner.terms])
        return values[next(j for j, job in enumerate(plan.jobs) if job.request == owner and job.model == model)]

    def paired(base: np.ndarray | None, cand: np.ndarray | None, rows: int, label: str,
               group: dict[str, Any] | None, every_row: bool,
               words: str | None) -> dict[str, float] | None:  # fmt: skip
        """The bootstrap's paired interval of the delta: the replicates share their Poisson counts row for row, so
        their differences resample the pairs (:meth:`~lossctl.normal.NoInterval.percentile`, as ``eval``)."""
        if base is None or cand is None:
            return None
        with np.errstate(invalid="ignore", over="ignore"):
            differences = cand - base
        differences[np.isinf(base) | np.isinf(cand)] = np.inf  # an overflow, whatever inf - inf gives
        return no_interval.percentile(label, group, differences, rows, options.level, every_row, words)

    comparisons: list[Comparison] = []
    gaps: list[dict[str, Any]] = []
    keys = plain_keys(outcome.groups)
    for owner, sig in owners:
        base = numbers(owner, names[0])
        every_row = over_every_row(owner, options.convention, options.reduction)
        job = None if isinstance(owner, Composite) else plan.job_index(owner, names[0])
        observed = observations(owner, options.convention, outcome.layout, job)
        counted, words = observed
        for name in names[1:]:
            cand = numbers(owner, name)
            model = name if options.models else None  # two files: the records carry no model, as eval's
            label = f"{owner.label} delta" + (f"@{model}" if model is not None else "")
            delta = cand.overall - base.overall
            ci = normal(delta, base.gradient, cand.gradient, label, None, None, every_row, observed)
            resampled = outcome.resampled_rows(outcome.rows_used, None, every_row, counted)
            boot = paired(base.replicates, cand.replicates, resampled, label, None, every_row, words)
            comparisons.append(_comparison(owner, sig, base.overall, cand.overall, boot, outcome.rows_used, None,
                                           model, options, ci))  # fmt: skip
            undefined = comparisons[-1].relative_delta is None and base.overall != 0
            deltas, groups = [], []
            for code, group in enumerate(keys):
                base_numbers, cand_numbers = base.groups.get(code), cand.groups.get(code)
                if base_numbers is None or cand_numbers is None:
                    continue
                (b, n, b_reps, b_grad), (c, _, c_reps, c_grad) = base_numbers, cand_numbers
                ci = normal(c - b, b_grad, c_grad, label, code, group, every_row, observed)
                resampled = outcome.resampled_rows(n, code, every_row, counted)
                boot = paired(b_reps, c_reps, resampled, label, group, every_row, words)
                record = _comparison(owner, sig, b, c, boot, n, group, model, options, ci)
                comparisons.append(record)
                deltas.append(record.delta)
                groups.append(group)
                undefined = undefined or (record.relative_delta is None and b != 0)
            if undefined:
                notices.append(
                    f"{owner.label}{'' if model is None else '@' + model}: relative_delta is null where the baseline "
                    "is so close to 0 that delta / baseline is beyond float64"
                )
            if deltas:
                params = {"formula": owner.formula} if isinstance(owner, Composite) else owner.params
                loss = owner.name
                gaps.append(gap(loss, params, deltas, groups, model, label))
    notices.extend(no_interval.notices())
    return comparisons, gaps


def _comparison(
    owner: LossRequest | Composite,
    sig: str,
    base: float,
    cand: float,
    boot: dict[str, float] | None,
    n: int,
    group: dict[str, Any] | None,
    model: str | None,
    options: Options,
    normal_ci: dict[str, float] | None = None,
) -> Comparison:
    """One comparison; its ``ci`` is the bootstrap's paired interval ``boot``, else ``normal_ci`` (``--ci`` alone),
    which leaves the verdict to the ``1e-12`` rule: the spec gives the interval that say only to the bootstrap."""
    delta = cand - base
    if not math.isfinite(delta):  # a loss that takes signs (a plugin's): -1e308 and 1e308
        where = (f"@{model}" if model is not None else "") + ("" if group is None else in_group(group))
        raise InputError(f"{owner.label}{where}: the delta candidate - baseline overflows float64; rescale the inputs")
    return Comparison(
        loss=owner.name,
        label=owner.label,
        params={"formula": owner.formula} if isinstance(owner, Composite) else owner.params,
        reduction=options.reduction,
        baseline=base,
        candidate=cand,
        delta=delta,
        relative_delta=relative_delta(delta, base),
        ci=boot if boot is not None else normal_ci,
        verdict=verdict(base, delta, boot),
        n=n,
        signature=sig,
        group=group,
        model=model,
        request=owner,
    )


def relative_delta(delta: float, base: float) -> float | None:
    """``delta / base``; ``None`` over a baseline of 0, and where the quotient overflows float64 (a delta of 1e150
    over a baseline of 1e-300): JSON has no number for it, and no percent of it means anything. A delta of 0 over
    a negative baseline is 0, not the -0.0 of its floats (which read "-0.00%" beside a delta of +0)."""
    if base == 0:
        return None
    with np.errstate(over="ignore"):
        relative = delta / base + 0.0
    return relative if math.isfinite(relative) else None


def _input(
    opened: Opened, candidate: Source | None, candidate_rows: int | None, outcome: Outcome, names: list[str]
) -> dict[str, Any]:
    """The report's ``input``. Both files' rows used are the pairs evaluated; joined by ``--on``, the candidate's
    rows are its own (a row without a partner, left out by ``--missing drop``, counts among its dropped rows)."""
    info: dict[str, Any]
    if candidate is None:
        path = opened.source.path
        info = {
            "baseline": input_info(path, outcome) | {"model": names[0]},
            "candidate": input_info(path, outcome) | {"models": names[1:]},
        }
    else:
        own = input_info(candidate.path, outcome)
        if candidate_rows is not None:
            own |= {"rows": candidate_rows, "rows_dropped": candidate_rows - outcome.rows_used}
        info = {"baseline": input_info(opened.source.path, outcome), "candidate": own}
    if opened.targets is not None:
        info["targets"] = as_utf8(opened.targets.path)
    return info


def worse_check(comparison: Comparison, percent: float, significant: bool) -> Check:
    """Fails when the candidate is worse by more than ``percent`` (and, if asked, significantly).

    The record holds the relative delta as a fraction, as the results do (``delta / |baseline|``, which is
    ``relative_delta`` for the usual positive baseline), with the threshold as a fraction. A negligible delta
    (the ``1e-12`` rule of :func:`verdict`) never fails, and a delta that exceeds the threshold's by a negligible
    amount is at the threshold: 1.01 over 1.0 is worse by exactly 1% (not the 1.0000000000000009% its floats
    give), which does not fail ``--fail-if-worse 1``. Over a baseline of 0 (or one so close to 0 that the
    relative delta is beyond float64) the relative delta is undefined: a worse candidate is worse by an unbounded
    percent, so it fails with a null value and a note saying why. With ``significant``, a worse delta without an
    interval passes (nothing shows it significant), with a note saying so.
    """
    threshold = fraction(percent)
    baseline, delta = comparison.baseline, comparison.delta
    value: float | None
    note = None
    if comparison.relative_delta is None:
        value, worse = None, delta > 0 and not negligible(baseline, delta)
        change = "negligible" if negligible(baseline, delta) else "worse by an unbounded percent" if worse else "better"
        note = f"the baseline is {'0' if baseline == 0 else f'{written(baseline)}, too close to 0'}: {change}"
    else:
        value = delta / abs(baseline)
        excess = delta - threshold * abs(baseline)
        worse = excess > 0 and not negligible(baseline, excess)
    failed = worse and comparison.delta > 0
    if significant and failed and comparison.ci is None:  # fewer than 2 rows, or no finite derivative (--ci)
        note = (f"{note}; " if note else "") + "the delta has no interval: not counted as significant"
    if significant:
        failed = failed and comparison.ci is not None and comparison.ci["low"] > 0
    expr = f"{comparison.label} worse by > {written(percent)}%" + (" (significant)" if significant else "")
    return Check(
        expr, comparison.loss, value, not failed, threshold, comparison.model, note, comparison.params, comparison.label
    )
