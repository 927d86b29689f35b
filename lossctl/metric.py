"""``lossctl.Metric``: one loss evaluated batch by batch, merged across processes, computed once.

The state is the loss's mergeable statistics vector ``[sum(w*c)..., sum(w), n]`` (docs/losses.md, "Rules for
every loss", Reduction), summed with Neumaier compensation: the same arithmetic as the engine behind ``lossctl
eval``, so a loss computed over batches, over workers, or by the CLI over a file gives the same number. The state
is a few floats (a ranking loss's adds the query ids it has seen) and pickles small, so a Metric can live in a
training loop, a Dask or Spark task, or a Ray actor::

    metric = lossctl.Metric("huber:delta=2")
    for y, p in batches:
        metric.update(y, p)
    metric.compute()
"""

from __future__ import annotations

import copy
import numbers
import sys
from importlib import import_module
from typing import Any

import numpy as np

from lossctl import __version__
from lossctl.errors import DomainError, InputError, NotAnArray, UsageError, ZeroWeightSum
from lossctl.options import CONVENTIONS, check_choice, check_reduction
from lossctl.params import LossRequest, build_requests, check_one_loss
from lossctl.registry import (
    ARRAY_KEYWORDS,
    as_sample_weight,
    check_overflow,
    check_per_sample_keywords,
    closest,
    finite_value,
    loss_spec_text,
    per_row_losses,
    query_ids,
)
from lossctl.stats import Accumulator, weighted_sums
from lossctl.text import count, shown_value


