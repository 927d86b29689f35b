"""The loss registry: every loss is data (a :class:`LossSpec`) around one small pure NumPy function.

A loss module registers its functions with :func:`register_loss`, which returns the function
unchanged (as timm's registry does). The per-row function takes the loss's roles as positional
arguments, in the order of ``roles`` (``target`` first, then ``pred``, as scikit-learn), and its
parameters as keyword-only arguments; it returns the per-row contributions that the loss's
:class:`~lossctl.stats.Aggregate` reduces.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
import reprlib
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, overload

from lossctl.aggregates import MEAN, MEAN_OVER_ROWS, Aggregate
from lossctl.errors import (
    EmptyVectors,
    InputError,
    MismatchedWidths,
    NotAnArray,
    UsageError,
    ZeroWeightSum,
    flags_spelled,
    option,
)
from lossctl.lazy import LazyModule
from lossctl.text import count, docstring, rounds_to_zero, show_name, written, written_number

if TYPE_CHECKING:  # NumPy loads with the loss modules, not with ``import lossctl`` (keeps --help light)
    import numpy as np
else:  # for typing.get_type_hints: np.ndarray in an annotation imports NumPy then
    np = LazyModule("numpy")

TASKS = (
    "regression",
    "binary",
    "multiclass",
    "multilabel",
    "segmentation",
    "detection",
    "representation",
    "ranking",
)
CONVENTIONS = ("lossctl", "torch", "keras", "sklearn")


class BadValue(UsageError):
    """A parameter value outside its type or domain; :meth:`LossSpec.naming_errors` adds the loss's name."""


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_KINDS = ("float", "int", "bool", "choice", "floats")
# The integers float64 holds exactly: an integer parameter beyond them (ignore_index=1e300) is refused.
_EXACT_INTEGERS = 2**53


