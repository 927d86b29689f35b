"""``lossctl.evaluate``: a predictions file in, a :class:`~lossctl.report.Report` out.

This is the whole of ``lossctl eval`` without the printing: open the input, bind columns to the
roles the selected losses read, run the engine once over the chunks, finalize, add groups,
intervals and gates. :mod:`lossctl.compare` builds on the same pieces.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from lossctl import __version__
from lossctl.defaults import default_chunk_rows
from lossctl.engine import Job, Options, Outcome, PerSampleSink, Plan, held_notice, run
from lossctl.errors import InputError, UsageError
from lossctl.normal import NoInterval
from lossctl.params import (
    Composite,
    FailIf,
    LossRequest,
    build_requests,
    parse_fail_if,
    parse_inline,
    select_losses,
)
from lossctl.queries import QueriesNotContiguous
from lossctl.registry import CONVENTIONS
from lossctl.report import Check, Report, Result

if TYPE_CHECKING:
    import pyarrow as pa

    from lossctl.io.readers import Source

REDUCTIONS = ("mean", "sum")
MISSING_POLICIES = ("error", "drop")

# The losses evaluated when none is named, by inferred task (README, "Default losses").
DEFAULT_LOSSES = {
    "regression": ("mse", "rmse", "mae", "huber"),
    "binary (probabilities)": ("bce", "brier"),
    "binary (logits)": ("bce_logits", "hinge"),
    "binary (scores, -1/1 labels)": ("hinge", "squared_hinge"),
}


@dataclass
class Selection:
    """What the user asked for, validated before any file is opened."""

    requests: list[LossRequest]
    gates: list[FailIf]
    composites: list[Composite] = field(default_factory=list)
    reduction: str = "mean"
    convention: str = "lossctl"
    missing: str = "error"
    chunk_rows: int | None = None
    by: list[str] = field(default_factory=list)
    bootstrap: int = 0
    ci: float = 0.95  # the level of the intervals
    seed: int = 0
    normal_ci: bool = False  # --ci without --bootstrap: normal-approximation intervals

    @property
    def options(self) -> Options:
        return Options(self.reduction, self.convention, self.missing, self.chunk_rows)


def select(
    losses: Iterable[str] | None,
    params: Iterable[str],
    fail_if: Iterable[str],
    reduction: str,
    convention: str,
    missing: str,
    chunk_rows: int | None,
    by: Iterable[str],
    bootstrap: int,
    ci: float | None,
    seed: int,
) -> Selection:
    _check_choice("--reduction", reduction, REDUCTIONS)
    _check_choice("--missing", missing, MISSING_POLICIES)
    _check_choice("--convention", convention, CONVENTIONS)
    if chunk_rows is not None and chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be at least 1, got {chunk_rows}")
    if bootstrap < 0 or bootstrap == 1:
        raise UsageError(f"--bootstrap needs at least 2 replicates, got {bootstrap}")
    if ci is not None and not 0 < ci < 1:
        raise UsageError(f"--ci must be in (0, 1), e.g. 0.95, got {ci}")
    loss_options, param_options = list(losses or []), list(params)
    if not loss_options and param_options:
        raise UsageError("--param needs losses to apply to: name them with --loss")
    requests, composites = select_losses(loss_options, param_options, convention) if loss_options else ([], [])
    gates = [parse_fail_if(expr) for expr in fail_if]
    for gate in gates:
        if not any(c.name == gate.loss for c in composites):
            parse_inline(gate.loss)  # an unknown loss or parameter in a gate is a usage error, before any reading
    level = 0.95 if ci is None else ci
    normal_ci = ci is not None and not bootstrap
    return Selection(
        requests,
        gates,
        composites,
        reduction,
        convention,
        missing,
        chunk_rows,
        list(by),
        bootstrap,
        level,
        seed,
        normal_ci,
    )


def evaluate(
    path: str,
    *,
    losses: Iterable[str] | None = None,
    params: Iterable[str] = (),
    pred: str | None = None,
    target: str | None = None,
    weight: str | None = None,
    cols: Mapping[str, str] | None = None,
    targets: str | None = None,
    on: str | None = None,
    input_format: str | None = None,
    missing: str = "error",
    reduction: str = "mean",
    convention: str = "lossctl",
    fail_if: Iterable[str] = (),
    by: Iterable[str] = (),
    per_sample: str | None = None,
    bootstrap: int = 0,
    ci: float | None = None,
    seed: int = 0,
    distributions: bool = False,
    chunk_rows: int | None = None,
    stdin: IO[bytes] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> Report:
    """Evaluate ``losses`` (names with inline parameters, e.g. ``"huber:delta=2"``) on the file ``path``.

    ``params`` are ``--param [LOSS.]KEY=VALUE`` strings and ``cols`` binds extra roles
    (``{"var": "sigma2"}``). Without ``losses``, the task is inferred from the data and its default
    losses are used. ``by`` adds per-group results, ``per_sample`` writes per-row losses to a file,
    ``bootstrap`` replicates add percentile intervals at level ``ci`` (default 0.95); ``ci`` without
    ``bootstrap`` adds normal-approximation intervals (:mod:`lossctl.normal`); ``distributions`` attaches
    the quantiles and histogram of each per-row loss to its overall result (for the table);
    ``progress(rows_read, total_rows_or_None)`` is called as chunks are read, and ``notify(message)`` with
    notices that matter before the work ends (a query with 10^8 pairs), which otherwise join the report's.
    Raises :class:`~lossctl.errors.UsageError` or :class:`~lossctl.errors.InputError`.
    """
    selection = select(losses, params, fail_if, reduction, convention, missing, chunk_rows, by, bootstrap, ci, seed)
    if per_sample:
        from lossctl.samples import check_per_sample_path

        check_per_sample_path(per_sample)
    notices: list[str] = []
    from lossctl.io import open_input

    source = open_input(path, input_format, stdin=stdin)
    target_source = open_input(targets) if targets else None
    available = _available(source, target_source)
    roles = _roles_needed(selection)
    binding = _bind(roles, available, source.path, pred, target, dict(cols or {}), notices)
    weight_column = _column(weight, available, source.path)
    by_columns = [_column(c, available, source.path) for c in selection.by]
    extra = [c for c in (weight_column, *by_columns, on) if c]
    batches = _batches(
        source, target_source, _all_columns(binding) + extra, binding.get("target", []), on, selection, notices
    )
    if not selection.requests:
        first = next(batches, None)
        task = _infer_task(first, binding)
        notices.append(f"no --loss given: the data looks like {task}; evaluating {', '.join(DEFAULT_LOSSES[task])}")
        selection.requests = build_requests(DEFAULT_LOSSES[task], (), convention)
        batches = itertools.chain([first] if first is not None else [], batches)
    checks = [(gate, _gated(gate, selection, convention)) for gate in selection.gates]
    jobs = [Job(request, {role: binding[role] for role in request.spec.role_names}) for request in selection.requests]
    plan = Plan(
        jobs, weight_column, by_columns, on, selection.bootstrap, selection.seed, distributions, selection.normal_ci
    )
    total = source.num_rows
    report_progress = (lambda rows: progress(rows, total)) if progress else None

    def attempt(plan: Plan, batches: Iterator[pa.RecordBatch]) -> tuple[Outcome, list[Result], list[dict[str, Any]]]:
        with _per_sample_file(plan, per_sample, on) as sink:  # kept only if the results below are computed too
            outcome = run(batches, plan, selection.options, sink, report_progress, notify)
            notices.extend(outcome.notices)
            if outcome.rows_dropped:
                notices.append(
                    f"dropped {outcome.rows_dropped} of {outcome.rows} rows with missing values (--missing drop)"
                )
            return outcome, *_results(selection, plan, outcome, notices)

    try:
        outcome, results, gaps = attempt(plan, batches)
    except QueriesNotContiguous as apart:  # read again, every row at once
        notices.append(held_notice(plan, apart))
        batches = _batches(source, target_source, plan.columns, binding.get("target", []), on, selection, notices)
        outcome, results, gaps = attempt(replace(plan, hold=True), batches)
    report_checks = []
    for gate, owner in checks:
        value = next(r.value for r in results if r.group is None and r.request is owner)
        name = owner.name if isinstance(owner, Composite) else owner.spec.name
        report_checks.append(Check(gate.expr, name, value, passed=not gate.holds(value)))
    columns = dict(binding)
    if weight_column:
        columns["weight"] = [weight_column]
    input_info: dict[str, Any] = _input_info(source.path, outcome)
    if targets:
        input_info["targets"] = targets
    groups = {"by": by_columns, "gaps": gaps} if by_columns else None
    return Report(__version__, input_info, columns, results, groups, report_checks, notices)


def _input_info(path: str, outcome: Outcome) -> dict[str, Any]:
    return {"path": path, "rows": outcome.rows, "rows_used": outcome.rows_used, "rows_dropped": outcome.rows_dropped}


@contextmanager
def _per_sample_file(plan: Plan, per_sample: str | None, on: str | None) -> Iterator[PerSampleSink | None]:
    """The engine's sink writing per-row losses to ``per_sample``, published only if the block succeeds."""
    if not per_sample:
        yield None
        return
    from lossctl.samples import PerSampleWriter

    per_row_jobs = [j for j, job in enumerate(plan.jobs) if job.request.spec.per_row]
    if not per_row_jobs:
        names = ", ".join(job.request.spec.name for job in plan.jobs)
        raise UsageError(f"--per-sample: none of the selected losses ({names}) has per-row values")
    labels = _unique_labels([plan.jobs[j].request.label for j in per_row_jobs])
    writer = PerSampleWriter(per_sample, on or "row", labels)

    def sink(rows: np.ndarray, keys: pa.Array | None, losses: dict[int, np.ndarray]) -> None:
        writer.write(keys if keys is not None else rows, [losses[j] for j in per_row_jobs])

    try:
        yield sink
    except BaseException:
        writer.abort()
        raise
    writer.commit()


