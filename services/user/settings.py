"""The User Service's settings: one frozen tree, loaded once by ``load``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from servicekit.auth import AuthSettings
from servicekit.config import Environment, SettingsLoader
from servicekit.db import DatabaseSettings
from servicekit.grpc import GrpcSettings
from servicekit.logging import LoggingSettings
from servicekit.metrics import MetricsSettings
from servicekit.tracing import TracingSettings

__all__ = ["ENV_PREFIX", "PasswordSettings", "UserSettings", "load"]

ENV_PREFIX = "USER"
SERVICE_DIR = Path(__file__).parent


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordSettings:
    """argon2id cost (RFC 9106's second recommended option by default: t=3, m=64 MiB, p=4)."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


@dataclass(frozen=True, kw_only=True, slots=True)
class UserSettings:
    environment: Environment = "development"
    grpc: GrpcSettings = field(default_factory=GrpcSettings)
    database: DatabaseSettings
    auth: AuthSettings = field(default_factory=AuthSettings)
    passwords: PasswordSettings = field(default_factory=PasswordSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)


load = SettingsLoader(UserSettings, service_dir=SERVICE_DIR, prefix=ENV_PREFIX)
"""``load(env=None, env_file=None)``: ``settings.toml``, an optional env file, then
``USER_*`` variables (of ``os.environ`` unless ``env`` is given)."""
