"""``--by`` groups: stable integer codes for the distinct key tuples seen across all chunks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa


class GroupCoder:
    """Gives each distinct combination of the ``by`` columns' values a code, in order of first appearance.

    Codes are global: the same key gets the same code in every chunk, so per-group statistics of
    different chunks can be merged. A missing value is a group of its own (``None``).
    """

    def __init__(self, by: list[str]) -> None:
        self.by = by
        self.keys: list[tuple[Any, ...]] = []
        self._codes: dict[tuple[Any, ...], int] = {}

    def codes(self, batch: pa.RecordBatch) -> np.ndarray:
        """The global group code of every row of ``batch``."""
        per_column = []
        for column in self.by:
            encoded = batch.column(column).dictionary_encode(null_encoding="encode")
            indices = encoded.indices.to_numpy(zero_copy_only=False)
            per_column.append((indices, encoded.dictionary.to_pylist()))
        stacked = np.column_stack([indices for indices, _ in per_column])
        combos, first, local = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
        mapping = np.empty(len(combos), dtype=np.int64)
        # New keys are numbered by the row where they first appear, not by np.unique's sorted order, so the
        # codes do not depend on where chunks (or the Dask engine's parts) begin.
        for i in np.argsort(first, kind="stable"):
            combo = combos[i]
            key = tuple(values[j] for (_, values), j in zip(per_column, combo, strict=True))
            mapping[i] = self._codes.setdefault(key, len(self.keys))
            if mapping[i] == len(self.keys):
                self.keys.append(key)
        return mapping[local.reshape(-1)]

    def label(self, code: int) -> dict[str, Any]:
        return dict(zip(self.by, self.keys[code], strict=True))
