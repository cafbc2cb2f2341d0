"""``UserDirectory`` over the User Service's generated client: VerifyCredentials and
GetSignInState, as ``auth``.

The channel brings the deadline, retries on UNAVAILABLE, the circuit breaker and this
service's own token; this adapter turns the reply, or the gRPC error, into domain terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from acme.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from servicekit.clients import ManagedChannel
from services.auth.domain import InvalidCredentials
from services.auth.ports import VerifiedUser

__all__ = ["INVALID_CREDENTIALS", "GrpcUserDirectory"]

INVALID_CREDENTIALS = "invalid credentials"
"""The message of VerifyCredentials' UNAUTHENTICATED answer, as its contract states it
(any other UNAUTHENTICATED is about this service's own token, not the user's)."""

_ROLE_NAMES = {user_pb2.ROLE_ADMIN: "admin", user_pb2.ROLE_AUDITOR: "auditor"}


class GrpcUserDirectory:
    """Checks credentials with the User Service."""

    def __init__(self, channel: ManagedChannel) -> None:
        self._channel = channel
        self._stub = user_service_pb2_grpc.UserServiceStub(channel.channel)

    def verify(self, email: str, password: str) -> VerifiedUser:
        request = user_service_pb2.VerifyCredentialsRequest(email=email, password=password)
        try:
            reply = self._stub.VerifyCredentials(request)
        except grpc.RpcError as error:
            if _is_invalid_credentials(error):
                raise InvalidCredentials() from None
            raise self._channel.translate(error) from error
        return _user(reply.user, reply.password_set_time, reply.HasField("password_set_time"))

    def current(self, user_id: str) -> VerifiedUser | None:
        request = user_service_pb2.GetSignInStateRequest(id=user_id)
        try:
            reply = self._stub.GetSignInState(request)
        except grpc.RpcError as error:
            if isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise self._channel.translate(error) from error
        return _user(reply.user, reply.password_set_time, reply.HasField("password_set_time"))


def _user(user: user_pb2.User, password_set: Timestamp, has_password_set: bool) -> VerifiedUser:
    return VerifiedUser(
        id=user.id,
        roles=_role_names(user.roles),
        password_set_at=password_set.ToDatetime(tzinfo=UTC) if has_password_set else None,
    )


def _role_names(roles: Iterable[user_pb2.Role.ValueType]) -> frozenset[str]:
    return frozenset(_ROLE_NAMES[role] for role in roles if role in _ROLE_NAMES)


def _is_invalid_credentials(error: grpc.RpcError) -> bool:
    if not isinstance(error, grpc.Call):
        return False
    code = error.code()
    # The user service validates the pair with the contract's bounds; a pair it refuses
    # as malformed is a pair that matches nobody.
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return True
    details: str | None = error.details()
    return code == grpc.StatusCode.UNAUTHENTICATED and details == INVALID_CREDENTIALS
