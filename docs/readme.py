"""The README's examples, run: ``console`` blocks are executed and their output compared, ``pycon`` blocks are
doctests, ``python`` blocks must run. ``tests/test_readme.py`` checks them; ``python docs/readme.py`` (part of
``make docs``) rewrites the outputs of the console blocks from real runs.

A console block is a list of ``$ command`` lines (a trailing ``\\`` continues a command on the next line), each
followed by the output it prints, stdout and stderr together. An output ending in a line ``...`` is compared up
to that line. Commands run with bash in a scratch folder holding ``sample_data/`` and an empty ``docs/``, with
``COLUMNS=120`` so that tables have the same width everywhere. Illustrations that are not meant to run are
written in ``shell`` blocks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(?P<kind>console|pycon|python)\n(?P<body>.*?)^```$", re.DOTALL | re.MULTILINE)
ELLIPSIS = "..."


@dataclass
class Command:
    command: str
    expected: list[str]
    line: int  # 1-based line of the command in the README

    @property
    def truncated(self) -> bool:
        return bool(self.expected) and self.expected[-1] == ELLIPSIS


def blocks(text: str, kind: str) -> Iterator[tuple[int, str]]:
    """``(line, body)`` of every fenced block of ``kind``."""
    for match in FENCE.finditer(text):
        if match["kind"] == kind:
            yield text.count("\n", 0, match.start("body")) + 1, match["body"]


def commands(body: str, first_line: int) -> list[Command]:
    """The commands of a console block with the output shown after each."""
    found: list[Command] = []
    lines = body.rstrip("\n").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("$ "):
            raise ValueError(f"README.md:{first_line + index}: output before any command in a console block")
        start = index
        command = line[2:]
        while command.endswith("\\"):
            index += 1
            command += "\n" + lines[index]
        index += 1
        expected = []
        while index < len(lines) and not lines[index].startswith("$ "):
            expected.append(lines[index])
            index += 1
        found.append(Command(command, expected, first_line + start))
    return found


@contextmanager
def scratch() -> Iterator[Path]:
    """A folder holding ``sample_data/`` and an empty ``docs/``, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lossctl-readme-") as folder:
        path = Path(folder)
        shutil.copytree(ROOT / "sample_data", path / "sample_data")
        (path / "docs").mkdir()
        yield path


def run(command: str, cwd: Path) -> list[str]:
    """The command's output lines (stdout and stderr, in order), trailing spaces removed."""
    env = dict(os.environ, COLUMNS="120", LINES="50", NO_COLOR="1", TERM="dumb")
    env.pop("FORCE_COLOR", None)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return [line.rstrip() for line in done.stdout.rstrip("\n").split("\n")] if done.stdout.strip() else []


def shown(command: Command) -> list[str]:
    """The output the README shows, without the ``...`` mark and the blank lines that separate commands."""
    lines = command.expected[:-1] if command.truncated else list(command.expected)
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.rstrip() for line in lines]


def matches(command: Command, output: list[str]) -> bool:
    expected = shown(command)
    return (output[: len(expected)] if command.truncated else output) == expected


def update(text: str) -> str:
    """The README with every console block's outputs replaced by what the commands print now."""
    pieces = []
    last = 0
    with scratch() as folder:
        for match in FENCE.finditer(text):
            if match["kind"] != "console":
                continue
            line = text.count("\n", 0, match.start("body")) + 1
            body = []
            for command in commands(match["body"], line):
                output = run(command.command, folder)
                if command.truncated:
                    output = [*output[: len(shown(command))], ELLIPSIS]
                blank = [""] if command.expected and not command.expected[-1].strip() else []
                body += ["$ " + command.command, *output, *blank]
            pieces += [text[last : match.start("body")], "\n".join(body) + "\n"]
            last = match.end("body")
    return "".join(pieces) + text[last:]


if __name__ == "__main__":
    README.write_text(update(README.read_text(encoding="utf-8")), encoding="utf-8")
    print("rewrote the console outputs of README.md", file=sys.stderr)
