"""Where a run's results go: standard output that may fail or close, and files that must not be inputs.

Standard output (docs/cli.md, "Faults end the same way"): a reader that goes away early (``| head``) is
not an error, the run ends quietly with the status it would have had; any other failed write (a
full disk, ``> /dev/full``) is an input error, ``cannot write to standard output: ...``, never a
traceback or an internal error. Its encoding (:func:`_encode_for_reader`): UTF-8 into a pipe or a file, as
``-o`` writes; a terminal's own, with what it cannot show escaped.

The results printed while outputs wait to be published (``--per-sample`` and ``--plot``, written before the
results) are held back until the outputs are (:meth:`_GuardedStdout.release`): an upload that fails then is the
run's only message, with nothing on standard output, as the contract has a failed run print.

Standard error: a notice or an error that cannot be written there (``2>&-``) is dropped, and the run ends with
the status it would have had.

Output files: ``-o`` or ``--per-sample`` inside an input directory, or matching an input glob, is a
usage error: the next run over that input would read the result as data.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fnmatch
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from lossctl import tempfiles
from lossctl.errors import InputError, UsageError
from lossctl.io.remote import canonical_url, is_remote
from lossctl.tempfiles import cannot_write
from lossctl.text import show_name

_GLOB_CHARS = ("*", "?", "[")
# Held-back results stay in memory up to this size, then in an anonymous temporary file (never left behind).
_HELD_IN_MEMORY = 8 << 20


class _GuardedStdout:
    """``sys.stdout`` with its failures turned into the contract's outcomes; everything else delegated."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self.gone = False
        self._held: Any = None  # a SpooledTemporaryFile of the text held back, once there is some

    def _guard(self, operation: str, *args: Any) -> Any:
        if self.gone:
            return None
        if self._stream is None:  # started with standard output closed (>&-): Python made it None
            if operation == "flush":  # nothing was written: a run writing to -o needs no stdout
                return None
            raise InputError("cannot write to standard output: it is closed")
        try:
            if operation == "write":
                return _write_whole(self._stream, *args)
            return getattr(self._stream, operation)(*args)
        except BrokenPipeError:
            self._reader_gone()
            return None
        except OSError as error:
            raise InputError(f"cannot write to standard output: {error.strerror or error}") from error

    def _reader_gone(self) -> None:
        """Send what is still buffered, and anything written later, to /dev/null: the reader left."""
        self.gone = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())  # type: ignore[union-attr]
            os.close(devnull)

    def write(self, text: str) -> int:
        # Held back only on an open stream: a closed one fails here, before the outputs are published
        if self._held is None and self._stream is not None and not self.gone and tempfiles.pending():
            import tempfile

            self._held = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed by release or discard)
                _HELD_IN_MEMORY, mode="w+", encoding="utf-8", errors="surrogatepass"
            )
        if self._held is None:
            self._guard("write", text)
            return len(text)
        try:
            self._held.write(text)
        except OSError as error:  # the temporary folder is full
            raise InputError(f"cannot write to standard output: {error.strerror or error}") from error
        return len(text)

    def flush(self) -> None:
        if self._held is None:
            self._guard("flush")

    def release(self) -> None:
        """Write the text held back to the stream, and flush it: once the outputs are published."""
        held, self._held = self._held, None
        if held is not None:
            with held:
                held.seek(0)
                while chunk := held.read(1 << 20):
                    self._guard("write", chunk)
        self._guard("flush")

    def discard(self) -> None:
        """Drop the text held back: the run failed, and prints its error alone."""
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _write_whole(stream: TextIO, text: str) -> None:
    """Write all of ``text`` to ``stream``. Python's text layer ignores a short write of its binary buffer: a file
    reaching its size limit (``ulimit -f``) took the first bytes, the rest was dropped, and ``lossctl list -f json
    > f`` ended with exit 0 and half a JSON document. The bytes go to the buffer here until it has taken them all, so
    that the write after a short one fails, saying why (``File too large``)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text stream without bytes under it (io.StringIO)
        stream.write(text)
        return
    data = memoryview(text.encode(stream.encoding, stream.errors or "strict"))
    while data:
        data = data[buffer.write(data) :]


@contextlib.contextmanager
def _held(descriptor: int) -> Iterator[None]:
    """Hold a standard ``descriptor`` that the process started without (``2>&-``) with /dev/null for the block.

    Else the next file lossctl opens takes that number, and receives what a library writes there.
    """
    try:
        os.fstat(descriptor)
    except OSError:
        pass
    else:
        yield
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    if devnull != descriptor:
        os.dup2(devnull, descriptor)
        os.close(devnull)
    # Inherited, as a standard descriptor is (os.open's are not): a Dask worker started without it, and the next
    # pipe it opened took its number; its stdout then went into that pipe (lossctl.cluster).
    os.set_inheritable(descriptor, True)
    try:
        yield
    finally:
        os.close(descriptor)


def _encode_for_reader(stream: TextIO | None) -> None:
    """Standard output's encoding where Python's is not UTF-8 (``PYTHONIOENCODING=ascii``, a Latin-1 locale, the C
    locale with ``PYTHONUTF8=0``): a character it could not encode (a group ``東京``, a column ``grüppe``, the
    table's own en dash and bars) was an internal error, exit 4, after the table's first line.

    Into a pipe or a file the results are data, so UTF-8, as ``-o`` writes them and as jq and ruff write whatever
    the locale; a terminal keeps its encoding and shows what it cannot encode escaped (``\\u6771``), as stderr's
    messages are."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    if codecs.lookup(encoding).name == "utf-8" or not hasattr(stream, "reconfigure"):
        return
    with contextlib.suppress(OSError, ValueError):
        if stream.isatty():  # type: ignore[union-attr]
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        else:
            stream.reconfigure(encoding="utf-8", errors="strict")  # type: ignore[union-attr]


@contextlib.contextmanager
def guarded_stdout() -> Iterator[_GuardedStdout]:
    """Route ``sys.stdout`` through the guard for the block, and flush it at the end, inside the guard: a write
    that fails only when the buffer is flushed (``> /dev/full``) is reported like any other. The command line
    publishes its outputs inside the block, then has :meth:`_GuardedStdout.release` print what was held back
    (``tempfiles.transaction(deliver=...)``), so that a failure there takes the outputs back."""
    original = sys.stdout
    _encode_for_reader(original)
    guarded = _GuardedStdout(original)
    sys.stdout = guarded
    try:
        yield guarded
        guarded.release()
    finally:
        guarded.discard()
        sys.stdout = original


class _QuietStderr:
    """``sys.stderr`` whose failed writes are dropped: a notice or an error that cannot be shown (stderr closed,
    or its reader gone in ``2>&1 | head``) must not turn the run into another failure; the status still says it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded_stderr() -> Iterator[None]:
    """Route ``sys.stderr`` through :class:`_QuietStderr` for the block. Started with stderr closed (``2>&-``),
    Python makes it ``None``: it becomes /dev/null, on descriptor 2 (so no file lossctl opens takes it and
    receives what a library writes there)."""
    original = sys.stderr
    with _held(2):
        stream = original if original is not None else open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = _QuietStderr(stream)
        try:
            yield
        finally:
            sys.stderr = original


def check_name(path: str) -> None:
    """A name the file system refuses (longer than it allows) is a failed write, said before any work."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise cannot_write(path, error) from None


def check_folder(path: str) -> None:
    """The local output ``path`` (a file, or the Dask engine's per-sample folder) can be created in its folder. A
    relative path in a current directory that was removed (``cd d && rmdir ../d``) cannot: ``.`` still reads as a
    writable folder there, but nothing can be created in it."""
    parent = os.path.dirname(path) or "."
    if not os.path.isabs(path) and not _current_directory_exists():
        raise InputError(f"cannot write '{show_name(path)}': the current directory was removed; give an absolute path")
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise InputError(f"cannot write '{show_name(path)}': '{show_name(parent)}' is not a directory")
    if not os.path.isdir(parent):
        raise InputError(f"cannot write '{show_name(path)}': directory '{show_name(parent)}' does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write '{show_name(path)}': directory '{show_name(parent)}' is not writable")


def _current_directory_exists() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return False
    return True


def same_destination(first: str, second: str) -> bool:
    """Whether two output paths name one file: one object however its URL's scheme is spelled (``s3://``,
    ``S3://``, ``s3a://``, as :func:`~lossctl.io.remote.canonical_url` spells them), or one local file (through
    a symlink too)."""
    if is_remote(first) or is_remote(second):
        return canonical_url(first) == canonical_url(second)
    return os.path.realpath(first) == os.path.realpath(second)


def _inside_directory(path: str, directory: str) -> bool:
    return os.path.commonpath([path, directory]) == directory


def _matches_glob(path: str, pattern: str) -> bool:
    """Whether reading the glob ``pattern`` would read ``path`` once it exists (both absolute, normalised):
    ``path`` matches it, or lies below a directory that matches it (a matched directory is read whole).

    Matched part by part, since ``*`` does not cross a ``/`` in a glob; a ``**`` pattern may match any
    depth, so it is matched whole, where ``*`` crosses ``/``.
    """
    if "**" in pattern:
        return fnmatch.fnmatchcase(path, pattern)
    parts, pattern_parts = path.split(os.sep), pattern.split(os.sep)
    return len(parts) >= len(pattern_parts) and all(
        fnmatch.fnmatchcase(part, wanted) for part, wanted in zip(parts, pattern_parts, strict=False)
    )


def check_not_inside_inputs(path: str, inputs: list[str], writer: str) -> None:
    """Refuse an output that a later read of an input would pick up: inside an input directory, or
    matching an input glob. ``writer``: the option writing ``path`` as the caller spells it (``--per-sample``), which
    a message about the input names, since it does not quote ``path``."""
    if is_remote(path):
        return _check_not_inside_remote_inputs(path, inputs, writer)
    output = os.path.realpath(path)
    for given in inputs:
        if given == "-":
            continue
        if os.path.isdir(given):
            if _inside_directory(output, os.path.realpath(given)):
                raise UsageError(
                    f"output '{show_name(path)}' is inside the input directory '{show_name(given)}': the next "
                    "run over it would read the output as data; write it elsewhere"
                )
        elif any(char in given for char in _GLOB_CHARS) and not os.path.exists(given):
            pattern = os.path.join(os.path.realpath(os.path.dirname(given) or "."), os.path.basename(given))
            if _matches_glob(output, os.path.normpath(pattern)):
                raise UsageError(
                    f"output '{show_name(path)}' matches the input pattern '{show_name(given)}': the next run "
                    "over it would read the output as data; write it elsewhere"
                )


def _check_not_inside_remote_inputs(url: str, inputs: list[str], writer: str) -> None:
    """:func:`check_not_inside_inputs` for an object-store URL, by the names alone (nothing is sent; the schemes
    as :func:`~lossctl.io.remote.canonical_url` spells them): an input URL that is not a glob may be a prefix
    holding objects below it, as a directory does."""
    output = canonical_url(url).rstrip("/")
    for given in inputs:
        if not is_remote(given):
            continue
        prefix = canonical_url(given).rstrip("/")
        if output == prefix:
            raise UsageError(f"refusing to overwrite the input '{show_name(given)}' with {writer}")
        if any(char in prefix for char in _GLOB_CHARS):
            if _matches_glob(output, prefix):
                raise UsageError(
                    f"output '{show_name(url)}' matches the input pattern '{show_name(given)}': the next run "
                    "over it would read the output as data; write it elsewhere"
                )
        elif output.startswith(prefix + "/"):
            raise UsageError(
                f"output '{show_name(url)}' is inside the input directory '{show_name(given)}': the next run "
                "over it would read the output as data; write it elsewhere"
            )
