"""The gateway routes every contract service by configuration, one breaker per method.

A contract added and generated (``acme.notes.v1.NotesService``, written as a generated
module here) is found without a line of the gateway changing: with no backend it is one
warning line at start and 503 on its routes while everything else is served; with a
backend from the environment alone, its routes are served. One failing method opens its
own circuit: the backend's other methods are still served, and the 503 names the method
and the backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from structlog.testing import capture_logs

from acme.auth.v1 import auth_service_pb2
from acme.user.v1 import user_pb2, user_service_pb2
from services.gateway.app import create_app
from services.gateway.contracts import RoutingError
from services.gateway.settings import DEFAULT_SPEC_FILE, load
from tests.e2e.gateway._gateway import assert_problem, running_gateway
from tests.unit.gateway._notes import NOTES_SERVICE, notes_paths, register_notes, write_notes_module

REPOSITORY = Path(__file__).resolve().parents[3]
USER = "acme.user.v1.UserService"
AUTH = "acme.auth.v1.AuthService"
USER_ID = "7f1c2d0e-5b6a-4c3d-9e8f-0a1b2c3d4e5f"
# The document's other contract services (those `make new-service` adds): the tests here run
# no backend for them, so they are unrouted too, beside the ones a test leaves unmapped.
OTHERS = sorted(
    {
        operation["operationId"].rsplit(".", 1)[0]
        for item in yaml.safe_load(DEFAULT_SPEC_FILE.read_text(encoding="utf-8"))["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    - {USER, AUTH}
)


@dataclass
class Backend:
    """One gRPC server for every contract service; ``Login`` is overloaded (UNAVAILABLE)."""

    address: str = ""
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str) -> int:
        with self.lock:
            return self.calls.count(method)

    def answer(self, method: str, reply: Any) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            with self.lock:
                self.calls.append(method)
            if method == "Login":
                context.abort(grpc.StatusCode.UNAVAILABLE, "overloaded")
            return reply(request) if callable(reply) else reply

        return handle


def _handlers(backend: Backend, service: str, methods: dict[str, tuple[Any, Any, Any]]) -> Any:
    return grpc.method_handlers_generic_handler(
        service,
        {
            name: grpc.unary_unary_rpc_method_handler(
                backend.answer(name, reply),
                request_deserializer=request.FromString,
                response_serializer=response.SerializeToString,
            )
            for name, (request, response, reply) in methods.items()
        },
    )


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    notes = register_notes()
    note_request = _message(notes, "CreateNoteRequest")
    note_response = _message(notes, "CreateNoteResponse")
    tokens = auth_service_pb2.TokenPair(access_token="a", token_type="Bearer", refresh_token="r")
    jwks = auth_service_pb2.GetJwksResponse(keys=[auth_service_pb2.JsonWebKey(kid="k1")])
    user = user_service_pb2.GetUserResponse(user=user_pb2.User(id=USER_ID, email="a@example.com"))
    running = Backend()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pb = auth_service_pb2
    server.add_generic_rpc_handlers(
        (
            _handlers(
                running,
                USER,
                {"GetUser": (user_service_pb2.GetUserRequest, type(user), user)},
            ),
            _handlers(
                running,
                AUTH,
                {
                    "Login": (pb.LoginRequest, pb.LoginResponse, pb.LoginResponse()),
                    "RefreshToken": (
                        pb.RefreshTokenRequest,
                        pb.RefreshTokenResponse,
                        pb.RefreshTokenResponse(tokens=tokens),
                    ),
                    "GetJwks": (pb.GetJwksRequest, pb.GetJwksResponse, jwks),
                },
            ),
            _handlers(
                running,
                NOTES_SERVICE,
                {
                    "CreateNote": (
                        note_request,
                        note_response,
                        lambda request: _created(note_response, request),
                    )
                },
            ),
        )
    )
    checks = health.HealthServicer()
    for service in (USER, AUTH, NOTES_SERVICE):
        checks.set(service, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    running.address = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    server.start()
    try:
        yield running
    finally:
        server.stop(0)


def _message(file: Any, name: str) -> Any:
    from google.protobuf import message_factory  # noqa: PLC0415 - the test's own contract

    return message_factory.GetMessageClass(file.message_types_by_name[name])


def _created(response: Any, request: Any) -> Any:
    note = response(note=request.note)
    note.note.id = "n-1"
    return note


def _env(backend: Backend, **extra: str) -> dict[str, str]:
    return {
        "GATEWAY_HTTP__PORT": "0",
        "GATEWAY_HTTP__READINESS_CACHE_SECONDS": "0",
        "GATEWAY_METRICS__PORT": "0",
        "GATEWAY_BACKENDS__USER__TARGET": backend.address,
        "GATEWAY_BACKENDS__AUTH__TARGET": backend.address,
        "GATEWAY_BACKENDS__AUTH__MAX_ATTEMPTS": "1",
        "GATEWAY_BACKENDS__AUTH__BREAKER_FAILURE_THRESHOLD": "2",
        "GATEWAY_BACKENDS__AUTH__BREAKER_RESET_SECONDS": "30",
        **extra,
    }


@pytest.fixture
def with_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The notes contract generated (a ``*_pb2`` module joining ``acme``) and in the
    document the gateway serves: the settings variables of that document."""
    generated = tmp_path / "gen"
    write_notes_module(generated)
    monkeypatch.syspath_prepend(str(generated))
    document = yaml.safe_load(DEFAULT_SPEC_FILE.read_text(encoding="utf-8"))
    document["paths"].update(notes_paths())
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    return {"GATEWAY_HTTP__SPEC_FILE": str(spec)}