def _unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return unique


@dataclass
class _Values:
    """One job's (or composite's) finalized numbers: overall and per group code, with replicate values and,
    for ``--ci`` without ``--bootstrap``, the gradient of the value in the stacked statistics (the delta method)."""

    overall: float
    n: int
    replicates: np.ndarray | None
    groups: dict[int, tuple[float, int, np.ndarray | None, np.ndarray | None]]
    gradient: np.ndarray | None = None


def _finalize_job(selection: Selection, request: LossRequest, outcome: Outcome, j: int, groups: list[dict]) -> _Values:
    from lossctl.finalize import finalize_many, gradients_of

    aggregate = request.spec.aggregate_for(selection.convention)
    reduction, params = selection.reduction, request.params

    def checked(values: np.ndarray, where: Callable[[int], str]) -> np.ndarray:
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InputError(
                f"{request.label}{where(int(bad[0]))}: the result is not a finite number (no rows with weight, "
                f"or a float64 overflow); check the weights or rescale the inputs"
            )
        return values

    def embedded(stats: np.ndarray) -> np.ndarray | None:
        """The gradients at ``stats`` (K x its width) placed in the stacked statistics (K x M); NaN: none."""
        if not selection.normal_ci or outcome.layout is None:
            return None
        local = gradients_of(aggregate, stats, reduction, params)
        full = np.zeros((len(local), outcome.layout.width))
        full[:, outcome.layout.columns(j)] = local
        return full

    overall = outcome.stats[j]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a non-finite value is the error below
        value = float(checked(np.array([aggregate.finalize(overall, reduction, params)]), lambda i: "")[0])
    replicates = finalize_many(aggregate, outcome.replicates[j], reduction, params) if outcome.replicates else None
    gradient = embedded(overall[None, :])
    per_group: dict[int, tuple[float, int, np.ndarray | None, np.ndarray | None]] = {}
    if groups:
        stats = outcome.group_stats[j]
        present = np.flatnonzero(stats[:, -1] > 0)
        group_values = checked(
            finalize_many(aggregate, stats[present], reduction, params),
            lambda i: " in group " + ", ".join(f"{k}={v}" for k, v in groups[present[i]].items()),
        )
        group_replicates = (
            finalize_many(aggregate, outcome.group_replicates[j][present], reduction, params)
            if outcome.group_replicates
            else None
        )
        group_gradients = embedded(stats[present])
        for i, code in enumerate(present.tolist()):
            per_group[code] = (
                float(group_values[i]),
                int(stats[code, -1]),
                group_replicates[i] if group_replicates is not None else None,
                group_gradients[i] if group_gradients is not None else None,
            )
    return _Values(value, int(overall[-1]), replicates, per_group, gradient[0] if gradient is not None else None)


