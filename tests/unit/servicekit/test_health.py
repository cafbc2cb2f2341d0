"""HealthReporter: what grpc.health.v1 tells probes follows the readiness checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from structlog.testing import capture_logs

from servicekit.grpc import ErrorMappingInterceptor, HealthReporter
from servicekit.grpc.health import LIVENESS_SERVICE
from tests.unit.servicekit._fake_user_service import SERVICE_NAME, channel_to, running_server

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class Switch:
    """A readiness check whose answer the test sets (a database that comes and goes)."""

    up: bool = True

    def __call__(self) -> bool:
        return self.up


def broken_check() -> bool:
    raise ConnectionError("database at 10.0.0.5 refused")


@dataclass
class Probe:
    stub: health_pb2_grpc.HealthStub

    def status(self, service: str = "") -> int:
        request = health_pb2.HealthCheckRequest(service=service)
        return int(self.stub.Check(request, timeout=5).status)

    def wait_for(self, status: int, seconds: float = 5.0) -> int:
        """Check until ``status`` shows up (the poller runs on its own clock)."""
        deadline = time.monotonic() + seconds
        seen = self.status()
        while seen != status and time.monotonic() < deadline:
            time.sleep(0.02)
            seen = self.status()
        return seen


@pytest.fixture
def database() -> Switch:
    return Switch()


@pytest.fixture
def reporter(database: Switch) -> HealthReporter:
    return HealthReporter({"database": database}, interval=0.05)


@pytest.fixture
def probe(reporter: HealthReporter) -> Iterator[Probe]:
    with running_server(health=reporter) as server, channel_to(server.port) as channel:
        yield Probe(health_pb2_grpc.HealthStub(channel))


def test_readiness_is_right_from_the_first_probe(database: Switch) -> None:
    database.up = False
    reporter = HealthReporter({"database": database}, interval=60)

    with running_server(health=reporter) as server, channel_to(server.port) as channel:
        probe = Probe(health_pb2_grpc.HealthStub(channel))
        statuses = (probe.status(), probe.status(SERVICE_NAME))

    assert statuses == (NOT_SERVING, NOT_SERVING)


def test_health_flips_to_not_serving_when_a_check_fails_and_back_when_it_passes(
    database: Switch, probe: Probe
) -> None:
    assert probe.status() == SERVING
    assert probe.status(SERVICE_NAME) == SERVING

    database.up = False
    assert probe.wait_for(NOT_SERVING) == NOT_SERVING
    assert probe.status(SERVICE_NAME) == NOT_SERVING

    database.up = True
    assert probe.wait_for(SERVING) == SERVING
    assert probe.status(SERVICE_NAME) == SERVING


def test_a_check_that_raises_counts_as_failing_and_is_logged() -> None:
    reporter = HealthReporter({"database": broken_check}, interval=60)

    with capture_logs() as logs:
        ready = reporter.poll()

    assert not ready
    (entry,) = [log for log in logs if log["event"] == "readiness check failed"]
    assert entry["check"] == "database"
    assert isinstance(entry["exc_info"], ConnectionError)


def test_shutdown_makes_everything_not_serving_for_good(
    reporter: HealthReporter, probe: Probe
) -> None:
    assert probe.status() == SERVING

    reporter.shutdown()
    reporter.poll()  # the check still passes

    assert probe.status() == NOT_SERVING
    assert probe.status(SERVICE_NAME) == NOT_SERVING


def test_liveness_stays_serving_while_readiness_fails(database: Switch, probe: Probe) -> None:
    database.up = False
    assert probe.wait_for(NOT_SERVING) == NOT_SERVING

    # A probe of `liveness` must not restart a pod because its database is away.
    assert probe.status(LIVENESS_SERVICE) == SERVING


def test_liveness_is_serving_while_not_ready_and_not_after_shutdown(
    database: Switch,
) -> None:
    database.up = False
    reporter = HealthReporter({"database": database}, interval=60)

    with running_server(health=reporter) as server, channel_to(server.port) as channel:
        probe = Probe(health_pb2_grpc.HealthStub(channel))
        before = probe.status(LIVENESS_SERVICE)
        reporter.shutdown()
        after = probe.status(LIVENESS_SERVICE)

    assert (before, after) == (SERVING, NOT_SERVING)


def test_a_service_the_server_does_not_serve_is_unknown_to_health(probe: Probe) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        probe.status("acme.other.v1.OtherService")

    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


def test_watch_streams_changes_through_the_interceptor_chain(database: Switch) -> None:
    reporter = HealthReporter({"database": database}, interval=0.05)
    interceptors = [ErrorMappingInterceptor()]
    with (
        running_server(health=reporter, interceptors=interceptors) as server,
        channel_to(server.port) as channel,
    ):
        stub = health_pb2_grpc.HealthStub(channel)
        stream = stub.Watch(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=10)
        first = next(stream).status
        database.up = False
        second = next(stream).status
        stream.cancel()

    assert (first, second) == (SERVING, NOT_SERVING)


def test_an_interval_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        HealthReporter(interval=0)
