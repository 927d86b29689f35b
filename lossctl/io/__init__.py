"""Reading inputs: files to Arrow tables (:mod:`.readers`), column specs (:mod:`.columns`), Arrow columns
to NumPy (:mod:`.convert`) and joining a targets file (:mod:`.align`).

The names below are loaded on first use (PEP 562), so that importing :mod:`lossctl.io.columns` to
resolve names, or this package for its names alone, does not import pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lossctl.io.align import attach_targets
    from lossctl.io.columns import DEFAULT_NAMES, guess_column, resolve_colspec
    from lossctl.io.convert import is_vector_column, to_float64, to_float64_matrix
    from lossctl.io.readers import FORMATS, Source, open_input

_EXPORTS = {
    "DEFAULT_NAMES": "lossctl.io.columns",
    "guess_column": "lossctl.io.columns",
    "resolve_colspec": "lossctl.io.columns",
    "FORMATS": "lossctl.io.readers",
    "Source": "lossctl.io.readers",
    "open_input": "lossctl.io.readers",
    "is_vector_column": "lossctl.io.convert",
    "to_float64": "lossctl.io.convert",
    "to_float64_matrix": "lossctl.io.convert",
    "attach_targets": "lossctl.io.align",
}

__all__ = [
    "DEFAULT_NAMES",
    "FORMATS",
    "Source",
    "attach_targets",
    "guess_column",
    "is_vector_column",
    "open_input",
    "resolve_colspec",
    "to_float64",
    "to_float64_matrix",
]


if not TYPE_CHECKING:
    from lossctl.lazy import lazy_attributes

    __getattr__, __dir__ = lazy_attributes("lossctl.io", _EXPORTS, globals())
    del lazy_attributes
