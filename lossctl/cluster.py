"""``--engine dask``: the one pass as tasks on a Dask cluster, each reading its part of the input where it runs.

The input's Parquet files and row groups become parts (:meth:`~lossctl.io.dataset.ParquetDataset.splits`: row
ranges at row-group boundaries within a file, about :data:`ROWS_PER_PART` rows each), and consecutive parts become
tasks, :data:`TASKS_PER_THREAD` for each worker thread of the cluster. A task opens its rows itself, from a local
disk the workers share or from an object store, and runs the same engine as a local run
(:func:`lossctl.engine.run`) with its first row's number in the whole input, so bootstrap counts and sampled rows
are those of one pass. It sends back statistics, not rows: the outcome vectors
overall, per group (keyed by the group's values), per bootstrap replicate, and the few per-row losses the table's
quantiles need. The client merges them in input order (:func:`lossctl.partials.merge_outcomes`) and finalizes them
as a local run does, so values and intervals equal the local engine's to float64 rounding.

``--scheduler ADDRESS`` (or ``DASK_SCHEDULER_ADDRESS``) joins a running cluster; otherwise a ``LocalCluster`` of
``--workers N`` processes (default: one per core) is started for the run and closed after it. In the worker it
runs on, a task sets lossctl's allocators and Arrow's thread pool as the command line has them
(:func:`~lossctl.memory.tune_allocators`, :func:`~lossctl.threads.arrow_uses_every_core`: without them a task on
a joined cluster ran 1.7 times as long), which the worker process keeps; the local cluster's workers also print to
stderr (:func:`_own_workers`). A worker lost
mid-run is replaced and its tasks rerun by Dask; a task is a pure function of its rows, so the result does not
change. A task that finds bad data returns the error instead of raising it. Missing, infinite and out-of-domain
values come back counted (:class:`~lossctl.engine.Refusals`) and the client merges every task's in input order, as
a local pass merges its chunks'; any other error is told as the first failing task's in input order. Either way
the message is the local engine's, whichever worker finished first and however parts make tasks.

What cannot be split runs in this process, as one part, with a notice saying why: inputs that are not Parquet
(CSV, standard input, DataFrames), a ``--targets --on`` join, losses that need every row together (ranking).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import re
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl import tempfiles
from lossctl.destinations import check_folder, check_not_inside_inputs
from lossctl.distribution import SAMPLE_SIZE
from lossctl.engine import Outcome, Plan, Refusals, Refused, across_parts, run
from lossctl.errors import InputError, LossctlError, UsageError, flags_spelled, option, spelled_as_flags
from lossctl.hints import Looks
from lossctl.io.convert import VectorWidthError, VectorWidths
from lossctl.io.dataset import ParquetDataset, dataset_of
from lossctl.io.remote import check_output, filesystem, is_remote, remote_errors, remove
from lossctl.memory import tune_allocators
from lossctl.options import Options
from lossctl.partials import merge_outcomes
from lossctl.plugins import file_plugins_by_value
from lossctl.samples import PER_SAMPLE_EXTENSIONS, per_sample_sink
from lossctl.text import count, show_name
from lossctl.threads import arrow_uses_every_core

if TYPE_CHECKING:
    import pyarrow as pa

    from lossctl.execution import Split
    from lossctl.io.readers import Source

# Rows per part: the unit tasks are made of, and the unit a failing task's error is looked for in.
ROWS_PER_PART = 1 << 21
# Tasks per worker thread: a task's fixed costs (scheduling, its arguments, a reader thread filled and drained)
# were 5-10 ms each, so 50 tasks of 2M rows on one worker took 2.4-2.7 s where 4 tasks took 1.9-2.2 s; a few
# tasks per thread still let Dask even out the threads' work and rerun a lost worker's share.
TASKS_PER_THREAD = 4
# A part keeps, of its sampled per-row losses, the rows whose keys would be among this many smallest keys over the
# whole input on average: the merged sample (SAMPLE_SIZE rows) is then complete unless most rows were dropped,
# and the client receives a few MB whatever the number of tasks.
_SAMPLE_MARGIN = 8
EXTRA = "lossctl[dask]"


@dataclass(frozen=True)
class Failure:
    """A task's error, returned rather than raised. ``refusals``: bad values and domain refusals, which the client
    merges over every task (:meth:`~lossctl.engine.Refusals.merge`); else an error told at once, of which the client
    reports the first in input order. ``row``: the row an input error cites (:attr:`~lossctl.errors.InputError.row`),
    and ``rows_of``, the input numbering it, for the client to name its file as a local run does. ``widths``: the
    list columns' widths the task read (:attr:`VectorWidths.first`), and ``ragged``, its error when it is one of
    them, for the client to check and cite against the earlier tasks' (:func:`_check_widths`)."""

    usage: bool
    message: str
    refusals: Refusals | None = None
    labels: dict[str, dict[Any, int]] | None = None  # the labels the task met (Encoder.met), as with an Outcome
    row: int | None = None
    rows_of: str = "data"
    widths: dict[tuple[str, ...], tuple[int, int]] | None = None
    ragged: VectorWidthError | None = None

    def error(self) -> LossctlError:
        return UsageError(self.message) if self.usage else InputError(self.message, row=self.row, rows_of=self.rows_of)


