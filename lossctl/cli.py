"""The ``lossctl`` command: parse options, call the library, render. The one error boundary.

Library errors carry their exit status (:class:`~lossctl.errors.ExitCode`); :func:`main` turns
them, and Click's usage errors, into one ``error:`` line on stderr. A traceback is shown only
with ``--debug``; an unexpected exception is an internal error (exit 4) the user is asked to report.

Unlike the other modules, this one does not postpone its annotations (no ``from __future__ import annotations``):
Typer reads the commands' parameters from them, and strings it must compile and evaluate twice each (signature,
then type hints), about 200 of them, half of the 10 ms that building the command line took on every run.
"""

import contextlib
import decimal
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import typer
from typer._types import TyperChoice  # the Choice Typer gives an Enum (typer<0.29: pyproject.toml)
from typer.exceptions import TyperException

from lossctl import __version__, tempfiles
from lossctl.destinations import guarded_stderr, guarded_stdout, same_destination
from lossctl.errors import ExitCode, LossctlError, UsageError, spelled_as_flags
from lossctl.memory import tune_allocators
from lossctl.options import (
    CONVENTIONS,
    ENGINES,
    INPUT_FORMATS,
    MISSING_POLICIES,
    OUTPUT_FORMATS,
    REDUCTIONS,
    Options,
    check_level,
    check_run_reduction,
)
from lossctl.text import (
    as_utf8,
    count,
    docstring,
    escaped,
    fraction,
    rounds_to_zero,
    show_name,
    written,
    written_number,
)

if TYPE_CHECKING:
    from lossctl.render import ProgressBar
    from lossctl.report import AnyReport

app = typer.Typer(
    name="lossctl",
    help="Evaluate loss functions on model predictions stored in files.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain Click help: rich formatting costs 65 ms of imports on every --help
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,  # declared below: Typer's own takes no shell name once it can detect one
)


def _choices(name: str, values: tuple[str, ...]) -> Any:
    """A ``str`` Enum whose members are ``values``: Typer shows and checks an enum's values as the choices."""
    return Enum(name, [(value, value) for value in values], type=str)


# Built from the library's constants: the command line offers exactly what the library accepts.
COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")

if TYPE_CHECKING:  # to mypy each is a plain Enum (it cannot follow a generated class); Typer sees the real ones
    CompletionShell: TypeAlias = Enum
    OutputFormat: TypeAlias = Enum
    InputFormat: TypeAlias = Enum
    Missing: TypeAlias = Enum
    Reduction: TypeAlias = Enum
    ConventionName: TypeAlias = Enum
    EngineName: TypeAlias = Enum
else:
    CompletionShell = _choices("CompletionShell", COMPLETION_SHELLS)
    OutputFormat = _choices("OutputFormat", OUTPUT_FORMATS)
    InputFormat = _choices("InputFormat", INPUT_FORMATS)
    Missing = _choices("Missing", MISSING_POLICIES)
    Reduction = _choices("Reduction", REDUCTIONS)
    ConventionName = _choices("ConventionName", CONVENTIONS)
    EngineName = _choices("EngineName", ENGINES)

# The defaults of the library's Options, as the enums' members (a default must be a member for Typer).
MISSING_DEFAULT = Missing(Options.missing)
REDUCTION_DEFAULT = Reduction(Options.reduction)
CONVENTION_DEFAULT = ConventionName(Options.convention)
ENGINE_DEFAULT = EngineName(Options.engine)
TABLE = OutputFormat("table")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lossctl {__version__}")
        raise typer.Exit()


def _install_completion(shell: Enum | None) -> None:
    if shell:
        from typer.completion import install

        try:
            installed, path = install(shell=shell.value, prog_name="lossctl", complete_var="_LOSSCTL_COMPLETE")
        except OSError as error:  # HOME a file, unwritable or on a full disk: a failed write, not a bug
            raise tempfiles.cannot_write(error.filename or "~", error) from None
        typer.echo(f"{installed} completion installed in {path}; it takes effect in a new shell")
        raise typer.Exit()


def _show_completion(shell: Enum | None) -> None:
    if shell:
        from typer.completion import get_completion_script

        typer.echo(get_completion_script(prog_name="lossctl", complete_var="_LOSSCTL_COMPLETE", shell=shell.value))
        raise typer.Exit()


