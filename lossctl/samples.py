"""``--per-sample PATH``: the per-row loss of every per-row loss, streamed chunk by chunk to a file.

The file is Parquet, CSV or JSON Lines by extension; it is written to a temporary file beside the
target and renamed only when the run succeeds (:meth:`PerSampleWriter.commit`), so a failed run
leaves nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl import tempfiles
from lossctl.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

PER_SAMPLE_EXTENSIONS = (".parquet", ".csv", ".jsonl")


def check_per_sample_path(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in PER_SAMPLE_EXTENSIONS:
        writes = ", ".join(PER_SAMPLE_EXTENSIONS)
        raise UsageError(f"cannot tell the format of '{path}' from its extension; --per-sample writes {writes}")
    return suffix


class PerSampleWriter:
    """Writes ``(row or key, loss columns...)`` chunks; ``labels`` name the loss columns in order.

    Every write failure (a full disk, a file-size limit, the folder removed mid-run) is an
    :class:`~lossctl.errors.InputError` ``cannot write 'PATH': ...``, and :meth:`abort` removes the
    temporary file even when closing it fails on that same full disk.
    """

    def __init__(self, path: str, id_column: str, labels: list[str]) -> None:
        self.path = Path(path)
        self.suffix = check_per_sample_path(path)
        self.id_column = id_column
        self.labels = labels
        self._tmp = tempfiles.create(self.path)
        self._writer: Any = None
        self._text: Any = None

    def write(self, ids: np.ndarray | pa.Array, losses: list[np.ndarray]) -> None:
        import pyarrow as pa

        table = pa.table({self.id_column: ids, **dict(zip(self.labels, losses, strict=True))})
        try:
            self._write(table)
        except OSError as error:
            raise tempfiles.cannot_write(self.path, error) from error

    def _write(self, table: pa.Table) -> None:
        if self.suffix == ".parquet":
            import pyarrow.parquet as pq

            self._writer = self._writer or pq.ParquetWriter(self._tmp, table.schema)
            self._writer.write_table(table)
        elif self.suffix == ".csv":
            import pyarrow.csv as pacsv

            self._writer = self._writer or pacsv.CSVWriter(self._tmp, table.schema)
            self._writer.write_table(table)
        else:
            self._text = self._text or open(self._tmp, "w", encoding="utf-8")  # noqa: SIM115 (closed in _close)
            for record in table.to_pylist():
                self._text.write(json.dumps(record) + "\n")

    def _close(self) -> None:
        handles, self._writer, self._text = (self._writer, self._text), None, None
        for handle in handles:
            if handle is not None:
                handle.close()

    def commit(self) -> None:
        """Finish the file; it is published with the run's other outputs (:mod:`lossctl.tempfiles`)."""
        try:
            self._close()
        except OSError as error:
            self.abort()
            raise tempfiles.cannot_write(self.path, error) from error
        tempfiles.publish(self._tmp)

    def abort(self) -> None:
        """Remove the temporary file. Closing may fail (flushing to a full disk): the file goes anyway."""
        try:
            self._close()
        except OSError:
            pass
        finally:
            tempfiles.discard(self._tmp)
