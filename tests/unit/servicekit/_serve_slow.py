"""Serves the fake UserService until SIGTERM, for the lifecycle tests.

    python _serve_slow.py PORT WORKERS SLOW_SECONDS

Each serving process prints ``ready <port> <pid>`` once it accepts calls *and* its stop
handlers are in place, and ``in-flight <pid>`` when a ``slow`` GetUser starts (it then takes
SLOW_SECONDS). The exit code is the one ``run_workers`` returns.
"""

from __future__ import annotations

import functools
import os
import sys
import time

import grpc

from acme.user.v1 import user_pb2, user_service_pb2
from servicekit.grpc import (
    ErrorMappingInterceptor,
    GrpcServer,
    GrpcSettings,
    build_server,
    run_until_signalled,
    run_workers,
)
from tests.unit.servicekit._fake_user_service import FakeUserService, registration


class SlowUserService(FakeUserService):
    def __init__(self, slow_seconds: float) -> None:
        super().__init__()
        self.slow_seconds = slow_seconds

    def GetUser(  # noqa: N802 - named by the generated servicer
        self, request: user_service_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_service_pb2.GetUserResponse:
        if request.id != "slow":
            return super().GetUser(request, context)
        print(f"in-flight {os.getpid()}", flush=True)
        time.sleep(self.slow_seconds)  # the work a drain must wait for
        user = user_pb2.User(id=request.id, display_name=str(os.getpid()))
        return user_service_pb2.GetUserResponse(user=user)


class AnnouncedServer:
    """Says ``ready`` after starting: run_until_signalled starts it once handlers are set."""

    def __init__(self, server: GrpcServer) -> None:
        self.server = server

    def start(self) -> None:
        self.server.start()
        print(f"ready {self.server.port} {os.getpid()}", flush=True)

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)


def serve(port: int, slow_seconds: float, reuse_port: bool, worker_index: int) -> int:
    server = build_server(
        GrpcSettings(port=port, grace_seconds=slow_seconds * 5),
        registrations=[registration(SlowUserService(slow_seconds))],
        interceptors=[ErrorMappingInterceptor()],
        reuse_port=reuse_port,
    )
    return run_until_signalled(AnnouncedServer(server))


def main(argv: list[str]) -> int:
    port, workers, slow_seconds = int(argv[0]), int(argv[1]), float(argv[2])
    return run_workers(workers, functools.partial(serve, port, slow_seconds, workers > 1))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
