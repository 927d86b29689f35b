"""lossctl: evaluate loss functions on model predictions, from files, DataFrames or arrays.

The public API (docs/cli.md, "Python API")::

    lossctl.evaluate(data, losses=...)      # -> Report          lossctl.get("huber:delta=2")(y, p)
    lossctl.compare(base, cand, losses=...)  # -> CompareReport   lossctl.Metric("mse").update(y, p)

Nothing heavy is imported here: NumPy and pyarrow load when data is read, pandas only when a DataFrame goes in
or comes out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

from lossctl.errors import InputError, LossctlError, UsageError

if TYPE_CHECKING:
    from lossctl.api import compare, evaluate
    from lossctl.metric import Metric
    from lossctl.registry import LossSpec, Param, Properties, Role, get, list_losses, register_loss
    from lossctl.report import Check, CompareReport, Comparison, Report, Result

# Loaded on first use (PEP 562): ``import lossctl`` runs next to nothing, so that ``lossctl --help`` starts fast
# and the command's signal handlers are installed before the registry loads.
_LAZY = {
    "evaluate": "lossctl.api",
    "compare": "lossctl.api",
    "Metric": "lossctl.metric",
    "LossSpec": "lossctl.registry",
    "Param": "lossctl.registry",
    "Properties": "lossctl.registry",
    "Role": "lossctl.registry",
    "get": "lossctl.registry",
    "list_losses": "lossctl.registry",
    "register_loss": "lossctl.registry",
    "Report": "lossctl.report",
    "CompareReport": "lossctl.report",
    "Result": "lossctl.report",
    "Comparison": "lossctl.report",
    "Check": "lossctl.report",
}

__all__ = [
    "Check",
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

if not TYPE_CHECKING:  # a type checker sees the imports above, and a misspelt name stays an error, not Any
    from lossctl.lazy import lazy_attributes

    __getattr__, __dir__ = lazy_attributes("lossctl", _LAZY, globals())
    del lazy_attributes
