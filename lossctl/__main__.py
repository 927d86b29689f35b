"""``python -m lossctl`` behaves exactly like ``lossctl``."""

from lossctl.cli import main

raise SystemExit(main())
