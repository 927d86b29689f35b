"""Using every core: how many worker threads, and BLAS kept to one thread while they run.

NumPy's ufuncs, Arrow's kernels, NumPy's bit generators and BLAS all release the GIL, so plain threads
run the bootstrap's blocks in parallel. OpenBLAS starts its own threads for a large product; two worker
threads each calling it then fight over the cores (measured slower than one worker), so while workers
run, OpenBLAS is asked for one thread, as threadpoolctl does: through its ``openblas_set_num_threads``,
found in the libraries the process has loaded. Where no OpenBLAS is found (another BLAS), the work runs
on one thread.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_lock = threading.Lock()
# OpenBLAS's thread count is the process's: blocks running at once (lossctl called from several threads) share one
# setting, made by the first to enter and restored by the last to leave. Each block restoring what it found
# left the host program's OpenBLAS on one thread when two overlapped (the second found the first's 1).
_inside = 0
_before = 1


@functools.cache
def _openblas() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """OpenBLAS's ``set_num_threads`` and ``get_num_threads`` (any of the symbol names builds export)."""
    import numpy  # noqa: F401  (loads NumPy's BLAS)

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                setter = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    getter.restype = ctypes.c_int
                    return setter, getter
    return None


def workers() -> int:
    """Threads worth starting for parallel blocks: the cores this process may use, if BLAS can be tamed."""
    return _CORES if _CORES > 1 and _openblas() is not None else 1


@contextmanager
def blas_single_threaded() -> Iterator[None]:
    """OpenBLAS on one thread inside the block (restored when the last block running at once ends); nothing where
    OpenBLAS is not found."""
    functions = _openblas()
    if functions is None:
        yield
        return
    setter, getter = functions
    global _inside, _before
    with _lock:
        if not _inside:
            _before = getter()
            setter(1)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if not _inside:
                setter(_before)


def parquet_decodes_on_arrow_threads() -> bool:
    """Whether a Parquet file streamed to the engine is decoded on Arrow's thread pool (``use_threads``) rather than
    on lossctl's reader thread alone. That thread and the engine's (:mod:`lossctl.prefetch`) already keep two cores
    busy: on a 2-core machine Arrow's pool only takes turns with them (10M rows, whole processes: ten regression
    losses 0.473 -> 0.432 s, bce 0.355 -> 0.333 s, five models 0.61 -> 0.57 s without it; docs/performance.md,
    eleventh round); with more cores it decodes the columns in parallel."""
    return _CORES > 2


@functools.cache
def arrow_uses_every_core() -> None:
    """Arrow's CPU thread pool as large as the cores this process may use (Arrow's own default), in the Dask workers
    lossctl's tasks run on. Dask starts its workers with
    ``OMP_NUM_THREADS=1``, which Arrow takes for its pool's size: a task's Parquet columns were then decoded one
    after another (25M rows on a 2-core machine: 0.52 s, against 0.46 s with two threads). Set once per process; a
    larger pool is kept."""
    import pyarrow as pa

    if pa.cpu_count() < _CORES:
        pa.set_cpu_count(_CORES)
