"""Logging: one shape for every line, JSON off a terminal, request and trace ids in a call."""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import structlog

from servicekit.grpc.interceptors.request_context import (
    REQUEST_ID_HEADER,
    RequestContextInterceptor,
)
from servicekit.grpc.interceptors.tracing import TracingInterceptor
from servicekit.logging import LoggingSettings, configure_logging
from servicekit.tracing import TracingSettings, configure_tracing
from tests.unit.servicekit._observed_server import JsonLogs, get_user, json_logs, serving

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def logs() -> Iterator[JsonLogs]:
    with json_logs(level="info", service="user") as logs:
        yield logs


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_structlog_line_is_one_json_object_with_service_level_logger_and_utc_time(
    logs: JsonLogs,
) -> None:
    structlog.get_logger("user.domain").info("user created", user_id="u-1")

    [line] = logs.lines()
    assert line["event"] == "user created"
    assert line["user_id"] == "u-1"
    assert line["service"] == "user"
    assert line["level"] == "info"
    assert line["logger"] == "user.domain"
    assert line["timestamp"].endswith("Z")
    stamped = datetime.fromisoformat(line["timestamp"])
    assert stamped.utcoffset() == UTC.utcoffset(None)


def test_library_records_through_the_standard_library_have_the_same_shape(logs: JsonLogs) -> None:
    logging.getLogger("sqlalchemy.pool").warning("pool %s is full", "main")

    [line] = logs.lines()
    assert line["event"] == "pool main is full"
    assert line["level"] == "warning"
    assert line["logger"] == "sqlalchemy.pool"
    assert line["service"] == "user"
    assert line["timestamp"].endswith("Z")


def test_a_library_record_keeps_its_extras_but_not_uvicorn_color_message(logs: JsonLogs) -> None:
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]",
        42,
        extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]", "pid": 42},
    )

    [line] = logs.lines()
    assert line["event"] == "Started server process [42]"
    assert line["pid"] == 42
    assert "color_message" not in line


def test_a_library_with_a_handler_of_its_own_logs_once_through_ours() -> None:
    own = io.StringIO()
    logging.getLogger("grpc").addHandler(logging.StreamHandler(own))
    with json_logs() as logs:
        logging.getLogger("grpc._server").error("exception calling application")

    assert [line["event"] for line in logs.lines()] == ["exception calling application"]
    assert own.getvalue() == ""


def test_exceptions_are_rendered_as_structured_tracebacks(logs: JsonLogs) -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        structlog.get_logger().exception("failed")
        logging.getLogger("alembic").exception("migration failed")

    structlog_line, stdlib_line = logs.lines()
    for line in (structlog_line, stdlib_line):
        [exception] = line["exception"]
        assert exception["exc_type"] == "ValueError"
        assert exception["exc_value"] == "bad value"
        assert exception["frames"][-1]["name"].startswith("test_exceptions")
        assert line["level"] == "error"


def test_lines_below_the_configured_level_are_dropped() -> None:
    with json_logs(level="WARNING") as logs:
        structlog.get_logger().info("chatty")
        logging.getLogger("uvicorn.access").info("GET /")
        structlog.get_logger().warning("worth reading")

    assert [line["event"] for line in logs.lines()] == ["worth reading"]


def test_reconfiguring_replaces_the_previous_output_instead_of_adding_one() -> None:
    first = io.StringIO()
    configure_logging(LoggingSettings(format="json"), service="user", stream=first)
    with json_logs(service="auth") as logs:
        structlog.get_logger().info("once")

    assert first.getvalue() == ""
    assert [(line["event"], line["service"]) for line in logs.lines()] == [("once", "auth")]


def test_auto_format_is_readable_text_on_a_terminal() -> None:
    terminal = Terminal()
    try:
        configure_logging(LoggingSettings(format="auto"), service="user", stream=terminal)
        structlog.get_logger().info("hello", who="you")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

    text = terminal.getvalue()
    assert "hello" in text
    assert "who" in text
    assert not text.lstrip().startswith("{")


def test_auto_format_is_json_off_a_terminal() -> None:
    pipe = io.StringIO()
    try:
        configure_logging(LoggingSettings(format="auto"), service="user", stream=pipe)
        structlog.get_logger().info("hello")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

    assert pipe.getvalue().startswith("{")


def test_a_logger_made_before_a_reconfiguration_writes_where_the_new_one_says() -> None:
    early = structlog.get_logger("user.early")
    with json_logs(service="first") as first:
        early.info("one")
    with json_logs(service="second") as second:
        early.info("two")

    assert [(line["event"], line["service"]) for line in first.lines()] == [("one", "first")]
    assert [(line["event"], line["service"]) for line in second.lines()] == [("two", "second")]


def test_a_logger_without_a_name_is_named_after_the_module_that_logs(logs: JsonLogs) -> None:
    structlog.get_logger().info("who am i")

    [line] = logs.lines()
    assert line["logger"] == __name__


def test_values_json_cannot_hold_are_written_as_their_repr_or_structlog_form(
    logs: JsonLogs,
) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    class Described:
        def __structlog__(self) -> str:
            return "described"

    structlog.get_logger().info("values", opaque=Opaque(), described=Described(), name="Zoë")

    [line] = logs.lines()
    assert (line["opaque"], line["described"], line["name"]) == ("<opaque>", "described", "Zoë")


def test_timestamps_are_utc_with_microseconds_and_follow_the_clock(logs: JsonLogs) -> None:
    before = datetime.now(UTC)
    structlog.get_logger().info("first")
    time.sleep(1.1)
    structlog.get_logger().info("second")
    after = datetime.now(UTC)

    stamps = [line["timestamp"] for line in logs.lines()]
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    first, second = (datetime.fromisoformat(stamp) for stamp in stamps)
    assert before - timedelta(milliseconds=1) <= first < second <= after
    assert second - first >= timedelta(seconds=1)


def test_a_stream_that_cannot_be_written_does_not_fail_the_code_that_logs() -> None:
    with json_logs() as logs:
        logs.stream.close()
        structlog.get_logger().error("nowhere to go")
        logging.getLogger("grpc").error("nor this")


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="level must be one of"):
        LoggingSettings(level="verbose")


def test_every_line_written_during_a_call_carries_its_request_id_and_trace_ids(
    logs: JsonLogs,
) -> None:
    provider = configure_tracing(TracingSettings(), service="user")
    chain = [RequestContextInterceptor(), TracingInterceptor(provider)]
    traceparent = ("traceparent", f"00-{TRACE_ID}-00f067aa0ba902b7-01")
    with serving(chain) as served:
        get_user(served, metadata=[(REQUEST_ID_HEADER, "req-7"), traceparent])
        logging.getLogger("tests").info("between calls")
    provider.shutdown()

    handler_line, summary, between = logs.lines()
    assert handler_line["event"] == "handling"
    assert summary["event"] == "rpc"
    for line in (handler_line, summary):
        assert line["request_id"] == "req-7"
        assert line["method"] == "/acme.user.v1.UserService/GetUser"
        assert line["trace_id"] == TRACE_ID
        assert len(line["span_id"]) == 16
    assert handler_line["span_id"] == summary["span_id"]
    assert summary["code"] == "OK"
    assert not {"request_id", "trace_id", "span_id"} & set(between)