@dataclass(frozen=True)
class Param:
    """A typed loss parameter: ``kind`` is ``float``, ``int``, ``bool``, ``choice`` or ``floats``.

    ``floats`` is a per-class list (``1,2,0.5`` on the command line, a tuple in Python), or one of
    the words in ``choices`` (``balanced``). Numeric bounds are ``minimum``/``maximum`` (inclusive
    unless ``*_exclusive``) and apply to every number; ``excluded`` is an open interval of refused values
    (tweedie's ``power`` in (0, 1)), for a parameter without bounds. A parameter whose default is ``None`` may be
    left unset (``none``). :attr:`domain` words every rule, so ``list``, ``describe`` and the errors agree.
    """

    name: str
    default: Any
    doc: str
    kind: str = "float"
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: tuple[str, ...] = ()
    excluded: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        """A declaration lossctl could not use is refused where it is made (a plugin's is a load error naming it):
        a name ``-l LOSS:NAME=V`` and ``--param`` cannot spell, an unknown kind, empty bounds, or a default its own
        domain refuses, which ran unchecked and printed as its value (a NaN one failed the JSON output)."""
        _require_name("parameter", self.name)
        if self.kind not in _KINDS:
            raise ValueError(f"parameter '{self.name}': kind must be one of {', '.join(_KINDS)}, got {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"parameter '{self.name}': a choice parameter lists its choices")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"parameter '{self.name}': minimum {self.minimum} is above maximum {self.maximum}")
        try:
            self.validate(self.default)
        except BadValue as error:
            raise ValueError(f"{error} (its default)") from None

    @property
    def domain(self) -> str:
        """The valid values in words, e.g. ``> 0`` or ``in (0, 1)``."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        low, high = self.minimum, self.maximum
        if self.excluded is not None:
            bounds = f"<= {self.excluded[0]:g} or >= {self.excluded[1]:g}"
        elif low is not None and high is not None:
            left = "(" if self.min_exclusive else "["
            right = ")" if self.max_exclusive else "]"
            bounds = f"in {left}{low:g}, {high:g}{right}"
        elif low is not None:
            bounds = f"{'>' if self.min_exclusive else '>='} {low:g}"
        elif high is not None:
            bounds = f"{'<' if self.max_exclusive else '<='} {high:g}"
        elif self.kind == "int":
            bounds = "any integer within ±2^53"
        else:
            bounds = f"any finite {'number' if self.kind == 'floats' else self.kind}"
        if self.kind == "floats":
            words = "".join(f" or '{c}'" for c in self.choices)
            return f"a comma-separated list of numbers {bounds}{words}"
        return bounds

    def parse(self, text: str) -> Any:
        """Convert a command-line value (``"2.0"``, ``"true"``, ``"1,2,0.5"``) and validate it."""
        raw = text.strip()
        if self.default is None and raw.lower() == "none":
            return None
        if self.kind == "bool":
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise BadValue(f"parameter '{self.name}' must be true or false, got '{text}'")
        if self.kind in ("choice", "floats") and raw.lower() in self.choices:
            return self.validate(raw.lower())
        if self.kind == "choice":
            return self.validate(raw.lower())
        pieces = raw.split(",") if self.kind == "floats" else [raw]
        words = [piece.strip() for piece in pieces if piece.strip().lower() in self.choices]
        if words:  # 1,2,balanced: a list of numbers or the word, not both
            raise BadValue(
                f"parameter '{self.name}' is either a list of numbers or '{words[0].lower()}' alone, got '{text}'"
            )
        try:
            numbers_given = [written_number(p, self.kind == "int") for p in pieces]
        except ValueError:
            hint = closest(raw.lower(), self.choices)  # 'balance' for class_weight=balanced
            raise BadValue(f"parameter '{self.name}' must be {self._expected}, got '{text}'{hint}") from None
        for piece, number in zip(pieces, numbers_given, strict=True):  # 1e400: not "got inf", which was not typed
            if isinstance(number, float) and math.isinf(number) and "inf" not in piece.lower():
                raise BadValue(f"parameter '{self.name}' must be finite, got {piece.strip()} (beyond float64)")
            if rounds_to_zero(piece, number):  # 1e-400: not 0, which was not typed
                raise BadValue(
                    f"parameter '{self.name}' must be {self.domain}, got {piece.strip()} (which float64 rounds to 0; "
                    "write 0 if 0 is meant)"
                )
        return self.validate(tuple(numbers_given) if self.kind == "floats" else numbers_given[0])

    @property
    def _expected(self) -> str:
        if self.kind == "floats":
            return self.domain
        if self.kind == "int":
            return "an integer" if self.minimum is None and self.maximum is None else f"an integer ({self.domain})"
        return f"a number ({self.domain})"

    def validate(self, value: Any) -> Any:
        """Check a Python value against the parameter's type and domain; return it normalised."""
        # A word parameter's words include the 'none' its default is written as (multioutput=none).
        unset = value is None or (self.kind == "choice" and isinstance(value, str) and value == "none")
        if unset and self.default is None:
            return None
        if self.kind == "bool":
            if type(value).__name__ not in ("bool", "bool_"):
                raise BadValue(f"parameter '{self.name}' must be true or false, got {_given(value)}")
            return bool(value)
        if self.kind == "floats" and isinstance(value, str) and value not in self.choices:
            return self.parse(value)  # the comma-separated list its domain words, as -l and params= take it
        if self.kind == "choice" and not isinstance(value, str):  # multioutput=1 from Python: no word to suggest
            raise BadValue(f"parameter '{self.name}' must be {self.domain}, got {_given(value)}")
        if self.kind == "choice" or (self.kind == "floats" and isinstance(value, str)):
            if value not in self.choices:
                hint = closest(value, self.choices)
                raise BadValue(f"parameter '{self.name}' must be {self.domain}, got '{value}'{hint}")
            return value
        if self.kind == "floats":
            return tuple(self._number(v) for v in self._items(value))
        return self._number(value)

    def _items(self, value: Any) -> list[Any]:
        """The items of a per-class list given from Python: a list or tuple, or any 1-D array-like (NumPy, pandas,
        polars, pyarrow) as the arrays are; a 0-d array is one number, not a list."""
        if isinstance(value, list | tuple):
            return list(value)
        import numpy as np

        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # a ragged nesting
            array = np.asarray(None)
        if array.ndim != 1:
            raise BadValue(f"parameter '{self.name}' must be {self.domain}, got {_given(value)}")
        return list(array.tolist())

    def _number(self, value: Any) -> float | int:
        if type(value).__name__ in ("bool", "bool_") or not isinstance(value, numbers.Real):
            raise BadValue(f"parameter '{self.name}' must be {self._expected}, got {_given(value)}")
        if self.kind == "int" and isinstance(value, numbers.Integral):
            value = int(value)
        else:  # checked finite before it is rounded: math.floor of inf or nan raises a bare OverflowError/ValueError
            try:
                number = float(value)
            except OverflowError:  # a Python int beyond float64
                number = math.inf
            if not math.isfinite(number):
                raise BadValue(f"parameter '{self.name}' must be finite, got {_given(value)}")
            if self.kind == "int" and number != math.floor(number):
                raise BadValue(f"parameter '{self.name}' must be an integer, got {written(number)}")
            value = int(number) if self.kind == "int" else number + 0.0  # -0 is 0: one label, one signature
        if self.kind == "int" and abs(value) > _EXACT_INTEGERS:  # compared with float64 data, it is not itself
            digits = str(value)
            shown = digits if len(digits) <= 24 else f"a number of {len(digits.lstrip('-'))} digits"
            raise BadValue(f"parameter '{self.name}' must be an integer within ±2^53, got {shown}")
        below = self.minimum is not None and (value < self.minimum or (self.min_exclusive and value == self.minimum))
        above = self.maximum is not None and (value > self.maximum or (self.max_exclusive and value == self.maximum))
        inside = self.excluded is not None and self.excluded[0] < value < self.excluded[1]
        if below or above or inside:
            raise BadValue(f"parameter '{self.name}' must be {self.domain}, got {written(value)}")
        return value


def _given(value: Any) -> str:
    """A Python value a parameter refused, in its message: text is said to be text, since the command line's
    spelling of the right value (``log_input=true``, ``delta=2``) reads as that value in a message."""
    return f"the text {value!r}" if isinstance(value, str) else " ".join(reprlib.repr(value).split())  # one line


SHAPES = ("scalar", "vector", "any")


@dataclass(frozen=True)
class Role:
    """An input a loss reads: ``target``, ``pred``, ``var``...

    ``shape`` is ``scalar`` (one value per row), ``vector`` (several: K logits, 4 box corners, an
    embedding) or ``any`` (either, e.g. a class index or a K-column distribution as ``target``). ``labels``: one
    column of this role may hold class labels, encoded as the target's are (``--classes``: :mod:`lossctl.labels`).
    """

    name: str
    doc: str = ""
    shape: str = "scalar"
    labels: bool = False

    def __post_init__(self) -> None:
        _require_name("role", self.name)  # --col NAME=COLUMN could not bind it
        if self.shape not in SHAPES:
            raise ValueError(f"role {self.name!r}: shape must be one of {SHAPES}, got {self.shape!r}")

    @property
    def ndims(self) -> tuple[int, ...]:
        """The array dimensions the role accepts: 1 for scalar rows, 2 for rows of vectors."""
        return {"scalar": (1,), "vector": (2,), "any": (1, 2)}[self.shape]


@dataclass(frozen=True)
class Properties:
    """What a user choosing a loss wants to know, in words."""

    convex: str
    robust: str
    expects: str
    range: str


UNSTATED = Properties(convex="not stated", robust="not stated", expects="not stated", range="not stated")


@dataclass(frozen=True)
class Convention:
    """How one library's definition differs from lossctl's.

    ``func`` replaces the per-row function (``None``: the same formula as lossctl), ``aggregate``
    the reduction (e.g. Keras divides a weighted sum by the row count) and ``defaults`` the
    library's parameter defaults (torch's ``PoissonNLLLoss`` has ``log_input=True``). ``versions``
    names the releases reproduced when the library changed the definition (``<=3.15.1``): it is
    shown by ``describe`` and written into the result's signature (``convention=keras<=3.15.1``).
    ``sums_elements``: the library's ``reduction='sum'`` adds every element of a row holding several (K labels
    or outputs), where a row's loss is the mean of its elements (see :func:`torch_elementwise`).
    ``lacks``: the parameters the library does not have or fixes (name -> why, e.g. "Keras fixes it at 1e-7"):
    they keep the value of ``defaults`` (or lossctl's default; ``None`` where it has no effect), and setting one
    to another value is a usage error (see :meth:`LossSpec.refuse_lacking`), as no library reports that number.
    ``one_label``: the library takes one label column only (its ``func`` refuses K), so a multi-label task's
    default losses leave the loss out under this convention instead of failing on it.
    """

    note: str
    func: Callable[..., np.ndarray] | None = None
    aggregate: Aggregate | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    versions: str | None = None
    sums_elements: bool = False
    lacks: Mapping[str, str] = field(default_factory=dict)
    one_label: bool = False

    @property
    def description(self) -> str:
        """The note, then the parameters this convention refuses (``describe`` and docs/losses.md show it)."""
        if not self.lacks:
            return self.note
        refused = "; ".join(f"{name}: {why}" for name, why in self.lacks.items())
        return f"{self.note} Refused when set to another value ({refused})."


def keras(
    note: str,
    func: Callable[..., np.ndarray] | None = None,
    defaults: Mapping[str, Any] | None = None,
    aggregate: Aggregate = MEAN_OVER_ROWS,
    lacks: Mapping[str, str] | None = None,
) -> Convention:
    """A Keras convention: Keras' weighted mean divides by the number of rows, not the weight sum, so
    weights that sum to zero give 0 (docs/losses.md, "Weights that sum to zero")."""
    note += " Weighted mean: sum(w*l) / n (Keras 'sum_over_batch_size'); all-zero weights give 0."
    return Convention(note, func, aggregate, dict(defaults or {}), lacks=dict(lacks or {}))


def torch_elementwise(
    note: str,
    func: Callable[..., np.ndarray] | None = None,
    defaults: Mapping[str, Any] | None = None,
    aggregate: Aggregate | None = None,
    lacks: Mapping[str, str] | None = None,
) -> Convention:
    """The torch convention of an element-wise loss (``MSELoss``, ``BCELoss``...): a row of K elements (multi-label,
    multi-output) has the mean of its K losses, as lossctl's, so the mean over rows is torch's mean over all N K
    elements; but torch's ``reduction='sum'`` adds all N K element losses, K times the sum of the row means."""
    note += (
        " With --reduction sum, a row of K elements (multi-label, multi-output) adds its K losses, as torch's "
        "reduction='sum' (lossctl and Keras add each row's mean); its per-row value is then that sum."
    )
    return Convention(note, func, aggregate, dict(defaults or {}), sums_elements=True, lacks=dict(lacks or {}))


@dataclass(frozen=True)
class Violation:
    """An input outside a loss's domain, declared with the loss: row 1 of ``role`` (its ``column`` for
    vector roles) set to ``value``, or increased by it when ``add``; ``params`` are the parameters under
    which it is out of the domain (e.g. tweedie's ``power=1.5``). The common test suite writes it to a
    file and checks that the CLI exits 3 with one ``error:`` line, whatever the loss."""

    role: str
    value: float
    column: int = 0
    add: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LossSpec:
    """A registry entry. Calling it evaluates the loss on NumPy arrays::

    >>> import lossctl
    >>> lossctl.get("mse")([0.0, 1.0], [1.0, 1.0])
    0.5
    """

    name: str
    task: str
    func: Callable[..., np.ndarray]
    roles: tuple[Role, ...]
    params: tuple[Param, ...]
    summary: str
    formula: str
    follows: str
    properties: Properties
    when: str
    aliases: tuple[str, ...] = ()
    aggregate: Aggregate = MEAN
    conventions: Mapping[str, Convention] = field(default_factory=dict)
    batch_param: str | None = None
    whole_input: bool = False
    pairwise: bool = False
    violation: Violation | None = None
    weights_scale: bool = True
    on_probabilities: str | None = None
    origin: str | None = None  # who registered a third-party loss (``plugin 'x.py'``); None: built-in
    preset: Mapping[str, Any] = field(default_factory=dict)

    @property
    def doc(self) -> str:
        return docstring(self.func)

    @cached_property
    def role_names(self) -> tuple[str, ...]:
        return tuple(role.name for role in self.roles)

    @cached_property
    def _roles_by_name(self) -> dict[str, Role]:
        return {role.name: role for role in self.roles}

    @property
    def per_row(self) -> bool:
        """True when the reported value is a (weighted) mean of per-row losses, so ``per_sample`` exists (for a loss
        whose rows are samples only in some bindings, in those: :attr:`Aggregate.rows`)."""
        return self.aggregate.per_row

    @property
    def order_dependent(self) -> bool:
        """True when the value depends on the order of the rows (batches are cut in file order)."""
        return self.batch_param is not None

    @property
    def rows_interact(self) -> bool:
        """True when rows are scored together (batches, query pairs), so a repeated or dropped row is not a
        reweighted one and groups do not recombine into the whole."""
        return self.order_dependent or self.whole_input

    def convention_tag(self, convention: str) -> str:
        """The convention as the signature writes it: its name, with the library versions it reproduces."""
        variant = self.convention(convention)
        return convention + (variant.versions or "") if variant else convention

    def __reduce_ex__(self, protocol: Any) -> Any:
        """A built-in loss pickles as its name and preset parameters: its aggregates hold closures that plain pickle
        (``multiprocessing``, ``concurrent.futures``) cannot take, and every process with lossctl has the entry. A
        third-party loss pickles field by field, as before: cloudpickle (Dask, Spark, Ray) ships its code by value."""
        if self.origin is not None:
            return super().__reduce_ex__(protocol)
        return _registered, (self.name, dict(self.preset))

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        valid = ", ".join(p.name for p in self.params) or "none"
        hint = closest(name, [p.name for p in self.params])
        raise UsageError(f"loss '{self.name}' has no parameter '{name}'; its parameters: {valid}{hint}")

    def resolve_params(self, given: Mapping[str, Any], convention: str = "lossctl") -> dict[str, Any]:
        """Every parameter with the value to use: validated ``given`` values over the defaults
        (the convention's defaults where that library's differ)."""
        for name in given:
            self.param(name)
        variant = self.convention(convention)
        library = {p.name: p.default for p in self.params} | dict(variant.defaults if variant else {})
        defaults = library | dict(self.preset)
        with self.naming_errors():
            resolved = {p.name: p.validate(given[p.name]) if p.name in given else defaults[p.name] for p in self.params}
        if variant:
            self.refuse_lacking(convention, variant, resolved, library)
        return resolved

    def refuse_lacking(
        self, convention: str, variant: Convention, resolved: Mapping[str, Any], library: Mapping[str, Any]
    ) -> None:
        """A parameter the convention's library lacks or fixes, set to another value than the one it uses, is a
        usage error: no library reports that number (``hinge:margin=2`` under sklearn, whose margin is 1)."""
        for name, why in variant.lacks.items():
            if resolved[name] != library[name]:
                others = [c for c, v in self.conventions.items() if c != convention and name not in v.lacks]
                usable = ["lossctl", *others]
                keywords = " or ".join(f'convention="{c}"' for c in usable)
                raise UsageError(
                    f"loss '{self.name}' with convention {convention} takes no parameter '{name}' ({why}); drop "
                    f"{name} or use {option('convention', ' or '.join(usable), keyword=keywords)}"
                )

    @contextmanager
    def naming_errors(self) -> Iterator[None]:
        """A bad parameter value names this loss: ``-l bce,mape --param eps=0.6`` is refused by bce alone."""
        try:
            yield
        except BadValue as error:
            raise BadValue(f"{self.name}: {error}") from None

    def convention(self, name: str) -> Convention | None:
        """The convention's differences (``None`` for lossctl's own definitions)."""
        if name == "lossctl":
            return None
        if name not in CONVENTIONS:
            raise UsageError(f"unknown convention '{name}'; choose one of {', '.join(CONVENTIONS)}")
        if name not in self.conventions:
            have = ", ".join(["lossctl", *self.conventions])
            raise UsageError(f"loss '{self.name}' has no '{name}' convention; it has: {have}")
        return self.conventions[name]

    def function(self, convention: str = "lossctl") -> Callable[..., np.ndarray]:
        variant = self.convention(convention)
        return variant.func if variant and variant.func else self.func

    def aggregate_for(self, convention: str = "lossctl") -> Aggregate:
        variant = self.convention(convention)
        return variant.aggregate if variant and variant.aggregate else self.aggregate

    def aggregate_reducing(self, convention: str, reduction: str, weighted: bool = False) -> Aggregate:
        """The aggregate of ``convention``, after checking that it has ``reduction`` and, when ``weighted`` (sample
        weights are given), that it takes them (the one message of the CLI's ``--reduction`` and ``--weight``,
        :func:`lossctl.evaluate`, a loss call and :class:`~lossctl.Metric`)."""
        aggregate = self.aggregate_for(convention)
        if reduction not in aggregate.reductions:
            what = "is an aggregate: it has" if not aggregate.per_row else "has"
            only = " and ".join(aggregate.reductions)
            raise UsageError(f"loss '{self.name}' {what} only the {only} reduction")
        if weighted and aggregate.unweighted is not None:
            raise UsageError(
                f"loss '{self.name}' with convention {convention} takes no sample weights ({aggregate.unweighted}); "
                f"drop {option('weight', keyword='sample_weight')} or use {option('convention', 'lossctl')}"
            )
        return aggregate

    def contributions(
        self,
        arrays: Mapping[str, np.ndarray],
        params: Mapping[str, Any],
        convention: str = "lossctl",
        reduction: str = "mean",
    ) -> np.ndarray:
        """Per-row contributions for validated float64 ``arrays`` (role -> array) and resolved ``params``.

        Regression losses are elementwise: with vector columns they are averaged over each row's elements,
        and a scalar column is compared with each element of its row. With ``multioutput`` set, the
        elements' losses follow the row mean as one column per output (:mod:`lossctl.outputs`).
        """
        return self.evaluator(params, convention, reduction)(self.inputs(arrays))

    def inputs(self, arrays: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """The arrays in role order, as :meth:`evaluator`'s function takes them: a regression loss's 1-D arrays
        become columns beside a vector role's (they depend on the arrays' shapes, not on their rows)."""
        inputs = [arrays[role] for role in self.role_names]
        return _row_aligned(self.name, self.role_names, inputs) if self.task == "regression" else inputs

    def evaluator(
        self, params: Mapping[str, Any], convention: str = "lossctl", reduction: str = "mean"
    ) -> Callable[[list[np.ndarray]], np.ndarray]:
        """The contributions of :meth:`inputs` for these parameters: made once, called for every block of rows.

        Under a convention that sums elements (:func:`torch_elementwise`), ``reduction="sum"`` scales each row's
        loss (the first contribution) by its number of elements, so the sum is the library's sum over elements.
        """
        own = {k: v for k, v in params.items() if k != "multioutput"}  # the reduction's, not the formula's
        function = self.function(convention)
        per_output = params.get("multioutput") is not None
        row_mean = self.task == "regression"
        variant = self.convention(convention)
        sums_elements = reduction == "sum" and variant is not None and variant.sums_elements

        def scaled(inputs: list[np.ndarray], contributions: np.ndarray) -> np.ndarray:
            elements = max(array.shape[1] if array.ndim == 2 else 1 for array in inputs)
            if elements == 1:
                return contributions
            if contributions.ndim == 1:
                return contributions * elements
            contributions = contributions.copy()
            contributions[:, 0] *= elements
            return contributions

        def evaluate(inputs: list[np.ndarray]) -> np.ndarray:
            if self.origin is None:
                contributions = function(*inputs, **own)
            else:
                from lossctl.plugins import call_plugin

                contributions = call_plugin(self, function, inputs, own)
            if per_output:
                from lossctl.outputs import with_outputs

                contributions = with_outputs(contributions)
            elif row_mean and contributions.ndim == 2:
                contributions = contributions.mean(axis=1)
            return scaled(inputs, contributions) if sums_elements else contributions

        return evaluate

    def bind_arrays(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], convention: str = "lossctl", row_offset: int = 0
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Array-likes given positionally (in role order) or by role name (or as :data:`ARRAY_KEYWORDS`) as validated
        float64 arrays, and the remaining keywords as resolved parameters; the checks of the Python API's boundary.
        Rows in messages are counted from ``row_offset`` (a batch's first row in a stream)."""
        if len(args) > len(self.roles):
            raise UsageError(
                f"loss '{self.name}' takes {len(self.roles)} arrays ({', '.join(self.role_names)}), got {len(args)}"
            )
        raw = dict(zip(self.role_names, args, strict=False))
        spelled = {role: role for role in self.role_names}
        for keyword, role in ARRAY_KEYWORDS.items():
            if keyword in kwargs and role in self.role_names:
                if role in kwargs:
                    raise UsageError(
                        f"loss '{self.name}': the array '{role}' is given twice, as {keyword}= and as {role}="
                    )
                kwargs[role], spelled[role] = kwargs.pop(keyword), keyword
        named = {k: kwargs.pop(k) for k in list(kwargs) if k in self.role_names}
        for role in named.keys() & raw.keys():  # as Python's "got multiple values for argument", not one silently
            raise UsageError(
                f"loss '{self.name}': the array '{role}' is given twice, as positional array "
                f"{self.role_names.index(role) + 1} ({', '.join(self.role_names)}) and as {spelled[role]}="
            )
        raw.update(named)
        raw = {role: value for role, value in raw.items() if value is not None}  # var=None: missing, as in a Metric
        self.require_roles(raw)
        arrays = {
            role: query_ids(value, role, row_offset)[0]
            if role == "qid"
            else as_float_array(value, role, self.role(role).ndims, row_offset)
            for role, value in raw.items()
        }
        lengths = [len(a) for a in arrays.values()]
        if len(set(lengths)) > 1:
            raise InputError(f"found input variables with inconsistent numbers of samples: {lengths}")
        if lengths[0] == 0:
            raise InputError(f"loss '{self.name}': the input has no rows")
        return arrays, self.resolve_params(kwargs, convention)

    def require_roles(self, given: Iterable[str]) -> None:
        """Refuse arrays that leave a role of this loss without values."""
        missing = [r for r in self.role_names if r not in set(given)]
        if missing:
            raise UsageError(
                f"loss '{self.name}' needs the arrays {', '.join(self.role_names)}; missing: {', '.join(missing)}"
            )

    def role(self, name: str) -> Role:
        return self._roles_by_name[name]

    @overload
    def __call__(  # the keyword picks the type: overloads are tried in order
        self,
        *arrays: Any,
        sample_weight: Any = None,
        reduction: str = "mean",
        convention: str = "lossctl",
        multioutput: Literal["raw"],
        **kwargs: Any,
    ) -> np.ndarray: ...

    @overload
    def __call__(
        self,
        *arrays: Any,
        sample_weight: Any = None,
        reduction: str = "mean",
        convention: str = "lossctl",
        **kwargs: Any,
    ) -> float: ...

    def __call__(
        self,
        *arrays: Any,
        sample_weight: Any = None,
        reduction: str = "mean",
        convention: str = "lossctl",
        **kwargs: Any,
    ) -> float | np.ndarray:
        """The reduced loss (weighted mean by default) of NumPy-compatible arrays: a float, or with
        ``multioutput="raw"`` an array of one value per output (as scikit-learn's ``raw_values``; typed so when
        the call says it, not when the spec string of :func:`get` does)."""
        from lossctl.options import check_reduction  # options builds on this module

        check_reduction(reduction, f"loss.per_sample({', '.join(self.role_names)}) gives the")
        bound, params = self.bind_arrays(arrays, dict(kwargs), convention)
        aggregate = self.aggregate_reducing(convention, reduction, sample_weight is not None)
        import numpy as np

        from lossctl.stats import weighted_sums

        weight = None if sample_weight is None else as_sample_weight(sample_weight, len(next(iter(bound.values()))))
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is _finite's InputError, not a warning
            contributions = self.contributions(bound, params, convention, reduction)
            stats = weighted_sums(contributions, weight)
        self.check_plugin_result(contributions, stats)
        check_overflow(self.name, contributions, stats, params)
        try:
            if params.get("multioutput") == "raw":
                from lossctl.aggregates import split_stats

                parts = split_stats(stats.tolist())
                values = np.array([aggregate.finalize(part, reduction, params) for part in parts])
                return _finite(self.name, _summed(self.name, stats, values, params), params)
            return finite_value(self.name, stats, aggregate.finalize(stats, reduction, params), params)
        except ZeroWeightSum as error:  # named with the loss, as a Metric and lossctl.evaluate name it
            raise error.naming(self.name) from None

    def per_sample(self, *arrays: Any, convention: str = "lossctl", **kwargs: Any) -> np.ndarray:
        """The loss of each row (reduction ``none``), with ``multioutput="raw"`` of each row and output (rows x K,
        as the call gives K values); aggregate losses such as ``rmse`` have none."""
        aggregate = self.aggregate_for(convention)
        if not aggregate.per_row:
            raise UsageError(f"loss '{self.name}' {aggregate.no_rows}")
        check_per_sample_keywords(kwargs)
        import numpy as np

        bound, params = self.bind_arrays(arrays, dict(kwargs), convention)
        raw = params.get("multioutput") == "raw"
        if raw:
            from lossctl.outputs import per_output_losses
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is _finite's InputError, not a warning
            contributions = self.contributions(bound, params, convention)
            losses = per_output_losses(contributions) if raw else per_row_losses(aggregate, contributions, params)
            if losses is None:
                raise UsageError(f"loss '{self.name}' {aggregate.no_rows}")
        self.check_plugin_result(contributions, losses)
        check_overflow(self.name, contributions, losses, params)
        return _finite(self.name, losses, params)

    def check_plugin_result(self, contributions: np.ndarray, made: np.ndarray, first_row: int = 0) -> None:
        """For a third-party loss, an error naming it and the first row where it returned NaN or an infinity (not
        "a float64 overflow"), looked for only when what was ``made`` of the ``contributions`` (their sums, the
        per-row losses) is not finite. Rows are counted from ``first_row``."""
        import numpy as np

        if self.origin is not None and not np.isfinite(made).all():
            from lossctl.plugins import check_finite

            check_finite(self, self.name, contributions, first_row)


# The keywords that name the target and pred arrays as scikit-learn's metrics do (and lossctl.evaluate, Metric.update),
# besides the roles' own names: loss(y_true=y, y_pred=p) as loss(target=y, pred=p).
ARRAY_KEYWORDS = {"y_true": "target", "y_pred": "pred"}


def check_per_sample_keywords(keywords: dict[str, Any]) -> None:
    """``per_sample`` returns each row's loss, unweighted and unreduced: ``sample_weight=`` and ``reduction=`` (which
    only the reduced value takes) are refused as such, not as 'no parameter' of the loss. ``sample_weight=None``, no
    weights (as a caller that passes scikit-learn's default everywhere gives it), is taken and removed."""
    if "sample_weight" in keywords and keywords["sample_weight"] is None:
        del keywords["sample_weight"]
    for name in ("sample_weight", "reduction"):
        if name in keywords:
            raise UsageError(
                f"per_sample() takes no {name}=: it returns each row's loss, unweighted and unreduced ({name}= is "
                "for the reduced value)"
            )


# A parameter beyond this magnitude, or nonzero and below its inverse, has a square (or a reciprocal's square)
# float64 cannot hold: an overflow of a loss with such a parameter is the parameter's doing, whatever the inputs.
_EXTREME = 1e150


def overflow_remedy(params: Mapping[str, Any]) -> str:
    """What to change when a loss with resolved ``params`` overflows float64: its parameters of extreme magnitude
    (above 1e150, or nonzero below 1e-150: ``contrastive:margin=1e300``, ``info_nce:temperature=1e-300``) where it
    has some, else the inputs."""
    remedies = []
    for key, value in params.items():
        items = value if isinstance(value, tuple) else (value,)
        numbers = [float(n) for n in items if isinstance(n, int | float) and not isinstance(n, bool)]
        large = [n for n in numbers if abs(n) > _EXTREME]
        tiny = [n for n in numbers if 0 < abs(n) < 1 / _EXTREME]
        if large:
            remedies.append(f"{key}={written(large[0])} is too large for float64 arithmetic: use a smaller {key}")
        elif tiny:
            remedies.append(f"{key}={written(tiny[0])} is too close to 0 for float64 arithmetic: use a larger {key}")
    return "; ".join(remedies) or "rescale the inputs"


def row_overflow(name: str, params: Mapping[str, Any], row: int, values: int) -> InputError:
    """The input error of a loss whose value overflows float64 in ``row`` (``values`` of them in all): the one
    message of a row's overflow, in a file (the engine) or in arrays (a loss's call, :class:`lossctl.Metric`)."""
    return InputError(
        f"{name}: the loss overflows float64 at row {row} ({count(values, 'value')}); {overflow_remedy(params)}",
        row=row,
    )


def check_overflow(
    name: str, contributions: np.ndarray, made: np.ndarray, params: Mapping[str, Any], first_row: int = 0
) -> None:
    """The :func:`row_overflow` of the first row whose ``contributions`` are not finite, looked for only when what
    was ``made`` of them (their sums, the per-row losses) is not finite. Rows are counted from ``first_row``."""
    import numpy as np

    if np.isfinite(made).all():
        return
    finite = np.isfinite(contributions).reshape(len(contributions), -1)
    if not finite.all():
        position = int(np.argmax(~finite.all(axis=1)))
        raise row_overflow(name, params, first_row + position, int((~finite).sum()))


def _finite(name: str, values: Any, params: Mapping[str, Any]) -> Any:
    """``values`` when every one is finite; a result that overflows float64 is an input error (docs/losses.md),
    never a silent ``inf`` or ``nan``."""
    import numpy as np

    if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
        raise InputError(f"{name}: the result is not a finite number (a float64 overflow); {overflow_remedy(params)}")
    return values


def _summed(name: str, stats: np.ndarray, values: Any, params: Mapping[str, Any]) -> Any:
    """``values`` when the sums they were finalized from are finite: sample weights whose sum overflows float64
    would otherwise give a finite sum divided by an infinite weight, 0.0 (the command line's accumulator makes such a
    sum NaN and says the same)."""
    import numpy as np

    if not np.isfinite(stats).all():
        raise sum_overflow(name, stats, params)
    return values


def sum_overflow(name: str, stats: np.ndarray, params: Mapping[str, Any]) -> InputError:
    """The input error of ``stats`` (``[sum(w*c)..., sum(w), n]``) that overflow float64 while each row's loss is
    finite: the one message of it, in a file (the command line) or in arrays (a loss's call, a Metric), naming the
    weights where their own sum overflows."""
    import numpy as np

    if not np.isfinite(stats[-2]):
        return InputError(
            f"{name}: the sum of the sample weights overflows float64; use smaller weights (dividing every weight by "
            "one factor leaves a weighted mean unchanged)"
        )
    return InputError(f"{name}: the sum of its rows overflows float64; {overflow_remedy(params)}")


def finite_value(name: str, stats: np.ndarray, value: Any, params: Mapping[str, Any]) -> float:
    """A loss's ``value`` finalized from ``stats``, when the sums and it are finite (the sums first: an overflowed
    sum makes the value NaN or 0): the one check of a reduced value outside the engine (a loss's call,
    :class:`lossctl.Metric`), an input error that says what to change, as the command line's."""
    return float(_finite(name, _summed(name, stats, value, params), params))


def _row_aligned(name: str, roles: tuple[str, ...], arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Elementwise inputs of one shape: a 1-D array becomes a column, so NumPy pairs it with its own row
    (plain broadcasting would pair row i's value with column i); vectors of different lengths are an error, and so
    is a vector in another role (``var``) beside one prediction and one target per row: K variances of one mean are
    no multi-output prediction (torch's GaussianNLLLoss refuses a variance wider than its input)."""
    widths = {role: array.shape[1] for role, array in zip(roles, arrays, strict=True) if array.ndim == 2}
    if len(set(widths.values())) > 1:
        raise MismatchedWidths(name, widths)
    if not widths:
        return arrays
    wide = {role: width for role, width in widths.items() if width > 1}
    if wide and not {"pred", "target"} & set(wide):
        role, width = next(iter(wide.items()))
        raise InputError(
            f"loss '{name}': '{role}' holds {width} values per row but 'pred' and 'target' one each; give '{role}' "
            "one value per row, or as many as the prediction"
        )
    return [array[:, None] if array.ndim == 1 else array for array in arrays]


def per_row_losses(aggregate: Aggregate, contributions: np.ndarray, params: Mapping[str, Any]) -> np.ndarray | None:
    """The per-row losses of one binding's ``contributions``: the contributions, or their first column when the loss
    returns several, or what the aggregate makes of them (:attr:`Aggregate.rows`); ``None`` where it has none
    (an aggregate; segmentation on scalar columns; ``class_balanced`` without ``counts``)."""
    if not aggregate.per_row:
        return None
    if aggregate.rows is not None:
        return aggregate.rows(contributions, params)
    return contributions if contributions.ndim == 1 else contributions[:, 0]


def as_float_array(values: Any, name: str, ndims: tuple[int, ...], row_offset: int = 0) -> np.ndarray:
    """``values`` as float64, rejecting missing or infinite values (the API's boundary check)."""
    import numpy as np

    NotAnArray.check(values, name)
    array = _float64(values, name, row_offset)
    if array.ndim not in ndims:
        shapes = " or ".join({1: "a 1-D array", 2: "a 2-D array (rows x values)"}[n] for n in ndims)
        raise InputError(f"'{name}' must be {shapes}, got shape {array.shape}")
    if array.ndim == 2 and array.shape[1] == 0 and len(array):
        raise EmptyVectors(f"'{name}'", row_offset)
    bad = ~np.isfinite(array)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(array), -1).any(axis=1))
        kind = "missing (NaN)" if np.isnan(array).any() else "infinite"
        raise InputError(f"'{name}' has {kind} values in {count(len(rows), 'row')} (first: row {rows[0] + row_offset})")
    return array


def _float64(values: Any, name: str, row_offset: int = 0) -> np.ndarray:
    """``values`` as float64, NaN where missing: through NumPy when it holds numbers, else read as
    :func:`lossctl.evaluate` reads a column, through Arrow: a pyarrow array (whose timestamps NumPy would turn
    into numbers), vectors held one per row (a list or fixed-size-list array, a polars list Series, a pandas
    Series of lists) as a (rows x K) matrix, and text numbers. Dates, durations and complex numbers are refused,
    not read as their ticks or real parts."""
    import numpy as np

    if isinstance(values, np.ma.MaskedArray):
        from lossctl.io.sources import masked_as_missing

        values = masked_as_missing(values)
    if _through_numpy(values):
        try:
            array = np.asarray(values)
        except ValueError:  # rows of different lengths: Arrow names the odd row
            array = np.asarray(values, dtype=object)
        if array.dtype.kind in "biuf":
            return array.astype(np.float64, copy=False)
        if array.dtype.kind in "mMcV":
            raise InputError(f"'{name}' must be numeric, got values of type {array.dtype}")
        if array.dtype.kind != "U":  # text is read as a column's text (NumPy's float() took '1_000' as 1000)
            try:
                return np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError, OverflowError):  # OverflowError: an integer past float64's range (10**400)
                pass
    from lossctl.io.sources import array_values

    return array_values(values, name, row_offset)


def _through_numpy(values: Any) -> bool:
    """Whether ``values`` are read through NumPy: not a pyarrow array, nor a polars Series of 128-bit integers,
    which NumPy has no type for (polars raised InvalidOperationError): Arrow reads those as their text, as
    :func:`lossctl.evaluate` reads such a column."""
    module = type(values).__module__
    if module.startswith("polars"):
        return str(getattr(values, "dtype", "")) not in ("Int128", "UInt128")
    return not module.startswith("pyarrow")


def query_ids(values: Any, name: str = "qid", row_offset: int = 0) -> tuple[np.ndarray, list[Any]]:
    """Query ids of any type (integers, text, dates; docs/cli.md, "Labels") as float64 codes, equal where the ids
    are equal, and the distinct ids. Integers are compared exactly (as floats, ids above 2**53 would merge)."""
    import numpy as np

    NotAnArray.check(values, name)
    if isinstance(values, np.ma.MaskedArray):
        from lossctl.io.sources import masked_as_missing

        values = masked_as_missing(values)
    if _through_numpy(values):
        try:
            array = np.asarray(values)
        except ValueError:
            raise InputError(f"'{name}' must be a 1-D array, got rows of different lengths") from None
        if array.dtype.kind not in "biu":
            array = _query_array(values, name, row_offset)
    else:
        array = _query_array(values, name, row_offset)
    if array.ndim != 1:
        raise InputError(f"'{name}' must be a 1-D array, got shape {array.shape}")
    if array.dtype.kind == "f":
        as_float_array(array, name, (1,), row_offset)  # missing or infinite ids: the message the other roles give
    distinct, codes = np.unique(array, return_inverse=True)
    return codes.reshape(-1).astype(np.float64), distinct.tolist()


def _query_array(values: Any, name: str, row_offset: int) -> np.ndarray:
    """Query ids that are not NumPy integers, read as :func:`lossctl.evaluate` reads a column: integers exactly,
    other numbers as float64, any other type (text, dates) as its Python values; a missing id is an error."""
    import numpy as np
    import pyarrow as pa

    from lossctl import arrow
    from lossctl.io.sources import array_column

    column = array_column(values, name)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_nested(column.type):  # as the command line refuses a qid column of lists or structs
        raise InputError(
            f"'{name}' holds nested values ({column.type}), not one query id per row; give query ids as text, "
            "numbers, booleans or dates"
        )
    if column.null_count:
        rows = np.flatnonzero(arrow.missing(column))
        raise InputError(
            f"'{name}' has missing values in {count(len(rows), 'row')} (first: row {rows[0] + row_offset})"
        )
    if pa.types.is_integer(column.type):
        return arrow.integers(column)
    if pa.types.is_floating(column.type) or pa.types.is_boolean(column.type) or pa.types.is_decimal(column.type):
        return _float64(column, name, row_offset)
    return np.array(column.to_pylist(), dtype=object)


def one_weight_per_row(values: Any) -> Any:
    """``sample_weight`` as one value per row, as scikit-learn's ``column_or_1d`` takes it: a column vector
    (``(rows, 1)``: a NumPy array, a one-column DataFrame, a list of 1-element lists) is its one column; a single
    number is refused (a weight is given per row); anything else is returned as it is."""
    import numpy as np

    if isinstance(values, numbers.Number | str | bytes) or getattr(values, "ndim", None) == 0:
        single = values.item() if hasattr(values, "item") else values
        raise InputError(
            f"sample_weight takes one weight per row (an array as long as y_true), got the single value {single!r}"
        )
    shape = getattr(values, "shape", None)
    if shape is None and isinstance(values, list | tuple):
        shape = np.shape(np.asarray(values, dtype=object))
        if len(shape) == 2 and shape[1] == 1:
            return [row[0] for row in values]
    if shape is None or len(shape) != 2 or shape[1] != 1:
        return values
    return values.iloc[:, 0] if hasattr(values, "iloc") else values[:, 0]


def as_sample_weight(values: Any, rows: int, row_offset: int = 0) -> np.ndarray:
    """``sample_weight`` as float64, one finite value >= 0 per row (the API's boundary check, as the CLI's)."""
    import numpy as np

    weight = as_float_array(one_weight_per_row(values), "sample_weight", (1,), row_offset)
    if len(weight) != rows:
        raise InputError(
            f"sample_weight must have one value per row: it has {count(len(weight), 'value')} for {count(rows, 'row')}"
        )
    negative = weight < 0
    if negative.any():
        bad = np.flatnonzero(negative)
        raise InputError(
            f"sample_weight must be >= 0: it has negative values in {count(len(bad), 'row')} (first: "
            f"{weight[bad[0]]:g} at row {bad[0] + row_offset})"
        )
    return weight


# Set by lossctl.plugins while a plugin imports, so that its losses carry its name (LossSpec.origin).
registering_from: str | None = None
_LOSSES: dict[str, LossSpec] = {}
_ALIASES: dict[str, str] = {}
_loaded = False  # the registry is complete (read without the lock once true)
_loading = False  # a thread is filling it: the same thread may ask again (a plugin calling get() on import)
_load_lock = threading.RLock()


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _require_name(what: str, name: object) -> None:
    """A ``ValueError`` unless ``name`` (of a loss, role or parameter being declared) is one that ``-l``,
    ``--param LOSS.KEY``, ``--col ROLE=COLUMN`` and ``--fail-if`` can spell."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"{what} name {name!r} is not a name: letters, digits and '_', not starting with a digit")


def register_loss(
    name: str,
    *,
    task: str,
    summary: str,
    formula: str,
    follows: str = "not stated",
    properties: Properties | None = None,
    when: str = "not stated",
    roles: Iterable[str | Role] = ("target", "pred"),
    params: Iterable[Param] = (),
    aliases: Iterable[str] = (),
    aggregate: Aggregate = MEAN,
    conventions: Mapping[str, Convention] | None = None,
    batch_param: str | None = None,
    whole_input: bool = False,
    violation: Violation | None = None,
    weights_scale: bool = True,
    on_probabilities: str | None = None,
    pairwise: bool = False,
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Register the decorated per-row function as loss ``name``; the function is returned unchanged.

    Roles given as plain names are scalar, except for regression losses, whose roles take vector
    columns too (averaged over elements). ``batch_param`` names the parameter holding the batch
    size of a batch loss (the engine cuts chunks at batch boundaries); ``whole_input`` losses see
    every row at once, or with a ``qid`` role every row of a query at once (ranking pools pairs across a
    query's rows); ``pairwise`` losses compare every pair of a query's rows (their cost grows with its size
    squared, and a very large query is announced before the work starts). Both make the rows interact
    (:attr:`LossSpec.rows_interact`). ``violation`` is an example input outside the loss's domain
    (``None``: every finite input is valid); ``weights_scale=False`` says that multiplying every
    sample weight by a constant changes the value (weighted sums enter the formula beside a
    constant, as segmentation's ``smooth``). ``on_probabilities`` names the loss to suggest when this
    loss, which takes logits, is given predictions that all look like probabilities (a notice).
    """
    plain_shape = "any" if task == "regression" else "scalar"
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}'; tasks: {', '.join(TASKS)}")
    for key in (name, *aliases):
        _require_name("loss", key)
    for word, text in (("summary", summary), ("formula", formula), ("follows", follows), ("when", when)):
        if not isinstance(text, str):  # list and describe showed 'None', and JSON null where text is promised
            raise ValueError(f"loss '{name}': {word} is text, got {type(text).__name__}")
    declared = tuple(r if isinstance(r, Role) else Role(r, shape=plain_shape) for r in roles)
    params = tuple(params)
    _check_inputs(name, declared, params, aggregate)
    _check_description(name, properties, conventions, batch_param, params)

    def decorator(func: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        if not callable(func):
            raise TypeError(f"loss '{name}': register_loss decorates a function, got {type(func).__name__}")
        spec = LossSpec(
            name=name,
            task=task,
            func=func,
            roles=declared,
            params=params,
            summary=summary,
            formula=formula,
            follows=follows,
            properties=properties or UNSTATED,
            when=when,
            aliases=tuple(aliases),
            aggregate=aggregate,
            conventions=dict(conventions or {}),
            batch_param=batch_param,
            whole_input=whole_input,
            violation=violation,
            weights_scale=weights_scale,
            on_probabilities=on_probabilities,
            origin=_origin(func),
            pairwise=pairwise,
        )
        add(spec)
        return func

    return decorator


def _check_inputs(name: str, roles: tuple[Role, ...], params: tuple[Param, ...], aggregate: Aggregate) -> None:
    """Refuse, where it is registered, a loss the engine could not call: no role (it read ``inputs[0]``), a role
    or parameter named twice or both (a second keyword), or an aggregate that is not one. Each ran until the
    first evaluation, which failed there (``IndexError``) or as a bug in lossctl."""
    if not roles:
        raise ValueError(f"loss '{name}' has no roles; a loss reads at least one input (target, pred...)")
    for param in params:
        if not isinstance(param, Param):
            raise ValueError(f"loss '{name}': params are lossctl.Param declarations, got {type(param).__name__}")
    names = [role.name for role in roles] + [param.name for param in params]
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise ValueError(f"loss '{name}' names '{twice}' twice among its roles and parameters")
    if not isinstance(aggregate, Aggregate):
        raise ValueError(f"loss '{name}': aggregate is one of lossctl's aggregates, got {type(aggregate).__name__}")


def _check_description(
    name: str,
    properties: Properties | None,
    conventions: Mapping[str, Convention] | None,
    batch_param: str | None,
    params: tuple[Param, ...],
) -> None:
    """Refuse what describe and the engine could not read: properties and conventions of the wrong types (describe
    failed as a bug in lossctl), a convention lossctl does not know, or a ``batch_param`` that is not a positive
    integer parameter of the loss (an unknown one failed every evaluation as a bug; a float one cut chunks at
    int(2.5) rows while the loss batched otherwise)."""
    if properties is not None and not isinstance(properties, Properties):
        raise ValueError(f"loss '{name}': properties is a lossctl.Properties, got {type(properties).__name__}")
    for library, convention in (conventions or {}).items():
        if library not in CONVENTIONS or library == "lossctl" or not isinstance(convention, Convention):
            raise ValueError(
                f"loss '{name}': conventions maps {', '.join(CONVENTIONS[1:])} to a Convention, got {library!r}: "
                f"{type(convention).__name__}"
            )
    if batch_param is not None:
        batch = next((param for param in params if param.name == batch_param), None)
        if batch is None or batch.kind != "int" or batch.minimum is None or batch.minimum < 1:
            raise ValueError(
                f"loss '{name}': batch_param {batch_param!r} is not one of its parameters of kind 'int' with "
                "minimum >= 1"
            )


def _origin(func: Callable[..., Any]) -> str | None:
    """Where a loss comes from: the plugin being loaded, else the module of a function outside lossctl."""
    if registering_from is not None:
        return registering_from
    module = getattr(func, "__module__", None) or "?"
    return None if module == "lossctl" or module.startswith("lossctl.") else f"module '{module}'"


def add(spec: LossSpec) -> None:
    """Put ``spec`` in the registry; a name or alias already taken is an error, never a silent override."""
    for key in (spec.name, *spec.aliases):
        holder = _LOSSES.get(_ALIASES.get(key.lower(), key.lower()))
        if holder is not None:  # named with whose it is: a plugin's 'l2' is the built-in mse's alias
            origin = f" ({spec.origin})" if spec.origin else ""
            owner = f"loss '{holder.name}' ({holder.origin})" if holder.origin else f"the built-in loss '{holder.name}'"
            taken = f"taken by {owner}" if holder.name.lower() == key.lower() else f"an alias of {owner}"
            raise UsageError(f"loss name '{key}'{origin} is already {taken}")
    _LOSSES[spec.name.lower()] = spec
    for alias in spec.aliases:
        _ALIASES[alias.lower()] = spec.name.lower()


def ensure_loaded() -> None:
    """Register the built-in losses and the installed plugins' (entry points), once, on first use.

    Threads that ask while another fills the registry wait for it to finish: a program whose threads make their
    first calls at once must not find half a registry (``unknown loss 'mse'``)."""
    global _loaded, _loading
    if _loaded:
        return
    with _load_lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            _load_builtins()
            from lossctl.plugins import load_entry_points

            load_entry_points()
            _loaded = True  # not when interrupted: the next call loads what is missing
        finally:
            _loading = False


def _load_builtins() -> None:
    """Import the family modules, which register the built-in losses; if that is interrupted (a Ctrl-C in a notebook
    during the first call), the registry and the modules are as they were before, so the next call imports them
    again. The registry was marked complete regardless: every later call in the process said ``unknown loss
    'mse'``."""
    losses, aliases, modules = dict(_LOSSES), dict(_ALIASES), set(sys.modules)
    try:
        import lossctl.losses  # noqa: F401  (the family modules register themselves on import)
    except BaseException:
        _LOSSES.clear()
        _LOSSES.update(losses)
        _ALIASES.clear()
        _ALIASES.update(aliases)
        for name in set(sys.modules) - modules:  # the helpers (_checks, _shared) register nothing: kept
            if name == "lossctl.losses" or (name.startswith("lossctl.losses.") and "._" not in name):
                del sys.modules[name]
        raise


def closest(name: str, names: Iterable[str]) -> str:
    """``; did you mean 'gamma'?`` for a misspelt parameter or value ``name``: the one of ``names`` that differs only
    in case, else the closest; ``""`` when none is close."""
    names = list(names)
    close = [n for n in names if n.lower() == name.lower()] or difflib.get_close_matches(name, names, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _lookup(name: str) -> LossSpec:
    ensure_loaded()
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in _LOSSES:
        return _LOSSES[key]
    raise UsageError(
        f"unknown loss '{show_name(name)}'{_spelling_hint(name.strip())} (run 'lossctl list' to see every loss)"
    )


def _registered(name: str, preset: dict[str, Any]) -> LossSpec:
    """The registry's entry ``name`` with ``preset`` parameters (:meth:`LossSpec.__reduce_ex__`)."""
    spec = _lookup(name)
    return replace(spec, preset=preset) if preset else spec


def _spelling_hint(text: str) -> str:
    """What an unknown loss name was likely meant as: losses separated by spaces (``mse mae``), parameters after
    another separator than ``:`` (``huber delta=2``, ``huber(delta=2)``), else the closest names."""
    words = re.split(r"[\s;]+", text)
    if len(words) > 1 and all(word.lower() in _LOSSES or word.lower() in _ALIASES for word in words):
        return f"; separate losses with a comma: -l {','.join(words)}"
    head = _NAME.match(text)
    if head and head[0].lower() in (*_LOSSES, *_ALIASES) and "=" in text:
        assignments = re.findall(r"\w+\s*=\s*[^\s;,()]+", text[head.end() :])
        return f"; parameters follow the name after ':', e.g. {head[0]}:{':'.join(assignments)}" if assignments else ""
    close = difflib.get_close_matches(text.lower(), [*_LOSSES, *_ALIASES], n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def parse_spec(text: str, quoted: str | None = None) -> tuple[LossSpec, dict[str, Any]]:
    """``"huber:delta=2"`` -> (the huber entry, ``{"delta": 2.0}``): the ``-l`` form, parameters after ``:``.
    Messages quote the spec as ``quoted`` where given, else as ``'-l huber:...'`` (``'huber:...'`` from Python)."""
    name, *assignments = text.split(":")
    if not name.strip():  # not "unknown loss ''"
        raise UsageError(f"no loss name in '{text}'; expected NAME[:KEY=VALUE...], e.g. huber:delta=2")
    spec = _lookup(name)
    if quoted is None:  # get("huber:") from Python was quoted as "-l huber:"
        quoted = f"'-l {text}'" if flags_spelled() else f"'{text}'"
    given: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"expected KEY=VALUE in {quoted}, got '{assignment}'")
        if key.strip() in given:
            raise UsageError(f"{quoted} gives '{key.strip()}' twice")
        with spec.naming_errors():
            given[key.strip()] = spec.param(key.strip()).parse(value.strip())
    return spec, given


def loss_spec_text(name: object) -> str:
    """``name`` when it is a string (a ``-l`` spec); from Python anything else is a usage error quoting it."""
    if not isinstance(name, str):
        shown = reprlib.repr(name)
        raise UsageError(f"a loss is named by a string (such as 'huber:delta=2'), got {shown} ({type(name).__name__})")
    return name


def get(name: str) -> LossSpec:
    """The loss called ``name`` or one of its aliases, case-insensitively; ``"huber:delta=2"`` (the ``-l`` form)
    gives the entry with those parameters as its defaults.

    >>> get("huber:delta=2")([0.0], [3.0])
    4.0
    """
    from lossctl.params import check_one_loss, named_composite  # params builds on this module

    text = loss_spec_text(name)
    several = f"lossctl.evaluate(data, losses='{named_composite(text)}') computes"
    check_one_loss(text, "get", f"{several} it", f"{several} each")
    return spec_of(text)


def spec_of(text: str, quoted: str | None = None) -> LossSpec:
    """The entry a ``-l`` spec names, its parameters its defaults (:func:`parse_spec`, messages quoting ``quoted``)."""
    spec, given = parse_spec(text, quoted)
    return replace(spec, preset=given) if given else spec


def list_losses(task: str | None = None) -> list[LossSpec]:
    """Every registered loss, in registration order, optionally of one task (case-insensitive, as every choice).
    A task that is not one is a usage error naming the option (``--task`` from ``lossctl list``)."""
    ensure_loaded()
    wanted = task.lower() if task is not None else None
    if task is not None and wanted not in TASKS:
        tasks = f"tasks: {', '.join(TASKS)}"
        if not task.strip():  # often an unset shell variable: as --loss '', not "unknown task ''"
            raise UsageError(f"{option('task')} needs a task name, got {task!r}; {tasks}")
        hint = closest(task.strip().lower(), TASKS)
        raise UsageError(f"{option('task')} '{show_name(task)}' is not a task; {tasks}{hint}")
    specs = [spec for spec in _LOSSES.values() if wanted is None or spec.task == wanted]
    return sorted(specs, key=lambda spec: TASKS.index(spec.task))
