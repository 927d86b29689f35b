"""Tunable defaults shared by the CLI and the library, in a module the CLI can import without NumPy."""

# Values per chunk when --chunk-rows is not given: 262,144 rows of two float64 columns (4 MB), fewer rows
# for wide inputs (10 logit columns: 47,662 rows), so that a chunk's temporaries stay a few megabytes and
# are reused from chunk to chunk. Smaller chunks measured slower (Python overhead per chunk).
DEFAULT_CHUNK_VALUES = 1 << 19


def default_chunk_rows(columns: int) -> int:
    """Rows per chunk for an input of ``columns`` bound columns."""
    return max(4096, DEFAULT_CHUNK_VALUES // max(columns, 1))


# Values per block within a chunk when the losses compute their per-row contributions: a block's columns
# and the temporaries of the loss formulas (a few per loss) stay in the core's cache. On 10M rows,
# mse+mae+huber took 19 ns per row on whole 262,144-row chunks and 7 on blocks of 32,768 rows (ten losses:
# 91 against 37); blocks of 8,192 rows were slower again (Python overhead per block).
BLOCK_VALUES = 1 << 16


def block_rows(columns: int, multiple: int = 1) -> int:
    """Rows per block of the loss math for ``columns`` bound columns, a multiple of ``multiple`` (a batch)."""
    rows = max(1024, BLOCK_VALUES // max(columns, 1))
    return max(multiple, rows // multiple * multiple)
