"""The report of a run and its machine-readable forms: JSON (cli.md's schema), CSV, Markdown, Parquet.

Files are written atomically: to a temporary file in the target's directory, then renamed, so a
failed run never leaves a partial file behind.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossctl.errors import InputError, UsageError
from lossctl.io.columns import show_name
from lossctl.outputs import check_name, check_not_inside_inputs
from lossctl.tempfiles import write_atomic

SCHEMA_VERSION = 1


@dataclass
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
    request: Any = field(default=None, repr=False, compare=False)
    distribution: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "params": self.params,
            "reduction": self.reduction,
            "value": self.value,
            "n": self.n,
            "group": self.group,
            "ci": self.ci,
            "signature": self.signature,
        }


@dataclass
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "params": self.params,
            "reduction": self.reduction,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "delta": self.delta,
            "relative_delta": self.relative_delta,
            "ci": self.ci,
            "verdict": self.verdict,
            "n": self.n,
            "group": self.group,
            "signature": self.signature,
        }


@dataclass
class Check:
    """One ``--fail-if`` expression: ``passed`` is false when the condition holds (the gate fails)."""

    expr: str
    loss: str
    value: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"expr": self.expr, "loss": self.loss, "value": self.value, "passed": self.passed}


@dataclass
class Report:
    """Everything a run found. ``notices`` go to stderr, never into the machine formats."""

    version: str
    input: dict[str, Any]
    columns: dict[str, list[str]]
    results: list[Result] | list[Comparison]
    groups: dict[str, Any] | None = None
    checks: list[Check] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(not check.passed for check in self.checks)

    @property
    def by(self) -> list[str]:
        return list(self.groups["by"]) if self.groups else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "lossctl": self.version,
            "input": self.input,
            "columns": self.columns,
            "results": [r.to_dict() for r in self.results],
            "groups": self.groups,
            "checks": [c.to_dict() for c in self.checks],
        }


def format_params(params: dict[str, Any]) -> str:
    """The compact ``key=value;key=value`` form of the CSV ``params`` column."""
    return ";".join(f"{key}={format_value(value)}" for key, value in params.items())


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ",".join(format_value(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def _rows(report: Report) -> tuple[list[str], list[list[Any]]]:
    """The flat table of the CSV, Markdown and Parquet forms (cli.md, "Output")."""
    if report.results and isinstance(report.results[0], Comparison):
        header = [
            "loss",
            "params",
            "reduction",
            "baseline",
            "candidate",
            "delta",
            "relative_delta",
            "ci_low",
            "ci_high",
            "verdict",
            "n",
        ]
        rows = [
            [
                c.loss,
                format_params(c.params),
                c.reduction,
                c.baseline,
                c.candidate,
                c.delta,
                c.relative_delta,
                (c.ci or {}).get("low"),
                (c.ci or {}).get("high"),
                c.verdict,
                c.n,
            ]
            for c in report.results
            if isinstance(c, Comparison)
        ]
        return header, rows
    header = ["loss", "params", "reduction", "value", "n", "ci_low", "ci_high", *report.by]
    rows = []
    for r in report.results:
        if not isinstance(r, Result):
            continue
        ci = r.ci or {}
        group = [(r.group or {}).get(col) for col in report.by]
        rows.append([r.loss, format_params(r.params), r.reduction, r.value, r.n, ci.get("low"), ci.get("high"), *group])
    return header, rows


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"


def to_csv(report: Report) -> str:
    header, rows = _rows(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else format_value(cell) for cell in row])
    return buffer.getvalue()


def _markdown_cell(text: str) -> str:
    """One table cell: control characters escaped as in messages (a newline would end the row), ``|`` too."""
    return show_name(text).replace("|", "\\|")


def to_markdown(report: Report) -> str:
    header, rows = _rows(report)
    lines = ["| " + " | ".join(map(_markdown_cell, header)) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = ["" if cell is None else _markdown_cell(format_value(cell)) for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    for check in report.checks:
        verdict = "passed" if check.passed else "FAILED"
        lines.append(f"\n- check `{show_name(check.expr)}`: {check.loss} = {check.value!r} ({verdict})")
    return "\n".join(lines) + "\n"


def _write_parquet(report: Report, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    header, rows = _rows(report)
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in header]
    table = pa.table({name: pa.array(list(values)) for name, values in zip(header, columns, strict=True)})
    pq.write_table(table, path)


_TEXT_WRITERS: dict[str, Callable[[Report], str]] = {
    ".json": to_json,
    ".csv": to_csv,
    ".md": to_markdown,
}
OUTPUT_EXTENSIONS = (*_TEXT_WRITERS, ".parquet")


def check_output_extension(path: str) -> None:
    if Path(path).suffix.lower() not in OUTPUT_EXTENSIONS:
        raise UsageError(
            f"cannot tell the format of '{path}' from its extension; use one of {', '.join(OUTPUT_EXTENSIONS)}"
        )


def _input_files(given: str) -> list[tuple[str, Path]]:
    """The files an input argument reads, named as messages show them: the file, a directory's files, a glob's."""
    path = Path(given)
    if path.is_dir():
        return [(str(file), file) for file in path.iterdir() if file.is_file()]
    if path.exists():
        return [(given, path)]
    return [(file, Path(file)) for file in glob.glob(given, recursive=True)]


def check_output_path(path: str, inputs: list[str]) -> None:
    """Refuse a path lossctl cannot or must not write (an input file, a missing directory) before any work."""
    check_name(path)
    target = Path(path)
    if target.is_file():
        for given in inputs:
            for name, file in _input_files(given) if given != "-" else []:
                if os.path.samefile(target, file):
                    raise UsageError(f"refusing to overwrite the input file '{name}' with the output")
    if target.is_dir():
        raise UsageError(f"output path '{path}' is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise InputError(f"cannot write '{path}': '{parent}' is not a directory")
    if not parent.is_dir():
        raise InputError(f"cannot write '{path}': directory '{parent}' does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write '{path}': directory '{parent}' is not writable")
    check_not_inside_inputs(path, inputs)


def write_report(report: Report, path: str) -> None:
    """Write ``report`` to ``path`` in the format its extension names, atomically."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        write_atomic(path, lambda tmp: _write_parquet(report, tmp))
    else:
        text = _TEXT_WRITERS[suffix](report)
        write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
