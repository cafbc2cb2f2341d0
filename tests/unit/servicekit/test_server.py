"""build_server and GrpcServer: real servers on port 0, called through real channels."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from acme.user.v1 import user_service_pb2, user_service_pb2_grpc
from servicekit.grpc import (
    BindError,
    ErrorMappingInterceptor,
    GrpcSettings,
    build_server,
    default_interceptors,
)
from tests.unit.servicekit._fake_user_service import (
    SERVICE_NAME,
    FakeUserService,
    Gate,
    channel_to,
    get_user,
    registration,
    running_server,
)


def test_a_server_on_port_zero_listens_on_the_port_it_reports() -> None:
    with running_server() as server:
        response = get_user(server.port, "u-1")

    assert server.port > 0
    assert server.address == f"127.0.0.1:{server.port}"
    assert response.user.id == "u-1"


def test_reflection_lists_the_service_health_and_reflection_through_the_chain() -> None:
    with (
        running_server(interceptors=[ErrorMappingInterceptor()]) as server,
        channel_to(server.port) as channel,
    ):
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        (response,) = stub.ServerReflectionInfo(iter([request]), timeout=5)

    names = {service.name for service in response.list_services_response.service}
    assert names == {
        SERVICE_NAME,
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


def test_reflection_is_off_when_the_settings_say_so() -> None:
    settings = GrpcSettings(port=0, reflection=False)
    with running_server(settings=settings) as server, channel_to(server.port) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.ServerReflectionInfo(iter([request]), timeout=5))

    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED


def test_health_reports_the_server_and_each_registered_service_as_serving() -> None:
    with running_server() as server, channel_to(server.port) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        statuses = {
            name: stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status
            for name in ("", SERVICE_NAME)
        }

    assert statuses == {
        "": health_pb2.HealthCheckResponse.SERVING,
        SERVICE_NAME: health_pb2.HealthCheckResponse.SERVING,
    }


def test_a_request_over_the_receive_limit_is_rejected_with_resource_exhausted() -> None:
    settings = GrpcSettings(port=0, max_receive_message_bytes=1024)
    with running_server(settings=settings) as server:
        assert get_user(server.port, "x" * 100).user.id == "x" * 100
        with pytest.raises(grpc.RpcError) as caught:
            get_user(server.port, "x" * 2048)

    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_binding_a_port_in_use_fails_with_an_error_naming_the_address() -> None:
    with running_server() as server:
        settings = GrpcSettings(port=server.port)
        with pytest.raises(BindError, match=f"127.0.0.1:{server.port}"):
            build_server(settings, registrations=[registration(FakeUserService())])


def _start_slow_call(port: int, channel: grpc.Channel) -> grpc.Future:
    stub = user_service_pb2_grpc.UserServiceStub(channel)
    return stub.GetUser.future(user_service_pb2.GetUserRequest(id="slow"), timeout=30)


def _refused_within(port: int, seconds: float) -> grpc.StatusCode | None:
    """The code of the first new call that fails, trying until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get_user(port, "new", timeout=1)
        except grpc.RpcError as error:
            return error.code()
    return None


def test_graceful_stop_finishes_the_call_in_flight_refuses_new_ones_then_runs_on_stop() -> None:
    gate = Gate()
    server = build_server(
        GrpcSettings(port=0, max_workers=4),
        registrations=[registration(FakeUserService(gate=gate))],
    )
    events: list[str] = []
    server.add_on_stop(lambda: events.append("close pool"))
    server.add_on_stop(lambda: events.append("flush tracer"))
    server.start()
    with channel_to(server.port) as channel:
        in_flight = _start_slow_call(server.port, channel)
        assert gate.entered.wait(5)
        stopper = threading.Thread(target=server.stop, args=(10,))
        stopper.start()

        refused = _refused_within(server.port, 5)
        assert events == []  # still draining
        assert not in_flight.done()
        gate.release.set()
        response = in_flight.result(timeout=5)
        stopper.join(timeout=10)

    # Refused, not served: UNAVAILABLE once the server stopped listening; a call that
    # raced the stop and reached it while it was shutting down is CANCELLED by gRPC core.
    assert refused in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
    assert response.user.id == "slow"
    assert gate.finished == ["slow"]
    assert events == ["flush tracer", "close pool"]
    assert server.wait(0)


def test_a_second_stop_with_no_grace_cuts_the_drain_short() -> None:
    gate = Gate()
    server = build_server(
        GrpcSettings(port=0), registrations=[registration(FakeUserService(gate=gate))]
    )
    server.start()
    try:
        with channel_to(server.port) as channel:
            in_flight = _start_slow_call(server.port, channel)
            assert gate.entered.wait(5)
            patient = threading.Thread(target=server.stop, args=(60,))
            patient.start()
            server.stop(0)
            patient.join(timeout=5)
            with pytest.raises(grpc.RpcError):
                in_flight.result(timeout=5)
    finally:
        gate.release.set()

    assert not patient.is_alive()


def test_a_failing_on_stop_callback_does_not_skip_the_others() -> None:
    server = build_server(GrpcSettings(port=0), registrations=[registration(FakeUserService())])
    events: list[str] = []
    server.add_on_stop(lambda: events.append("close pool"))
    server.add_on_stop(lambda: 1 / 0)
    server.start()

    server.stop(0)

    assert events == ["close pool"]


def test_settings_default_to_the_local_development_address() -> None:
    settings = GrpcSettings()

    assert settings.address == "127.0.0.1:50051"
    assert (settings.max_workers, settings.workers, settings.grace_seconds) == (16, 1, 10.0)
    assert settings.max_receive_message_bytes == settings.max_send_message_bytes == 4 * 1024**2
    assert GrpcSettings(host="::1", port=1).address == "[::1]:1"


def test_settings_refuse_impossible_values_naming_every_problem() -> None:
    with pytest.raises(ValueError, match="port") as caught:
        GrpcSettings(port=70000, max_workers=0, workers=0, grace_seconds=-1)

    for name in ("max_workers", "workers", "grace_seconds"):
        assert name in str(caught.value)


def test_the_default_chain_keeps_its_fixed_order_and_leaves_out_switched_off_steps() -> None:
    steps = {
        name: object()
        for name in ("request_context", "metrics", "error_mapping", "authentication", "validation")
    }

    chain = default_interceptors(
        request_context=steps["request_context"],
        tracing=None,
        metrics=steps["metrics"],
        error_mapping=steps["error_mapping"],
        authentication=steps["authentication"],
        access_policy=None,
        validation=steps["validation"],
    )

    assert chain == [
        steps["request_context"],
        steps["metrics"],
        steps["error_mapping"],
        steps["authentication"],
        steps["validation"],
    ]
