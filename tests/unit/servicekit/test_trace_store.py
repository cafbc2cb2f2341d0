"""The local trace store (servicekit.traces): spans as JSON lines, read back as span trees,
and the command that prints them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SpanExportResult

from servicekit.traces import JsonLinesSpanExporter, main, read_spans, render, trace_ids
from servicekit.tracing import ServiceTracerProvider, TracingSettings, configure_tracing


def traced(provider: ServiceTracerProvider, name: str, kind: trace.SpanKind) -> trace.Span:
    return provider.get_tracer("tests").start_span(name, kind=kind)


def a_login(folder: Path) -> str:
    """gateway -> auth -> auth's client call -> user, each service storing its own spans in
    ``folder`` as the services do; the trace id."""
    settings = TracingSettings(local_dir=str(folder))
    gateway, auth, user = (
        configure_tracing(settings, service=name) for name in ("gateway", "auth", "user")
    )
    root = traced(gateway, "POST /v1/auth/login", trace.SpanKind.SERVER)
    root.set_attributes({"request_id": "req-42", "http.response.status_code": 200})
    with trace.use_span(root, end_on_exit=True):
        server = auth.get_tracer("t").start_span(
            "/acme.auth.v1.AuthService/Login", kind=trace.SpanKind.SERVER
        )
        server.set_attributes({"request_id": "req-42", "rpc.grpc.status_code": 0})
        with trace.use_span(server, end_on_exit=True):
            client = traced(
                auth, "/acme.user.v1.UserService/VerifyCredentials", trace.SpanKind.CLIENT
            )
            with trace.use_span(client, end_on_exit=True):
                inner = traced(
                    user, "/acme.user.v1.UserService/VerifyCredentials", trace.SpanKind.SERVER
                )
                inner.set_attributes({"request_id": "req-42", "rpc.grpc.status_code": 16})
                inner.record_exception(ValueError("wrong password"))
                inner.end()
    for provider in (gateway, auth, user):
        provider.shutdown()  # flushes the batch
    return format(root.get_span_context().trace_id, "032x")


def test_each_service_appends_its_spans_as_one_json_line_each(tmp_path: Path) -> None:
    trace_id = a_login(tmp_path)

    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == ["auth.jsonl", "gateway.jsonl", "user.jsonl"]
    auth_lines = (tmp_path / "auth.jsonl").read_text().splitlines()
    assert len(auth_lines) == 2
    first = json.loads(auth_lines[0])
    assert first["trace_id"] == trace_id  # the W3C hex form, as on the log lines
    assert first["service"] == "auth"


def test_show_prints_the_tree_of_a_request_across_the_services(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_id = a_login(tmp_path)

    code = main(["--dir", str(tmp_path), "show", "req-42"])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith(f"trace {trace_id}  request req-42  ")
    assert out[0].endswith("4 spans (auth, gateway, user)")
    assert out[1].startswith("gateway  POST /v1/auth/login  200  ")
    assert out[2].startswith("└─ auth  /acme.auth.v1.AuthService/Login  OK  ")
    assert out[3].startswith("   └─ auth  /acme.user.v1.UserService/VerifyCredentials (client)  ")
    assert out[4].startswith(
        "      └─ user  /acme.user.v1.UserService/VerifyCredentials  UNAUTHENTICATED  "
    )
    assert out[5] == "         ! ValueError: wrong password"
    assert all(" ms  at +" in line for line in out[1:5])


def test_a_trace_id_finds_the_same_tree_as_its_request_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_id = a_login(tmp_path)

    main(["--dir", str(tmp_path), "show", "req-42"])
    by_request = capsys.readouterr().out
    main(["--dir", str(tmp_path), "show", trace_id])

    assert capsys.readouterr().out == by_request


def test_list_names_the_latest_traces_with_their_request_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_id = a_login(tmp_path)

    assert main(["--dir", str(tmp_path), "list"]) == 0

    [line] = capsys.readouterr().out.splitlines()
    assert f"  {trace_id}  request req-42  gateway  POST /v1/auth/login  200  " in line
    assert line.endswith("[auth,gateway,user]")


def test_an_unknown_id_or_an_empty_store_is_one_line_saying_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--dir", str(tmp_path / "none"), "show", "req-1"]) == 1
    assert "make up TRACES=1" in capsys.readouterr().err

    a_login(tmp_path)
    assert main(["--dir", str(tmp_path), "show", "req-1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("traces: no span of request or trace req-1 in ")
    assert "4 spans of auth, gateway, user" in err


def test_a_half_written_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    trace_id = a_login(tmp_path)
    with (tmp_path / "user.jsonl").open("a") as store:
        store.write('{"trace_id": "abc", "span')  # a process stopped mid-line

    assert trace_ids(read_spans(tmp_path), "req-42") == [trace_id]
    assert len(render(read_spans(tmp_path), trace_id)) == 6


def test_a_full_file_moves_aside_and_is_still_read(tmp_path: Path) -> None:
    provider = ServiceTracerProvider()
    exporter = JsonLinesSpanExporter(tmp_path, service="user", max_bytes=10)
    spans = []
    for name in ("first", "second"):
        span = provider.get_tracer("t").start_span(name)
        span.end()
        spans.append(span)

    assert exporter.export([spans[0]]) is SpanExportResult.SUCCESS  # type: ignore[list-item]
    assert exporter.export([spans[1]]) is SpanExportResult.SUCCESS  # type: ignore[list-item]

    assert sorted(p.name for p in tmp_path.iterdir()) == ["user.jsonl", "user.jsonl.1"]
    assert sorted(s.name for s in read_spans(tmp_path)) == ["first", "second"]


def test_a_folder_that_cannot_be_written_is_a_failure_with_its_reason(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    exporter = JsonLinesSpanExporter(blocked, service="user")
    span = ServiceTracerProvider().get_tracer("t").start_span("x")
    span.end()

    assert exporter.export([span]) is SpanExportResult.FAILURE  # type: ignore[list-item]
    assert exporter.last_error.startswith(f"{blocked / 'user.jsonl'}: ")
