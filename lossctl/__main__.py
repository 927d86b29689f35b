"""``python -m lossctl`` and the ``lossctl`` command: both start here and behave exactly alike.

The console script points here rather than at :func:`lossctl.cli.run` so that the signal handlers
are installed before the command line's imports (typer, click, the command modules: about 25 ms
of a 60 ms ``lossctl --help``); a Ctrl-C or a SIGTERM during start-up then ends like one at any
other moment (docs/cli.md, "Faults").
"""

from lossctl.interrupts import install


def main() -> None:
    install()
    from lossctl.cli import run

    run()


if __name__ == "__main__":
    main()
