"""``python -m lossctl`` behaves exactly like ``lossctl``."""

from lossctl.cli import run

run()
