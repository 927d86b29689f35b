"""The batches of an input read once, kept on disk as they pass, so that they can be read again.

Standard input, a pipe or a ``RecordBatchReader`` gives its rows once. Ranking losses stream them query by
query (:mod:`lossctl.queries`) and learn only on the way whether each query's rows are contiguous; when one turns
out apart, the input is evaluated again, held whole (docs/cli.md). :class:`Recorded` passes the batches on and
writes each to a temporary file in ``$TMPDIR`` as an Arrow IPC stream of the columns read; :meth:`Recorded.again`
gives them back, then the rest of the input. The file has no name (``O_TMPFILE`` on Linux; elsewhere it is
unlinked as soon as it is created), so no exit, not even ``SIGKILL``, leaves it behind. Memory stays that of a
chunk; the disk holds the columns read (8 bytes a number). A folder that cannot take them only matters when a
query's rows turn out apart: :attr:`Recorded.failed` then says why.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import pyarrow as pa


class Recorded(Iterator[pa.RecordBatch]):
    """``batches``, each kept in a temporary file as it passes (until the folder refuses one)."""

    def __init__(self, batches: Iterable[pa.RecordBatch]) -> None:
        import tempfile

        self.folder = tempfile.gettempdir()
        self.failed: str | None = None  # why the batches could not be kept (the folder's error)
        self._batches = iter(batches)
        self._file: BinaryIO | None = None
        self._spans: list[tuple[int, int]] = []  # (offset, size) of each batch's stream in the file

    def __next__(self) -> pa.RecordBatch:
        batch = next(self._batches)
        if self.failed is None:
            self._keep(batch)
        return batch

    def _keep(self, batch: pa.RecordBatch) -> None:
        """Append ``batch`` as an IPC stream of its own: a text input's column types may change between batches."""
        import tempfile

        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="lossctl-rows-", dir=self.folder)  # noqa: SIM115
            start = self._file.tell()
            with pa.ipc.new_stream(self._file, batch.schema) as writer:
                writer.write_batch(batch)
            self._spans.append((start, self._file.tell() - start))
        except (OSError, pa.ArrowException) as error:
            self.failed = os.strerror(error.errno) if isinstance(error, OSError) and error.errno else str(error)
            self.close()

    def again(self) -> Iterator[pa.RecordBatch]:
        """The batches passed on so far, read back, then the rest of the input (no longer kept). Needs
        :attr:`failed` to be ``None``."""
        if self.failed is not None:
            raise RuntimeError(f"the batches were not kept: {self.failed}")
        try:
            if self._file is not None:
                self._file.flush()
                descriptor = self._file.fileno()
                for start, size in self._spans:
                    yield pa.ipc.open_stream(os.pread(descriptor, size, start)).read_next_batch()
            self.close()
            yield from self._batches
        finally:
            self.close()

    def close(self) -> None:
        """Let the file go (the system frees its space)."""
        if self._file is not None:
            self._file.close()
            self._file = None