# The warnings a task's code raised (a plugin loss's, a library's): category and message, raised again by the client.
Warned = list[tuple[type[Warning], str]]
# The list of the task running in this context (None between tasks): a context variable, not a thread's, so that the
# threads a task starts (the engine's workers, the reader), which run in copies of its context, record into it too.
_task_warned: ContextVar[Warned | None] = ContextVar("lossctl_task_warned", default=None)
# warnings.showwarning is the worker process's: the first task running in it routes it, the last one out puts back
# the function it found (a joined cluster's worker is the user's).
_routing_lock = threading.Lock()
_routing = 0
_shown_before: Callable[..., None] = warnings.showwarning
_router: Callable[..., None] | None = None


def _route_warning(shown: Callable[..., None]) -> Callable[..., None]:
    """``warnings.showwarning`` for a worker process: a warning raised in a thread running a lossctl task (or one
    the task started) is recorded for that task (task by task, as ``warnings.catch_warnings`` cannot do), any other
    one shown as ``shown`` would."""

    def showwarning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        warned = _task_warned.get()
        if warned is None:
            return shown(message, category, *args, **kwargs)
        # A category of a plugin's own may not load in the client: its message is what is shown there.
        warned.append((category if category.__module__ == "builtins" else UserWarning, str(message)))
        return None

    return showwarning


@contextmanager
def _warnings_recorded() -> Iterator[Warned]:
    """The warnings raised in this context during the block (this thread's, and the threads it starts in copies of
    it); ``warnings.showwarning`` is routed while tasks run
    (:func:`_route_warning`) and put back after the last one (unless other code replaced it meanwhile)."""
    global _routing, _shown_before, _router
    with _routing_lock:
        if not _routing:
            _shown_before, _router = warnings.showwarning, _route_warning(warnings.showwarning)
            warnings.showwarning = _router
        _routing += 1
    warned: Warned = []
    token = _task_warned.set(warned)
    try:
        yield warned
    finally:
        _task_warned.reset(token)
        with _routing_lock:
            _routing -= 1
            if not _routing and warnings.showwarning is _router:
                warnings.showwarning = _shown_before


def run_part(
    parts: Sequence[tuple[int, int]],
    inputs: Sequence[ParquetDataset | None],
    batches_of: Callable[[Sequence[Source | None]], Iterator[pa.RecordBatch]],
    plan: Plan,
    options: Options,
    per_sample: str | None,
    pairs: Sequence[tuple[int, int]],
    sample_below: int | None,
    flags: bool = False,
    seen: Sequence[Any] | None = None,
    watch: bool = False,
) -> tuple[Outcome | Failure, Warned]:
    """One task: the consecutive row ranges ``parts`` of the ``inputs``, read where the task runs, through the
    engine in one pass; with the warnings raised meanwhile, which the client raises again.

    ``per_sample`` is this task's file of the ``--per-sample`` dataset (written with ``row`` numbers of the whole
    input); ``sample_below`` trims the sampled per-row losses to the keys below it. An error is the one a local
    pass over the task's rows gives (rows numbered as in the whole input), with options spelled as command-line
    ``flags`` when the client is the command line (:func:`lossctl.errors.option`); ``seen``: what the earlier
    parts' rows showed the losses (:func:`_judged_after`); with ``watch``, the task's :class:`~lossctl.hints.Looks`
    watch its chunks, and the outcome carries them (:attr:`Outcome.looks`) for the client to merge.
    """
    tune_allocators()  # a worker process runs lossctl's tasks as the command line runs its pass (README)
    arrow_uses_every_core()
    with _warnings_recorded() as warned:
        outcome = _run_part(
            parts, inputs, batches_of, plan, options, per_sample, pairs, sample_below, flags, seen, watch
        )
        return outcome, warned


