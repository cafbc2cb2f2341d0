"""How a service calls another one: address, deadline, retries, breaker, keepalive, TLS.

One ``ClientSettings`` per dependency, nested in the service's settings (``[user_client]``
in ``settings.toml``, ``AUTH_USER_CLIENT__TARGET=user:50051`` from the environment).
Every default is a reasonable production value except ``target``, which has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from servicekit.tls import TlsClientSettings

__all__ = ["MAX_ATTEMPTS_LIMIT", "ClientSettings"]

MAX_ATTEMPTS_LIMIT = 5
"""gRPC treats any ``maxAttempts`` above 5 as 5 (service_config.proto, RetryPolicy)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientSettings:
    """A dependency's address and how hard to try it.

    - ``target``: ``host:port`` (or any gRPC target: ``dns:///user:50051``).
    - ``deadline_seconds``: the deadline of a call whose caller gave none; it bounds the
      whole call, retries included.
    - ``max_attempts`` (1-5, 1: no retry), ``initial_backoff_seconds``,
      ``max_backoff_seconds``, ``backoff_multiplier``: gRPC's retry policy, applied to
      UNAVAILABLE only. The same bounds pace reconnection to a peer that went away.
    - ``breaker_failure_threshold`` consecutive UNAVAILABLE or DEADLINE_EXCEEDED calls open
      the circuit for ``breaker_reset_seconds``; then one trial call decides.
    - ``keepalive_seconds``, ``keepalive_timeout_seconds``: while calls are in flight, a
      ping every ``keepalive_seconds`` that must be answered in time, so a connection to
      a peer that vanished (a node gone, no TCP reset) is dropped rather than waited on.
    """

    target: str
    deadline_seconds: float = 2.0
    max_attempts: int = 4
    initial_backoff_seconds: float = 0.1
    max_backoff_seconds: float = 2.0
    backoff_multiplier: float = 2.0
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 5.0
    keepalive_seconds: float = 60.0
    keepalive_timeout_seconds: float = 20.0
    tls: TlsClientSettings = field(default_factory=TlsClientSettings)

    def __post_init__(self) -> None:
        problems = [*self._call_problems(), *self._retry_problems(), *self._breaker_problems()]
        if problems:
            raise ValueError("; ".join(problems))

    def _call_problems(self) -> list[str]:
        problems: list[str] = []
        if not self.target.strip():
            problems.append("target must name the service's address (host:port)")
        if self.deadline_seconds <= 0:
            problems.append(f"deadline_seconds must be > 0, got {self.deadline_seconds}")
        if min(self.keepalive_seconds, self.keepalive_timeout_seconds) <= 0:
            problems.append("keepalive_seconds and keepalive_timeout_seconds must be > 0")
        return problems

    def _retry_problems(self) -> list[str]:
        problems: list[str] = []
        if not 1 <= self.max_attempts <= MAX_ATTEMPTS_LIMIT:
            problems.append(
                f"max_attempts must be 1..{MAX_ATTEMPTS_LIMIT} (gRPC's limit), "
                f"got {self.max_attempts}"
            )
        if self.initial_backoff_seconds <= 0:
            problems.append("initial_backoff_seconds must be > 0")
        if self.max_backoff_seconds < self.initial_backoff_seconds:
            problems.append("max_backoff_seconds must be >= initial_backoff_seconds")
        if self.backoff_multiplier < 1:
            problems.append(f"backoff_multiplier must be >= 1, got {self.backoff_multiplier}")
        return problems

    def _breaker_problems(self) -> list[str]:
        problems: list[str] = []
        if self.breaker_failure_threshold < 1:
            problems.append("breaker_failure_threshold must be >= 1")
        if self.breaker_reset_seconds <= 0:
            problems.append("breaker_reset_seconds must be > 0")
        return problems
