"""Reading on a second thread: the next chunk is decoded while the current one is computed.

pyarrow's readers and NumPy's kernels both release the GIL, so a one-slot queue between a reader
thread and the engine keeps both cores busy on large inputs; errors raised while reading are
re-raised in the engine's thread, in order. The reader runs in a copy of the caller's context, so that its
errors spell options as the caller's (:func:`lossctl.errors.option`).
"""

from __future__ import annotations

import contextlib
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

    def hand_over(item: object) -> bool:
        """Put ``item`` in a slot; ``False`` once the consumer has stopped (it takes nothing more)."""
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        # Every hand-over gives up once the consumer stops: the end (or an error) put in full slots the consumer
        # no longer read kept the thread, its chunks and its open input, for the rest of the process (a progress
        # callback raising, or a Ctrl-C, while the last chunks waited). The input is closed here, in this thread.
        iterator = iter(items)
        try:
            for item in iterator:
                if not hand_over(item):
                    return
            hand_over(_DONE)
        except BaseException as error:  # handed to the consumer, which raises it in its own thread
            hand_over(error)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # an input's clean-up failing: nobody waits for it any more
                    close()

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
