"""The limits that stop a run before it outgrows the machine, each with the reason for its value.

docs/cli.md ("Faults end the same way"): work whose memory grows beyond what the machine has is stopped
with an error that says what to change, never a MemoryError or a crash, and an option value out of
range is a usage error. Pure Python: the CLI checks options before NumPy loads.
"""

from __future__ import annotations

import os

from lossctl.errors import UsageError, option


def _from_environment(name: str, default: int) -> int:
    """An integer limit that the environment may change (tests lower it to exercise it cheaply)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{name} must be a whole number of bytes, got '{text}'") from None
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {value}")
    return value


# The longest line a text input may hold (bytes). A line is parsed whole, so it is held in memory
# whole, twice (the block and the parsed table): 256 MiB allows a JSON record with a 10-million-value
# vector or a CSV row of a million columns, and stops a file with no line ends (a binary file named
# .csv, a 3 GB single-line dump) long before memory runs out. LOSSCTL_MAX_LINE_BYTES changes it.
MAX_LINE_BYTES_DEFAULT = 256 * 1024 * 1024
MAX_LINE_VARIABLE = "LOSSCTL_MAX_LINE_BYTES"


def max_line_bytes() -> int:
    return _from_environment(MAX_LINE_VARIABLE, MAX_LINE_BYTES_DEFAULT)


# How deeply a JSON value may nest. pyarrow's JSON reader recurses once per level on a thread's stack
# and crashed the process (SIGSEGV) between 5,000 and 10,000 levels; Python's json stops at its
# recursion limit (about 1,000). The deepest data a loss reads is a matrix in a record (3 levels).
MAX_JSON_DEPTH = 256

# Bootstrap replicates: each one is a statistics vector per loss and per group, so memory grows with
# N; percentile intervals are stable from 1,000 to 10,000 replicates, and 100,000 holds about 5 MB per
# loss and group.
MAX_REPLICATES = 100_000

# Rows per chunk: a chunk is converted to float64 whole (8 bytes per value and its temporaries).
MAX_CHUNK_ROWS = 2**31 - 1
SEED_LIMIT = 2**64


def check_options(chunk_rows: int | None, bootstrap: int, seed: int) -> None:
    """Usage errors for ``--chunk-rows``, ``--bootstrap`` and ``--seed`` out of range, before any work."""
    if chunk_rows is not None and chunk_rows < 1:
        raise UsageError(f"{option('chunk_rows')} must be at least 1, got {chunk_rows}")
    if chunk_rows is not None and chunk_rows > MAX_CHUNK_ROWS:
        raise UsageError(f"{option('chunk_rows')} must be at most {MAX_CHUNK_ROWS:,}, got {chunk_rows}")
    if bootstrap < 0 or bootstrap == 1:
        raise UsageError(f"{option('bootstrap')} needs at least 2 replicates, got {bootstrap}")
    if bootstrap > MAX_REPLICATES:
        given = option("bootstrap", str(bootstrap), keyword=f"bootstrap={bootstrap}")
        raise UsageError(
            f"{given} is more than the {MAX_REPLICATES:,} replicates lossctl keeps in memory; "
            "1,000 to 10,000 give stable intervals"
        )
    if not 0 <= seed < SEED_LIMIT:
        raise UsageError(f"{option('seed')} must be between 0 and 2^64 - 1, got {seed}")
