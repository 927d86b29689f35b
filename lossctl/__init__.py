"""lossctl: evaluate loss functions on model predictions, from files, DataFrames or arrays.

The public API (docs/cli.md, "Python API")::

    lossctl.evaluate(data, losses=...)      # -> Report          lossctl.get("huber:delta=2")(y, p)
    lossctl.compare(base, cand, losses=...)  # -> CompareReport   lossctl.Metric("mse").update(y, p)

Nothing heavy is imported here: NumPy and pyarrow load when data is read, pandas only when a DataFrame goes in
or comes out.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from lossctl.api import compare, evaluate
from lossctl.errors import InputError, LossctlError, UsageError
from lossctl.registry import LossSpec, Param, Properties, Role, get, list_losses, register_loss

if TYPE_CHECKING:
    from lossctl.metric import Metric
    from lossctl.report import CompareReport, Comparison, Report, Result

_LAZY = {
    "Metric": "lossctl.metric",
    "Report": "lossctl.report",
    "CompareReport": "lossctl.report",
    "Result": "lossctl.report",
    "Comparison": "lossctl.report",
}

__all__ = [
    "CompareReport",
    "Comparison",
    "InputError",
    "LossSpec",
    "LossctlError",
    "Metric",
    "Param",
    "Properties",
    "Report",
    "Result",
    "Role",
    "UsageError",
    "__version__",
    "compare",
    "evaluate",
    "get",
    "list_losses",
    "register_loss",
]


def __getattr__(name: str) -> Any:
    """The names that import NumPy (``Metric``) load on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
