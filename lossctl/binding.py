"""Which columns feed which roles: the one place where column specs, default names and gates meet the data.

``evaluate``, ``compare`` and ``suggest`` all bind through :func:`bind`: explicit specs (``--pred``,
``--target``, ``--col ROLE=...``) are resolved against the input's columns, the roles without one take the
default column names of docs/cli.md (each guess reported as a notice), and a role no selected loss reads is
a usage error. With ``--targets``, the target role is bound in the targets file only (a ``target`` column
the predictions file also holds is not a fallback: that would evaluate the wrong targets without a word);
the other roles may name a column of either file. Pure Python: binding happens before any data is read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lossctl.errors import InputError, UsageError, option, role_option
from lossctl.io.columns import (
    DEFAULT_NAMES,
    SideBySide,
    format_columns,
    guess_column,
    resolve_colspec,
)
from lossctl.options import Options, check_by_once
from lossctl.params import (
    Composite,
    FailIf,
    LossRequest,
    build_requests,
    find_requests,
    gate_composite,
    gated_loss,
)
from lossctl.registry import LossSpec, closest
from lossctl.text import count, show_name


@dataclass(frozen=True)
class Binding:
    """The columns of a run: per role, per model, the sample weight and the ``--by`` keys.

    ``models`` maps each model's name to the columns of the roles it binds itself (``pred`` for ``--model``;
    every role holding a model's output for ``compare``); the other roles come from ``roles``. Without models,
    ``roles`` binds everything.
    """

    roles: dict[str, list[str]]
    weight: str | None = None
    by: list[str] = field(default_factory=list)
    models: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def value_columns(self) -> list[str]:
        """Every column bound to a role or a model, once, in binding order."""
        bound = [*self.roles.values(), *(cs for roles in self.models.values() for cs in roles.values())]
        return list(dict.fromkeys(c for columns in bound for c in columns))

    def role_sets(self) -> list[tuple[str | None, dict[str, list[str]]]]:
        """Per model (``None`` without models), the columns of every role."""
        if not self.models:
            return [(None, self.roles)]
        return [(name, {**self.roles, **roles}) for name, roles in self.models.items()]

    def columns(self, *extra: str | None) -> list[str]:
        """Every column the run reads: the roles', the weight, the groups' and ``extra`` (a join key)."""
        names = self.value_columns + [c for c in (self.weight, *self.by, *extra) if c]
        return list(dict.fromkeys(names))

    def report_columns(self) -> dict[str, Any]:
        """The ``columns`` object of the report: roles (``pred`` and ``target`` first, as in docs/cli.md's example),
        ``models`` (name -> columns) and ``weight`` when bound."""
        columns: dict[str, Any] = {role: self.roles[role] for role in ("pred", "target") if role in self.roles}
        columns |= self.roles
        if self.models:
            columns["models"] = {name: roles.get("pred", []) for name, roles in self.models.items()}
        return columns | ({"weight": [self.weight]} if self.weight else {})


def _selected_specs(
    requests: Sequence[LossRequest], gates: Iterable[FailIf], composites: Iterable[Composite]
) -> list[LossSpec]:
    """The specs of the selected losses, then of the losses only a ``--fail-if`` names."""
    composites = list(composites)
    gated = [gated_loss(gate)[0] for gate in gates if gate_composite(gate, composites) is None]
    return [request.spec for request in requests] + gated


def roles_needed(
    requests: Iterable[LossRequest], gates: Iterable[FailIf], composites: Iterable[Composite]
) -> list[str]:
    """The roles the selected and gated losses read; ``target`` and ``pred`` when the losses are still to be
    inferred from the data."""
    selected = list(requests)
    roles: list[str] = [] if selected else ["target", "pred"]
    for spec in _selected_specs(selected, gates, composites):
        roles += [r for r in spec.role_names if r not in roles]
    return roles


def multi_column_roles(
    requests: Iterable[LossRequest], gates: Iterable[FailIf], composites: Iterable[Composite]
) -> dict[str, str]:
    """The roles that a selected or gated loss reads as several columns (K logits, a box), each with the first
    such loss: docs/cli.md gives them no default column."""
    several: dict[str, str] = {}
    for spec in _selected_specs(list(requests), gates, composites):
        for role in spec.roles:
            if role.shape == "vector":
                several.setdefault(role.name, spec.name)
    return several


def single_column(spec: str | None, available: Sequence[str], source_name: str | SideBySide, name: str) -> str | None:
    """The one column a spec of option ``name`` names (``weight``, ``by``); several columns are a usage error
    naming the option and the fix (``--by`` is repeated, one column each)."""
    if spec is None:
        return None
    columns = resolve_colspec(spec, available, source_name)
    if len(columns) != 1:
        fix = (
            f"give each column its own {option('by', keyword='item of by')}"
            if name == "by"
            else "the sample weight is one column"
        )
        named = f"{count(len(columns), 'column')} ({format_columns(columns)})"
        raise UsageError(f"{option(name)} '{spec}' names {named}; {fix}")
    return columns[0]


def _check_key_lists(on: Sequence[str], available: Sequence[str]) -> None:
    """``--on id,g``, a comma list of columns where ``--on`` is repeated for a composite key: a usage error giving
    the composite key, as ``--by g,id`` is one (it was "column 'id,g' not found"). A column named ``id,g`` is that
    column."""
    for spec in on:
        parts = [part.strip() for part in spec.split(",")]
        if spec not in available and len(parts) > 1 and all(part in available for part in parts):
            composite = option("on", " --on ".join(parts), keyword=f"on={parts!r}")
            named = count(len(parts), "column")
            raise UsageError(f"{option('on')} '{spec}' names {named}; a composite key is {composite}")


def bind_roles(
    roles: Sequence[str],
    explicit: dict[str, str],
    available: Sequence[str],
    source_name: str | SideBySide,
    notices: list[str],
    targets: tuple[str, Sequence[str]] | None = None,
    several: Mapping[str, str] | None = None,
    reserved: Collection[str] = (),
    own: Sequence[str] | None = None,
    readers: Mapping[str, Sequence[str]] | None = None,
    holders: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """Columns for each role: explicit specs, else the default names of docs/cli.md (reported as notices).

    A guess never takes a column bound explicitly to another role (``--pred label`` beside a guessed target
    ``label`` would evaluate the column against itself). ``targets`` (the ``--targets`` file's name and
    columns) is where the target role is bound, alone, and first: it depends on no other role. Its other roles are
    guessed among ``own``, the predictions file's columns, first: a ``pred`` column the targets file also holds
    does not win over the predictions' ``yhat`` for coming earlier among the default names. ``several`` maps the
    roles a loss reads as several columns to that loss: they have no default (docs/cli.md), so one column named
    ``pred`` is not taken for K logits. A glob skips the columns another role's spec names, the target's and the
    ``reserved`` ones (the weight, the groups, the ``--on`` keys); a column that two roles still both take (two
    globs that overlap, ``--pred a --target a``) is a usage error, with ``--targets`` too: a name is one column of
    the joined rows, and the target's name is the targets file's column, so ``--pred target`` would read the
    target itself.
    ``readers`` maps a role to the losses that read it, named when it is left unbound. ``holders`` maps the columns
    that options other than the role specs bind (the weight, an ``--on`` key, a ``--model NAME=COLUMN``) to what
    binds them: no guess takes them either.
    """
    several, readers = several or {}, readers or {}
    # A target guessed in the --targets file skips the weight and the keys; a model's column named like the target
    # is the target itself, told as a column bound to two roles.
    unread = {column: holder for column, holder in (holders or {}).items() if column in reserved}
    named = {role: _named(spec, available) for role, spec in explicit.items()}
    bound: dict[str, list[str]] = {}
    target_notices: list[str] = []  # told in the roles' order, with the guesses
    if targets is not None and "target" in roles and ("target" in explicit or "target" not in several):
        bound["target"] = _target_columns(explicit.get("target"), targets, target_notices, unread)
        named["target"] = {*named.get("target", ()), *bound["target"]}
    for role in roles:
        if role in explicit and role not in bound:
            elsewhere = {c for other, columns in named.items() if other != role for c in columns} | set(reserved)
            bound[role] = resolve_colspec(explicit[role], available, source_name, elsewhere)
    taken: dict[str, str] = {}
    for role, columns in bound.items():
        for column in columns:
            other = taken.setdefault(column, role)
            if other != role:
                raise UsageError(
                    f"column '{show_name(column)}' is bound to two roles, {other} and {role} "
                    f"({_given(other, explicit)}, {_given(role, explicit)}); bind each column to one role"
                    f"{_read_from_targets(column, targets)}"
                )
    for column, holder in (holders or {}).items():
        taken.setdefault(column, holder)
    for role in roles:
        if role in bound:
            notices.extend(target_notices if role == "target" else ())
            continue
        if role in several and role in DEFAULT_NAMES:
            raise UsageError(
                f"role '{role}' of {several[role]} takes several columns and has no default; name them with "
                f"{option(role, 'COLSPEC')} (a list a,b,c, a glob such as '{role}_*', or one list column)"
            )
        if role == "target" and targets is not None:
            bound[role] = _target_columns(None, targets, notices, unread)
            continue
        if role not in DEFAULT_NAMES:
            of = f" of {', '.join(readers[role])}" if readers.get(role) else ""
            raise UsageError(f"role '{role}'{of} is not bound; bind it with {bound_as(role, 'COLUMN')}")
        free = [column for column in available if column not in taken]
        guess = guess_column(role, [column for column in own if column not in taken]) if own is not None else None
        where = ""
        if guess is None:
            guess = guess_column(role, free)
            where = f" of {targets[0]}" if targets is not None else ""
        if guess is None:
            names = ", ".join(DEFAULT_NAMES[role])
            held = guess_column(role, available)
            why = (
                f"its default column '{show_name(held)}' is bound to {taken[held]}"
                if held is not None
                else f"none of the columns ({format_columns(available)}) is named {names}"
            )
            raise UsageError(f"no column for role '{role}': {why}; choose one with {option(role, 'COLUMN')}")
        setting = option(role, keyword=f"{role}=")
        notices.append(
            f"using column '{show_name(guess)}'{where} as {role} (guessed from its name; set it with {setting})"
        )
        bound[role] = [guess]
    return {role: bound[role] for role in roles}


def _one_value_roles(specs: Sequence[LossSpec], bound: Mapping[str, list[str]], given: Mapping[str, str]) -> None:
    """Several columns for a role that a selected loss reads as one value per row (``qid``, ranknet's ``pred``) are
    a usage error naming the option (``given``, per role); one list column holding several values is the data's,
    an input error once read."""
    for role, columns in bound.items():
        scalar = [spec.name for spec in specs if role in spec.role_names and spec.role(role).shape == "scalar"]
        if len(columns) > 1 and scalar:
            raise UsageError(
                f"{given[role]} names {count(len(columns), 'column')} ({format_columns(columns)}), but "
                f"the role '{role}' of {scalar[0]} takes one value per row; name one column"
            )


def _given(role: str, explicit: Mapping[str, str]) -> str:
    """How ``role`` got its columns: the option that binds it, or its guess."""
    return bound_as(role, explicit[role]) if role in explicit else f"{role} guessed from its name"


def _read_from_targets(column: str, targets: tuple[str, Sequence[str]] | None) -> str:
    """Why a name both files hold is one column: the joined rows take it from the targets file."""
    if targets is None or column not in targets[1]:
        return ""
    return f" (with {option('targets')}, column '{show_name(column)}' is read from {targets[0]})"


def bound_as(role: str, spec: str) -> str:
    """The option that binds ``spec`` to ``role``, as the caller wrote it: ``--pred SPEC`` (``pred="SPEC"``) for the
    two roles with options of their own, else ``--col ROLE=SPEC`` (``cols={"ROLE": "SPEC"}``)."""
    return option(role, spec) if role in ("pred", "target") else role_option(role, spec)


def _named(spec: str, available: Sequence[str]) -> set[str]:
    """The columns a COLSPEC names as they are written, not through a glob."""
    if spec in available:
        return {spec}
    return {name for part in spec.split(",") for name in (part, part.strip()) if name in available}


def _target_columns(
    spec: str | None, targets: tuple[str, Sequence[str]], notices: list[str], holders: Mapping[str, str]
) -> list[str]:
    """The target role's columns in the ``--targets`` file: a missing one is an input error naming that file. A guess
    skips the ``holders``' columns (the weight, an ``--on`` key), as among the predictions' columns."""
    name, available = targets
    if spec is not None:
        return resolve_colspec(spec, available, name)
    guess = guess_column("target", [column for column in available if column not in holders])
    held = guess_column("target", available) if guess is None else None
    if held is not None:
        raise UsageError(
            f"no column for role 'target' in {name}: its default column '{show_name(held)}' is bound to "
            f"{holders[held]}; choose one with {option('target', 'COLUMN')}"
        )
    if guess is None:
        raise InputError(
            f"no column for role 'target' in {name}: none of its columns ({format_columns(available)}) is named "
            f"{', '.join(DEFAULT_NAMES['target'])}; choose one with {option('target', 'COLUMN')} (with "
            f"{option('targets')}, the target is read from {name} only)"
        )
    setting = option("target", keyword="target=")
    notices.append(
        f"using column '{show_name(guess)}' of {name} as target (guessed from its name; set it with {setting})"
    )
    return [guess]


def model_specs(options: Options, available: Sequence[str]) -> list[tuple[str | None, str]]:
    """``--model`` as ``(name, colspec)`` (:attr:`Options.model_specs`), except that a value naming a column as
    written, whose part after the first ``=`` names none (``--model 'm=2'`` beside a column ``m=2``), is that column,
    one model named as it, as a glob of one would be: ``=`` in a column name is not read as ``NAME=``."""
    return [
        (None, text) if name is not None and text in available and not _named(colspec, available) else (name, colspec)
        for text, (name, colspec) in zip(options.models, options.model_specs, strict=True)
    ]


def bind_models(
    specs: Sequence[tuple[str | None, str]],
    available: Sequence[str],
    source_name: str | SideBySide,
    taken: Collection[str] = (),
) -> dict[str, list[str]]:
    """``--model NAME=COLSPEC`` as that name's columns; ``--model GLOB`` as one model per matching column, except
    the ``taken`` ones (bound to another role, or the ``--on`` key: ``--model 'y_*'`` beside ``--target y_true``
    is not a model)."""
    models: dict[str, list[str]] = {}
    for name, colspec in specs:
        columns = resolve_colspec(colspec, available, source_name)
        if name is None:
            columns = [column for column in columns if column not in taken]
            if not columns:
                raise UsageError(
                    f"{option('model', keyword='models')} '{colspec}' matches only columns bound to other roles"
                )
        named = [(name, columns)] if name is not None else [(column, [column]) for column in columns]
        for model, model_columns in named:
            if model in models:
                raise UsageError(f"two models are named '{model}'; give each model its own name")
            models[model] = model_columns
    return models


def bind(
    options: Options,
    roles: Sequence[str],
    available: Sequence[str],
    source_name: str,
    notices: list[str],
    targets: tuple[str, Sequence[str]] | None = None,
) -> Binding:
    """The :class:`Binding` of ``options`` over the ``available`` columns of ``source_name`` and, with
    ``targets`` (the ``--targets`` file's name and columns), those of both files."""
    for name, columns in [(source_name, available), *([targets] if targets is not None else [])]:
        if not columns:  # else a role is 'not found' among the columns '' (a usage error, exit 2)
            raise InputError(f"{name} has no columns: nothing to evaluate")
    source: str | SideBySide = source_name
    own = None
    if targets is not None:
        source = SideBySide(((source_name, available), targets))
        own, available = available, list(dict.fromkeys([*available, *targets[1]]))
    shared = [role for role in roles if not (options.model_specs and role == "pred")]
    if options.model_specs and "pred" not in roles:  # else each model's result is the same number, its column unread
        given = option("model", options.models[0], keyword="models")
        raise UsageError(f"{given}: no selected loss reads the role 'pred' (they read {', '.join(roles)})")
    explicit = options.role_columns()
    unused = sorted(set(explicit) - set(shared))
    if unused:
        role = unused[0]
        reads = ", ".join(shared)
        raise UsageError(
            f"{bound_as(role, explicit[role])}: no selected loss reads the role '{role}' (they read {reads})"
            f"{closest(role, shared)}"
        )
    weight = single_column(options.weight, available, source, "weight")
    by = [column for column in (single_column(c, available, source, "by") for c in options.by) if column]
    check_by_once(by)
    specs_of_models = model_specs(options, available)
    several = multi_column_roles(options.requests, options.gates, options.composites)
    keys = [*options.join_key.preds, *options.join_key.targets] if options.join_key is not None else []
    _check_key_lists(options.on, available)
    reserved = [c for c in (weight, *by, *keys) if c]  # a glob of a role or of models skips them: not predictions
    specs = _selected_specs(options.requests, options.gates, options.composites)
    readers = {role: list(dict.fromkeys(spec.name for spec in specs if role in spec.role_names)) for role in shared}
    holders = {key: f"the {option('on')} key" for key in keys}  # a key aligns the rows: it is not a value
    holders |= {weight: "the sample weight"} if weight else {}  # given as --weight or --col weight=: not told apart
    for model, colspec in specs_of_models:  # a glob of models skips the bound columns instead; a name does not
        given = option("model", colspec if model is None else f"{model}={colspec}")
        holders |= {column: f"the pred of model '{model or column}' ({given})" for column in _named(colspec, available)}
    bound = bind_roles(shared, explicit, available, source, notices, targets, several, reserved, own, readers, holders)
    taken = {column for columns in bound.values() for column in columns} | set(reserved)
    models = bind_models(specs_of_models, available, source, taken)
    _one_value_roles(specs, bound, {role: bound_as(role, spec) for role, spec in explicit.items()})
    for model, colspec in specs_of_models:
        if model is not None:
            _one_value_roles(specs, {"pred": models[model]}, {"pred": option("model", f"{model}={colspec}")})
    role_of = {column: role for role, columns in bound.items() for column in columns}
    for model, colspec in specs_of_models:
        held = [column for column in models.get(model or "", []) if column in role_of]
        if held:
            role = role_of[held[0]]
            raise UsageError(
                f"column '{show_name(held[0])}' is bound to two roles, {role} and the pred of model '{model}' "
                f"({_given(role, explicit)}, {option('model', f'{model}={colspec}')}); bind each column to one role"
                f"{_read_from_targets(held[0], targets)}"
            )
    return Binding(bound, weight, by, {name: {"pred": columns} for name, columns in models.items()})


def gate_owners(options: Options, requests: list[LossRequest]) -> list[LossRequest | Composite]:
    """The request or composite each ``--fail-if`` names; a gated loss not selected is appended to ``requests``."""
    owners: list[LossRequest | Composite] = []
    for gate in options.gates:
        composite = gate_composite(gate, options.composites)
        if composite is not None:
            owners.append(composite)
            continue
        candidates = find_requests(gate.loss, requests)
        if len(candidates) > 1:
            labels = ", ".join(r.label for r in candidates)
            raise UsageError(f"{option('fail_if')} '{gate.expr}' is ambiguous between {labels}; name its parameters")
        if not candidates:
            candidates = build_requests([gate.loss], (), options.convention)
            requests.extend(candidates)
        if any(r.params.get("multioutput") == "raw" for r in candidates):  # as parsed: 'multioutput = RAW' too
            name = candidates[0].spec.name
            model = f"@{gate.model}" if gate.model is not None else ""
            raise UsageError(
                f"{option('fail_if')} '{gate.expr}': the loss has one value per output (multioutput=raw) and a check "
                f"gates one value; gate the outputs' mean: -l {name}:multioutput=uniform --fail-if "
                f"'{name}:multioutput=uniform{model}{gate.op}{gate.threshold!r}'"
            )
        owners.append(candidates[0])
    return owners
