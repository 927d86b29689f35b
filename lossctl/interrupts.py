"""SIGINT, SIGTERM and SIGHUP end a ``lossctl`` command cleanly, at any moment (docs/cli.md, "Faults").

The handler does not raise into the interrupted code: it removes the temporary files of
:mod:`lossctl.tempfiles` (the outputs being written; none is published yet, see
:func:`~lossctl.tempfiles.transaction`), writes one ``error:`` line and ends the process at once
with status 128 + the signal number (130, 143, 129), as a shell reports a process killed by it.
Raising would run arbitrary ``finally`` and ``except`` blocks first (a writer flushing to a full
disk, a reader thread being joined), each of which can fail or block; exiting from the handler
cannot. Python runs the handler in the main thread between two bytecodes, so a long computation
in NumPy or pyarrow finishes its current call first.

Only the command line installs the handlers (:mod:`lossctl.__main__`, before anything heavy is
imported); the library never changes a process's signal handling.
"""

from __future__ import annotations

import contextlib
import os
import signal
from types import FrameType

from lossctl import tempfiles

# Bound now: while plugin code runs, os._exit raises instead of exiting (lossctl.plugins), and a signal that comes
# then must still end the process.
_exit = os._exit
_NAMES = {getattr(signal, name): name for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)}
# Written to stderr before the error line while the progress bar is on screen (lossctl.render.ProgressBar sets it):
# its line cleared and the cursor it hid shown again, else the terminal is left without a cursor.
restore_terminal = b""


def _end(signum: int, frame: FrameType | None) -> None:
    for number in _NAMES:  # a second signal must not interrupt the clean-up
        signal.signal(number, signal.SIG_IGN)
    tempfiles.remove_all()
    with contextlib.suppress(OSError):  # stderr is gone too (a closed terminal after SIGHUP): the status says it
        os.write(2, restore_terminal + f"error: interrupted by {_NAMES[signum]}\n".encode())
    _exit(128 + signum)


def install() -> None:
    """Make SIGINT, SIGTERM and SIGHUP end the process cleanly (idempotent).

    A signal ignored when lossctl starts stays ignored, as POSIX shells expect: ``nohup`` ignores
    SIGHUP, and a shell ignores SIGINT for a command it runs in the background.
    """
    for number in _NAMES:
        if signal.getsignal(number) is not signal.SIG_IGN:
            signal.signal(number, _end)


def installed() -> bool:
    """Whether the command line's handler owns SIGINT: then a ``KeyboardInterrupt`` was raised by code, not by a
    signal (the handler never raises)."""
    return signal.getsignal(signal.SIGINT) is _end
