"""The reports of a run and their machine-readable forms: JSON (docs/cli.md's schema), CSV, Markdown, Parquet.

Files are written atomically: to a temporary file in the target's directory, then renamed, so a
failed run never leaves a partial file behind.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import glob
import io
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TextIO, TypeVar

from lossctl.destinations import check_folder, check_name, check_not_inside_inputs
from lossctl.errors import InputError, NoResult, UsageError, flags_spelled, option
from lossctl.lazy import LazyModule
from lossctl.memory import collector_paused
from lossctl.options import PathLike, optional_path
from lossctl.params import Composite, FailIf, LossRequest
from lossctl.tempfiles import open_for_arrow, write_atomic
from lossctl.text import escaped, fraction, percent, show_name

if TYPE_CHECKING:
    import pandas as pd
else:  # for typing.get_type_hints: pd.DataFrame in an annotation imports pandas then
    pd = LazyModule("pandas")

SCHEMA_VERSION = 1
# Records encoded per write to the output (:func:`write_json`, :func:`write_csv`).
_WRITE_BATCH = 8192


@dataclass(slots=True)
class Result:
    """One record of ``results``: a loss with one parameter set, overall (``group=None``) or for a group."""

    loss: str
    label: str
    params: dict[str, Any]
    reduction: str
    value: float
    n: int
    signature: str
    group: dict[str, Any] | None = None
    ci: dict[str, float] | None = None
    model: str | None = None
    request: LossRequest | Composite | None = field(default=None, repr=False, compare=False)
    distribution: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The record of ``results`` (:func:`_own`: the caller's to change)."""
        return {
            "loss": self.loss,
            "params": _own(self.params),
            "reduction": self.reduction,
            "value": self.value,
            "n": self.n,
            "model": self.model,
            "group": _own(self.group),
            "ci": _own(self.ci),
            "signature": self.signature,
        }


@dataclass(slots=True)
class Comparison:
    """One record of ``compare``'s ``results``: a loss on both models, the delta and the verdict."""

    loss: str
    label: str
    params: dict[str, Any]
    reduction: str
    baseline: float
    candidate: float
    delta: float
    relative_delta: float | None
    ci: dict[str, float] | None
    verdict: str
    n: int
    signature: str
    group: dict[str, Any] | None = None
    model: str | None = None
    request: LossRequest | Composite | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The record of compare's ``results`` (:func:`_own`: the caller's to change)."""
        return {
            "loss": self.loss,
            "params": _own(self.params),
            "reduction": self.reduction,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "delta": self.delta,
            "relative_delta": self.relative_delta,
            "ci": _own(self.ci),
            "verdict": self.verdict,
            "n": self.n,
            "model": self.model,
            "group": _own(self.group),
            "signature": self.signature,
        }


def _own(mapping: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of a record's ``params``, ``group`` or ``ci`` (a parameter's list too), as JSON has it: a record's
    dict handed out was the report's own, shared by every record of its loss or group, so editing one changed the
    report and its output."""
    if mapping is None:
        return None
    return {key: list(value) if isinstance(value, list | tuple) else value for key, value in mapping.items()}


@dataclass
class Check:
    """One gate: ``passed`` is false when the condition holds (the gate fails).

    ``--fail-if`` checks hold the loss's value; compare's ``--fail-if-worse`` checks hold the relative delta
    as a fraction, with the ``threshold`` it was held against (also a fraction); that value is ``None`` over a
    baseline of 0, and ``note`` says why.
    """

    expr: str
    loss: str
    value: float | None
    passed: bool
    threshold: float | None = None
    model: str | None = None
    note: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # the full label, with the parameters the run set (``huber:delta=2``); the name when empty
    gate: FailIf | None = field(default=None, repr=False)  # the --fail-if a check of a loss's value holds

    def to_dict(self) -> dict[str, Any]:
        """The record of ``checks``; ``model``, ``threshold`` and ``note`` appear only where the run has them."""
        record: dict[str, Any] = {"expr": self.expr, "loss": self.loss, "params": _own(self.params)}
        if self.model is not None:
            record["model"] = self.model
        record |= {"value": self.value, "passed": self.passed}
        record |= {"threshold": self.threshold} if self.threshold is not None else {}
        return record | ({"note": self.note} if self.note is not None else {})

    def named(self) -> str:
        """The loss as check lines name it: its full label, and ``@MODEL`` where the run has models."""
        return (self.label or self.loss) + (f"@{self.model}" if self.model is not None else "")

    def shown_value(self) -> str:
        """The value in a check line: a relative check's as a percent with its sign (``+166.67%``, :meth:`fitted`)."""
        if self.value is None:
            return f"null ({self.note})" if self.note else "null"
        value = self.value
        shown = self.fitted(lambda digits: percent(value, digits), 2) if self.threshold is not None else repr(value)
        return f"{shown} ({self.note})" if self.note else shown

    def fitted(self, form: Callable[[int], str], digits: int) -> str:
        """``form(digits)``, the value rounded, with as many more digits as it takes for the number shown not to
        read as the other verdict: 0.250000005 is not ``mse = 0.25 FAILED`` for ``mse>0.25``, nor a relative
        delta of 1.004% ``+1.00% FAILED`` for ``worse by > 1%``. A relative check that passed stays rounded (it
        may pass above its threshold: a negligible excess, or one not significant)."""
        text = form(digits)
        while digits < 17 and self._contradicts(text):
            digits += 1
            text = form(digits)
        return text

    def _contradicts(self, text: str) -> bool:
        if self.threshold is not None:
            return not self.passed and not fraction(float(text.removesuffix("%"))) > self.threshold
        return self.gate is not None and self.gate.holds(float(text)) == self.passed


