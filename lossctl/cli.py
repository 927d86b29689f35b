"""The ``lossctl`` command: parse options, call the library, render. The one error boundary.

Library errors carry their exit status (:class:`~lossctl.errors.ExitCode`); :func:`main` turns
them, and Click's usage errors, into one ``error:`` line on stderr. A traceback is shown only
with ``--debug``; an unexpected exception is an internal error (exit 4) the user is asked to report.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
import unicodedata
import warnings
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer
from typer.exceptions import TyperException

from lossctl import __version__
from lossctl.errors import ExitCode, LossctlError, UsageError

if TYPE_CHECKING:
    from lossctl.registry import LossSpec
    from lossctl.render import ProgressBar
    from lossctl.report import Report

app = typer.Typer(
    name="lossctl",
    help="Evaluate loss functions on model predictions stored in files.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain Click help: rich formatting costs 65 ms of imports on every --help
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class ListFormat(str, Enum):
    table = "table"
    json = "json"


class InputFormat(str, Enum):
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"
    arrow = "arrow"
    jsonl = "jsonl"


class Missing(str, Enum):
    error = "error"
    drop = "drop"


class Reduction(str, Enum):
    mean = "mean"
    sum = "sum"


class ConventionName(str, Enum):
    lossctl = "lossctl"
    torch = "torch"
    keras = "keras"
    sklearn = "sklearn"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lossctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Evaluate loss functions on model predictions stored in files."""


def _notice(message: str, quiet: bool) -> None:
    if not quiet:
        sys.stderr.write(f"notice: {message}\n")


def _load_plugins(plugins: list[str]) -> None:
    from lossctl.plugins import load_plugin

    for plugin in plugins:
        load_plugin(plugin)


# The options shared by several commands, declared once (Typer's Annotated idiom).
LossOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--loss", "-l", metavar="LOSS", help="Loss to compute; repeatable, comma lists, inline 'huber:delta=2'."
    ),
]
ParamOpt = Annotated[list[str] | None, typer.Option(metavar="[LOSS.]KEY=VALUE", help="Set a parameter; repeatable.")]
PredOpt = Annotated[str | None, typer.Option(metavar="COLSPEC", help="Prediction column(s).")]
TargetOpt = Annotated[str | None, typer.Option(metavar="COLSPEC", help="Target column(s).")]
WeightOpt = Annotated[str | None, typer.Option(metavar="COL", help="Sample-weight column.")]
ColOpt = Annotated[list[str] | None, typer.Option(metavar="ROLE=COLSPEC", help="Bind any role; repeatable.")]
TargetsOpt = Annotated[str | None, typer.Option(metavar="PATH", help="Take the targets from this second file.")]
OnOpt = Annotated[str | None, typer.Option(metavar="KEY", help="Key column aligning the files (else row order).")]
InputFormatOpt = Annotated[InputFormat | None, typer.Option(help="Override the format guessed from the extension.")]
MissingOpt = Annotated[Missing, typer.Option(help="Missing values: error, or drop those rows.")]
ReductionOpt = Annotated[Reduction, typer.Option(help="mean (weighted with --weight) or sum.")]
ConventionOpt = Annotated[ConventionName, typer.Option(help="Whose definition to reproduce where libraries differ.")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", metavar="PATH", help="Write results to PATH (.json .csv .md .parquet).")
]
BootstrapOpt = Annotated[int, typer.Option(metavar="N", help="Bootstrap replicates for intervals (0: none).")]
CiOpt = Annotated[
    float | None,
    typer.Option(
        metavar="LEVEL",
        help="Confidence level of the intervals (0.95 with --bootstrap; without it, normal-approximation intervals).",
    ),
]
SeedOpt = Annotated[int, typer.Option(metavar="S", help="Seed of the bootstrap.")]
PlotOpt = Annotated[str | None, typer.Option(metavar="PATH", help="Draw the results (.png .svg; needs lossctl[plot]).")]
ChunkRowsOpt = Annotated[
    int | None, typer.Option(metavar="N", help="Rows per chunk when streaming (default: about 512k values).")
]
PluginOpt = Annotated[list[str] | None, typer.Option(metavar="MODULE|FILE.py", help="Load losses from a plugin.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Silence notices and progress.")]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks.")]