def _examples(*commands: str) -> str:
    """The end of a command's --help: a few commands to copy (Click keeps a ``\\b`` paragraph as it is)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  $ {command}" for command in commands)


@app.callback(epilog=_examples("lossctl eval preds.parquet -l mse,huber:delta=2", "lossctl list --task binary",
                               "lossctl describe focal"))  # fmt: skip
def _root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    install_completion: Annotated[
        CompletionShell | None,
        typer.Option(
            case_sensitive=False,
            callback=_install_completion,
            is_eager=True,
            expose_value=False,
            help="Install shell completion (loss names for -l and describe) for this shell.",
        ),
    ] = None,
    show_completion: Annotated[
        CompletionShell | None,
        typer.Option(
            case_sensitive=False,
            callback=_show_completion,
            is_eager=True,
            expose_value=False,
            help="Print the completion script for this shell.",
        ),
    ] = None,
) -> None:
    """Evaluate loss functions on model predictions stored in files."""


def _notice(message: str, quiet: bool) -> None:
    if not quiet:
        sys.stderr.write(f"notice: {escaped(message)}\n")


def _load_plugins(plugins: list[str], quiet: bool) -> None:
    from lossctl.plugins import load_plugin

    loaded: set[str] = set()  # the modules loaded: one given twice is loaded once, and noted once
    for plugin in plugins:
        module, count = load_plugin(plugin)
        if count == 0 and module not in loaded:  # not an error (it loaded), but its losses will be "unknown"
            _notice(f"plugin '{plugin}' registered no loss (a plugin calls lossctl.register_loss when imported)", quiet)
        loaded.add(module)


def _complete_losses(incomplete: str) -> list[str]:
    """Shell completion of loss names and aliases (the last name of a comma list)."""
    from lossctl.registry import list_losses

    head, comma, last = incomplete.rpartition(",")
    names = [name for spec in list_losses() for name in (spec.name, *spec.aliases)]
    return [head + comma + name for name in names if name.startswith(last.lower())]


def _data_text(text: object) -> str:
    """An option that names columns, models or labels, as the data spells them: in UTF-8 (:func:`as_utf8`), so
    that ``--by grüppe`` under an ASCII locale names the column ``grüppe``. Paths keep the locale's decoding, which
    opens them."""
    return as_utf8(str(text))


# The options shared by several commands, declared once (Typer's Annotated idiom).
PathsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="PATH...",
        help="Predictions file (CSV, TSV, Parquet, Arrow, JSONL), directory, glob or -; several are one dataset.",
    ),
]
LossOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--loss",
        "-l",
        metavar="LOSS",
        autocompletion=_complete_losses,
        help="Loss to compute; repeatable, comma lists, inline 'huber:delta=2' (default: the task's default set).",
    ),
]
ParamOpt = Annotated[list[str] | None, typer.Option(metavar="[LOSS.]KEY=VALUE", help="Set a parameter; repeatable.")]
PredOpt = Annotated[
    str | None,
    typer.Option(metavar="COLSPEC", parser=_data_text, help="Prediction column(s) (default: guessed from the names)."),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(metavar="COLSPEC", parser=_data_text, help="Target column(s) (default: guessed from the names)."),
]
WeightOpt = Annotated[str | None, typer.Option(metavar="COL", parser=_data_text, help="Sample-weight column.")]
ColOpt = Annotated[
    list[str] | None, typer.Option(metavar="ROLE=COLSPEC", parser=_data_text, help="Bind any role; repeatable.")
]
TargetsOpt = Annotated[str | None, typer.Option(metavar="PATH", help="Take the targets from this second file.")]
OnOpt = Annotated[
    list[str] | None,
    typer.Option(
        metavar="KEY",
        parser=_data_text,
        help="Key column aligning the files (else row order); LEFT=RIGHT when the names differ; repeat for a "
        "composite key.",
    ),
]
InputFormatOpt = Annotated[
    InputFormat | None, typer.Option(case_sensitive=False, help="Override the format guessed from the extension.")
]
MissingOpt = Annotated[Missing, typer.Option(case_sensitive=False, help="Missing values: error, or drop those rows.")]


class _ReductionChoice(TyperChoice[str]):
    """``--reduction``'s choices, any case; ``none`` (torch's and Keras's name for each row's loss unreduced) is
    refused pointing to ``--per-sample`` (:func:`~lossctl.options.check_run_reduction`), not as one more value that
    is "not one of 'mean', 'sum'"."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, str) and value.lower() == "none":
            check_run_reduction("none")
        return super().convert(value, param, ctx)


