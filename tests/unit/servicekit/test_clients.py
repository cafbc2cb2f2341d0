"""servicekit.clients: channels to a real server on port 0, through the generated stubs."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from prometheus_client import CollectorRegistry

from acme.user.v1 import user_service_pb2, user_service_pb2_grpc
from servicekit import errors
from servicekit.clients import (
    BreakerState,
    ClientSettings,
    DependencyError,
    ManagedChannel,
    RefreshingToken,
    StaticToken,
    open_channel,
    service_config,
    translate_rpc_error,
)
from servicekit.config import Secret, load_settings
from servicekit.grpc import ErrorMappingInterceptor, GrpcSettings
from servicekit.grpc.context import bind_request_id, reset_request_id
from tests.unit.servicekit._scripted_user_service import SERVICE_NAME, ScriptedUserService, serving

GET_USER = "/acme.user.v1.UserService/GetUser"


def settings_for(port: int, **overrides: Any) -> ClientSettings:
    """Production settings but short backoffs, so retries cost milliseconds."""
    fast = {"initial_backoff_seconds": 0.01, "max_backoff_seconds": 0.05}
    return ClientSettings(target=f"127.0.0.1:{port}", **{**fast, **overrides})


@contextmanager
def channel(settings: ClientSettings, **kwargs: Any) -> Iterator[ManagedChannel]:
    managed = open_channel(settings, service_name=SERVICE_NAME, **kwargs)
    try:
        yield managed
    finally:
        managed.close()


def get_user(managed: ManagedChannel, user_id: str, **kwargs: Any) -> Any:
    stub = user_service_pb2_grpc.UserServiceStub(managed.channel)
    return stub.GetUser(user_service_pb2.GetUserRequest(id=user_id), **kwargs)


def state_of(managed: ManagedChannel) -> BreakerState:
    """The breaker's state, read afresh (a function, so type checkers do not pin it)."""
    return managed.breaker.state


def code_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    code: grpc.StatusCode = caught.value.code()
    return code


def test_a_call_without_a_deadline_gets_the_settings_deadline_and_one_with_keeps_its_own() -> None:
    servicer = ScriptedUserService()
    with serving(servicer) as server, channel(settings_for(server.port, deadline_seconds=1.5)) as c:
        get_user(c, "u-1")
        get_user(c, "u-2", timeout=30)

    defaulted, explicit = (seen.time_remaining for seen in servicer.calls)
    assert defaulted is not None
    assert 0.5 < defaulted <= 1.6  # grpc's clock may round the deadline up a little
    assert explicit is not None
    assert 20 < explicit <= 30.5


def test_unavailable_is_retried_until_the_callee_answers() -> None:
    servicer = ScriptedUserService(flaky_failures=2)
    with serving(servicer) as server, channel(settings_for(server.port)) as c:
        response = get_user(c, "flaky")

    assert response.user.id == "flaky"
    assert servicer.call_count == 3


def test_retries_stop_at_max_attempts() -> None:
    servicer = ScriptedUserService(flaky_failures=10)
    with serving(servicer) as server, channel(settings_for(server.port, max_attempts=3)) as c:
        assert code_of(lambda: get_user(c, "flaky")) is grpc.StatusCode.UNAVAILABLE

    assert servicer.call_count == 3


def test_not_found_is_an_answer_and_is_not_retried() -> None:
    servicer = ScriptedUserService()
    with serving(servicer) as server, channel(settings_for(server.port)) as c:
        assert code_of(lambda: get_user(c, "missing")) is grpc.StatusCode.NOT_FOUND

    assert servicer.call_count == 1


