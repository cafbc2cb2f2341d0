"""Builds the synchronous gRPC server every service runs, and stops it in the right order.

grpcio's sync server on a thread pool serves this stack's unary calls faster than
grpc.aio. ``build_server`` adds the servicers, the health service (always: probes need
it), reflection (for ``buf curl`` and grpcurl) and one interceptor chain behind
``servicekit.grpc.admission`` (the bound on concurrent calls, health checks on threads of
their own, each call's scope), and binds the port, over TLS or mutual TLS when
``settings.tls`` says so. ``GrpcServer.stop`` is the one shutdown path: health NOT_SERVING
first, so load balancers move away; no new call; the running handlers are waited for
within the grace period; then the ones left are given up (none commits any more, one
that committed still answers) before gRPC aborts them with UNAVAILABLE; then the
``on_stop`` callbacks (close pools, flush the tracer) in reverse order of registration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import grpc
import structlog
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from servicekit.binding import BindError
from servicekit.grpc.admission import CallAdmission
from servicekit.grpc.forwarding import ForwardingSettings
from servicekit.grpc.health import HEALTH_SERVICE_NAME, HealthReporter
from servicekit.tls import TlsServerSettings, server_credentials

__all__ = ["BindError", "GrpcServer", "GrpcSettings", "Registration", "build_server"]

_MIB = 1024 * 1024
_HEALTH_THREADS = 2
_SETTLE_SECONDS = 2.0
"""After the grace period: how long a call that committed gets to answer before the
abort, and how long the handlers given up on get to wind down before the pools close."""
_logger = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class GrpcSettings:
    """Where and how a service serves gRPC; every default is the local-development one.

    ``forwarding`` says whose forwarded client address to believe
    (``servicekit.grpc.forwarding``). ``max_concurrent_rpcs``: unary calls that may run at
    once, the next one refused with RESOURCE_EXHAUSTED and ``busy_retry_after_seconds``
    (0: ``max_workers`` less one in eight, at least one; a thread must stay free to refuse
    on). ``default_deadline_seconds`` bounds the work of a call whose caller set no
    deadline (0: none).
    """

    host: str = "127.0.0.1"
    port: int = 50051
    max_workers: int = 16
    max_receive_message_bytes: int = 4 * _MIB
    max_send_message_bytes: int = 4 * _MIB
    grace_seconds: float = 10.0
    max_concurrent_rpcs: int = 0
    busy_retry_after_seconds: float = 1.0
    default_deadline_seconds: float = 30.0
    workers: int = 1
    reflection: bool = True
    tls: TlsServerSettings = field(default_factory=TlsServerSettings)
    forwarding: ForwardingSettings = field(default_factory=ForwardingSettings)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 0 <= self.port <= 65535:
            problems.append(f"port must be 0..65535, got {self.port}")
        if self.max_workers < 1:
            problems.append(f"max_workers must be >= 1, got {self.max_workers}")
        if self.workers < 1:
            problems.append(f"workers must be >= 1, got {self.workers}")
        if min(self.max_receive_message_bytes, self.max_send_message_bytes) < 1:
            problems.append("max_receive_message_bytes and max_send_message_bytes must be >= 1")
        if self.grace_seconds < 0:
            problems.append(f"grace_seconds must be >= 0, got {self.grace_seconds}")
        problems += self._admission_problems()
        if problems:
            raise ValueError("; ".join(problems))

    def _admission_problems(self) -> list[str]:
        problems: list[str] = []
        if self.max_concurrent_rpcs < 0:
            problems.append(f"max_concurrent_rpcs must be >= 0, got {self.max_concurrent_rpcs}")
        elif self.max_concurrent_rpcs >= self.max_workers > 1:
            problems.append(
                f"max_concurrent_rpcs must be below max_workers ({self.max_workers}): a "
                "thread must stay free to refuse calls on"
            )
        if self.busy_retry_after_seconds < 0 or self.default_deadline_seconds < 0:
            problems.append("busy_retry_after_seconds and default_deadline_seconds must be >= 0")
        return problems

    @property
    def concurrency_limit(self) -> int:
        """The unary calls that may run at once (``max_concurrent_rpcs``, or its default)."""
        if self.max_concurrent_rpcs:
            return self.max_concurrent_rpcs
        return max(1, self.max_workers - max(1, self.max_workers // 8))

    @property
    def address(self) -> str:
        """``host:port``, with an IPv6 host in brackets."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Registration:
    """A servicer and how to add it: ``add_UserServiceServicer_to_server`` and its full name.

    ``service_name`` (``acme.user.v1.UserService``) is what health and reflection report.
    Positional or keyword: it reads like the ``(add_fn, servicer, name)`` triple it replaces.
    """

    add_to_server: Callable[[Any, Any], None]
    servicer: object
    service_name: str


