"""The end of the grace period: calls given up on write nothing, calls that wrote answer.

A handler commits through its call's scope (``servicekit.calls``), as the unit of work
does. gRPC answers UNAVAILABLE for the calls the server gives up on when the grace period
ends: that answer must be true, so such a call may not commit any more; and a call that
had committed must get its answer, not UNAVAILABLE.
"""

from __future__ import annotations

import threading
import time

import grpc

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.calls import current_call
from servicekit.errors import ServiceError
from servicekit.grpc import GrpcSettings, build_server
from tests.unit.servicekit._fake_user_service import (
    FakeUserService,
    channel_to,
    registration,
)


class WritingService(FakeUserService):
    """GetUser ``late`` commits after ``release``; ``early`` commits at once, then takes
    ``answer_seconds`` to answer. What each call did is in ``outcomes``."""

    def __init__(self, answer_seconds: float = 0.0) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Event()
        self.answer_seconds = answer_seconds
        self.outcomes: list[str] = []

    def GetUser(  # noqa: N802 - the generated servicer's name
        self, request: user_service_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_service_pb2.GetUserResponse:
        scope = current_call()
        assert scope is not None
        if request.id == "late":
            self.entered.set()
            self.release.wait(timeout=30)
        try:
            with scope.committing():
                self.outcomes.append("committed")
        except ServiceError as refused:
            self.outcomes.append(f"refused: {type(refused).__name__}")
            raise
        self.entered.set()
        time.sleep(self.answer_seconds)
        return user_service_pb2.GetUserResponse(user=user_pb2.User(id=request.id))


def call(port: int, user_id: str, results: list[grpc.StatusCode]) -> threading.Thread:
    def run() -> None:
        with channel_to(port) as channel:
            stub = user_service_pb2_grpc.UserServiceStub(channel)
            try:
                stub.GetUser(user_service_pb2.GetUserRequest(id=user_id), timeout=30)
            except grpc.RpcError as error:
                results.append(error.code())
            else:
                results.append(grpc.StatusCode.OK)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_call_given_up_at_the_end_of_the_grace_period_commits_nothing() -> None:
    service = WritingService()
    server = build_server(GrpcSettings(port=0), registrations=[registration(service)])
    server.start()
    results: list[grpc.StatusCode] = []
    caller = call(server.port, "late", results)
    assert service.entered.wait(10)

    stopper = threading.Thread(target=server.stop, args=(0.2,))
    stopper.start()
    caller.join(timeout=20)
    service.release.set()  # the handler goes on, as a thread stuck in a database would
    stopper.join(timeout=20)

    assert results == [grpc.StatusCode.UNAVAILABLE]
    assert service.outcomes == ["refused: Unavailable"]


def test_a_call_that_committed_before_the_grace_period_ended_gets_its_answer() -> None:
    service = WritingService(answer_seconds=0.5)
    server = build_server(GrpcSettings(port=0), registrations=[registration(service)])
    server.start()
    results: list[grpc.StatusCode] = []
    caller = call(server.port, "early", results)
    assert service.entered.wait(10)  # committed; the answer takes half a second more

    server.stop(0.1)
    caller.join(timeout=20)

    assert service.outcomes == ["committed"]
    assert results == [grpc.StatusCode.OK]
