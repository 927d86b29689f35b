"""Tunable defaults shared by the CLI and the library, in a module the CLI can import without NumPy."""

# Rows per chunk: 2 MB per float64 column; smaller chunks measured slower (Python overhead per chunk).
DEFAULT_CHUNK_ROWS = 1 << 18