@app.command("eval")
def eval_command(
    path: Annotated[
        str,
        typer.Argument(
            metavar="PATH", help="Predictions file (CSV, TSV, Parquet, Arrow, JSONL), directory, glob or -."
        ),
    ],
    loss: LossOpt = None,
    param: ParamOpt = None,
    pred: PredOpt = None,
    target: TargetOpt = None,
    weight: WeightOpt = None,
    col: ColOpt = None,
    targets: TargetsOpt = None,
    on: OnOpt = None,
    input_format: InputFormatOpt = None,
    missing: MissingOpt = Missing.error,
    reduction: ReductionOpt = Reduction.mean,
    convention: ConventionOpt = ConventionName.lossctl,
    output_format: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    fail_if: Annotated[
        list[str] | None, typer.Option(metavar="EXPR", help="Exit 1 if 'LOSS OP NUMBER' holds; repeatable.")
    ] = None,
    by: Annotated[list[str] | None, typer.Option(metavar="COL", help="Add one result per group; repeatable.")] = None,
    per_sample: Annotated[
        str | None, typer.Option(metavar="PATH", help="Write per-row losses (.parquet .csv .jsonl).")
    ] = None,
    bootstrap: BootstrapOpt = 0,
    ci: CiOpt = None,
    seed: SeedOpt = 0,
    plot: PlotOpt = None,
    chunk_rows: ChunkRowsOpt = None,
    plugin: PluginOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compute one or more losses on a predictions file and report them."""
    from lossctl.api import evaluate
    from lossctl.report import check_output_extension, check_output_path

    bar = _progress_bar(quiet)
    _reuse_freed_memory()

    _load_plugins(plugin or [])
    _check_named(output=output, per_sample=per_sample, plot=plot)
    _check_plot(plot)
    inputs = [path, *([targets] if targets else [])]
    if output:
        check_output_extension(output)
    for destination in (output, per_sample):
        if destination:
            check_output_path(destination, inputs)
    if output and per_sample and os.path.abspath(output) == os.path.abspath(per_sample):
        raise UsageError(f"--output and --per-sample both name '{output}'; give each its own file")
    report = evaluate(
        path,
        losses=loss,
        params=param or (),
        pred=pred,
        target=target,
        weight=weight,
        cols=_parse_cols(col or []),
        targets=targets,
        on=on,
        input_format=input_format.value if input_format else None,
        missing=missing.value,
        reduction=reduction.value,
        convention=convention.value,
        fail_if=fail_if or (),
        by=by or (),
        per_sample=per_sample,
        bootstrap=bootstrap,
        ci=ci,
        seed=seed,
        distributions=bool(plot) or (output_format is OutputFormat.table and not output),
        chunk_rows=chunk_rows,
        progress=bar,
        notify=lambda message: _notice(message, quiet),
    )
    if bar:
        bar.close()
    _finish(report, output_format, output, quiet, plot)


def _reuse_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system.

    Every chunk allocates and frees the same few megabytes of NumPy temporaries. By default glibc
    serves blocks that large with fresh ``mmap`` pages and unmaps them on free, so each chunk pays
    the page faults again: measured on ten regression losses over 10M rows, 1.1 s of loss math
    against 0.29 s with the pages kept (PERFORMANCE.md: "touching a fresh GiB costs 0.2-2.8 s").
    Memory stays bounded by the largest chunk's working set. A process-wide setting, so the command
    line makes it, not the library; elsewhere than glibc it does nothing.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    for option in (m_trim_threshold, m_mmap_threshold):
        mallopt(option, 256 * 1024 * 1024)


def _progress_bar(quiet: bool) -> ProgressBar | None:
    """A progress bar on stderr when a person watches it: stderr is a terminal and --quiet is not given."""
    if quiet or not sys.stderr.isatty():
        return None
    from lossctl.render import ProgressBar

    return ProgressBar()


def _check_named(**paths: str | None) -> None:
    """An empty file name (``-o ''``, often an unset shell variable) is an error, never silently no file."""
    for option, value in paths.items():
        if value is not None and not value.strip():
            raise UsageError(f"--{option.replace('_', '-')} needs a file name, got an empty one")


def _check_plot(plot: str | None) -> None:
    if plot:
        from lossctl.plot import check_plot_path

        check_plot_path(plot)


def _finish(report: Report, output_format: OutputFormat, output: str | None, quiet: bool, plot: str | None) -> None:
    """Notices to stderr, results to ``output`` or stdout, the plot, and exit 1 when a gate failed."""
    from lossctl.report import write_report

    for message in report.notices:
        _notice(message, quiet)
    if plot:
        from lossctl.plot import plot_report

        plot_report(report, plot)
        _notice(f"drew {plot}", quiet)
    if output:
        write_report(report, output)
        _notice(f"wrote {len(report.results)} results to {output}", quiet)
    else:
        _print_report(report, output_format)
    if report.failed:
        raise typer.Exit(ExitCode.CHECK_FAILED)


def _parse_cols(options: list[str]) -> dict[str, str]:
    cols: dict[str, str] = {}
    for option in options:
        role, sep, spec = option.partition("=")
        if not sep or not role.strip() or not spec.strip():
            raise UsageError(f"--col expects ROLE=COLSPEC, got '{option}'")
        if role.strip() in cols:
            raise UsageError(f"role '{role.strip()}' is bound twice with --col")
        cols[role.strip()] = spec.strip()
    return cols


def _print_report(report: Report, output_format: OutputFormat) -> None:
    from lossctl import report as formats

    if output_format is OutputFormat.table:
        from rich.console import Console

        from lossctl.render import render_report

        render_report(report, Console())
        return
    writer = {"json": formats.to_json, "csv": formats.to_csv, "markdown": formats.to_markdown}[output_format.value]
    sys.stdout.write(writer(report))


@app.command("compare")
def compare_command(
    baseline: Annotated[str, typer.Argument(metavar="BASELINE", help="The reference model's predictions file.")],
    candidate: Annotated[str, typer.Argument(metavar="CANDIDATE", help="The new model's predictions file.")],
    loss: LossOpt = None,
    param: ParamOpt = None,
    pred: PredOpt = None,
    target: TargetOpt = None,
    weight: WeightOpt = None,
    col: ColOpt = None,
    targets: TargetsOpt = None,
    on: OnOpt = None,
    input_format: InputFormatOpt = None,
    missing: MissingOpt = Missing.error,
    reduction: ReductionOpt = Reduction.mean,
    convention: ConventionOpt = ConventionName.lossctl,
    bootstrap: BootstrapOpt = 0,
    ci: CiOpt = None,
    seed: SeedOpt = 0,
    fail_if_worse: Annotated[
        float | None, typer.Option(metavar="PCT", help="Exit 1 if the candidate is worse by more than PCT percent.")
    ] = None,
    significant: Annotated[bool, typer.Option(help="Count a worse loss only when its interval excludes 0.")] = False,
    plot: PlotOpt = None,
    output_format: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    chunk_rows: ChunkRowsOpt = None,
    plugin: PluginOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The same losses on two prediction files over the same targets, with deltas and paired intervals."""
    from lossctl.compare import compare
    from lossctl.report import check_output_extension, check_output_path

    _load_plugins(plugin or [])
    _check_named(output=output, plot=plot)
    _check_plot(plot)
    _reuse_freed_memory()
    if output:
        check_output_extension(output)
        check_output_path(output, [baseline, candidate, *([targets] if targets else [])])
    report = compare(
        baseline,
        candidate,
        losses=loss,
        params=param or (),
        pred=pred,
        target=target,
        weight=weight,
        cols=_parse_cols(col or []),
        targets=targets,
        on=on,
        input_format=input_format.value if input_format else None,
        missing=missing.value,
        reduction=reduction.value,
        convention=convention.value,
        bootstrap=bootstrap,
        ci=ci,
        seed=seed,
        fail_if_worse=fail_if_worse,
        significant=significant,
        chunk_rows=chunk_rows,
    )
    _finish(report, output_format, output, quiet, plot)


@app.command("suggest")
def suggest_command(
    path: Annotated[str, typer.Argument(metavar="PATH", help="Predictions file.")],
    pred: PredOpt = None,
    target: TargetOpt = None,
    input_format: InputFormatOpt = None,
    output_format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.table,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Inspect the data (task, class balance, outliers, skew) and recommend losses, with the reason for each."""
    from lossctl.suggest import suggest

    advice, notices = suggest(path, pred=pred, target=target, input_format=input_format.value if input_format else None)
    for message in notices:
        _notice(message, quiet)
    if output_format is ListFormat.json:
        document = {
            "schema": 1,
            "lossctl": __version__,
            "input": {"path": path},
            "task": advice.task,
            "facts": advice.facts,
            "suggestions": [s.to_dict() for s in advice.suggestions],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    from rich.console import Console

    from lossctl.render import render_advice

    render_advice(advice, Console())


@app.command("list")
def list_command(
    task: Annotated[str | None, typer.Option(metavar="TASK", help="Only losses of this task.")] = None,
    output_format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.table,
    plugin: PluginOpt = None,
) -> None:
    """The registry: every loss with its task, roles, parameters and defaults."""
    from lossctl.registry import list_losses

    _load_plugins(plugin or [])
    specs = list_losses(task)
    if output_format is ListFormat.json:
        sys.stdout.write(json.dumps([_spec_dict(spec) for spec in specs], indent=2) + "\n")
        return
    from rich.console import Console

    from lossctl.render import render_losses

    render_losses(specs, Console())


def _spec_dict(spec: LossSpec) -> dict[str, object]:
    return {
        "name": spec.name,
        "aliases": list(spec.aliases),
        "task": spec.task,
        "summary": spec.summary,
        "roles": [{"name": r.name, "shape": r.shape} for r in spec.roles],
        "params": [
            {"name": p.name, "type": p.kind, "default": p.default, "domain": p.domain, "doc": p.doc}
            for p in spec.params
        ],
        "reductions": list(spec.aggregate.reductions),
        "per_sample": spec.per_row,
        "follows": spec.follows,
        "conventions": ["lossctl", *spec.conventions],
    }


@app.command("describe")
def describe_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Loss name or alias.")],
    plugin: PluginOpt = None,
) -> None:
    """One loss: formula, parameters, conventions, properties, when to use it."""
    from lossctl.describe import describe

    _load_plugins(plugin or [])
    sys.stdout.write(describe(name))


def _usage_hint(error: TyperException) -> str:
    context = getattr(error, "ctx", None)
    return f"try '{context.command_path if context else 'lossctl'} --help' for help"


def _one_line(message: str) -> str:
    """The message with control characters escaped: names from a file and typed arguments may hold a
    newline (which would break the one-line ``error:``) or an escape sequence (which would drive the terminal)."""
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in message
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = (sys.argv[1:] if argv is None else argv) or ["--help"]
    debug = "--debug" in args
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = app(args=args, prog_name="lossctl", standalone_mode=False)
            code = int(status) if isinstance(status, int) else ExitCode.OK
        except typer.Exit as done:
            code = done.exit_code
        except TyperException as error:  # Typer's own usage errors: unknown option, bad choice...
            sys.stderr.write(f"error: {_one_line(error.format_message())}\n{_usage_hint(error)}\n")
            code = ExitCode.USAGE
        except typer.Abort:
            sys.stderr.write("error: interrupted\n")
            code = 130
        except LossctlError as error:
            if debug:
                traceback.print_exc()
            sys.stderr.write(f"error: {_one_line(str(error))}\n")
            code = error.exit_code
        except BrokenPipeError:
            code = ExitCode.OK
        except Exception as error:  # the boundary: anything else is a bug in lossctl
            if debug:
                traceback.print_exc()
            sys.stderr.write(
                f"error: internal error ({type(error).__name__}: {_one_line(str(error))}); this is a bug in lossctl "
                f"{__version__}, please report it with the command you ran (rerun with --debug for the traceback)\n"
            )
            code = ExitCode.INTERNAL
    for warning in caught:
        sys.stderr.write(f"warning: {warning.message}\n")
    return int(code)


def run() -> None:
    """The console entry point: :func:`main`, then exit without the interpreter's teardown.

    Every file lossctl writes is closed and renamed before ``main`` returns, so after flushing the
    standard streams there is nothing left to clean up; skipping the teardown of NumPy and pyarrow
    saves 25 ms on every run.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):  # the reader went away (lossctl list | head)
            stream.flush()
    os._exit(code)
