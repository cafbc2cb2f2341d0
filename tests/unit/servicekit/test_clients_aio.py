"""servicekit.clients' asyncio face: grpc.aio channels to a real server on port 0.

The same promises as the synchronous face (``test_clients.py``), kept by grpc.aio client
interceptors, with one circuit breaker per method; what a finished call says about the
dependency is one rule for both faces (``servicekit.clients.outcomes``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id
from prometheus_client import CollectorRegistry

from acme.user.v1 import user_pb2, user_service_pb2
from servicekit import errors
from servicekit.clients import (
    AioCircuitOpenError,
    BreakerState,
    CircuitBreaker,
    ClientSettings,
    ManagedAioChannel,
    MethodBreakers,
    StaticToken,
    open_aio_channel,
    open_channel,
)
from servicekit.clients.outcomes import report_outcome
from servicekit.config import Secret
from servicekit.grpc.context import bind_request_id, reset_request_id

SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
GET_USER = f"/{SERVICE}/GetUser"
VERIFY = f"/{SERVICE}/VerifyCredentials"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@dataclass
class Seen:
    method: str
    metadata: dict[str, str]
    time_remaining: float | None


@dataclass
class Backend:
    """GetUser by id: ``down`` fails with UNAVAILABLE, ``missing`` with NOT_FOUND, ``slow``
    waits until ``release`` is set; any other id answers. VerifyCredentials answers."""

    port: int = 0
    calls: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def methods(self, method: str) -> list[str]:
        return [seen.method for seen in self.calls if seen.method == method]

    def get_user(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._record("GetUser", context)
        if request.id == "down":
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        if request.id == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, "no such user")
        if request.id == "slow":
            self.release.wait(10)
        return user_service_pb2.GetUserResponse(user=user_pb2.User(id=request.id))

    def verify(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._record("VerifyCredentials", context)
        return user_service_pb2.VerifyCredentialsResponse(user=user_pb2.User(id="u-1"))

    def _record(self, method: str, context: grpc.ServicerContext) -> None:
        metadata = {key: str(value) for key, value in context.invocation_metadata()}
        self.calls.append(Seen(method, metadata, context.time_remaining()))


@contextmanager
def serving() -> Iterator[Backend]:
    backend = Backend()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {
        "GetUser": grpc.unary_unary_rpc_method_handler(
            backend.get_user,
            request_deserializer=user_service_pb2.GetUserRequest.FromString,
            response_serializer=user_service_pb2.GetUserResponse.SerializeToString,
        ),
        "VerifyCredentials": grpc.unary_unary_rpc_method_handler(
            backend.verify,
            request_deserializer=user_service_pb2.VerifyCredentialsRequest.FromString,
            response_serializer=user_service_pb2.VerifyCredentialsResponse.SerializeToString,
        ),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    backend.port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield backend
    finally:
        backend.release.set()
        server.stop(0)


def settings_for(port: int, **overrides: Any) -> ClientSettings:
    fast = {"initial_backoff_seconds": 0.01, "max_backoff_seconds": 0.05, "max_attempts": 1}
    return ClientSettings(target=f"127.0.0.1:{port}", **{**fast, **overrides})


def run(
    settings: ClientSettings, scenario: Callable[[ManagedAioChannel], Awaitable[Any]], **kw: Any
) -> Any:
    """``scenario`` on a fresh event loop, with a channel opened on it (closed after)."""

    async def main() -> Any:
        managed = open_aio_channel(settings, service_names=[SERVICE], **kw)
        try:
            return await scenario(managed)
        finally:
            await managed.close()

    return asyncio.run(main())


async def get_user(managed: ManagedAioChannel, user_id: str, **kwargs: Any) -> Any:
    call = managed.unary_unary(
        GET_USER,
        user_service_pb2.GetUserRequest.SerializeToString,
        user_service_pb2.GetUserResponse.FromString,
    )
    return await call(user_service_pb2.GetUserRequest(id=user_id), **kwargs)


async def verify(managed: ManagedAioChannel) -> Any:
    call = managed.unary_unary(
        VERIFY,
        user_service_pb2.VerifyCredentialsRequest.SerializeToString,
        user_service_pb2.VerifyCredentialsResponse.FromString,
    )
    return await call(user_service_pb2.VerifyCredentialsRequest(email="a@example.com"))


async def code_of(call: Awaitable[Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    code: grpc.StatusCode = caught.value.code()
    return code


def test_a_call_without_a_deadline_gets_the_settings_deadline_and_one_with_keeps_its_own() -> None:
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            await get_user(managed, "u-1")
            await get_user(managed, "u-2", timeout=30)

        run(settings_for(backend.port, deadline_seconds=1.5), scenario)

    defaulted, own = (seen.time_remaining or 0 for seen in backend.calls)
    assert 0 < defaulted <= 1.6
    assert own > 20


def test_the_request_id_and_the_trace_being_served_reach_the_callee() -> None:
    traceparent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            token = bind_request_id("req-42")
            context = otel_context.attach(
                trace.set_span_in_context(
                    trace.NonRecordingSpan(
                        trace.SpanContext(
                            int(TRACE_ID, 16),
                            0x00F067AA0BA902B7,
                            is_remote=True,
                            trace_flags=trace.TraceFlags(1),
                        )
                    )
                )
            )
            try:
                await get_user(managed, "u-1")
                await get_user(managed, "u-2", metadata=(("x-request-id", "callers-own"),))
            finally:
                otel_context.detach(context)
                reset_request_id(token)
            await get_user(managed, "u-3")  # outside any request

        run(settings_for(backend.port), scenario)

    served, own, outside = (seen.metadata for seen in backend.calls)
    assert served["x-request-id"] == "req-42"
    assert served["traceparent"] == traceparent
    assert own["x-request-id"] == "callers-own"
    assert "x-request-id" not in outside
    assert "traceparent" not in outside


def test_a_traceparent_the_call_carries_is_passed_on_as_it_came() -> None:
    theirs = f"01-{TRACE_ID}-00f067aa0ba902b7-00"
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            await get_user(managed, "u-1", metadata=(("traceparent", theirs),))

        run(settings_for(backend.port), scenario)

    assert backend.calls[0].metadata["traceparent"] == theirs


def test_with_a_tracer_provider_each_call_is_a_client_span_and_the_callees_parent() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            await get_user(managed, "u-1")

        run(settings_for(backend.port), scenario, tracer_provider=provider)

    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.CLIENT
    assert span.context is not None
    assert backend.calls[0].metadata["traceparent"].split("-")[2] == format_span_id(
        span.context.span_id
    )


def test_the_service_sends_its_own_token_and_refuses_to_forward_another() -> None:
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            await get_user(managed, "u-1")
            with pytest.raises(ValueError, match="calls as the service itself"):
                await get_user(managed, "u-2", metadata=(("authorization", "Bearer user"),))

        run(
            settings_for(backend.port),
            scenario,
            credentials=StaticToken(Secret("service-token")),
        )

    assert [seen.metadata["authorization"] for seen in backend.calls] == ["Bearer service-token"]


def test_client_metrics_use_the_go_grpc_prometheus_names() -> None:
    registry = CollectorRegistry()
    labels = {"grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "GetUser"}
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            await get_user(managed, "u-1")
            assert await code_of(get_user(managed, "missing")) is grpc.StatusCode.NOT_FOUND

        run(settings_for(backend.port), scenario, registry=registry)

    def sample(name: str, **extra: str) -> float | None:
        return registry.get_sample_value(name, {**labels, **extra})

    assert sample("grpc_client_started_total") == 2
    assert sample("grpc_client_handled_total", grpc_code="OK") == 1
    assert sample("grpc_client_handled_total", grpc_code="NOT_FOUND") == 1
    assert sample("grpc_client_msg_sent_total") == 2
    assert sample("grpc_client_msg_received_total") == 1
    assert sample("grpc_client_handling_seconds_count") == 2


def test_a_failing_method_opens_its_own_circuit_and_the_others_are_still_served() -> None:
    registry = CollectorRegistry()
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            for _ in range(2):
                assert await code_of(get_user(managed, "down")) is grpc.StatusCode.UNAVAILABLE
            with pytest.raises(AioCircuitOpenError) as refused:
                await get_user(managed, "u-1")
            assert isinstance(refused.value, errors.Unavailable)
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
            assert refused.value.method == GET_USER
            assert "UserService.GetUser unavailable (circuit open)" in refused.value.message
            assert (await verify(managed)).user.id == "u-1"
            assert managed.breakers.states() == {
                GET_USER: BreakerState.OPEN,
                VERIFY: BreakerState.CLOSED,
            }

        run(
            settings_for(backend.port, breaker_failure_threshold=2, breaker_reset_seconds=30),
            scenario,
            registry=registry,
        )

    assert backend.methods("GetUser") == ["GetUser", "GetUser"]  # the refused one never left
    assert backend.methods("VerifyCredentials") == ["VerifyCredentials"]
    handled = registry.get_sample_value(
        "grpc_client_handled_total",
        {"grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "GetUser"}
        | {"grpc_code": "UNAVAILABLE"},
    )
    assert handled == 3


def test_answers_that_are_not_outages_never_open_the_circuit() -> None:
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            for _ in range(4):
                assert await code_of(get_user(managed, "missing")) is grpc.StatusCode.NOT_FOUND
            assert managed.breakers.states() == {GET_USER: BreakerState.CLOSED}

        run(settings_for(backend.port, breaker_failure_threshold=2), scenario)


def test_health_checks_pass_the_breakers_untouched() -> None:
    breakers = MethodBreakers(1, 5.0, services=[SERVICE])

    assert breakers.for_method("/grpc.health.v1.Health/Check") is None
    assert breakers.for_method(GET_USER) is breakers.for_method(GET_USER)
    assert breakers.for_method(GET_USER) is not breakers.for_method(VERIFY)


def test_a_call_the_caller_cancels_is_counted_as_cancelled() -> None:
    registry = CollectorRegistry()
    with serving() as backend:

        async def scenario(managed: ManagedAioChannel) -> None:
            slow = asyncio.ensure_future(get_user(managed, "slow"))
            while not backend.calls:
                await asyncio.sleep(0.01)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert managed.breakers.states() == {GET_USER: BreakerState.CLOSED}

        run(settings_for(backend.port), scenario, registry=registry)

    cancelled = registry.get_sample_value(
        "grpc_client_handled_total",
        {"grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "GetUser"}
        | {"grpc_code": "CANCELLED"},
    )
    assert cancelled == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("code", "state_after_trial"),
    [
        (grpc.StatusCode.UNAVAILABLE, BreakerState.OPEN),
        (grpc.StatusCode.DEADLINE_EXCEEDED, BreakerState.OPEN),
        (grpc.StatusCode.CANCELLED, BreakerState.HALF_OPEN),
        (grpc.StatusCode.NOT_FOUND, BreakerState.CLOSED),
        (grpc.StatusCode.INTERNAL, BreakerState.CLOSED),
        (grpc.StatusCode.OK, BreakerState.CLOSED),
    ],
)
def test_one_rule_says_what_a_finished_call_tells_the_breaker(
    code: grpc.StatusCode, state_after_trial: BreakerState
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 5.0, clock)
    breaker.record_failure(breaker.acquire())
    clock.now = 5.0
    trial = breaker.acquire()

    report_outcome(breaker, trial, code)

    assert breaker.state is state_after_trial
    if code is grpc.StatusCode.CANCELLED:  # no verdict: the next call is the trial
        assert breaker.acquire().trial


def test_a_cancelled_trial_hands_its_slot_to_the_next_call_on_both_faces() -> None:
    """CANCELLED is the caller's doing on both faces: the trial's permit is released."""
    with serving() as backend:
        settings = settings_for(
            backend.port, breaker_failure_threshold=1, breaker_reset_seconds=0.2
        )
        request = user_service_pb2.GetUserRequest
        with open_channel(settings, service_name=SERVICE) as sync:
            get = sync.channel.unary_unary(
                GET_USER,
                request_serializer=request.SerializeToString,
                response_deserializer=user_service_pb2.GetUserResponse.FromString,
            )
            with pytest.raises(grpc.RpcError):
                get(request(id="down"))
            time.sleep(0.25)  # past the reset: the next call is the trial
            trial = get.future(request(id="slow"))
            assert _eventually(lambda: len(backend.methods("GetUser")) == 2)
            trial.cancel()
            assert _eventually(lambda: not _trial_in_flight(sync.breaker))
            assert sync.breaker.state is BreakerState.HALF_OPEN  # no verdict, not a success

        async def scenario(managed: ManagedAioChannel) -> None:
            assert await code_of(get_user(managed, "down")) is grpc.StatusCode.UNAVAILABLE
            await asyncio.sleep(0.25)
            trial = asyncio.ensure_future(get_user(managed, "slow"))
            while len(backend.methods("GetUser")) < 4:
                await asyncio.sleep(0.01)
            breaker = managed.breakers.for_method(GET_USER)
            assert breaker is not None
            assert _trial_in_flight(breaker)
            trial.cancel()
            with pytest.raises(asyncio.CancelledError):
                await trial
            assert not _trial_in_flight(breaker)
            assert breaker.state is BreakerState.HALF_OPEN

        run(settings, scenario)


def _trial_in_flight(breaker: CircuitBreaker) -> bool:
    """Whether a trial holds the half-open slot: a new call would be refused."""
    try:
        permit = breaker.acquire()
    except errors.Unavailable:
        return True
    breaker.release(permit)
    return False


def _eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
