"""The gateway and the services under attack: per-client rate limits, per-client sign-in
lockouts, and password hashing that refuses rather than drowns.

Clients are told apart by X-Forwarded-For from a proxy the gateway trusts (127.0.0.1
here); the auth service believes the gateway's forwarded client from the loopback
network (its settings.toml).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx

from tests.e2e.auth._stack import PASSWORD, Stack
from tests.e2e.gateway._gateway import assert_problem, gateway_env, running_gateway

ATTACKER = {"X-Forwarded-For": "203.0.113.66"}
OWNER = {"X-Forwarded-For": "198.51.100.7"}


@contextmanager
def gateway_client(stack: Stack, **settings: str) -> Iterator[httpx.Client]:
    env = {**gateway_env(stack), "GATEWAY_HTTP__TRUSTED_PROXIES": "127.0.0.1", **settings}
    with (
        running_gateway(env) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=20) as client,
    ):
        yield client


def sign_up(client: httpx.Client, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {
        "email": f"u-{uuid.uuid4().hex[:10]}@example.com",
        "displayName": "U",
        "password": PASSWORD,
    }
    return client.post("/v1/users", json=body, headers=headers)


def test_a_client_over_the_sign_up_limit_gets_429_and_other_clients_are_still_served(
    own_stack: Stack,
) -> None:
    limits = {
        "GATEWAY_RATE_LIMITS__ENABLED": "true",
        "GATEWAY_RATE_LIMITS__OPERATIONS": "acme.user.v1.UserService.CreateUser=2/minute",
    }
    with gateway_client(own_stack, **limits) as client:
        allowed = [sign_up(client, ATTACKER).status_code for _ in range(2)]
        refused = sign_up(client, ATTACKER)
        other = sign_up(client, OWNER)

    assert allowed == [200, 200]
    problem = assert_problem(refused, 429, "RESOURCE_EXHAUSTED")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "CreateUser" in problem["detail"]
    assert other.status_code == 200


def test_a_client_that_locks_itself_out_of_an_account_does_not_lock_the_owner_out(
    own_stack: Stack,
) -> None:
    with gateway_client(own_stack) as client:
        email = sign_up(client).json()["email"]
        wrong = {"email": email, "password": "not the password!"}
        failures = [
            client.post("/v1/auth/login", json=wrong, headers=ATTACKER).status_code
            for _ in range(5)
        ]
        right = {"email": email, "password": PASSWORD}
        attacker = client.post("/v1/auth/login", json=right, headers=ATTACKER)
        owner = client.post("/v1/auth/login", json=right, headers=OWNER)

    assert failures == [401] * 5
    assert_problem(attacker, 429, "RESOURCE_EXHAUSTED")
    assert int(attacker.headers["retry-after"]) > 800  # the 15-minute lockout
    assert owner.status_code == 200, owner.text


def test_a_burst_of_sign_ups_is_refused_with_429_while_reads_are_served(own_stack: Stack) -> None:
    own_stack.stop_user()
    own_stack.start_user(
        USER_PASSWORDS__TIME_COST="3",
        USER_PASSWORDS__MEMORY_COST_KIB="8192",  # some 60 ms a hash: the burst overlaps
        USER_PASSWORDS__MAX_CONCURRENT="1",
        USER_PASSWORDS__MAX_WAITING="0",
    )
    with gateway_client(own_stack) as client:
        known = sign_up(client).json()
        token = client.post(
            "/v1/auth/login", json={"email": known["email"], "password": PASSWORD}
        ).json()["accessToken"]
        start = threading.Barrier(9)

        def burst(n: int) -> httpx.Response:
            start.wait()
            if n == 0:
                return client.get(
                    f"/v1/users/{known['id']}", headers={"Authorization": f"Bearer {token}"}
                )
            return sign_up(client)

        with ThreadPoolExecutor(max_workers=9) as pool:
            read, *sign_ups = pool.map(burst, range(9))
        after = [sign_up(client).status_code for _ in range(6)]  # one at a time: all served

    codes = sorted(reply.status_code for reply in sign_ups)
    assert set(codes) <= {200, 429}, codes
    assert 200 in codes
    assert 429 in codes
    for reply in sign_ups:
        if reply.status_code == 429:
            assert_problem(reply, 429, "RESOURCE_EXHAUSTED")
            assert reply.headers["retry-after"] == "1"
    assert read.status_code == 200
    assert after == [200] * 6  # no circuit opened by the refusals
