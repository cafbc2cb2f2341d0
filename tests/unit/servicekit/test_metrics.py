"""Metrics: go-grpc-prometheus series, scraped over HTTP from the metrics port."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest
from grpc_health.v1 import health_pb2
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from servicekit.grpc.interceptors.metrics import MetricsInterceptor, call_labels
from servicekit.grpc.interceptors.request_context import RequestContextInterceptor
from servicekit.metrics import (
    GrpcServerMetrics,
    MetricsSettings,
    new_registry,
    start_metrics_server,
)
from servicekit.testing.ports import free_port
from tests.unit.servicekit._observed_server import eventually, get_user, serving

GET_USER = 'grpc_method="GetUser",grpc_service="acme.user.v1.UserService",grpc_type="unary"'


@contextmanager
def metrics_endpoint(registry: CollectorRegistry) -> Iterator[str]:
    port, stop = start_metrics_server(MetricsSettings(port=0), registry)
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        stop()


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local http URL
        body: bytes = response.read()
    return body.decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the series ``name`` whose labels include ``labels``, if scraped."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and labels.items() <= found.labels.items():
                return found.value
    return None


def test_calls_are_counted_by_final_code_in_the_go_grpc_prometheus_series() -> None:
    registry = CollectorRegistry()
    interceptors = [RequestContextInterceptor(), MetricsInterceptor(GrpcServerMetrics(registry))]
    with serving(interceptors) as served, metrics_endpoint(registry) as url:
        get_user(served)
        get_user(served, "missing")
        get_user(served, "missing")
        text = scrape(url)

    assert f"grpc_server_started_total{{{GET_USER}}} 3.0" in text
    assert f'grpc_server_handled_total{{grpc_code="OK",{GET_USER}}} 1.0' in text
    assert f'grpc_server_handled_total{{grpc_code="NOT_FOUND",{GET_USER}}} 2.0' in text
    assert f"grpc_server_msg_received_total{{{GET_USER}}} 3.0" in text
    assert f"grpc_server_msg_sent_total{{{GET_USER}}} 1.0" in text
    assert f"grpc_server_handling_seconds_count{{{GET_USER}}} 3.0" in text
    assert f'grpc_server_handling_seconds_bucket{{{GET_USER},le="10.0"}} 3.0' in text


def test_an_exception_with_no_code_counts_as_unknown_and_rich_aborts_by_their_code() -> None:
    registry = CollectorRegistry()
    with serving([MetricsInterceptor(GrpcServerMetrics(registry))]) as served:
        get_user(served, "boom")
        get_user(served, "rich")
        with metrics_endpoint(registry) as url:
            text = scrape(url)

    handled = "grpc_server_handled_total"
    assert sample(text, handled, grpc_method="GetUser", grpc_code="UNKNOWN") == 1.0
    assert sample(text, handled, grpc_method="GetUser", grpc_code="INTERNAL") == 1.0
    assert sample(text, handled, grpc_method="GetUser", grpc_code="OK") is None


def test_a_server_stream_is_counted_per_message_and_handled_when_the_client_leaves() -> None:
    registry = CollectorRegistry()
    labels = {"grpc_type": "server_stream", "grpc_method": "Watch"}
    with (
        serving([MetricsInterceptor(GrpcServerMetrics(registry))]) as served,
        metrics_endpoint(registry) as url,
    ):
        stream = served.health.Watch(
            health_pb2.HealthCheckRequest(service="acme.user.v1.UserService")
        )
        next(stream)
        served.health_servicer.set(
            "acme.user.v1.UserService", health_pb2.HealthCheckResponse.NOT_SERVING
        )
        next(stream)
        stream.cancel()
        assert eventually(lambda: sample(scrape(url), "grpc_server_handled_total", **labels) == 1.0)
        text = scrape(url)

    assert sample(text, "grpc_server_msg_sent_total", **labels) == 2.0
    assert sample(text, "grpc_server_msg_received_total", **labels) == 1.0
    assert sample(text, "grpc_server_handled_total", grpc_code="CANCELLED", **labels) == 1.0


def test_grpc_type_comes_from_the_registered_method_descriptors() -> None:
    assert call_labels("/acme.user.v1.UserService/GetUser") == (
        "unary",
        "acme.user.v1.UserService",
        "GetUser",
    )
    assert call_labels("/grpc.health.v1.Health/Watch")[0] == "server_stream"
    assert call_labels("/not.registered.Service/Method")[0] == "unary"


def test_nothing_is_registered_in_the_global_registry() -> None:
    GrpcServerMetrics(CollectorRegistry())

    assert REGISTRY.get_sample_value("grpc_server_started_total") is None
    assert "grpc_server_started" not in {family.name for family in REGISTRY.collect()}


def test_a_new_registry_exposes_process_metrics_like_the_global_one() -> None:
    with metrics_endpoint(new_registry()) as url:
        text = scrape(url)

    assert sample(text, "process_cpu_seconds_total") is not None
    assert sample(text, "python_info") == 1.0


def test_each_worker_serves_on_the_base_port_plus_its_index() -> None:
    port = free_port()
    bound, stop = start_metrics_server(
        MetricsSettings(port=port - 2), CollectorRegistry(), worker_index=2
    )
    try:
        assert bound == port
        assert scrape(f"http://127.0.0.1:{port}/metrics") == ""
    finally:
        stop()


def test_stopping_the_metrics_server_frees_its_port() -> None:
    port, stop = start_metrics_server(MetricsSettings(port=0), CollectorRegistry())
    stop()

    assert port is not None
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))
    with pytest.raises(OSError, match="refused"):
        scrape(f"http://127.0.0.1:{port}/metrics")


def test_a_disabled_metrics_server_binds_nothing_and_stops_quietly() -> None:
    port, stop = start_metrics_server(MetricsSettings(enabled=False), CollectorRegistry())
    stop()

    assert port is None


def test_a_port_outside_the_tcp_range_is_refused() -> None:
    with pytest.raises(ValueError, match="port must be between 0 and 65535"):
        MetricsSettings(port=70000)


def test_the_unary_response_is_not_counted_as_sent_when_the_call_fails() -> None:
    registry = CollectorRegistry()
    with serving([MetricsInterceptor(GrpcServerMetrics(registry))]) as served:
        code, _ = get_user(served, "missing")

    assert code == grpc.StatusCode.NOT_FOUND
    labels = {"grpc_service": "acme.user.v1.UserService", "grpc_method": "GetUser"}
    assert not registry.get_sample_value(
        "grpc_server_msg_sent_total", {"grpc_type": "unary", **labels}
    )
    assert (
        registry.get_sample_value(
            "grpc_server_msg_received_total", {"grpc_type": "unary", **labels}
        )
        == 1.0
    )
