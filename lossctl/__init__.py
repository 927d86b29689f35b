"""lossctl: evaluate loss functions on model predictions stored in files.

The public API (cli.md, "Python API"). Nothing heavy is imported here: pyarrow and rich load only
when a file is read or a table is drawn.
"""

from typing import Any

from lossctl.registry import LossSpec, Param, Properties, Role, get, list_losses, register_loss

__version__ = "0.1.0"

__all__ = ["LossSpec", "Param", "Properties", "Role", "__version__", "evaluate", "get", "list_losses", "register_loss"]


def evaluate(path: str, **options: Any) -> "Report":  # noqa: F821 (lazy import below)
    """Evaluate losses on a predictions file; see :func:`lossctl.api.evaluate` for the options."""
    from lossctl.api import evaluate as _evaluate

    return _evaluate(path, **options)
