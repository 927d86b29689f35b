"""The rich table for people; the only module besides ``cli.py`` that imports rich.

Every piece of data shown (column names, group values, labels, model names, paths) goes through :func:`_text`: its
control characters are shown escaped, and a very long value cut, as in error messages, so that a value holding an
escape sequence cannot drive the terminal, and rich markup in it is shown literally; the consoles
(:func:`terminal`) leave ``:name:`` emoji codes as typed.
"""

from __future__ import annotations

import decimal
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.table import Table

from lossctl import interrupts
from lossctl.distribution import sparkline
from lossctl.report import AnyReport, Check, CompareReport, Report, Result, format_value, group_headers, key_text
from lossctl.text import count, percent, show_name

if TYPE_CHECKING:
    from lossctl.registry import LossSpec
    from lossctl.suggest import Advice


def terminal(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that shows text as given: rich replaces ``:name:`` emoji codes by default,
    which showed a group ``:smile:`` as a smiling face and ``:thumbs_up:`` as a thumb.

    ``COLUMNS=0`` is no width, as for :func:`shutil.get_terminal_size`: rich took it as a width of 0 and printed
    nothing at all (``lossctl list``, ``suggest``) or no title line (``eval``). A ``TERM=dumb`` terminal (Emacs'
    shell) has its width too: rich took it as 80 columns whatever ``COLUMNS`` and the terminal said, so in a
    narrower window every line of the table wrapped.

    ``NO_COLOR`` set and not empty (no-color.org) is no escape sequence at all, over ``FORCE_COLOR`` too: rich drops
    only the colours, and went on writing bold and dim (``\\x1b[1m``) to a terminal, or a pipe, asked for none."""
    plain = os.environ.get("NO_COLOR", "") != ""
    console = Console(stderr=stderr, emoji=False, color_system=None if plain else "auto")
    if console.width < 1 or console.is_dumb_terminal:
        import shutil

        console.size = shutil.get_terminal_size()  # both: a dumb terminal's width alone rich leaves at 80
    return console


# The significant digits that tell every two float64 apart.
_ALL_DIGITS = 17
# The widest number _number prints ("-7.1520e+04"), and the histogram's width (12 bins).
_NUMBER_WIDTH = 11
_HISTOGRAM_WIDTH = 20
# The fewest cells a folding column (a summary, a reason) is given when the console is narrower.
_FOLDED_WIDTH = 12


def _text(value: object) -> str:
    """Data as table text, as messages quote it (:func:`~lossctl.text.show_name`: control characters escaped, a
    value longer than 1,000 characters cut in its middle), rich markup made literal. A 100 KB group value made
    every line of the table 100 KB wide, borders included: a megabyte of output for a table of five rows."""
    return escape(show_name(value))


def _key(value: object) -> str:
    """A group's key as table text (:func:`key_text`: ``(missing)``, ``true``); the text ``all`` quoted, ``"all"``,
    as the overall row's cell reads ``all`` (dimmed, which a table without colour does not show)."""
    return _text('"all"' if isinstance(value, str) and value == "all" else key_text(value))


def _number(value: float, digits: int = 6) -> str:
    """A value with ``digits`` significant digits, in exponent form beyond [1e-4, 1e6) with one fewer (the exponent
    takes their room: ``2.2204e-16``), all of them from :data:`_ALL_DIGITS` on: at 17 the exponent form had 16, and
    1e-05 and the float after it both read ``1.000000000000000e-05``, the check ``mae>1e-05`` of the latter
    ``mae = 1.000000000000000e-05 FAILED``."""
    if value == 0 or 1e-4 <= abs(value) < 1e6:
        return f"{value:.{digits}g}"
    return f"{value:.{digits - 1 if digits >= _ALL_DIGITS else digits - 2}e}"


def _told_apart(
    values: Sequence[float], fewest: int = 6, form: Callable[[float, int], str] = _number, most: int = _ALL_DIGITS
) -> list[str]:
    """``values`` read side by side (the models' values of a loss, a baseline and its candidate, an interval's
    bounds) as ``form`` writes them with ``fewest`` significant digits, with as many more digits (up to ``most``)
    as it takes for values that differ not to read the same: 0.1234561 and 0.1234564 both read ``0.123456``, two
    models shown equal, a candidate equal to its baseline but ``worse``, and a narrow interval of a large run
    ``0.5 - 0.5``. An interval's bounds get 4 more digits at most: beyond, they differ by rounding alone."""
    for digits in range(fewest, most + 1):
        shown = [form(value, digits) for value in values]
        if len(set(shown)) == len(set(values)):
            break
    return shown


def _signed(value: float, digits: int) -> str:
    """A delta with its sign and ``digits`` significant digits (``+0.0123``, ``-2.305``)."""
    return f"{value:+.{digits}g}"


def _values_shown(results: Sequence[Result]) -> dict[int, str]:
    """Each result's value as the table shows it (by ``id``): the models' values of one loss and group
    :func:`_told_apart`, whether they stand side by side or one model a row."""
    alike: dict[tuple[str, str], list[Result]] = {}
    for result in results:
        alike.setdefault((result.label, repr(result.group)), []).append(result)
    shown: dict[int, str] = {}
    for same in alike.values():
        shown.update(zip(map(id, same), _told_apart([result.value for result in same]), strict=True))
    return shown


def _params(params: dict[str, object]) -> str:
    """Parameters as the command line writes them (``from_logits=false``, ``class_weight=1,2,0.5``), not as Python
    does (``False``, ``(1.0, 2.0, 0.5)``); a float as the table's numbers are."""
    return " ".join(f"{k}={_param(v)}" for k, v in params.items())


def _param(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(_param(item) for item in value)
    return _number(value) if isinstance(value, float) else format_value(value)


# compare's value columns, as the table heads them.
_COMPARED = ("baseline", "candidate", "delta", "relative", "delta interval", "verdict")


def render_comparison(report: CompareReport, console: Console) -> None:
    """Per loss (and candidate model, and group): both values, the delta, the relative delta, its interval and the
    verdict; then the gaps of the per-group deltas and the checks."""
    base, cand = report.input["baseline"], report.input["candidate"]
    if "model" in base:
        models = ", ".join(_text(model) for model in cand["models"])
        title = f"[bold]{_text(base['path'])}[/]: {models} vs {_text(base['model'])} (baseline)"
    else:
        title = f"[bold]{_text(base['path'])}[/] (baseline) vs [bold]{_text(cand['path'])}[/] (candidate)"
    _line(console, f"{title}  {count(base['rows_used'], 'row')}")
    with_ci = any(c.ci for c in report.results)
    table = Table(header_style="bold")
    table.add_column("loss", style="cyan", no_wrap=True)
    if report.models:
        table.add_column("model", no_wrap=True)
    for header in group_headers(report, _COMPARED):  # --by relative: group.relative
        table.add_column(_text(header), no_wrap=True)
    for name in _COMPARED[:4]:
        table.add_column(name, justify="right", no_wrap=True)
    if with_ci:
        table.add_column(_COMPARED[4], justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    colours = {"better": "green", "worse": "bold red", "same": "dim"}
    previous = None
    has_models = bool(report.models)  # a pass over the results: once, not per row
    for c in report.results:
        if report.by and previous is not None and (c.request, c.model) != previous:
            table.add_section()
        previous = (c.request, c.model)
        relative = percent(c.relative_delta) if c.relative_delta is not None else ""
        cells = [_text(c.label), *([_text(c.model or "")] if has_models else [])]
        cells += [_key(c.group[column]) if c.group else "[dim]all[/]" for column in report.by]
        cells += [*_told_apart([c.baseline, c.candidate]), f"{c.delta:+.6g}", relative]
        if with_ci:
            cells.append(" – ".join(_told_apart([c.ci["low"], c.ci["high"]], 4, _signed, 8)) if c.ci else "")
        cells.append(f"[{colours[c.verdict]}]{c.verdict}[/]")
        table.add_row(*cells)
    _print_whole(console, table)
    for label, gap, worst in report.gaps():
        _line(console, f"gap of the deltas {_text(label)}: {_number(gap)} (worst group: {_text(worst)})")
    _print_checks(report, console)


def _line(console: Console, markup: str) -> None:
    """Print one line of text (a title, a gap, a check) as one line, however long: rich would break it at the
    console's width, 80 columns when stdout is not a terminal, so ``| grep FAILED`` found the end of a check without
    its name. A terminal folds it for the eye instead."""
    console.print(markup, highlight=False, soft_wrap=True)


def _print_whole(console: Console, table: Table) -> None:
    """Print ``table`` without cutting a cell: wider than the console when it must be (rich would cut), each
    ``no_wrap`` column as wide as its widest cell, a folding column (``list``'s summary, ``suggest``'s reason) at
    least :data:`_FOLDED_WIDTH` wide. ``list`` and ``suggest`` cut the loss names, their parameters and their specs
    to ``hub…`` in a narrow terminal, and left a reason column with no width at all."""
    from rich.measure import Measurement

    wide = console.options.update_width(1 << 16)
    folding = {id(column): (column.min_width, column.max_width) for column in table.columns if not column.no_wrap}
    for column in table.columns:
        if column.no_wrap:  # a fixed width: rich then measures the column once, not every cell twice more
            widest = max(_cell_width(console, wide, cell) for cell in [column.header, *column.cells])
            column.width = max(column.min_width or 0, widest)
        else:  # measured as that wide, then left to rich (it folds a longer word rather than widen the table)
            column.min_width = column.max_width = _FOLDED_WIDTH
    width = console.width
    needed = Measurement.get(console, wide, table).minimum
    for column in table.columns:
        if not column.no_wrap:
            column.min_width, column.max_width = folding[id(column)]
    console.width = max(width, needed)
    try:
        console.print(table)
    finally:
        console.width = width


def _cell_width(console: Console, options: ConsoleOptions, cell: RenderableType) -> int:
    """The width of ``cell`` unwrapped, as rich measures it (:class:`~rich.measure.Measurement`'s maximum): for text,
    its longest line's cells, the markup parsed once, without rich's padding and measuring objects around each."""
    from rich.cells import cell_len
    from rich.measure import Measurement
    from rich.text import Text

    if not isinstance(cell, str):
        return Measurement.get(console, options, cell).maximum
    lines = Text.from_markup(cell, emoji=False).plain.splitlines()
    return max(map(cell_len, lines), default=0)


def _print_checks(report: AnyReport, console: Console) -> None:
    """One line per gate, its value as Markdown and the stderr notice write it (:meth:`Check.shown_value`: every digit,
    compare's relative checks as percents): rounded as the table's cells are, ``mse>704.8974`` read
    ``mse = 704.897 FAILED``, a value on the other side of the threshold than the verdict."""
    for check in report.checks:
        mark = "[green]passed[/]" if check.passed else "[bold red]FAILED[/]"
        loss = _text(check.named())
        _line(console, f"check {_text(check.expr)}: {loss} = {_check_value(check)} {mark}")


def _check_value(check: Check) -> str:
    """A ``--fail-if`` check's value as the table's numbers are, with the digits its verdict needs."""
    number = check.value
    if check.threshold is not None or number is None:
        return check.shown_value()
    return check.fitted(lambda digits: _number(number, digits), 6)


def _distribution_cells(summary: dict[str, Any] | None) -> list[str]:
    if not summary:
        return ["", "", "", "", ""]
    bars = f"[magenta]{sparkline(summary['histogram'])}[/]"
    return [_number(summary["p50"]), _number(summary["p90"]), _number(summary["p99"]), _number(summary["max"]), bars]


def render_report(report: AnyReport, console: Console) -> None:
    """The report as a table: an evaluation's values, or a comparison's deltas."""
    if isinstance(report, CompareReport):
        render_comparison(report, console)
        return
    render_evaluation(report, console)


def _header(report: Report) -> str:
    info = report.input
    rows = count(info["rows_used"], "row") + (f" ({info['rows_dropped']} dropped)" if info["rows_dropped"] else "")
    bound = [
        f"{role}={_text(','.join(names))}" for role, names in report.columns.items() if role != "models"
    ]  # the models' columns are the table's headers
    return f"[bold]{_text(info['path'])}[/]  {rows}  [dim]{'  '.join(bound)}[/]"


def _interval_header(report: Report) -> str:
    """``95% interval``, the level in full (``97.5%``, ``99.9%``, ``99.99999%``): its digits with the point moved
    two places, not ``level * 100`` rounded to 6 digits (``:g``), which read --ci 0.9999999 as ``100% interval``."""
    level = next(r.ci["level"] for r in report.results if r.ci)
    return f"{decimal.Decimal(repr(level)).scaleb(2).normalize():f}% interval"


def _interval(ci: dict[str, float] | None) -> str:
    return " – ".join(_told_apart([ci["low"], ci["high"]], most=10)) if ci else ""


def _shown_params(result: Result) -> str:
    # Unset optional parameters (None, e.g. class_weight) are left out for a person; JSON and CSV list them.
    return _params({k: v for k, v in result.params.items() if v is not None})


def _table_width(columns: Sequence[Sequence[str]]) -> int:
    """The width a rich table needs to show every cell whole: the widest cell of each column (markup aside),
    plus rich's padding and borders."""
    from rich.text import Text

    widths = [max(Text.from_markup(cell, emoji=False).cell_len for cell in column) for column in columns]
    return sum(widths) + 3 * len(widths) + 1


def _distribution_columns(report: Report, console: Console) -> tuple[bool, bool]:
    """Whether the quantile columns, and then the histogram, fit the console: numbers are never cut, so they are
    shown only when every column has its full width (the histogram goes first)."""
    overall = [r for r in report.results if r.group is None]
    if report.by or report.models or any(r.ci for r in report.results) or not any(r.distribution for r in overall):
        return False, False
    columns = [
        ["loss", *(_text(r.label) for r in overall)],
        ["value", "x" * _NUMBER_WIDTH],
        *([name, *(cells[k] for cells in (_distribution_cells(r.distribution) for r in overall))]
          for k, name in enumerate(("p50", "p90", "p99", "max"))),
        ["params", *(_shown_params(r) for r in overall)],
    ]  # fmt: skip
    needed = _table_width(columns)
    return console.width >= needed, console.width >= needed + _HISTOGRAM_WIDTH + 3


def render_evaluation(report: Report, console: Console) -> None:
    """One row per loss (and group), one value column per model, with intervals and per-row quantiles that fit."""
    _line(console, _header(report))
    if report.models:
        _render_models(report, console)
    else:
        _render_values(report, console)
    for label, gap, worst in report.gaps():
        _line(console, f"gap {_text(label)}: {_number(gap)} (worst group: {_text(worst)})")
    _print_checks(report, console)


def _start_table(report: Report) -> Table:
    """The loss column and, with ``--by``, the group and row-count columns, each as wide as its widest value."""
    table = Table(header_style="bold")
    table.add_column("loss", style="cyan", no_wrap=True, min_width=max(len(_text(r.label)) for r in report.results))
    for column, header in zip(report.by, group_headers(report), strict=True):
        shown = [len(_key(r.group[column])) if r.group else 3 for r in report.results]
        table.add_column(_text(header), no_wrap=True, min_width=max(len(_text(header)), *shown))
    if report.by:
        table.add_column("n", justify="right", no_wrap=True)
    return table


def _group_cells(report: Report, result: Result) -> list[str]:
    cells = [_key(result.group[c]) if result.group else "[dim]all[/]" for c in report.by]
    return cells + ([str(result.n)] if report.by else [])


def _render_values(report: Report, console: Console) -> None:
    """One row per result: the loss, its group, its model, the value (and interval, and quantiles that fit), and
    the parameters when there is room for them (the label already names the parameters that were set)."""
    with_ci = any(result.ci for result in report.results)
    quantiles, histogram = _distribution_columns(report, console)
    table = _start_table(report)
    if report.models:
        table.add_column("model", no_wrap=True, min_width=max(len(model) for model in report.models))
    table.add_column("value", justify="right", style="bold", no_wrap=True, min_width=_NUMBER_WIDTH)
    if with_ci:
        table.add_column(_interval_header(report), justify="right", no_wrap=True)
    if quantiles:
        for name in ("p50", "p90", "p99", "max"):
            table.add_column(name, justify="right", no_wrap=True)
    if histogram:
        table.add_column("per-row distribution", no_wrap=True)
    rows = []
    has_models = bool(report.models)  # a pass over the results: once, not per row
    values = _values_shown(report.results)
    for result in report.results:
        cells = [_text(result.label), *_group_cells(report, result)]
        cells += [_text(result.model or "")] if has_models else []
        cells.append(values[id(result)])
        cells += [_interval(result.ci)] if with_ci else []
        cells += _distribution_cells(result.distribution)[: 4 + histogram] if quantiles else []
        rows.append((result, cells))
    headers = [str(column.header) for column in table.columns]
    columns = list(zip(headers, *(cells for _, cells in rows), strict=True))
    value = headers.index("value")
    columns[value] = (*columns[value], "x" * _NUMBER_WIDTH)  # the column's minimum width
    params = ["params", *(_shown_params(result) for result in report.results)]
    with_params = _table_width([*columns, params]) <= console.width
    if with_params:
        table.add_column("params", style="dim", no_wrap=True)
    previous = None
    for result, cells in rows:
        if report.by and previous is not None and result.request is not previous:
            table.add_section()
        previous = result.request
        table.add_row(*cells, *([_shown_params(result)] if with_params else []))
    _print_whole(console, table)


def _render_models(report: Report, console: Console) -> None:
    """Models side by side: one value column (and interval column) per model, when that fits the console and no
    model is named as another column (a model 'n' or 'params' beside the columns ``n`` and ``params`` read as one);
    else one row per model, so that no number is cut and each header names one thing."""
    with_ci = any(result.ci for result in report.results)
    columns = [["loss", *(_text(r.label) for r in report.results)]]
    columns += [
        [_text(header), *(_key(r.group[column]) if r.group else "all" for r in report.results)]
        for column, header in zip(report.by, group_headers(report), strict=True)
    ]
    columns += [["n", *(str(r.n) for r in report.results)]] if report.by else []
    headers = {column[0] for column in columns} | {"params", *([_interval_header(report)] if with_ci else [])}
    values = _values_shown(report.results)
    for model in report.models:
        columns.append(
            [_text(model), "x" * _NUMBER_WIDTH, *(values[id(r)] for r in report.results if r.model == model)]
        )
        if with_ci:
            columns.append([_interval_header(report), *(_interval(r.ci) for r in report.results if r.model == model)])
    if any(_text(model) in headers for model in report.models) or (
        _table_width([*columns, ["params", *(_shown_params(r) for r in report.results)]]) > console.width
    ):
        _render_values(report, console)
        return
    table = _start_table(report)
    for model in report.models:
        table.add_column(_text(model), justify="right", style="bold", no_wrap=True, min_width=_NUMBER_WIDTH)
        if with_ci:
            table.add_column(_interval_header(report), justify="right", no_wrap=True)
    table.add_column("params", style="dim", overflow="fold")
    rows: dict[tuple[str, str], dict[str | None, Result]] = {}
    for result in report.results:
        rows.setdefault((result.label, repr(result.group)), {})[result.model] = result
    previous = None
    for by_model in rows.values():
        first = next(iter(by_model.values()))
        if report.by and previous is not None and first.request is not previous:
            table.add_section()
        previous = first.request
        cells = [_text(first.label), *_group_cells(report, first)]
        for model in report.models:
            found = by_model.get(model)
            cells.append(values[id(found)] if found else "")
            if with_ci:
                cells.append(_interval(found.ci) if found else "")
        table.add_row(*cells, _shown_params(first))
    console.print(table)


def render_losses(specs: list[LossSpec], console: Console) -> None:
    """The registry by task: each loss with its aliases under its name, its roles, its parameters one per line as
    the command line writes them (``alpha=none``)."""
    table = Table(header_style="bold")
    table.add_column("loss", no_wrap=True)
    table.add_column("roles", no_wrap=True)
    table.add_column("params", no_wrap=True)
    table.add_column("summary", ratio=1, overflow="fold")  # whatever width is left, wrapped: never cropped
    task = None
    for spec in specs:
        if spec.task != task:
            if task is not None:
                table.add_section()
            task = spec.task
            table.add_row(f"[bold magenta]{task}[/]", "", "", "")
        # a plugin's words are data: shown through _text like the rest (no escape sequence reaches the terminal)
        name = f"[cyan]{_text(spec.name)}[/]" + "".join(f"\n  [dim]= {_text(alias)}[/]" for alias in spec.aliases)
        roles = "\n".join(_text(role.name) + ("[dim]*[/]" if role.shape == "vector" else "") for role in spec.roles)
        params = "\n".join(_text(f"{p.name}={_short(format_value(p.default))}") for p in spec.params)  # never cut
        table.add_row(name, roles, params, _text(spec.summary))
    _print_whole(console, table)
    _line(console, "[dim]roles marked * take several values per row (K columns, a list column)[/]")


def _short(value: str) -> str:
    """A long float default in the list (``eps=2.220446049250313e-16``) as 4 significant digits (``2.22e-16``),
    so the summaries keep their width at 80 columns; ``describe`` shows the exact value."""
    try:
        return f"{float(value):.4g}" if len(value) > 10 else value
    except ValueError:
        return value


def render_advice(advice: Advice, console: Console) -> None:
    from lossctl.report import format_value

    # as the command line writes values (counts=true), numbers to the table's precision
    # label values are data: through _text, as every value from the file
    facts = "  ".join(
        f"{k}={_number(v) if isinstance(v, float) else _text(format_value(v))}" for k, v in advice.facts.items()
    )
    _line(console, f"[bold]task:[/] {advice.task}  [dim]{facts}[/]")
    table = Table(header_style="bold")
    table.add_column("loss", style="cyan", no_wrap=True)
    table.add_column("why", overflow="fold")
    for suggestion in advice.suggestions:
        table.add_row(suggestion.spec, _text(suggestion.reason))  # a reason may name a column
    _print_whole(console, table)


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
            console=terminal(stderr=True),
            transient=True,
        )
        self._task: Any = None

    def __call__(self, rows: int, total: int | None) -> None:
        elapsed = self._clock() - self._start
        if self._task is None:
            if elapsed < self._delay:
                return
            interrupts.restore_terminal = b"\r\x1b[2K\x1b[?25h"
            self._progress.start()
            self._task = self._progress.add_task("rows", total=total, rate="")
        rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        self._progress.update(self._task, completed=rows, rate=rate)

    def close(self) -> None:
        if self._task is not None:
            self._progress.stop()
            interrupts.restore_terminal = b""
