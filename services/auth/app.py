"""The one wiring function of the Auth Service: settings in, a ready gRPC server out.

Nothing is built at import time; servicekit runs it (``definition``), and ``rotate_keys``
is the service's own command. The service signs with keys from its own database,
verifies incoming tokens against those same keys, and calls the User Service as itself
(a service token, or its client certificate under mTLS).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import structlog

from acme.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from acme.user.v1 import user_service_pb2
from servicekit.auth import JwksSource, TokenVerifier
from servicekit.auth.jwks import write_jwks_file
from servicekit.clients import RefreshingToken, open_channel
from servicekit.db import Database
from servicekit.grpc import (
    GrpcServer,
    Registration,
    build_server,
)
from servicekit.grpc.standard import ServiceRuntime
from servicekit.logging import configure_logging
from services.auth.attempts import LoginThrottle
from services.auth.domain import SessionLifetimes
from services.auth.handlers import AuthServiceHandlers
from services.auth.key_management import stored_signing_keys
from services.auth.keys import KeyEncryption, KeyRotation, SigningKeys
from services.auth.metrics import AuthMetrics
from services.auth.ports import AuthEvents, UserDirectory, VerifiedUser
from services.auth.service import AuthService
from services.auth.settings import AuthSettings
from services.auth.tokens import TokenIssuer
from services.auth.unit_of_work import SqlAlchemyAuthUnitOfWork
from services.auth.users import GrpcUserDirectory

__all__ = ["SERVICE_NAME", "create_server", "rotate_keys"]

SERVICE_NAME = "auth"
_AUTH_SERVICE = auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"]
_USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"]

_log = structlog.get_logger("services.auth")


def create_server(
    settings: AuthSettings, *, worker_index: int = 0, reuse_port: bool = False
) -> GrpcServer:
    """Build the server and everything it stands on; ``start()`` it, ``stop()`` closes all.

    Makes the first signing key when there is none, and publishes the keys to
    ``tokens.jwks_file`` when that is set.
    """
    runtime = ServiceRuntime.start(SERVICE_NAME, settings, worker_index=worker_index)
    keys, issuer = _signing(settings, runtime.database)
    users = open_channel(
        settings.user_client,
        service_name=_USER_SERVICE.full_name,
        credentials=RefreshingToken(
            lambda: issuer.mint_service_token(SERVICE_NAME).token,
            lifetime_seconds=issuer.ttl.total_seconds(),
            refresh_margin_seconds=min(30.0, issuer.ttl.total_seconds() / 2),
        ),
        tracer_provider=runtime.tracer_provider,
        registry=runtime.registry,
    )
    service = _auth_service(
        settings,
        runtime.database,
        keys,
        issuer,
        GrpcUserDirectory(users),
        events=AuthMetrics(runtime.registry),
    )
    service.ensure_signing_key()
    _publish(settings, service)
    server = build_server(
        settings.grpc,
        registrations=[
            Registration(
                auth_service_pb2_grpc.add_AuthServiceServicer_to_server,
                AuthServiceHandlers(service),
                _AUTH_SERVICE.full_name,
            )
        ],
        interceptors=runtime.interceptors(
            verifier=_own_verifier(settings, service), services=[_AUTH_SERVICE]
        ),
        health=runtime.health(),
        reuse_port=reuse_port,
    )
    runtime.close_with(server)
    server.add_on_stop(users.close)  # added last: closed first, before the pools
    _log.info(
        "auth service built",
        address=f"{settings.grpc.host}:{server.port}",
        database=runtime.database.url,
        user_service=settings.user_client.target,
        metrics=runtime.metrics_url,
        worker=worker_index,
    )
    return server


def rotate_keys(settings: AuthSettings) -> str:
    """Make a new signing key; old keys stay published for the rotation overlap."""
    configure_logging(settings.logging, service=SERVICE_NAME)
    database = Database(settings.database, pool_size=1)
    try:
        service = _auth_service(settings, database, *_signing(settings, database), None)
        key = service.rotate_keys()
        _publish(settings, service)
    finally:
        database.dispose()
    _log.info("signing key rotated", kid=key.kid)
    return key.kid


def _signing(settings: AuthSettings, database: Database) -> tuple[SigningKeys, TokenIssuer]:
    tokens = settings.tokens
    keys = SigningKeys(
        stored_signing_keys(lambda: SqlAlchemyAuthUnitOfWork(database)),
        encryption=KeyEncryption(tokens.key_encryption_secret.reveal().encode()),
        cache_for=timedelta(seconds=tokens.key_cache_seconds),
    )
    issuer = TokenIssuer(
        keys,
        issuer=tokens.issuer,
        audience=tokens.audience,
        ttl=timedelta(seconds=tokens.access_token_ttl_seconds),
    )
    return keys, issuer


def _auth_service(
    settings: AuthSettings,
    database: Database,
    keys: SigningKeys,
    issuer: TokenIssuer,
    users: UserDirectory | None,
    *,
    events: AuthEvents | None = None,
) -> AuthService:
    tokens, login = settings.tokens, settings.login
    return AuthService(
        unit_of_work=lambda: SqlAlchemyAuthUnitOfWork(database),
        users=users if users is not None else _NoUsers(),
        keys=keys,
        tokens=issuer,
        throttle=LoginThrottle(
            max_failures=login.max_failures,
            max_account_failures=login.max_account_failures,
            attempt_timeout=timedelta(seconds=login.attempt_timeout_seconds),
            window=timedelta(seconds=login.window_seconds),
            lockout=timedelta(seconds=login.lockout_seconds),
            slow_after=login.slow_after,
            slowdown=timedelta(seconds=login.slowdown_seconds),
            max_slowdown=timedelta(seconds=login.max_slowdown_seconds),
        ),
        lifetimes=SessionLifetimes(
            refresh_token_ttl=timedelta(seconds=tokens.refresh_token_ttl_seconds),
            session_ttl=timedelta(seconds=tokens.session_ttl_seconds),
            retention=timedelta(seconds=tokens.session_retention_seconds),
        ),
        rotation=KeyRotation(
            overlap=timedelta(seconds=tokens.key_rotation_overlap_seconds),
            activation_delay=timedelta(seconds=tokens.key_activation_delay_seconds),
        ),
        verifier_leeway=timedelta(seconds=tokens.leeway_seconds),
        events=events,
    )


def _own_verifier(settings: AuthSettings, service: AuthService) -> TokenVerifier:
    """Incoming tokens are checked against this service's own published keys."""
    tokens = settings.tokens
    source = JwksSource(
        lambda: json.dumps({"keys": service.jwks()}), description="the auth service's keys"
    )
    return TokenVerifier(
        source, issuer=tokens.issuer, audience=tokens.audience, leeway=tokens.leeway_seconds
    )


def _publish(settings: AuthSettings, service: AuthService) -> None:
    if settings.tokens.jwks_file:
        write_jwks_file(Path(settings.tokens.jwks_file), service.jwks())


class _NoUsers:
    """The user directory of commands that never sign anyone in (rotate-keys)."""

    def verify(self, email: str, password: str) -> VerifiedUser:
        raise RuntimeError("this command does not sign users in")

    def current(self, user_id: str) -> VerifiedUser | None:
        raise RuntimeError("this command does not refresh sessions")
