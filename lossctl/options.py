"""What a run is asked to do, validated once: the :class:`Options` of ``evaluate``, ``compare`` and the CLI.

The Python functions (:func:`lossctl.evaluate`, :func:`lossctl.compare`) and the ``eval``/``compare`` commands
build one :class:`Options` from their arguments; its construction checks every value and parses every loss,
parameter and ``--fail-if`` expression, so that a usage error is raised before any file is opened. The choice
constants below are the single source of the CLI's choices. Pure Python: importing this module costs nothing
(no NumPy, no pyarrow), so the CLI can validate before it loads anything heavy.
"""

from __future__ import annotations

import math
import numbers
import os
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from lossctl.errors import UsageError, option, role_option
from lossctl.io.formats import FORMATS
from lossctl.limits import check_options
from lossctl.params import (
    Composite,
    FailIf,
    LossRequest,
    gate_composite,
    gated_loss,
    parse_fail_if,
    select_losses,
    split_param,
)
from lossctl.registry import CONVENTIONS
from lossctl.text import fraction, show_name, written

REDUCTIONS = ("mean", "sum")
MISSING_POLICIES = ("error", "drop")
INPUT_FORMATS = FORMATS
# The confidence level of the bootstrap's intervals when --ci is not given.
DEFAULT_LEVEL = 0.95
# --format: the rich table for people, the rest for machines.
OUTPUT_FORMATS = ("table", "json", "csv", "markdown")
# --engine: this process, or tasks on a Dask cluster (lossctl.cluster; the extra lossctl[dask]).
ENGINES = ("local", "dask")

PathLike = str | os.PathLike[str]
Strings = str | Iterable[str]
Labels = str | Iterable[str | int | float]
# The API's callbacks, progress(rows_read, total_or_None) and notify(message): what they return is ignored, so any
# function fits (a progress bar's update() returning a bool).
Progress = Callable[[int, int | None], object]
Notify = Callable[[str], object]


def as_strings(value: object, name: str) -> tuple[str, ...]:
    """Keyword ``name``'s string or iterable of strings as a tuple; ``"mse,mae"`` stays one string (split by the
    parsers). A mapping would give its keys alone, and bytes their integers: both are refused whole."""
    if value is None:
        return ()
    if isinstance(value, str | os.PathLike):
        return (os.fspath(value),)
    _check_ordered(value, name)
    if not isinstance(value, Iterable) or isinstance(value, Mapping | bytes | bytearray):
        raise UsageError(
            f"{name} takes a string or a list of strings, got {type(value).__name__} {reprlib.repr(value)}"
        )
    items = tuple(value)
    for item in items:
        if not isinstance(item, str | os.PathLike):
            raise UsageError(f"{name} takes strings, got {type(item).__name__} {item!r}")
    return tuple(os.fspath(item) for item in items)


def as_labels(value: Labels | None) -> tuple[str, ...]:
    """Class labels (``classes=``) as :func:`as_strings` takes them, a number or a boolean among them written as
    the command line writes it (``[1, 0]`` is ``("1", "0")``, as ``--classes 1,0``)."""
    if isinstance(value, Iterable) and not isinstance(value, str | os.PathLike | Mapping | bytes | bytearray):
        _check_ordered(value, "classes")
        return as_strings([_label(item) for item in value], "classes")
    return as_strings(value, "classes")


def _check_ordered(value: Any, name: str) -> None:
    """A list keyword is kept in the order given (the classes' indices, the results', the key columns'): a set,
    whose order changes from one Python process to the next, is a usage error, not a different number per run."""
    if isinstance(value, set | frozenset):
        raise UsageError(
            f"{name} takes a string or a list of strings, got a {type(value).__name__} {reprlib.repr(value)}: a set "
            "has no order, and the order given is the order used; give a list or a tuple"
        )


def optional_path(value: PathLike | None, name: str) -> str | None:
    """A path given as ``str`` or ``os.PathLike`` as ``str``; ``None`` stays ``None``; anything else is a usage
    error naming the keyword ``name`` (a DataFrame; not ``os.fspath``'s TypeError)."""
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise UsageError(f"{name} takes a file path (str or os.PathLike), got {type(value).__name__}")
    return os.fspath(value)


