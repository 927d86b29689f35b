"""The README tells the truth: every console example runs and prints what the README shows, every Python
example runs (``pycon`` blocks as doctests). ``make docs`` rewrites the console outputs after a change."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import pytest

from docs import readme

ROOT = Path(__file__).resolve().parent.parent

TEXT = readme.README.read_text(encoding="utf-8")


def _ids(kind: str) -> list[tuple[int, str]]:
    return list(readme.blocks(TEXT, kind))


@pytest.mark.parametrize(("line", "body"), _ids("console"), ids=[f"line {n}" for n, _ in _ids("console")])
def test_console_example(line: int, body: str) -> None:
    if "--engine dask" in body:
        pytest.importorskip("distributed", reason="the Dask engine's example needs the extra lossctl[dask]")
    with readme.scratch() as folder:
        for command in readme.commands(body, line):
            output = readme.run(command.command, folder)
            assert readme.matches(command, output), (
                f"README.md:{command.line}: $ {command.command}\n--- README shows:\n"
                + "\n".join(command.expected)
                + "\n--- it prints:\n"
                + "\n".join(output)
                + "\n(run make docs to rewrite the README's outputs)"
            )


def test_python_session_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``pycon`` blocks are one notebook session, run in order in one namespace."""
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace: dict[str, object] = {}
    with readme.scratch() as folder:
        monkeypatch.chdir(folder)
        for line, body in _ids("pycon"):
            test = parser.get_doctest(body, namespace, f"README.md:{line}", "README.md", line - 1)
            runner.run(test, clear_globs=False)
            namespace = test.globs
    assert runner.failures == 0, f"{runner.failures} README examples fail (see the output above)"


@pytest.mark.parametrize(("line", "body"), _ids("python"), ids=[f"line {n}" for n, _ in _ids("python")])
def test_python_example_runs(line: int, body: str) -> None:
    with readme.scratch() as folder:
        done = subprocess.run([sys.executable, "-c", body], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, f"README.md:{line}:\n{done.stderr}"


def test_there_are_examples_of_each_kind() -> None:
    assert len(_ids("console")) >= 10 and _ids("pycon") and _ids("python")