Record = TypeVar("Record", Result, Comparison)


@dataclass(repr=False)
class _Report(Generic[Record]):
    """What ``evaluate`` and ``compare`` share: the JSON document, the gates, lookup by loss."""

    version: str
    input: dict[str, Any]
    columns: dict[str, list[str]]
    results: list[Record]
    groups: dict[str, Any] | None = None
    checks: list[Check] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every gate passed (a failed gate is not an exception: the CLI exits 1)."""
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> bool:
        return not self.passed

    @property
    def by(self) -> list[str]:
        return list(self.groups["by"]) if self.groups else []

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(r.model for r in self.results if r.model is not None))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``--format json`` (docs/cli.md, "Output"), as ``json.loads`` reads that output: plain
        dicts, lists and numbers of its own, which the caller may change without changing the report (the report's
        ``input``, ``params`` and group keys were handed out: editing one record's group renamed that group in
        every record, and its lookups by ``group=`` then failed)."""
        return json.loads(to_json(self))  # type: ignore[arg-type]  # self is a Report or a CompareReport

    def write(self, path: PathLike, format: str | None = None) -> None:
        """Write the report to ``path`` as ``-o PATH`` does, by the same writers, atomically (a failed write leaves
        no file): the format its extension names (``.json``, ``.csv``, ``.md``, ``.parquet``), else ``format``
        (``json``, ``csv``, ``markdown`` or ``parquet``), which must not contradict the extension. ``path`` may be
        an object store's URL (``s3://...``), as ``-o``'s."""
        destination = optional_path(path, "path")
        if destination is None:
            raise UsageError("path takes a file path (str or os.PathLike), got None")
        if not destination.strip():
            raise UsageError("path needs a file name, got an empty one")
        if format is not None and format not in _FORMAT_SUFFIXES:
            raise UsageError(f"format takes one of {', '.join(_FORMAT_SUFFIXES)} (or None), got {format!r}")
        check_destination(destination, format, [])
        write_report(self, destination, format)  # type: ignore[arg-type]  # self is a Report or a CompareReport

    def gaps(self) -> list[tuple[str, float, str]]:
        """Each ``--by`` gap as the table and Markdown show it: the loss's full label (``huber:delta=5``, and
        ``@MODEL`` where the run has models), the gap, and the worst group as ``COL=VALUE, ...`` (:func:`key_text`)."""
        labels = {(r.loss, repr(r.params)): r.label for r in self.results}
        return [
            (
                labels[(gap["loss"], repr(gap["params"]))] + (f"@{gap['model']}" if "model" in gap else ""),
                gap["gap"],
                group_text(gap["worst_group"]),
            )
            for gap in (self.groups or {}).get("gaps", [])
        ]

    def _document(self, results: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """The document with ``results`` (a list, or records made as :func:`write_json` writes them)."""
        return {
            "schema": SCHEMA_VERSION,
            "lossctl": self.version,
            "input": self.input,
            "columns": self.columns,
            "results": results,
            "groups": self.groups,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_pandas(self) -> pd.DataFrame:
        """A pandas DataFrame with the columns of the CSV output, one row per result (pandas is imported here)."""
        import pandas as pd

        header, rows = table_rows(self)  # type: ignore[arg-type]  # self is a Report or a CompareReport
        frame = pd.DataFrame(rows, columns=header)
        for column in ("ci_low", "ci_high", "relative_delta"):  # numbers that may be absent: NaN, not None
            if column in frame:
                frame[column] = frame[column].astype(float)
        # An integer key column holds None on the overall row, which pandas makes a float64 column of: 2^53 + 1 read
        # as 2^53. Nullable integers keep every key exact, as the Parquet output does; a boolean key is pandas'
        # nullable boolean, as the Parquet output's column is bool (it was objects: True, False and None).
        for position in range(len(header) - len(self.by), len(header)):
            values = [row[position] for row in rows]
            if any(type(value) is int for value in values) and all(  # beyond 64 bits (a decimal id): objects
                value is None or (type(value) is int and -(2**63) <= value < 2**64) for value in values
            ):
                unsigned = any(value is not None and value >= 2**63 for value in values)
                frame[header[position]] = pd.array(values, dtype="UInt64" if unsigned else "Int64")
            elif any(type(value) is bool for value in values) and all(
                value is None or type(value) is bool for value in values
            ):
                frame[header[position]] = pd.array(values, dtype="boolean")
        return frame

    def record(self, loss: str, model: str | None = None, group: Mapping[str, Any] | None = None) -> Record:
        """The result record of ``loss`` (a name, an alias, ``huber:delta=2`` or a composite's name) for ``model``
        (``None``: the run's only model, if it has one) and ``group`` (``None``: the overall result); an ambiguous
        or unknown name is a usage error."""
        if not isinstance(loss, str):
            raise UsageError(
                f"a result is named by its loss, a string such as 'mse' or 'huber:delta=2'; got {loss!r} "
                f"({type(loss).__name__})"
            )
        if group is not None and not isinstance(group, Mapping):
            raise UsageError(
                f"group= takes the by= columns and their values, e.g. {{'segment': 'west'}}; got {group!r}"
            )
        wanted = None if group is None else dict(PlainKey({k: _as_key(v) for k, v in group.items()}))
        by = list((self.groups or {}).get("by", []))
        if wanted is not None and sorted(map(str, wanted)) != sorted(by):
            if not by:
                raise UsageError(f"this report has no groups (evaluated without by=); got group={wanted}")
            raise UsageError(f"group= takes the by= columns ({', '.join(by)}) and their values; got {wanted}")
        models = self.models
        if model is not None and model not in models:
            if not models:
                raise UsageError(f"this report has no models (evaluated without models=); got model={model!r}")
            raise NoResult(f"no model {model!r} in this report; its models are: {', '.join(models)}")
        if model is None and len(models) == 1 and all(r.model is not None for r in self.results):
            model = models[0]  # one model (compare's one candidate): nothing to choose between
        found = [r for r in self.results if r.model == model and r.group == wanted and _names(loss, r.label, r.request)]
        if len(found) == 1:
            return found[0]
        if found:
            labels = ", ".join(r.label for r in found)
            raise UsageError(f"'{loss}' names several results ({labels}); give its parameters, e.g. '{found[0].label}'")
        where = (f" for model '{model}'" if model is not None else "") + (f" in group {wanted}" if wanted else "")
        if model is None and models:
            where += f" (this report has models: {', '.join(models)}; pass model=...)"
        labels = ", ".join(dict.fromkeys(r.label for r in self.results))
        if wanted and not any(r.group == wanted for r in self.results):
            groups = list({repr(r.group): r.group for r in self.results if r.group is not None}.values())
            shown = ", ".join(str(g) for g in groups[:5]) + (", ..." if len(groups) > 5 else "")
            raise NoResult(f"no group {wanted} in this report; its groups are: {shown}")
        raise NoResult(f"no result for '{loss}'{where}; the results are: {labels}")

    def __repr__(self) -> str:
        """Short whatever the report holds: the first overall results, the rows, the groups and the gates, as
        ``Report({'mse': 0.41, 'mae': 0.5}, rows=3, by=['segment'], groups=4, passed=True)``. The dataclass's repr
        listed every record with its signature: a report of 1000 groups printed 400 kB in a notebook."""
        overall = [r for r in self.results if r.group is None]
        shown = ", ".join(f"{r.label + ('@' + r.model if r.model else '')!r}: {_summary(r)}" for r in overall[:_SHOWN])
        if len(overall) > _SHOWN:
            shown += f", ... ({len(overall)} results)"
        rows = self.input.get("rows", self.input.get("baseline", {}).get("rows"))
        about = [f"{{{shown}}}", f"rows={rows}"]
        if self.groups:
            about += [f"by={self.by}", f"groups={len({repr(r.group) for r in self.results if r.group is not None})}"]
        if self.checks:
            about.append(f"passed={self.passed}")
        return f"{type(self).__name__}({', '.join(about)})"

    def __iter__(self) -> Iterator[Record]:
        """``for record in report``: its records, as :attr:`results` lists them; without it Python tried
        ``report[0]``, a usage error about loss names."""
        return iter(self.results)

    def __contains__(self, loss: object) -> bool:
        """``"mse" in report``: whether ``loss`` names a result (of any model or group); without it Python tried
        ``report[0]``, a usage error."""
        return isinstance(loss, str) and any(_names(loss, r.label, r.request) for r in self.results)


# The overall results a report's repr shows.
_SHOWN = 6


def _summary(record: Result | Comparison) -> str:
    """A record in a report's repr: the value, or compare's ``baseline -> candidate (verdict)``."""
    if isinstance(record, Comparison):
        return f"{record.baseline!r} -> {record.candidate!r} ({record.verdict})"
    return repr(record.value)


def _names(query: str, label: str, request: LossRequest | Composite | None) -> bool:
    """Whether ``query`` names the result ``label`` of ``request``: its label, or its loss with fewer parameters."""
    if query == label:
        return True
    if not isinstance(request, LossRequest):
        return False
    from lossctl.params import find_requests

    try:
        return bool(find_requests(query, [request]))
    except UsageError:
        return False


@dataclass(repr=False)
class Report(_Report[Result]):
    """The result of :func:`lossctl.evaluate`: ``report["mse"]`` is the overall value of mse.

    ``notices`` are what the CLI prints on stderr; they are never part of the machine formats.
    """

    def __getitem__(self, loss: str) -> float:
        return self.record(loss).value

    def value(self, loss: str, model: str | None = None, group: Mapping[str, Any] | None = None) -> float:
        """The value of ``loss`` for ``model`` in ``group`` (``{"segment": "a"}``; ``None``: overall)."""
        return self.record(loss, model, group).value


@dataclass(repr=False)
class CompareReport(_Report[Comparison]):
    """The result of :func:`lossctl.compare`: ``report["mse"]`` is the :class:`Comparison` record of mse (baseline,
    candidate, delta, interval, verdict); :meth:`value` is its delta."""

    def __getitem__(self, loss: str) -> Comparison:
        return self.record(loss)

    def value(self, loss: str, model: str | None = None, group: Mapping[str, Any] | None = None) -> float:
        """The delta ``candidate - baseline`` of ``loss`` for candidate ``model`` in ``group``."""
        return self.record(loss, model, group).delta


AnyReport = Report | CompareReport


# The key values JSON has no type for: written as :func:`plain_value` makes them.
NOT_PLAIN = (datetime.date, datetime.time, datetime.timedelta, decimal.Decimal, bytes)


class PlainKey(dict[str, Any]):
    """A group's key as JSON writes it (:func:`plain_value`), holding the key as it was read (``raw``): the Parquet
    output keeps its types (a date a date, a decimal a decimal), which JSON has no words for."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__((column, plain_value(value)) for column, value in raw.items())
        self.raw = raw


def _as_key(value: Any) -> Any:
    """A key value as given to :meth:`_Report.record` as a group's key holds it: a missing value (NaN, ``pd.NA``,
    ``pd.NaT``: the key of ``df.groupby(..., dropna=False)``'s missing group) as ``None``, the missing group's key,
    where NaN would equal nothing; a NumPy ``datetime64`` or ``timedelta64`` (``df["day"].values[0]``) as the
    ``datetime`` value a group's key is compared as (in ISO 8601, :func:`plain_value`): a day or coarser as a date,
    finer as a date and time to the microsecond. Any other value as it is."""
    kind = type(value).__name__
    if (isinstance(value, float) and math.isnan(value)) or kind in ("NAType", "NaTType"):
        return None
    if type(value).__module__ != "numpy" or kind not in ("datetime64", "timedelta64"):
        return value
    import numpy as np

    if np.isnat(value):
        return None
    if kind == "timedelta64":
        return value.astype("timedelta64[us]").item()
    days = np.datetime_data(value.dtype)[0] in ("Y", "M", "W", "D")
    return value.astype("datetime64[D]" if days else "datetime64[us]").item()


def plain_value(value: Any) -> Any:
    """A key's value as JSON writes it (the ``group`` of a record, a key of ``--per-sample`` JSON Lines): dates and
    times in ISO 8601, durations in seconds, decimals as numbers (those of a scale of 0, ids such as ``decimal(38,
    0)``, as exact integers: as floats, 12345678901234567890123 and ...124 were one key; others as the float that
    reads back as their value, else as their exact text: 123456789012345678.9 and ...8.8 were one float), bytes as
    text; other values as they are."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(value)
        number = float(value)
        return number if decimal.Decimal(repr(number)) == value else str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")  # b"\xff" and b"\xfe" stay two keys
    return value


def compact_params(params: dict[str, Any]) -> str:
    """The compact ``key=value;key=value`` form of the CSV ``params`` column."""
    return ";".join(f"{key}={format_value(value)}" for key, value in params.items())


def format_value(value: Any) -> str:
    """A parameter's value as the command line writes it (``true``, ``none``, ``raw``, ``0.5``, lists as ``a,b``):
    in the CSV ``params`` column, ``describe`` and the signature."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ",".join(format_value(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def key_text(value: Any) -> str:
    """A group's key as text for people: a missing key as ``(missing)`` (JSON's null), an empty text as ``""``
    (nothing at all, it read as the overall result's empty cell), a text with space at either end quoted, its
    spaces other than the plain one escaped (``"a "``, ``"a\\xa0"``: ``a``, ``a `` and ``a`` with a no-break space
    read as three groups ``a``, and a key of spaces as an empty cell), a boolean as the command line writes it
    (``true``), not as Python's ``None`` and ``True``."""
    if value is None:
        return "(missing)"
    if isinstance(value, str) and value == value.strip():
        return value or '""'
    if isinstance(value, str):
        spaces = (c if c == " " or not c.isspace() else c.encode("unicode_escape").decode() for c in value)
        return f'"{"".join(spaces)}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def group_text(group: Mapping[str, Any]) -> str:
    """A group as messages, gap lines and plots name it: ``g=a, h=(missing)``, each key as :func:`key_text` has it."""
    return ", ".join(f"{column}={key_text(value)}" for column, value in group.items())


def table_rows(report: AnyReport) -> tuple[list[str], list[list[Any]]]:
    """The flat table of the CSV, Markdown, Parquet and DataFrame forms (docs/cli.md, "Output"): the contract's
    columns, then ``model`` when the run has models, then one column per ``--by`` key."""
    has_models, by = bool(report.models), report.by  # each a pass over the results: once, not per row
    return _header(report, has_models, by), list(_rows(report, has_models, by, None))


def group_headers(report: AnyReport, own: Sequence[str] = ()) -> list[str]:
    """The ``--by`` columns' headers, as the flat table's (:func:`_header`), ``own`` naming the caller's columns the
    flat table lacks (compare's ``relative``): the rich table too read ``value | n | n | value`` for ``--by value
    --by n``, a group column and the results' own under one name."""
    names = _header(report, bool(report.models), report.by, own)
    return names[len(names) - len(report.by) :]


def _header(report: AnyReport, has_models: bool, by: list[str], also: Sequence[str] = ()) -> list[str]:
    """The table's columns. A ``--by`` column named as one of the table's own (``model``, ``value``, ``loss``...) or
    as one of ``also`` is ``group.NAME``, its place in the JSON record (``group.group.NAME`` when another ``--by``
    column is named ``group.NAME``): a header naming two columns alike is read back as one."""
    if isinstance(report, CompareReport):
        deltas = ["baseline", "candidate", "delta", "relative_delta", "ci_low", "ci_high", "verdict", "n"]
        own = ["loss", "params", "reduction", *deltas]
    else:
        own = ["loss", "params", "reduction", "value", "n", "ci_low", "ci_high"]
    own += ["model"] if has_models else []
    names = list(own)
    taken = [*names, *also]
    for column in by:
        name = column
        while name in taken or (name != column and name in by):  # --by loss --by group.loss: group.group.loss
            name = f"group.{name}"
        names.append(name)
        taken.append(name)
    return names


def _rows(
    report: AnyReport, has_models: bool, by: list[str], group_cell: Callable[[Any], Any] | None
) -> Iterator[list[Any]]:
    """The table's rows (:func:`table_rows`), made one by one as they are read; ``group_cell`` rewrites the group
    columns' values (CSV: booleans and lists). A million groups are three million rows: one loop, no helper call
    per row."""
    formatted: dict[int, str] = {}  # a loss's groups share its params dict: formatted once
    no_group = [None] * len(by)
    for record in report.results:
        params = formatted.get(id(record.params))
        if params is None:
            params = formatted[id(record.params)] = compact_params(record.params)
        ci = record.ci
        low, high = (None, None) if ci is None else (ci.get("low"), ci.get("high"))
        if isinstance(record, Comparison):
            row = [record.loss, params, record.reduction, record.baseline, record.candidate, record.delta]
            row += [record.relative_delta, low, high, record.verdict, record.n]
        else:
            row = [record.loss, params, record.reduction, record.value, record.n, low, high]
        if has_models:
            row.append(record.model)
        group = record.group
        if group is None:
            row += no_group
        elif group_cell is None:
            row += [group.get(column) for column in by]
        else:
            row += [group_cell(group.get(column)) for column in by]
        yield row


def to_json(report: AnyReport) -> str:
    """The JSON document (:func:`write_json`) as text."""
    buffer = io.StringIO()
    write_json(report, buffer)
    return buffer.getvalue()


def write_json(report: AnyReport, out: TextIO) -> None:
    """Write the JSON document: one top-level field per line and one record per line, as in docs/cli.md.

    Each line is encoded by ``json``'s C encoder (``indent=2`` takes its pure-Python one: a third of the
    run for 30,000 group records), and the document parses to the same object either way. Records are made
    and written one at a time: a million groups' records never exist all at once as dicts or text.
    """
    encode = json.JSONEncoder(allow_nan=False).encode
    document = report._document([])  # the fields in order; the records are encoded below, one at a time
    lists = {"results": _record_lines(report.results, encode), "checks": map(encode, document["checks"])}
    for index, (key, value) in enumerate(document.items()):
        out.write(f"{'{' if index == 0 else ','}\n  {encode(key)}: ")
        lines = lists.get(key)
        first = next(lines, None) if lines is not None else None
        if lines is None or first is None:
            out.write(encode(value))
            continue
        out.write(f"[\n    {first}")
        for batch in _batches(lines):
            out.write("".join([f",\n    {line}" for line in batch]))
        out.write("\n  ]")
    out.write("\n}\n")


def _record_lines(records: Iterable[Result | Comparison], encode: Callable[[Any], str]) -> Iterator[str]:
    """Each record's JSON text, equal to ``encode(record.to_dict())``. For a :class:`Result`, what one loss's
    records share (loss, params, reduction, model, signature) and each group's key are encoded once, and the
    record's own numbers written as the encoder writes them (``repr``): 30,000 records of 10,000 groups took
    0.1 s through ``to_dict`` and the encoder."""
    shared: dict[tuple[int, str, str, str | None, str], tuple[str, str, str]] = {}
    groups: dict[int, str] = {}  # a group's key dict is shared by its records (finalize.plain_keys)
    for record in records:
        if not isinstance(record, Result):
            yield encode(record.to_dict())
            continue
        key = (id(record.params), record.loss, record.reduction, record.model, record.signature)
        parts = shared.get(key)
        if parts is None:
            head = encode({"loss": record.loss, "params": record.params, "reduction": record.reduction})
            parts = shared[key] = (
                head[:-1] + ', "value": ',
                f', "model": {encode(record.model)}, "group": ',
                f', "signature": {encode(record.signature)}}}',
            )
        group = record.group
        group_text = "null" if group is None else groups.get(id(group))
        if group_text is None:
            group_text = groups[id(group)] = encode(group)
        value, n = record.value, record.n
        value_text = repr(value) if type(value) is float and math.isfinite(value) else encode(value)
        n_text = repr(n) if type(n) is int else encode(n)
        ci = "null" if record.ci is None else encode(record.ci)
        yield f'{parts[0]}{value_text}, "n": {n_text}{parts[1]}{group_text}, "ci": {ci}{parts[2]}'


def to_csv(report: AnyReport) -> str:
    """The CSV text (:func:`write_csv`)."""
    buffer = io.StringIO()
    write_csv(report, buffer)
    return buffer.getvalue()


def write_csv(report: AnyReport, out: TextIO) -> None:
    """Write the CSV table, a batch of rows at a time. ``csv`` writes ``None`` as an empty cell, floats by ``repr``
    and the rest by ``str``, as :func:`format_value` does; the group columns are written by :func:`_csv_group_cells`.
    A :class:`Report`'s rows are put together from text made once per loss and once per group
    (:func:`_result_csv_lines`)."""
    has_models, by = bool(report.models), report.by
    line = _csv_line_writer()
    out.write(line(_header(report, has_models, by)))
    if isinstance(report, Report):
        for lines in _batches(_result_csv_lines(report, has_models)):
            out.write("".join(lines))
        return
    cells, no_group = _csv_group_cells(by), "," * len(by)
    rows = zip(report.results, _rows(report, has_models, [], None), strict=True)
    for batch in _batches(
        f"{line(row)[:-1]}{no_group if record.group is None else cells(record.group)}\n" for record, row in rows
    ):
        out.write("".join(batch))


def _csv_line_writer() -> Callable[[Iterable[Any]], str]:
    """A function making one CSV row's text, ending in ``\\n``, quoted as ``csv`` quotes it and a carriage return
    too. Before Python 3.13 ``csv`` quotes only the cells that hold the delimiter, the quote or a character of its
    line terminator, and a reader ends the row at an unquoted ``\\r`` (a key ``a\\rb`` made two broken rows):
    the writer ends rows in ``\\r\\n``, so that both are quoted, and each row's ending is written ``\\n``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()[:-2] + "\n"

    return line


def _result_csv_lines(report: Report, has_models: bool) -> Iterator[str]:
    """The CSV rows of a :class:`Report`'s records, as ``csv`` writes :func:`table_rows`' rows: the cells one loss's
    records share (loss, params, reduction, model) and each group's cells are quoted once by ``csv``, and each
    record's numbers written as ``csv`` writes them (:func:`_csv_number`). Cells are quoted after a placeholder
    cell: ``csv`` quotes a lone empty cell (``""``), and not one among others."""
    line = _csv_line_writer()

    def cells(values: list[Any]) -> str:  # ",a,b" for [a, b], quoted as inside a row
        return line(["", *values])[:-1]

    group_cells = _csv_group_cells(report.by)
    shared: dict[tuple[int, str, str, str | None], tuple[str, str]] = {}
    groups: dict[int, str] = {}  # a group's key dict is shared by its records (finalize.plain_keys)
    no_group = "," * len(report.by)
    head = tail = ""
    last: tuple[int, str, str, str | None] | None = None
    for record in report.results:
        key = (id(record.params), record.loss, record.reduction, record.model)
        if key != last:  # a loss's records come one after another
            parts = shared.get(key)
            if parts is None:
                loss = cells([record.loss, compact_params(record.params), record.reduction])[1:] + ","
                parts = shared[key] = (loss, cells([record.model]) if has_models else "")
            (head, tail), last = parts, key
        group = record.group
        if group is None:
            group_text = no_group
        else:
            group_text = groups.get(id(group), "")
            if not group_text:
                group_text = groups[id(group)] = group_cells(group)
        value, ci = record.value, record.ci
        if ci is None and type(value) is float and type(record.n) is int:
            numbers = f"{value!r},{record.n},,"
        else:
            low, high = (None, None) if ci is None else (ci.get("low"), ci.get("high"))
            numbers = ",".join([_csv_number(value), _csv_number(record.n), _csv_number(low), _csv_number(high)])
        yield f"{head}{numbers}{tail}{group_text}\n"


def _csv_number(value: Any) -> str:
    """A number's cell as ``csv`` writes it: ``repr`` for floats, ``str`` otherwise, empty for ``None``."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _batches(items: Iterator[Any]) -> Iterator[list[Any]]:
    """``items`` in lists of :data:`_WRITE_BATCH`: a few calls on the output stream, little text held at once."""
    while batch := list(itertools.islice(items, _WRITE_BATCH)):
        yield batch


def _csv_group_cells(by: list[str]) -> Callable[[dict[str, Any]], str]:
    """A function giving the text of a group's cells in a CSV row, ``,a,b``. A missing key is an empty cell and an
    empty text key a quoted one, ``""``, as PostgreSQL, DuckDB and polars write and read them (both were empty
    cells: two groups written alike). Booleans and lists are written as :func:`format_value` has them."""
    line = _csv_line_writer()

    def cell(value: Any) -> str:
        if value == "" and isinstance(value, str):
            return ',""'
        return line(["", format_value(value) if isinstance(value, bool | list | tuple) else value])[:-1]

    return lambda group: "".join([cell(group.get(column)) for column in by])


def _missing_shown(value: Any) -> Any:
    """A Markdown group cell: a missing key, the empty text and a text with space at either end as :func:`key_text`
    writes them (Markdown trims a cell's edges: ``a``, ``a `` and ``" "`` read as ``a``, ``a`` and the overall
    result's empty cell)."""
    return key_text(value) if value is None or isinstance(value, str) else value


def _markdown_cell(text: str) -> str:
    """One table cell: control characters escaped as in messages (a newline would end the row), ``|`` too, and the
    text's own backslashes (``a\\|b`` would show as ``a|b``: the backslash taken as escaping the pipe's escape).
    ``*`` and backquotes are escaped as well: a composite's ``0.7*mse+0.3*mae`` showed as 0.7 *mse+0.3* mae in
    italics (``*`` emphasises inside words), and a backquote starts a code span."""
    cell = escaped(text.replace("\\", "\\\\")).replace("|", "\\|")
    return cell.replace("*", "\\*").replace("`", "\\`")


def markdown_table(header: list[str], rows: Iterable[list[Any]]) -> list[str]:
    """The lines of a Markdown table; an empty cell for ``None``, other values as :func:`format_value` writes them."""
    lines = ["| " + " | ".join(map(_markdown_cell, header)) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = ["" if cell is None else _markdown_cell(format_value(cell)) for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def csv_text(header: list[str], rows: Iterable[list[Any]]) -> str:
    """A header and rows as CSV text (``lossctl list`` and ``suggest``)."""
    line = _csv_line_writer()
    return "".join(map(line, [header, *rows]))


def markdown_text(header: list[str], rows: Iterable[list[Any]]) -> str:
    """A header and rows as a Markdown table (``lossctl list`` and ``suggest``)."""
    return "\n".join(markdown_table(header, rows)) + "\n"


def to_markdown(report: AnyReport) -> str:
    """The results table, then with ``--by`` a table of each loss's gap and worst group (as the rich table prints
    them), then the checks. A group's missing key is ``(missing)`` and an empty text key ``""``, as the gaps and the
    rich table write them: an empty cell is the overall result's."""
    has_models, by = bool(report.models), report.by
    lines = markdown_table(_header(report, has_models, by), _rows(report, has_models, by, _missing_shown))
    gaps = report.gaps()
    if gaps:
        gap = "gap of the deltas" if isinstance(report, CompareReport) else "gap"
        lines += ["", *markdown_table(["loss", gap, "worst group"], [list(row) for row in gaps])]
    for check in report.checks:
        verdict = "passed" if check.passed else "FAILED"
        named = _markdown_cell(check.named())
        lines.append(f"\n- check {_code_span(escaped(check.expr))}: {named} = {check.shown_value()} ({verdict})")
    return "\n".join(lines) + "\n"


def _code_span(text: str) -> str:
    """``text`` as a Markdown code span: fenced by one more backquote than its longest run of them, and padded
    with a space where it starts or ends with one (CommonMark 6.1). A model named ``a`b`` ended a one-backquote
    span early."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _write_parquet(report: AnyReport, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    header, rows = table_rows(report)
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    if isinstance(next((record.group for record in report.results if record.group is not None), None), PlainKey):
        first = len(header) - len(report.by)
        for position, column in enumerate(report.by, start=first):  # the keys as read, not as JSON writes them
            columns[position] = tuple(_key_as_read(record.group, column) for record in report.results)
    # The numeric columns keep their type when every value is null (no interval, no relative delta): the schema
    # of a results file does not change from run to run.
    types = {name: pa.float64() for name in _FLOAT_COLUMNS} | {"n": pa.int64()}
    table = pa.table(
        {name: _column(list(values), types.get(name)) for name, values in zip(header, columns, strict=True)}
    )
    file = open_for_arrow(path)
    try:
        pq.write_table(table, file or path)
    finally:
        if file is not None:
            file.close()


def _key_as_read(group: dict[str, Any] | None, column: str) -> Any:
    return None if group is None else (group.raw if isinstance(group, PlainKey) else group)[column]


def _column(values: list[Any], kind: Any) -> Any:
    """One Parquet column: of ``kind``, else of the type Arrow infers from the values, or ``uint64`` for a key of
    unsigned integers past ``int64``'s range (2^63 and above), which Arrow infers as ``int64`` and fails on. A key
    of nanosecond timestamps, durations or times of day (pandas' ``Timestamp`` and ``Timedelta``, as Arrow reads
    them, and :class:`~lossctl.keys.NanoTime`) is of nanoseconds: from the objects alone Arrow infers microseconds,
    and 00:00:00.000000001 and ...002 were both 00:00:00."""
    import pyarrow as pa

    from lossctl.keys import NanoTime, arrow_values

    first = next((value for value in values if value is not None), None)
    if kind is None and isinstance(first, NanoTime):
        return arrow_values(values, pa.time64("ns"))
    if kind is None and type(first).__module__.startswith("pandas") and type(first).__name__ in _PANDAS_TIMES:
        import pandas as pd  # loaded already: the keys are its objects

        return pa.array(pd.Series(values, dtype=object).infer_objects())
    try:
        return pa.array(values, type=kind)
    except (OverflowError, pa.ArrowInvalid):
        if kind is None and all(value is None or (type(value) is int and value >= 0) for value in values):
            return pa.array(values, type=pa.uint64())
        raise


_PANDAS_TIMES = ("Timestamp", "Timedelta")
_FLOAT_COLUMNS = ("value", "ci_low", "ci_high", "baseline", "candidate", "delta", "relative_delta")


_TEXT_WRITERS: dict[str, Callable[[AnyReport], str]] = {
    ".json": to_json,
    ".csv": to_csv,
    ".md": to_markdown,
}
OUTPUT_EXTENSIONS = (*_TEXT_WRITERS, ".parquet")


# Each format written to a file, and its extension.
_FORMAT_SUFFIXES = {"json": ".json", "csv": ".csv", "markdown": ".md", "parquet": ".parquet"}


def format_of(path: str) -> str:
    """The format an output file name asks for: ``json``, ``csv``, ``markdown`` or ``parquet``."""
    return {suffix: name for name, suffix in _FORMAT_SUFFIXES.items()}[Path(path).suffix.lower()]


def has_output_extension(path: str) -> bool:
    return Path(path).suffix.lower() in OUTPUT_EXTENSIONS


def check_output_extension(path: str) -> None:
    if not has_output_extension(path):
        flag, keyword = "--format json, csv or markdown", "format='json', 'csv', 'markdown' or 'parquet'"
        formats = flag if flags_spelled() else keyword
        raise UsageError(
            f"cannot tell the format of '{show_name(path)}' from its extension; use one of "
            f"{', '.join(OUTPUT_EXTENSIONS)}, or give {formats}"
        )


def check_destination(path: str, output_format: str | None, inputs: list[str]) -> None:
    """Refuse a results file (``--output``) that cannot or must not be written (:func:`check_output_path`),
    or a format contradicting its extension (``--format csv -o r.json``, ``write("r.json", format="csv")``); a
    name without a known extension needs a format that is a file's (not the table)."""
    if has_output_extension(path):
        implied = format_of(path)
        if output_format is not None and output_format != implied:
            raise UsageError(
                f"{option('format', output_format)} contradicts {option('output', keyword='path')} "
                f"'{show_name(path)}', which writes {implied} (the extension chooses the format)"
            )
    elif output_format is None or output_format == "table":
        check_output_extension(path)
    check_output_path(path, inputs, option("output", keyword="path"))


def _input_files(given: str) -> list[tuple[str, Path]]:
    """The files an input argument reads, named as messages show them: the file, a directory's files, a glob's."""
    path = Path(given)
    if path.is_dir():
        return [(str(file), file) for file in path.iterdir() if file.is_file()]
    if path.exists():
        return [(given, path)]
    return [(file, Path(file)) for file in glob.glob(given, recursive=True)]


def check_output_path(path: str, inputs: list[str], writer: str) -> None:
    """Refuse a path lossctl cannot or must not write (an input file, a missing directory) before any work.
    ``writer``: the option writing ``path`` as the caller spells it (``--per-sample``), named by the message about an
    input file it would overwrite (which quotes the input, not ``path``)."""
    from lossctl.io.remote import check_output, is_remote

    if path.endswith(("/", os.sep)):  # Path() (and an object store) would drop the slash and write a file of that name
        raise UsageError(f"output path '{show_name(path)}' ends with '/', so it names a directory; give a file name")
    if is_remote(path):  # an object store: its package, and the names, can be checked before the upload
        check_output(path)
        return check_not_inside_inputs(path, inputs, writer)
    check_name(path)
    target = Path(path)
    if target.is_file():
        for given in inputs:
            for name, file in _input_files(given) if given != "-" else []:
                if os.path.samefile(target, file):
                    raise UsageError(f"refusing to overwrite the input file '{show_name(name)}' with {writer}")
    if target.is_dir():
        raise UsageError(f"output path '{show_name(path)}' is a directory")
    if target.is_file() and not os.access(target, os.W_OK):  # as a shell's > refuses it; the rename would not
        raise InputError(f"cannot write '{show_name(path)}': the file is read-only")
    check_folder(path)
    check_not_inside_inputs(path, inputs, writer)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_report(report: AnyReport, path: str, output_format: str | None = None) -> None:
    """Write ``report`` to ``path`` in the format its extension names, else in ``output_format`` (``json``,
    ``csv``, ``markdown``, ``parquet``), atomically."""
    suffix = Path(path).suffix.lower() if has_output_extension(path) else _FORMAT_SUFFIXES[output_format or ""]
    with collector_paused():  # the rows of a million groups' records
        if suffix == ".parquet":
            write_atomic(path, lambda tmp: _write_parquet(report, tmp))
        else:
            text = _TEXT_WRITERS[suffix](report)
            write_atomic(path, lambda tmp: _write_text(tmp, text))
