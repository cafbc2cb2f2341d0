"""The machinery of the fault suite: the real services, a real PostgreSQL behind a fault
proxy, and clients that keep count of every call.

- ``database(tmp)``: a throw-away PostgreSQL database (the tests' server, never stopped),
  migrated, and a ``servicekit.testing.proxy.TcpProxy`` in front of it that a scenario
  cuts, freezes or slows.
- ``ServiceProcess``: ``python -m services.user serve`` (or the gateway) as a process of
  its own, on a fixed free port so that clients find it again after a restart; SIGTERM,
  kill -9, its sockets to the database (``/proc``).
- ``Load``: client threads in a loop until stopped: creates (each with a request id of its
  own, AIP-155), reads of one user, liveness probes; each call is one ``Attempt``.
- ``settle``: after the fault, every create that failed is sent again with the same
  request (an idempotent retry), and the database is read directly, so a scenario can
  count the writes that were committed but reported failed, and the acknowledged ones that
  were lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from acme.user.v1 import user_service_pb2 as pb
from acme.user.v1.user_service_pb2_grpc import UserServiceStub
from servicekit.db import upgrade
from servicekit.testing.databases import temporary_database
from servicekit.testing.ports import free_port
from servicekit.testing.proxy import TcpProxy
from servicekit.testing.tokens import TestIssuer
from services.user.models import MIGRATIONS_DIR

__all__ = [
    "PASSWORD",
    "Attempt",
    "Create",
    "Load",
    "ServiceProcess",
    "Stage",
    "database",
    "first_ok_after",
    "settle",
    "stored_requests",
]

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
_CLOSE_WAIT = "08"  # /proc/net/tcp state
RECONNECT = [
    # As servicekit's clients pace reconnection (ClientSettings' backoff bounds), so a
    # restarted server is found again within half a second, not gRPC's default of minutes.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]


@dataclass
class Stage:
    """A migrated database, the proxy in front of it, and the test issuer's keys."""

    url: str  # direct: what the scenario reads to check
    proxy: TcpProxy
    proxied_url: str  # what the service uses
    issuer: TestIssuer


@contextmanager
def database(tmp: Path) -> Iterator[Stage]:
    with temporary_database("postgresql", tmp) as url:
        upgrade(url, MIGRATIONS_DIR)
        with TcpProxy.to_database(url) as proxy:
            proxied = make_url(url).set(host="127.0.0.1", port=proxy.port)
            try:
                yield Stage(
                    url, proxy, proxied.render_as_string(hide_password=False), TestIssuer(tmp)
                )
            finally:
                proxy.thaw()
                proxy.slow(0)
                proxy.restore()


def user_env(stage: Stage, port: int, **extra: str) -> dict[str, str]:
    """Settings of a user service on ``port`` whose database goes through the proxy."""
    return {
        "USER_DATABASE__URL": stage.proxied_url,
        "USER_DATABASE__CONNECT_TIMEOUT_SECONDS": "1",
        "USER_GRPC__PORT": str(port),
        "USER_GRPC__GRACE_SECONDS": "2",
        "USER_METRICS__PORT": "0",
        "USER_AUTH__JWKS_FILE": str(stage.issuer.jwks_file),
        "USER_LOGGING__FORMAT": "json",
        "USER_LOGGING__LEVEL": "warning",
        "USER_PASSWORDS__TIME_COST": "1",
        "USER_PASSWORDS__MEMORY_COST_KIB": "1024",
        "USER_PASSWORDS__PARALLELISM": "1",
        **extra,
    }


