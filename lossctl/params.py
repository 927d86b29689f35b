"""Parsing of what the user asks for: ``-l huber:delta=2``, ``--param [LOSS.]KEY=VALUE``, ``--fail-if``.

Everything goes through these small parsers; nothing the user types is ever passed to ``eval``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lossctl.errors import UsageError, flags_spelled, option
from lossctl.registry import LossSpec, closest, get, parse_spec
from lossctl.text import rounds_to_zero, written, written_number

_FAIL_IF = re.compile(r"^\s*(?P<loss>.+?)\s*(?P<op>>=|<=|>|<)\s*(?P<number>[^<>=]+?)\s*$")
# A loss in a --fail-if, spaced as -l takes it ('quantile: q = 0.9'); its values hold no operator or space.
_LOSS_TOKEN = re.compile(r"^[A-Za-z_]\w*(?:\s*:\s*\w+\s*=\s*[^:<>=\s]+)*$")
OPERATORS = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}
# One output of a multioutput=raw loss as its results are labelled (mse[0]): a label, not a loss to gate.
_OUTPUT_LABEL = re.compile(r"^(?P<name>[A-Za-z_]\w*)\[\d+\]")


@dataclass(frozen=True)
class LossRequest:
    """One loss to evaluate with its resolved parameters (defaults included).

    ``given`` holds the parameters the user set explicitly, which name the result in tables
    (``quantile:q=0.9``) so that the same loss asked twice stays distinguishable. ``output`` is the
    output column one result of ``multioutput=raw`` reports (:mod:`lossctl.outputs`).
    """

    spec: LossSpec
    params: dict[str, Any]
    given: dict[str, Any]
    output: int | None = None

    @property
    def name(self) -> str:
        """The loss name, with the output index of a ``multioutput=raw`` result: ``mse[0]``."""
        return self.spec.name if self.output is None else f"{self.spec.name}[{self.output}]"

    @property
    def label(self) -> str:
        shown = {k: v for k, v in self.given.items() if self.output is None or k != "multioutput"}
        return self.name + "".join(f":{key}={_show(value)}" for key, value in shown.items())


def _show(value: Any) -> str:
    """A parameter value as it is written in a loss spec: ``2``, ``true``, and a per-class list as ``1,2,0.5``
    (not its tuple form), so a label can be pasted back into ``-l`` or ``--fail-if``. A float is written in full:
    rounded, ``q=0.1`` and ``q=0.1000001`` would share one label."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(_show(item) for item in value)
    return written(value) if isinstance(value, float) else str(value)


def split_loss_tokens(options: Iterable[str]) -> list[str]:
    """``["mse,mae", "huber:delta=2"]`` -> ``["mse", "mae", "huber:delta=2"]``.

    A comma followed by something that cannot start a loss name (a digit, a sign, a dot) continues a parameter's
    value in the same option, so list values such as ``ce:class_weight=1,2,0.5`` survive the split; so does a word
    that is a number (``nan``, ``inf``) or one of the parameter's words (``balanced``) after its value, which the
    parameter then refuses. Nothing continues a loss without parameters, or the previous option: ``-l mae -l
    '2*mse'`` is two tokens.
    """
    tokens: list[str] = []
    for text in options:
        pieces = [piece.strip() for piece in text.split(",")]
        for i, piece in enumerate(pieces):
            if i and tokens and piece and _continues(piece, tokens[-1]):
                tokens[-1] += "," + piece
            elif piece:
                tokens.append(piece)
            else:
                _refuse_empty(text, tokens[-1] if tokens and i else "", pieces[i + 1 :])
    return tokens


def _continues(piece: str, before: str) -> bool:
    """Whether ``piece`` is the next item of the list value ``before`` ends with: it cannot start a loss name
    (a digit, a sign, a dot), or it is ``nan``, ``inf`` or a word of that parameter after its value
    (``ce:class_weight=1,nan``, ``ce:class_weight=1,balanced``: not "unknown loss 'balanced'")."""
    if ":" not in before:  # no parameter value to continue
        return False
    if not (piece[0].isalpha() or piece[0] == "_") or piece.lower() in ("nan", "inf", "infinity"):
        return True
    return _parts(piece)[0].strip().lower() in _words_of_last_param(before)  # in a composite: 'balanced+mse'