class GrpcServer:
    """A built server: ``start()``, then ``stop(grace)`` once; ``port`` is the bound port."""

    def __init__(
        self,
        server: Any,
        *,
        executor: ThreadPoolExecutor,
        health: HealthReporter,
        address: str,
        port: int,
        grace_seconds: float,
        admission: CallAdmission | None = None,
        health_pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self._server = server
        self._executor = executor
        self._admission = admission or CallAdmission(limit=1 << 30)
        self._health_pool = health_pool
        self._health = health
        self._address = address
        self._port = port
        self._grace_seconds = grace_seconds
        self._on_stop: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self._started = False
        self._stopping = False
        self._cut_short = threading.Event()
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        """The port actually bound (the chosen one when the settings said 0)."""
        return self._port

    @property
    def address(self) -> str:
        """The address the server listens on, with the bound port."""
        return self._address

    @property
    def health(self) -> HealthReporter:
        return self._health

    @property
    def admission(self) -> CallAdmission:
        """The bound on concurrent calls, with its counts (``in_flight``, ``refused``)."""
        return self._admission

    def add_on_stop(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` after the drain; callbacks run in reverse order of adding."""
        self._on_stop.append(callback)

    def start(self) -> None:
        """Check readiness once, then accept calls. A second call does nothing."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self._health.start()
        self._server.start()
        _logger.info("grpc server started", address=self._address)

    def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, drain for ``grace`` seconds (default: the settings'), run on_stop.

        New calls are refused from the start. Handlers still running when the grace period
        ends are given up: none of them may commit any more (one committing is waited
        for, one that committed answers), then gRPC aborts their calls with UNAVAILABLE,
        which is then true: nothing was written for them. A second call while the first
        drains (a second SIGTERM, say) ends the drain now and waits for the end of the
        stop; it runs no callback twice.
        """
        grace = self._grace_seconds if grace is None else grace
        with self._lock:
            first = not self._stopping
            self._stopping = True
        if not first:
            self._cut_short.set()
            self._stopped.wait()
            return
        _logger.info("grpc server stopping", address=self._address, grace_seconds=grace)
        self._health.shutdown()
        self._admission.close()
        done = self._server.stop(grace + 2 * _SETTLE_SECONDS)  # gRPC's abort: a backstop
        if not self._admission.wait_idle(grace, cut_short=self._cut_short):
            _logger.warning(
                "grace period over: giving up on the calls still running",
                calls=self._admission.in_flight,
            )
            self._admission.end_all(settle=_SETTLE_SECONDS)
            done = self._server.stop(0)
            self._admission.wait_idle(_SETTLE_SECONDS)
        done.wait(_SETTLE_SECONDS)
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._health_pool is not None:
            self._health_pool.shutdown(wait=False, cancel_futures=True)
        for callback in reversed(self._on_stop):
            _run_callback(callback)
        _logger.info("grpc server stopped", address=self._address)
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``stop`` has finished (or ``timeout``); True when it has."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop(0)


def build_server(
    settings: GrpcSettings,
    *,
    registrations: Sequence[Registration],
    interceptors: Sequence[Any] = (),
    health: HealthReporter | None = None,
    reuse_port: bool = False,
) -> GrpcServer:
    """A bound, not yet started server; see the module docstring for what it serves.

    ``interceptors`` run outermost first (``servicekit.grpc.chain.default_interceptors``).
    ``health`` defaults to a reporter with no checks (SERVING while up). ``reuse_port``
    lets several processes bind one port (``run_workers``); otherwise a port in use is
    an error, not a silent share.
    """
    credentials = server_credentials(settings.tls)  # reads the files: fail before building
    health = health or HealthReporter()
    executor = ThreadPoolExecutor(
        max_workers=settings.max_workers, thread_name_prefix="servicekit-grpc"
    )
    health_pool = ThreadPoolExecutor(
        max_workers=_HEALTH_THREADS, thread_name_prefix="servicekit-health"
    )
    admission = CallAdmission(
        limit=settings.concurrency_limit,
        retry_after_seconds=settings.busy_retry_after_seconds,
        default_deadline_seconds=settings.default_deadline_seconds or None,
        health_pool=health_pool,
    )
    server = grpc.server(
        executor,
        interceptors=[admission, *interceptors],
        options=[
            ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
            ("grpc.max_send_message_length", settings.max_send_message_bytes),
            ("grpc.so_reuseport", 1 if reuse_port else 0),
        ],
        maximum_concurrent_rpcs=None,
    )
    for registration in registrations:
        registration.add_to_server(registration.servicer, server)
        health.register(registration.service_name)
    health_pb2_grpc.add_HealthServicer_to_server(health.servicer, server)
    if settings.reflection:
        names = [r.service_name for r in registrations]
        reflection.enable_server_reflection(
            (*names, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME), server
        )
    port = _bind(server, executor, settings.address, credentials)
    address = f"{settings.address.rsplit(':', 1)[0]}:{port}"
    return GrpcServer(
        server,
        executor=executor,
        health=health,
        address=address,
        port=port,
        grace_seconds=settings.grace_seconds,
        admission=admission,
        health_pool=health_pool,
    )


def _bind(server: Any, executor: ThreadPoolExecutor, address: str, credentials: Any) -> int:
    """Listen on ``address``: over TLS with ``credentials``, in plain text without."""
    try:
        if credentials is not None:
            return int(server.add_secure_port(address, credentials))
        return int(server.add_insecure_port(address))
    except RuntimeError as exc:
        server.stop(None)
        executor.shutdown(wait=False)  # the health pool never started a thread
        raise BindError(
            f"cannot listen for gRPC on {address}: the port is in use or the host is not "
            "an address of this machine (GRPC_VERBOSITY=debug tells which)"
        ) from exc


def _run_callback(callback: Callable[[], object]) -> None:
    try:
        callback()
    except Exception as exc:  # one failing cleanup must not skip the others
        _logger.error("on_stop callback failed", callback=repr(callback), exc_info=exc)
