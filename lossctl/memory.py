"""Memory: how much this process may still use, for work whose memory grows with the data (docs/cli.md,
"Faults": a key with millions of groups, or a batch of more rows than memory holds, stops with an input error
saying what to change, never a MemoryError),
the allocator settings of lossctl's own processes (:func:`tune_allocators`), and the garbage collector paused
while millions of result records are made (:func:`collector_paused`).

The smallest of: the machine's available memory (``MemAvailable``), the cgroup's limit less its usage
(containers), and the address-space limit (``ulimit -v``) less the address space already mapped.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import resource
import sys
from collections.abc import Iterator
from pathlib import Path

# Of the memory available, the share per-group work may claim: the rest is for the reader, the chunks'
# temporaries and the report.
_SHARE = 0.5
# Bytes a group costs besides its statistics, per result record: its key and label, the record, its JSON.
_BYTES_PER_RESULT = 2048
_BYTES_PER_GROUP = 256
# Bytes the engine holds for each byte of a chunk's rows as read: the rows, their float64 role arrays, a loss's
# copies of them (normalised embeddings) and its temporaries.
_CHUNK_COPIES = 4


def _read_int(path: str, field: str | None = None) -> int | None:
    """An integer from a /proc or /sys file: the whole file, or the ``field:`` line (in kB)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    if field is None:
        value = text.strip()
        return int(value) if value.isdigit() else None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return None


def available_bytes() -> int | None:
    """Bytes this process may still allocate, or ``None`` where no limit is known (not Linux)."""
    limits = []
    available = _read_int("/proc/meminfo", "MemAvailable")
    if available is not None:
        limits.append(available)
    cgroup_max, cgroup_used = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if cgroup_max is not None and cgroup_used is not None:
        limits.append(max(cgroup_max - cgroup_used, 0))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        mapped = _read_int("/proc/self/status", "VmSize") or 0
        limits.append(max(soft - mapped, 0))
    return min(limits) if limits else None


def group_limit(bytes_per_group: int, results: int) -> tuple[int | None, float]:
    """How many groups fit: ``(limit or None, bytes available)``, for groups costing ``bytes_per_group`` of
    statistics each and ``results`` result records each."""
    available = available_bytes()
    if available is None:
        return None, float("inf")
    cost = bytes_per_group + _BYTES_PER_GROUP + _BYTES_PER_RESULT * results
    return max(1, int(available * _SHARE) // cost), float(available)


def chunk_limit() -> tuple[int | None, float]:
    """How many bytes of rows (as read) one chunk may hold: ``(limit or None, bytes available)``."""
    available = available_bytes()
    if available is None:
        return None, float("inf")
    return int(available * _SHARE) // _CHUNK_COPIES, float(available)


@functools.cache
def tune_allocators() -> None:
    """The allocator settings of lossctl's own processes (the command line, and the Dask workers its tasks run on,
    which keep them: :mod:`lossctl.cluster`), never of the library inside a user's program. Made once per process.

    - glibc keeps freed memory for reuse instead of returning it to the system. Every chunk allocates and frees
      the same few megabytes of NumPy temporaries; by default glibc serves blocks that large with fresh ``mmap``
      pages and unmaps them on free, so each chunk pays the page faults again: measured on ten regression losses
      over 10M rows, 1.1 s of loss math against 0.29 s with the pages kept (docs/performance.md: "touching a
      fresh GiB costs 0.2-2.8 s"). Memory stays bounded by the largest chunk's working set.
    - Arrow allocates from its jemalloc pool where pyarrow has one, not mimalloc: on these machines mimalloc's
      fresh pages cost up to 10x as much kernel time each (a 20M-row join: 129k page faults in 2.9-4.8 s of
      kernel time, against 291k in 0.6 s), and every large read or join touches hundreds of MB of them; the
      streamed paths measured the same (docs/performance.md, third round).
    """
    import ctypes

    import pyarrow as pa

    with contextlib.suppress(NotImplementedError):  # a pyarrow built without jemalloc keeps its default pool
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    if not sys.platform.startswith("linux"):
        return
    try:
        # dlopen(NULL): the symbols of the process, libc's among them. ctypes.util.find_library("c") found the same
        # library by importing tempfile and running ldconfig in a subprocess: 3.5 ms of every run on an idle machine,
        # up to 20 ms on a busy one.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a libc without mallopt (musl)
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    for option in (m_trim_threshold, m_mmap_threshold):
        mallopt(option, 256 * 1024 * 1024)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector in the block (as it was before, after it).

    Result records are acyclic, but making millions of them (a ``--by`` key with a million groups) triggers
    collections that traverse every object made so far, again and again: 3M records took 11 s to build instead
    of 5 s. Their reference counts free them as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
