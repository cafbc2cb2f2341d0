"""`make up` as a newcomer runs it: the stack comes up, answers through the gateway, and
Ctrl-C (SIGINT to the process group) stops every process it started. `make dev` the same,
restarting only the service whose code (or, for the gateway, OpenAPI document) changed.

Ports and files are moved aside through the services' own settings variables, so the test
never collides with a stack a developer has running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e._local_stack import local_stack_env

REPO = Path(__file__).resolve().parents[2]
READY_LINE = "the stack is ready; Ctrl-C stops it"


def stack_env(folder: Path) -> dict[str, str]:
    """Every service of the manifests on free ports, its state in ``folder``; cheap hashes."""
    return {
        **os.environ,
        **local_stack_env(folder),
        "USER_PASSWORDS__TIME_COST": "1",
        "USER_PASSWORDS__MEMORY_COST_KIB": "1024",
        "USER_PASSWORDS__PARALLELISM": "1",
    }


def start_make(
    target: str, env: dict[str, str], log: Path, *variables: str
) -> subprocess.Popen[bytes]:
    """`make TARGET [VAR=value ...]` in a session of its own (as a terminal would), its
    output in ``log``."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            ["make", target, *variables],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


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


def kill_everything(process: subprocess.Popen[bytes]) -> None:
    """After a failure: the runner's processes (honcho gives each its own process group) and
    the runner itself."""
    if process.poll() is None:
        for pid in descendants(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


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
@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_make_up_serves_the_gateway_and_ctrl_c_stops_everything(
    tmp_path: Path, database: str
) -> None:
    env = stack_env(tmp_path)
    base = f"http://127.0.0.1:{env['GATEWAY_HTTP__PORT']}"
    log = tmp_path / "make-up.log"
    # A data folder the server's user can reach (as root it runs as nobody; tmp_path is private).
    kept = Path(tempfile.mkdtemp(prefix="test-make-up-postgres-"))
    kept.chmod(0o755)
    process = start_make("up", env, log, f"DB={database}", f"DB_DIR={kept / 'data'}")
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
        kill_everything(process)
        kept_cluster = (kept / "data" / "PG_VERSION").exists()
        shutil.rmtree(kept, ignore_errors=True)

    assert readyz.status_code == 200
    for service, port in (("user", "USER_GRPC__PORT"), ("auth", "AUTH_GRPC__PORT")):
        assert f"{service}: ready   grpc 127.0.0.1:{env[port]}" in output
    assert f"gateway: ready   {base}   Swagger UI {base}/docs" in output
    assert created.status_code == 200
    assert login.status_code == 200
    assert me.json()["email"] == email
    assert left == set()  # PostgreSQL too, under DB=postgres
    on_sqlite = (tmp_path / "user.db").exists(), (tmp_path / "auth.db").exists()
    if database == "postgres":
        assert "postgres: ready at postgresql+psycopg://postgres@127.0.0.1:" in output
        assert kept_cluster  # for the next run
        assert on_sqlite == (False, False)
    else:
        assert on_sqlite == (True, True)


def serve_processes(root: int) -> dict[str, int]:
    """The pid of each service's `serve` process under ``root`` (by its command line)."""
    found = {}
    for pid in descendants(root):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [word.decode(errors="replace") for word in argv if word]
        for service in ("user", "auth", "gateway"):
            if words[-3:-1] == ["-m", f"services.{service}"] and words[-1] == "serve":
                found[service] = pid
    return found


def wait_for_restart(root: int, service: str, old: int, within: float = 60.0) -> dict[str, int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        now = serve_processes(root)
        if now.get(service, old) != old:
            return now
        time.sleep(0.2)
    pytest.fail(f"{service} was not restarted")


@pytest.mark.slow
def test_make_dev_restarts_only_the_service_whose_code_changed(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    base = f"http://127.0.0.1:{env['GATEWAY_HTTP__PORT']}"
    log = tmp_path / "make-dev.log"
    process = start_make("dev", env, log)
    try:
        wait_announced(log, process)
        before = serve_processes(process.pid)
        os.utime(REPO / "services" / "user" / "domain.py")  # what saving the file does
        after = wait_for_restart(process.pid, "user", before["user"])
        time.sleep(1)  # the others would have restarted by now if they were going to
        after = serve_processes(process.pid) | {"user": after["user"]}
        ready = wait_gateway_ready(base, process)
        # A regenerated OpenAPI document restarts the gateway alone.
        os.utime(REPO / "api" / "openapi" / "acme.openapi.yaml")
        regenerated = wait_for_restart(process.pid, "gateway", after["gateway"])
        time.sleep(1)
        regenerated = serve_processes(process.pid) | {"gateway": regenerated["gateway"]}
        ready_again = wait_gateway_ready(base, process)
        started = descendants(process.pid)
        os.killpg(process.pid, signal.SIGINT)
        process.wait(60)
        time.sleep(1)
        left = running_services(started)
    finally:
        kill_everything(process)

    assert set(before) == {"user", "auth", "gateway"}
    assert after["user"] != before["user"]
    assert {name: after[name] for name in ("auth", "gateway")} == {
        name: before[name] for name in ("auth", "gateway")
    }
    assert ready
    assert regenerated["gateway"] != after["gateway"]
    assert {name: regenerated[name] for name in ("user", "auth")} == {
        name: after[name] for name in ("user", "auth")
    }
    assert ready_again
    assert left == set()


def wait_gateway_ready(base: str, process: subprocess.Popen[bytes], within: float = 60.0) -> bool:
    """Whether the gateway's /readyz answers 200 again (the restarted backend is back)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False
