"""How much memory this process may still use, for work whose memory grows with the data (cli.md, "Faults
end the same way": a key with millions of groups stops with an input error saying what to change, never a
MemoryError).

The smallest of: the machine's available memory (``MemAvailable``), the cgroup's limit less its usage
(containers), and the address-space limit (``ulimit -v``) less the address space already mapped.
"""

from __future__ import annotations

import resource
from pathlib import Path

# Of the memory available, the share per-group work may claim: the rest is for the reader, the chunks'
# temporaries and the report.
_SHARE = 0.5
# Bytes a group costs besides its statistics, per result record: its key and label, the record, its JSON.
_BYTES_PER_RESULT = 2048
_BYTES_PER_GROUP = 256


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
