"""The built-in losses; importing a family module registers its losses (in this order in ``lossctl list``)."""

from lossctl.losses import (  # noqa: F401
    binary,
    detection,
    multiclass,
    multilabel,
    ranking,
    regression,
    representation,
    segmentation,
)
