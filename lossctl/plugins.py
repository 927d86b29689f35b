"""Third-party losses: the ``lossctl.losses`` entry-point group and ``--plugin MODULE_OR_FILE.py``.

A plugin is a module that calls :func:`lossctl.register_loss` on import, exactly as the built-in
family modules do. Entry points load with the registry; a broken one is reported as a warning and
skipped (as httpie does), so one bad package cannot break the tool. A plugin asked for by name with
``--plugin`` is an error when it fails, or calls ``sys.exit`` or ``os._exit``, while loading.

Plugin code runs with the user's rights, like any Python it imports (README, "Security model"). Its
losses are marked with their origin, so that a plugin loss that raises, or returns the wrong shape
or non-finite values, is reported as that plugin's error, and what a plugin prints goes to stderr.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import signal
import stat
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from lossctl.errors import DomainError, InputError, LossctlError, UsageError
from lossctl.io.remote import is_url
from lossctl.text import count, show_name

if TYPE_CHECKING:
    import numpy as np

    from lossctl.registry import LossSpec

ENTRY_POINT_GROUP = "lossctl.losses"
_FILE_MODULE_PREFIX = "lossctl_plugin_"  # the modules made from --plugin FILE.py
# The --plugin FILE.py modules lossctl registered with cloudpickle, by name, with the number of runs using them
# (runs at once in one process share cloudpickle's registry).
_by_value_held: dict[str, int] = {}
_by_value_lock = threading.Lock()


@contextlib.contextmanager
def file_plugins_by_value() -> Iterator[bool]:
    """Within it, cloudpickle pickles the code of ``--plugin FILE.py`` modules by value; yields whether there are
    any: a Dask worker cannot import a module that lossctl made from a file path, so their losses travel in the
    tasks. On leaving, the modules lossctl registered are unregistered (once no run at once still needs them), so
    a program that calls lossctl keeps cloudpickle as it had it; one the program had registered itself stays."""
    modules = [module for name, module in list(sys.modules.items()) if name.startswith(_FILE_MODULE_PREFIX)]
    if not modules:
        yield False
        return
    import cloudpickle

    with _by_value_lock:
        for module in modules:
            held = _by_value_held.get(module.__name__)
            if held is None and module.__name__ in cloudpickle.list_registry_pickle_by_value():
                continue  # the program's own registration
            if held is None:
                cloudpickle.register_pickle_by_value(module)
            _by_value_held[module.__name__] = (held or 0) + 1
    try:
        yield True
    finally:
        with _by_value_lock:
            for module in modules:
                held = _by_value_held.pop(module.__name__, None)
                if held is not None and held > 1:
                    _by_value_held[module.__name__] = held - 1
                elif held is not None:
                    with contextlib.suppress(ValueError):  # the program unregistered it meanwhile
                        cloudpickle.unregister_pickle_by_value(module)


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


class _Exited(SystemExit):
    """Plugin code called ``os._exit(code)``, which ends the process at once, skipping every handler: the run would
    end with that status and no result nor error (``os._exit(0)``: a success that computed nothing). While plugin
    code runs, ``os._exit`` raises this instead, and it is reported as ``sys.exit`` is."""


# Bound now, as lossctl.interrupts binds it: what os._exit is while no plugin code runs.
_os_exit = os._exit
# How deeply the current thread is inside plugin code (:func:`_running_plugin_code`).
_inside = threading.local()


def _exit_instead(status: int) -> NoReturn:
    """``os._exit`` while plugin code runs: raises in the threads running it, and exits as ever in the others.

    The replacement is process-wide, and other code keeps running beside the plugin: in a Dask worker, the thread
    that ends the worker when lossctl's process is gone (``os._exit(-1)``) met the exception instead, so a signal
    left the worker running a plugin loss for 30 s, printing tracebacks on the terminal.
    """
    if getattr(_inside, "depth", 0):
        raise _Exited(status)
    _os_exit(status)


# Whether lossctl owns the process (the command line, :func:`own_stdout`): then, while plugin code runs, descriptor
# 1 and sys.stdout are stderr for every thread; in a library host, only the threads running plugin code print there.
_owns_stdout = False


def own_stdout() -> None:
    """Called by the command line, whose stdout carries its results (``-f json | jq``): while plugin code runs,
    descriptor 1 (a C library's ``printf``) and ``sys.stdout`` point at stderr for the whole process, so that a
    thread the plugin starts prints there too. In a program that uses lossctl as a library, stdout is the
    program's: the other threads keep printing to it meanwhile, and only plugin code's own prints (through
    ``sys.stdout``, in the threads running it) go to stderr (:class:`_PluginStdout`)."""
    global _owns_stdout
    _owns_stdout = True


class _PluginStdout:
    """``sys.stdout`` while plugin code runs in a library host: a thread running plugin code writes to stderr
    (docs/cli.md: nothing a plugin prints reaches stdout), every other thread to the stdout it had (a host's
    logging thread, a notebook's cell output)."""

    def __init__(self, stdout: TextIO) -> None:
        self._stdout = stdout

    def _target(self) -> TextIO | None:
        return sys.stderr if getattr(_inside, "depth", 0) else self._stdout

    def write(self, text: str) -> int:
        target = self._target()
        return target.write(text) if target is not None else len(text)  # no stderr: printed nowhere, as print does

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


# The redirection and the replaced os._exit are process-wide (sys.stdout, the os module, and under the command
# line descriptor 1), and the engine may call plugin losses on two threads at once: the first thread in sets them,
# the last one out restores.
_redirect_lock = threading.Lock()
_redirect_depth = 0
# descriptor 1's copy, stdout, os._exit, threading.excepthook
_saved: tuple[int | None, TextIO, Callable[..., NoReturn], Callable[[threading.ExceptHookArgs], Any]] | None = None
# The working directory when plugin code began to run (None: it had been removed), which it is again after.
_cwd: str | None = None
# sys.stdin and sys.stderr when plugin code began to run under the command line, which they are again after.
_streams: tuple[TextIO | None, TextIO | None] = (None, None)
# The exceptions of threads that ended by raising while plugin code ran (:func:`_record_thread_failure`).
_thread_failures: list[BaseException] = []
# The threads alive when plugin code began to run: the host program's (lossctl as a library), not the plugin's.
_threads_before: frozenset[threading.Thread] = frozenset()
_CLOSED = -1  # descriptor 1's "copy" when there was no descriptor 1
# The signals whose handlers plugin code must not take over (lossctl.interrupts ends the run cleanly on them).
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _running_plugin_code() -> Iterator[None]:
    """Run plugin code: what it prints goes to stderr, as stdout carries lossctl's results (``-f json | jq``), and
    an ``os._exit`` it calls (in this thread) raises :class:`_Exited`, and the handlers of SIGINT, SIGTERM and
    SIGHUP it replaces are put back when it returns (a plugin ignoring SIGINT at import made Ctrl-C do nothing),
    and so is the working directory it changes (``os.chdir``: relative ``-o`` and input paths are the user's).

    A thread the plugin code started that ends by raising while it runs makes it raise that exception when it
    returns (:func:`_record_thread_failure`).

    Under the command line (:func:`own_stdout`) both ``sys.stdout`` (``print``) and file descriptor 1 (a C
    library's ``printf``) are redirected, and a ``sys.stdin`` or ``sys.stderr`` the plugin replaces is put back
    (input ``-`` is the user's, and lossctl's errors go to stderr); in a library host, ``sys.stdout`` for the
    threads running plugin code only. ``os._exit`` raises only in those threads too. lossctl's own ``os._exit``
    (a signal's handler, :mod:`lossctl.interrupts`) keeps the function it found at import.
    """
    global _redirect_depth, _saved, _threads_before, _cwd, _streams
    # Only the main thread can set a handler; the outermost call there keeps them.
    keep = threading.current_thread() is threading.main_thread() and not getattr(_inside, "depth", 0)
    handlers = [(number, signal.getsignal(number)) for number in _SIGNALS] if keep else []
    with _redirect_lock:
        if _redirect_depth == 0:
            descriptor = _descriptor_to_stderr() if _owns_stdout else None
            _saved = (descriptor, sys.stdout, os._exit, threading.excepthook)
            _threads_before = frozenset(threading.enumerate())
            try:
                _cwd = os.getcwd()
            except OSError:  # removed: there is no folder to go back to
                _cwd = None
            _streams = (sys.stdin, sys.stderr)
            if _owns_stdout:
                sys.stdout = sys.stderr
            elif sys.stdout is not None:  # None (pythonw): plugin code prints nowhere, as the host's code does
                sys.stdout = _PluginStdout(sys.stdout)
            os._exit, threading.excepthook = _exit_instead, _record_thread_failure
        _redirect_depth += 1
    _inside.depth = getattr(_inside, "depth", 0) + 1
    try:
        yield
    finally:
        for number, handler in handlers:
            if handler is not None and signal.getsignal(number) is not handler:
                signal.signal(number, handler)
        _inside.depth -= 1
        with _redirect_lock:
            _redirect_depth -= 1
            if _redirect_depth == 0 and _saved is not None:
                (descriptor, stdout, os._exit, threading.excepthook), _saved = _saved, None
                if _cwd is not None:
                    with contextlib.suppress(OSError):  # the plugin removed it
                        os.chdir(_cwd)
                if _owns_stdout or isinstance(sys.stdout, _PluginStdout):  # else the host has set its own since
                    sys.stdout = stdout
                if _owns_stdout:  # a plugin's own stdin read '-' (or failed), its stderr took lossctl's errors
                    sys.stdin, sys.stderr = _streams
                if descriptor == _CLOSED:
                    with contextlib.suppress(OSError):
                        os.close(1)
                elif descriptor is not None:
                    os.dup2(descriptor, 1)
                    os.close(descriptor)
    if _thread_failures:  # the plugin code returned, but a thread it started raised: its failure
        failure = _thread_failures[0]
        _thread_failures.clear()
        raise failure


def _descriptor_to_stderr() -> int | None:
    """Point descriptor 1 at stderr; return a copy of what it was (:data:`_CLOSED` when there was none), or
    ``None`` when nothing changed (no descriptor 2)."""
    if sys.stdout is not None:  # None: started without stdout (a Dask worker of a run with stderr closed)
        sys.stdout.flush()
    try:
        copy: int | None = os.dup(1)
    except OSError:  # stdout closed (-o FILE >&-): descriptor 1 is stderr for the plugin, then closed again
        copy = None
    try:
        os.dup2(2, 1)
    except OSError:  # no descriptor 2 (closed by the caller): Python level only
        if copy is not None:
            os.close(copy)
        return None
    return _CLOSED if copy is None else copy


def _record_thread_failure(args: threading.ExceptHookArgs) -> None:
    """``threading.excepthook`` while plugin code runs: a thread that ends by raising (one the plugin started) is
    the plugin's failure, which the call that ran the plugin code raises (one line naming the plugin), instead of
    Python's traceback on stderr beside a run that succeeds. ``SystemExit`` ends a thread quietly, as Python has it.
    A thread that outlives the plugin's call and raises later meets Python's own hook again, and so does a thread
    that was running before the plugin code began (the host program's own, beside lossctl as a library): its
    failure is not the plugin's."""
    if args.thread in _threads_before:
        saved = _saved
        (saved[3] if saved is not None else threading.__excepthook__)(args)
    elif args.exc_type is not SystemExit and args.exc_value is not None:
        _thread_failures.append(args.exc_value)


@contextlib.contextmanager
def _registering(origin: str) -> Iterator[None]:
    """Losses registered inside the block are marked as coming from ``origin`` (named in their errors)."""
    from lossctl import registry

    outer, registry.registering_from = registry.registering_from, origin
    try:
        with _running_plugin_code():
            yield
    finally:
        registry.registering_from = outer


def _failure(exc: BaseException) -> str:
    """An exception of plugin code, for a message: ``ValueError: bad shapes``, or its type alone (also when its
    ``__str__``, plugin code too, fails)."""
    try:
        text = str(exc)
    except Exception:
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _pass_on_ctrl_c() -> None:
    """Re-raise the ``KeyboardInterrupt`` being handled when it is a user's Ctrl-C in the library (a notebook);
    under the command line's handler, which never raises, plugin code raised it."""
    from lossctl import interrupts

    if not interrupts.installed():
        raise


def _exit_status(stop: SystemExit) -> str:
    function = "os._exit" if isinstance(stop, _Exited) else "sys.exit"
    return f"called {function}({stop.code!r})" if stop.code is not None else f"called {function}()"


def load_entry_points() -> None:
    if not _declared():
        return
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            with _registering(f"plugin '{entry.name}'"):
                entry.load()
        except SystemExit as stop:  # not a reason to end lossctl: skipped like any broken plugin
            warnings.warn(f"plugin '{entry.name}' ({entry.value}) {_exit_status(stop)} while loading", stacklevel=2)
        except KeyboardInterrupt:
            _pass_on_ctrl_c()
            warnings.warn(f"plugin '{entry.name}' ({entry.value}) raised KeyboardInterrupt while loading", stacklevel=2)
        except BaseException as exc:  # a third-party module can raise anything on import
            warnings.warn(f"plugin '{entry.name}' ({entry.value}) failed to load: {_failure(exc)}", stacklevel=2)


def load_plugin(target: str) -> tuple[str, int]:
    """Import ``target``, a ``.py`` file or an importable module name, so its losses register; return its module's
    name (one plugin given twice, or by two spellings of its path, is one module, which the command line notes once)
    and how many losses it registered (0: a plugin without a register_loss call, which the command line notes). A
    module this process had
    imported already (``os.path``, a plugin loaded before) is not run again: its count is the one of its first load
    as a plugin, else the number of losses whose function it defines."""
    from lossctl.registry import ensure_loaded, list_losses

    ensure_loaded()
    before = len(list_losses())
    try:
        with _registering(f"plugin '{show_name(target)}'"):
            module, imported = _import(target)
    except UsageError:
        raise
    except SystemExit as stop:
        raise UsageError(f"plugin '{show_name(target)}' {_exit_status(stop)} while loading") from None
    except KeyboardInterrupt:
        _pass_on_ctrl_c()
        raise UsageError(f"plugin '{show_name(target)}' raised KeyboardInterrupt while loading") from None
    except BaseException as exc:  # the plugin's own code failed (even with a BaseException): never a traceback
        raise UsageError(f"plugin '{show_name(target)}' failed to load: {_failure(exc)}") from exc
    if imported:
        _registered[module] = len(list_losses()) - before
    if module in _registered:
        return module, _registered[module]
    return module, sum(_defined_in(module, spec) for spec in list_losses())


# The losses each module loaded as a plugin registered, by module name: asked for again, it is not run again.
_registered: dict[str, int] = {}


def _defined_in(module: str, spec: LossSpec) -> bool:
    """Whether the function of loss ``spec`` is defined in ``module`` or a module inside it."""
    name = getattr(spec.func, "__module__", None) or ""
    return name == module or name.startswith(f"{module}.")


def _import(target: str) -> tuple[str, bool]:
    """Run ``target``'s code; return its module's name and whether its code ran (False: it was imported already,
    its losses are registered)."""
    if is_url(target):  # code is run from a local file or an installed module, never fetched
        raise UsageError(
            f"plugin '{show_name(target)}' is a URL: --plugin takes a local FILE.py or an importable module; "
            "download the file first"
        )
    if not target.endswith(".py"):
        if not target.strip() or os.sep in target or os.path.isfile(target):  # a path, but not to a .py file
            raise UsageError(
                f"plugin '{show_name(target)}' is neither a .py file nor a module name: --plugin takes FILE.py or an "
                "importable module (package.module)"
            )
        imported = target not in sys.modules
        try:
            importlib.import_module(target)
        except ModuleNotFoundError as missing:
            # The lossctl command does not import from the working directory (README, "Security model"): a file
            # there is named as a file.
            nearby = Path(*target.split(".")).with_suffix(".py")
            # os.path.isfile: False for a name the system refuses (too long), where Path.is_file raises
            if f"{target}.".startswith(f"{missing.name}.") and os.path.isfile(nearby):  # the module, or its package
                raise UsageError(
                    f"plugin '{show_name(target)}' failed to load: {_failure(missing)}; to load the file "
                    f"{nearby}, give --plugin {nearby}"
                ) from None
            raise
        return target, imported
    path = Path(target)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise UsageError(f"plugin file '{show_name(target)}' not found") from None
    except OSError as error:  # a name too long, a folder that cannot be searched...
        raise UsageError(f"plugin file '{show_name(target)}' cannot be read: {os.strerror(error.errno or 0)}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(
            f"plugin file '{show_name(target)}' is a directory; --plugin takes FILE.py or an importable module "
            "(package.module)"
        )
    import hashlib  # here, not at the top: OpenSSL's 3 ms on every run, for a plugin file's name

    # Named after the resolved path, not the stem: a/losses.py and b/losses.py are two plugins.
    digest = hashlib.sha1(os.fsencode(path.resolve())).hexdigest()[:12]
    name = f"{_FILE_MODULE_PREFIX}{path.stem}_{digest}"
    if name in sys.modules:  # loaded already in this process (the Python API, or tests)
        return name, False
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"plugin file '{show_name(target)}' cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]  # a half-run module is not a loaded plugin: the next load must fail too
        raise
    return name, True


def _returned(value: object) -> str:
    """What a plugin returned, in a message: its type and shape."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"an array of shape {tuple(shape)}"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {count(len(value), 'value')}"
    return repr(value) if value is None or isinstance(value, int | float | str) else f"a {type(value).__name__}"


_ONE_COLUMN = ("mean", "mean_over_rows", "root_mean")  # the aggregates of one statistic per row
# NumPy's kinds of arrays that hold no real numbers, as a message names them ("b", "i", "u", "f" do; "O" may)
_NOT_REAL = {"c": "complex numbers", "U": "text", "S": "bytes", "M": "dates", "m": "durations", "V": "records"}


def call_plugin(spec: LossSpec, function: Callable[..., Any], inputs: list[np.ndarray], params: dict[str, Any]) -> Any:
    """Call a third-party loss function and check what it returns: one value, or one row, per input row.

    The function's own failures (an exception, ``sys.exit``) and a result of the wrong type or length
    are input errors naming the loss and its plugin (exit 3), never "a bug in lossctl". A
    :class:`~lossctl.errors.DomainError` it raises passes through (the engine names the loss, its columns and
    rows); lossctl's other errors raised by the plugin keep their class, so their exit status (a
    :class:`~lossctl.errors.UsageError` refusing a parameter exits 2), and name the plugin too. Non-finite values
    are looked for by the callers, which know the rows, when a sum says there are some (:func:`check_finite`).

    The function gets copies of the arrays: the engine hands the same arrays to every loss (and the library
    the caller's own), so a plugin computing in place (``pred -= target``) would change the other losses'
    values. Read-only views would cost nothing, but fail such a plugin and make ``torch.from_numpy`` warn.
    """
    import numpy as np

    where = f"loss '{spec.name}' ({spec.origin})"
    try:
        # NumPy's warnings (divide by zero...) would be extra stderr lines: a non-finite result is the error.
        with _running_plugin_code(), np.errstate(all="ignore"):
            result = function(*(array.copy() for array in inputs), **params)
            # Reading the result runs plugin code too (an ``__array__``, the ``__float__`` of the objects it holds).
            return _per_row(where, spec, result, inputs)
    except DomainError:
        raise
    except LossctlError as error:
        if str(error).startswith(where):  # _per_row's
            raise
        named = f"{where}: {error}"
        if isinstance(error, UsageError):  # refusing a parameter value, say: still a usage error
            raise UsageError(named) from None
        raise error.reworded(named) if isinstance(error, InputError) else InputError(named) from None
    except SystemExit as stop:
        raise InputError(f"{where} {_exit_status(stop)}") from None
    except KeyboardInterrupt:
        _pass_on_ctrl_c()
        raise InputError(f"{where} raised KeyboardInterrupt") from None
    except BaseException as exc:  # GeneratorExit or a plugin's own BaseException too: never a traceback
        raise InputError(f"{where} failed: {_failure(exc)}") from exc


def _per_row(where: str, spec: LossSpec, result: object, inputs: list[np.ndarray]) -> np.ndarray:
    """A plugin loss's ``result`` as float64, one value (or row) per input row, or the input error saying what it
    returned instead. A masked array's masked values are values the loss did not give, not the data hidden under
    the mask."""
    import numpy as np

    from lossctl.text import count

    rows = len(inputs[0])
    try:
        array = np.asarray(result)
    except (TypeError, ValueError) as error:  # a GPU array (CuPy refuses), a ragged list: not a shape to name
        raise InputError(
            f"{where} returned a {type(result).__name__} that NumPy cannot read ({_failure(error)}); a loss returns "
            "a NumPy array or a list, one value per row"
        ) from None
    if array.ndim not in (1, 2) or len(array) != rows or not _one_per_row(spec, array, inputs):
        if inspect.iscoroutine(result):  # an async def loss: closed, else Python warns it was never awaited
            result.close()
        raise InputError(
            f"{where} returned {_returned(result)} for {count(rows, 'row')}; a loss returns one value per row"
        )
    if array.dtype.kind in _NOT_REAL:  # casting would drop an imaginary part, or read "1.5" as a number
        raise InputError(f"{where} returned {_NOT_REAL[array.dtype.kind]}; a loss returns one real number per row")
    ma = sys.modules.get("numpy.ma")  # not imported (20 ms) to be asked: a masked array would have imported it
    masked = int(ma.getmaskarray(result).sum()) if ma is not None and isinstance(result, ma.MaskedArray) else 0
    if masked:
        raise InputError(
            f"{where} returned a masked array ({count(masked, 'masked value')}); a loss returns one real number per row"
        )
    try:
        return array.astype(np.float64, copy=False)  # None in an object array is NaN: the engine names it
    except (TypeError, ValueError):
        raise InputError(
            f"{where} returned values that are not numbers; a loss returns one real number per row"
        ) from None


def check_finite(spec: LossSpec, label: str, contributions: np.ndarray, rows: np.ndarray | int) -> None:
    """An input error naming the plugin and the first row where its loss returned NaN or an infinity, if it did:
    not "a float64 overflow" as a built-in loss's non-finite result is. ``rows`` maps positions in
    ``contributions`` to rows of the input (the engine's row index), or is the row of the first position."""
    import numpy as np

    from lossctl.text import count

    bad = ~np.isfinite(contributions).reshape(len(contributions), -1)
    if not bad.any():
        return
    position = int(np.argmax(bad.any(axis=1)))
    first = int(rows[position]) if isinstance(rows, np.ndarray) else rows + position
    value = contributions.reshape(len(contributions), -1)[position][bad[position]][0]
    raise InputError(
        f"loss '{label}' ({spec.origin}) returned {value} at row {first} "
        f"({count(int(bad.sum()), 'non-finite value')}); a loss must return finite numbers",
        row=first,
    )


def _one_per_row(spec: LossSpec, array: np.ndarray, inputs: list[np.ndarray]) -> bool:
    """A mean of per-row losses reads one value per row: extra columns would be averaged in unseen. A regression
    loss on K outputs returns one per output (rows x K), and a loss with an aggregate of its own (a loss and its
    weight per row, say) the columns that aggregate reads."""
    if array.ndim == 1 or spec.aggregate.name not in _ONE_COLUMN:
        return True
    return spec.task == "regression" and array.shape[1] in {a.shape[1] for a in inputs if a.ndim == 2}