class Metric:
    """A streaming loss: :meth:`update` per batch, :meth:`merge` across workers, :meth:`compute` at the end.

    ``spec`` is a ``-l`` spec (``"huber:delta=2"``); ``convention`` and ``reduction`` are those of
    :func:`lossctl.evaluate`. Arrays are passed as ``update(y_true, y_pred, sample_weight=None)``, with the
    loss's other roles by name (``var=``, ``qid=``, ``anchor=``...).

    Losses whose rows interact keep their rules: a batch loss (``info_nce``) needs every update, and every
    Metric merged, but the last to hold whole batches, and a ranking loss needs each query's rows in one update.

    >>> metric = Metric("mae")
    >>> metric.update([0.0, 1.0], [1.0, 1.0])
    >>> metric.update([2.0], [5.0])
    >>> metric.compute()
    1.3333333333333333
    """

    def __init__(self, spec: str, *, convention: str = "lossctl", reduction: str = "mean") -> None:
        check_one_loss(loss_spec_text(spec), "Metric", "use one Metric per part", "use one Metric per loss")
        self.spec = spec
        self.convention = check_choice("convention", convention, CONVENTIONS)
        self.reduction = check_reduction(reduction, "metric.per_sample(y_true, y_pred) gives one batch's")
        self._request = self._resolve()
        if self._request.params.get("multioutput") == "raw":
            raise UsageError(
                f"Metric('{spec}') computes one value, and multioutput=raw gives one per output: use "
                f"multioutput=uniform (their mean), or lossctl.get('{spec}') for one batch's values per output"
            )
        self._request.spec.aggregate_reducing(convention, reduction)
        self._sums: Accumulator | None = None
        self.rows = 0
        self._partial_batch = False
        self._queries: set[Any] = set()
        self._shapes: dict[str, tuple[int, ...]] | None = None  # each role's shape of one row, once rows are seen

    def _resolve(self) -> LossRequest:
        (request,) = build_requests([self.spec], (), self.convention)
        return request

    @property
    def name(self) -> str:
        """The loss's label: its name with the parameters given (``huber:delta=2``)."""
        return self._request.label

    @property
    def params(self) -> dict[str, Any]:
        """Every parameter of the loss with the value used (defaults included)."""
        return dict(self._request.params)

    @property
    def state(self) -> np.ndarray | None:
        """The merged statistics vector ``[sum(w*c)..., sum(w), n]``, or ``None`` before the first update."""
        return None if self._sums is None else self._sums.value

    def _given(self, y_true: Any, y_pred: Any, roles: dict[str, Any], weighted: bool = True) -> dict[str, Any]:
        """The arrays of one call by role, every role of the loss given and nothing else. A keyword that names
        a parameter is refused: the parameters are the Metric's, fixed when it is made; a misspelt one is told the
        keyword meant, ``sample_weight`` among them where the call takes weights (``weighted``)."""
        spec = self._request.spec
        given = {role: values for role, values in (("target", y_true), ("pred", y_pred)) if values is not None}
        for role in given.keys() & roles.keys():  # not one of them silently
            raise UsageError(f"the array '{role}' is given twice, as {_POSITIONAL[role]} and as {role}=")
        given.update(roles)
        for role in given:
            if role in spec.role_names:
                continue
            if any(param.name == role for param in spec.params):
                raise UsageError(
                    f"'{role}' is a parameter of {spec.name}, fixed when the Metric is made "
                    f"(Metric('{spec.name}:{role}=...')); update() and per_sample() take its arrays: "
                    f"{', '.join(spec.role_names)}"
                )
            if role in ("convention", "reduction"):
                raise UsageError(
                    f"{role} is a setting of the Metric, fixed when it is made (Metric('{self.spec}', {role}=...)); "
                    f"update() and per_sample() take its arrays: {', '.join(spec.role_names)}"
                )
            if role == "weight":  # the command line's --weight; scikit-learn's name is the one taken here
                raise UsageError("update() takes the sample weights as sample_weight=, not weight=")
            if role not in roles:  # a positional array: y_true and y_pred are scikit-learn's, target and pred
                raise UsageError(
                    f"loss '{spec.name}' takes no {_POSITIONAL[role]} (it has no role '{role}'); "
                    f"give its arrays by name: {', '.join(f'{name}=...' for name in spec.role_names)}"
                )
            keywords = [*spec.role_names, *(k for k, r in ARRAY_KEYWORDS.items() if r in spec.role_names)]
            hint = closest(role, [*keywords, *(["sample_weight"] if weighted else [])])  # sample_weights=, qids=
            raise UsageError(f"loss '{spec.name}' has no role '{role}'; its roles: {', '.join(spec.role_names)}{hint}")
        given = {role: values for role, values in given.items() if values is not None}  # var=None, as y_pred=None
        spec.require_roles(given)
        return given

    def _arrays(self, given: dict[str, Any]) -> dict[str, np.ndarray]:
        arrays, _ = self._request.spec.bind_arrays((), dict(given), self.convention, self.rows)
        return arrays

    def _check_rows(self, arrays: dict[str, np.ndarray], given: dict[str, Any]) -> tuple[bool, set[Any]]:
        """Check one batch against the rows seen, and return what the Metric knows once the batch is added (whether
        it ends on a partial batch, the queries seen); nothing changes until the batch is added."""
        spec = self._request.spec
        rows = len(next(iter(arrays.values())))
        self._check_shapes(_shapes(arrays), "here", "in earlier updates")
        partial = self._partial_batch
        if spec.batch_param:
            batch = int(self._request.params[spec.batch_param])
            if self._partial_batch:
                raise UsageError(
                    f"{self.name}: an update of {count(rows, 'row')} after one whose size was not a multiple of "
                    f"{spec.batch_param}={batch}; only the last update may hold a partial batch"
                )
            partial = rows % batch != 0
        queries = self._queries
        if spec.whole_input and "qid" in arrays:
            batch_queries = set(query_ids(given["qid"])[1])  # the ids as given: the arrays hold this batch's codes
            _check_query_kinds(self.name, batch_queries, self._queries, "here", "in earlier updates")
            repeated = batch_queries & self._queries
            if repeated:
                raise UsageError(
                    f"{self.name}: query {_first(repeated)} appeared in an earlier update; "
                    "each query's rows must come in one update"
                )
            queries = self._queries | batch_queries
        return partial, queries

    def _check_shapes(self, shapes: dict[str, tuple[int, ...]] | None, these: str, those: str) -> None:
        """Rows of one shape in every update: a vector role's values per row (K classes, outputs) cannot change,
        as they cannot within one file."""
        if shapes is None or self._shapes is None:
            return
        for role, shape in shapes.items():
            if shape != self._shapes[role]:
                raise InputError(
                    f"{self.name}: '{role}' {_per_row(shape)} {these} but {_per_row(self._shapes[role])} {those}"
                )

    def update(self, y_true: Any = None, y_pred: Any = None, sample_weight: Any = None, **roles: Any) -> None:
        """Add one batch of rows; an empty batch (an empty Spark or Ray partition) adds nothing."""
        if sample_weight is not None:
            self._request.spec.aggregate_reducing(self.convention, self.reduction, weighted=True)
        given = self._given(y_true, y_pred, roles)
        if all(_no_rows(values, role) for role, values in given.items()):
            if sample_weight is not None:
                as_sample_weight(sample_weight, 0)
            return
        arrays = self._arrays(given)
        rows = len(next(iter(arrays.values())))
        weight = None if sample_weight is None else as_sample_weight(sample_weight, rows, self.rows)
        partial, queries = self._check_rows(arrays, given)
        contributions = self._contributions(arrays)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is an InputError, not a warning
            stats = weighted_sums(contributions, weight)
        self._request.spec.check_plugin_result(contributions, stats, self.rows)
        check_overflow(self.name, contributions, stats, self._request.params, self.rows)  # a sum's: compute()'s
        if self._sums is None:
            self._sums = Accumulator(stats.shape)
        self._sums.add(stats)
        self.rows += len(contributions)
        self._partial_batch, self._queries, self._shapes = partial, queries, _shapes(arrays)

    def _contributions(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        spec = self._request.spec
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                return spec.contributions(arrays, self._request.params, self.convention, self.reduction)
        except DomainError as error:
            raise error.shifted(self.rows) from None

    def merge(self, other: Metric) -> None:
        """Add the rows ``other`` has seen (another batch stream of the same loss, e.g. on another worker)."""
        if not isinstance(other, Metric):
            raise UsageError(f"a Metric merges another Metric, not {type(other).__name__}")
        if other is self:
            raise UsageError(f"a Metric cannot be merged into itself ({self.name}): its rows would count twice")
        # The loss and its parameters, not their spelling: huber and huber:delta=1 are one loss.
        if (other._request.spec.name, other.params) != (self._request.spec.name, self.params):
            raise UsageError(f"cannot merge a Metric of {other.name} into one of {self.name}: they differ")
        for setting in ("convention", "reduction"):  # the same loss under other settings: say which differs
            if getattr(other, setting) != getattr(self, setting):
                raise UsageError(
                    f"cannot merge a Metric of {other.name} with {setting}={getattr(other, setting)} into one with "
                    f"{setting}={getattr(self, setting)}"
                )
        self._check_shapes(other._shapes, "in the Metric merged", "in this one")
        _check_query_kinds(self.name, other._queries, self._queries, "in the Metric merged", "in this one")
        repeated = self._queries & other._queries
        if repeated:
            raise UsageError(
                f"{self.name}: query {_first(repeated)} has rows in both Metrics merged; "
                "each query's rows must come in one update"
            )
        if self._partial_batch and other.rows:
            param = self._request.spec.batch_param
            raise UsageError(
                f"{self.name}: cannot merge a Metric of {count(other.rows, 'row')} into one of {self.rows}, not a "
                f"multiple of {param}={self._request.params.get(param or '')}; only the last Metric merged may hold a "
                "partial batch"
            )
        if other._sums is None:
            return
        if self._sums is None:
            self._sums = Accumulator(other._sums.value.shape)
        self._sums.merge(other._sums)
        self.rows += other.rows
        self._queries |= other._queries
        self._shapes = self._shapes or other._shapes
        self._partial_batch = other._partial_batch  # other's rows come last

    def compute(self) -> float:
        """The loss over every row seen, as ``lossctl eval`` reports it."""
        if self._sums is None or self.rows == 0:
            raise InputError(f"{self.name}: no rows; call update() first")
        aggregate = self._request.spec.aggregate_for(self.convention)
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # an overflow: finite_value's error
                stats = self._sums.value
                value = aggregate.finalize(stats, self.reduction, self._request.params)
        except ZeroWeightSum as error:  # named as lossctl.evaluate names it, as every other error of a Metric is
            raise error.naming(self.name) from None
        return finite_value(self.name, stats, value, self._request.params)

    def per_sample(self, y_true: Any = None, y_pred: Any = None, **roles: Any) -> np.ndarray:
        """The loss of each row of one batch (reduction ``none``); the state is not changed."""
        spec = self._request.spec
        aggregate = spec.aggregate_for(self.convention)
        if not aggregate.per_row:
            raise UsageError(f"loss '{spec.name}' {aggregate.no_rows}")
        check_per_sample_keywords(roles)
        contributions = self._contributions(self._arrays(self._given(y_true, y_pred, roles, weighted=False)))
        losses = per_row_losses(aggregate, contributions, self._request.params)
        if losses is None:
            raise UsageError(f"loss '{spec.name}' {aggregate.no_rows}")
        self._request.spec.check_plugin_result(contributions, losses, self.rows)
        return losses

    def reset(self) -> None:
        """Forget every row (the next epoch)."""
        self._sums = None
        self.rows = 0
        self._partial_batch = False
        self._queries = set()
        self._shapes = None

    def __copy__(self) -> Metric:
        """An independent copy, as :func:`copy.deepcopy` makes: a shallow one would share the running sums, so that
        updating the copy changed the original's value but not its ``rows``. The state is a few floats."""
        return copy.deepcopy(self)

    def __getstate__(self) -> dict[str, Any]:
        """The state without the loss: it is resolved again from the spec text where it is unpickled, so a plugin's
        function need not pickle. A loss registered by an importable module names it (``_module``), as pickle names
        a function's module: a fresh process (a spawned pool's worker, a Spark or Ray task) imports it to find the
        loss, where ``Metric('cubed')`` was "unknown loss 'cubed'" without it. The lossctl version that made the
        state (``_version``) goes with it: another version's statistics may be laid out otherwise."""
        state = dict(self.__dict__)
        del state["_request"]
        state["_version"] = __version__
        spec = self._request.spec
        module = getattr(spec.func, "__module__", None)
        if spec.origin is not None and module not in (None, "__main__", "__mp_main__"):
            state["_module"] = module
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        module = state.pop("_module", None)
        version = state.pop("_version", __version__)  # a state without one was pickled before versions were recorded
        if version != __version__:
            raise UsageError(
                f"this Metric was pickled by lossctl {version}, and this is lossctl {__version__}: its statistics may "
                f"be laid out otherwise; update, merge and compute Metrics with one lossctl version"
            )
        self.__dict__.update(state)
        try:
            self._request = self._resolve()
        except UsageError as unknown:
            if module is None or module in sys.modules:
                raise
            try:
                import_module(module)
            except Exception as error:  # not installed here, or broken: say which module the loss needs
                raise UsageError(
                    f"{unknown}; the Metric was pickled where module '{module}' registered the loss, and it cannot "
                    f"be imported here ({type(error).__name__}: {error})"
                ) from None
            self._request = self._resolve()

    def __repr__(self) -> str:
        """The call that makes this Metric, every setting shown (a sum and a mean Metric differ), and its rows."""
        return f"Metric({self.spec!r}, convention={self.convention!r}, reduction={self.reduction!r}, rows={self.rows})"


# update()'s and per_sample()'s first two arrays, by role.
_POSITIONAL = {role: keyword for keyword, role in ARRAY_KEYWORDS.items()}


def _no_rows(values: Any, role: str) -> bool:
    """Whether a batch's array-like holds no rows, told by its length: not through ``np.asarray``, which raises a
    bare ValueError for rows of different lengths (binding names the odd row) and copies a list of every row. What
    binding refuses is refused empty too: a dict or a set (``{}``), and text (``""`` is one value, not rows)."""
    NotAnArray.check(values, role)
    if isinstance(values, str | bytes):
        return False
    try:
        return len(values) == 0
    except TypeError:  # a scalar or an object without rows: binding refuses it, naming the role
        return False


def _shapes(arrays: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    return {role: array.shape[1:] for role, array in arrays.items()}


def _per_row(shape: tuple[int, ...]) -> str:
    return "is a 1-D array" if not shape else f"holds {count(shape[0], 'value')} per row"


def _check_query_kinds(name: str, these: set[Any], those: set[Any], here: str, there: str) -> None:
    """Query ids of one kind in every update and Metric merged, as in one array (where ``'qid' mixes values of
    different kinds``): the number 1 and the text '1' are no two queries, nor one."""
    if these and those:
        mine, theirs = _query_kind(next(iter(these))), _query_kind(next(iter(those)))
        if mine != theirs:
            raise InputError(f"{name}: 'qid' mixes values of different kinds: {mine} {here}, {theirs} {there}")


def _query_kind(qid: Any) -> str:
    """The kind of a query id as :func:`lossctl.registry.query_ids` gives it: numbers (booleans, integers and
    floats, which compare equal across types), text, or the id's type (dates, times, bytes...)."""
    if isinstance(qid, numbers.Number):
        return "numbers"
    return "text" if isinstance(qid, str) else f"{type(qid).__name__} values"


def _first(queries: set[Any]) -> str:
    """One of ``queries`` for a message, the same one every time."""
    return shown_value(min(queries, key=lambda query: (type(query).__name__, query)))
