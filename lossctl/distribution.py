"""The distribution of per-row losses, for people to look at: quantiles, maximum, a small histogram.

Exact quantiles need every value; a stream cannot keep them. Instead each job keeps a uniform sample
of at most ``SAMPLE_SIZE`` rows — the rows with the smallest keys, where a row's key is a
pseudo-random number fixed by its row number — so the sample is the same whatever the chunking,
and merging two samples is keeping the smallest keys of both. The maximum is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SAMPLE_SIZE = 1 << 15
QUANTILES = (0.5, 0.9, 0.99)
BINS = 12
_KEY = 0x5A3D1E


def row_keys(rows: np.ndarray) -> np.ndarray:
    """One uniform number in [0, 1) per 0-based file row, a function of the row number only."""
    if len(rows) == 0:
        return np.zeros(0)
    first, last = int(rows[0]), int(rows[-1])
    generator = np.random.Philox(key=_KEY)
    generator.advance(first)
    raw = generator.random_raw((last - first + 1) * 4).reshape(-1, 4)[rows - first, 0]
    return (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53


class Sample:
    """A row-keyed uniform sample of per-row values, plus the exact count and maximum."""

    def __init__(self) -> None:
        self.keys = np.zeros(0)
        self.values = np.zeros(0)
        self.count = 0
        self.maximum = -np.inf

    def add(self, values: np.ndarray, keys: np.ndarray) -> None:
        """Add per-row ``values`` whose rows have the given :func:`row_keys`."""
        self.count += len(values)
        if len(values):
            self.maximum = max(self.maximum, float(values.max()))
        keys = np.concatenate([self.keys, keys])
        kept = np.concatenate([self.values, values])
        if len(keys) > SAMPLE_SIZE:
            smallest = np.argpartition(keys, SAMPLE_SIZE)[:SAMPLE_SIZE]
            keys, kept = keys[smallest], kept[smallest]
        self.keys, self.values = keys, kept

    def summary(self) -> dict[str, Any]:
        """``p50, p90, p99`` (from the sample), ``max`` (exact), ``histogram`` counts over [min, p99], and the
        sampled ``values`` themselves (for plots)."""
        p50, p90, p99 = (float(q) for q in np.quantile(self.values, QUANTILES))
        low = float(self.values.min())
        counts = _histogram(np.minimum(self.values, p99), low, p99)
        return {
            "p50": p50,
            "p90": p90,
            "p99": p99,
            "max": self.maximum,
            "histogram": counts,
            "sampled": len(self.values),
            "rows": self.count,
            "values": self.values,
        }


def _histogram(values: np.ndarray, low: float, high: float) -> list[int]:
    """``BINS`` counts over ``[low, high]``; everything in the first bin when the range has no room for them.

    Halved, so that ``high - low`` cannot overflow; a range of a few ulps (equal huge losses: ``low + 1``
    rounds back to ``low`` at 1e227) cannot be cut into ``BINS`` distinct edges, and np.histogram raises.
    """
    half_low, half_high = low / 2, high / 2
    if not half_high - half_low > BINS * np.spacing(max(abs(half_low), abs(half_high))):
        return [len(values)] + [0] * (BINS - 1)
    counts, _ = np.histogram(values / 2, bins=BINS, range=(half_low, half_high))
    return counts.tolist()


def sparkline(counts: list[int]) -> str:
    """A one-line unicode histogram; bar heights follow the square root of the counts so small bins show."""
    bars = " ▁▂▃▄▅▆▇█"
    top = max(counts) or 1
    return "".join(bars[round((c / top) ** 0.5 * (len(bars) - 1))] if c else " " for c in counts)
