"""Shared fixtures: tiny input files written per test, and a runner for the real CLI entry point."""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from lossctl.cli import main

# Property tests are reproducible in CI: a fixed example sequence, no wall-clock deadline on a shared machine.
settings.register_profile("lossctl", derandomize=True, deadline=None, max_examples=100)
settings.load_profile("lossctl")

# The processes the tests start take the default hang-up disposition, however the suite itself was started: under
# `nohup` SIGHUP is ignored and children inherit that, and lossctl rightly keeps a hang-up it was told to ignore
# (lossctl.interrupts), so the tests of what SIGHUP does would see it do nothing.
signal.signal(signal.SIGHUP, signal.SIG_DFL)


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``lossctl ARGS`` in-process through :func:`lossctl.cli.main` (the real error boundary)."""

    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a small text file under ``tmp_path`` and return its path."""

    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make


@pytest.fixture
def regression_csv(write: Callable[[str, str], Path]) -> Path:
    return write(
        "preds.csv", "id,pred,target,w,segment\n1,1.0,0.5,1,a\n2,2.0,2.5,2,b\n3,0.0,1.0,1,a\n4,4.0,2.0,0.5,b\n"
    )