def _run_part(
    parts: Sequence[tuple[int, int]],
    inputs: Sequence[ParquetDataset | None],
    batches_of: Callable[[Sequence[Source | None]], Iterator[pa.RecordBatch]],
    plan: Plan,
    options: Options,
    per_sample: str | None,
    pairs: Sequence[tuple[int, int]],
    sample_below: int | None,
    flags: bool,
    seen: Sequence[Any] | None = None,
    watch: bool = False,
) -> Outcome | Failure:
    start, stop = parts[0][0], parts[-1][1]
    windows = [source.window(start, stop) if source is not None else None for source in inputs]
    plan = replace(plan, encoders=copy.deepcopy(plan.encoders))  # the task's labels alone, whoever ran before
    told: list[str] = []  # a loss left out of the part: told as the local engine tells it, once over the parts
    widths = VectorWidths()
    looks = Looks(plan.jobs, options.convention) if watch else None
    observe = looks.observe if looks else None
    try:
        shown = options.per_sample
        sink_of = per_sample_sink(plan, per_sample, pairs, options.composites, options.convention, told, shown)
        with spelled_as_flags(flags), sink_of as sink:
            batches = batches_of(windows)
            outcome = run(
                batches, plan, options, sink, observe=observe, first_row=start, part=True, seen=seen, widths=widths
            )
            if sink is not None and _cancelled():  # the sink's block left by raising: the part is not published
                raise _Cancelled
    except _Cancelled:
        return Failure(False, "cancelled")
    except Refused as refused:
        return Failure(False, str(refused), refused.refusals, _labels_met(plan), refused.row, widths=widths.first)
    except LossctlError as error:
        row, rows_of = (error.row, error.rows_of) if isinstance(error, InputError) else (None, "data")
        ragged = error if isinstance(error, VectorWidthError) else None
        usage, labels = isinstance(error, UsageError), _labels_met(plan)
        return Failure(usage, str(error), None, labels, row, rows_of, widths.first, ragged)
    outcome.labels = _labels_met(plan)
    outcome.notices[:0] = told
    outcome.looks = looks
    if per_sample is not None and outcome.rows_used == 0:
        _remove(per_sample)  # a part whose rows were all dropped writes no file (an empty one is not Parquet)
    if sample_below is not None:
        for sample in outcome.samples:
            if sample is not None:
                kept = sample.keys < np.uint64(sample_below)
                sample.keys, sample.values = sample.keys[kept], sample.values[kept]
    return outcome


class _Cancelled(Exception):
    """The task was cancelled while it ran (:func:`_cancelled`)."""


def _cancelled() -> bool:
    """Whether the Dask task this thread runs was cancelled meanwhile: its run failed, was interrupted, or its
    client is gone. Dask cannot stop a running task; one cancelled does not publish its ``--per-sample`` part,
    which the client has removed, or is about to (:func:`_tasks_stopped`). False outside a Dask worker."""
    try:
        from distributed import get_worker
        from distributed.worker import thread_state

        task = get_worker().state.tasks.get(thread_state.key)
    except (ImportError, ValueError, AttributeError):
        return False
    return task is None or task.state == "cancelled"


def _labels_met(plan: Plan) -> dict[str, dict[Any, int]]:
    return {column: encoder.met() for column, encoder in plan.encoders.items()}


def replay_labels(plan: Plan, labels: dict[str, dict[Any, int]] | None) -> None:
    """Encode a task's labels with the client's encoders, after the earlier tasks' (:meth:`Encoder.replay`): a
    label no single task refuses (a third one, in another task) is refused as a whole pass refuses it, and the
    encoders' notices are the whole input's."""
    for column, met in (labels or {}).items():
        plan.encoders[column].replay(column, met)


def tasks_of(parts: Sequence[tuple[int, int]], count: int) -> list[list[tuple[int, int]]]:
    """The consecutive row ranges ``parts`` in at most ``count`` tasks of about equal rows, in order."""
    total = parts[-1][1] - parts[0][0] if parts else 0
    tasks: list[list[tuple[int, int]]] = []
    for part in parts:
        # A task ends where the rows before it reach its share of the total (len(tasks) + 1 shares).
        if not tasks or (part[0] - parts[0][0]) * count >= len(tasks) * total:
            tasks.append([])
        tasks[-1].append(part)
    return tasks


def _remove(path: str) -> None:
    if is_remote(path):
        remove(path)
    else:
        Path(path).unlink(missing_ok=True)


