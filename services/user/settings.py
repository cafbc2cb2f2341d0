"""The User Service's settings: one frozen tree, loaded once by ``load``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from servicekit.auth import AuthSettings
from servicekit.config import Environment, Secret, SettingsLoader, insecure_default
from servicekit.db import DatabaseSettings
from servicekit.grpc import GrpcSettings
from servicekit.logging import LoggingSettings
from servicekit.metrics import MetricsSettings
from servicekit.tracing import TracingSettings

__all__ = ["ENV_PREFIX", "PaginationSettings", "PasswordSettings", "UserSettings", "load"]

ENV_PREFIX = "USER"
SERVICE_DIR = Path(__file__).parent


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordSettings:
    """argon2id cost (RFC 9106's second recommended option by default: t=3, m=64 MiB, p=4)
    and how many runs may be under way at once, per process.

    At most ``max_concurrent`` hashes or verifications run at once (each holds
    ``memory_cost_kib``), ``max_waiting`` more wait up to ``max_wait_seconds`` for a turn;
    any other call is refused at once with RESOURCE_EXHAUSTED and a retry delay of
    ``retry_after_seconds``. Keep ``max_wait_seconds`` plus one run well below the
    deadline of the callers (the auth service's user client: 2 s).
    """

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4
    max_concurrent: int = 2
    max_waiting: int = 4
    max_wait_seconds: float = 1.0
    retry_after_seconds: float = 1.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.max_concurrent < 1 or self.max_waiting < 0:
            problems.append("max_concurrent must be >= 1 and max_waiting >= 0")
        if min(self.max_wait_seconds, self.retry_after_seconds) < 0:
            problems.append("max_wait_seconds and retry_after_seconds must be >= 0")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True, kw_only=True, slots=True)
class PaginationSettings:
    """``page_token_secret`` keys the MAC of ListUsers' page tokens; every replica must
    share it. Its development value is refused outside development."""

    page_token_secret: Annotated[Secret, insecure_default("dev-page-token-secret")]


@dataclass(frozen=True, kw_only=True, slots=True)
class UserSettings:
    environment: Environment = "development"
    grpc: GrpcSettings = field(default_factory=GrpcSettings)
    database: DatabaseSettings
    auth: AuthSettings = field(default_factory=AuthSettings)
    passwords: PasswordSettings = field(default_factory=PasswordSettings)
    pagination: PaginationSettings
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)


load = SettingsLoader(UserSettings, service_dir=SERVICE_DIR, prefix=ENV_PREFIX)
"""``load(env=None, env_file=None)``: ``settings.toml``, an optional env file, then
``USER_*`` variables (of ``os.environ`` unless ``env`` is given)."""
