"""The registry for people and machines: the ``lossctl describe`` page of one loss, and ``lossctl list`` as JSON
or CSV, all built from the registry entries."""

from __future__ import annotations

import json
import shutil
import textwrap
from typing import Any

from lossctl.registry import LossSpec, loss_spec_text, spec_of
from lossctl.text import escaped


def _wrap(text: str, indent: str = "  ") -> str:
    """``text`` filled to the terminal's width (``COLUMNS``; 100 when it cannot be told), at most 120."""
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    return textwrap.fill(" ".join(text.split()), width=max(width, 40), initial_indent=indent, subsequent_indent=indent)


def _streaming(spec: LossSpec) -> str:
    if spec.whole_input and "qid" in spec.role_names:
        return "query by query when each query's rows are contiguous in the file; otherwise the whole input at once"
    if spec.whole_input:
        return "reads the whole input at once (rows are paired across the file)"
    if spec.batch_param:
        return f"chunks are cut at multiples of {spec.batch_param} rows, so batches stream whole"
    return "chunk by chunk in constant memory; statistics over the whole input merge exactly"


def describe(name: str) -> str:
    from lossctl.report import format_value

    spec = spec_of(loss_spec_text(name), quoted=f"'{name}'")  # not "in '-l mse:'": describe has no -l
    lines = [f"{spec.name}: {spec.summary}", ""]
    lines.append(f"  task:      {spec.task}")
    if spec.aliases:
        lines.append(f"  aliases:   {', '.join(spec.aliases)}")
    roles = ", ".join(f"{r.name} ({r.shape})" for r in spec.roles)
    lines += [f"  roles:     {roles}", f"  formula:   {spec.formula}"]
    lines.append(f"  reduction: {spec.aggregate.doc or spec.aggregate.name}")
    lines.append(f"  streaming: {_streaming(spec)}")
    lines += [f"  follows:   {spec.follows}", "", "parameters:"]
    if not spec.params:
        lines.append("  (none)")
    for p in spec.params:  # a value as the command line writes it: true, none
        given = f" = {format_value(spec.preset[p.name])}" if p.name in spec.preset else ""  # describe 'huber:delta=2'
        lines.append(f"  {p.name}{given} ({p.kind}, default {format_value(p.default)}, {p.domain})")
        lines.append(_wrap(p.doc, "      "))
    # a third-party loss is defined by its plugin, not in docs/losses.md (generated from the built-in losses)
    lines += ["", "conventions:", f"  lossctl: the definition above ({spec.origin or 'docs/losses.md'})"]
    for convention, variant in spec.conventions.items():
        matches = f" (matches {convention} {variant.versions})" if variant.versions else ""
        lines.append(_wrap(f"{convention}{matches}: {variant.description}"))
    props = spec.properties
    lines += [
        "",
        "properties:",
        f"  convex in the prediction: {props.convex}",
        f"  robust to outliers:       {props.robust}",
        f"  expects:                  {props.expects}",
        f"  range:                    {props.range}",
        "",
        "when to use it:",
        _wrap(spec.when),
    ]
    if spec.doc:
        lines += ["", "details:", textwrap.indent(textwrap.dedent(spec.doc), "  ")]
    # A plugin's summary, formula or docs may hold control characters: shown escaped, line by line, so the page
    # keeps its lines but no escape sequence reaches the terminal.
    return "\n".join(escaped(line) for line in "\n".join(lines).split("\n")) + "\n"


def loss_record(spec: LossSpec) -> dict[str, Any]:
    """One loss as ``lossctl list -f json`` shows it."""
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


def losses_json(specs: list[LossSpec]) -> str:
    return json.dumps([loss_record(spec) for spec in specs], indent=2) + "\n"


def loss_rows(specs: list[LossSpec]) -> tuple[list[str], list[list[str]]]:
    """``lossctl list -f csv|markdown``: a header and one row per loss; lists joined with ``;``, parameters as the
    command line writes them (``delta=1.0``, ``alpha=none``)."""
    from lossctl.report import format_value

    header = ["name", "aliases", "task", "roles", "params", "reductions", "per_sample", "follows", "summary"]
    rows = [
        [
            spec.name,
            ";".join(spec.aliases),
            spec.task,
            ";".join(f"{r.name}:{r.shape}" for r in spec.roles),
            ";".join(f"{p.name}={format_value(p.default)}" for p in spec.params),
            ";".join(spec.aggregate.reductions),
            "true" if spec.per_row else "false",
            spec.follows,
            spec.summary,
        ]
        for spec in specs
    ]
    return header, rows
