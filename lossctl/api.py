"""The Python API: :func:`evaluate` and :func:`compare`, every option in the signature.

Both build one :class:`~lossctl.options.Options` (which validates every value) and run the same orchestration
as the command line (:mod:`lossctl.evaluation`, :mod:`lossctl.comparison`). This module imports nothing heavy:
pyarrow and NumPy load when data is opened. Every name the signatures use is imported at run time (the report
classes too, which every call needs anyway), so that ``typing.get_type_hints`` and
``inspect.signature(..., eval_str=True)`` resolve them.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from typing import Any

from lossctl.errors import UsageError
from lossctl.options import (
    Labels,
    Notify,
    Options,
    PathLike,
    Progress,
    Strings,
    as_flag,
    as_labels,
    as_strings,
    optional_path,
)
from lossctl.registry import one_weight_per_row
from lossctl.report import CompareReport, Report

Models = Mapping[str, str] | Strings


def model_specs(models: Models | None) -> tuple[str, ...]:
    """``models`` as ``--model`` specs: a mapping ``{name: colspec}``, or ``NAME=COLSPEC`` strings and globs."""
    if isinstance(models, Mapping):
        if not all(isinstance(name, str) and isinstance(colspec, str) for name, colspec in models.items()):
            raise UsageError(
                "models takes model names and columns as strings, e.g. {'old': 'pred_v1', 'new': 'p_*'} (several "
                f"columns as 'a,b,c'); got {reprlib.repr(dict(models))}"
            )
        return tuple(f"{name}={colspec}" for name, colspec in models.items())
    return as_strings(models, "models")


def _data(data: Any, y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[Any, dict[str, str]]:
    """The data to open and the role bindings the scikit-learn-style arrays imply."""
    arrays = {"y_true": y_true, "y_pred": y_pred, "sample_weight": sample_weight}
    given = {name: values for name, values in arrays.items() if values is not None}
    if not given:
        if data is None:
            raise UsageError("no data: give a path, a DataFrame, an Arrow table, a dict of arrays or y_true=/y_pred=")
        return data, {}
    if data is not None:
        raise UsageError(f"give either data or arrays ({', '.join(given)}), not both")
    if "y_true" not in given or "y_pred" not in given:
        raise UsageError("arrays need both y_true= and y_pred=")
    implied = {"target": "y_true", "pred": "y_pred"}
    if sample_weight is not None:
        given["sample_weight"] = one_weight_per_row(sample_weight)
        implied["weight"] = "sample_weight"
    return given, implied


def _check_bound_once(
    implied: dict[str, str], named: dict[str, str | None], cols: Any, models: tuple[str, ...], targets: Any
) -> None:
    """``pred=``, ``target=``, ``weight=``, ``cols=`` and ``models=`` (the pred role) name columns of ``data``, and
    ``targets=`` takes the target from a second input: beside an array that binds the same role (``y_pred=``...),
    a usage error naming both keywords."""
    said = {role: f"{role}= names columns of data" for role, column in named.items() if column is not None}
    if isinstance(cols, Mapping):
        said = {role: f'cols={{"{role}": ...}} names columns of data' for role in cols} | said
    if models and "pred" not in said:
        said["pred"] = "models= names columns of data"
    if targets is not None and "target" not in said:
        said["target"] = "targets= takes the target from a second input"
    for role, what in said.items():
        if role in implied:  # implied: the role's array keyword, its column's name
            raise UsageError(f"{what}, and {implied[role]}= gives that role as an array: give one of them")


def _losses(losses: Strings | None) -> tuple[str, ...]:
    """``losses`` as ``-l`` specs; ``None`` (not given) is the task's default losses, and an empty list is refused
    as ``losses=""`` and ``-l ''`` are, not taken for "not given"."""
    specs = as_strings(losses, "losses")
    if losses is not None and not specs:
        raise UsageError("losses is empty: name at least one loss, or leave losses out for the task's default losses")
    return specs


def _callback(name: str, value: Any) -> None:
    """``progress`` and ``notify`` are functions (or ``None``): anything else is a usage error now, not a
    ``TypeError`` once the first chunk is read."""
    if value is not None and not callable(value):
        raise UsageError(f"{name} takes a function or None, got {value!r} ({type(value).__name__})")


def evaluate(
    data: Any = None,
    *,
    y_true: Any = None,
    y_pred: Any = None,
    sample_weight: Any = None,
    losses: Strings | None = None,
    params: Strings | None = (),
    pred: str | None = None,
    target: str | None = None,
    weight: str | None = None,
    cols: Mapping[str, str] | None = None,
    models: Models | None = None,
    classes: Labels | None = (),
    positive: str | None = None,
    targets: Any = None,
    on: Strings | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    missing: str = "error",
    reduction: str = "mean",
    convention: str = "lossctl",
    fail_if: Strings | None = (),
    by: Strings | None = (),
    per_sample: PathLike | None = None,
    bootstrap: int = 0,
    ci: float | None = None,
    seed: int = 0,
    chunk_rows: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    distributions: bool = False,
    progress: Progress | None = None,
    notify: Notify | None = None,
) -> Report:
    """Evaluate ``losses`` on ``data`` and return a :class:`~lossctl.report.Report`.

    ``data`` is a path (``str`` or ``os.PathLike``: CSV, TSV, Parquet, Arrow, JSON Lines, a directory or glob of
    Parquet files), several paths (one dataset), a pandas or polars DataFrame, a pyarrow Table,
    RecordBatchReader or Dataset, or a dict of arrays; or give arrays as ``y_true=``, ``y_pred=`` and
    ``sample_weight=`` (scikit-learn's names). ``losses`` is a list or a comma string of the ``-l`` specs
    (``"mse,huber:delta=2"``); without it the task is inferred and its default losses are used. The other
    keywords are the command line's options (docs/cli.md): ``params`` are ``[LOSS.]KEY=VALUE`` strings, ``cols``
    binds extra roles (``{"var": "sigma2"}``), ``targets`` (any kind of ``data``) gives the target column from a
    second input, ``on`` aligns it by a key column (``"LEFT=RIGHT"`` when
    the names differ, a list for a composite key), ``by`` adds per-group results, ``per_sample`` writes per-row
    losses to a file, ``bootstrap`` replicates add percentile intervals at level ``ci`` (default 0.95), and
    ``ci`` without ``bootstrap`` normal-approximation intervals (the delta method); ``fail_if`` gates the result
    (``report.passed``). ``distributions`` attaches the quantiles of each per-row loss to its result;
    ``progress(rows_read, total_rows_or_None)`` is called as chunks are read, ``notify(message)`` with notices
    that matter before the work ends (a query with 10^8 pairs). ``engine="dask"`` runs the pass as
    tasks on the Dask cluster at ``scheduler`` (default ``$DASK_SCHEDULER_ADDRESS``), or on a local cluster of
    ``workers`` processes started for the call (docs/cli.md, "Beyond one machine").

    Raises :class:`~lossctl.errors.UsageError` or :class:`~lossctl.errors.InputError` (both ``ValueError``).

    >>> import lossctl
    >>> report = lossctl.evaluate(y_true=[0.0, 1.0, 2.0], y_pred=[0.5, 1.0, 3.0], losses="mse,mae")
    >>> report["mse"], report["mae"]
    (0.4166666666666667, 0.5)
    """
    _callback("progress", progress)
    _callback("notify", notify)
    distributions = as_flag(distributions, "distributions")
    data, implied = _data(data, y_true, y_pred, sample_weight)
    specs = model_specs(models)
    _check_bound_once(implied, {"pred": pred, "target": target, "weight": weight}, cols, specs, targets)
    options = Options(
        losses=_losses(losses),
        params=as_strings(params, "params"),
        pred=pred if pred is not None else implied.get("pred"),
        target=target if target is not None else implied.get("target"),
        weight=weight if weight is not None else implied.get("weight"),
        cols=cols or {},
        models=specs,
        classes=as_labels(classes),
        positive=positive,
        targets=targets,
        on=as_strings(on, "on"),
        input_format=input_format,
        delimiter=delimiter,
        decimal=decimal,
        missing=missing,
        reduction=reduction,
        convention=convention,
        fail_if=as_strings(fail_if, "fail_if"),
        by=as_strings(by, "by"),
        per_sample=optional_path(per_sample, "per_sample"),
        bootstrap=bootstrap,
        ci=ci,
        seed=seed,
        chunk_rows=chunk_rows,
        engine=engine,
        scheduler=scheduler,
        workers=workers,
    )
    from lossctl.evaluation import run_evaluation

    return run_evaluation(data, options, distributions=distributions, progress=progress, notify=notify)


def compare(
    baseline: Any,
    candidate: Any = None,
    *,
    losses: Strings | None = None,
    params: Strings | None = (),
    pred: str | None = None,
    target: str | None = None,
    weight: str | None = None,
    cols: Mapping[str, str] | None = None,
    models: Models | None = None,
    classes: Labels | None = (),
    positive: str | None = None,
    targets: Any = None,
    on: Strings | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    missing: str = "error",
    reduction: str = "mean",
    convention: str = "lossctl",
    by: Strings | None = (),
    fail_if: Strings | None = (),
    per_sample: PathLike | None = None,
    bootstrap: int = 0,
    ci: float | None = None,
    seed: int = 0,
    fail_if_worse: float | None = None,
    significant: bool = False,
    chunk_rows: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    notify: Notify | None = None,
) -> CompareReport:
    """Evaluate ``losses`` on ``baseline`` and ``candidate`` over the same targets and compare them (without
    ``losses``, the default losses of the task the data looks like, as :func:`evaluate` does).

    ``baseline`` and ``candidate`` are anything :func:`evaluate` takes as ``data`` (paths, DataFrames, Arrow
    tables...) with the same prediction columns; the targets come from the baseline or ``targets`` (the same kinds
    of data), rows aligned
    by ``on`` or by order. Without ``candidate``, ``models`` (two or more, held in ``baseline``) are compared,
    each later model against the first. ``by`` adds the deltas per group, ``fail_if`` gates the candidates'
    values, ``per_sample`` writes each row's losses and deltas. Each result holds both values, the delta
    ``candidate - baseline``, the relative delta, the paired interval of the delta (the bootstrap's with
    ``bootstrap``, else with ``ci`` the normal approximation) and a verdict (lower is better).
    ``fail_if_worse`` (percent) fails ``report.passed`` when the candidate is worse by more than that on any loss;
    with ``significant``, only where the interval excludes 0. ``engine``, ``scheduler``, ``workers``,
    ``progress(rows_read, baseline_rows_or_None)`` and ``notify(message)`` are :func:`evaluate`'s.

    >>> import lossctl
    >>> a = {"y": [0.0, 1.0, 2.0], "pred": [0.5, 1.0, 3.0]}
    >>> b = {"y": [0.0, 1.0, 2.0], "pred": [0.0, 1.0, 2.5]}
    >>> lossctl.compare(a, b, losses="mae", target="y")["mae"].verdict
    'better'
    """
    _callback("progress", progress)
    _callback("notify", notify)
    options = Options(
        losses=_losses(losses),
        params=as_strings(params, "params"),
        pred=pred,
        target=target,
        weight=weight,
        cols=cols or {},
        models=model_specs(models),
        classes=as_labels(classes),
        positive=positive,
        targets=targets,
        on=as_strings(on, "on"),
        input_format=input_format,
        delimiter=delimiter,
        decimal=decimal,
        missing=missing,
        reduction=reduction,
        convention=convention,
        by=as_strings(by, "by"),
        fail_if=as_strings(fail_if, "fail_if"),
        per_sample=optional_path(per_sample, "per_sample"),
        bootstrap=bootstrap,
        ci=ci,
        seed=seed,
        fail_if_worse=fail_if_worse,
        significant=significant,
        chunk_rows=chunk_rows,
        engine=engine,
        scheduler=scheduler,
        workers=workers,
    )
    from lossctl.comparison import run_comparison

    return run_comparison(baseline, candidate, options, progress=progress, notify=notify)
