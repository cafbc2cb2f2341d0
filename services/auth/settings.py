"""The Auth Service's settings: one frozen tree, loaded once by ``load``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from servicekit.clients import ClientSettings
from servicekit.config import Environment, Secret, SettingsLoader, insecure_default
from servicekit.db import DatabaseSettings
from servicekit.grpc import GrpcSettings
from servicekit.logging import LoggingSettings
from servicekit.metrics import MetricsSettings
from servicekit.tracing import TracingSettings

__all__ = ["ENV_PREFIX", "AuthSettings", "LoginSettings", "TokenSettings", "load"]

ENV_PREFIX = "AUTH"
SERVICE_DIR = Path(__file__).parent


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenSettings:
    """Access and refresh tokens, and the keys that sign them.

    ``key_rotation_overlap_seconds`` must cover an access token's life plus the key cache
    and the verifiers' leeway, so a token signed just before a rotation still verifies.
    ``jwks_file``, when set, is rewritten with the published keys at start and after a
    rotation, for services that read keys from a file (``make up``).
    """

    issuer: str = "acme-auth"
    audience: str = "acme"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 14 * 24 * 3600
    session_ttl_seconds: int = 30 * 24 * 3600
    session_retention_seconds: int = 7 * 24 * 3600
    key_encryption_secret: Annotated[Secret, insecure_default("dev-key-encryption-secret")]
    key_rotation_overlap_seconds: int = 3600
    key_activation_delay_seconds: int = 0
    key_cache_seconds: int = 30
    leeway_seconds: int = 30
    jwks_file: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class LoginSettings:
    """Brute-force protection, per account (known or not) and client
    (``services.auth.domain.LoginThrottle``).

    ``max_failures`` failures of one client on one account within ``window_seconds`` lock
    that client out of that account for ``lockout_seconds``; ``max_account_failures``
    from all clients together lock the account for everyone. The client is the caller's
    address, or the one the gateway forwards (``grpc.forwarding`` says whom to believe).
    An attempt counts as in progress for at most ``attempt_timeout_seconds``.
    """

    max_failures: int = 5
    max_account_failures: int = 50
    window_seconds: int = 900
    lockout_seconds: int = 900
    slow_after: int = 3
    slowdown_seconds: float = 1.0
    max_slowdown_seconds: float = 4.0
    attempt_timeout_seconds: float = 60.0


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthSettings:
    environment: Environment = "development"
    grpc: GrpcSettings = field(default_factory=GrpcSettings)
    database: DatabaseSettings
    tokens: TokenSettings
    login: LoginSettings = field(default_factory=LoginSettings)
    user_client: ClientSettings
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)


load = SettingsLoader(AuthSettings, service_dir=SERVICE_DIR, prefix=ENV_PREFIX)
"""``load(env=None, env_file=None)``: ``settings.toml``, an optional env file, then
``AUTH_*`` variables (of ``os.environ`` unless ``env`` is given)."""
