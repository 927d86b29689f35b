"""Writes a golden file in the layout ``tests/golden.py`` reads; shared by the ``generate_*.py`` scripts.

The scripts run as ``python tests/reference/generate_<family>.py`` (their folder is on ``sys.path``; ``make
golden`` runs them all) and import nothing from lossctl: only :func:`add`, which records a case, and
:func:`write_golden`. torch computes on one thread, so a rerun on the same machine writes the same bytes.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

torch.set_num_threads(1)  # reductions in a fixed order: a rerun gives the same bits
os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 runs on the installed torch (no TensorFlow needed)


CASES: list[dict[str, Any]] = []


def listed(values: Any) -> Any:
    """Arrays as (nested) lists of floats, the layout of ``inputs`` and ``expected_per_sample``."""
    return np.asarray(values, dtype=np.float64).tolist()


def add(
    loss: str,
    case_id: str,
    inputs: Mapping[str, Any],
    expected: Any,
    per_sample: Any,
    reference: str,
    *,
    params: Mapping[str, Any] | None = None,
    convention: str = "lossctl",
    sample_weight: Any = None,
    reduction: str = "mean",
) -> None:
    """Record one golden case (the layout of ``tests/golden.py``); ``inputs`` maps each role to its values and
    ``expected`` is the value (a list of one value per output for ``multioutput=raw``).

    A duplicate id or a non-finite reference is an error: the generator stops before writing anything.
    """
    if any(case["id"] == case_id for case in CASES):
        raise ValueError(f"duplicate case id {case_id}")
    values = [*np.ravel(expected), *(np.ravel(per_sample) if per_sample is not None else [])]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{case_id}: the reference is not finite")
    CASES.append(
        {
            "id": case_id,
            "loss": loss,
            "params": dict(params or {}),
            "convention": convention,
            "inputs": {role: listed(v) for role, v in inputs.items()},
            "sample_weight": None if sample_weight is None else listed(sample_weight),
            "reduction": reduction,
            "expected": float(expected) if np.ndim(expected) == 0 else listed(expected),
            "expected_per_sample": None if per_sample is None else listed(per_sample),
            "reference": reference,
        }
    )


def add_pair(loss: str, case_id: str, target: Any, pred: Any, expected: float, per_sample: Any, reference: str,
             **options: Any) -> None:  # fmt: skip
    """:func:`add` for the common roles ``target`` and ``pred``."""
    add(loss, case_id, {"target": target, "pred": pred}, expected, per_sample, reference, **options)


def write_golden(out: Path, generator: str, versions: Mapping[str, str], cases: list[dict[str, Any]] = CASES) -> None:
    """Write ``cases`` (those recorded by :func:`add`) under a header naming the generator and the versions of
    what computed them.

    One case per line, so that a changed reference shows as a small diff. Python, NumPy and torch
    versions are recorded always; ``versions`` adds the others (scikit-learn, or the source a formula
    was transcribed from).
    """
    header = {
        "generator": generator,
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__}
        | dict(versions),
    }
    body = ",\n".join(json.dumps(case, separators=(",", ":")) for case in cases)
    text = json.dumps(header, indent=1)[:-2] + ',\n "cases": [\n' + body + "\n ]\n}\n"
    json.loads(text)  # the file must parse as it will be read
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {len(cases)} cases to {out} ({len(text) / 1024:.0f} KB)")
