"""Where the one pass runs: in this process (``--engine local``) or on a Dask cluster (``--engine dask``).

:func:`engine_pass` is the single seam between the orchestration (:mod:`lossctl.evaluation`,
:mod:`lossctl.comparison`) and the engines: it yields the merged :class:`~lossctl.engine.Outcome` and publishes
the ``--per-sample`` output only when the block that finalizes the results succeeds. The local engine reads the
``batches`` it is given; the Dask engine reads parts of the inputs named in :class:`Split` where its tasks run
(:mod:`lossctl.cluster`), and falls back to ``batches`` when the inputs cannot be split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lossctl.engine import Outcome, Plan, run
from lossctl.options import Options
from lossctl.samples import per_sample_sink

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from lossctl.hints import Looks
    from lossctl.io.readers import Source


@dataclass(frozen=True)
class Split:
    """How the inputs of a pass can be read part by part.

    ``inputs`` are the data arguments of the pass as the user gave them (paths; ``None`` for an absent one), all
    aligned row by row; ``batches(sources)`` makes the pass's record batches from those inputs opened (or
    restricted to a row range) in the same order. ``reason`` says why the inputs cannot be split at all (a
    ``--on`` join), or is ``None``.
    """

    inputs: Sequence[Any]
    batches: Callable[[Sequence[Source | None]], Iterator[pa.RecordBatch]]
    reason: str | None = None


@contextmanager
def engine_pass(
    batches: Iterator[pa.RecordBatch],
    plan: Plan,
    options: Options,
    notices: list[str],
    *,
    split: Split | None = None,
    pairs: Sequence[tuple[int, int]] = (),
    progress: Callable[[int], object] | None = None,
    notify: Callable[[str], None] | None = None,
    looks: Looks | None = None,
    observe: Callable[[dict[tuple[str, ...], np.ndarray]], None] | None = None,
) -> Iterator[Outcome]:
    """One pass of ``plan`` over the input, on the engine ``options.engine`` names; ``pairs`` are the
    ``(baseline, candidate)`` job indices whose per-row deltas ``--per-sample`` writes (``compare``).

    ``looks`` watch the converted columns of each chunk (the notices of :mod:`lossctl.hints`); the Dask engine's
    tasks watch their parts where they run, and the client merges what they saw in input order. ``observe`` also
    sees each chunk's converted columns, of a pass in this process only (which columns hold lists)."""
    if options.engine == "dask":
        from lossctl.cluster import run_on_cluster

        with run_on_cluster(batches, plan, options, notices, split, pairs, progress, looks) as outcome:
            yield outcome
        return
    with per_sample_sink(plan, options.per_sample, pairs, options.composites, options.convention, notices) as sink:
        watchers = [watch for watch in (looks.observe if looks else None, observe) if watch is not None]

        def watched(values: dict[tuple[str, ...], np.ndarray]) -> None:
            for watch in watchers:
                watch(values)

        watch = watched if watchers else None
        yield run(batches, plan, options, per_sample=sink, progress=progress, notify=notify, observe=watch)