def _words_of_last_param(before: str) -> tuple[str, ...]:
    """The words (``balanced``) the parameter whose value ends ``before`` takes; none when it names no known
    loss and parameter (the loss's own error comes later)."""
    composite = _COMPOSITE.match(before)
    term = _TERM.match(_parts(composite["formula"] if composite else before)[-1])
    if term is None:
        return ()
    name, *assignments = term["loss"].split(":")
    try:
        return get(name).param(assignments[-1].partition("=")[0].strip()).choices
    except UsageError:
        return ()


def _refuse_empty(text: str, before: str, after: list[str]) -> None:
    """An empty piece between commas of ``-l`` value ``text``: an empty value of the list parameter ``before`` ends
    with (``ce:class_weight=1,,2``, ``ce:class_weight=1,2,``), else an empty loss name (``mse,,mae``), quoted with
    its option (``'-l mse,'``), or the option itself when it is empty (``-l ''``, an unset shell variable)."""
    key, equals, value = before.rpartition(":")[2].partition("=")
    following = next((piece for piece in after if piece), None)
    inside = following is not None and _continues(following, before)
    if equals and ("," in value or inside):
        where = "two commas in a row" if inside else "a comma at its end"
        raise UsageError(f"the {key.strip()} list in '{text}' has an empty value ({where})")
    if not text.strip():
        raise UsageError(f"{option('loss', keyword='losses')} needs a loss name, got {text!r}")
    raise UsageError(f"empty loss name in '{'-l ' if flags_spelled() else ''}{text}'")


def _param(text: str) -> str:
    """A ``--param`` option, ``text`` its value, as the caller spells it: ``--param huber.delta=2`` from the command
    line, ``params="huber.delta=2"`` from Python."""
    return option("param", text, keyword=f'params="{text}"')


def _add_loss(name: str) -> str:
    """How to select loss ``name``: ``add it with -l NAME`` on the command line, ``add 'NAME' to losses`` in Python."""
    return f"add it with -l {name}" if flags_spelled() else f"add '{name}' to losses"


