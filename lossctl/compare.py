"""``lossctl.compare``: the same losses for two models over the same targets, with paired deltas.

Both models' losses are jobs of one engine pass over one aligned table, so every row is weighted
identically in both (the bootstrap's Poisson counts are keyed by row): the interval of the delta is
a paired interval, much narrower than two independent ones when the models err on the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import IO, Any

from lossctl import __version__
from lossctl.api import (
    _available,
    _bind,
    _column,
    _finalize_job,
    _input_info,
    _interval,
    select,
    signature,
)
from lossctl.defaults import default_chunk_rows
from lossctl.engine import Job, Plan, run
from lossctl.errors import UsageError
from lossctl.report import Check, Comparison, Report

# Roles that hold data rather than a model's output: read from the baseline (or --targets) file once.
DATA_ROLES = ("target", "qid", "teacher")
CANDIDATE = "candidate:"


def verdict(baseline: float, delta: float, ci: dict[str, float] | None) -> str:
    """``same`` when the delta is negligible or, with a bootstrap, when its interval contains 0; lower is better."""
    if abs(delta) <= 1e-12 * max(abs(baseline), 1.0) or (ci is not None and ci["low"] <= 0 <= ci["high"]):
        return "same"
    return "better" if delta < 0 else "worse"


def compare(
    baseline: str,
    candidate: str,
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
    bootstrap: int = 0,
    ci: float | None = None,
    seed: int = 0,
    fail_if_worse: float | None = None,
    significant: bool = False,
    chunk_rows: int | None = None,
    stdin: IO[bytes] | None = None,
) -> Report:
    """Evaluate ``losses`` on ``baseline`` and ``candidate`` (same columns, same targets) and compare them.

    Rows are aligned by ``on`` (a key in both files) or by order. ``fail_if_worse`` (percent) marks
    the report failed when the candidate is worse by more than that on any loss; with ``significant``
    only where the paired bootstrap interval of the delta excludes 0.
    """
    selection = select(losses, params, (), reduction, convention, missing, chunk_rows, (), bootstrap, ci, seed)
    if not selection.requests:
        raise UsageError("compare needs the losses to compare: name them with --loss")
    if significant and not bootstrap:
        raise UsageError("--significant needs --bootstrap N: significance comes from the paired bootstrap interval")
    if fail_if_worse is not None and (not math.isfinite(fail_if_worse) or fail_if_worse < 0):
        raise UsageError(f"--fail-if-worse takes a percentage >= 0, got {fail_if_worse}")
    from lossctl.io import attach_targets, open_input

    sources = {
        "baseline": open_input(baseline, input_format, stdin=stdin),
        "candidate": open_input(candidate, input_format),
    }
    target_source = open_input(targets) if targets else None
    notices: list[str] = []
    available = _available(sources["baseline"], target_source)
    roles = list(dict.fromkeys(["target", "pred", *(r for q in selection.requests for r in q.spec.role_names)]))
    binding = _bind(roles, available, sources["baseline"].path, pred, target, dict(cols or {}), notices)
    weight_column = _column(weight, available, sources["baseline"].path)
    model_columns = list(dict.fromkeys(c for role, cs in binding.items() if role not in DATA_ROLES for c in cs))
    data_columns = list(dict.fromkeys(c for role, cs in binding.items() if role in DATA_ROLES for c in cs))
    missing_in_candidate = [c for c in model_columns if c not in sources["candidate"].columns]
    if missing_in_candidate:
        from lossctl.io.columns import column_not_found

        raise column_not_found(missing_in_candidate[0], sources["candidate"].columns, sources["candidate"].path)
    keys = [on] if on else []
    extra = [weight_column] if weight_column else []
    if target_source is None:
        table = sources["baseline"].read(list(dict.fromkeys(keys + model_columns + data_columns + extra)))
    else:
        from_targets = [c for c in data_columns + extra if c in target_source.columns and c != on]
        table = sources["baseline"].read(
            list(dict.fromkeys(keys + [c for c in model_columns + data_columns + extra if c not in from_targets]))
        )
        table, more = attach_targets(table, target_source.read(keys + from_targets), on, baseline, targets or "")
        notices += more
    candidate_table = sources["candidate"].read(keys + model_columns)
    candidate_table = candidate_table.rename_columns(
        [c if c == on else CANDIDATE + c for c in candidate_table.column_names]
    )
    table, more = attach_targets(table, candidate_table, on, baseline, candidate)
    notices += [m.replace("have no prediction", "are not in the baseline") for m in more]

    jobs = []
    for request in selection.requests:
        roles_of = {role: binding[role] for role in request.spec.role_names}
        jobs.append(Job(request, roles_of))
        jobs.append(
            Job(request, {r: cs if r in DATA_ROLES else [CANDIDATE + c for c in cs] for r, cs in roles_of.items()})
        )
    plan = Plan(jobs, weight_column, [], None, selection.bootstrap, selection.seed)
    batches = table.to_batches(max_chunksize=chunk_rows or default_chunk_rows(table.num_columns))
    outcome = run(iter(batches), plan, selection.options)
    if outcome.rows_dropped:
        notices.append(f"dropped {outcome.rows_dropped} of {outcome.rows} rows with missing values (--missing drop)")

    comparisons, checks = [], []
    for i, request in enumerate(selection.requests):
        base, cand = (_finalize_job(selection, request, outcome, j, outcome.groups) for j in (2 * i, 2 * i + 1))
        base_value, cand_value = base.overall, cand.overall
        delta = cand_value - base_value
        # The replicates share their Poisson counts row for row, so their differences are the paired interval.
        paired = None if base.replicates is None or cand.replicates is None else cand.replicates - base.replicates
        interval = _interval(paired, selection.ci)
        relative = delta / base_value if base_value != 0 else None
        comparison = Comparison(
            loss=request.spec.name,
            label=request.label,
            params=request.params,
            reduction=reduction,
            baseline=base_value,
            candidate=cand_value,
            delta=delta,
            relative_delta=relative,
            ci=interval,
            verdict=verdict(base_value, delta, interval),
            n=outcome.rows_used,
            signature=signature(request, reduction, convention, weight_column),
        )
        comparisons.append(comparison)
        if fail_if_worse is not None:
            checks.append(_worse_check(comparison, fail_if_worse, significant))
    input_info: dict[str, Any] = {
        "baseline": _input_info(sources["baseline"].path, outcome),
        "candidate": _input_info(sources["candidate"].path, outcome),
    }
    if targets:
        input_info["targets"] = targets
    columns = dict(binding) | ({"weight": [weight_column]} if weight_column else {})
    return Report(__version__, input_info, columns, comparisons, None, checks, notices)  # type: ignore[arg-type]


def _worse_check(comparison: Comparison, percent: float, significant: bool) -> Check:
    """Fails when the candidate is worse by more than ``percent`` (and, if asked, significantly)."""
    if comparison.relative_delta is None:
        worse_by = math.inf if comparison.delta > 0 else 0.0
    else:
        worse_by = 100.0 * comparison.delta / abs(comparison.baseline)
    failed = worse_by > percent and comparison.delta > 0
    if significant:
        failed = failed and comparison.ci is not None and comparison.ci["low"] > 0
    expr = f"{comparison.label} worse by > {percent:g}%" + (" (significant)" if significant else "")
    value = worse_by if math.isfinite(worse_by) else comparison.delta
    return Check(expr, comparison.loss, value, passed=not failed)
