"""``python -m lossctl`` and the ``lossctl`` command: both start here and behave exactly alike.

The console script points here rather than at :func:`lossctl.cli.run` so that the signal handlers
are installed before the command line's imports (typer, click, the command modules: about 25 ms
of a 60 ms ``lossctl --help``); a Ctrl-C or a SIGTERM during start-up then ends like one at any
other moment (docs/cli.md, "Faults").

Three settings are made here, before NumPy and pyarrow are imported, unless the environment already makes them:

- ``OPENBLAS_NUM_THREADS=1``: OpenBLAS starts a thread per core when NumPy is imported, and each spins for
  about 0.1 s of CPU waiting for work that a streaming evaluation never gives it (its matrix products are
  small and already run on the engine's threads), taking a core from the reader (on two cores: 0.43 s of CPU
  for a 10M-row eval instead of 0.35 s).
- ``NUMPY_MADVISE_HUGEPAGE=0``: NumPy asks the kernel for transparent huge pages for every large array, and
  where the kernel then compacts memory to find them (``defrag`` set to ``madvise``, as on the machines we
  measure on) each fresh array stalls: a 20M-row ``--targets --on`` join spent 3.2 s in the kernel
  instead of 0.5 s (5.3 s against 2.7 s in all), a million groups 3.1 s instead of 0.6 s. Chunks of
  streamed rows reuse their memory and do not notice.
- ``MIMALLOC_ALLOW_THP=0``: the same for the mimalloc that Arrow's C++ code allocates from where no pool is given
  (Parquet's read buffers; lossctl's own Arrow pool is jemalloc, :func:`lossctl.memory.tune_allocators`): a third
  of a five-model run's samples were the kernel zeroing its huge pages (0.98 s against 0.77 s without them; the
  20M-row join 3.01 s against 2.82 s).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
os.environ.setdefault("MIMALLOC_ALLOW_THP", "0")

from lossctl.interrupts import install


def main() -> None:
    install()
    from lossctl.cli import run
    from lossctl.plugins import own_stdout

    own_stdout()  # stdout carries the results: nothing plugin code prints goes there, from any thread

    run()


if __name__ == "__main__":
    main()