class PerSampleDataset:
    """``--per-sample PATH`` under the Dask engine: a Parquet dataset, one ``part-NNNNN.parquet`` per task.

    Tasks write their files into a hidden directory beside ``PATH`` (on the same disk or bucket), and the
    directory becomes ``PATH`` only when the whole run succeeds (:meth:`publish`), replacing a previous one; a
    failed run removes it (:meth:`abort`). A task that Dask reruns rewrites the same file. Either way the dataset
    is one of the run's outputs (:mod:`lossctl.tempfiles`), published together with ``-o`` once every output is
    written, or not at all. On a local disk it is a temporary directory, also removed by a terminating signal.
    """

    def __init__(self, path: str, inputs: Sequence[str]) -> None:
        if PER_SAMPLE_EXTENSIONS.get(Path(path).suffix.lower()) != "parquet":
            raise UsageError(
                f"{option('engine', 'dask')} writes {option('per_sample')} as a Parquet dataset, one file per task: "
                f"name the directory with .parquet, not '{show_name(path)}'"
            )
        self.path = path.rstrip("/")
        self.remote = is_remote(path)
        parent, name = self.path.rsplit("/", 1) if "/" in self.path else (".", self.path)
        check_not_inside_inputs(self.path, list(inputs), option("per_sample"))
        if self.remote:
            check_output(self.path, dataset=True)
            self._fs, _ = filesystem(self.path)
            self.staging = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
            self._forget = tempfiles.at_signal(self.abort)  # a signal removes the parts staged so far
        else:
            self._check_local(inputs)
            # registered like the run's other outputs: published with them, removed on an error or a signal
            self._local = tempfiles.create_directory(self.path)
            self.staging = str(self._local)

    def _check_local(self, inputs: Sequence[str]) -> None:
        check_folder(self.path)
        target = os.path.realpath(self.path)
        for given in inputs:
            real = os.path.realpath(given)
            if not is_remote(given) and (real == target or real.startswith(target + os.sep)):
                raise UsageError(f"refusing to overwrite the input '{show_name(given)}' with {option('per_sample')}")

    def part(self, index: int) -> str:
        return f"{self.staging}/part-{index:05d}.parquet"

    def named(self, failure: Failure) -> Failure:
        """A task's failure with its staged part (a hidden name of the run's own) named as the dataset: a failed
        write of a part is a failed write of ``--per-sample PATH``, as the local engine reports it."""
        head, _, tail = re.escape(show_name(self.part(0))).rpartition("00000")  # as messages quote a part's name
        message = re.sub(f"{head}\\d{{5}}{tail}", lambda _: show_name(self.path), failure.message)
        return Failure(failure.usage, message, row=failure.row, rows_of=failure.rows_of)

    def publish(self) -> None:
        """Publish the dataset with the run's other outputs (when the command line's transaction commits)."""
        if self.remote:
            tempfiles.publish_staged(self._publish_remote, self.abort, self._unpublish)
        else:
            tempfiles.publish(self._local)

    def _publish_remote(self) -> None:
        """An object store has no directories to rename: the objects are copied, then removed."""
        self._forget()
        fs = self._fs
        with remote_errors(self.path, "write"):
            fs.invalidate_cache()  # the tasks wrote from other processes
            target, staging = fs._strip_protocol(self.path), fs._strip_protocol(self.staging)
            old = fs.find(target)
            if old:
                fs.rm(old)
            parts = fs.find(staging)
            for part in parts:
                fs.copy(part, f"{target}/{part.rsplit('/', 1)[1]}")
            fs.rm(parts)

    def _unpublish(self) -> None:
        """Remove the published dataset: the run failed after it was published (standard output is full)."""
        self._fs.invalidate_cache()
        published = self._fs.find(self._fs._strip_protocol(self.path))
        if published:
            self._fs.rm(published)

    def abort(self) -> None:
        if self.remote:
            self._forget()
            # The run's own error is the one to report: a store that also fails to list or remove the staged
            # parts (gone, or never there) must not replace it.
            with contextlib.suppress(Exception):
                self._fs.invalidate_cache()
                parts = self._fs.find(self._fs._strip_protocol(self.staging))
                if parts:
                    self._fs.rm(parts)
        else:
            tempfiles.discard(self._local)


def _check_address(address: str) -> None:
    """Raise ``ValueError`` when ``address`` cannot name a scheduler: Dask would wait its whole connect timeout
    for a port outside 1-65535, and says ``invalid literal for int()`` for a port that is not a number."""
    from distributed.comm.addressing import parse_address
    from distributed.comm.registry import backends

    scheme, location = parse_address(address, strict=False)
    remote = sorted(b for b in backends if b != "inproc")  # inproc:// names a scheduler in the same process
    if scheme not in remote:
        raise ValueError(
            f"unknown scheme '{scheme}://'; a scheduler is joined over {', '.join(f'{b}://' for b in remote)}"
        )
    if scheme in ("tcp", "tls", "ws", "wss"):
        port = location.rpartition(":")[2] if ":" in location and not location.endswith("]") else ""
        if not port:
            raise ValueError(f"missing port number in '{address}', e.g. tcp://10.0.0.5:8786")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"the port must be a number in [1, 65535], got '{port}'")


def _distributed_package() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(
            f"{option('engine', 'dask')} needs the packages dask and distributed: pip install '{EXTRA}'"
        ) from None
    return distributed


def _scheduler_address(options: Options) -> tuple[str, str] | None:
    """The scheduler to join and where its address came from: ``--scheduler``, else ``DASK_SCHEDULER_ADDRESS``
    unless ``--workers`` is given; ``None`` to start a local cluster. A malformed address is a usage error."""
    address = options.scheduler or (None if options.workers else os.environ.get("DASK_SCHEDULER_ADDRESS"))
    if not address:
        return None
    named = option("scheduler") if options.scheduler else "DASK_SCHEDULER_ADDRESS"
    try:
        _check_address(address)
    except ValueError as error:
        raise UsageError(f"{named} '{address}' is not a Dask scheduler address: {error}") from None
    return address, named


def _check_engine(options: Options) -> None:
    """Before the pass, whether it is split or not: the Dask packages are installed and the address is well formed."""
    _distributed_package()
    _scheduler_address(options)


