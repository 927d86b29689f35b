"""Binary-classification losses: roles ``target`` (y in {0, 1}, soft where noted) and ``pred``."""

from __future__ import annotations
