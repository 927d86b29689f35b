"""``compare``: the same losses for two models over the same targets, with paired deltas.

Both models' losses are jobs of one engine pass over one aligned table, so every row is weighted
identically in both (the bootstrap's Poisson counts are keyed by row): the interval of the delta is
a paired interval, much narrower than two independent ones when the models err on the same rows.
"""

from __future__ import annotations

import math
from typing import Any, BinaryIO

from lossctl import __version__
from lossctl.binding import roles_needed
from lossctl.defaults import default_chunk_rows
from lossctl.engine import Job, Plan, run
from lossctl.errors import UsageError
from lossctl.evaluation import dropped_notice, input_info, open_sources
from lossctl.finalize import finalize_job, interval, signature
from lossctl.io.sources import open_data
from lossctl.options import Options
from lossctl.report import Check, CompareReport, Comparison

# Roles that hold data rather than a model's output: read from the baseline (or --targets) file once.
DATA_ROLES = ("target", "qid", "teacher")
CANDIDATE = "candidate:"


def verdict(baseline: float, delta: float, ci: dict[str, float] | None) -> str:
    """``same`` when the delta is negligible or, with a bootstrap, when its interval contains 0; lower is better."""
    if abs(delta) <= 1e-12 * max(abs(baseline), 1.0) or (ci is not None and ci["low"] <= 0 <= ci["high"]):
        return "same"
    return "better" if delta < 0 else "worse"


def run_comparison(baseline: Any, candidate: Any, options: Options, stdin: BinaryIO | None = None) -> CompareReport:
    """Evaluate ``options``' losses on ``baseline`` and ``candidate`` (same columns, same targets) and compare them.

    Rows are aligned by ``options.on`` (a key in both files) or by order. ``options.fail_if_worse`` (percent)
    fails a check when the candidate is worse by more than that on any loss; with ``options.significant`` only
    where the paired bootstrap interval of the delta excludes 0.
    """
    if not options.requests:
        raise UsageError("compare needs the losses to compare: name them with --loss")
    from lossctl.io import attach_targets

    notices: list[str] = []
    roles = list(dict.fromkeys(["target", "pred", *roles_needed(options.requests, (), ())]))
    opened = open_sources(baseline, options, roles, notices, stdin)
    base_source, target_source, binding = opened.source, opened.targets, opened.binding
    candidate_source = open_data(candidate, options.input_format)
    model_columns = list(dict.fromkeys(c for role, cs in binding.roles.items() if role not in DATA_ROLES for c in cs))
    data_columns = list(dict.fromkeys(c for role, cs in binding.roles.items() if role in DATA_ROLES for c in cs))
    missing_in_candidate = [c for c in model_columns if c not in candidate_source.columns]
    if missing_in_candidate:
        from lossctl.io.columns import column_not_found

        raise column_not_found(missing_in_candidate[0], candidate_source.columns, candidate_source.path)
    on = options.on
    keys = [on] if on else []
    extra = [binding.weight] if binding.weight else []
    if target_source is None:
        table = base_source.read(list(dict.fromkeys(keys + model_columns + data_columns + extra)))
    else:
        from_targets = [c for c in data_columns + extra if c in target_source.columns and c != on]
        wanted = [c for c in model_columns + data_columns + extra if c not in from_targets]
        table = base_source.read(list(dict.fromkeys(keys + wanted)))
        table, more = attach_targets(
            table, target_source.read(keys + from_targets), on, base_source.path, target_source.path
        )
        notices += more
    candidate_table = candidate_source.read(keys + model_columns)
    candidate_table = candidate_table.rename_columns(
        [c if c == on else CANDIDATE + c for c in candidate_table.column_names]
    )
    table, more = attach_targets(table, candidate_table, on, base_source.path, candidate_source.path)
    notices += [m.replace("have no prediction", "are not in the baseline") for m in more]

    jobs = []
    for request in options.requests:
        roles_of = {role: binding.roles[role] for role in request.spec.role_names}
        jobs.append(Job(request, roles_of))
        jobs.append(
            Job(request, {r: cs if r in DATA_ROLES else [CANDIDATE + c for c in cs] for r, cs in roles_of.items()})
        )
    plan = Plan(jobs, binding.weight, [], None, options.bootstrap, options.seed)
    batches = table.to_batches(max_chunksize=options.chunk_rows or default_chunk_rows(table.num_columns))
    outcome = run(iter(batches), plan, options)
    notices += dropped_notice(outcome)

    comparisons, checks = [], []
    for i, request in enumerate(options.requests):
        base, cand = (
            finalize_job(request, outcome, j, options.reduction, options.convention) for j in (2 * i, 2 * i + 1)
        )
        delta = cand.overall - base.overall
        # The replicates share their Poisson counts row for row, so their differences are the paired interval.
        paired = None if base.replicates is None or cand.replicates is None else cand.replicates - base.replicates
        ci = interval(paired, options.ci)
        comparison = Comparison(
            loss=request.spec.name,
            label=request.label,
            params=request.params,
            reduction=options.reduction,
            baseline=base.overall,
            candidate=cand.overall,
            delta=delta,
            relative_delta=delta / base.overall if base.overall != 0 else None,
            ci=ci,
            verdict=verdict(base.overall, delta, ci),
            n=outcome.rows_used,
            signature=signature(request, options.reduction, options.convention, binding.weight),
            request=request,
        )
        comparisons.append(comparison)
        if options.fail_if_worse is not None:
            checks.append(worse_check(comparison, options.fail_if_worse, options.significant))
    info: dict[str, Any] = {
        "baseline": input_info(base_source.path, outcome),
        "candidate": input_info(candidate_source.path, outcome),
    }
    if options.targets:
        info["targets"] = options.targets
    return CompareReport(__version__, info, binding.report_columns(), comparisons, None, checks, notices)


def worse_check(comparison: Comparison, percent: float, significant: bool) -> Check:
    """Fails when the candidate is worse by more than ``percent`` (and, if asked, significantly).

    The record holds the relative delta as a fraction, as the results do, with the threshold as a fraction.
    """
    threshold = percent / 100
    if comparison.relative_delta is None:
        worse_by = math.inf if comparison.delta > 0 else 0.0
    else:
        worse_by = comparison.delta / abs(comparison.baseline)
    failed = worse_by > threshold and comparison.delta > 0
    if significant:
        failed = failed and comparison.ci is not None and comparison.ci["low"] > 0
    expr = f"{comparison.label} worse by > {percent:g}%" + (" (significant)" if significant else "")
    value = worse_by if math.isfinite(worse_by) else comparison.delta
    return Check(expr, comparison.loss, value, passed=not failed, threshold=threshold)
