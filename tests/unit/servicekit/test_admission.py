"""The bound on concurrent calls, and health answered off the worker pool (real servers).

Every worker thread of a server can be stuck at once (a frozen database): health and
liveness must still be answered, and a call past the bound refused at once instead of
queueing until its deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]
from structlog.testing import capture_logs

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.grpc import GrpcServer, GrpcSettings
from servicekit.grpc.health import LIVENESS_SERVICE
from tests.unit.servicekit._fake_user_service import (
    FakeUserService,
    channel_to,
    running_server,
)

WORKERS = 4
SERVING = health_pb2.HealthCheckResponse.SERVING


class StuckService(FakeUserService):
    """GetUser ``stuck`` waits until ``release`` (a database that stopped answering);
    ``entered`` counts the calls that got a worker thread."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self._entered = 0
        self._changed = threading.Condition()

    def GetUser(  # noqa: N802 - the generated servicer's name
        self, request: user_service_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_service_pb2.GetUserResponse:
        if request.id == "stuck":
            with self._changed:
                self._entered += 1
                self._changed.notify_all()
            self.release.wait(timeout=30)
        return user_service_pb2.GetUserResponse(user=user_pb2.User(id=request.id))

    def wait_entered(self, count: int, timeout: float = 15.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._entered >= count, timeout)


@contextmanager
def stuck_server() -> Iterator[tuple[GrpcServer, StuckService, grpc.Channel]]:
    service = StuckService()
    with (
        running_server(service, settings=GrpcSettings(port=0, max_workers=WORKERS)) as server,
        channel_to(server.port) as channel,
    ):
        try:
            yield server, service, channel
        finally:
            service.release.set()


def stick_every_worker(channel: grpc.Channel) -> list[grpc.Future]:
    """As many stuck calls as the server has worker threads."""
    stub = user_service_pb2_grpc.UserServiceStub(channel)
    request = user_service_pb2.GetUserRequest(id="stuck")
    return [stub.GetUser.future(request, timeout=30) for _ in range(WORKERS)]


def code_of(future: grpc.Future) -> grpc.StatusCode:
    try:
        future.result(timeout=30)
    except grpc.RpcError as error:
        code: grpc.StatusCode = error.code()
        return code
    return grpc.StatusCode.OK


def test_health_and_liveness_are_answered_while_every_worker_thread_is_stuck() -> None:
    with stuck_server() as (_server, service, channel):
        calls = stick_every_worker(channel)
        assert service.wait_entered(WORKERS - 1)
        health = health_pb2_grpc.HealthStub(channel)
        liveness = health.Check(health_pb2.HealthCheckRequest(service=LIVENESS_SERVICE), timeout=5)
        readiness = health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        service.release.set()
        [code_of(call) for call in calls]

    assert liveness.status == SERVING
    assert readiness.status == SERVING


def test_a_call_past_the_bound_is_refused_at_once_with_a_retry_delay() -> None:
    with stuck_server() as (_server, service, channel):
        calls = stick_every_worker(channel)
        assert service.wait_entered(WORKERS - 1)
        stub = user_service_pb2_grpc.UserServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetUser(user_service_pb2.GetUserRequest(id="u-1"), timeout=10)
        service.release.set()
        codes = sorted(code_of(call).name for call in calls)

    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(refused.value)
    assert status is not None
    delays = [
        info.retry_delay.seconds
        for detail in status.details
        if detail.Unpack(info := error_details_pb2.RetryInfo())
    ]
    assert delays == [1]
    # The bound leaves one worker of four free, to refuse on: three ran, one was refused.
    assert codes == ["OK", "OK", "OK", "RESOURCE_EXHAUSTED"]


def test_saturation_is_logged_once_when_it_starts_and_once_when_it_ends() -> None:
    with capture_logs() as logs, stuck_server() as (server, service, channel):
        calls = stick_every_worker(channel)
        assert service.wait_entered(WORKERS - 1)
        stub = user_service_pb2_grpc.UserServiceStub(channel)
        for _ in range(5):
            with pytest.raises(grpc.RpcError):
                stub.GetUser(user_service_pb2.GetUserRequest(id="u-1"), timeout=10)
        service.release.set()
        [code_of(call) for call in calls]
        refused = server.admission.refused

    events = [line["event"] for line in logs if "calls" in line["event"]]
    assert refused == 6
    assert events == ["refusing calls: at the limit of concurrent calls", "admitting calls again"]


def test_the_bound_must_leave_a_worker_free_to_refuse_on() -> None:
    with pytest.raises(ValueError, match="max_concurrent_rpcs must be below max_workers"):
        GrpcSettings(max_workers=8, max_concurrent_rpcs=8)

    assert GrpcSettings(max_workers=16).concurrency_limit == 14
    assert GrpcSettings(max_workers=4).concurrency_limit == 3
    assert GrpcSettings(max_workers=1).concurrency_limit == 1
    assert GrpcSettings(max_workers=8, max_concurrent_rpcs=2).concurrency_limit == 2