@contextmanager
def _connect(options: Options) -> Iterator[Any]:
    """A Dask client: to ``--scheduler`` / ``DASK_SCHEDULER_ADDRESS``, or to a local cluster of ``--workers``
    processes started now and closed when the block ends."""
    distributed = _distributed_package()
    scheduler = _scheduler_address(options)
    if scheduler:
        address, named = scheduler
        try:
            client = distributed.Client(address, set_as_default=False)
        except ValueError as error:
            raise UsageError(f"{named} '{address}' is not a Dask scheduler address: {error}") from None
        except (OSError, TimeoutError) as error:
            raise InputError(
                f"cannot reach the Dask scheduler at {address} ({_first_line(error)}); "
                f"check {option('scheduler')} or DASK_SCHEDULER_ADDRESS"
            ) from None
        except Exception as error:  # Dask's own set-up of the connection: TLS without a context, ucx:// without UCX
            raise InputError(
                f"cannot connect to the Dask scheduler at {address} ({type(error).__name__}: {_first_line(error)}); "
                f"check {option('scheduler')} or DASK_SCHEDULER_ADDRESS and Dask's configuration"
            ) from None
        with client:
            yield client
        return
    import logging

    import dask

    _quiet_resource_tracker()
    workers = options.workers or os.cpu_count() or 1
    with _scratch_space() as scratch, dask.config.set({"temporary-directory": str(scratch)}):
        with _deaf_to_ctrl_c(), _cluster_start_errors(workers):
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: the default 8787 may be taken
                # Dask logs what lossctl reports itself (a failed task is a one-line error): at ERROR, a worker
                # whose heartbeat met the scheduler closing printed a traceback into a successful run on a loaded
                # machine.
                silence_logs=logging.CRITICAL,
            )
        with cluster, distributed.Client(cluster, set_as_default=False) as client:
            forget = tempfiles.at_signal(lambda: _end_workers(cluster), first=True)
            try:
                client.register_plugin(_own_workers(distributed))
                yield client
            finally:
                forget()


@contextmanager
def _cluster_start_errors(workers: int) -> Iterator[None]:
    """A local cluster that cannot start (too few file descriptors, ``ulimit -n``; no memory for a worker process) is
    one input error saying so, not an internal error ("RuntimeError: Nanny failed to start"), and the traceback its
    event loop logs meanwhile (asyncio's "Exception in callback ... Too many open files") is not printed."""
    import logging

    logger = logging.getLogger("asyncio")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    except Exception as error:
        raise InputError(
            f"cannot start a local Dask cluster of {count(workers, 'worker process', 'worker processes')} "
            f"({type(error).__name__}: {_first_line(error)}); check the machine's limits (ulimit -n, memory), or "
            f"join a running cluster with {option('scheduler')}"
        ) from None
    finally:
        logger.setLevel(level)


@contextmanager
def _deaf_to_ctrl_c() -> Iterator[None]:
    """SIGINT blocked in the calling thread while the local cluster starts: the threads it starts (Dask's event
    loop, which starts the worker processes, a lost one's replacement too) and the processes keep that mask. A
    Ctrl-C reaches the terminal's whole process group: a worker still starting (importing) printed a
    KeyboardInterrupt traceback below lossctl's one error line. lossctl's own handler ends the workers
    (:func:`_end_workers`); a SIGINT that comes to lossctl meanwhile is handled when this block ends."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):  # Windows: no Ctrl-C to the group's other processes this way
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # started later, it would unblock the signals in the thread that starts it
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _end_workers(cluster: Any) -> None:
    """End the local cluster's worker processes at once, their nannies told not to start new ones: for a signal's
    handler, before it removes the ``--per-sample`` parts staged in a bucket, which a worker still running would
    write after the removal (the workers end with lossctl's process anyway, but not at once)."""
    import signal

    for nanny in list(cluster.workers.values()):
        nanny.close_gracefully(reason="lossctl-interrupted")
        pid = nanny.pid
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


def _own_workers(distributed: Any) -> Any:
    """A worker plugin for the local cluster lossctl starts (a joined cluster's workers print where their owner
    sends them):

    - What the workers print goes to stderr, as lossctl's process does with what plugin code prints
      (:mod:`lossctl.plugins`): stdout carries the results (``-f json | jq``). A worker imports a ``--plugin
      MODULE`` or an entry point's module again when it reads its first task, before lossctl's code runs there,
      and a print at its import went into the JSON.

    Registered with the cluster, it also sets up the workers that replace lost ones."""

    class OwnWorkers(distributed.WorkerPlugin):
        name = "lossctl-own-workers"

        def setup(self, worker: Any) -> None:
            if sys.stdout is not None:
                sys.stdout.flush()
            if sys.__stdout__ is not None:  # else the worker started without one: descriptor 1 is a file of its own
                with contextlib.suppress(OSError):  # no descriptor 2: descriptor 1 stays as it is
                    os.dup2(2, 1)
            sys.stdout = sys.stderr  # None (no stderr when the worker started): prints go nowhere, as there
            # Every warning of a task reaches the client (which shows each message once), as in lossctl's process
            warnings.simplefilter("always")

    return OwnWorkers()


@contextmanager
def _scratch_space() -> Iterator[Path]:
    """A temporary folder of the run for the local cluster's scratch space (the scheduler's and workers' folders,
    Dask's lock files), removed after the cluster, or by a signal's handler (:func:`lossctl.tempfiles.remove_all`).

    Dask's default, ``dask-scratch-space/`` in the system's temporary folder, kept its lock files after every run,
    and a signal left the scheduler's and the workers' folders there too.
    """
    import tempfile

    scratch = tempfiles.create_directory(str(Path(tempfile.gettempdir()) / "lossctl-dask"))
    try:
        yield scratch
    finally:
        tempfiles.discard(scratch)


# The local cluster's processes share semaphores, which multiprocessing's resource tracker (a process of its own)
# frees when lossctl's process ends without freeing them: when a signal's handler ends it at once. The tracker then
# warned about "leaked semaphore objects", two lines on stderr after the run's one error line.
_TRACKER_WARNING = "ignore::UserWarning:multiprocessing.resource_tracker"


def _quiet_resource_tracker() -> None:
    """Under the command line's signal handlers, have the resource tracker free the semaphores without a word: it
    takes its warning filters from ``sys.warnoptions`` when it starts (with the first semaphore). The library
    leaves a user's process as it is."""
    from lossctl import interrupts

    if interrupts.installed() and _TRACKER_WARNING not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_WARNING)


