"""The distribution of per-row losses, for people to look at: quantiles, maximum, a small histogram.

Exact quantiles need every value; a stream cannot keep them. Instead each job keeps a uniform sample
of at most ``SAMPLE_SIZE`` rows — the rows with the smallest keys, where a row's key is a
pseudo-random number fixed by its row number — so the sample is the same whatever the chunking,
and merging two samples is keeping the smallest keys of both. The maximum is exact.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SAMPLE_SIZE = 1 << 15
QUANTILES = (0.5, 0.9, 0.99)
BINS = 12
_KEY = 0x5A3D1E


def row_keys(rows: np.ndarray) -> np.ndarray:
    """One uniform 64-bit integer per 0-based file row, a function of the row number only (word ``row``
    of a fixed Philox stream, so any chunking of the file gives every row the same key). Kept as
    integers: converting to floats would triple the cost, and only their order matters.

    ``rows`` is increasing (a chunk's rows, some perhaps dropped). Rows without gaps take the stream's
    words as they come: picking them by index cost more than drawing them (2.5 ms per 262,144 rows).
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=np.uint64)
    first, last = int(rows[0]), int(rows[-1])
    base = first - first % 4  # Philox yields 4 words per counter step
    generator = np.random.Philox(key=_KEY)
    generator.advance(base // 4)
    words = generator.random_raw(last - base + 1)
    if last - first + 1 == len(rows):  # increasing and as many as the span: every row of it
        return words[first - base :]
    return words[rows - base]


class Sample:
    """A row-keyed uniform sample of per-row values, plus the exact count and maximum.

    Candidates accumulate up to twice ``SAMPLE_SIZE`` before the sample is cut back to the
    ``SAMPLE_SIZE`` smallest keys, so the cut (an ``argpartition``) is paid once per many chunks.
    """

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self.values = np.zeros(0)
        self.count = 0
        self.maximum = -np.inf
        self.threshold: int | None = None  # keys at or above it cannot enter any more (None: not full yet)

    def add(self, values: np.ndarray, keys: np.ndarray, rows: int | None = None) -> None:
        """Add per-row ``values`` whose rows have the given :func:`row_keys`.

        ``values``/``keys`` may be only the chunk's rows below :attr:`threshold` (the others could not be
        kept): ``rows`` then says how many rows the chunk had, and :meth:`see_maximum` its largest value.
        """
        self.count += len(values) if rows is None else rows
        self.keys = np.concatenate([self.keys, keys])
        self.values = np.concatenate([self.values, values])
        if len(self.keys) > 2 * SAMPLE_SIZE:
            self._cut()

    def merge(self, other: Sample) -> None:
        """Add the rows ``other`` saw (another part of the input): the smallest keys of both samples are the
        sample of the union, so parts merged in any order give the sample one pass would have kept."""
        self.count += other.count
        self.maximum = max(self.maximum, other.maximum)
        self.keys = np.concatenate([self.keys, other.keys])
        self.values = np.concatenate([self.values, other.values])
        if len(self.keys) > 2 * SAMPLE_SIZE:
            self._cut()

    def _cut(self) -> None:
        smallest = np.argpartition(self.keys, SAMPLE_SIZE)[:SAMPLE_SIZE]
        self.keys, self.values = self.keys[smallest], self.values[smallest]
        self.threshold = int(self.keys.max())

    def see_maximum(self, values: np.ndarray) -> None:
        if len(values):
            self.maximum = max(self.maximum, float(values.max()))

    def summary(self) -> dict[str, Any]:
        """``p50, p90, p99`` (from the sample), ``max`` (exact), ``histogram`` counts over [min, p99], and the
        sampled ``values`` themselves (for plots)."""
        if len(self.keys) > SAMPLE_SIZE:
            self._cut()
        p50, p90, p99 = quantiles(self.values, QUANTILES)
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


def quantiles(values: np.ndarray, levels: tuple[float, ...]) -> list[float]:
    """``np.quantile(values, levels)`` (its default, linear interpolation between the order statistics around
    ``(n - 1) q``), bit for bit, from one ``np.partition``: np.quantile's ``np.unique`` of the positions imports
    ``numpy.ma`` (10 ms, a tenth of a run that prints a table)."""
    last = len(values) - 1
    positions = [last * q for q in levels]
    lows = [min(max(math.floor(position), 0), last) for position in positions]
    ordered = np.partition(values, sorted({*lows, *(min(low + 1, last) for low in lows)}))
    results = []
    for position, low in zip(positions, lows, strict=True):
        below, above, t = float(ordered[low]), float(ordered[min(low + 1, last)]), position - low
        step = above - below  # np.lerp: from the nearer end, so that t = 1 gives the upper value exactly
        results.append(above - step * (1.0 - t) if t >= 0.5 else below + step * t)
    return results


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
