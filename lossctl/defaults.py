"""Tunable defaults shared by the CLI and the library, in a module the CLI can import without NumPy."""

# Rows per chunk: 512 KB per float64 column, so a chunk's temporaries stay in cache.
DEFAULT_CHUNK_ROWS = 1 << 16
