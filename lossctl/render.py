"""The rich table for people; the only module besides ``cli.py`` that imports rich.

Text that comes from the data or the command line (paths, column names, group values, loss labels)
goes through :func:`_text`: its control characters are shown escaped, as in error messages, so that
a group value holding ``\\e[2J`` does not clear the user's screen, and rich's ``[markup]`` in it is
shown as typed rather than interpreted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lossctl.distribution import sparkline
from lossctl.io.columns import show_name

if TYPE_CHECKING:
    from lossctl.registry import LossSpec
    from lossctl.report import Report
    from lossctl.suggest import Advice


# The widest number _number prints ("-7.1520e+04") and the console width the quantile columns need.
_NUMBER_WIDTH = 11
_DISTRIBUTION_WIDTH = 110


def _text(value: object) -> str:
    """Data as table text: control characters escaped (``show_name``), rich markup made literal."""
    return escape(show_name(str(value)))


def _number(value: float) -> str:
    return f"{value:.6g}" if value == 0 or 1e-4 <= abs(value) < 1e6 else f"{value:.4e}"


def _params(params: dict[str, object]) -> str:
    return " ".join(f"{k}={_number(v) if isinstance(v, float) else v}" for k, v in params.items())


def render_comparison(report: Report, console: Console) -> None:
    info = report.input
    console.print(
        f"[bold]{_text(info['baseline']['path'])}[/] (baseline) vs [bold]{_text(info['candidate']['path'])}[/] "
        "(candidate)  "
        f"{info['baseline']['rows_used']} rows",
        highlight=False,
    )
    with_ci = any(c.ci for c in report.results)
    table = Table(header_style="bold")
    for name in ("loss", "baseline", "candidate", "delta", "relative"):
        table.add_column(name, justify="left" if name == "loss" else "right", no_wrap=True)
    if with_ci:
        table.add_column("delta interval", justify="right", no_wrap=True)
    table.add_column("verdict")
    colours = {"better": "green", "worse": "bold red", "same": "dim"}
    for c in report.results:
        relative = f"{c.relative_delta:+.2%}" if c.relative_delta is not None else ""
        cells = [_text(c.label), _number(c.baseline), _number(c.candidate), f"{c.delta:+.6g}", relative]
        if with_ci:
            cells.append(f"{c.ci['low']:+.4g} – {c.ci['high']:+.4g}" if c.ci else "")
        cells.append(f"[{colours[c.verdict]}]{c.verdict}[/]")
        table.add_row(*cells)
    console.print(table)
    _print_checks(report, console)


def _print_checks(report: Report, console: Console) -> None:
    for check in report.checks:
        mark = "[green]passed[/]" if check.passed else "[bold red]FAILED[/]"
        console.print(
            f"check {_text(check.expr)}: {_text(check.loss)} = {_number(check.value)} {mark}", highlight=False
        )


def _distribution_cells(summary: dict[str, Any] | None) -> list[str]:
    if not summary:
        return ["", "", "", "", ""]
    bars = f"[magenta]{sparkline(summary['histogram'])}[/]"
    return [_number(summary["p50"]), _number(summary["p90"]), _number(summary["p99"]), _number(summary["max"]), bars]


def render_report(report: Report, console: Console) -> None:
    if "baseline" in report.input:
        render_comparison(report, console)
        return
    info = report.input
    rows = f"{info['rows_used']} rows" + (f" ({info['rows_dropped']} dropped)" if info["rows_dropped"] else "")
    columns = "  ".join(f"{role}={_text(','.join(names))}" for role, names in report.columns.items())
    console.print(f"[bold]{_text(info['path'])}[/]  {rows}  [dim]{columns}[/]", highlight=False)
    with_ci = any(result.ci for result in report.results)
    table = Table(header_style="bold")
    table.add_column("loss", style="cyan", no_wrap=True)
    for column in report.by:
        table.add_column(_text(column))
    if report.by:
        table.add_column("n", justify="right", no_wrap=True)
    table.add_column("value", justify="right", style="bold", no_wrap=True, min_width=_NUMBER_WIDTH)
    if with_ci:
        level = next(r.ci["level"] for r in report.results if r.ci)
        table.add_column(f"{level:.0%} interval", justify="right", no_wrap=True)
    # Quantiles and histograms for the plain view, when they fit: numbers are never cut to fit a narrow terminal.
    with_distribution = (
        not report.by
        and not with_ci
        and console.width >= _DISTRIBUTION_WIDTH
        and any(result.distribution for result in report.results)
    )
    if with_distribution:
        for name in ("p50", "p90", "p99", "max"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("per-row distribution", no_wrap=True)
    table.add_column("params", style="dim", overflow="fold")
    previous = None
    for result in report.results:
        if report.by and previous is not None and result.request is not previous:
            table.add_section()
        previous = result.request
        cells = [_text(result.label)]
        cells += [_text(result.group[c]) if result.group else "[dim]all[/]" for c in report.by]
        cells += [str(result.n)] if report.by else []
        cells.append(_number(result.value))
        if with_ci:
            cells.append(f"{_number(result.ci['low'])} – {_number(result.ci['high'])}" if result.ci else "")
        if with_distribution:
            cells += _distribution_cells(result.distribution)
        table.add_row(*cells, _params(result.params))
    console.print(table)
    for gap in (report.groups or {}).get("gaps", []):
        worst = ", ".join(f"{k}={v}" for k, v in gap["worst_group"].items())
        console.print(f"gap {_text(gap['loss'])}: {_number(gap['gap'])} (worst group: {_text(worst)})", highlight=False)
    _print_checks(report, console)


def render_losses(specs: list[LossSpec], console: Console) -> None:
    """The registry by task: each loss with its aliases under its name, its parameters one per line."""
    table = Table(header_style="bold")
    table.add_column("loss", no_wrap=True)
    table.add_column("params", no_wrap=True)
    table.add_column("summary", ratio=1, min_width=24)
    task = None
    for spec in specs:
        if spec.task != task:
            if task is not None:
                table.add_section()
            task = spec.task
            table.add_row(f"[bold magenta]{task}[/]", "", "")
        name = f"[cyan]{_text(spec.name)}[/]" + "".join(f"\n  [dim]= {_text(alias)}[/]" for alias in spec.aliases)
        params = "\n".join(_params({p.name: p.default}) for p in spec.params)  # one per line: never cut mid-name
        table.add_row(name, params, _text(spec.summary))
    console.print(table)


def render_advice(advice: Advice, console: Console) -> None:
    facts = "  ".join(f"{k}={_number(v) if isinstance(v, float) else v}" for k, v in advice.facts.items())
    console.print(f"[bold]task:[/] {advice.task}  [dim]{facts}[/]", highlight=False)
    table = Table(header_style="bold")
    table.add_column("loss", style="cyan", no_wrap=True)
    table.add_column("why", overflow="fold")
    for suggestion in advice.suggestions:
        table.add_row(suggestion.spec, suggestion.reason)
    console.print(table)


class ProgressBar:
    """Rows read, rows per second and (when the row count is known) an ETA, on stderr.

    It appears only once the work has taken more than ``delay`` seconds, so quick runs print nothing,
    and it is transient: it disappears when the run ends.
    """

    def __init__(self, delay: float = 1.0) -> None:
        import time

        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._clock = time.monotonic
        self._start = self._clock()
        self._delay = delay
        self._progress = Progress(
            TextColumn("[bold]evaluating"),
            BarColumn(),
            TextColumn("{task.completed:,.0f} rows"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: Any = None

    def __call__(self, rows: int, total: int | None) -> None:
        elapsed = self._clock() - self._start
        if self._task is None:
            if elapsed < self._delay:
                return
            self._progress.start()
            self._task = self._progress.add_task("rows", total=total, rate="")
        rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        self._progress.update(self._task, completed=rows, rate=rate)

    def close(self) -> None:
        if self._task is not None:
            self._progress.stop()
