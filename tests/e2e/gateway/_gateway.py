"""The real gateway on a real port (uvicorn in a thread) in front of real services.

``running_gateway`` serves ``create_app(settings)`` exactly as ``serve`` would (same
uvicorn configuration, lifespan on) on a port the OS picks, and stops it on exit.
``Rest`` is an HTTP client of it with the helpers the tests share.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from services.gateway.app import Gateway, create_app, uvicorn_config
from services.gateway.settings import default_backends, load
from services.user import app as user_app
from services.user import settings as user_settings
from tests.e2e.auth._stack import PASSWORD, Stack

PROBLEM_JSON = "application/problem+json"


@dataclass
class RunningGateway:
    """A started gateway: its application (for the metrics port) and its base URL."""

    app: Gateway
    server: uvicorn.Server
    base_url: str

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.app.metrics_port}/metrics"


def gateway_env(stack: Stack) -> dict[str, str]:
    """Settings of a test gateway in front of ``stack``: free ports, quick to give up, no
    rate limits (every test calls from 127.0.0.1; the limits have tests of their own)."""
    assert stack.auth_server is not None
    return {
        "GATEWAY_RATE_LIMITS__ENABLED": "false",
        "GATEWAY_HTTP__PORT": "0",
        "GATEWAY_HTTP__GRACE_SECONDS": "2",
        "GATEWAY_HTTP__READINESS_CACHE_SECONDS": "0.2",
        "GATEWAY_METRICS__PORT": "0",
        "GATEWAY_BACKENDS__USER__TARGET": stack.user_address,
        "GATEWAY_BACKENDS__USER__MAX_BACKOFF_SECONDS": "0.3",
        "GATEWAY_BACKENDS__USER__BREAKER_RESET_SECONDS": "0.5",
        "GATEWAY_BACKENDS__AUTH__TARGET": f"127.0.0.1:{stack.auth_server.port}",
        "GATEWAY_BACKENDS__AUTH__MAX_BACKOFF_SECONDS": "0.3",
    }


@contextmanager
def running_gateway(env: Mapping[str, str]) -> Iterator[RunningGateway]:
    """The gateway with settings from ``env``, served until the block ends.

    Its backends are those of the defaults (every grpc service of the manifests) that
    ``env`` points at, and any ``env`` adds: the services a test runs, whichever others the
    repository holds (a service made by `make new-service` would be unready here).
    """
    targeted = {
        name.split("__")[1].lower()
        for name in env
        if name.startswith("GATEWAY_BACKENDS__") and name.endswith("__TARGET")
    }
    defaults = {name: b for name, b in default_backends().items() if name in targeted}
    settings = load(env=env, defaults=defaults)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn_config(app, settings))
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield RunningGateway(app=app, server=server, base_url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class Rest:
    """An HTTP client of the gateway, with the calls most tests begin with."""

    client: httpx.Client
    stack: Stack
    admin_tokens: dict[str, str] = field(default_factory=dict)

    def register(self, email: str | None = None) -> dict[str, Any]:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        reply = self.client.post(
            "/v1/users", json={"email": email, "displayName": "Ada", "password": PASSWORD}
        )
        assert reply.status_code == 200, reply.text
        user: dict[str, Any] = reply.json()
        return user

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        reply = self.client.post("/v1/auth/login", json={"email": email, "password": password})
        assert reply.status_code == 200, reply.text
        tokens: dict[str, Any] = reply.json()
        return tokens

    def signed_in(self) -> tuple[dict[str, Any], dict[str, str]]:
        """A new user and the headers that call as them."""
        user = self.register()
        return user, bearer(self.login(user["email"])["accessToken"])

    def admin(self) -> dict[str, str]:
        """Headers that call as an administrator (made once, with the user service's CLI)."""
        if not self.admin_tokens:
            email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
            settings = user_settings.load(env=self.stack.user_env)
            created = user_app.create_admin(
                settings, email=email, display_name="Root", password=PASSWORD
            )
            assert created == 0
            self.admin_tokens.update(bearer(self.login(email)["accessToken"]))
        return dict(self.admin_tokens)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(reply: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The reply is a problem document of ``status`` and ``code``; its body."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = reply.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == "about:blank"
    assert problem["title"]
    assert problem["requestId"] == reply.headers["x-request-id"]
    assert problem["instance"] == reply.request.url.raw_path.decode().split("?")[0]
    return problem
