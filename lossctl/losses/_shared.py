"""Intermediates shared by the losses of one chunk: the residual ``p - y`` is computed once, not once per loss;
and :func:`negated`, the sign change of the log losses.

The engine evaluates every selected loss on the same arrays of a chunk inside :func:`chunk_scope`;
there :func:`shared` memoises an intermediate by the identity of its input arrays. The cache holds
references to those arrays, so their identities cannot be reused while it lives, and it lives only
for one chunk, during which the engine never changes the arrays. Outside a scope (the Python API,
where a caller may modify an array between calls) nothing is cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

_cache: ContextVar[dict[tuple[object, ...], tuple[tuple[np.ndarray, ...], np.ndarray]] | None] = ContextVar(
    "lossctl_chunk_cache", default=None
)


@contextmanager
def chunk_scope() -> Iterator[None]:
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def shared(name: str, compute: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``compute(*arrays)``, computed once per chunk for the same arrays. The result must not be modified."""
    cache = _cache.get()
    if cache is None:
        return compute(*arrays)
    key = (name, *map(id, arrays))
    entry = cache.get(key)
    if entry is None:
        result = compute(*arrays)
        result.flags.writeable = False
        entry = cache[key] = (arrays, result)
    return entry[1]


def residual(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``p - y``, shared within a chunk."""
    return shared("residual", np.subtract, pred, target)


def abs_residual(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``|p - y|``, shared within a chunk."""
    return shared("abs_residual", lambda p, y: np.abs(residual(y, p)), pred, target)


def squared_residual(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``(p - y)^2``, shared within a chunk (mse and rmse have the same rows)."""
    return shared("squared_residual", lambda p, y: np.square(residual(y, p)), pred, target)


def negated(values: np.ndarray) -> np.ndarray:
    """``-values`` written ``0.0 - values``: at no extra cost, a zero (``-log p`` at ``p = 1``, a perfect row) is
    +0.0 where ``-values`` gives -0.0, which --per-sample files and the table would show as ``-0``."""
    return np.subtract(0.0, values)
