"""A real User Service and a real Auth Service on real ports, wired as `make up` wires them.

The auth service publishes its keys to a JWKS file that the user service reads; the auth
service calls the user service's VerifyCredentials as itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from acme.auth.v1 import auth_service_pb2 as auth_pb
from acme.auth.v1 import auth_service_pb2_grpc
from acme.user.v1 import user_service_pb2 as user_pb
from acme.user.v1 import user_service_pb2_grpc
from servicekit.db import upgrade
from servicekit.grpc import GrpcServer
from servicekit.testing.databases import DatabaseKind, temporary_database
from servicekit.testing.ports import free_port
from services.auth import app as auth_app
from services.auth import settings as auth_settings
from services.auth.models import MIGRATIONS_DIR as AUTH_MIGRATIONS
from services.user import app as user_app
from services.user import settings as user_settings
from services.user.models import MIGRATIONS_DIR as USER_MIGRATIONS

PASSWORD = "correct horse battery staple"


@dataclass
class Stack:
    """Both servers, their settings, and clients to call them."""

    folder: Path
    user_env: dict[str, str]
    auth_env: dict[str, str]
    user_server: GrpcServer | None = None
    auth_server: GrpcServer | None = None
    channels: list[grpc.Channel] = field(default_factory=list)

    @property
    def user_address(self) -> str:
        return f"127.0.0.1:{self.user_env['USER_GRPC__PORT']}"

    def start_user(self, **overrides: str) -> GrpcServer:
        settings = user_settings.load(env={**self.user_env, **overrides})
        self.user_server = user_app.create_server(settings)
        self.user_server.start()
        return self.user_server

    def stop_user(self) -> None:
        if self.user_server is not None:
            self.user_server.stop(0)
            self.user_server = None

    def start_auth(self, **overrides: str) -> GrpcServer:
        settings = auth_settings.load(env={**self.auth_env, **overrides})
        self.auth_server = auth_app.create_server(settings)
        self.auth_server.start()
        return self.auth_server

    def auth_settings(self) -> auth_settings.AuthSettings:
        return auth_settings.load(env=self.auth_env)

    def channel(self, address: str) -> grpc.Channel:
        channel = grpc.insecure_channel(address)
        self.channels.append(channel)
        return channel

    @property
    def auth(self) -> auth_service_pb2_grpc.AuthServiceStub:
        assert self.auth_server is not None
        return auth_service_pb2_grpc.AuthServiceStub(
            self.channel(f"127.0.0.1:{self.auth_server.port}")
        )

    @property
    def users(self) -> user_service_pb2_grpc.UserServiceStub:
        return user_service_pb2_grpc.UserServiceStub(self.channel(self.user_address))

    def register(self, email: str | None = None) -> tuple[str, str]:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        request = user_pb.CreateUserRequest(email=email, display_name="Ada", password=PASSWORD)
        reply = self.users.CreateUser(request, timeout=10)
        return reply.user.id, email

    def login(self, email: str, password: str = PASSWORD) -> auth_pb.TokenPair:
        reply = self.auth.Login(auth_pb.LoginRequest(email=email, password=password), timeout=10)
        tokens: auth_pb.TokenPair = reply.tokens
        return tokens

    def read_self(self, user_id: str, access_token: str) -> user_pb.GetUserResponse:
        metadata = (("authorization", f"Bearer {access_token}"),)
        reply: user_pb.GetUserResponse = self.users.GetUser(
            user_pb.GetUserRequest(id=user_id), metadata=metadata, timeout=10
        )
        return reply


FAST = {
    "USER_PASSWORDS__TIME_COST": "1",
    "USER_PASSWORDS__MEMORY_COST_KIB": "1024",
    "USER_PASSWORDS__PARALLELISM": "1",
}


@contextmanager
def running_stack(
    kind: DatabaseKind, folder: Path, auth: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """Both services on fresh, migrated databases of ``kind``; stopped on exit."""
    jwks = folder / "jwks.json"
    with ExitStack() as resources:
        user_url = resources.enter_context(temporary_database(kind, folder))
        auth_url = resources.enter_context(temporary_database(kind, folder))
        upgrade(user_url, USER_MIGRATIONS)
        upgrade(auth_url, AUTH_MIGRATIONS)
        user_port = free_port()
        stack = Stack(
            folder=folder,
            user_env={
                **FAST,
                "USER_DATABASE__URL": user_url,
                "USER_GRPC__PORT": str(user_port),
                "USER_METRICS__PORT": "0",
                "USER_AUTH__JWKS_FILE": str(jwks),
                "USER_AUTH__JWKS_MIN_REFRESH_SECONDS": "0",
            },
            auth_env={
                "AUTH_DATABASE__URL": auth_url,
                "AUTH_GRPC__PORT": "0",
                "AUTH_METRICS__PORT": "0",
                "AUTH_TOKENS__JWKS_FILE": str(jwks),
                "AUTH_USER_CLIENT__TARGET": f"127.0.0.1:{user_port}",
                "AUTH_USER_CLIENT__BREAKER_RESET_SECONDS": "1",
                "AUTH_USER_CLIENT__MAX_ATTEMPTS": "2",
                "AUTH_USER_CLIENT__MAX_BACKOFF_SECONDS": "0.2",
                "AUTH_LOGIN__SLOWDOWN_SECONDS": "0.01",
                "AUTH_LOGIN__MAX_SLOWDOWN_SECONDS": "0.04",
                **(auth or {}),
            },
        )
        try:
            stack.start_user()
            stack.start_auth()
            yield stack
        finally:
            for channel in stack.channels:
                channel.close()
            if stack.auth_server is not None:
                stack.auth_server.stop(0)
            stack.stop_user()
