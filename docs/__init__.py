"""Scripts that generate and check the docs (run by make docs and the test suite)."""
