"""`make up` as a newcomer runs it: the stack comes up, answers through the gateway, and
Ctrl-C (SIGINT to the process group) stops every process it started.

Ports and files are moved aside through the services' own settings variables, so the test
never collides with a stack a developer has running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
READY_LINE = "the stack is ready; Ctrl-C stops it"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stack_env(folder: Path) -> dict[str, str]:
    user, auth, http = free_port(), free_port(), free_port()
    jwks = str(folder / "jwks.json")
    return {
        **os.environ,
        "USER_DATABASE__URL": f"sqlite:///{folder / 'user.db'}",
        "USER_GRPC__PORT": str(user),
        "USER_METRICS__PORT": str(free_port()),
        "USER_AUTH__JWKS_FILE": jwks,
        "USER_PASSWORDS__TIME_COST": "1",
        "USER_PASSWORDS__MEMORY_COST_KIB": "1024",
        "USER_PASSWORDS__PARALLELISM": "1",
        "AUTH_DATABASE__URL": f"sqlite:///{folder / 'auth.db'}",
        "AUTH_GRPC__PORT": str(auth),
        "AUTH_METRICS__PORT": str(free_port()),
        "AUTH_TOKENS__JWKS_FILE": jwks,
        "AUTH_USER_CLIENT__TARGET": f"127.0.0.1:{user}",
        "GATEWAY_HTTP__PORT": str(http),
        "GATEWAY_METRICS__PORT": str(free_port()),
        "GATEWAY_BACKENDS__USER__TARGET": f"127.0.0.1:{user}",
        "GATEWAY_BACKENDS__AUTH__TARGET": f"127.0.0.1:{auth}",
    }


def wait_announced(log: Path, process: subprocess.Popen[bytes], within: float = 90.0) -> str:
    """The output of `make up` once it says the stack is ready (it awaits readiness itself)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, "make up exited before the stack was ready"
        output = log.read_text(errors="replace")
        if READY_LINE in output:
            return output
        time.sleep(0.5)
    pytest.fail("make up never said the stack was ready")


def running_services(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.add(pid)
    return alive


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = set(), [root]
    while pending:
        pid = pending.pop()
        for child in children.get(pid, []):
            found.add(child)
            pending.append(child)
    return found


@pytest.mark.slow
def test_make_up_serves_the_gateway_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    base = f"http://127.0.0.1:{env['GATEWAY_HTTP__PORT']}"
    log = tmp_path / "make-up.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["make", "up"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        output = wait_announced(log, process)
        # Announced only once every service answered ready, so the first call must work.
        readyz = httpx.get(f"{base}/readyz", timeout=10)
        email = f"newcomer-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "displayName": "New", "password": "correct horse battery"}
        created = httpx.post(f"{base}/v1/users", json=body, timeout=10)
        login = httpx.post(
            f"{base}/v1/auth/login",
            json={"email": email, "password": "correct horse battery"},
            timeout=10,
        )
        me = httpx.get(
            f"{base}/v1/users/{created.json()['id']}",
            headers={"Authorization": f"Bearer {login.json()['accessToken']}"},
            timeout=10,
        )
        started = descendants(process.pid)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        process.wait(60)
        time.sleep(1)
        left = running_services(started)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    assert readyz.status_code == 200
    for service, port in (("user", "USER_GRPC__PORT"), ("auth", "AUTH_GRPC__PORT")):
        assert f"{service}: ready   grpc 127.0.0.1:{env[port]}" in output
    assert f"gateway: ready   {base}   Swagger UI {base}/docs" in output
    assert created.status_code == 200
    assert login.status_code == 200
    assert me.json()["email"] == email
    assert left == set()
