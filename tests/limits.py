"""Running lossctl in a subprocess under an address-space limit (`ulimit -v`), relative to its own baseline."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable

# glibc gives each thread that allocates its own arena, 64 MB of address space reserved: which threads get one
# depends on timing, so one command's peak moved by 60 MB from run to run on a loaded machine (1,723-1,781 MB),
# half the room a limit leaves. One arena, in the baseline and the limited run alike, makes both repeatable.
_ONE_ARENA = {**os.environ, "MALLOC_ARENA_MAX": "1"}


def address_space(arguments: list[str]) -> int:
    """The peak address space (bytes) of ``lossctl ARGUMENTS`` in a fresh interpreter: the baseline a limit
    is set from, since threads and allocators reserve a machine-dependent amount before any data is read."""
    code = (
        "import sys; from lossctl.cli import main; main(sys.argv[1:]); "
        "print(open('/proc/self/status').read().split('VmPeak:')[1].split()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True, env=_ONE_ARENA
    ).stdout
    return int(out.split()[-1]) * 1024


def limited(limit: int) -> Callable[[], None]:
    """A ``preexec_fn`` that limits the child's address space to ``limit`` bytes."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_limited(arguments: list[str], limit: int) -> subprocess.CompletedProcess[str]:
    """``python -m lossctl ARGUMENTS`` under the limit."""
    command = [sys.executable, "-m", "lossctl", *arguments]
    return subprocess.run(
        command, capture_output=True, text=True, preexec_fn=limited(limit), timeout=300, env=_ONE_ARENA
    )
