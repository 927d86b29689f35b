"""Modules that annotations name but start-up does not import: NumPy and pandas; and a package's public names
imported on first use (:func:`lazy_attributes`).

``import lossctl`` loads neither (``lossctl --help`` stays light), so a module whose annotations say
``np.ndarray`` imports NumPy for the type checker only, and :func:`typing.get_type_hints` on its public
callables failed with ``NameError: name 'np' is not defined``. In its place at run time, ``np =
LazyModule("numpy")`` is a stand-in that imports the module on the first attribute read: evaluating the
annotation ``np.ndarray`` gives NumPy's own ``ndarray``, and nothing is imported until then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


class LazyModule:
    """The module ``name``, imported when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):  # copy, pickle and inspect probing for hooks: not the module's
            raise AttributeError(attribute)
        return getattr(import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def lazy_attributes(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's module ``__getattr__`` and ``__dir__`` (PEP 562) for ``exports`` (a public name -> the module that
    defines it): each name is imported from its module on first use and kept in ``namespace`` (the package's
    globals); ``dir``, ``help`` and tab completion list them from the start."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(namespace.keys() | exports.keys())

    return __getattr__, __dir__
