"""``python -m stackkit.run Procfile``: honcho start, ending 0 after Ctrl-C when every
process exited 0 (honcho alone ends 130, which make reports as ``Error 130``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stackkit.run import exit_code

# A process that stops cleanly on SIGINT or SIGTERM, after saying it is up.
CLEAN = "trap 'exit 0' INT TERM; echo up; while sleep 0.1; do :; done"


@pytest.mark.parametrize(
    ("stopped_by", "codes", "expected"),
    [
        (130, {"user.1": 0, "ready.1": 0}, 0),  # Ctrl-C, every process exited 0
        (143, {"user.1": 0}, 0),  # SIGTERM, the same
        (130, {"user.1": 0, "auth.1": 3}, 3),  # Ctrl-C, one failed on its way out
        (130, {"user.1": -9}, 1),  # one had to be killed
        (130, {"user.1": None}, 1),  # one never stopped
        (1, {"user.1": 1, "auth.1": -15}, 1),  # a process stopped the stack by failing
        (0, {"user.1": 0}, 0),
    ],
)
def test_the_exit_code_is_the_truth_about_the_processes(
    stopped_by: int, codes: dict[str, int | None], expected: int
) -> None:
    assert exit_code(stopped_by, codes) == expected


def start(procfile: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "stackkit.run", str(procfile)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own, as a terminal's foreground job
        )


def wait_for(log: Path, text: str, count: int, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if output.count(text) >= count:
            return output
        assert process.poll() is None, output
        time.sleep(0.1)
    pytest.fail(f"never saw {count} x {text!r}:\n{log.read_text(errors='replace')}")


@pytest.mark.parametrize(
    ("second", "expected"), [(CLEAN, 0), (CLEAN.replace("exit 0", "exit 3"), 3)]
)
def test_ctrl_c_ends_the_run_with_the_processes_own_verdict(
    tmp_path: Path, second: str, expected: int
) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"first: {CLEAN}\nsecond: {second}\n")
    log = tmp_path / "run.log"
    process = start(procfile, log)
    try:
        wait_for(log, "| up", 2, process)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        code = process.wait(30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    output = log.read_text(errors="replace")
    assert code == expected, output
    assert "first.1 stopped (rc=0)" in output


def test_a_process_that_stops_by_itself_stops_the_run_with_its_code(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"server: {CLEAN}\nbroken: echo up; exit 4\n")
    log = tmp_path / "run.log"
    process = start(procfile, log)
    try:
        code = process.wait(30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert code == 4, log.read_text(errors="replace")
