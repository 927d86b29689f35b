"""Third-party losses: the ``lossctl.losses`` entry-point group and ``--plugin MODULE_OR_FILE.py``.

A plugin is a module that calls :func:`lossctl.register_loss` on import, exactly as the built-in
family modules do. Entry points load with the registry; a broken one is reported as a warning and
skipped (as httpie does), so one bad package cannot break the tool. A plugin asked for by name with
``--plugin`` is an error when it fails.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import warnings
from pathlib import Path

from lossctl.errors import UsageError

ENTRY_POINT_GROUP = "lossctl.losses"


def _declared() -> bool:
    """Whether an installed distribution declares a ``lossctl.losses`` entry point.

    A plain scan of the ``*.dist-info``/``*.egg-info`` folders on ``sys.path``: importing
    :mod:`importlib.metadata` costs 30 ms on every run, so it is imported only when there is a plugin.
    """
    for directory in sys.path:
        try:
            entries = list(os.scandir(directory or "."))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith((".dist-info", ".egg-info")):
                try:
                    text = Path(entry.path, "entry_points.txt").read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                if f"[{ENTRY_POINT_GROUP}]" in text:
                    return True
    return False


def load_entry_points() -> None:
    if not _declared():
        return
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as exc:  # a third-party module can raise anything on import
            warnings.warn(f"plugin '{entry.name}' ({entry.value}) failed to load: {exc}", stacklevel=2)


def load_plugin(target: str) -> None:
    """Import ``target``, a ``.py`` file or an importable module name, so its losses register."""
    from lossctl.registry import _ensure_loaded

    _ensure_loaded()
    try:
        if target.endswith(".py"):
            path = Path(target)
            if not path.is_file():
                raise UsageError(f"plugin file '{target}' not found")
            # Named after the resolved path, not the stem: a/losses.py and b/losses.py are two plugins.
            digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
            name = f"lossctl_plugin_{path.stem}_{digest}"
            if name in sys.modules:  # loaded already in this process (the Python API, or tests)
                return
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise UsageError(f"plugin file '{target}' cannot be imported")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[spec.name]  # a half-run module is not a loaded plugin: the next load must fail too
                raise
        else:
            importlib.import_module(target)
    except UsageError:
        raise
    except Exception as exc:  # the plugin's own code failed: report it, never a traceback
        raise UsageError(f"plugin '{target}' failed to load: {type(exc).__name__}: {exc}") from exc