def _combine(composite: Composite, parts: list[_Values]) -> _Values:
    """A composite's numbers: the weighted sum of its parts', overall, per group, per replicate and gradient."""
    weights = [weight for weight, _ in composite.terms]

    def total(values: list[Any]) -> Any:
        return None if any(v is None for v in values) else sum(w * v for w, v in zip(weights, values, strict=True))

    groups = {
        code: (
            total([p.groups[code][0] for p in parts]),
            parts[0].groups[code][1],
            total([p.groups[code][2] for p in parts]),
            total([p.groups[code][3] for p in parts]),
        )
        for code in parts[0].groups
    }
    return _Values(
        total([p.overall for p in parts]),
        parts[0].n,
        total([p.replicates for p in parts]),
        groups,
        total([p.gradient for p in parts]),
    )


def _results(
    selection: Selection, plan: Plan, outcome: Outcome, notices: list[str]
) -> tuple[list[Result], list[dict[str, Any]]]:
    """Finalize every job (and composite) overall and per group, with intervals and the per-loss gaps."""
    values = [_finalize_job(selection, job.request, outcome, j, outcome.groups) for j, job in enumerate(plan.jobs)]
    entries: list[tuple[str, str, dict[str, Any], str, _Values, Any, int | None]] = []
    for j, job in enumerate(plan.jobs):
        request = job.request
        sig = signature(request, selection.reduction, selection.convention, plan.weight)
        entries.append((request.spec.name, request.label, request.params, sig, values[j], request, j))
        aggregate = request.spec.aggregate_for(selection.convention)
        if aggregate.notices:
            messages = aggregate.notices(outcome.stats[j], request.params)
            notices.extend(f"{request.label}: {message}" for message in messages)
    for composite in selection.composites:
        parts = [values[next(j for j, job in enumerate(plan.jobs) if job.request is r)] for _, r in composite.terms]
        sig = composite_signature(composite, selection.reduction, selection.convention, plan.weight)
        params = {"formula": composite.formula}
        entries.append((composite.name, composite.name, params, sig, _combine(composite, parts), composite, None))

    results: list[Result] = []
    gaps: list[dict[str, Any]] = []
    no_interval = NoInterval()

    def ci(value: float, replicates: Any, gradient: Any, label: str, group: int | None) -> dict[str, float] | None:
        if not selection.normal_ci:
            return None if replicates is None else _interval(replicates, selection.ci)
        where = None if group is None else outcome.groups[group]
        return no_interval.check(label, where, value, gradient, outcome.covariance(group), selection.ci)

    for name, label, params, sig, numbers, owner, j in entries:
        sample = outcome.samples[j] if j is not None else None
        results.append(
            Result(
                name,
                label,
                params,
                selection.reduction,
                numbers.overall,
                numbers.n,
                sig,
                None,
                ci(numbers.overall, numbers.replicates, numbers.gradient, label, None),
                request=owner,
                distribution=sample.summary() if sample else None,
            )
        )
        group_values = []
        for code, label_of_group in enumerate(outcome.groups):
            if code not in numbers.groups:
                continue
            value, n, replicates, gradient = numbers.groups[code]
            group_values.append((value, label_of_group))
            results.append(
                Result(
                    name,
                    label,
                    params,
                    selection.reduction,
                    value,
                    n,
                    sig,
                    label_of_group,
                    ci(value, replicates, gradient, label, code),
                    request=owner,
                )
            )
        if group_values:
            worst = max(group_values, key=lambda item: item[0])
            best = min(group_values, key=lambda item: item[0])
            gaps.append({"loss": name, "params": params, "gap": worst[0] - best[0], "worst_group": worst[1]})
    notices.extend(no_interval.notices())
    return results, gaps


