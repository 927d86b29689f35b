"""The built-in losses; importing a family module registers its losses."""

from lossctl.losses import binary, regression  # noqa: F401
