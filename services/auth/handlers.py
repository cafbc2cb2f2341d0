"""The gRPC face of the Auth Service: proto in, one use case, proto out.

No rule lives here and no status is set: use cases raise ``servicekit.errors`` classes
and the error-mapping interceptor turns them into statuses (``TooManyAttempts`` carries
its ``RetryInfo``). A sign-in names its client: the address servicekit bound for the call
(``servicekit.grpc.context.current_client``). The method names are gRPC's (``Login``),
hence the ``N802`` exemptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from acme.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from servicekit.grpc.context import current_client
from services.auth.service import AuthService, TokenPair

__all__ = ["TOKEN_TYPE", "AuthServiceHandlers", "jwk_to_proto", "token_pair_to_proto"]

TOKEN_TYPE = "Bearer"  # noqa: S105 - the OAuth token type  # nosec B105
_JWK_FIELDS = ("kty", "kid", "use", "alg", "crv", "x", "y", "n", "e")


class AuthServiceHandlers(auth_service_pb2_grpc.AuthServiceServicer):
    """``acme.auth.v1.AuthService`` over an :class:`AuthService`."""

    def __init__(self, service: AuthService) -> None:
        self._service = service

    def Login(  # noqa: N802
        self, request: auth_service_pb2.LoginRequest, context: Any
    ) -> auth_service_pb2.LoginResponse:
        pair = self._service.login(
            email=request.email, password=request.password, client=current_client() or ""
        )
        return auth_service_pb2.LoginResponse(tokens=token_pair_to_proto(pair))

    def RefreshToken(  # noqa: N802
        self, request: auth_service_pb2.RefreshTokenRequest, context: Any
    ) -> auth_service_pb2.RefreshTokenResponse:
        pair = self._service.refresh(request.refresh_token)
        return auth_service_pb2.RefreshTokenResponse(tokens=token_pair_to_proto(pair))

    def Logout(  # noqa: N802
        self, request: auth_service_pb2.LogoutRequest, context: Any
    ) -> auth_service_pb2.LogoutResponse:
        self._service.logout(request.refresh_token)
        return auth_service_pb2.LogoutResponse()

    def GetJwks(  # noqa: N802
        self, request: auth_service_pb2.GetJwksRequest, context: Any
    ) -> auth_service_pb2.GetJwksResponse:
        keys = [jwk_to_proto(jwk) for jwk in self._service.jwks()]
        return auth_service_pb2.GetJwksResponse(keys=keys)


def token_pair_to_proto(pair: TokenPair) -> auth_service_pb2.TokenPair:
    message = auth_service_pb2.TokenPair(
        access_token=pair.access_token,
        token_type=TOKEN_TYPE,
        refresh_token=pair.refresh_token,
    )
    message.access_token_expire_time.FromDatetime(pair.access_token_expires_at)
    message.refresh_token_expire_time.FromDatetime(pair.refresh_token_expires_at)
    return message


def jwk_to_proto(jwk: Mapping[str, str]) -> auth_service_pb2.JsonWebKey:
    """The JWK's members the message has a field for; the others (none today) are dropped."""
    return auth_service_pb2.JsonWebKey(**{name: jwk[name] for name in _JWK_FIELDS if name in jwk})