def _interval(replicate_values: np.ndarray | None, level: float) -> dict[str, float] | None:
    from lossctl.bootstrap import percentile_interval

    if replicate_values is None:
        return None
    return percentile_interval(replicate_values[np.isfinite(replicate_values)], level)


def signature(request: LossRequest, reduction: str, convention: str, weight: str | None) -> str:
    """Everything that fixes a number: loss, every parameter, reduction, weighting, convention, version."""
    head = [request.spec.name, *(f"{k}={v!r}" for k, v in request.params.items())]
    return "|".join(head + _signature_tail(reduction, convention, weight))


def composite_signature(composite: Composite, reduction: str, convention: str, weight: str | None) -> str:
    """A composite's signature: its name and every part with all of its parameters."""
    parts = "+".join(
        f"{w!r}*" + ":".join([r.spec.name, *(f"{k}={v!r}" for k, v in r.params.items())]) for w, r in composite.terms
    )
    return "|".join([f"{composite.name}={parts}", *_signature_tail(reduction, convention, weight)])


def _signature_tail(reduction: str, convention: str, weight: str | None) -> list[str]:
    return [
        f"reduction={reduction}",
        *([f"weight={weight}"] if weight else []),
        f"convention={convention}",
        f"lossctl={__version__}",
    ]


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"{option} must be one of {', '.join(choices)}, got '{value}'")


