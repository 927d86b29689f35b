"""Tunable defaults shared by the CLI and the library, in a module the CLI can import without NumPy."""

# Values per chunk when --chunk-rows is not given: 262,144 rows of two float64 columns (4 MB), fewer rows
# for wide inputs (10 logit columns: 47,662 rows), so that a chunk's temporaries stay a few megabytes and
# are reused from chunk to chunk. Smaller chunks measured slower (Python overhead per chunk).
DEFAULT_CHUNK_VALUES = 1 << 19


def default_chunk_rows(columns: int) -> int:
    """Rows per chunk for an input of ``columns`` bound columns."""
    return max(4096, DEFAULT_CHUNK_VALUES // max(columns, 1))


# Rows read, at most, to find one with every bound value to infer the task from without --loss: under --missing drop
# the chunks before it are held for the pass (a column missing throughout must not hold the whole input in memory).
TASK_LOOKAHEAD_ROWS = 1 << 20

# Bytes Arrow reads at a time from each column of a local Parquet file. Unbuffered, it reads a row group's whole
# column chunk into fresh memory first (8 MB per column and million rows); in 256 KiB pieces the buffers are
# reused. Measured on 10M-row files: mse+mae+huber 0.34 -> 0.32 s and peak RSS 168 -> 129 MB; five models
# 0.80 -> 0.74 s, 258 -> 186 MB; 10-class cross-entropy 0.35 -> 0.31 s, 224 -> 152 MB. Remote files keep whole
# column chunks: one request each.
PARQUET_BUFFER_BYTES = 1 << 18

# Values per block within a chunk when its rows are summed by group: a block's rows, sorted or binned by group,
# stay in the core's cache (10 groups on 10M rows: 3.2 ms per 262,144-row chunk in blocks of 32,768 rows,
# 4.3 ms at once).
BLOCK_VALUES = 1 << 16
# Rows per block when a chunk's losses are only summed: their temporaries then stay in the core's cache (per
# 262,144-row chunk on one thread: ten regression losses 7.4 -> 6.0 ms, mse+mae+huber 1.5 -> 1.2 ms, bce 3.5 ->
# 2.7 ms). Smaller blocks were as fast on one thread but slower on two: NumPy calls that short contend for the GIL.
# Wide inputs have shorter chunks (10 logits: 47,662 rows), computed whole: in blocks they were no faster, and
# neither were losses whose per-row values are kept (written, sampled, resampled) once put back together.
LOSS_BLOCK_ROWS = 1 << 16


def block_rows(columns: int) -> int:
    """Rows per block of the group sums for ``columns`` bound columns."""
    return max(1024, BLOCK_VALUES // max(columns, 1))
