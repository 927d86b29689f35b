"""``lossctl.evaluate``: a predictions file in, a :class:`~lossctl.report.Report` out.

This is the whole of ``lossctl eval`` without the printing: open the input, bind columns to the
roles the selected losses read, run the engine once over the chunks, finalize and gate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from lossctl import __version__
from lossctl.engine import Binding, Options, run
from lossctl.errors import InputError, UsageError
from lossctl.params import FailIf, LossRequest, build_requests, parse_fail_if, parse_inline
from lossctl.registry import CONVENTIONS
from lossctl.report import Check, Report, Result

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_CHUNK_ROWS = 1 << 18
REDUCTIONS = ("mean", "sum")
MISSING_POLICIES = ("error", "drop")

# The losses evaluated when none is named, by inferred task (README, "Default losses").
DEFAULT_LOSSES = {
    "regression": ("mse", "rmse", "mae", "huber"),
    "binary (probabilities)": ("bce", "brier"),
    "binary (logits)": ("bce_logits", "hinge"),
}


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
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    stdin: IO[bytes] | None = None,
) -> Report:
    """Evaluate ``losses`` (names with inline parameters, e.g. ``"huber:delta=2"``) on the file ``path``.

    ``params`` are ``--param [LOSS.]KEY=VALUE`` strings and ``cols`` binds extra roles
    (``{"var": "sigma2"}``). Without ``losses``, the task is inferred from the data and its default
    losses are used. Raises :class:`~lossctl.errors.UsageError` or :class:`~lossctl.errors.InputError`.
    """
    _check_choice("--reduction", reduction, REDUCTIONS)
    _check_choice("--missing", missing, MISSING_POLICIES)
    _check_choice("--convention", convention, CONVENTIONS)
    if chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be at least 1, got {chunk_rows}")
    loss_options = list(losses or [])
    requests = build_requests(loss_options, params, convention) if loss_options else []
    if not loss_options and list(params):
        raise UsageError("--param needs losses to apply to: name them with --loss")
    gates = [parse_fail_if(expr) for expr in fail_if]
    notices: list[str] = []

    from lossctl.io import open_input

    source = open_input(path, input_format, stdin=stdin)
    target_source = open_input(targets) if targets else None
    available = list(source.columns)
    if target_source is not None:
        available += [c for c in target_source.columns if c not in available]
    roles = _roles_needed(requests, gates, convention)
    binding = _bind(roles, available, source.path, pred, target, weight, dict(cols or {}), notices)
    batches = _batches(source, target_source, binding, on, chunk_rows, notices)
    if not requests:
        first = next(batches, None)
        task = _infer_task(first, binding)
        notices.append(f"no --loss given: the data looks like {task}; evaluating {', '.join(DEFAULT_LOSSES[task])}")
        requests = build_requests(DEFAULT_LOSSES[task], (), convention)
        batches = itertools.chain([first] if first is not None else [], batches)
    checks = [(gate, _request_for(gate, requests, convention)) for gate in gates]
    options = Options(reduction=reduction, convention=convention, missing=missing, chunk_rows=chunk_rows)
    outcome = run(batches, requests, binding, options)
    if outcome.rows_dropped:
        notices.append(f"dropped {outcome.rows_dropped} of {outcome.rows} rows with missing values (--missing drop)")

    results = []
    for request, stats in zip(requests, outcome.stats, strict=True):
        value = request.spec.aggregate_for(convention).finalize(stats, reduction, request.params)
        if not math.isfinite(value):
            raise InputError(f"{request.label}: the result overflows float64; rescale the inputs")
        results.append(
            Result(
                loss=request.spec.name,
                label=request.label,
                params=request.params,
                reduction=reduction,
                value=value,
                n=outcome.rows_used,
                signature=signature(request, reduction, convention, binding.weight),
            )
        )
    report_checks = []
    for gate, request in checks:
        value = results[requests.index(request)].value
        report_checks.append(Check(gate.expr, request.spec.name, value, passed=not gate.holds(value)))
    columns = dict(binding.roles)
    if binding.weight:
        columns["weight"] = [binding.weight]
    input_info: dict[str, Any] = {
        "path": source.path,
        "rows": outcome.rows,
        "rows_used": outcome.rows_used,
        "rows_dropped": outcome.rows_dropped,
    }
    if targets:
        input_info["targets"] = targets
    return Report(__version__, input_info, columns, results, None, report_checks, notices)


def signature(request: LossRequest, reduction: str, convention: str, weight: str | None) -> str:
    """Everything that fixes a number: loss, every parameter, reduction, weighting, convention, version."""
    parts = [request.spec.name, *(f"{k}={v!r}" for k, v in request.params.items()), f"reduction={reduction}"]
    if weight:
        parts.append(f"weight={weight}")
    parts += [f"convention={convention}", f"lossctl={__version__}"]
    return "|".join(parts)


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"{option} must be one of {', '.join(choices)}, got '{value}'")


def _roles_needed(requests: list[LossRequest], gates: list[FailIf], convention: str) -> list[str]:
    roles = ["target", "pred"]
    for request in requests:
        roles += [r for r in request.spec.role_names if r not in roles]
    for gate in gates:
        spec, _ = parse_inline(gate.loss)
        roles += [r for r in spec.role_names if r not in roles]
    return roles


def _request_for(gate: FailIf, requests: list[LossRequest], convention: str) -> LossRequest:
    """The selected request a ``--fail-if`` names; a loss not selected is added to the run."""
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


def _bind(
    roles: list[str],
    available: list[str],
    source_name: str,
    pred: str | None,
    target: str | None,
    weight: str | None,
    cols: dict[str, str],
    notices: list[str],
) -> Binding:
    from lossctl.io.columns import DEFAULT_NAMES, guess_column, resolve_colspec

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
                    f"no column for role '{role}': none of the columns ({', '.join(available)}) "
                    f"is named {names}; choose one with --{role} COLUMN"
                )
            notices.append(f"using column '{guess}' as {role} (guessed from its name; set it with --{role})")
            bound[role] = [guess]
        else:
            raise UsageError(f"role '{role}' is not bound; bind it with --col {role}=COLUMN")
    unused = sorted(set(explicit) - set(roles))
    if unused:
        raise UsageError(f"--col {unused[0]}=...: no selected loss reads the role '{unused[0]}'")
    weight_column = resolve_colspec(weight, available, source_name)[0] if weight else None
    return Binding(bound, weight_column)


def _batches(
    source: Any, target_source: Any, binding: Binding, on: str | None, chunk_rows: int, notices: list[str]
) -> Iterator[pa.RecordBatch]:
    if target_source is None:
        if on:
            raise UsageError("--on needs --targets: it names the key column shared by both files")
        return iter(source.batches(binding.columns, chunk_rows))
    from lossctl.io import attach_targets

    from_targets = [c for c in binding.columns if c in target_source.columns and c not in source.columns]
    from_targets += [c for c in binding.roles["target"] if c in target_source.columns and c not in from_targets]
    from_preds = [c for c in binding.columns if c not in from_targets]
    keys = [on] if on else []
    preds_table = source.read(list(dict.fromkeys(keys + from_preds)))
    targets_table = target_source.read(list(dict.fromkeys(keys + from_targets)))
    table, join_notices = attach_targets(preds_table, targets_table, on, source.path, target_source.path)
    notices.extend(join_notices)
    return iter(table.select(binding.columns).to_batches(max_chunksize=chunk_rows))


def _infer_task(batch: pa.RecordBatch | None, binding: Binding) -> str:
    """Regression unless the target holds only 0/1 (or -1/1) labels; then probabilities or logits by ``pred``."""
    if batch is None or batch.num_rows == 0:
        return "regression"
    from lossctl.io.convert import to_float64

    if len(binding.roles["target"]) != 1 or len(binding.roles["pred"]) != 1:
        return "regression"
    target, _ = to_float64(batch.column(binding.roles["target"][0]), binding.roles["target"][0])
    pred, _ = to_float64(batch.column(binding.roles["pred"][0]), binding.roles["pred"][0])
    labels = set(np.unique(target[~np.isnan(target)]).tolist())
    if not labels or not (labels <= {0.0, 1.0} or labels <= {-1.0, 1.0}):
        return "regression"
    finite = pred[~np.isnan(pred)]
    if labels <= {0.0, 1.0} and finite.size and finite.min() >= 0 and finite.max() <= 1:
        return "binary (probabilities)"
    return "binary (logits)"