def _available(source: Source, target_source: Source | None) -> list[str]:
    available = list(source.columns)
    if target_source is not None:
        available += [c for c in target_source.columns if c not in available]
    return available


def _roles_needed(selection: Selection) -> list[str]:
    """The roles the selected losses read; ``target`` and ``pred`` when the losses are still to be inferred."""
    roles = [] if selection.requests else ["target", "pred"]
    for request in selection.requests:
        roles += [r for r in request.spec.role_names if r not in roles]
    for gate in selection.gates:
        if any(c.name == gate.loss for c in selection.composites):
            continue
        spec, _ = parse_inline(gate.loss)
        roles += [r for r in spec.role_names if r not in roles]
    return roles


def _gated(gate: FailIf, selection: Selection, convention: str) -> LossRequest | Composite:
    """The selected request or composite a ``--fail-if`` names; a loss not selected is added to the run."""
    composite = next((c for c in selection.composites if c.name == gate.loss), None)
    if composite is not None:
        return composite
    requests = selection.requests
    spec, given = parse_inline(gate.loss)
    candidates = [
        r for r in requests if r.spec.name == spec.name and all(r.params.get(k) == v for k, v in given.items())
    ]
    if len(candidates) > 1:
        labels = ", ".join(r.label for r in candidates)
        raise UsageError(f"--fail-if '{gate.expr}' is ambiguous between {labels}; name its parameters")
    if candidates:
        return candidates[0]
    (request,) = build_requests([gate.loss], (), convention)
    requests.append(request)
    return request