def test_a_failing_method_opens_its_own_circuit_and_the_backends_other_methods_are_served(
    backend: Backend,
) -> None:
    login = {"email": "ada@example.com", "password": "correct horse"}
    with (
        running_gateway(_env(backend)) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as client,
    ):
        failed = [client.post("/v1/auth/login", json=login) for _ in range(2)]
        refused = client.post("/v1/auth/login", json=login)
        jwks = client.get("/.well-known/jwks.json")
        refreshed = client.post("/v1/auth/refresh", json={"refreshToken": "r" * 40})

    for reply in failed:
        assert assert_problem(reply, 503, "UNAVAILABLE")["detail"] == (
            "AuthService is unavailable; retry later"
        )
    problem = assert_problem(refused, 503, "UNAVAILABLE")
    assert problem["detail"] == (
        "AuthService.Login is unavailable (circuit open for backend auth); retry later"
    )
    assert refused.headers["retry-after"] == "30"
    assert backend.count("Login") == 2  # the refused sign-in never left the gateway
    assert jwks.status_code == 200
    assert jwks.json() == {"keys": [{"kid": "k1"}]}
    assert refreshed.status_code == 200
    assert refreshed.json()["refreshToken"] == "r"


def test_a_contract_without_a_backend_is_one_line_and_503_while_the_rest_is_served(
    backend: Backend, with_notes: dict[str, str]
) -> None:
    with (
        capture_logs() as logs,
        running_gateway(_env(backend, **with_notes)) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as client,
    ):
        note = client.post("/v1/notes", json={"title": "groceries"})
        user = client.get(f"/v1/users/{USER_ID}")
        ready = client.get("/readyz")

    problem = assert_problem(note, 503, "UNAVAILABLE")
    assert NOTES_SERVICE in problem["detail"]
    assert user.status_code == 200
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "backends": {"user": "SERVING", "auth": "SERVING"},
        "unrouted": sorted([NOTES_SERVICE, *OTHERS]),
    }
    warnings = [line["event"] for line in logs if line["log_level"] == "warning"]
    assert len(warnings) == 1 + len(OTHERS)  # one line for each unrouted service
    assert [line for line in warnings if NOTES_SERVICE in line] == [
        f"no backend serves {NOTES_SERVICE}: its 2 routes answer 503 until a backend lists it "
        "([backends.<name>] services, or GATEWAY_BACKENDS__<NAME>__SERVICES with "
        "GATEWAY_BACKENDS__<NAME>__TARGET)"
    ]
    assert backend.count("CreateNote") == 0


def test_a_new_backend_from_the_environment_alone_serves_the_new_contract(
    backend: Backend, with_notes: dict[str, str]
) -> None:
    env = _env(
        backend,
        **with_notes,
        GATEWAY_BACKENDS__NOTES__TARGET=backend.address,
        GATEWAY_BACKENDS__NOTES__SERVICES=NOTES_SERVICE,
    )
    with (
        running_gateway(env) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as client,
    ):
        note = client.post("/v1/notes", json={"title": "groceries"})
        ready = client.get("/readyz")

    assert note.status_code == 200, note.text
    assert note.json() == {"id": "n-1", "title": "groceries"}
    assert ready.json()["backends"] == {"user": "SERVING", "auth": "SERVING", "notes": "SERVING"}


def test_a_service_the_settings_leave_unmapped_answers_503_naming_it(backend: Backend) -> None:
    env = _env(backend, GATEWAY_BACKENDS__AUTH__SERVICES="")
    with (
        running_gateway(env) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as client,
    ):
        login = client.post("/v1/auth/login", json={"email": "a@example.com", "password": "pw"})
        jwks = client.get("/.well-known/jwks.json")
        user = client.get(f"/v1/users/{USER_ID}")
        ready = client.get("/readyz")

    for reply in (login, jwks):
        problem = assert_problem(reply, 503, "UNAVAILABLE")
        assert problem["detail"] == f"no backend serves {AUTH} at this gateway (not configured)"
    assert user.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "backends": {"user": "SERVING"},
        "unrouted": sorted([AUTH, *OTHERS]),
    }


def test_a_backend_naming_a_service_no_contract_declares_refuses_to_start_in_one_line() -> None:
    typo = {"GATEWAY_BACKENDS__USER__SERVICES": f"{USER},acme.user.v1.UsrService"}
    with pytest.raises(RoutingError, match=r"backends\.user serves acme\.user\.v1\.UsrService"):
        create_app(load(env=typo))

    served = subprocess.run(
        [sys.executable, "-m", "services.gateway", "serve"],
        cwd=REPOSITORY,
        env={**os.environ, **typo, "GATEWAY_METRICS__PORT": "0", "GATEWAY_LOGGING__FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert served.returncode == 1
    assert "Traceback" not in served.stderr
    (line,) = [json.loads(text) for text in served.stderr.splitlines() if text.startswith("{")]
    assert line["level"] == "error"
    assert line["event"] == (
        "cannot start: backends.user serves acme.user.v1.UsrService, which no contract declares"
    )