def as_flag(value: Any, name: str) -> bool:
    """A yes/no keyword as ``bool``: ``True``/``False`` or a NumPy boolean; anything else (``"no"``, which is
    truthy) is a usage error."""
    dtype = getattr(value, "dtype", None)
    if isinstance(value, bool) or (getattr(dtype, "kind", None) == "b" and getattr(value, "shape", None) == ()):
        return bool(value)
    raise UsageError(f"{name} takes True or False, got {value!r} ({type(value).__name__})")


def check_by_once(columns: Iterable[str]) -> None:
    """Each ``--by`` column once: its groups would be named by two equal columns (CSV: a header ``k,k``)."""
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise UsageError(
                f"{option('by')} names the column '{show_name(column)}' twice; give each {option('by')} column once"
            )
        seen.add(column)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """``value`` when it is one of ``choices``, else a usage error naming option ``name`` as the caller spells it."""
    if value not in choices:
        got = f"'{value}'" if isinstance(value, str) else f"{value!r} ({type(value).__name__})"  # None is not 'None'
        raise UsageError(f"{option(name)} must be one of {', '.join(choices)}, got {got}")
    return value


def check_reduction(value: str, per_row: str) -> str:
    """``value`` when it is one of :data:`REDUCTIONS`. ``"none"``, torch's and Keras's name for each row's loss
    unreduced, is refused pointing to ``per_row``, the call that gives each row's loss where it was asked."""
    if value == "none":
        raise UsageError(f"{option('reduction', 'none')} is not a reduction lossctl takes: {per_row} per-row losses")
    return check_choice("reduction", value, REDUCTIONS)


def check_run_reduction(value: str) -> str:
    """:func:`check_reduction` for a run (``evaluate``, ``compare`` and their commands), whose per-row losses
    ``per_sample`` writes: the command line's parser and :class:`Options` refuse ``"none"`` in the same words."""
    return check_reduction(value, f"{option('per_sample', 'PATH', keyword='per_sample=PATH')} writes the")


@dataclass(frozen=True)
class JoinKey:
    """The key aligning a predictions file with a targets file (``--on``): the key columns in each file, in pairs.

    ``--on id`` names a column both files have; ``--on id=ID`` a column named ``id`` in the predictions and ``ID``
    in the targets; repeating ``--on`` makes a composite key (rows match when every pair of columns is equal).
    """

    preds: tuple[str, ...]
    targets: tuple[str, ...]

    @classmethod
    def parse(cls, specs: tuple[str, ...]) -> JoinKey | None:
        """The key of ``--on`` values ``COL`` or ``LEFT=RIGHT``; ``None`` when there are none."""
        if not specs:
            return None
        pairs = []
        for spec in specs:
            left, sep, right = spec.partition("=")
            right = right if sep else left  # names kept as written, as --by's and --weight's: ' id ' is a column
            if not left.strip() or not right.strip():
                raise UsageError(f"{option('on')} expects a key column KEY or LEFT=RIGHT, got '{spec}'")
            pairs.append((left, right))
        for side, names in (("predictions", [p for p, _ in pairs]), ("targets", [t for _, t in pairs])):
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise UsageError(f"{option('on')} names the {side} column '{show_name(repeated[0])}' twice")
        return cls(tuple(p for p, _ in pairs), tuple(t for _, t in pairs))

    @property
    def label(self) -> str:
        """The key as given on the command line, for messages: ``id``, ``id=ID``, ``region,id``."""
        return ",".join(p if p == t else f"{p}={t}" for p, t in zip(self.preds, self.targets, strict=True))


# The numeric options and their type: the command line's parser checks it; from Python, a '10' would otherwise
# fail later, in a comparison, as a TypeError.
_WHOLE, _REAL = (numbers.Integral, "an integer"), (numbers.Real, "a number")
_NUMBERS = {
    "bootstrap": _WHOLE,
    "seed": _WHOLE,
    "chunk_rows": _WHOLE,
    "workers": _WHOLE,
    "ci": _REAL,
    "fail_if_worse": _REAL,
}
# The numeric options that have a value by default (0: no bootstrap, seed 0): None is not "not given" for them.
_REQUIRED_NUMBERS = ("bootstrap", "seed")