def _column(spec: str | None, available: list[str], source_name: str) -> str | None:
    from lossctl.io.columns import resolve_colspec

    if spec is None:
        return None
    columns = resolve_colspec(spec, available, source_name)
    if len(columns) != 1:
        raise UsageError(f"'{spec}' names {len(columns)} columns; one column is expected here")
    return columns[0]


def _bind(
    roles: list[str],
    available: list[str],
    source_name: str,
    pred: str | None,
    target: str | None,
    cols: dict[str, str],
    notices: list[str],
) -> dict[str, list[str]]:
    """Columns for each role: explicit specs, else the default names of cli.md (reported as notices)."""
    from lossctl.io.columns import DEFAULT_NAMES, format_columns, guess_column, resolve_colspec

    explicit = dict(cols)
    for role, value in (("pred", pred), ("target", target)):
        if value is not None:
            if role in cols:
                raise UsageError(f"role '{role}' is bound twice: by --{role} and by --col {role}=...")
            explicit[role] = value
    bound: dict[str, list[str]] = {}
    for role in roles:
        if role in explicit:
            bound[role] = resolve_colspec(explicit[role], available, source_name)
        elif role in DEFAULT_NAMES:
            guess = guess_column(role, available)
            if guess is None:
                names = ", ".join(DEFAULT_NAMES[role])
                raise UsageError(
                    f"no column for role '{role}': none of the columns ({format_columns(available)}) "
                    f"is named {names}; choose one with --{role} COLUMN"
                )
            notices.append(f"using column '{guess}' as {role} (guessed from its name; set it with --{role})")
            bound[role] = [guess]
        else:
            raise UsageError(f"role '{role}' is not bound; bind it with --col {role}=COLUMN")
    unused = sorted(set(explicit) - set(roles))
    if unused:
        raise UsageError(f"--col {unused[0]}=...: no selected loss reads the role '{unused[0]}'")
    return bound


def _all_columns(binding: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(c for cols in binding.values() for c in cols))


def _batches(
    source: Source,
    target_source: Source | None,
    columns: list[str],
    target_columns: list[str],
    on: str | None,
    selection: Selection,
    notices: list[str],
) -> Iterator[pa.RecordBatch]:
    columns = list(dict.fromkeys(columns))
    if target_source is None:
        if on:
            raise UsageError("--on needs --targets: it names the key column shared by both files")
        chunk_rows = selection.chunk_rows or default_chunk_rows(len(columns))
        return iter(source.batches(columns, chunk_rows, dictionary=selection.by))
    from lossctl.io.align import joined_batches

    chunk_rows = selection.chunk_rows or default_chunk_rows(len(columns))
    return joined_batches(source, target_source, columns, target_columns, on, chunk_rows, selection.by, notices)


def _infer_task(batch: pa.RecordBatch | None, binding: dict[str, list[str]]) -> str:
    """Regression unless the target holds only 0/1 (or -1/1) labels; then probabilities or logits by ``pred``."""
    if batch is None or batch.num_rows == 0 or len(binding["target"]) != 1 or len(binding["pred"]) != 1:
        return "regression"
    from lossctl.io.convert import to_float64

    target, _ = to_float64(batch.column(binding["target"][0]), binding["target"][0])
    pred, _ = to_float64(batch.column(binding["pred"][0]), binding["pred"][0])
    labels = set(np.unique(target[~np.isnan(target)]).tolist())
    if not labels or not (labels <= {0.0, 1.0} or labels <= {-1.0, 1.0}):
        return "regression"
    if -1.0 in labels:
        return "binary (scores, -1/1 labels)"
    finite = pred[~np.isnan(pred)]
    if finite.size and finite.min() >= 0 and finite.max() <= 1:
        return "binary (probabilities)"
    return "binary (logits)"
