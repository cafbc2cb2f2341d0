"""What reaches the backend, and what the gateway makes of statuses it cannot blame on the
caller: a recording UserService (and OTLP collector) stands in for the real ones."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from acme.user.v1 import user_pb2, user_service_pb2
from tests.e2e.gateway._gateway import RunningGateway, assert_problem, running_gateway

USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
TRACE_SERVICE = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name

SLOW = str(uuid.UUID(int=1))
BROKEN = str(uuid.UUID(int=2))
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


SLOW_SECONDS = 30.0
"""How long the backend takes to answer SLOW, unless its caller gives up first."""


@dataclass
class Recorder:
    """A UserService (GetUser only) that remembers each call's metadata and answers on cue."""

    calls: list[dict[str, str]] = field(default_factory=list)

    def get_user(
        self, request: user_service_pb2.GetUserRequest, context: Any
    ) -> user_service_pb2.GetUserResponse:
        self.calls.append(dict(context.invocation_metadata()))
        if request.id == SLOW:
            caller_gave_up = threading.Event()
            context.add_callback(caller_gave_up.set)  # run when the call ends, answered or not
            caller_gave_up.wait(SLOW_SECONDS)
        if request.id == BROKEN:
            context.abort(grpc.StatusCode.INTERNAL, "db 10.0.0.7 failed: SELECT * FROM users")
        user = user_pb2.User(id=request.id, email="ada@example.com", display_name="Ada")
        return user_service_pb2.GetUserResponse(user=user)


@dataclass
class Collector:
    """An OTLP trace collector that keeps every span it is sent."""

    spans: list[Any] = field(default_factory=list)

    def export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(scope.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


@dataclass
class Backend:
    address: str
    users: Recorder
    collector: Collector


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    users, collector = Recorder(), Collector()
    server.add_generic_rpc_handlers(
        (
            _service(USER_SERVICE, "GetUser", users.get_user, user_service_pb2.GetUserRequest),
            _service(
                TRACE_SERVICE,
                "Export",
                collector.export,
                trace_service_pb2.ExportTraceServiceRequest,
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield Backend(address=f"127.0.0.1:{port}", users=users, collector=collector)
    finally:
        server.stop(0)


def _service(service: str, method: str, handler: Any, request_class: Any) -> Any:
    """A generic handler serving one unary method of ``service``."""
    rpc = grpc.unary_unary_rpc_method_handler(
        handler,
        request_deserializer=request_class.FromString,
        response_serializer=lambda reply: reply.SerializeToString(),
    )
    return grpc.method_handlers_generic_handler(service, {method: rpc})


def _env(backend: Backend, **extra: str) -> dict[str, str]:
    return {
        "GATEWAY_HTTP__PORT": "0",
        "GATEWAY_METRICS__ENABLED": "false",
        "GATEWAY_BACKENDS__USER__TARGET": backend.address,
        "GATEWAY_BACKENDS__USER__DEADLINE_SECONDS": "0.3",
        "GATEWAY_BACKENDS__USER__MAX_ATTEMPTS": "1",
        "GATEWAY_BACKENDS__AUTH__TARGET": backend.address,
        **extra,
    }


@pytest.fixture(scope="module")
def gateway(backend: Backend) -> Iterator[RunningGateway]:
    with running_gateway(_env(backend)) as running:
        yield running


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.base_url, timeout=10) as http:
        yield http


def test_credentials_request_id_and_trace_context_reach_the_backend(
    client: httpx.Client, backend: Backend
) -> None:
    reply = client.get(
        f"/v1/users/{uuid.uuid4()}",
        headers={
            "Authorization": "Bearer abc.def.ghi",
            "x-request-id": "req-123",
            "traceparent": TRACEPARENT,
            "tracestate": "vendor=opaque",
        },
    )

    assert reply.status_code == 200
    sent = backend.users.calls[-1]
    assert sent["authorization"] == "Bearer abc.def.ghi"
    assert sent["x-request-id"] == reply.headers["x-request-id"] == "req-123"
    assert sent["traceparent"] == TRACEPARENT
    assert sent["tracestate"] == "vendor=opaque"


def test_a_generated_request_id_is_the_one_the_backend_sees(
    client: httpx.Client, backend: Backend
) -> None:
    reply = client.get(f"/v1/users/{uuid.uuid4()}", headers={"traceparent": "garbage"})

    sent = backend.users.calls[-1]
    assert sent["x-request-id"] == reply.headers["x-request-id"]
    assert "traceparent" not in sent
    assert "authorization" not in sent


def test_a_backend_slower_than_the_deadline_is_a_gateway_timeout(client: httpx.Client) -> None:
    started = time.monotonic()

    reply = client.get(f"/v1/users/{SLOW}")

    problem = assert_problem(reply, 504, "DEADLINE_EXCEEDED")
    assert time.monotonic() - started < 10  # after the 0.3 s deadline, not the 30 s answer
    assert problem["detail"] == "UserService did not answer in time"


def test_an_internal_error_says_nothing_of_its_cause(client: httpx.Client) -> None:
    reply = client.get(f"/v1/users/{BROKEN}")

    problem = assert_problem(reply, 500, "INTERNAL")
    assert "10.0.0.7" not in reply.text
    assert "SELECT" not in reply.text
    assert problem["detail"] == "UserService failed the call (INTERNAL)"


def test_with_tracing_on_the_backend_is_a_child_of_the_gateways_span(backend: Backend) -> None:
    env = _env(backend, GATEWAY_TRACING__OTLP_ENDPOINT=f"http://{backend.address}")
    with (
        running_gateway(env) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as client,
    ):
        client.get(f"/v1/users/{uuid.uuid4()}", headers={"traceparent": TRACEPARENT})
        sent = backend.users.calls[-1]
    # The spans are flushed when the gateway stops.

    version, trace_id, parent_id, flags = sent["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    span = next(s for s in backend.collector.spans if s.span_id.hex() == parent_id)
    assert span.trace_id.hex() == TRACE_ID
    assert span.name == "GET /v1/users/{id}"
    assert span.parent_span_id.hex() == "00f067aa0ba902b7"
