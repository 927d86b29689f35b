"""``python -m lossctl`` and the ``lossctl`` command: both start here and behave exactly alike.

The console script points here rather than at :func:`lossctl.cli.run` so that the signal handlers
are installed before the command line's imports (typer, click, the command modules: about 25 ms
of a 60 ms ``lossctl --help``); a Ctrl-C or a SIGTERM during start-up then ends like one at any
other moment (docs/cli.md, "Faults").

It also keeps NumPy's BLAS to one thread unless ``OPENBLAS_NUM_THREADS`` says otherwise: OpenBLAS starts a
thread per core when NumPy is imported, and each spins for about 0.1 s of CPU waiting for work that a
streaming evaluation never gives it (its matrix products are small and already run on the engine's
threads), taking a core from the reader (on two cores: 0.43 s of CPU for a 10M-row eval instead of 0.35 s).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from lossctl.interrupts import install


def main() -> None:
    install()
    from lossctl.cli import run

    run()


if __name__ == "__main__":
    main()
