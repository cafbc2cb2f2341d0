"""``make up``'s process runner: ``honcho start``, with an exit code that tells the truth.

``python -m stackkit.run Procfile`` runs every process of the Procfile as ``honcho start
-f Procfile`` does (one line per process and output line, prefixed by its name; a process
that stops stops them all). honcho itself ends with 130 after Ctrl-C (143 after SIGTERM)
whatever its processes did, which ``make`` reports as ``make: *** [Makefile:28: up]
Error 130``. Here a stack stopped that way ends with 0 when every process exited 0, and
with the first failure's exit code otherwise; a stack that stopped by itself (a process
exited first) ends with that process's code, as in honcho.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# honcho ships no type information (no py.typed): its objects are Any here.
from honcho.environ import expand_processes, parse_procfile  # type: ignore[import-untyped]
from honcho.manager import Manager  # type: ignore[import-untyped]
from honcho.printer import Printer  # type: ignore[import-untyped]

__all__ = ["exit_code", "main", "run"]

_STOPPED_BY_SIGNAL = (130, 143)  # honcho's code after SIGINT, SIGTERM


def exit_code(stopped_by: int | None, codes: Mapping[str, int | None]) -> int:
    """The stack's exit code from honcho's and each process's (None: never stopped)."""
    if stopped_by not in _STOPPED_BY_SIGNAL:
        return stopped_by or 0
    failures = [code for code in codes.values() if code != 0]
    if not failures:
        return 0
    exited = [code for code in failures if code is not None and code > 0]
    return exited[0] if exited else 1  # killed by a signal, or never stopped


def run(procfile: Path) -> int:
    """Run the processes of ``procfile`` until one stops or a signal stops them all."""
    processes = parse_procfile(procfile.read_text(encoding="utf-8")).processes
    manager = Manager(Printer(sys.stdout, colour=True, prefix=True))
    for process in expand_processes(processes):
        manager.add_process(process.name, process.cmd, env={**os.environ, **process.env})
    manager.loop()
    # honcho keeps each process's exit code in this table (honcho is pinned in the lock;
    # tests/unit/stackkit/test_run.py fails if it moves).
    table = manager._processes
    codes = {name: entry.get("returncode") for name, entry in table.items()}
    return exit_code(manager.returncode, codes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stackkit.run", description="Run a Procfile (honcho start)."
    )
    parser.add_argument("procfile", type=Path)
    return run(parser.parse_args(argv).procfile)


if __name__ == "__main__":
    sys.exit(main())