ReductionOpt = Annotated[
    Reduction,
    typer.Option(
        click_type=_ReductionChoice(REDUCTIONS, case_sensitive=False), help="mean (weighted with --weight) or sum."
    ),
]
ConventionOpt = Annotated[
    ConventionName, typer.Option(case_sensitive=False, help="Whose definition to reproduce where libraries differ.")
]
FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format", "-f", case_sensitive=False, help="Output format (default: table; with --output, its extension's)."
    ),
]
DelimiterOpt = Annotated[
    str | None, typer.Option(metavar="CHAR", help="Delimiter of CSV input (or 'tab'; default: sniffed).")
]
DecimalOpt = Annotated[
    str | None, typer.Option(metavar="CHAR", help="Decimal point of CSV input: '.' (default) or ','.")
]
OutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output", "-o", metavar="PATH", help="Write results to PATH (.json .csv .md .parquet; - is stdout)."
    ),
]


def _integer(text: object) -> int:
    """An integer option as a command line writes it (:func:`~lossctl.text.written_number`): ``--chunk-rows 1_000``
    or digits of another script are refused, as in a loss parameter or a threshold; a whole number written as a
    float (``--bootstrap 1e3``) is refused saying its digits."""
    try:
        number = written_number(str(text), integer=True)
    except ValueError:
        number = None
    if not isinstance(number, int):  # 2.0 or 1e3 is a parameter's integer, not an option's
        whole = number is not None and math.isfinite(number) and number.is_integer()
        hint = f"; give {int(decimal.Decimal(str(text)))}" if whole else ""  # exactly: 1e30 as 10**30
        raise typer.BadParameter(f"{str(text)!r} is not a valid int{hint}.")
    return number


def _number(text: object) -> float:
    """A number option as a command line writes it (:func:`_integer`)."""
    try:
        return written_number(str(text))
    except ValueError:
        raise typer.BadParameter(f"{str(text)!r} is not a valid float.") from None


def _percent(text: object) -> float:
    """``--fail-if-worse``'s PCT as a command line writes it: ``5`` or ``5%`` (:func:`_number`). A number that
    is not finite is refused as written (``1e400``), not as the ``inf`` it reads as."""
    written_text = str(text).strip()
    try:
        percent = written_number(written_text.removesuffix("%"))
    except ValueError:
        raise typer.BadParameter(f"{str(text)!r} is not a percentage (e.g. 1 or 1%).") from None
    if not math.isfinite(percent):
        raise typer.BadParameter(f"{str(text)!r} is not a finite percentage (e.g. 1 or 1%).")
    if rounds_to_zero(written_text, percent):  # 1e-400: as a threshold of --fail-if, not a silent 0
        raise typer.BadParameter(f"{str(text)!r} rounds to 0 in float64; write 0 if 0 is meant.")
    return percent + 0.0  # -0 is 0


BootstrapOpt = Annotated[
    int, typer.Option(metavar="N", parser=_integer, help="Bootstrap replicates for intervals (0: none).")
]


def _level_text(text: object) -> str:
    """``--ci``'s LEVEL as typed, once it reads as a number: :func:`_level` quotes it when it is out of range. A
    percent (``95%``) is refused with its fraction, as :func:`~lossctl.options.check_level` does ``95``."""
    typed = str(text).strip()
    try:
        level = written_number(typed.removesuffix("%"))
    except ValueError:
        raise typer.BadParameter(f"{typed!r} is not a valid float.") from None
    if typed.endswith("%"):
        given = written(fraction(level)) if 0 < level < 100 else "0.95"
        raise typer.BadParameter(f"{typed!r} is a percent; LEVEL is a fraction: give --ci {given}")
    return typed


def _level(text: str | None) -> float | None:
    """``--ci``'s LEVEL, refused as typed when out of (0, 1): 0.9999999999999999999 reads as 1, 1e-400 as 0."""
    if text is None:
        return None
    level = written_number(text)
    check_level(level, text)
    return level