def sample_threshold(total_rows: int) -> int | None:
    """The row key below which a part keeps its sampled per-row losses: on average ``_SAMPLE_MARGIN`` times the
    sample's size over the whole input, so the merged sample holds the ``SAMPLE_SIZE`` smallest keys of one pass
    unless most rows are dropped; ``None`` (keep all) for inputs small enough to send whole."""
    if total_rows <= _SAMPLE_MARGIN * SAMPLE_SIZE:
        return None
    return min(2**64 - 1, math.ceil(_SAMPLE_MARGIN * SAMPLE_SIZE / total_rows * 2**64))


class ByValue:
    """A task argument pickled by cloudpickle, which pickles registered modules' functions by value
    (:func:`~lossctl.plugins.file_plugins_by_value`). Dask pickles an argument with plain pickle first, which
    names a function's module for the worker to import; the argument arrives as the value itself."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __reduce__(self) -> tuple[Callable[[bytes], Any], tuple[bytes]]:
        import cloudpickle

        return cloudpickle.loads, (cloudpickle.dumps(self.value),)


def _result(future: Any, dataset: ParquetDataset, rows: tuple[int, int]) -> tuple[Outcome | Failure, Warned]:
    """A finished task's outcome. Its worker dying again and again (Dask's ``KilledWorker``: out of memory, a crash
    in a library), the scheduler going away, or a cluster without a package the tasks need are input errors;
    anything else raised in a task is a bug in lossctl, reported as such by the command line."""
    try:
        return future.result()
    except Exception as error:
        if type(error).__name__ == "KilledWorker":
            files = ", ".join(dataset.window(*rows).files_in_window())
            return Failure(
                False,
                f"the Dask workers running rows {rows[0]} to {rows[1] - 1} (in {files}) died repeatedly; "
                "check the workers' memory and logs",
            ), []
        if isinstance(error, OSError | TimeoutError):
            return Failure(False, f"lost the Dask cluster during the run ({_first_line(error)})"), []
        if isinstance(error, RuntimeError) and "deserialization of the task graph" in str(error):
            cause = f" ({_first_line(error.__cause__)})" if error.__cause__ is not None else ""
            return Failure(
                False,
                f"the Dask cluster cannot load lossctl's tasks{cause}; its scheduler and workers need the packages "
                "this process uses (lossctl, its extras, and the packages of installed plugins)",
            ), []
        raise


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _batch_multiple(plan: Plan) -> int:
    """Part boundaries fall on multiples of every batch loss's batch size, so no batch is cut."""
    sizes = [int(job.request.params[job.request.spec.batch_param]) for job in plan.jobs if job.request.spec.batch_param]
    return math.lcm(*sizes) if sizes else 1


def _unsplittable(plan: Plan, split: Split | None, inputs: list[ParquetDataset | None] | None) -> str | None:
    """Why the pass cannot be cut into parts, or ``None``."""
    if split is None:
        return "this input cannot be read in parts"
    if split.reason:
        return split.reason
    whole = [job.request.spec.name for job in plan.jobs if job.request.spec.whole_input]
    if whole:
        return f"{whole[0]} needs every row in one part"
    if inputs is None:
        return "only Parquet files, directories and globs are read in parts"
    counts = {source.num_rows for source in inputs if source is not None}
    if len(counts) > 1:
        return "the inputs have different row counts"
    return None


def _datasets(split: Split, options: Options) -> list[ParquetDataset | None] | None:
    datasets: list[ParquetDataset | None] = []
    for data in split.inputs:
        dataset = dataset_of(data, options.input_format) if data is not None else None
        if data is not None and dataset is None:
            return None
        datasets.append(dataset)
    return datasets


def _paths(data: Any) -> list[Any]:
    """The paths an input argument names: one path, or each of a list of paths (several PATHs)."""
    items = data if isinstance(data, list | tuple) else [data]
    return [item for item in items if isinstance(item, str | os.PathLike)]


