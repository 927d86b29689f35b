"""Writes a golden file in the layout ``tests/golden.py`` reads; shared by the ``generate_*.py`` scripts.

The scripts run as ``python tests/reference/generate_<family>.py`` (their folder is on ``sys.path``) and
import nothing from lossctl: only this writer.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch


def write_golden(out: Path, generator: str, cases: list[dict[str, Any]], versions: Mapping[str, str]) -> None:
    """Write ``cases`` under a header naming the generator and the versions of what computed them.

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