# Options that take one string (a column, an address, a character), checked before anything splits them.
_TEXTS = ("pred", "target", "weight", "scheduler", "delimiter", "input_format")


def _label(value: Any) -> Any:
    """``positive`` as the text a command line gives: a number or a boolean as it is written (``1``, ``true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return written(float(value))
    return value


def check_level(level: float, typed: str | None = None) -> None:
    """A confidence level is in (0, 1). ``typed`` is the level as the command line wrote it, which the message
    quotes: 0.9999999999999999999 reads as the float 1, which the user did not type. A level in [50, 100) is the
    percent it likely is: the message gives its fraction (``--ci 95``: give 0.95)."""
    if not 0 < level < 1:
        given = written(fraction(level))
        percent = f"; a percent? give {option('ci', given, keyword=f'ci={given}')}" if 50 <= level < 100 else ""
        raise UsageError(f"{option('ci')} must be in (0, 1), e.g. 0.95, got {typed or written(level)}{percent}")


@dataclass(frozen=True)
class Options:
    """Every option of a run (the keywords of :func:`lossctl.evaluate` and :func:`lossctl.compare`), validated.

    Fields hold the values as given, normalised (tuples of strings, plain ``str`` paths); the parsed forms
    are the attributes :attr:`requests`, :attr:`composites` and :attr:`gates`. Build a changed copy with
    :func:`dataclasses.replace`, which validates again.
    """

    losses: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    pred: str | None = None
    target: str | None = None
    weight: str | None = None
    cols: Mapping[str, str] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    positive: str | None = None
    targets: Any = None  # a path, or (from the Python API) in-memory data as :func:`~lossctl.api.evaluate` takes
    on: tuple[str, ...] = ()
    input_format: str | None = None
    delimiter: str | None = None
    decimal: str | None = None  # None: not given (a decimal point), told from an explicit "."
    missing: str = "error"
    reduction: str = "mean"
    convention: str = "lossctl"
    fail_if: tuple[str, ...] = ()
    by: tuple[str, ...] = ()
    per_sample: str | None = None
    bootstrap: int = 0
    ci: float | None = None
    seed: int = 0
    chunk_rows: int | None = None
    fail_if_worse: float | None = None
    significant: bool = False
    engine: str = "local"
    scheduler: str | None = None
    workers: int | None = None
    requests: tuple[LossRequest, ...] = field(init=False, repr=False, compare=False)
    composites: tuple[Composite, ...] = field(init=False, repr=False, compare=False)
    gates: tuple[FailIf, ...] = field(init=False, repr=False, compare=False)
    join_key: JoinKey | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        for name in ("losses", "params", "fail_if", "by", "models", "on"):
            put(name, as_strings(getattr(self, name), name))
        put("classes", tuple(c.strip() for text in as_labels(self.classes) for c in text.split(",")))
        if any(not name for name in self.classes) or len(set(self.classes)) != len(self.classes):
            raise UsageError(f"{option('classes')} takes distinct class labels A,B,C, got '{','.join(self.classes)}'")
        for name in ("targets", "per_sample"):
            value = getattr(self, name)
            if name == "targets" and not isinstance(value, str | os.PathLike):
                continue  # None, or in-memory data or several paths: opened as the predictions are
            path = optional_path(value, name)
            if path is not None and not path.strip():  # often an unset shell variable: never silently no file
                raise UsageError(f"{option(name)} needs a file name, got an empty one")
            put(name, path)
        put("positive", _label(self.positive))
        put("significant", as_flag(self.significant, "significant"))
        for name in (*_TEXTS, "positive"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise UsageError(f"{name} takes a string, got {value!r} ({type(value).__name__})")
        if self.positive is not None and not self.positive.strip():  # often an unset shell variable
            raise UsageError(f"{option('positive')} needs a label, got {self.positive!r}")
        columns = [("pred", self.pred), ("target", self.target), ("weight", self.weight)]
        for name, value in [*columns, *(("by", column) for column in self.by)]:
            if value is not None and not value.strip():  # as --positive: named here, not "empty column name in ''"
                raise UsageError(f"{option(name)} needs a column name, got {value!r}")
        if not isinstance(self.cols or {}, Mapping):
            raise UsageError(f"cols takes a mapping of roles to columns, e.g. {{'var': 'sigma2'}}; got {self.cols!r}")
        put("cols", dict(self.cols or {}))
        for role, colspec in self.cols.items():
            if not isinstance(role, str) or not isinstance(colspec, str):
                raise UsageError(
                    f"cols takes roles and columns as strings, e.g. {{'var': 'sigma2'}}; got {self.cols!r}"
                )
        if "weight" in self.cols:  # --col weight=COL is --weight COL (docs/cli.md: --weight is a shortcut)
            if self.weight is not None:
                raise UsageError(
                    f"the sample weight is bound twice: by {option('weight')} and by {role_option('weight')}"
                )
            put("weight", self.cols["weight"])
            put("cols", {role: colspec for role, colspec in self.cols.items() if role != "weight"})
        check_run_reduction(self.reduction)
        check_choice("missing", self.missing, MISSING_POLICIES)
        check_choice("convention", self.convention, CONVENTIONS)
        if self.input_format is not None:
            check_choice("input_format", self.input_format, INPUT_FORMATS)
        self._check_numbers()
        self._check_engine()
        self._check_models()
        check_by_once(self.by)  # before any reading, as every other usage error; again once globs are resolved
        put("join_key", JoinKey.parse(self.on))
        for text in self.params:  # their losses are known here, or once the defaults are (lossctl.evaluation)
            split_param(text)
        gates = tuple(parse_fail_if(expr) for expr in self.fail_if)
        requests, composites = (
            select_losses(self.losses, self.params, self.convention, gates) if self.losses else ([], [])
        )
        for gate in gates:
            if gate_composite(gate, composites) is None:
                gated_loss(gate)  # an unknown loss or parameter in a gate is a usage error, before any reading
        put("requests", tuple(requests))
        put("composites", tuple(composites))
        put("gates", gates)
        named = [name for name, _ in self.model_specs]
        if None not in named:  # a glob's models are known once the columns are: checked then
            check_gate_models(gates, [name for name in named if name is not None])

    def _check_numbers(self) -> None:
        for name, (kind, noun) in _NUMBERS.items():
            value = getattr(self, name)
            if value is None and name in _REQUIRED_NUMBERS:  # a TypeError in a comparison ('<' ... 'NoneType')
                raise UsageError(f"{name} takes {noun}, got None")
            if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
                raise UsageError(f"{name} takes {noun}, got {value!r} ({type(value).__name__})")
            if value is not None:  # a NumPy scalar as Python's own number: JSON, messages and hashing take it
                object.__setattr__(self, name, self._number(name, value, kind))
        check_options(self.chunk_rows, self.bootstrap, self.seed)
        if self.ci is not None:
            check_level(self.ci)
        if self.fail_if_worse is not None and (not math.isfinite(self.fail_if_worse) or self.fail_if_worse < 0):
            raise UsageError(f"{option('fail_if_worse')} takes a percentage >= 0, got {written(self.fail_if_worse)}")
        if self.significant and not self.bootstrap and self.ci is None:
            raise UsageError(
                f"{option('significant')} needs an interval of the deltas: add "
                f"{option('bootstrap', 'N', keyword='bootstrap=N')} (the paired bootstrap) or "
                f"{option('ci', 'LEVEL', keyword='ci=LEVEL')} (the normal approximation)"
            )

    @staticmethod
    def _number(name: str, value: Any, kind: type) -> int | float:
        """An integer option as an ``int``; a real one as a ``float`` (``fail_if_worse=1`` is ``1.0``, as the
        command line reads it), where an integer too large for one (``10**400``) is a usage error, not Python's
        ``OverflowError``."""
        if kind is numbers.Integral:
            return int(value)
        try:
            return float(value)
        except OverflowError:
            raise UsageError(f"{name} takes a finite number, got {reprlib.repr(value)}") from None

    def _check_engine(self) -> None:
        check_choice("engine", self.engine, ENGINES)
        if self.engine != "dask" and (self.scheduler is not None or self.workers is not None):
            given = option("scheduler" if self.scheduler is not None else "workers")
            raise UsageError(f"{given} applies to the Dask engine: add {option('engine', 'dask')}")
        if self.scheduler is not None and not self.scheduler.strip():
            raise UsageError(f"{option('scheduler')} needs an address, e.g. tcp://10.0.0.5:8786, got an empty one")
        if self.scheduler is not None and self.workers is not None:
            raise UsageError(
                f"{option('scheduler')} and {option('workers')} exclude each other: {option('workers')} starts a local "
                "cluster"
            )
        if self.workers is not None and not 1 <= self.workers <= 1024:
            raise UsageError(f"{option('workers')} must be in [1, 1024], got {self.workers}")

    def _check_models(self) -> None:
        if self.models and (self.pred is not None or "pred" in self.cols):
            given = option("pred") if self.pred is not None else role_option("pred")
            models = option("model", keyword="models")
            raise UsageError(f"{models} and {given} exclude each other: {models} binds each model's predictions")
        names = [name for name, _ in self.model_specs]
        repeated = sorted({name for name in names if name is not None and names.count(name) > 1})
        if repeated:
            raise UsageError(f"two models are named '{repeated[0]}'; give each model its own name")

    @property
    def model_specs(self) -> list[tuple[str | None, str]]:
        """``--model`` as ``(name, colspec)``; the name is ``None`` for a glob, one model per matching column."""
        specs: list[tuple[str | None, str]] = []
        for text in self.models:
            name, sep, colspec = text.partition("=")
            if not sep and text.strip():
                specs.append((None, text.strip()))
                continue
            if not name.strip() or not colspec.strip():
                raise UsageError(
                    f"{option('model', keyword='models')} expects NAME=COLSPEC or a glob of columns, got '{text}'"
                )
            specs.append((name.strip(), colspec))  # resolve_colspec strips it (names with spaces kept)
        return specs

    @property
    def decimal_point(self) -> str:
        """The decimal point the readers take: ``decimal``, or ``.`` when it was not given."""
        return "." if self.decimal is None else self.decimal

    @property
    def level(self) -> float:
        """The intervals' confidence level: ``ci``, or 0.95 for a bootstrap without one."""
        return self.ci if self.ci is not None else DEFAULT_LEVEL

    @property
    def normal_ci(self) -> bool:
        """``--ci`` without ``--bootstrap``: normal-approximation intervals (the delta method, lossctl.normal)."""
        return self.ci is not None and not self.bootstrap

    def role_columns(self) -> dict[str, str]:
        """The column specs the user gave per role: ``--col ROLE=...`` with ``--pred``/``--target`` added."""
        explicit = dict(self.cols)
        for role, value in (("pred", self.pred), ("target", self.target)):
            if value is not None:
                if role in explicit:
                    raise UsageError(f"role '{role}' is bound twice: by {option(role)} and by {role_option(role)}")
                explicit[role] = value
        return explicit


def check_gate_models(gates: Sequence[FailIf], models: Sequence[str], baseline: str | None = None) -> None:
    """Every ``LOSS@MODEL`` gate names one of the run's (candidate) ``models``: a usage error before the pass, not
    once the whole input has been read. ``compare`` gates its candidates, not its ``baseline`` model."""
    for gate in gates:
        if gate.model is not None and gate.model == baseline:
            raise UsageError(
                f"{option('fail_if')} '{gate.expr}' names the baseline model '{baseline}'; {option('fail_if')} gates "
                f"the candidates: {', '.join(models)}"
            )
        if gate.model is not None and gate.model not in models:
            listed = (
                f"the models are: {', '.join(models)}"
                if models
                else f"the run has no models (name them with {option('model', keyword='models')})"
            )
            raise UsageError(f"{option('fail_if')} '{gate.expr}' names the model '{gate.model}'; {listed}")


OPTION_NAMES = tuple(f.name for f in fields(Options) if f.init)
