"""One `make up` stack on free ports, as a newcomer runs it, for the conformance runners.

Ports, databases and the JWKS file are moved aside through the services' own settings
variables (as tests/e2e/test_make_up.py does), so the stack never collides with one a
developer has running; the scenario file may add settings of its own (the sign-in lockout
it provokes). Every process `make up` started is stopped when the block ends, on failure
too: Ctrl-C's SIGINT to the process group first, then SIGKILL to whatever is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.e2e._local_stack import local_stack_env

__all__ = ["Stack", "StackFailed", "make_up"]

REPO = Path(__file__).resolve().parents[2]
READY_LINE = "the stack is ready; Ctrl-C stops it"


class StackFailed(RuntimeError):
    """`make up` exited, or never said the stack was ready; the message ends with its log."""


@dataclass(frozen=True)
class Stack:
    """The running stack: where each contract service answers, and its settings."""

    env: Mapping[str, str]
    log: Path

    @property
    def targets(self) -> dict[str, str]:
        """gRPC target of each contract service (what a runner's config names)."""
        return {
            "acme.user.v1.UserService": f"127.0.0.1:{self.env['USER_GRPC__PORT']}",
            "acme.auth.v1.AuthService": f"127.0.0.1:{self.env['AUTH_GRPC__PORT']}",
        }


def stack_env(folder: Path, settings: Mapping[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **local_stack_env(folder),
        # Cheap password hashes: the runners sign in a dozen times each.
        "USER_PASSWORDS__TIME_COST": "1",
        "USER_PASSWORDS__MEMORY_COST_KIB": "1024",
        "USER_PASSWORDS__PARALLELISM": "1",
        **settings,
    }


@contextlib.contextmanager
def make_up(folder: Path, settings: Mapping[str, str], within: float = 120.0) -> Iterator[Stack]:
    """`make up` with its state under ``folder`` and ``settings`` on top; stopped on exit."""
    env = stack_env(folder, settings)
    log = folder / "make-up.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["make", "up"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as in a terminal
        )
    try:
        _wait_ready(process, log, within)
        yield Stack(env=env, log=log)
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], log: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if READY_LINE in output:
            return
        if process.poll() is not None:
            raise StackFailed(
                f"make up exited ({process.returncode}) before it was ready:\n{output}"
            )
        time.sleep(0.3)
    raise StackFailed(f"make up was not ready within {within:.0f} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C (SIGINT to the group), then SIGKILL to every process it started that is left.

    A process is known by its pid and its start time, so a pid the system has handed to
    someone else's process since is never signalled."""
    started = _descendants(process.pid)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
    for pid, start in (started | _descendants(process.pid)).items():
        if _start_time(pid) == start:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _stat(pid: int | str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _start_time(pid: int) -> str | None:
    fields = _stat(pid)
    return None if fields is None else fields[19]


def _descendants(root: int) -> dict[int, str]:
    """Every process under ``root``, with its start time."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(entry.name)
            if fields is not None:
                children.setdefault(int(fields[1]), []).append((int(entry.name), fields[19]))
    found: dict[int, str] = {}
    pending = [root]
    while pending:
        for child, start in children.get(pending.pop(), []):
            found[child] = start
            pending.append(child)
    return found
