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
from google.protobuf import duration_pb2
from google.rpc import (  # type: ignore[import-untyped, unused-ignore]  # ships no py.typed
    error_details_pb2,
    status_pb2,
)
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from acme.user.v1 import user_pb2, user_service_pb2
from tests.e2e.gateway._gateway import RunningGateway, assert_problem, running_gateway

USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
TRACE_SERVICE = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name

SLOW = str(uuid.UUID(int=1))
BROKEN = str(uuid.UUID(int=2))
BUSY = str(uuid.UUID(int=3))
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
        if request.id == BUSY:  # what servicekit's error mapping makes of ResourceExhausted
            status = status_pb2.Status(
                code=grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], message="busy hashing; retry"
            )
            retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2))
            status.details.add().Pack(retry)
            context.abort_with_status(rpc_status.to_status(status))
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
    # The garbage is not passed on: a trace of the gateway's own starts instead.
    version, trace_id, span_id, _ = sent["traceparent"].split("-")
    assert version == "00"
    assert len(trace_id) == 32
    assert trace_id != "0" * 32
    assert len(span_id) == 16
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


def test_the_client_address_reaches_the_backend_and_x_forwarded_for_is_not_believed_by_default(
    client: httpx.Client, backend: Backend
) -> None:
    reply = client.get(f"/v1/users/{uuid.uuid4()}", headers={"X-Forwarded-For": "203.0.113.9"})

    assert reply.status_code == 200
    assert backend.users.calls[-1]["x-forwarded-for"] == "127.0.0.1"


def test_behind_a_trusted_proxy_the_forwarded_client_reaches_the_backend(backend: Backend) -> None:
    env = _env(backend, GATEWAY_HTTP__TRUSTED_PROXIES="127.0.0.1/32")
    with (
        running_gateway(env) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=10) as client,
    ):
        reply = client.get(
            f"/v1/users/{uuid.uuid4()}", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
        )

    assert reply.status_code == 200
    assert backend.users.calls[-1]["x-forwarded-for"] == "203.0.113.9"  # the proxy's client


def test_two_authorization_headers_are_refused_before_any_call(
    client: httpx.Client, backend: Backend
) -> None:
    calls = len(backend.users.calls)

    reply = client.get(
        f"/v1/users/{uuid.uuid4()}",
        headers=[("Authorization", "Bearer first.a.b"), ("Authorization", "Bearer second.c.d")],
    )

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert problem["detail"] == "send one Authorization header, not several"
    assert len(backend.users.calls) == calls


def test_an_authorization_header_larger_than_any_token_is_431(
    client: httpx.Client, backend: Backend
) -> None:
    calls = len(backend.users.calls)

    reply = client.get(
        f"/v1/users/{uuid.uuid4()}", headers={"Authorization": "Bearer " + "x" * 8000}
    )

    assert_problem(reply, 431, "RESOURCE_EXHAUSTED")
    assert len(backend.users.calls) == calls


def test_an_oversized_tracestate_is_dropped_not_passed_on(
    client: httpx.Client, backend: Backend
) -> None:
    reply = client.get(
        f"/v1/users/{uuid.uuid4()}",
        headers={"traceparent": TRACEPARENT, "tracestate": "vendor=" + "x" * 8000},
    )

    assert reply.status_code == 200
    sent = backend.users.calls[-1]
    assert sent["traceparent"] == TRACEPARENT
    assert "tracestate" not in sent


def test_a_body_of_thousands_of_nested_arrays_is_a_bad_request(client: httpx.Client) -> None:
    body = '{"email": ' + "[" * 10_000 + "]" * 10_000 + "}"

    reply = client.post("/v1/users", content=body, headers={"content-type": "application/json"})

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert problem["detail"] == "the request body is nested too deeply"


def test_a_busy_backend_is_429_with_its_retry_delay_and_never_opens_the_circuit(
    client: httpx.Client,
) -> None:
    answers = [client.get(f"/v1/users/{BUSY}") for _ in range(8)]  # the breaker opens at 5

    after = client.get(f"/v1/users/{uuid.uuid4()}")

    for answer in answers:
        problem = assert_problem(answer, 429, "RESOURCE_EXHAUSTED")
        assert answer.headers["retry-after"] == "2"
        assert problem["detail"] == "busy hashing; retry"
    assert after.status_code == 200


def test_headers_the_backend_refuses_as_too_large_are_431_without_grpcs_words() -> None:
    limits = [("grpc.max_metadata_size", 1024), ("grpc.absolute_max_metadata_size", 2048)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=limits)
    users = Recorder()
    server.add_generic_rpc_handlers(
        (_service(USER_SERVICE, "GetUser", users.get_user, user_service_pb2.GetUserRequest),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    small = Backend(address=f"127.0.0.1:{port}", users=users, collector=Collector())
    try:
        with (
            running_gateway(_env(small, GATEWAY_BACKENDS__USER__DEADLINE_SECONDS="10")) as gateway,
            httpx.Client(base_url=gateway.base_url, timeout=10) as client,
        ):
            reply = client.get(
                f"/v1/users/{uuid.uuid4()}", headers={"Authorization": "Bearer " + "x" * 4000}
            )
    finally:
        server.stop(0)

    problem = assert_problem(reply, 431, "RESOURCE_EXHAUSTED")
    assert problem["detail"] == "the request's headers are too large for UserService"
    assert "metadata" not in reply.text