class ServiceProcess:
    """A service's ``serve`` command in a process of its own; ``start`` waits until ready."""

    def __init__(self, module: str, env: Mapping[str, str], *, address: str) -> None:
        self.module = module
        self.env = {**os.environ, **env}
        self.address = address
        self.process: subprocess.Popen[str] | None = None
        self.log: list[dict[str, Any]] = []

    @classmethod
    def user(cls, stage: Stage, **extra: str) -> ServiceProcess:
        port = free_port()
        return cls("services.user", user_env(stage, port, **extra), address=f"127.0.0.1:{port}")

    @classmethod
    def gateway(cls, backend: str, **extra: str) -> ServiceProcess:
        port = free_port()
        env = {
            "GATEWAY_HTTP__PORT": str(port),
            "GATEWAY_METRICS__PORT": "0",
            "GATEWAY_RATE_LIMITS__ENABLED": "false",
            "GATEWAY_BACKENDS__USER__TARGET": backend,
            "GATEWAY_BACKENDS__AUTH__SERVICES": "",
            "GATEWAY_LOGGING__FORMAT": "json",
            "GATEWAY_LOGGING__LEVEL": "warning",
            **extra,
        }
        return cls("services.gateway", env, address=f"http://127.0.0.1:{port}")

    def ready(self) -> bool:
        """Whether it answers: gRPC liveness, or the gateway's ``/healthz``."""
        if self.address.startswith("http"):
            try:
                return httpx.get(f"{self.address}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        with grpc.insecure_channel(self.address) as channel:
            request = health_pb2.HealthCheckRequest(service="liveness")
            try:
                health_pb2_grpc.HealthStub(channel).Check(request, timeout=1)
            except grpc.RpcError:
                return False
        return True

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> float:
        """Start it and wait until it serves; the seconds that took."""
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "serve"],
            cwd=REPO,
            env=self.env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stderr is not None
        threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True).start()
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() - started > timeout:
                self.stop()
                raise RuntimeError(f"{self.module} did not start: {self.log[-5:]}")
            time.sleep(0.05)
        return time.monotonic() - started

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                self.log.append(json.loads(line))
            except json.JSONDecodeError:
                self.log.append({"event": line.rstrip()})

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = 60.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        """Kill it if it still runs (the end of a scenario, whatever happened)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def sockets_to(self, port: int) -> tuple[int, int]:
        """(open, in CLOSE-WAIT): this process's sockets connected to ``port``."""
        inodes: set[str] = set()
        folder = f"/proc/{self.pid}/fd"
        for fd in os.listdir(folder):
            try:
                target = os.readlink(f"{folder}/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
        total = waiting = 0
        for table in (f"/proc/{self.pid}/net/tcp", f"/proc/{self.pid}/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == port:
                    total += 1
                    waiting += fields[3] == _CLOSE_WAIT
        return total, waiting


@contextmanager
def running(service: ServiceProcess) -> Iterator[ServiceProcess]:
    service.start()
    try:
        yield service
    finally:
        service.stop()


@dataclass(frozen=True)
class Attempt:
    """One call: what it was, when it started (monotonic), how long it took, its code."""

    kind: str  # "create", "read", "liveness"
    started: float
    seconds: float
    code: str
    user_id: str = ""


@dataclass
class Create:
    """One user to create: its request (one request id for all attempts) and attempts."""

    request: pb.CreateUserRequest
    first: Attempt
    final: Attempt


def new_create_request(tag: str) -> pb.CreateUserRequest:
    return pb.CreateUserRequest(
        email=f"{tag}-{uuid.uuid4().hex[:12]}@example.com",
        display_name="Fault",
        password=PASSWORD,
        request_id=str(uuid.uuid4()),
    )


def call(kind: str, method: Callable[..., Any], request: Any, **kwargs: Any) -> Attempt:
    started = time.monotonic()
    try:
        reply = method(request, **kwargs)
    except grpc.RpcError as error:
        code = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
        return Attempt(kind, started, time.monotonic() - started, code)
    user = getattr(reply, "user", None)
    return Attempt(kind, started, time.monotonic() - started, "OK", getattr(user, "id", ""))


@dataclass
class Load:
    """Client threads against ``address`` until ``stop()``: ``creators`` creating users,
    ``readers`` reading ``reader`` (a user and its token), ``probe`` liveness every 0.2 s.

    A thread whose call failed waits before its next one, ``pause`` doubled with every
    failure in a row up to a second (a client backing off), so a refusing or absent server
    is not hammered by a tight loop.
    """

    address: str
    creators: int = 0
    readers: int = 0
    probe: bool = False
    deadline: float = 2.0
    pause: float = 0.05
    read_pause: float = 0.0
    reader: tuple[str, str] | None = None
    tag: str = "fault"
    creates: list[Create] = field(default_factory=list)
    reads: list[Attempt] = field(default_factory=list)
    probes: list[Attempt] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Load:
        workers: list[Callable[[UserServiceStub, Any], tuple[bool, float]]]
        workers = [self._create] * self.creators
        workers += [self._read] * self.readers
        workers += [self._probe] if self.probe else []
        for work in workers:
            thread = threading.Thread(target=self._run, args=(work,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, work: Callable[[UserServiceStub, Any], tuple[bool, float]]) -> None:
        options = [("grpc.use_local_subchannel_pool", 1), *RECONNECT]
        channel = grpc.insecure_channel(self.address, options=options)
        stub = UserServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        failures = 0
        try:
            while not self._stopping.is_set():
                ok, wait = work(stub, health)
                failures = 0 if ok else failures + 1
                if failures:
                    wait = max(wait, min(1.0, self.pause * 2 ** (failures - 1)))
                self._stopping.wait(wait)
        finally:
            channel.close()

    def _create(self, stub: UserServiceStub, _health: Any) -> tuple[bool, float]:
        request = new_create_request(self.tag)
        attempt = call("create", stub.CreateUser, request, timeout=self.deadline)
        with self._lock:
            self.creates.append(Create(request, attempt, attempt))
        return attempt.code == "OK", 0.0

    def _read(self, stub: UserServiceStub, _health: Any) -> tuple[bool, float]:
        assert self.reader is not None
        user_id, token = self.reader
        metadata = (("authorization", f"Bearer {token}"),)
        request = pb.GetUserRequest(id=user_id)
        attempt = call("read", stub.GetUser, request, metadata=metadata, timeout=self.deadline)
        with self._lock:
            self.reads.append(attempt)
        return attempt.code == "OK", self.read_pause

    def _probe(self, _stub: UserServiceStub, health: Any) -> tuple[bool, float]:
        request = health_pb2.HealthCheckRequest(service="liveness")
        attempt = call("liveness", health.Check, request, timeout=5)
        with self._lock:
            self.probes.append(attempt)
        return True, 0.2  # a probe never backs off


def first_ok_after(attempts: list[Attempt], moment: float) -> float | None:
    """Seconds from ``moment`` to the end of the first OK attempt that started after it."""
    ends = [a.started + a.seconds for a in attempts if a.code == "OK" and a.started >= moment]
    return min(ends) - moment if ends else None


def stored_requests(url: str) -> dict[str, str]:
    """email -> user id of every user the database holds (read directly): each create of
    a scenario has an email of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT email, id FROM users"))
            return {row.email: row.id for row in rows}
    finally:
        engine.dispose()


def settle(
    address: str, creates: list[Create], *, attempts: int = 6, pause: float = 0.5, workers: int = 3
) -> None:
    """Send every failed create again, with its own request (same id), until it answers OK
    or ``attempts`` are spent; each ``Create.final`` is its last answer. ``workers`` at a
    time: fewer than the server admits at once, so none is refused for that."""
    pending = [create for create in creates if create.first.code != "OK"]
    options = [("grpc.use_local_subchannel_pool", 1), *RECONNECT]
    channel = grpc.insecure_channel(address, options=options)
    with channel, ThreadPoolExecutor(workers) as pool:
        stub = UserServiceStub(channel)

        def again(create: Create) -> None:
            create.final = call("create", stub.CreateUser, create.request, timeout=5)

        for _ in range(attempts):
            if not pending:
                return
            list(pool.map(again, pending))
            pending = [create for create in pending if create.final.code != "OK"]
            if pending:
                time.sleep(pause)


def sign_up_reader(address: str, issuer: TestIssuer) -> tuple[str, str]:
    """A user to read (created through the service) and a token that reads it."""
    with grpc.insecure_channel(address) as channel:
        reply = UserServiceStub(channel).CreateUser(new_create_request("reader"), timeout=30)
    return reply.user.id, issuer.mint(reply.user.id, (), expires_in=3600)