CiOpt = Annotated[
    str | None,
    typer.Option(
        metavar="LEVEL",
        parser=_level_text,
        help="Confidence level of the intervals (0.95 with --bootstrap; without it, normal-approximation intervals).",
    ),
]
SeedOpt = Annotated[int, typer.Option(metavar="S", parser=_integer, help="Seed of the bootstrap.")]
PlotOpt = Annotated[str | None, typer.Option(metavar="PATH", help="Draw the results (.png .svg; needs lossctl[plot]).")]
ChunkRowsOpt = Annotated[
    int | None,
    typer.Option(metavar="N", parser=_integer, help="Rows per chunk when streaming (default: about 512k values)."),
]
PluginOpt = Annotated[list[str] | None, typer.Option(metavar="MODULE|FILE.py", help="Load losses from a plugin.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Silence notices and progress.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
ClassesOpt = Annotated[
    str | None,
    typer.Option(metavar="A,B,C", parser=_data_text, help="Class labels in class-index order (text class labels)."),
]
PositiveOpt = Annotated[
    str | None, typer.Option(metavar="LABEL", parser=_data_text, help="The positive class of text binary labels.")
]
ModelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        metavar="NAME=COLSPEC|GLOB",
        parser=_data_text,
        help="A model's prediction columns (repeatable); a glob adds one model per matching column.",
    ),
]
FailIfOpt = Annotated[
    list[str] | None,
    typer.Option(metavar="EXPR", parser=_data_text, help="Exit 1 if 'LOSS[@MODEL] OP NUMBER' holds; repeatable."),
]
ByOpt = Annotated[
    list[str] | None, typer.Option(metavar="COL", parser=_data_text, help="Add one result per group; repeatable.")
]
PerSampleOpt = Annotated[str | None, typer.Option(metavar="PATH", help="Write per-row losses (.parquet .csv .jsonl).")]
EngineOpt = Annotated[
    EngineName,
    typer.Option(case_sensitive=False, help="Run here, or as tasks on a Dask cluster (lossctl[dask])."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(metavar="ADDRESS", help="Dask scheduler to join (default: $DASK_SCHEDULER_ADDRESS)."),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N", parser=_integer, help="Start a local Dask cluster of N processes (default: one per core)."
    ),
]


