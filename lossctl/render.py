"""The rich table for people; the only module besides ``cli.py`` that imports rich."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table


if TYPE_CHECKING:
    from lossctl.registry import LossSpec
    from lossctl.report import Report


def _number(value: float) -> str:
    return f"{value:.6g}" if value == 0 or 1e-4 <= abs(value) < 1e6 else f"{value:.4e}"


def _params(params: dict[str, object]) -> str:
    return " ".join(f"{k}={_number(v) if isinstance(v, float) else v}" for k, v in params.items())


def render_report(report: Report, console: Console) -> None:
    info = report.input
    rows = f"{info['rows_used']} rows" + (f" ({info['rows_dropped']} dropped)" if info["rows_dropped"] else "")
    columns = "  ".join(f"{role}={','.join(names)}" for role, names in report.columns.items())
    console.print(f"[bold]{info['path']}[/]  {rows}  [dim]{columns}[/]", highlight=False)
    table = Table(header_style="bold")
    table.add_column("loss", style="cyan", no_wrap=True)
    for column in report.by:
        table.add_column(column)
    table.add_column("value", justify="right", style="bold")
    table.add_column("params", style="dim")
    for result in report.results:
        group = [str((result.group or {}).get(c, "all")) for c in report.by]
        table.add_row(result.label, *group, _number(result.value), _params(result.params))
    console.print(table)
    for check in report.checks:
        mark = "[green]passed[/]" if check.passed else "[bold red]FAILED[/]"
        console.print(f"check {check.expr}: {check.loss} = {_number(check.value)} {mark}", highlight=False)


def render_losses(specs: list[LossSpec], console: Console) -> None:
    table = Table(header_style="bold")
    for name in ("loss", "task", "aliases", "params", "summary"):
        table.add_column(name, style="cyan" if name == "loss" else None, overflow="fold")
    for spec in specs:
        params = ", ".join(f"{p.name}={p.default}" for p in spec.params)
        table.add_row(spec.name, spec.task, ", ".join(spec.aliases), params, spec.summary)
    console.print(table)
