"""Every file lossctl writes goes through a temporary file beside its target, tracked here.

A result file (``-o``, ``--per-sample``, ``--plot``) is written to a temporary file in the target's
folder and renamed over the target once complete (:func:`publish`), so a reader never sees half a
file. This module keeps the registry of the temporary files that exist right now, so that whatever
ends the run — an error, or a signal whose handler calls :func:`remove_all` and exits at once —
leaves none behind (docs/cli.md, "Faults end the same way").

Inside :func:`transaction` (the command line wraps each run in one) finished files are not renamed
one by one but all together when the run succeeds: a run that fails after writing its per-sample
file, say while writing ``-o`` to a full disk, publishes neither. The renames happen with the
termination signals blocked, so a signal sees either no output or every output.

An object store's target (``s3://...``, :mod:`lossctl.io.remote`) gets its temporary file in the system's
temporary folder; publishing it uploads it, and the object appears only once the upload completes. An output
staged by its own code (the Dask engine's ``--per-sample`` dataset in a bucket, whose parts the workers write)
joins the transaction with :func:`publish_staged`: it is published after the files, or aborted with them; its code
registers with :func:`at_signal` what a signal's handler must do for it (end the processes writing it, remove its
staged objects), which the handler does after removing the files, waiting at most :data:`SIGNAL_CLEANUP_SECONDS`
for the network.

A target that exists and is neither a regular file nor a folder (``-o /dev/stdout``, ``/dev/full``, a named pipe)
is written in place: a file renamed over it would replace the device, or the pipe its reader waits on, instead
of writing to it. Such a target is never removed, and a reader that closes its pipe early is no error.

Only the standard library is imported: the signal handler is installed before anything heavy loads.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lossctl.errors import InputError
from lossctl.text import is_utf8, show_name

# The signals the command line turns into a clean exit (lossctl.interrupts); blocked while the
# registry and the file system disagree, so the handler never runs between the two.
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
# Longest file name most file systems accept (bytes); a temporary name is cut to fit it.
NAME_MAX = 255
_SUFFIX = ".tmp"
_RANDOM = 8  # the random characters mkstemp adds
# How long a signal's handler waits for the clean-ups registered with at_signal (network calls): a store that does
# not answer must not keep an interrupted run alive.
SIGNAL_CLEANUP_SECONDS = 10.0


@dataclass(frozen=True)
class _Staged:
    """An output that its own code stages and publishes (:func:`publish_staged`), and removes once published
    (``take_back``) when the run fails after all."""

    publish: Callable[[], None]
    abort: Callable[[], None]
    take_back: Callable[[], None]


# temporary file -> target (a local path, or an object store's URL); the outputs to publish when the
# transaction ends (None: outside one). The outputs are a context variable: a command line run in one thread of a
# host program (its transaction open) held back the per-sample file of an evaluate() another thread made, published
# only when the command ended, or removed if it failed. The threads a run starts share its list (they run in a copy
# of its context: lossctl.prefetch, lossctl.engine).
_live: dict[Path, Path | str] = {}
_pending: ContextVar[list[Path | _Staged] | None] = ContextVar("lossctl_pending_outputs", default=None)
# Targets written in place (a device, a named pipe): "created", "published" and "discarded" without a file of ours.
_in_place: set[Path] = set()
# What a signal's handler calls besides removing the files (at_signal), each with whether it goes first.
_at_signal: list[tuple[bool, Callable[[], None]]] = []
# The folders of scratch_directory, in _live too (a signal removes them), removed when the process ends.
_scratch: list[Path] = []


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends (they are delivered then); POSIX only."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def cannot_write(path: str | Path, error: OSError) -> InputError:
    """The one message for a failed write: disk full, file too large, a name too long, a folder gone."""
    reason = os.strerror(error.errno) if error.errno else str(error)  # pyarrow's strerror is a paragraph
    return InputError(f"cannot write '{show_name(path)}': {reason}")


def _prefix(name: str) -> str:
    """``.NAME.`` for the temporary file, with NAME cut so the whole name fits :data:`NAME_MAX` bytes:
    a legal 255-byte output name must not make its temporary name illegal."""
    room = NAME_MAX - len(b"..") - _RANDOM - len(_SUFFIX)
    return f".{os.fsencode(name)[:room].decode(errors='ignore')}."


def is_url(target: str | Path) -> bool:
    """Whether ``target`` names an object in a store (``s3://...``): a URL is never a local path."""
    return isinstance(target, str) and "://" in target


def create(target: str | Path) -> Path:
    """Create an empty temporary file for ``target`` and register it; raises :class:`InputError`.

    Beside a local target (so the rename stays on one file system), or beside the file a symbolic link names; in
    the system's temporary folder for an object store's URL.
    """
    import tempfile  # 10 ms of imports (random, shutil) that lossctl --help does not need

    final: Path | str = target if is_url(target) else Path(target)
    if isinstance(final, Path) and is_special(final):
        _in_place.add(final)
        return final
    if isinstance(final, Path):
        final = _through_link(final)
    if isinstance(final, str):
        folder, name = None, final.rstrip("/").rsplit("/", 1)[-1]
    else:
        folder, name = (final.parent if str(final.parent) else Path(".")), final.name
    try:
        with _signals_blocked():  # between mkstemp and the registry, a signal would leak the file
            fd, tmp_name = tempfile.mkstemp(prefix=_prefix(name), suffix=_SUFFIX, dir=folder)
            tmp = Path(tmp_name)
            _live[tmp] = final
        os.close(fd)
    except OSError as error:
        raise cannot_write(target, error) from error
    return tmp


def _through_link(target: Path) -> Path:
    """The file a symbolic link names, where an output is written, as a shell's > writes: renamed over the link, the
    output would replace the link, and the file (or the dataset's folder) it names would keep the old results. A
    loop of links, where > fails, is a failed write: the link is not replaced."""
    if not os.path.islink(target):  # False where lstat fails (a name too long): creating the file will say why
        return target
    final = Path(os.path.realpath(target))
    if os.path.islink(final):  # where realpath stopped: the loop
        raise cannot_write(target, OSError(errno.ELOOP, os.strerror(errno.ELOOP)))
    return final


def in_place(tmp: Path) -> bool:
    """Whether :func:`create` made ``tmp`` a target written in place (a named pipe, a device)."""
    return tmp in _in_place


def open_for_arrow(tmp: Path) -> BinaryIO | None:
    """A Python file open on ``tmp`` where Arrow's writers must not be given its name, else None; the caller closes
    it. A target written in place (a named pipe, a device): Arrow's own open and write retry when a signal
    interrupts them, so a named pipe that nobody reads held lossctl there for good, deaf to SIGINT, SIGTERM and
    SIGHUP; Python's open and write run the signal's handler (:mod:`lossctl.interrupts`). And a name that is not
    UTF-8 (a folder from a Latin-1 system, held as surrogates), which Arrow cannot encode: an internal error."""
    return open(tmp, "wb") if tmp in _in_place or not is_utf8(str(tmp)) else None


def is_special(target: Path) -> bool:
    """Whether ``target`` exists and is neither a regular file nor a folder (a device, a named pipe), or is an open
    descriptor (``/dev/stdout``, ``/dev/fd/3``: a rename would replace the link, and lose what a shell's ``>>``
    appends to)."""
    if _is_descriptor(target):  # even a closed one (>&-): opening it fails, as it should
        return True
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _is_descriptor(target: Path) -> bool:
    """Whether ``target`` is, or links to, a process's open descriptor (``/dev/stdout`` -> ``/proc/self/fd/1``)."""
    path = os.path.abspath(target)
    for _ in range(40):  # the kernel's own limit on links followed
        if path.startswith(("/proc/", "/dev/fd/")):
            return True
        if not os.path.islink(path):
            return False
        path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return False


def create_directory(target: str) -> Path:
    """Create an empty temporary directory beside the local ``target`` and register it, for an output made of
    several files (the Dask engine's ``--per-sample`` dataset): published and removed as a file is. A device or a
    named pipe (or a link to one) is refused: publishing would remove it to put the folder in its place."""
    import tempfile

    if is_special(Path(target)):
        raise InputError(
            f"cannot write '{show_name(target)}': it is a device or a named pipe, and this output is a folder of "
            "files; name a folder"
        )
    final = _through_link(Path(target))
    try:
        with _signals_blocked():
            tmp = Path(tempfile.mkdtemp(prefix=_prefix(final.name), suffix=_SUFFIX, dir=final.parent))
            _live[tmp] = final
    except OSError as error:
        raise cannot_write(target, error) from error
    return tmp


def scratch_directory(name: str) -> Path:
    """A folder of lossctl's own in the system's temporary folder, named from ``name``, for what a library must
    write somewhere (matplotlib's configuration and font cache where its own folder cannot be written), kept until
    the process ends: removed by a signal's handler (:func:`remove_all`), at exit, and by the command line, whose
    ``os._exit`` skips the exit handlers (:func:`remove_scratch`)."""
    import atexit
    import tempfile

    folder = create_directory(str(Path(tempfile.gettempdir()) / name))
    _scratch.append(folder)
    atexit.register(discard, folder)  # a library's process; nothing left to do once remove_scratch has run
    return folder


def remove_scratch() -> None:
    """Remove the :func:`scratch_directory` folders: the command line's end."""
    while _scratch:
        discard(_scratch.pop())


def _remove(path: Path) -> None:
    """Unlink a file, or remove a directory with its contents; raises ``OSError`` for a file that cannot go."""
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink()


def discard(tmp: Path) -> None:
    """Remove a temporary file or directory (written or not) and forget it; a target written in place is only
    forgotten."""
    if tmp in _in_place:
        _in_place.discard(tmp)
        return
    with _signals_blocked():
        with contextlib.suppress(OSError):
            _remove(tmp)
        _live.pop(tmp, None)
        pending_outputs = _pending.get()
        if pending_outputs is not None and tmp in pending_outputs:
            pending_outputs.remove(tmp)


def _mode(target: Path | str) -> int:
    """The permissions the published file gets: an existing target's own (a 0600 file stays 0600),
    else what a plain ``open`` would give (0666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return _new_mode()


def _new_mode(directory: bool = False) -> int:
    """What ``open`` (``mkdir`` for a directory) gives a new file: 0666 (0777) less the umask."""
    return (0o777 if directory else 0o666) & ~_umask()


def _umask() -> int:
    """The process's umask, read where Linux shows it. Setting it to read it back (``os.umask``) opens a window in
    which a file another thread of the program creates gets umask 0 (a world-writable file, beside lossctl used as
    a library); that remains only where ``/proc`` does not show it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _rename(tmp: Path, target: Path | str) -> None:
    """Put ``tmp`` in place: renamed over a local target (keeping an existing file's permissions), or uploaded
    to an object store and removed."""
    if isinstance(target, str):
        from lossctl.io.remote import upload

        upload(tmp, target)
        os.unlink(tmp)
        return
    if tmp.is_dir():
        return _rename_directory(tmp, target)
    os.chmod(tmp, _mode(target))
    os.replace(tmp, target)


def _rename_directory(tmp: Path, target: Path) -> None:
    """Put the directory ``tmp`` in place of ``target``: a previous directory of that name (an older dataset) is
    moved aside, then removed; a file of that name is replaced."""
    os.chmod(tmp, _mode(target) if target.is_dir() else _new_mode(directory=True))  # mkdtemp made it 0700
    if target.is_dir() and not target.is_symlink():
        aside = tmp.with_name(tmp.name + ".old")
        os.rename(target, aside)
        os.rename(tmp, target)
        _remove(aside)
    else:
        if os.path.lexists(target):
            os.unlink(target)
        os.rename(tmp, target)


def publish(tmp: Path) -> None:
    """Put a finished temporary file in place of its target: now, or when the transaction commits."""
    if tmp in _in_place:  # written already
        _in_place.discard(tmp)
        return
    target = _live[tmp]
    pending_outputs = _pending.get()
    if pending_outputs is not None:
        pending_outputs.append(tmp)
        return
    try:
        with _signals_blocked():
            _rename(tmp, target)
            del _live[tmp]
    except OSError as error:
        discard(tmp)
        raise cannot_write(target, error) from error
    except InputError:  # an upload's own message (lossctl.io.remote)
        discard(tmp)
        raise


def publish_staged(publish: Callable[[], None], abort: Callable[[], None], take_back: Callable[[], None]) -> None:
    """Publish an output staged by its own code: now, or when the transaction commits, after its files (if one of
    them fails, or the run does, ``abort`` is called instead; ``take_back`` when the run fails once it is
    published). ``publish`` raises :class:`InputError`."""
    pending_outputs = _pending.get()
    if pending_outputs is None:
        publish()
    else:
        pending_outputs.append(_Staged(publish, abort, take_back))


def pending() -> bool:
    """Whether outputs wait for the transaction to publish them (the results printed meanwhile are held back)."""
    return bool(_pending.get())


def _drop(output: Path | _Staged) -> None:
    """Give up an output that will not be published."""
    if isinstance(output, _Staged):
        output.abort()
    else:
        discard(output)


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp)`` on a temporary file beside ``path``, then publish it as ``path``.

    ``write`` raising an :class:`OSError` (disk full, file size limit, folder removed) is reported as
    ``cannot write 'path': ...``; nothing is left behind whatever it raises.
    """
    tmp = create(path)
    in_place = tmp in _in_place
    try:
        write(tmp)
    except OSError as error:
        discard(tmp)
        if in_place and isinstance(error, BrokenPipeError):  # the reader left early (-o /dev/stdout | head)
            return
        raise cannot_write(path, error) from error
    except BaseException:
        discard(tmp)
        raise
    publish(tmp)


@contextlib.contextmanager
def transaction(deliver: Callable[[], None] | None = None) -> Iterator[None]:
    """Publish the outputs finished inside the block together when it ends normally; else remove them.

    If one rename or upload fails (the target's folder was removed, say), the files renamed and the objects
    uploaded by this commit are removed too, so a failed run leaves no output (an older file of that name is lost).
    ``deliver`` runs once they are published (the command line prints the results it held back for them): if it
    raises :class:`InputError` (standard output is full), or a signal comes meanwhile, they are removed as well.
    Nested in another transaction, the block's outputs are published by the outer one, and ``deliver`` is not run.
    """
    outer = _pending.get()
    finished: list[Path | _Staged] = []
    token = _pending.set(finished)
    try:
        yield
    except BaseException:
        _pending.reset(token)
        for output in finished:
            _drop(output)
        raise
    _pending.reset(token)
    if outer is not None:  # nested: the outer transaction publishes
        outer.extend(finished)
        return
    finished.sort(key=_commit_order)
    done: list[Path | str | _Staged] = []
    with _signals_blocked():
        for position, output in enumerate(finished):
            try:
                done.append(_commit(output))
            except InputError:
                _take_back_all(done)
                for rest in finished[position:]:
                    _drop(rest)
                raise
        if deliver is None:
            return
        # before a signal held meanwhile is delivered; deliver runs unblocked, so a signal ends a stalled write
        forget = at_signal(lambda: _take_back_all(done))
    try:
        deliver()
    except InputError:
        _take_back_all(done)
        raise
    finally:
        forget()


def _take_back_all(done: list[Path | str | _Staged]) -> None:
    for made in done:
        _take_back(made)


def _commit_order(output: Path | _Staged) -> int:
    """Local files first, then uploads, then the staged outputs: a failure removes what was published before it,
    and a local rename is the likeliest to fail (a folder gone) and the cheapest to undo. An upload is undone by
    deleting the object, a staged output by deleting what it published (any older output of that name is lost, as
    an older local file is)."""
    if isinstance(output, _Staged):
        return 2
    return 1 if isinstance(_live[output], str) else 0


def _take_back(made: Path | str | _Staged) -> None:
    """Remove an output that this commit published, the run having failed after all; a failure to do so is not
    reported over the run's own error."""
    if isinstance(made, _Staged):
        with contextlib.suppress(Exception):
            made.take_back()
        return
    if isinstance(made, str):
        from lossctl.io.remote import remove

        with contextlib.suppress(Exception):  # the store's own errors: whatever the network says
            remove(made)
        return
    with contextlib.suppress(OSError):
        _remove(made)


def _commit(output: Path | _Staged) -> Path | str | _Staged:
    """Publish one output of a transaction; returns the local file, the object's URL or the staged output it made,
    which a later failure removes."""
    if isinstance(output, _Staged):
        output.publish()
        return output
    target = _live[output]
    try:
        _rename(output, target)
    except OSError as error:
        raise cannot_write(target, error) from error
    del _live[output]
    return target


def at_signal(clean: Callable[[], None], *, first: bool = False) -> Callable[[], None]:
    """Have a signal's handler call ``clean`` after removing the files (``first``: before the clean-ups registered
    without it), until the function returned is called. For an output staged outside this registry: the Dask
    engine's ``--per-sample`` dataset in a bucket, and first the local cluster's workers that write it."""
    entry = (first, clean)
    _at_signal.append(entry)

    def forget() -> None:
        with contextlib.suppress(ValueError):
            _at_signal.remove(entry)

    return forget


def _clean_up(cleanups: list[Callable[[], None]]) -> None:
    for clean in cleanups:
        with contextlib.suppress(Exception):  # whatever the network says: the run ends anyway
            clean()


def remove_all() -> None:
    """Remove every registered temporary file and directory, then run the :func:`at_signal` clean-ups (on a thread,
    for at most :data:`SIGNAL_CLEANUP_SECONDS`); for the signal handler, which exits right after."""
    for tmp in list(_live):
        with contextlib.suppress(OSError):
            _remove(tmp)
    _live.clear()
    cleanups = [clean for first, clean in sorted(_at_signal, key=lambda entry: not entry[0])]
    _at_signal.clear()
    if cleanups:
        import threading

        thread = threading.Thread(target=_clean_up, args=(cleanups,), name="lossctl-signal-cleanup", daemon=True)
        thread.start()
        thread.join(SIGNAL_CLEANUP_SECONDS)
