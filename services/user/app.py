"""The one wiring function of the User Service: settings in, a ready gRPC server out.

Nothing is built at import time. servicekit runs it (``definition``): ``serve`` calls
``create_server`` in one process, or in ``workers`` processes that share the port (each
builds its own server, pools and metrics endpoint after it starts). ``create_admin`` is the
service's own command.
"""

from __future__ import annotations

import sys

import protovalidate
import structlog

from acme.user.v1 import user_service_pb2, user_service_pb2_grpc
from servicekit.auth import TokenVerifier
from servicekit.db import Database
from servicekit.errors import InvalidArgument
from servicekit.grpc import (
    GrpcServer,
    Registration,
    build_server,
)
from servicekit.grpc.interceptors.validation import validate_request
from servicekit.grpc.standard import ServiceRuntime
from servicekit.logging import configure_logging
from services.user.contract import contract_page_limits, contract_update_mask
from services.user.events import UserEvents
from services.user.handlers import UserServiceHandlers
from services.user.metrics import UserMetrics
from services.user.pagination import PageTokens
from services.user.passwords import Passwords
from services.user.service import UserService
from services.user.settings import UserSettings
from services.user.unit_of_work import SqlAlchemyUserUnitOfWork

__all__ = ["SERVICE_NAME", "create_admin", "create_server"]

SERVICE_NAME = "user"
_USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"]

_log = structlog.get_logger("services.user")


def create_server(
    settings: UserSettings, *, worker_index: int = 0, reuse_port: bool = False
) -> GrpcServer:
    """Build the server and everything it stands on; ``start()`` it, ``stop()`` closes all.

    ``reuse_port`` lets several worker processes bind the same port (SO_REUSEPORT).
    """
    runtime = ServiceRuntime.start(SERVICE_NAME, settings, worker_index=worker_index)
    server = build_server(
        settings.grpc,
        registrations=[
            Registration(
                user_service_pb2_grpc.add_UserServiceServicer_to_server,
                UserServiceHandlers(
                    _user_service(settings, runtime.database, UserMetrics(runtime.registry))
                ),
                _USER_SERVICE.full_name,
            )
        ],
        interceptors=runtime.interceptors(
            verifier=TokenVerifier.from_settings(settings.auth), services=[_USER_SERVICE]
        ),
        health=runtime.health(),
        reuse_port=reuse_port,
    )
    runtime.close_with(server)
    _log.info(
        "user service built",
        address=f"{settings.grpc.host}:{server.port}",
        database=runtime.database.url,
        metrics=runtime.metrics_url,
        worker=worker_index,
    )
    return server


def create_admin(settings: UserSettings, *, email: str, display_name: str, password: str) -> int:
    """Create the first admin, or promote an existing user; the contract's rules apply.

    One line says what was done, or which rule refused the request (exit code 2)."""
    configure_logging(settings.logging, service=SERVICE_NAME)
    request = user_service_pb2.CreateUserRequest(
        email=email, display_name=display_name, password=password
    )
    try:
        validate_request(protovalidate.Validator(), request)
    except InvalidArgument as exc:
        refused = "; ".join(f"{v.field}: {v.message} ({v.rule})" for v in exc.violations)
        print(f"{SERVICE_NAME}: create-admin refused: {refused}", file=sys.stderr)
        return 2
    database = Database(settings.database, pool_size=1)
    try:
        user = _user_service(settings, database).bootstrap_admin(
            email=email, display_name=display_name, password=password
        )
    finally:
        database.dispose()
    print(f"{SERVICE_NAME}: {user.email} is an admin (user id {user.id})", flush=True)
    return 0


def _user_service(
    settings: UserSettings, database: Database, events: UserEvents | None = None
) -> UserService:
    return UserService(
        unit_of_work=lambda: SqlAlchemyUserUnitOfWork(database),
        passwords=Passwords.from_settings(settings.passwords),
        page_limits=contract_page_limits(),
        update_mask=contract_update_mask(),
        page_tokens=PageTokens(settings.pagination.page_token_secret.reveal().encode()),
        events=events,
    )
