"""``python -m lossctl`` behaves exactly like ``lossctl``."""

from lossctl.cli import run

if __name__ == "__main__":
    run()
