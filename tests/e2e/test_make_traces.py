"""Traces without a cluster: `make up TRACES=1` stores every service's spans in a folder,
and `make traces REQUEST=<request id>` prints that request's tree across the services.

The stack runs on free ports with its state in the test's folder (as in test_make_up), and
its trace store there too (TRACES_DIR).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_make_up import REPO, kill_everything, stack_env, start_make, wait_announced

PASSWORD = "correct horse battery"


def make_traces(
    env: dict[str, str], folder: Path, *variables: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "traces", f"TRACES_DIR={folder}", *variables],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tree_of(env: dict[str, str], folder: Path, request_id: str, within: float = 30.0) -> str:
    """`make traces REQUEST=...` once the spans of the innermost call (the user service's)
    and of the outermost (the gateway's, which ends last) have reached the store: each
    service writes its finished spans a moment after they end, on its own."""
    deadline = time.monotonic() + within
    shown = ""
    while time.monotonic() < deadline:
        shown = make_traces(env, folder, f"REQUEST={request_id}").stdout
        ends = ("user  /acme.user.v1.UserService/VerifyCredentials", "gateway  POST ")
        if all(end in shown for end in ends):
            return shown
        time.sleep(0.5)
    pytest.fail(f"the request's tree never reached both ends (user, gateway):\n{shown}")


@pytest.mark.slow
def test_make_up_with_traces_prints_one_login_across_gateway_auth_and_user(
    tmp_path: Path,
) -> None:
    env = stack_env(tmp_path)
    base = f"http://127.0.0.1:{env['GATEWAY_HTTP__PORT']}"
    store = tmp_path / "traces"
    log = tmp_path / "make-up.log"
    request_id = f"trace-test-{uuid.uuid4().hex[:12]}"
    process = start_make("up", env, log, "TRACES=1", f"TRACES_DIR={store}")
    try:
        announced = wait_announced(log, process)
        email = f"traced-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "displayName": "Ada", "password": PASSWORD}
        created = httpx.post(f"{base}/v1/users", json=body, timeout=10)
        login = httpx.post(
            f"{base}/v1/auth/login",
            json={"email": email, "password": PASSWORD},
            headers={"x-request-id": request_id},
            timeout=10,
        )
        shown = tree_of(env, store, request_id)
        listed = make_traces(env, store)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        process.wait(60)
        output = log.read_text(errors="replace")
    finally:
        kill_everything(process)

    assert f"traces: every service writes its spans to {store}" in announced
    assert created.status_code == 200
    assert login.status_code == 200
    assert login.headers["x-request-id"] == request_id
    lines = shown.splitlines()
    heading = lines[0].split()
    assert heading[0] == "trace"
    trace_id = heading[1]
    assert heading[2:4] == ["request", request_id]
    assert lines[0].endswith("spans (auth, gateway, user)")
    # gateway -> auth -> (auth's call) -> user, each a level deeper, under one trace id.
    assert lines[1].startswith("gateway  POST /v1/auth/login  200  ")
    assert lines[2].startswith("└─ auth  /acme.auth.v1.AuthService/Login  OK  ")
    client = "   └─ auth  /acme.user.v1.UserService/VerifyCredentials (client)  OK  "
    server = "      └─ user  /acme.user.v1.UserService/VerifyCredentials  OK  "
    assert client in [line[: len(client)] for line in lines]
    assert server in [line[: len(server)] for line in lines]
    # The gateway's log line names the same trace; `make traces` lists it with the request.
    assert trace_id in output
    assert any(trace_id in line and request_id in line for line in listed.stdout.splitlines())
    assert {path.name for path in store.iterdir()} >= {"gateway.jsonl", "auth.jsonl", "user.jsonl"}