@contextmanager
def run_on_cluster(
    batches: Iterator[pa.RecordBatch],
    plan: Plan,
    options: Options,
    notices: list[str],
    split: Split | None,
    pairs: Sequence[tuple[int, int]],
    progress: Callable[[int], object] | None,
    looks: Looks | None = None,
) -> Iterator[Outcome]:
    """The pass on a Dask cluster (see the module docstring); yields the merged outcome, and publishes the
    ``--per-sample`` dataset when the block succeeds. ``looks`` see every part's chunks (:mod:`lossctl.hints`)."""
    _check_engine(options)
    inputs = _datasets(split, options) if split is not None else None
    reason = _unsplittable(plan, split, inputs)
    given = [str(path) for data in (split.inputs if split else ()) for path in _paths(data)]
    dataset = PerSampleDataset(options.per_sample, given) if options.per_sample else None
    try:
        if reason is not None or inputs is None or split is None:
            notices.append(f"{option('engine', 'dask')}: evaluated in this process, as one part ({reason})")
            path = dataset.part(0) if dataset else None
            shown = options.per_sample
            with per_sample_sink(plan, path, pairs, options.composites, options.convention, notices, shown) as sink:
                observe = looks.observe if looks else None
                outcome = run(batches, plan, options, per_sample=sink, progress=progress, observe=observe)
        else:
            outcome = _distributed(inputs, split, plan, options, notices, dataset, pairs, progress, looks)
        yield outcome
    except BaseException:
        if dataset is not None:
            dataset.abort()
        raise
    if dataset is not None:
        dataset.publish()


def _distributed(
    inputs: list[ParquetDataset | None],
    split: Split,
    plan: Plan,
    options: Options,
    notices: list[str],
    dataset: PerSampleDataset | None,
    pairs: Sequence[tuple[int, int]],
    progress: Callable[[int], object] | None,
    looks: Looks | None,
) -> Outcome:
    first = inputs[0]
    assert first is not None  # the first input is the predictions, always given
    total = first.num_rows or 0
    sample_below = sample_threshold(total) if plan.distributions else None
    # Whatever holds the losses (the plan, the options' requests, the batches' column bindings) travels by value.
    shipped: tuple[Any, ...] = (split.batches, plan, options)
    with file_plugins_by_value() as by_value, _connect(options) as client:
        if by_value:
            shipped = tuple(ByValue(value) for value in shipped)
        workers = client.scheduler_info().get("workers", {})
        threads = sum(int(worker.get("nthreads", 1)) for worker in workers.values()) or 1
        tasks = tasks_of(first.splits(ROWS_PER_PART, _batch_multiple(plan)), threads * TASKS_PER_THREAD)
        ranges = [(task[0][0], task[-1][1]) for task in tasks]
        prefix = f"lossctl-part-{uuid.uuid4().hex[:12]}-"
        joined = _scheduler_address(options) is not None
        with _tasks_stopped(client, prefix, joined, writing=dataset is not None) as futures:
            futures += (
                client.submit(
                    run_part,
                    task,
                    inputs,
                    *shipped,
                    dataset.part(index) if dataset else None,
                    pairs,
                    sample_below,
                    flags_spelled(),
                    watch=looks is not None,
                    key=f"{prefix}{index}",
                    pure=False,
                )
                for index, task in enumerate(tasks)
            )
            results, finished, raised, refused, failed = _collect(futures, first, ranges, client, progress)
    for index in sorted(raised):  # in input order, as one pass raises them
        for category, message in raised[index]:
            warnings.warn(message, category, stacklevel=2)
    # In input order, as one pass meets them: each task's labels and list columns' widths, then its error told at
    # once (a reading error), or its refusals, merged (a computing error among them told unless an earlier task
    # refused).
    merged = Refusals()
    seen: list[Any] = [None] * len(plan.jobs)
    widths = VectorWidths()
    for index in sorted(finished):
        if failed is not None and index > failed[0]:
            break
        replay_labels(plan, finished[index].labels)
        _check_widths(widths, finished[index])
        if failed is not None and index == failed[0]:
            raise (dataset.named(failed[1]) if dataset else failed[1]).error()
        if index in refused:
            part = refused[index]
            judged = None
            if across_parts(plan, options.convention, list(seen), part.seen) is not None:
                judged = _judged_after(seen, tasks[index], inputs, split, plan, options, pairs)
            if judged is not None:
                part, seen = judged, judged.seen
            else:
                across_parts(plan, options.convention, seen, part.seen)
            merged.merge(part, plan)
        else:  # a part's decimal marks too: a decimal point in one and a comma in another mix
            across = across_parts(plan, options.convention, seen, results[index].seen)
            merged.merge(Refusals(domain=across, marks=results[index].marks), plan)
        if merged.failure is not None:
            raise merged.failure
    if merged:
        raise merged.error(plan)
    notices.append(f"{option('engine', 'dask')}: {count(len(ranges), 'task')} on {count(len(workers), 'worker')}")
    for index in range(len(ranges)):  # in input order, as one pass watches its chunks
        part_looks = results[index].looks
        if looks is not None and part_looks is not None:
            looks.merge(part_looks)
    return merge_outcomes([results[index] for index in range(len(ranges))], plan)


def _check_widths(widths: VectorWidths, result: Outcome | Failure) -> None:
    """Check a task's list columns against ``widths``, the earlier tasks', as one pass checks a chunk's before it
    tells the chunk's other errors: a width that differs from theirs (the task's first row with a value cited), or
    the task's own vectors of different lengths, cited from the input's first row with a value as the local engine
    cites them."""
    widths.merge(result.widths or {})
    if isinstance(result, Failure) and result.ragged is not None:
        raise widths.cite(result.ragged)


