"""Helpers of the User Service e2e tests: settings, a client with callers, status codes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.grpc import GrpcServer
from servicekit.testing.tokens import TestIssuer
from services.user.settings import UserSettings, load

PASSWORD = "correct horse battery staple"

# The cheapest argon2id cost the settings accept: the tests exercise behaviour, not cost.
FAST_PASSWORDS = {
    "USER_PASSWORDS__TIME_COST": "1",
    "USER_PASSWORDS__MEMORY_COST_KIB": "1024",
    "USER_PASSWORDS__PARALLELISM": "1",
}


def user_settings(database_url: str, jwks_file: Path, **extra: str) -> UserSettings:
    """Settings for a test server: port 0, metrics on a free port, the test issuer's keys."""
    env = {
        "USER_DATABASE__URL": database_url,
        "USER_GRPC__PORT": "0",
        "USER_GRPC__GRACE_SECONDS": "2",
        "USER_METRICS__PORT": "0",
        "USER_AUTH__JWKS_FILE": str(jwks_file),
        **FAST_PASSWORDS,
        **extra,
    }
    return load(env=env)


@dataclass
class UserApi:
    """A client of one running server, with helpers to act as different callers."""

    server: GrpcServer
    channel: grpc.Channel
    issuer: TestIssuer
    database_url: str

    @property
    def stub(self) -> user_service_pb2_grpc.UserServiceStub:
        return user_service_pb2_grpc.UserServiceStub(self.channel)

    def health(self, service: str = "") -> int:
        stub = health_pb2_grpc.HealthStub(self.channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return int(reply.status)

    def as_user(self, user: user_pb2.User | str, *roles: str) -> tuple[tuple[str, str], ...]:
        subject = user if isinstance(user, str) else user.id
        return (("authorization", f"Bearer {self.issuer.mint(subject, roles)}"),)

    def as_admin(self) -> tuple[tuple[str, str], ...]:
        return self.as_user(str(uuid.uuid4()), "admin")

    def as_service(self, name: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.issuer.mint(name, service=name)}"),)

    def create(self, email: str | None = None, name: str = "Ada Lovelace") -> user_pb2.User:
        request = user_service_pb2.CreateUserRequest(
            email=email or unique_email(), display_name=name, password=PASSWORD
        )
        reply: user_service_pb2.CreateUserResponse = self.stub.CreateUser(request, timeout=10)
        return reply.user


def unique_email(local: str = "user") -> str:
    return f"{local}-{uuid.uuid4().hex[:10]}@example.com"


def code_of(call: pytest.ExceptionInfo[grpc.RpcError]) -> grpc.StatusCode:
    error = call.value
    assert isinstance(error, grpc.Call)
    code: grpc.StatusCode = error.code()
    return code
