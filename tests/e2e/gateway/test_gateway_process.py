"""``python -m services.gateway serve`` as an operator runs it: a process that logs one JSON
line per request and, on SIGTERM, finishes the requests in flight and exits 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from acme.user.v1 import user_pb2, user_service_pb2
from servicekit.testing.ports import free_port
from tests.e2e._metrics import YOUNGEST_COLLECTIONS, scrape

REPOSITORY = Path(__file__).resolve().parents[3]
USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


def slow_get_user(
    request: user_service_pb2.GetUserRequest, context: Any
) -> user_service_pb2.GetUserResponse:
    """GetUser, answered after half a second: long enough to be in flight at SIGTERM."""
    time.sleep(0.5)
    user = user_pb2.User(id=request.id, email="ada@example.com", display_name="Ada")
    return user_service_pb2.GetUserResponse(user=user)


def prompt_get_user(
    request: user_service_pb2.GetUserRequest, _context: Any
) -> user_service_pb2.GetUserResponse:
    """GetUser, answered at once."""
    user = user_pb2.User(id=request.id, email="ada@example.com", display_name="Ada")
    return user_service_pb2.GetUserResponse(user=user)


@pytest.fixture
def backend() -> Iterator[str]:
    with serving(slow_get_user) as address:
        yield address


@pytest.fixture
def prompt_backend() -> Iterator[str]:
    with serving(prompt_get_user) as address:
        yield address


@contextmanager
def serving(get_user_handler: Any) -> Iterator[str]:
    """A UserService backend whose GetUser is ``get_user_handler``: its address."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    get_user = grpc.unary_unary_rpc_method_handler(
        get_user_handler,
        request_deserializer=user_service_pb2.GetUserRequest.FromString,
        response_serializer=user_service_pb2.GetUserResponse.SerializeToString,
    )
    service = grpc.method_handlers_generic_handler(USER_SERVICE, {"GetUser": get_user})
    server.add_generic_rpc_handlers((service,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(0)


def start_gateway(backend: str, port: int, metrics_port: int, *serve: str) -> subprocess.Popen[str]:
    """``python -m services.gateway serve *serve`` on ``port`` in front of ``backend``."""
    env = {
        **os.environ,
        "GATEWAY_HTTP__PORT": str(port),
        "GATEWAY_METRICS__PORT": str(metrics_port),
        "GATEWAY_LOGGING__FORMAT": "json",
        "GATEWAY_BACKENDS__USER__TARGET": backend,
        "GATEWAY_BACKENDS__AUTH__TARGET": backend,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.gateway", "serve", *serve],
        cwd=REPOSITORY,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def sigterm_during_a_request(
    process: subprocess.Popen[str], base_url: str, user_id: str
) -> tuple[list[httpx.Response], str]:
    """SIGTERM while a GetUser is at the (slow) backend: its replies and the stderr."""
    replies: list[httpx.Response] = []
    in_flight = threading.Thread(
        target=lambda: replies.append(httpx.get(f"{base_url}/v1/users/{user_id}", timeout=10))
    )
    in_flight.start()
    time.sleep(0.2)  # the request is at the backend now
    process.send_signal(signal.SIGTERM)
    in_flight.join(timeout=10)
    return replies, process.communicate(timeout=30)[1]


def test_sigterm_lets_the_request_in_flight_finish_then_exits_zero(backend: str) -> None:
    port = free_port()
    process = start_gateway(backend, port, 0)
    base_url = f"http://127.0.0.1:{port}"
    user_id = str(uuid.uuid4())
    try:
        _wait_until_live(base_url, process)
        replies, stderr = sigterm_during_a_request(process, base_url, user_id)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    assert replies[0].status_code == 200
    assert replies[0].json()["id"] == user_id
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    served = [line for line in lines if line.get("event") == "http"]
    assert {
        "method": "GET",
        "route": "/v1/users/{id}",
        "status": 200,
        "request_id": replies[0].headers["x-request-id"],
    }.items() <= served[-1].items()
    assert served[-1]["duration_ms"] >= 500
    assert served[-1]["service"] == "gateway"
    assert any(line.get("event") == "stop signal received" for line in lines)


def _wait_until_live(base_url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the gateway exited early: {process.communicate()[1]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the gateway did not start serving")


def test_a_metrics_port_in_use_is_one_error_line_and_exit_1() -> None:
    with socket.socket() as other:  # another program listening on the port
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        env = {
            **os.environ,
            "GATEWAY_HTTP__PORT": str(free_port()),
            "GATEWAY_METRICS__PORT": str(taken),
            "GATEWAY_LOGGING__FORMAT": "json",
        }
        served = subprocess.run(
            [sys.executable, "-m", "services.gateway", "serve"],
            cwd=REPOSITORY,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    errors = [json.loads(line) for line in served.stderr.splitlines() if '"error"' in line]
    assert served.returncode == 1
    assert "Traceback" not in served.stderr
    assert [error["event"] for error in errors] == [
        f"cannot serve metrics on 127.0.0.1:{taken}: Address already in use"
    ]


def test_two_workers_share_the_port_each_serves_and_sigterm_drains_both(backend: str) -> None:
    port, metrics = free_port(), free_port()
    while metrics + 1 == port or not _port_free(metrics + 1):
        metrics = free_port()
    process = start_gateway(backend, port, metrics, "--workers", "2")
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_live(base_url, process)
        for _ in range(40):  # a new connection each: the kernel spreads them over the workers
            httpx.get(f"{base_url}/healthz", timeout=5).raise_for_status()
        deadline = time.monotonic() + 30
        while _served(metrics) + _served(metrics + 1) < 40 and time.monotonic() < deadline:
            time.sleep(0.1)  # until both workers' metrics have counted every request
        per_worker = [_served(metrics), _served(metrics + 1)]
        replies, stderr = sigterm_during_a_request(process, base_url, str(uuid.uuid4()))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    assert min(per_worker) > 0, per_worker
    assert [reply.status_code for reply in replies] == [200]
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert sum(line.get("event") == "gateway started" for line in lines) == 2
    assert sum(line.get("event") == "gateway stopped" for line in lines) == 2
    assert "Traceback" not in stderr


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _served(metrics_port: int) -> float:
    """The requests one worker counted (``http_server_requests_total``), 0 before it answers."""
    try:
        samples = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
    except OSError:  # not listening yet
        return 0.0
    return sum(
        value for (name, _labels), value in samples.items() if name == "http_server_requests_total"
    )


def test_a_served_gateway_does_not_run_the_collector_every_few_requests(
    prompt_backend: str,
) -> None:
    """``serve`` settles the heap once started (servicekit.heap): with Python's defaults the
    youngest generation, collected every 700 net allocations, ran 34 times in these 400
    requests (each leaves some cyclic garbage); its threshold is now 20 000."""
    port, metrics_port = free_port(), free_port()
    process = start_gateway(prompt_backend, port, metrics_port)
    assert process.stderr is not None
    drained = threading.Thread(target=process.stderr.read, daemon=True)  # a line per request
    drained.start()
    base_url, metrics_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    try:
        _wait_until_live(base_url, process)
        before = scrape(metrics_url)[YOUNGEST_COLLECTIONS]
        with (
            httpx.Client(base_url=base_url, timeout=10) as client,
            futures.ThreadPoolExecutor(8) as pool,
        ):
            replies = list(pool.map(lambda _: client.get(f"/v1/users/{uuid.uuid4()}"), range(400)))
        collected = scrape(metrics_url)[YOUNGEST_COLLECTIONS] - before
    finally:
        process.kill()
        process.wait(10)

    assert {reply.status_code for reply in replies} == {200}
    assert collected < 3, f"{collected:.0f} collections of the youngest generation"