def _judged_after(
    seen: list[Any],
    task: list[tuple[int, int]],
    inputs: list[ParquetDataset | None],
    split: Split,
    plan: Plan,
    options: Options,
    pairs: Sequence[tuple[int, int]],
) -> Refusals | None:
    """The refusals of a refused part whose rows contradict what the earlier parts' showed a loss (``seen``: a label
    set chosen before the part, while the part alone chose the other), as one pass tells them: the part run again,
    in this process, from ``seen``. Only on the way to an error. ``None`` if it fails otherwise."""
    result, _ = run_part(task, inputs, split.batches, plan, options, None, pairs, None, flags_spelled(), seen)
    return result.refusals if isinstance(result, Failure) else None


def _collect(
    futures: list[Any],
    first: ParquetDataset,
    ranges: list[tuple[int, int]],
    client: Any,
    progress: Callable[[int], object] | None,
) -> tuple[
    dict[int, Outcome],
    dict[int, Outcome | Failure],
    dict[int, Warned],
    dict[int, Refusals],
    tuple[int, Failure] | None,
]:
    """The tasks' outcomes, every finished task's result, warnings, counted refusals and first failure in input
    order, as they finish; the tasks after a failing one are cancelled."""
    from distributed import as_completed

    index_of = {future.key: index for index, future in enumerate(futures)}
    results: dict[int, Outcome] = {}
    finished: dict[int, Outcome | Failure] = {}
    raised: dict[int, Warned] = {}
    refused: dict[int, Refusals] = {}
    failed: tuple[int, Failure] | None = None
    done_rows = 0
    for future in as_completed(futures, loop=client.loop):
        index = index_of[future.key]
        if future.cancelled():
            continue
        result, raised[index] = _result(future, first, ranges[index])
        finished[index] = result
        if isinstance(result, Failure):
            if result.refusals is not None:  # counted over the whole input, as a local pass counts them
                refused[index] = result.refusals
                _cancel_after_told_failure(futures, results, refused)
                continue
            if failed is None or index < failed[0]:
                failed = (index, result)
                for later in futures[index + 1 :]:
                    later.cancel()
            continue
        results[index] = result
        _cancel_after_told_failure(futures, results, refused)
        done_rows += ranges[index][1] - ranges[index][0]
        if progress is not None:
            progress(done_rows)
    return results, finished, raised, refused, failed


def _cancel_after_told_failure(futures: list[Any], results: dict[int, Outcome], refused: dict[int, Refusals]) -> None:
    """Cancel the tasks after the first one whose loss failed (a plugin's error) once every task before it has
    succeeded: that failure is then what the run tells, and no later task can change it. While an earlier task may
    still refuse values, the later ones run on, as their bad values are counted with its (a local pass counts them
    in every chunk after the first refusal)."""
    failures = [index for index, refusals in refused.items() if refusals.failure is not None]
    if failures and all(index in results for index in range(min(failures))):
        for later in futures[min(failures) + 1 :]:
            later.cancel()


# How long a run on a joined cluster waits, when it ends early (an error, a signal), for the tasks it cancelled
# to leave the workers' threads: a signal's handler has SIGNAL_CLEANUP_SECONDS in all, and removes the staged
# --per-sample parts after this.
_STOP_SECONDS = tempfiles.SIGNAL_CLEANUP_SECONDS / 2


@contextmanager
def _tasks_stopped(client: Any, prefix: str, joined: bool, writing: bool) -> Iterator[list[Any]]:
    """A list for the run's futures (keys starting with ``prefix``); when the block ends with some unfinished (an
    error in a task, an exception, a signal's handler on a ``joined`` cluster), they are cancelled and, when the
    tasks are ``writing`` a ``--per-sample`` part, the workers polled until none runs them, for at most
    :data:`_STOP_SECONDS` (else the run would wait for nothing).

    A joined cluster is the user's, and outlives the run: Dask cannot stop a running task, so one still running
    after lossctl removed the staged ``--per-sample`` parts wrote its own there afterwards. A task that finds
    itself cancelled publishes no part (:func:`_cancelled`); the wait covers one that was publishing it. The
    local cluster's workers end with the run (or at once on a signal: :func:`_end_workers`)."""
    futures: list[Any] = []

    def stop() -> None:
        unfinished = [future for future in futures if future.status not in ("finished", "error")]
        if not unfinished:
            return
        client.cancel(unfinished)
        if not writing:
            return
        deadline = time.monotonic() + _STOP_SECONDS
        while any(client.run(_running, prefix).values()) and time.monotonic() < deadline:
            time.sleep(0.05)

    forget = tempfiles.at_signal(stop, first=True) if joined else lambda: None
    try:
        yield futures
    finally:
        forget()
        if joined:
            with contextlib.suppress(Exception):  # the cluster gone: the run's own error is the one to report
                stop()


def _running(prefix: str, dask_worker: Any) -> int:
    """How many tasks whose keys start with ``prefix`` a worker is running (cancelled ones included)."""
    return sum(str(task.key).startswith(prefix) for task in dask_worker.state.all_running_tasks)