def _key_value(text: str, where: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise UsageError(f"expected KEY=VALUE in {where}, got '{text}'")
    return key.strip(), value.strip()


def parse_inline(token: str) -> tuple[LossSpec, dict[str, Any]]:
    """``"huber:delta=2"`` -> (the huber entry, ``{"delta": 2.0}``); parameters separated by ``:``. A composite's
    formula without its name (``0.5*mse+0.5*mae``) is refused saying so, not as an unknown loss."""
    if unnamed_composite(token):
        named = option("loss", f"'{named_composite(token)}'", keyword=f"losses='{named_composite(token)}'")
        raise UsageError(f"the composite '{token}' needs a name, to report and gate it by: {named}")
    return parse_spec(token)


def build_requests(
    loss_options: Iterable[str], param_options: Iterable[str] = (), convention: str = "lossctl"
) -> list[LossRequest]:
    """The losses to evaluate: inline parameters win over ``--param LOSS.KEY``, which wins over ``--param KEY``."""
    selected = [parse_inline(token) for token in split_loss_tokens(loss_options)]
    params = _Params(param_options, [spec for spec, _ in selected])
    requests: list[LossRequest] = []
    for spec, inline in selected:
        request = params.request(spec, inline, convention)
        if not any(same_request(request, other) for other in requests):  # -l mse -l mse is one result
            requests.append(request)
    params.check_used()
    return requests


def split_param(text: str) -> tuple[str, str, str, str]:
    """A ``--param`` option's ``(LOSS, ".", KEY, VALUE)``, LOSS and the dot empty for a plain ``KEY=VALUE``; a value
    not so written (``delta``, ``.delta=2``, ``huber.delta.x=2``) is a usage error."""
    key, value = _key_value(text, option("param", keyword="params"))
    loss_name, dot, param = (part.strip() for part in key.rpartition("."))
    if (dot and not (loss_name and param)) or "." in loss_name:  # '.delta=2', 'huber.=2', 'huber.delta.x=2'
        raise UsageError(f"expected [LOSS.]KEY=VALUE in {option('param', keyword='params')}, got '{text}'")
    return loss_name, dot, param, value


def check_params(param_options: Iterable[str], specs: Sequence[LossSpec]) -> None:
    """Refuse a ``--param`` that names no loss of ``specs`` (``LOSS.KEY``) or no parameter one of them has (``KEY``),
    or is given twice: what :func:`select_losses` refuses of the options themselves, before their values."""
    _Params(param_options, specs)


class _Params:
    """The ``--param`` options over the selected losses (``specs``): ``LOSS.KEY`` ones and plain ``KEY`` ones,
    each given once, each naming a selected loss or a parameter one has; :meth:`check_used` then refuses one that
    every loss it reaches overrides inline (it would be ignored unseen)."""

    def __init__(
        self, param_options: Iterable[str], specs: Sequence[LossSpec], composites: Sequence[Composite] = ()
    ) -> None:
        self.scoped: dict[str, dict[str, str]] = {}
        self.broad: dict[str, str] = {}
        self.used: set[str] = set()  # the keys ("delta", "huber.delta") some loss takes
        self.scoped_over: set[str] = set()  # the plain keys a loss takes from its own --param LOSS.KEY instead
        self.given: dict[str, str] = {}  # each key ("delta", "huber.delta") as the option gave it, for messages
        for text in param_options:
            loss_name, dot, param, value = split_param(text)
            composite = next((c for c in composites if dot and c.name.lower() == loss_name.lower()), None)
            if composite is not None:
                parts = [r.spec.name for _, r in composite.terms if any(p.name == param for p in r.spec.params)]
                part = parts[0] if parts else "LOSS"
                raise UsageError(
                    f"{_param(text)}: '{composite.name}' is a composite loss, with no parameters of its own; "
                    f"set its part's with {_param(f'{part}.{param}=...')}"
                )
            if dot:
                spec = get(loss_name)
                if all(s.name != spec.name for s in specs):
                    raise UsageError(f"{_param(text)}: loss '{spec.name}' is not selected ({_add_loss(spec.name)})")
                spec.param(param)
                if param in self.scoped.get(spec.name, {}):
                    raise UsageError(f"{_param(text)}: {spec.name}.{param} is given twice")
                self.scoped.setdefault(spec.name, {})[param] = value
                self.given[f"{spec.name}.{param}"] = text
            else:
                known = list(dict.fromkeys(p.name for s in specs for p in s.params))
                if param not in known:
                    theirs = f"; their parameters: {', '.join(known)}" if known else "; they have no parameters"
                    hint = closest(param, known)
                    raise UsageError(f"{_param(text)}: no selected loss has a parameter '{param}'{theirs}{hint}")
                if param in self.broad:
                    raise UsageError(f"{_param(text)}: '{param}' is given twice")
                self.broad[param] = value
                self.given[param] = text

    def request(self, spec: LossSpec, inline: dict[str, Any], convention: str) -> LossRequest:
        """``spec`` with its inline parameters over the ``--param`` ones that reach it."""
        names = {p.name for p in spec.params}
        scoped = self.scoped.get(spec.name, {})
        texts = {k: v for k, v in self.broad.items() if k in names} | scoped
        self.used |= {f"{spec.name}.{k}" if k in scoped else k for k in texts if k not in inline}
        self.scoped_over |= {k for k in self.broad if k in scoped and k not in inline}
        with spec.naming_errors():
            given = {k: spec.param(k).parse(v) for k, v in texts.items() if k not in inline} | inline
        return LossRequest(spec, spec.resolve_params(given, convention), given)

    def check_used(self) -> None:
        keys = [f"{name}.{k}" for name, params in self.scoped.items() for k in params] + list(self.broad)
        for key in keys:
            if key not in self.used:
                how = f"inline or with {_param(f'LOSS.{key}')}" if key in self.scoped_over else "inline"
                raise UsageError(
                    f"{_param(self.given[key])}: every selected loss with '{key.rpartition('.')[2]}' sets it {how}"
                )


# NAME=FORMULA: weighted terms (0.7*mse+0.3*mae), or terms whose weights are left out (mse+mae, one term: mse).
_COMPOSITE = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*=(?P<formula>[^:]*\*.*|[^=:]+\+.*|\s*(?:[A-Za-z_+].*)?)$")
# W*LOSS[:KEY=VALUE...]: the weight a number >= 0 (no sign), the loss a name, so that a '-' or '*' outside a
# parameter value is refused here, not taken for part of an unknown loss name ('mse-0.5*mae').
_TERM = re.compile(
    r"^\s*(?:(?P<weight>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\*\s*)?(?P<loss>[A-Za-z_]\w*(?:\s*:.*?)?)\s*$"
)
# The '+' between a composite's parts, or a number with an exponent sign ('1e+3'), whose '+' is the number's.
_PLUS = re.compile(r"(?<![\w.])(?:\d+\.?\d*|\.\d+)[eE]\+(?=\d)|\+")


@dataclass(frozen=True)
class Composite:
    """A weighted sum of losses, ``total=0.7*mse+0.3*mae``: reported beside its parts (docs/losses.md). Once
    selected, ``formula`` writes the parts as they are used (:func:`_term`), so it can be given back to ``-l``."""

    name: str
    formula: str
    terms: tuple[tuple[float, LossRequest], ...]

    @property
    def label(self) -> str:
        return self.name


def _parts(formula: str) -> list[str]:
    """A composite's formula cut at the '+' between its parts: ``0.5*huber:delta=1e+3+mae`` ->
    ``["0.5*huber:delta=1e+3", "mae"]`` (the '+' of a number's exponent, after its digits, is the number's)."""
    cuts = [match.start() for match in _PLUS.finditer(formula) if match[0] == "+"]
    return [formula[start + 1 : end] for start, end in zip([-1, *cuts], [*cuts, len(formula)], strict=True)]


def is_composite(token: str) -> bool:
    return _COMPOSITE.match(token) is not None


def unnamed_composite(token: str) -> bool:
    """Whether ``token`` is a composite's formula without ``NAME=`` before it: weighted parts or several, each
    ``W*LOSS`` (``0.5*mse+0.5*mae``, ``mse+mae``, ``2*mse``)."""
    terms = [_TERM.match(part) for part in _parts(token)]
    several = len(terms) > 1 or (terms[0] is not None and terms[0]["weight"] is not None)
    return several and all(terms) and not is_composite(token)


def named_composite(token: str) -> str:
    """A composite ``token`` with a name: as it is, or ``total=`` before a formula without one."""
    return f"total={token}" if unnamed_composite(token) else token


def check_one_loss(text: str, caller: str, per_part: str, per_loss: str) -> None:
    """Refuse a spec ``text`` holding more than one loss where ``caller`` (``Metric``, ``get``) takes one: a
    composite (``total=0.5*mse+0.5*mae``, its name left out or not) or a comma list (``mse,mae``), as such (not
    "unknown loss 'mse,mae'"), each saying what takes them instead (``per_part``, ``per_loss``)."""
    if is_composite(text) or unnamed_composite(text):
        raise UsageError(f"{caller} takes one loss, not the composite '{text}': {per_part}")
    if len(split_loss_tokens([text])) > 1:
        raise UsageError(f"{caller} takes one loss, not the list '{text}': {per_loss}")


def parse_composite(
    token: str, convention: str = "lossctl", inner: Callable[[str], Composite | None] = lambda name: None
) -> Composite:
    """Parse ``NAME=W*LOSS[:k=v...]+W*LOSS...`` (weights optional; one term is a composite too: ``total=mse``;
    the '+' of a number's exponent, ``delta=1e+3``, is the number's). A part that ``inner`` finds to be another
    composite stands for that composite's parts, each weight multiplied by the part's: with ``total=mse+mae``,
    ``t2=0.5*total+mse`` is ``0.5*mse+0.5*mae+mse``."""
    match = _COMPOSITE.match(token)
    if not match:
        raise UsageError(
            f"cannot parse the composite loss '{token}'; expected NAME=W*LOSS+W*LOSS, e.g. total=0.7*mse+0.3*mae"
        )
    name, formula = match["name"], match["formula"].strip()
    if _is_loss_name(name):
        raise UsageError(f"composite name '{name}' is already a loss name; choose another, e.g. total_{name}")
    terms: list[tuple[float, LossRequest]] = []
    for text in _parts(formula):
        if not text.strip():
            raise UsageError(
                f"the composite '{token}' has an empty part; expected NAME=W*LOSS+W*LOSS (weights optional), "
                "e.g. total=0.7*mse+0.3*mae"
            )
        term = _TERM.match(text)
        if not term:
            raise UsageError(
                f"cannot parse '{text.strip()}' in the composite '{token}'; each part is W*LOSS with W a number "
                ">= 0, and the parts are added with '+'"
            )
        weight = float(term["weight"]) if term["weight"] else 1.0
        if math.isinf(weight):  # 1e400: as a parameter's value, a usage error, not an overflowing result
            raise UsageError(f"the weight {term['weight']} in the composite '{token}' is beyond float64")
        if term["weight"] and rounds_to_zero(term["weight"], weight):  # 1e-400: as a parameter's value, not a silent 0
            raise UsageError(
                f"the weight {term['weight']} in the composite '{token}' rounds to 0 in float64; write 0 if 0 is meant"
            )
        loss, colon, _ = term["loss"].partition(":")
        composite = inner(loss.strip())
        if composite is not None and colon:
            raise UsageError(
                f"'{term['loss'].strip()}' in the composite '{token}': '{composite.name}' is a composite loss, "
                "with no parameters of its own; set its parts' parameters where it is defined"
            )
        if composite is not None:
            if any(math.isinf(weight * w) for w, _ in composite.terms):
                raise UsageError(f"the weights of '{text.strip()}' in the composite '{token}' multiply beyond float64")
            terms.extend((weight * w, part) for w, part in composite.terms)
            continue
        spec, given = parse_inline(term["loss"])
        terms.append((weight, LossRequest(spec, spec.resolve_params(given, convention), given)))
    return Composite(name, formula, tuple(terms))


def _parse_composites(tokens: Sequence[str], convention: str) -> list[Composite]:
    """The composites ``tokens`` (each one ``NAME=FORMULA``) define, in order. A part may name another of them,
    defined before or after it (its first definition: two different ones are refused by :func:`select_losses`),
    but not itself, directly or through others."""
    defined: dict[str, str] = {}
    for token in tokens:
        defined.setdefault(_name(token), token)
    parsed: dict[str, Composite] = {}

    def parse(token: str, within: tuple[str, ...]) -> Composite:
        def inner(name: str) -> Composite | None:
            key = name.lower()
            if key in within:
                cycle = " -> ".join([*within[within.index(key) :], key])
                raise UsageError(f"the composites refer to each other in a cycle ({cycle}); a part must be a loss")
            if key in defined and key not in parsed:
                parsed[key] = parse(defined[key], (*within, key))
            return parsed.get(key)

        return parse_composite(token, convention, inner)

    return [parse(token, (_name(token),)) for token in tokens]


def _name(token: str) -> str:
    """The name a composite token defines, in lower case (composite names ignore case)."""
    return token.partition("=")[0].strip().lower()


def _is_loss_name(name: str) -> bool:
    try:
        get(name)
    except UsageError:
        return False
    return True


def select_losses(
    loss_options: Iterable[str],
    param_options: Iterable[str] = (),
    convention: str = "lossctl",
    gates: Sequence[FailIf] = (),
) -> tuple[list[LossRequest], list[Composite]]:
    """The requests to evaluate and the composites to add up from them.

    A composite's parts are evaluated as ordinary losses (sharing the result when the same loss with
    the same parameters is also asked for on its own) and listed before the composite. A loss that a
    ``--fail-if`` of ``gates`` names and no request matches is evaluated and reported too, after them: it is
    selected, so the ``--param`` options reach it as they reach a loss given with ``--loss``.
    """
    tokens = split_loss_tokens(loss_options)
    plain = [parse_inline(t) for t in tokens if not is_composite(t)]
    parsed = _parse_composites([t for t in tokens if is_composite(t)], convention)
    parts = [part for composite in parsed for _, part in composite.terms]
    gated = [(gate.loss, *gated_loss(gate)) for gate in gates if gate_composite(gate, parsed) is None]
    specs = [spec for spec, _ in plain] + [part.spec for part in parts] + [spec for _, spec, _ in gated]
    params = _Params(param_options, specs, parsed)
    requests: list[LossRequest] = []
    for spec, inline in plain:
        request = params.request(spec, inline, convention)
        if not any(same_request(request, other) for other in requests):  # -l mse -l mse is one result
            requests.append(request)
    composites: list[Composite] = []
    for composite in parsed:
        shared, written_parts = [], []
        for weight, part in composite.terms:  # a part takes the --param options as a loss of its own does
            part = params.request(part.spec, part.given, convention)
            if part.params.get("multioutput") == "raw":  # set inline or by --param [LOSS.]multioutput=raw
                raise UsageError(
                    f"'{part.label}' in the composite '{composite.name}' has one value per output "
                    "(multioutput=raw); use multioutput=uniform or leave it unset"
                )
            existing = next((r for r in requests if same_request(r, part)), None)
            if existing is None:
                requests.append(part)
            shared.append((weight, existing or part))
            written_parts.append((weight, part))
        formula = "+".join(_term(weight, part) for weight, part in written_parts)
        twin = next((c for c in composites if c.name.lower() == composite.name.lower()), None)  # names ignore case
        if twin is not None and twin.terms == tuple(shared):  # the same sum asked twice is one result, as -l mse -l mse
            continue
        if twin is not None:
            raise UsageError(f"two composite losses are named '{composite.name}'")
        composites.append(Composite(composite.name, formula, tuple(shared)))
    for text, spec, inline in gated:
        if not find_requests(text, requests):
            requests.append(params.request(spec, inline, convention))
    params.check_used()
    return requests, composites


def _term(weight: float, part: LossRequest) -> str:
    """A part of a composite's formula as the parts are used: ``0.5*huber:delta=3`` (with the parameters that
    ``--param`` set, as the part's own label), the weight left out where it is 1; numbers without an exponent
    sign (``delta=1e20``, not ``1e+20``), as docs/losses.md writes them."""
    return unsigned_exponents(part.label if weight == 1 else f"{written(weight)}*{part.label}")


def unsigned_exponents(term: str) -> str:
    """A composite's part with its numbers written without an exponent sign (``1e20``, not ``1e+20``), so that its
    formula and signature (stored, compared across runs) have one spelling; no name or word value holds a '+'."""
    return term.replace("e+", "e")


@dataclass(frozen=True)
class FailIf:
    """A parsed ``--fail-if`` expression ``LOSS[@MODEL] OP NUMBER``; ``loss`` may carry inline parameters.

    Without ``@MODEL`` the gate applies to every model of the run (``model`` is ``None``).
    """

    expr: str
    loss: str
    op: str
    threshold: float
    model: str | None = None

    def holds(self, value: float) -> bool:
        return OPERATORS[self.op](float(value), self.threshold)


def parse_fail_if(expr: str) -> FailIf:
    match = _FAIL_IF.match(expr)
    loss, at, model = match["loss"].partition("@") if match else ("", "", "")
    loss = loss.rstrip()  # spaces around '@' are accepted, as around the operator: 'mse @ B > 0.1'
    output = _OUTPUT_LABEL.match(loss)
    if match and output:  # the label of a result, not a loss: the same refusal as 'mse>0.1' of a raw mse
        name, where = output["name"], f"@{model.strip()}" if at else ""
        raise UsageError(
            f"{option('fail_if')} '{expr}': a check gates a loss's one value, not one output of multioutput=raw; "
            f"gate the outputs' mean: -l {name}:multioutput=uniform --fail-if "
            f"'{name}:multioutput=uniform{where}{match['op']}{match['number']}'"
        )
    if not match or not _LOSS_TOKEN.match(loss) or (at and not model.strip()):
        raise UsageError(
            f"cannot parse {option('fail_if')} '{expr}'; expected LOSS[@MODEL] OP NUMBER with OP one of > >= < <=, "
            "e.g. 'mse>0.25'"
        )
    try:
        threshold = written_number(match["number"])
    except ValueError:
        raise UsageError(f"{option('fail_if')} '{expr}': '{match['number']}' is not a number") from None
    if not math.isfinite(threshold):
        typed = match["number"].strip()
        beyond = f", got {typed} (beyond float64)" if math.isinf(threshold) and "inf" not in typed.lower() else ""
        raise UsageError(f"{option('fail_if')} '{expr}': the threshold must be finite{beyond}")
    if rounds_to_zero(match["number"], threshold):  # 1e-400: as a parameter's value, not a silent 0 (mse<1e-400)
        raise UsageError(
            f"{option('fail_if')} '{expr}': the threshold {match['number'].strip()} rounds to 0 in float64; write 0 if "
            "0 is meant"
        )
    return FailIf(expr, loss, match["op"], threshold, model.strip() if at else None)


def gated_loss(gate: FailIf) -> tuple[LossSpec, dict[str, Any]]:
    """The loss a ``--fail-if`` names that is no composite, with its inline parameters; an error in them quotes
    the ``--fail-if`` expression, not a ``-l`` the user did not type."""
    try:
        return parse_spec(gate.loss, quoted=f"'{gate.loss}'")
    except UsageError as error:
        raise UsageError(f"{option('fail_if')} '{gate.expr}': {error}") from None


def gate_composite(gate: FailIf, composites: Iterable[Composite]) -> Composite | None:
    """The composite a ``--fail-if`` names (case-insensitively, as a loss is named), or ``None`` when it names a
    loss. A composite has no parameters of its own (``total:q=1``), and a name that is no loss but close to a
    composite's is suggested as one."""
    name = gate.loss.partition(":")[0].strip()
    names = {c.name.lower(): c for c in composites}
    found = names.get(name.lower())
    if found is not None and ":" in gate.loss:
        raise UsageError(
            f"{option('fail_if')} '{gate.expr}': '{found.name}' is a composite loss, with no parameters of its own; "
            f"gate it as {found.name} OP NUMBER"
        )
    close = difflib.get_close_matches(name.lower(), names, n=3) if found is None and names else []
    if close and not _is_loss_name(name):
        shown = ", ".join(names[c].name for c in close)
        raise UsageError(
            f"{option('fail_if')} '{gate.expr}': unknown loss '{name}'; did you mean the composite {shown}?"
        )
    return found


def same_request(a: LossRequest, b: LossRequest) -> bool:
    return a.spec.name == b.spec.name and a.params == b.params


def find_requests(text: str, requests: Iterable[LossRequest]) -> list[LossRequest]:
    """The requests a loss spec string names: the same loss (by name or alias) with at least the parameters
    ``text`` sets (``huber`` matches every huber request, ``huber:delta=2`` only those with delta 2)."""
    spec, given = parse_inline(text)
    return [r for r in requests if r.spec.name == spec.name and all(r.params.get(k) == v for k, v in given.items())]
