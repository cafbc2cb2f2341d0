"""The API Gateway's settings: one frozen tree, loaded once by ``load``.

``backends`` maps a backend's name to where it listens and which contract services it
serves (``[backends.user]`` in ``settings.toml``; ``GATEWAY_BACKENDS__USER__TARGET`` from
the environment); ``services.gateway.backendmap`` says how a map of names only the
layers know is loaded.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

from dotenv import dotenv_values
from limits import RateLimitItem, parse_many

from servicekit.clients import ClientSettings
from servicekit.config import SETTINGS_FILE, ConfigError, Environment, load_settings
from servicekit.logging import LoggingSettings
from servicekit.metrics import MetricsSettings
from servicekit.tracing import TracingSettings
from services.gateway.backendmap import (
    BACKENDS,
    NAME_RULE,
    backend_names,
    backends_of,
    loading_class,
    unusable_variables,
    valid_name,
)

__all__ = [
    "DEFAULT_SPEC_FILE",
    "ENV_PREFIX",
    "BackendSettings",
    "GatewaySettings",
    "HttpSettings",
    "RateLimitSettings",
    "default_backends",
    "load",
]

ENV_PREFIX = "GATEWAY"
SERVICE_DIR = Path(__file__).parent
BACKENDS_FILE = SERVICE_DIR / "backends.toml"
DEFAULT_SPEC_FILE = SERVICE_DIR.parents[1] / "api" / "openapi" / "acme.openapi.yaml"
"""The generated REST face of the contracts, in this repository."""

_FULL_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpSettings:
    """Where the REST face is served and how its own endpoints behave.

    - ``grace_seconds``: after SIGTERM or SIGINT, in-flight requests get this long.
    - ``spec_file``: the OpenAPI document to serve (empty: ``DEFAULT_SPEC_FILE``).
    - ``docs``: Swagger UI at ``/docs`` (the document is always at ``/openapi.json``).
    - ``readiness_cache_seconds``: how long one round of backend health checks answers
      ``/readyz``; ``jwks_cache_seconds`` the same for ``/.well-known/jwks.json``.
    - ``max_body_bytes``: larger request bodies are refused with 413 before they are read.
    - ``max_concurrent_requests``: requests to the backends at once; one more is answered
      503 at once (0: no bound). ``retry_after_seconds``: the ``Retry-After`` of every 503
      that carries no delay of a backend's.
    - ``trusted_proxies``: the proxies (addresses or networks) whose ``X-Forwarded-For``
      names the client; empty (the default): the client is the peer, and the header is
      ignored. The client's address keys the rate limits and is forwarded to the services.
    - ``workers``: processes serving the one port (``serve --workers N`` overrides it); each
      has its own ``max_concurrent_requests`` and rate-limit counters, as each replica has.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    grace_seconds: float = 10.0
    spec_file: str = ""
    docs: bool = True
    readiness_cache_seconds: float = 1.0
    jwks_cache_seconds: float = 10.0
    max_body_bytes: int = 1024 * 1024
    max_concurrent_requests: int = 128
    retry_after_seconds: float = 1.0
    trusted_proxies: tuple[str, ...] = ()
    workers: int = 1

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.workers < 1:
            problems.append(f"workers must be >= 1, got {self.workers}")
        wrong = [text for text in self.trusted_proxies if not _is_network(text)]
        if wrong:
            problems.append(
                "trusted_proxies must be addresses or networks (10.0.0.0/8), "
                f"got {', '.join(map(repr, wrong))}"
            )
        if not 0 <= self.port <= 65535:
            problems.append(f"port must be 0..65535, got {self.port}")
        if self.grace_seconds < 0:
            problems.append(f"grace_seconds must be >= 0, got {self.grace_seconds}")
        if min(self.readiness_cache_seconds, self.jwks_cache_seconds) < 0:
            problems.append("readiness_cache_seconds and jwks_cache_seconds must be >= 0")
        if self.max_body_bytes < 1:
            problems.append(f"max_body_bytes must be >= 1, got {self.max_body_bytes}")
        if self.max_concurrent_requests < 0 or self.retry_after_seconds < 0:
            problems.append("max_concurrent_requests and retry_after_seconds must be >= 0")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def spec_path(self) -> Path:
        """The OpenAPI document to serve."""
        return Path(self.spec_file) if self.spec_file else DEFAULT_SPEC_FILE


@dataclass(frozen=True, kw_only=True, slots=True)
class BackendSettings(ClientSettings):
    """One gRPC server behind the gateway: where it listens, how to call it (deadline,
    retries, breaker, TLS: ``ClientSettings``) and ``services``, the full names of the
    contract services it serves (``acme.user.v1.UserService``).

    A backend with no services is declared but unused: nothing routes to it, and the
    gateway neither opens nor checks it (``GATEWAY_BACKENDS__AUTH__SERVICES=`` switches
    one off).
    """

    services: tuple[str, ...] = ()
    # The gateway's own call policy, beneath what a backend's manifest asks for: a caller
    # of the REST face waits a few seconds at most, and a read may be tried three times.
    deadline_seconds: float = 5.0
    max_attempts: int = 3

    def __post_init__(self) -> None:
        problems: list[str] = []
        try:
            ClientSettings.__post_init__(self)
        except ValueError as exc:
            problems.append(str(exc))
        wrong = [name for name in self.services if not _FULL_NAME.fullmatch(name)]
        if wrong:
            problems.append(
                "services must be full names of contract services (acme.user.v1.UserService)"
                f", got {', '.join(map(repr, wrong))}"
            )
        if len(set(self.services)) != len(self.services):
            problems.append("services must name each contract service once")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True, kw_only=True, slots=True)
