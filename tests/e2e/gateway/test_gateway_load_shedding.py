"""The gateway sheds what it cannot serve, and says when to come back.

A bound on concurrent requests answers 503 with ``Retry-After`` at once instead of letting
every request wait; every 503 carries ``Retry-After``; readiness during an outage is one
log line per change, not an error per probe.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
from structlog.testing import capture_logs

from tests.e2e.auth._stack import PASSWORD, Stack
from tests.e2e.gateway._gateway import assert_problem, gateway_env, running_gateway


@contextmanager
def gateway_client(stack: Stack, **settings: str) -> Iterator[httpx.Client]:
    with (
        running_gateway({**gateway_env(stack), **settings}) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=30) as client,
    ):
        yield client


def sign_up(client: httpx.Client) -> httpx.Response:
    body = {
        "email": f"u-{uuid.uuid4().hex[:10]}@example.com",
        "displayName": "U",
        "password": PASSWORD,
    }
    return client.post("/v1/users", json=body)


def test_past_its_bound_the_gateway_answers_503_with_retry_after_and_probes_still_pass(
    own_stack: Stack,
) -> None:
    own_stack.stop_user()
    own_stack.start_user(
        USER_PASSWORDS__TIME_COST="48",  # about half a second a sign-up: the burst overlaps
        USER_PASSWORDS__MEMORY_COST_KIB="16384",
        USER_PASSWORDS__MAX_CONCURRENT="8",
    )
    with gateway_client(own_stack, GATEWAY_HTTP__MAX_CONCURRENT_REQUESTS="2") as client:
        start = threading.Barrier(6)

        def burst(_: int) -> httpx.Response:
            start.wait()
            return sign_up(client)

        with ThreadPoolExecutor(max_workers=6) as pool:
            replies = list(pool.map(burst, range(6)))
            probes = [client.get(path).status_code for path in ("/healthz", "/readyz")]
        after = sign_up(client)

    codes = sorted(reply.status_code for reply in replies)
    assert set(codes) == {200, 503}, codes
    assert codes.count(200) <= 2
    for reply in replies:
        if reply.status_code == 503:
            assert_problem(reply, 503, "UNAVAILABLE")
            assert reply.headers["retry-after"] == "1"
    assert probes == [200, 200]
    assert after.status_code == 200


def test_every_503_carries_retry_after(own_stack: Stack) -> None:
    with gateway_client(own_stack) as client:
        user_id = sign_up(client).json()["id"]
        own_stack.stop_user()
        try:
            read = client.get(f"/v1/users/{user_id}")
            ready = client.get("/readyz")
        finally:
            own_stack.start_user()

    assert_problem(read, 503, "UNAVAILABLE")
    assert read.headers["retry-after"] == "1"
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "1"


def test_readiness_during_an_outage_is_one_line_per_change_not_an_error_per_probe(
    own_stack: Stack,
) -> None:
    with capture_logs() as logs, gateway_client(own_stack) as client:
        assert client.get("/readyz").status_code == 200
        own_stack.stop_user()
        try:
            down = []
            for _ in range(5):  # a probe every quarter second, each after the cache
                time.sleep(0.25)
                down.append(client.get("/readyz").status_code)
        finally:
            own_stack.start_user()
        deadline = time.monotonic() + 20
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.25)
        back = client.get("/readyz").status_code

    changes = ("gateway ready", "gateway not ready")
    readiness = [line["event"] for line in logs if line["event"] in changes]
    probe_errors = [
        line
        for line in logs
        if line["event"] == "http" and line.get("route") == "/readyz"
        if line["log_level"] == "error"
    ]
    assert down == [503] * 5
    assert back == 200
    assert probe_errors == []
    assert readiness == ["gateway ready", "gateway not ready", "gateway ready"]
