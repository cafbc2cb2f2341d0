"""The API Gateway's settings: one frozen tree, loaded once by ``load``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from servicekit.clients import ClientSettings
from servicekit.config import Environment, load_settings
from servicekit.logging import LoggingSettings
from servicekit.metrics import MetricsSettings
from servicekit.tracing import TracingSettings

__all__ = [
    "DEFAULT_SPEC_FILE",
    "ENV_PREFIX",
    "BackendSettings",
    "GatewaySettings",
    "HttpSettings",
    "load",
]

ENV_PREFIX = "GATEWAY"
SERVICE_DIR = Path(__file__).parent
DEFAULT_SPEC_FILE = SERVICE_DIR.parents[1] / "api" / "openapi" / "acme.openapi.yaml"
"""The generated REST face of the contracts, in this repository."""


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpSettings:
    """Where the REST face is served and how its own endpoints behave.

    - ``grace_seconds``: after SIGTERM or SIGINT, in-flight requests get this long.
    - ``spec_file``: the OpenAPI document to serve (empty: ``DEFAULT_SPEC_FILE``).
    - ``docs``: Swagger UI at ``/docs`` (the document is always at ``/openapi.json``).
    - ``readiness_cache_seconds``: how long one round of backend health checks answers
      ``/readyz``; ``jwks_cache_seconds`` the same for ``/.well-known/jwks.json``.
    - ``max_body_bytes``: larger request bodies are refused with 413 before they are read.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    grace_seconds: float = 10.0
    spec_file: str = ""
    docs: bool = True
    readiness_cache_seconds: float = 1.0
    jwks_cache_seconds: float = 10.0
    max_body_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 0 <= self.port <= 65535:
            problems.append(f"port must be 0..65535, got {self.port}")
        if self.grace_seconds < 0:
            problems.append(f"grace_seconds must be >= 0, got {self.grace_seconds}")
        if min(self.readiness_cache_seconds, self.jwks_cache_seconds) < 0:
            problems.append("readiness_cache_seconds and jwks_cache_seconds must be >= 0")
        if self.max_body_bytes < 1:
            problems.append(f"max_body_bytes must be >= 1, got {self.max_body_bytes}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def spec_path(self) -> Path:
        """The OpenAPI document to serve."""
        return Path(self.spec_file) if self.spec_file else DEFAULT_SPEC_FILE


@dataclass(frozen=True, kw_only=True, slots=True)
class BackendSettings:
    """The gRPC services behind the gateway: address, deadline, retries, breaker, TLS."""

    user: ClientSettings
    auth: ClientSettings


@dataclass(frozen=True, kw_only=True, slots=True)
class GatewaySettings:
    environment: Environment = "development"
    http: HttpSettings = field(default_factory=HttpSettings)
    backends: BackendSettings
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)


def load(env: Mapping[str, str] | None = None, env_file: Path | None = None) -> GatewaySettings:
    """Settings from ``settings.toml``, an optional env file and ``GATEWAY_*`` variables."""
    return load_settings(
        GatewaySettings,
        service_dir=SERVICE_DIR,
        prefix=ENV_PREFIX,
        env=os.environ if env is None else env,
        env_file=env_file,
    )