class RateLimitSettings:
    """Per-client rate limits of chosen operations (``services.gateway.ratelimits``).

    - ``operations``: ``<operationId>=<limits>`` entries, the operation as the document
      names it (``acme.auth.v1.AuthService.Login``) and its limits in the ``limits``
      library's notation, several joined by ``;`` (``10/minute;100/hour``). Each client
      (``http.trusted_proxies`` says how it is found) has its own budget per operation.
    - ``enabled``: false lifts every limit.
    - ``storage_uri``: where the counts live (``async+memory://``: in this process; an
      ``async+redis://`` URI shares them between replicas, with the library's extra).
    """

    enabled: bool = True
    operations: tuple[str, ...] = ()
    storage_uri: str = "async+memory://"

    def __post_init__(self) -> None:
        problems = [f"operations: {problem}" for problem in rate_limit_problems(self.operations)]
        if not self.storage_uri.startswith("async+"):
            problems.append(
                f"storage_uri must be an asyncio storage (async+...), got {self.storage_uri!r}"
            )
        if problems:
            raise ValueError("; ".join(problems))

    def limits(self) -> dict[str, tuple[RateLimitItem, ...]]:
        """The limits of each operation with any (an empty value lifts an operation's)."""
        if not self.enabled:
            return {}
        parsed = {}
        for entry in self.operations:
            operation, _, text = entry.partition("=")
            items = tuple(parse_many(text)) if text.strip() else ()
            if items:
                parsed[operation.strip()] = items
        return parsed


def rate_limit_problems(entries: tuple[str, ...]) -> list[str]:
    """What is wrong with each ``<operationId>=<limits>`` entry, in order."""
    problems = []
    seen: set[str] = set()
    for entry in entries:
        operation, equals, text = entry.partition("=")
        operation = operation.strip()
        if not equals or not _FULL_NAME.fullmatch(operation):
            problems.append(f"{entry!r} is not <operationId>=<limits>")
            continue
        if operation in seen:
            problems.append(f"{operation} is limited twice")
        seen.add(operation)
        try:
            if text.strip():
                parse_many(text)
        except ValueError:
            problems.append(f"{entry!r}: {text.strip()!r} is not a limit such as 10/minute")
    return problems


@dataclass(frozen=True, kw_only=True, slots=True)
class GatewaySettings:
    """Everything the gateway reads at start; ``backends`` by name (read-only)."""

    environment: Environment = "development"
    http: HttpSettings = field(default_factory=HttpSettings)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    backends: Mapping[str, BackendSettings] = field(default_factory=dict)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)

    def __post_init__(self) -> None:
        self.check_backends(self.backends)
        object.__setattr__(self, "backends", MappingProxyType(dict(self.backends)))

    @staticmethod
    def check_backends(backends: Mapping[str, BackendSettings]) -> None:
        """``ValueError`` naming every backend name that is unusable and every contract
        service that more than one backend claims."""
        problems = [f"{name!r}: {NAME_RULE}" for name in backends if not valid_name(name)]
        claimed: dict[str, list[str]] = {}
        for name, backend in backends.items():
            for service in backend.services:
                claimed.setdefault(service, []).append(name)
        problems += [
            f"{service} is served by one backend only, not by {' and '.join(sorted(names))}"
            for service, names in sorted(claimed.items())
            if len(names) > 1
        ]
        if problems:
            raise ValueError("; ".join(problems))


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return True


def default_backends(path: Path = BACKENDS_FILE) -> dict[str, BackendSettings]:
    """The backend map beneath every settings layer, by name: ``backends.toml``, which
    `make generate` derives from the service manifests (every gRPC service of the platform,
    its default address, the contract services it implements, the client settings it asks
    its callers for). ``settings.toml`` and the ``GATEWAY_BACKENDS__*`` variables override
    it key by key."""
    if not path.is_file():
        return {}
    table = tomllib.loads(path.read_text(encoding="utf-8")).get(BACKENDS, {})
    return {
        name: BackendSettings(**{**entry, "services": tuple(entry.get("services", ()))})
        for name, entry in table.items()
    }


def load(
    env: Mapping[str, str] | None = None,
    env_file: Path | None = None,
    *,
    defaults: Mapping[str, BackendSettings] | None = None,
) -> GatewaySettings:
    """Settings from ``settings.toml``, an optional env file and ``GATEWAY_*`` variables.

    ``defaults`` is the backend map beneath them all (``default_backends()`` when None);
    ``ConfigError`` lists every problem at once.
    """
    env = os.environ if env is None else env
    defaults = default_backends() if defaults is None else defaults
    file_variables = (
        [dotenv_values(env_file)] if env_file is not None and env_file.is_file() else []
    )
    names, problems = backend_names(
        settings_file=SERVICE_DIR / SETTINGS_FILE,
        sources=[*file_variables, env],
        prefix=ENV_PREFIX,
        defaults=defaults,
    )
    schema = loading_class(GatewaySettings, BackendSettings, names, defaults)
    refused = unusable_variables([*file_variables, env], prefix=ENV_PREFIX, names=names)
    try:
        loaded = load_settings(
            schema,
            service_dir=SERVICE_DIR,
            prefix=ENV_PREFIX,
            env=env,
            env_file=env_file,
            other_variables=refused,
        )
    except ConfigError as exc:
        raise ConfigError([*problems, *exc.problems]) from None
    if problems:
        raise ConfigError(problems)
    values = {f.name: getattr(loaded, f.name) for f in fields(GatewaySettings)}
    return GatewaySettings(**{**values, BACKENDS: backends_of(loaded.backends, BackendSettings)})