@app.command(
    "eval",
    epilog=_examples(
        "lossctl eval preds.parquet -l mse,mae -l huber:delta=2",
        "lossctl eval preds.csv --targets truth.csv --on id --by region --fail-if 'mse>0.25'",
        "lossctl eval preds.parquet --model 'model_*' --target y -l mse --bootstrap 1000 -f json",
    ),
)
def eval_command(
    paths: PathsArg,
    loss: LossOpt = None,
    param: ParamOpt = None,
    pred: PredOpt = None,
    target: TargetOpt = None,
    weight: WeightOpt = None,
    col: ColOpt = None,
    targets: TargetsOpt = None,
    on: OnOpt = None,
    input_format: InputFormatOpt = None,
    missing: MissingOpt = MISSING_DEFAULT,
    reduction: ReductionOpt = REDUCTION_DEFAULT,
    convention: ConventionOpt = CONVENTION_DEFAULT,
    output_format: FormatOpt = None,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    output: OutputOpt = None,
    model: ModelOpt = None,
    classes: ClassesOpt = None,
    positive: PositiveOpt = None,
    fail_if: FailIfOpt = None,
    by: ByOpt = None,
    per_sample: PerSampleOpt = None,
    bootstrap: BootstrapOpt = 0,
    ci: CiOpt = None,
    seed: SeedOpt = 0,
    plot: PlotOpt = None,
    chunk_rows: ChunkRowsOpt = None,
    engine: EngineOpt = ENGINE_DEFAULT,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    plugin: PluginOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compute one or more losses on a predictions file and report them."""
    from lossctl.evaluation import run_evaluation

    tune_allocators()
    _load_plugins(plugin or [], quiet)
    shared = _shared(
        loss,
        param,
        pred,
        target,
        weight,
        col,
        targets,
        on,
        input_format,
        delimiter,
        decimal,
        missing,
        reduction,
        convention,
    )
    options = Options(
        **shared,
        models=tuple(model or ()),
        classes=(classes,) if classes is not None else (),
        positive=positive,
        fail_if=tuple(fail_if or ()),
        by=tuple(by or ()),
        per_sample=per_sample,
        bootstrap=bootstrap,
        ci=_level(ci),
        seed=seed,
        chunk_rows=chunk_rows,
        engine=engine.value,
        scheduler=scheduler,
        workers=workers,
    )
    output = _destination(output)
    _check_outputs(output, output_format, plot, options, [*paths, *([targets] if targets else [])])
    with _progress_bar(quiet) as bar:
        report = run_evaluation(
            paths,
            options,
            distributions=bool(plot) or (output_format in (None, TABLE) and not output),
            progress=bar,
            notify=lambda message: _notice(message, quiet),
        )
    _finish(report, (output_format or TABLE).value, output, quiet, plot)


def _shared(
    loss: list[str] | None,
    param: list[str] | None,
    pred: str | None,
    target: str | None,
    weight: str | None,
    col: list[str] | None,
    targets: str | None,
    on: list[str] | None,
    input_format: Enum | None,
    delimiter: str | None,
    decimal: str | None,
    missing: Enum,
    reduction: Enum,
    convention: Enum,
) -> dict[str, Any]:
    """The :class:`Options` fields that ``eval`` and ``compare`` share, from their parsed command lines."""
    return {
        "losses": tuple(loss or ()),
        "params": tuple(param or ()),
        "pred": pred,
        "target": target,
        "weight": weight,
        "cols": _parse_cols(col or []),
        "targets": targets,
        "on": tuple(on or ()),
        "input_format": input_format.value if input_format else None,
        "delimiter": delimiter,
        "decimal": decimal,
        "missing": missing.value,
        "reduction": reduction.value,
        "convention": convention.value,
    }


def _destination(output: str | None) -> str | None:
    """``-o -`` is standard output, as ``-`` is standard input for ``PATH``: the results printed, not a file named
    ``-`` in the working directory."""
    return None if output == "-" else output


def _per_sample_file(options: Options) -> str | None:
    """``--per-sample`` when it is one file to check here; under the Dask engine it is a dataset (a directory that
    a rerun replaces), which :mod:`lossctl.cluster` checks."""
    return options.per_sample if options.engine == "local" else None


def _check_outputs(
    output: str | None, output_format: Enum | None, plot: str | None, options: Options, inputs: list[str]
) -> None:
    """Refuse, before any work, output paths that cannot or must not be written, or a format contradicting one;
    ``--per-sample`` is checked here as a file under the local engine, as a name under either."""
    from lossctl.report import check_destination, check_output_path

    _check_named(output=output, plot=plot)
    if plot:
        from lossctl.plot import check_plot_path

        check_plot_path(plot)
    if output:
        check_destination(output, output_format.value if output_format is not None else None, inputs)
    for destination, writer in ((_per_sample_file(options), "--per-sample"), (plot, "--plot")):
        if destination:
            check_output_path(destination, inputs, writer)
    if output and options.per_sample and same_destination(output, options.per_sample):
        raise UsageError(f"--output and --per-sample both name '{show_name(output)}'; give each its own file")


@contextlib.contextmanager
def _progress_bar(quiet: bool) -> "Iterator[ProgressBar | None]":
    """A progress bar on stderr when a person watches it (stderr is a terminal that can redraw a line, and --quiet
    is not given), closed however the run ends: an error left it on screen, redrawn below the error line, which its
    redirected stderr wrapped at the terminal's width, and the terminal without a cursor. A ``TERM=dumb`` terminal
    (Emacs' shell, an editor's output pane) cannot redraw: rich drew nothing there but a stray blank line."""
    if quiet or not sys.stderr.isatty() or os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        yield None
        return
    from lossctl.render import ProgressBar

    bar = ProgressBar()
    try:
        yield bar
    finally:
        bar.close()


def _check_named(**paths: str | None) -> None:
    """An empty file name (``-o ''``, often an unset shell variable) is an error, never silently no file."""
    for option, value in paths.items():
        if value is not None and not value.strip():
            raise UsageError(f"--{option.replace('_', '-')} needs a file name, got an empty one")


def _finish(report: "AnyReport", output_format: str, output: str | None, quiet: bool, plot: str | None) -> None:
    """Notices to stderr, results to ``output`` or stdout, the plot, and exit 1 when a gate failed."""
    from lossctl.report import write_report

    for message in report.notices:
        _notice(message, quiet)
    if plot:
        from lossctl.plot import plot_report

        plot_report(report, plot)
        _notice(f"drew {plot}", quiet)
    if output:
        write_report(report, output, output_format)
        _notice(f"wrote {count(len(report.results), 'result')} to {output}", quiet)
    else:
        _print_report(report, output_format)
    if output or output_format in ("json", "csv"):  # no check line on stdout says which gate set the exit status
        for check in report.checks:
            if not check.passed:
                _notice(f"check {check.expr} FAILED: {check.named()} = {check.shown_value()}", quiet)
    if not report.passed:
        raise typer.Exit(ExitCode.CHECK_FAILED)


def _parse_cols(options: list[str]) -> dict[str, str]:
    cols: dict[str, str] = {}
    for option in options:
        role, sep, spec = option.partition("=")
        if not sep or not role.strip() or not spec.strip():
            raise UsageError(f"--col expects ROLE=COLSPEC, got '{option}'")
        if role.strip() in cols:
            raise UsageError(f"role '{role.strip()}' is bound twice with --col")
        cols[role.strip()] = spec  # resolve_colspec strips it, unless a column's name has its spaces
    return cols


def _print_report(report: "AnyReport", output_format: str) -> None:
    from lossctl import report as formats
    from lossctl.memory import collector_paused

    if output_format == "table":
        from lossctl.render import render_report, terminal

        render_report(report, terminal())
        return
    with collector_paused():  # the rows of a million groups' records
        if output_format == "markdown":
            sys.stdout.write(formats.to_markdown(report))
        else:  # made and written record by record
            (formats.write_json if output_format == "json" else formats.write_csv)(report, sys.stdout)


@app.command(
    "compare",
    epilog=_examples(
        "lossctl compare main.parquet pr.parquet -l mse,mae --bootstrap 1000 --fail-if-worse 1 --significant",
        "lossctl compare preds.csv --model old=pred_v1 --model new=pred_v2 --target y -l mae --by region",
    ),
)
def compare_command(
    baseline: Annotated[
        str, typer.Argument(metavar="BASELINE", help="The reference model's predictions file (or the file of --model).")
    ],
    candidate: Annotated[
        str | None, typer.Argument(metavar="[CANDIDATE]", help="The new model's predictions file.")
    ] = None,
    loss: LossOpt = None,
    param: ParamOpt = None,
    pred: PredOpt = None,
    target: TargetOpt = None,
    weight: WeightOpt = None,
    col: ColOpt = None,
    targets: TargetsOpt = None,
    on: OnOpt = None,
    input_format: InputFormatOpt = None,
    missing: MissingOpt = MISSING_DEFAULT,
    reduction: ReductionOpt = REDUCTION_DEFAULT,
    convention: ConventionOpt = CONVENTION_DEFAULT,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    bootstrap: BootstrapOpt = 0,
    ci: CiOpt = None,
    seed: SeedOpt = 0,
    model: ModelOpt = None,
    classes: ClassesOpt = None,
    positive: PositiveOpt = None,
    by: ByOpt = None,
    fail_if: FailIfOpt = None,
    per_sample: PerSampleOpt = None,
    fail_if_worse: Annotated[
        float | None,
        typer.Option(
            metavar="PCT", parser=_percent, help="Exit 1 if the candidate is worse by more than PCT percent (1 or 1%)."
        ),
    ] = None,
    significant: Annotated[bool, typer.Option(help="Count a worse loss only when its interval excludes 0.")] = False,
    plot: PlotOpt = None,
    output_format: FormatOpt = None,
    output: OutputOpt = None,
    chunk_rows: ChunkRowsOpt = None,
    engine: EngineOpt = ENGINE_DEFAULT,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    plugin: PluginOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The same losses on two prediction files over the same targets, with deltas and paired intervals."""
    from lossctl.comparison import run_comparison

    tune_allocators()
    _load_plugins(plugin or [], quiet)
    shared = _shared(
        loss,
        param,
        pred,
        target,
        weight,
        col,
        targets,
        on,
        input_format,
        delimiter,
        decimal,
        missing,
        reduction,
        convention,
    )
    options = Options(
        **shared,
        models=tuple(model or ()),
        classes=(classes,) if classes is not None else (),
        positive=positive,
        by=tuple(by or ()),
        fail_if=tuple(fail_if or ()),
        per_sample=per_sample,
        bootstrap=bootstrap,
        ci=_level(ci),
        seed=seed,
        fail_if_worse=fail_if_worse,
        significant=significant,
        chunk_rows=chunk_rows,
        engine=engine.value,
        scheduler=scheduler,
        workers=workers,
    )
    inputs = [baseline, *([candidate] if candidate else []), *([targets] if targets else [])]
    output = _destination(output)
    _check_outputs(output, output_format, plot, options, inputs)
    with _progress_bar(quiet) as bar:
        report = run_comparison(
            baseline, candidate, options, progress=bar, notify=lambda message: _notice(message, quiet)
        )
    _finish(report, (output_format or TABLE).value, output, quiet, plot)


@app.command(
    "suggest",
    epilog=_examples("lossctl suggest preds.csv", "lossctl suggest preds.parquet --pred 'logit_*' --target label"),
)
def suggest_command(
    paths: PathsArg,
    pred: PredOpt = None,
    target: TargetOpt = None,
    targets: TargetsOpt = None,
    on: OnOpt = None,
    input_format: InputFormatOpt = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", case_sensitive=False, help="Output format.")
    ] = TABLE,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    missing: MissingOpt = MISSING_DEFAULT,
    classes: ClassesOpt = None,
    positive: PositiveOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Inspect the data (task, class balance, outliers, skew) and recommend losses, with the reason for each."""
    from lossctl.suggest import suggest

    advice, notices = suggest(
        paths,
        pred=pred,
        target=target,
        targets=targets,
        on=tuple(on or ()),
        input_format=input_format.value if input_format else None,
        delimiter=delimiter,
        decimal=decimal,
        missing=missing.value,
        classes=(classes,) if classes is not None else (),
        positive=positive,
    )
    for message in notices:
        _notice(message, quiet)
    if output_format.value == "json":
        document = {
            "schema": 1,
            "lossctl": __version__,
            # as eval's input: path names several files; targets the --targets file
            "input": {"path": ", ".join(paths), **({"targets": targets} if targets is not None else {})},
            "task": advice.task,
            "facts": advice.facts,
            "suggestions": [s.to_dict() for s in advice.suggestions],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    if output_format.value in ("csv", "markdown"):
        from lossctl.report import csv_text, markdown_text

        rows = [[advice.task, s.loss, s.spec, s.reason] for s in advice.suggestions]
        write = csv_text if output_format.value == "csv" else markdown_text
        sys.stdout.write(write(["task", "loss", "spec", "reason"], rows))
        return
    from lossctl.render import render_advice, terminal

    render_advice(advice, terminal())


@app.command("list", epilog=_examples("lossctl list", "lossctl list --task multiclass", "lossctl list -f markdown"))
def list_command(
    task: Annotated[str | None, typer.Option(metavar="TASK", help="Only losses of this task.")] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", case_sensitive=False, help="Output format.")
    ] = TABLE,
    plugin: PluginOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The registry: every loss with its task, roles, parameters and defaults."""
    from lossctl.registry import list_losses

    _load_plugins(plugin or [], quiet)
    specs = list_losses(task)
    if output_format.value == "json":
        from lossctl.describe import losses_json

        sys.stdout.write(losses_json(specs))
        return
    if output_format.value in ("csv", "markdown"):
        from lossctl.describe import loss_rows
        from lossctl.report import csv_text, markdown_text

        sys.stdout.write((csv_text if output_format.value == "csv" else markdown_text)(*loss_rows(specs)))
        return
    from lossctl.render import render_losses, terminal

    render_losses(specs, terminal())


@app.command("describe", epilog=_examples("lossctl describe huber", "lossctl describe ce"))
def describe_command(
    name: Annotated[str, typer.Argument(metavar="NAME", autocompletion=_complete_losses, help="Loss name or alias.")],
    plugin: PluginOpt = None,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """One loss: formula, parameters, conventions, properties, when to use it."""
    from lossctl.describe import describe

    _load_plugins(plugin or [], quiet)
    from lossctl.params import is_composite, split_loss_tokens, unnamed_composite

    if not name.strip():  # not "-l needs a loss name": describe has no -l
        raise UsageError(f"describe needs a loss name, got {name!r}; 'lossctl list' lists them")
    with spelled_as_flags(False):  # an empty name in a list is quoted as given, not as an -l value
        tokens = split_loss_tokens([name])
    if len(tokens) > 1:  # -l's list form (a comma in a list value is not one)
        raise UsageError(f"describe takes one loss, got the list '{name}'; describe each loss on its own")
    if is_composite(name) or unnamed_composite(name):  # not "unknown loss 'total=mse+mae'"
        raise UsageError(f"describe takes one loss, got the composite '{name}'; describe each of its parts")
    sys.stdout.write(describe(name))


for _command in app.registered_commands:  # Typer takes a command's help from its docstring, which -OO strips
    if _command.help is None and _command.callback is not None:
        _command.help = docstring(_command.callback)


def _usage_hint(error: TyperException, args: list[str]) -> str:
    """Where to look: the failing command's help. Click's parser names no command for an option missing its
    value (``eval f.csv -l``): then the first argument, when it is a command. ``lossctl help eval``, as ``git help``
    is typed by habit, points to ``lossctl eval --help``."""
    commands = {command.name for command in app.registered_commands}
    asked = args[1:] if args[:1] == ["help"] else args
    context = getattr(error, "ctx", None)
    if context is not None and asked is args:
        path = _path_read_as_option(error, args)
        if path is not None:  # eval -p.csv: "No such option: -p"
            shown = escaped(path)
            return f"to read the file '{shown}', put -- before it: {context.command_path} ... -- {shown}"
        return f"try '{context.command_path} --help' for help"
    named = f"lossctl {asked[0]}" if asked and asked[0] in commands else "lossctl"
    return f"try '{named} --help' for help"


def _path_read_as_option(error: TyperException, args: list[str]) -> str | None:
    """The argument that an unknown option was read from when it names an existing file (``-p.csv``, read as the
    option ``-p``): a path starting with ``-`` is an argument after ``--``, as for any command."""
    name = getattr(error, "option_name", None)
    if not isinstance(name, str):
        return None
    return next((arg for arg in args if arg.startswith(name) and arg != name and os.path.exists(arg)), None)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    if "_LOSSCTL_COMPLETE" in os.environ:  # the shell asks for completions (--install-completion's script)
        from typer.completion import completion_init

        completion_init()
    with guarded_stderr(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # As Python does by default: "unclosed file" comes from the garbage collector's timing, not from the run.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            # outputs published together if the run ends well, then the results held back for them printed
            with guarded_stdout() as stdout, tempfiles.transaction(deliver=stdout.release), spelled_as_flags():
                status = app(args=args, prog_name="lossctl", standalone_mode=False)
            code = int(status) if isinstance(status, int) else ExitCode.OK
        except typer.Exit as done:
            code = done.exit_code
        except TyperException as error:  # Typer's own usage errors: unknown option, bad choice...
            sys.stderr.write(f"error: {escaped(error.format_message())}\n{_usage_hint(error, args)}\n")
            code = ExitCode.USAGE
        except typer.Abort:
            sys.stderr.write("error: interrupted\n")
            code = 130
        except LossctlError as error:
            if debug:
                traceback.print_exc()
            sys.stderr.write(f"error: {escaped(str(error))}\n")
            code = error.exit_code
        except BrokenPipeError:
            code = ExitCode.OK
        except MemoryError as error:  # NumPy's, or pyarrow's ArrowMemoryError: the machine's limit, not a bug
            if debug:
                traceback.print_exc()
            detail = f" ({escaped(str(error).strip().splitlines()[0])})" if str(error).strip() else ""
            sys.stderr.write(
                f"error: out of memory{detail}; lower --chunk-rows or --bootstrap, group by fewer values, or run where "
                "more memory is available\n"
            )
            code = ExitCode.INPUT
        except Exception as error:  # the boundary: anything else is a bug in lossctl
            if debug:
                traceback.print_exc()
            sys.stderr.write(
                f"error: internal error ({type(error).__name__}: {escaped(str(error))}); this is a bug in lossctl "
                f"{__version__}, please report it with the command you ran (rerun with --debug for the traceback)\n"
            )
            code = ExitCode.INTERNAL
        # Each once, as Python shows a warning once per place by default: a plugin loss warning on every chunk of a
        # large input wrote the same line hundreds of times (caught "always", so a second run in one process sees it).
        for message in dict.fromkeys(escaped(str(warning.message)) for warning in caught):
            sys.stderr.write(f"warning: {message}\n")
    return int(code)


def run() -> None:
    """The console entry point: :func:`main`, then exit without the interpreter's teardown.

    Every file lossctl writes is closed and renamed before ``main`` returns, so after removing its scratch folders
    (:func:`~lossctl.tempfiles.remove_scratch`) and flushing the standard streams there is nothing left to clean up;
    skipping the teardown of NumPy and pyarrow saves 25 ms on every run.
    """
    code = main()
    tempfiles.remove_scratch()  # what the exit handlers, which os._exit skips, would remove
    for stream in (sys.stdout, sys.stderr):
        # The reader went away (lossctl list | head), or the stream is closed (>&-: Python makes it None).
        with contextlib.suppress(BrokenPipeError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)
