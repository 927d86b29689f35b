"""Reading on a second thread: the next chunk is decoded while the current one is computed.

pyarrow's readers and NumPy's kernels both release the GIL, so a one-slot queue between a reader
thread and the engine keeps both cores busy on large inputs; errors raised while reading are
re-raised in the engine's thread, in order. The reader runs in a copy of the caller's context, so that its
errors spell options as the caller's (:func:`lossctl.errors.option`).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate ``items`` on a background thread, ``depth`` items ahead."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as error:  # handed to the consumer, which raises it in its own thread
            slots.put(error)

    run_here = contextvars.copy_context().run  # the caller's context variables (how options are spelled)
    thread = threading.Thread(target=run_here, args=(produce,), name="lossctl-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
