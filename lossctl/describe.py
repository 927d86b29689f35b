"""The ``lossctl describe`` page of one loss, as plain text built from its registry entry."""

from __future__ import annotations

import textwrap

from lossctl.registry import LossSpec, get


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=indent, subsequent_indent=indent)


def _streaming(spec: LossSpec) -> str:
    if spec.whole_input and "qid" in spec.role_names:
        return "query by query when each query's rows are contiguous in the file; otherwise the whole input at once"
    if spec.whole_input:
        return "reads the whole input at once (rows are paired across the file)"
    if spec.batch_param:
        return f"chunks are cut at multiples of {spec.batch_param} rows, so batches stream whole"
    return "chunk by chunk in constant memory; statistics over the whole input merge exactly"


def describe(name: str) -> str:
    spec = get(name)
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
    for p in spec.params:
        lines.append(f"  {p.name} ({p.kind}, default {p.default}, {p.domain})")
        lines.append(_wrap(p.doc, "      "))
    lines += ["", "conventions:", "  lossctl: the definition above (losses.md)"]
    for convention, variant in spec.conventions.items():
        lines.append(_wrap(f"{convention}: {variant.note}"))
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
    return "\n".join(lines) + "\n"
