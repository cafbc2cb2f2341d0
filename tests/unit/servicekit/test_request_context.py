"""RequestContextInterceptor: a request id per call, echoed back, and one summary line."""

from __future__ import annotations

import re
import uuid

import grpc
import pytest
import structlog
from grpc_health.v1 import health_pb2
from structlog.typing import EventDict

from servicekit.grpc.context import current_request_id
from servicekit.grpc.interceptors.request_context import (
    REQUEST_ID_HEADER,
    RequestContextInterceptor,
)
from tests.unit.servicekit._observed_server import GET_USER, eventually, get_user, serving

HEX_ID = re.compile(r"[0-9a-f]{32}")


def rpc_lines(logs: list[EventDict]) -> list[EventDict]:
    return [line for line in logs if line["event"] == "rpc"]


def test_an_ok_call_writes_one_summary_line_with_method_code_duration_peer_and_request_id() -> None:
    with (
        serving([RequestContextInterceptor()]) as served,
        structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as logs,
    ):
        code, metadata = get_user(served)

    assert code == grpc.StatusCode.OK
    [summary] = rpc_lines(logs)
    assert summary["method"] == GET_USER
    assert summary["code"] == "OK"
    assert summary["log_level"] == "info"
    assert isinstance(summary["duration_ms"], float)
    assert summary["duration_ms"] >= 0
    assert summary["peer"].startswith(("ipv4:127.0.0.1:", "ipv6:"))
    assert summary["request_id"] == metadata[REQUEST_ID_HEADER]


def test_the_callers_request_id_is_used_echoed_and_visible_to_the_handler() -> None:
    with serving([RequestContextInterceptor()]) as served:
        _, metadata = get_user(served, metadata=[(REQUEST_ID_HEADER, "gw-42.retry_1")])

    assert metadata[REQUEST_ID_HEADER] == "gw-42.retry_1"
    assert served.servicer.seen_request_ids == ["gw-42.retry_1"]


@pytest.mark.parametrize(
    "bad_id",
    ["", "has space", "x" * 129, "back\\slash", 'a"}{"level":"critical'],
    ids=["empty", "space", "too-long", "backslash", "json-injection"],
)
def test_a_malformed_request_id_is_replaced_by_a_fresh_one(bad_id: str) -> None:
    with (
        serving([RequestContextInterceptor()]) as served,
        structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as logs,
    ):
        _, metadata = get_user(served, metadata=[(REQUEST_ID_HEADER, bad_id)])

    echoed = metadata[REQUEST_ID_HEADER]
    assert HEX_ID.fullmatch(echoed)
    assert rpc_lines(logs)[0]["request_id"] == echoed


def test_calls_without_a_request_id_get_distinct_random_uuids() -> None:
    with serving([RequestContextInterceptor()]) as served:
        first = get_user(served)[1][REQUEST_ID_HEADER]
        second = get_user(served)[1][REQUEST_ID_HEADER]

    assert HEX_ID.fullmatch(first)
    assert first != second
    for request_id in (first, second):
        as_uuid = uuid.UUID(hex=request_id)
        assert (as_uuid.version, as_uuid.variant) == (4, uuid.RFC_4122)


def test_an_aborted_call_is_summarised_with_its_code_at_info() -> None:
    with (
        serving([RequestContextInterceptor()]) as served,
        structlog.testing.capture_logs() as logs,
    ):
        code, _ = get_user(served, "missing")

    assert code == grpc.StatusCode.NOT_FOUND
    [summary] = rpc_lines(logs)
    assert (summary["code"], summary["log_level"]) == ("NOT_FOUND", "info")


def test_an_unexpected_exception_is_summarised_as_unknown_at_error() -> None:
    with (
        serving([RequestContextInterceptor()]) as served,
        structlog.testing.capture_logs() as logs,
    ):
        code, _ = get_user(served, "boom")

    assert code == grpc.StatusCode.UNKNOWN
    [summary] = rpc_lines(logs)
    assert (summary["code"], summary["log_level"]) == ("UNKNOWN", "error")


def test_a_server_fault_set_with_abort_with_status_is_summarised_at_error() -> None:
    with (
        serving([RequestContextInterceptor()]) as served,
        structlog.testing.capture_logs() as logs,
    ):
        code, _ = get_user(served, "rich")

    assert code == grpc.StatusCode.INTERNAL
    [summary] = rpc_lines(logs)
    assert (summary["code"], summary["log_level"]) == ("INTERNAL", "error")


def test_values_bound_during_a_call_do_not_leak_into_the_next_call_on_the_thread() -> None:
    with serving([RequestContextInterceptor()], max_workers=1) as served:
        get_user(served, "quietly")
        get_user(served)

    first, second = served.servicer.seen_context
    assert set(first) == {"request_id", "method"}
    assert set(second) == {"request_id", "method"}
    assert current_request_id() is None


def test_health_checks_are_summarised_at_debug_when_they_succeed() -> None:
    with (
        serving([RequestContextInterceptor()]) as served,
        structlog.testing.capture_logs() as logs,
    ):
        served.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)

    [summary] = rpc_lines(logs)
    assert summary["method"] == "/grpc.health.v1.Health/Check"
    assert (summary["code"], summary["log_level"]) == ("OK", "debug")


def test_a_streamed_call_is_summarised_once_when_the_client_leaves() -> None:
    with (
        serving([RequestContextInterceptor()]) as served,
        structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as logs,
    ):
        stream = served.health.Watch(
            health_pb2.HealthCheckRequest(service="acme.user.v1.UserService"),
            metadata=[(REQUEST_ID_HEADER, "watch-1")],
        )
        first = next(stream)
        assert not rpc_lines(logs)
        stream.cancel()
        assert eventually(lambda: bool(rpc_lines(logs)))

    assert first.status == health_pb2.HealthCheckResponse.SERVING
    [summary] = rpc_lines(logs)
    assert summary["method"] == "/grpc.health.v1.Health/Watch"
    assert summary["code"] == "CANCELLED"
    assert summary["request_id"] == "watch-1"