def test_the_retry_policy_retries_unavailable_only() -> None:
    config = service_config(ClientSettings(target="user:50051"), SERVICE_NAME)

    assert config == {
        "methodConfig": [
            {
                "name": [{"service": SERVICE_NAME}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2.0,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
    single = service_config(ClientSettings(target="user:50051", max_attempts=1), SERVICE_NAME)
    assert "retryPolicy" not in json.dumps(single)


def traceparent(metadata: dict[str, str]) -> tuple[str, str, bool]:
    """(trace id, parent span id, sampled) of a W3C traceparent header."""
    version, trace_id, span_id, flags = metadata["traceparent"].split("-")
    assert version == "00"
    return trace_id, span_id, bool(int(flags, 16) & 1)


def test_the_request_id_and_the_trace_of_the_call_being_served_reach_the_callee() -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    servicer = ScriptedUserService()
    with (
        serving(servicer) as server,
        channel(settings_for(server.port), tracer_provider=provider) as c,
        provider.get_tracer("test").start_as_current_span("incoming call") as incoming,
    ):
        token = bind_request_id("req-7f3a")
        try:
            get_user(c, "u-1")
        finally:
            reset_request_id(token)

    [client_span] = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]
    metadata = servicer.calls[0].metadata
    assert metadata["x-request-id"] == "req-7f3a"
    assert traceparent(metadata) == (
        format_trace_id(incoming.get_span_context().trace_id),
        format_span_id(client_span.context.span_id),
        True,
    )
    assert client_span.name == GET_USER
    assert client_span.parent is not None
    assert client_span.parent.span_id == incoming.get_span_context().span_id


def test_without_a_tracer_provider_the_incoming_trace_still_goes_on() -> None:
    servicer = ScriptedUserService()
    with (
        serving(servicer) as server,
        channel(settings_for(server.port)) as c,
        TracerProvider().get_tracer("test").start_as_current_span("incoming call") as incoming,
    ):
        get_user(c, "u-1")

    context = incoming.get_span_context()
    assert traceparent(servicer.calls[0].metadata) == (
        format_trace_id(context.trace_id),
        format_span_id(context.span_id),
        True,
    )


def test_a_call_outside_any_request_sends_no_request_id_or_trace() -> None:
    servicer = ScriptedUserService()
    with serving(servicer) as server, channel(settings_for(server.port)) as c:
        get_user(c, "u-1")

    assert "x-request-id" not in servicer.calls[0].metadata
    assert "traceparent" not in servicer.calls[0].metadata


def test_the_service_sends_its_own_token_with_every_call() -> None:
    servicer = ScriptedUserService()
    token = StaticToken(Secret("auth-service-token"))
    with serving(servicer) as server, channel(settings_for(server.port), credentials=token) as c:
        get_user(c, "u-1")
        get_user(c, "u-2")

    assert [seen.metadata["authorization"] for seen in servicer.calls] == [
        "Bearer auth-service-token",
        "Bearer auth-service-token",
    ]


def test_a_users_token_is_never_forwarded_through_a_channel_with_an_identity() -> None:
    servicer = ScriptedUserService()
    token = StaticToken(Secret("auth-service-token"))
    with (
        serving(servicer) as server,
        channel(settings_for(server.port), credentials=token) as c,
        pytest.raises(ValueError, match="calls as the service itself"),
    ):
        get_user(c, "u-1", metadata=(("authorization", "Bearer a-users-token"),))

    assert servicer.call_count == 0


def test_a_refreshing_token_is_minted_again_before_it_expires() -> None:
    now = [0.0]
    minted: list[str] = []

    def mint() -> str:
        minted.append(f"token-{len(minted)}")
        return minted[-1]

    token = RefreshingToken(
        mint, lifetime_seconds=300, refresh_margin_seconds=30, clock=lambda: now[0]
    )
    first = token.token()
    now[0] = 269.0
    still = token.token()
    now[0] = 270.0
    renewed = token.token()

    assert (first, still, renewed) == ("token-0", "token-0", "token-1")


@contextmanager
def opened_by_a_stopped_server(
    servicer: ScriptedUserService, **overrides: Any
) -> Iterator[tuple[ManagedChannel, int]]:
    """A channel that got one answer, then three UNAVAILABLE once its server stopped: its
    breaker is open. Yields the channel and the port the server had."""
    settings = settings_for(0, breaker_failure_threshold=3, **overrides)
    with serving(servicer) as server:
        port = server.port
        managed = open_channel(
            dataclasses.replace(settings, target=f"127.0.0.1:{port}"), service_name=SERVICE_NAME
        )
        get_user(managed, "u-1")
    try:
        for _ in range(3):
            assert code_of(lambda: get_user(managed, "u-2")) is grpc.StatusCode.UNAVAILABLE
        assert state_of(managed) is BreakerState.OPEN
        yield managed, port
    finally:
        managed.close()


def test_an_open_breaker_refuses_at_once_and_sends_nothing_to_the_server_that_is_back() -> None:
    servicer = ScriptedUserService()
    with (
        opened_by_a_stopped_server(servicer, breaker_reset_seconds=30) as (managed, port),
        serving(servicer, settings=GrpcSettings(port=port, max_workers=4)),
    ):
        started = time.monotonic()
        with pytest.raises(errors.Unavailable, match=r"UserService unavailable \(circuit"):
            get_user(managed, "u-3")
        assert time.monotonic() - started < 10  # not held until the 30 s reset
        assert code_of(lambda: get_user(managed, "u-3")) is grpc.StatusCode.UNAVAILABLE
        assert state_of(managed) is BreakerState.OPEN
    assert [seen.method for seen in servicer.calls] == ["GetUser"]  # the one before the stop


def test_an_open_breaker_closes_once_its_server_is_back_and_the_reset_is_over() -> None:
    servicer = ScriptedUserService()
    with (
        opened_by_a_stopped_server(servicer, breaker_reset_seconds=0.5) as (managed, port),
        serving(servicer, settings=GrpcSettings(port=port, max_workers=4)),
    ):
        time.sleep(0.5)
        assert get_user(managed, "u-4").user.id == "u-4"
        assert state_of(managed) is BreakerState.CLOSED
    assert [seen.method for seen in servicer.calls] == ["GetUser", "GetUser"]


def test_answers_that_are_not_outages_never_open_the_breaker() -> None:
    servicer = ScriptedUserService()
    settings = settings_for(0, breaker_failure_threshold=2)
    with (
        serving(servicer) as server,
        channel(dataclasses.replace(settings, target=f"127.0.0.1:{server.port}")) as c,
    ):
        for _ in range(4):
            assert code_of(lambda: get_user(c, "missing")) is grpc.StatusCode.NOT_FOUND
        assert state_of(c) is BreakerState.CLOSED


def test_client_metrics_use_the_go_grpc_prometheus_names() -> None:
    registry = CollectorRegistry()
    servicer = ScriptedUserService()
    labels = {"grpc_type": "unary", "grpc_service": SERVICE_NAME, "grpc_method": "GetUser"}
    with serving(servicer) as server:
        target = settings_for(server.port)
        with channel(target, registry=registry) as c, channel(target, registry=registry) as again:
            get_user(c, "u-1")
            code_of(lambda: get_user(again, "missing"))

    def sample(name: str, **extra: str) -> float | None:
        return registry.get_sample_value(name, {**labels, **extra})

    assert sample("grpc_client_started_total") == 2
    assert sample("grpc_client_handled_total", grpc_code="OK") == 1
    assert sample("grpc_client_handled_total", grpc_code="NOT_FOUND") == 1
    assert sample("grpc_client_msg_sent_total") == 2
    assert sample("grpc_client_msg_received_total") == 1
    assert sample("grpc_client_handling_seconds_count") == 2


def test_a_call_the_breaker_refuses_counts_as_unavailable() -> None:
    registry = CollectorRegistry()
    with serving(ScriptedUserService()) as server:
        port = server.port
    settings = settings_for(port, breaker_failure_threshold=1, max_attempts=1)
    with channel(settings, registry=registry) as c:
        code_of(lambda: get_user(c, "u-1"))
        with pytest.raises(errors.Unavailable):
            get_user(c, "u-1")

    handled = registry.get_sample_value(
        "grpc_client_handled_total",
        {
            "grpc_type": "unary",
            "grpc_service": SERVICE_NAME,
            "grpc_method": "GetUser",
            "grpc_code": "UNAVAILABLE",
        },
    )
    assert handled == 2


@dataclass
class FakeRpcError(grpc.RpcError):  # type: ignore[misc]  # grpcio has no stubs
    status: grpc.StatusCode
    text: str = "user 42 at 10.1.2.3:5432 said: SELECT ... failed"

    def code(self) -> grpc.StatusCode:
        return self.status

    def details(self) -> str:
        return self.text


@pytest.mark.parametrize(
    ("code", "expected", "message"),
    [
        (grpc.StatusCode.UNAVAILABLE, errors.Unavailable, "UserService unavailable"),
        (
            grpc.StatusCode.DEADLINE_EXCEEDED,
            errors.DeadlineExceeded,
            "UserService did not answer in time",
        ),
        (grpc.StatusCode.NOT_FOUND, errors.NotFound, "UserService: not found"),
        (grpc.StatusCode.ALREADY_EXISTS, errors.AlreadyExists, "UserService: already exists"),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            errors.InvalidArgument,
            "UserService rejected the request as invalid",
        ),
        (
            grpc.StatusCode.FAILED_PRECONDITION,
            errors.FailedPrecondition,
            "UserService cannot do this in its current state",
        ),
        (grpc.StatusCode.ABORTED, errors.Conflict, "UserService reported a conflict; retry"),
        (
            grpc.StatusCode.PERMISSION_DENIED,
            DependencyError,
            "UserService failed the call with PERMISSION_DENIED",
        ),
        (
            grpc.StatusCode.UNAUTHENTICATED,
            DependencyError,
            "UserService failed the call with UNAUTHENTICATED",
        ),
        (grpc.StatusCode.INTERNAL, DependencyError, "UserService failed the call with INTERNAL"),
    ],
)
def test_a_dependencys_status_becomes_a_domain_error_that_hides_its_message(
    code: grpc.StatusCode, expected: type[errors.ServiceError], message: str
) -> None:
    translated = translate_rpc_error(FakeRpcError(code), "UserService")

    assert type(translated) is expected
    assert translated.message == message
    # At this service's edge: the same status, or INTERNAL (unmapped) for its own faults.
    edge = ErrorMappingInterceptor().code_for(type(translated))
    assert edge is (None if expected is DependencyError else code)


def test_resource_exhausted_keeps_the_dependencys_retry_delay() -> None:
    servicer = ScriptedUserService()
    with (
        serving(servicer, interceptors=[ErrorMappingInterceptor()]) as server,
        channel(settings_for(server.port)) as c,
        pytest.raises(grpc.RpcError) as caught,
    ):
        get_user(c, "busy")

    translated = c.translate(caught.value)
    assert isinstance(translated, errors.ResourceExhausted)
    assert translated.message == "UserService is over its limits"
    assert translated.retry_after == 3.0


def test_impossible_client_settings_are_all_reported_at_once() -> None:
    with pytest.raises(ValueError, match="target") as caught:
        ClientSettings(
            target=" ",
            deadline_seconds=0,
            max_attempts=6,
            max_backoff_seconds=0.01,
            breaker_failure_threshold=0,
        )

    message = str(caught.value)
    for part in ("deadline_seconds", "max_attempts must be 1..5", "max_backoff", "breaker"):
        assert part in message


@dataclass(frozen=True, kw_only=True, slots=True)
class CallerSettings:
    user_client: ClientSettings


def test_client_settings_load_from_settings_toml_and_the_environment(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text(
        '[user_client]\ntarget = "127.0.0.1:50051"\ndeadline_seconds = 0.5\n'
    )
    env = {
        "AUTH_USER_CLIENT__TARGET": "user:50051",
        "AUTH_USER_CLIENT__TLS__ENABLED": "true",
        "AUTH_USER_CLIENT__TLS__CA_FILE": "/etc/tls/ca.pem",
    }

    settings = load_settings(CallerSettings, service_dir=tmp_path, prefix="AUTH", env=env)

    assert settings.user_client.target == "user:50051"
    assert settings.user_client.deadline_seconds == 0.5
    assert settings.user_client.tls.enabled
    assert settings.user_client.tls.ca_file == "/etc/tls/ca.pem"


def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_future_calls_report_to_the_breaker_and_the_metrics_when_they_finish() -> None:
    registry = CollectorRegistry()

    def handled(code: str) -> float | None:
        labels = {"grpc_type": "unary", "grpc_service": SERVICE_NAME, "grpc_method": "GetUser"}
        return registry.get_sample_value("grpc_client_handled_total", {**labels, "grpc_code": code})

    servicer = ScriptedUserService()
    with serving(servicer) as server:
        port = server.port
        settings = settings_for(port, breaker_failure_threshold=1, max_attempts=1)
        with channel(settings, registry=registry) as c:
            stub = user_service_pb2_grpc.UserServiceStub(c.channel)
            assert stub.GetUser.future(user_service_pb2.GetUserRequest(id="u-1")).result().user
    with channel(settings, registry=registry) as c:
        stub = user_service_pb2_grpc.UserServiceStub(c.channel)
        failed = stub.GetUser.future(user_service_pb2.GetUserRequest(id="u-2"))
        assert failed.exception(timeout=5).code() is grpc.StatusCode.UNAVAILABLE
        # grpc runs done-callbacks just after it wakes the waiters: give them a moment.
        assert eventually(lambda: state_of(c) is BreakerState.OPEN)
        assert eventually(lambda: handled("UNAVAILABLE") == 1)
        refused = stub.GetUser.future(user_service_pb2.GetUserRequest(id="u-3"))
        with pytest.raises(errors.Unavailable, match="circuit open"):
            refused.result()

    assert (handled("OK"), handled("UNAVAILABLE")) == (1, 2)
