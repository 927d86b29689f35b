"""Process-wide memory settings for lossctl's own processes: the command line and the Dask engine's workers."""

from __future__ import annotations

import functools
import sys


@functools.cache
def reuse_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system.

    Every chunk allocates and frees the same few megabytes of NumPy temporaries. By default glibc
    serves blocks that large with fresh ``mmap`` pages and unmaps them on free, so each chunk pays
    the page faults again: measured on ten regression losses over 10M rows, 1.1 s of loss math
    against 0.29 s with the pages kept (docs/performance.md: "touching a fresh GiB costs 0.2-2.8 s").
    Memory stays bounded by the largest chunk's working set. A process-wide setting, so lossctl's own processes
    make it (the command line, and the Dask engine's tasks in their workers: :mod:`lossctl.cluster`), not the
    library inside a user's program; elsewhere than glibc it does nothing. Made once per process.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    for option in (m_trim_threshold, m_mmap_threshold):
        mallopt(option, 256 * 1024 * 1024)
