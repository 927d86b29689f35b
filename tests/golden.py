"""Loads the golden reference cases written by the generators in ``tests/reference/``.

A golden file ``tests/reference/golden/<family>.json`` is ``{"generator": ..., "versions": {...},
"cases": [case, ...]}`` where each case is::

    {"id": "huber-at-delta", "loss": "huber", "params": {"delta": 1.0}, "convention": "lossctl",
     "inputs": {"target": [...], "pred": [...]}, "sample_weight": null, "reduction": "mean",
     "expected": 0.123, "expected_per_sample": [...] or null, "reference": "torch.nn.HuberLoss"}

``inputs`` maps role names to lists (lists of lists for vector roles).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).parent / "reference" / "golden"


def load_cases(family: str) -> list[dict[str, Any]]:
    data = json.loads((GOLDEN_DIR / f"{family}.json").read_text())
    return data["cases"]


def all_cases() -> list[dict[str, Any]]:
    return [case for path in sorted(GOLDEN_DIR.glob("*.json")) for case in load_cases(path.stem)]
