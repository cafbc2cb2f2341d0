"""The fault scenarios: each runs the real services under load, breaks something, mends
it, and returns a ``Report`` with its checks.

``Scale`` says how long and how hard: ``SHORT`` for pytest (inside ``make test``: a few
seconds a scenario, a server of 4 worker threads, so a handful of client threads exceeds
it), ``LONG`` for ``make test-faults`` (the production thread pool, longer faults).

- database cut: every connection reset, new ones refused, then restored;
- database freeze: connections up, nothing answered (liveness, refusals, recovery);
- database slowdown: every packet late (deadlines; the sockets to the database after);
- SIGTERM under load, then a new process; kill -9 under load, then a new process;
- hashing flood: anonymous sign-ups at real argon2 cost while other users read;
- overload: more calls at once than the server admits (refused at once); and the gateway
  past its bound (503 with Retry-After).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.faults._harness import (
    Attempt,
    Load,
    ServiceProcess,
    Stage,
    database,
    first_ok_after,
    running,
    settle,
    sign_up_reader,
    stored_requests,
)
from tests.faults._report import Report, percentile

__all__ = ["LONG", "SCENARIOS", "SHORT", "Scale"]


@dataclass(frozen=True)
class Scale:
    warmup: float
    fault: float
    after: float
    workers: int
    creators: int
    readers: int
    flood: int
    overload: int
    gateway_clients: int


SHORT = Scale(
    warmup=0.5, fault=2.0, after=1.5, workers=4, creators=3, readers=2,
    flood=12, overload=12, gateway_clients=24,
)  # fmt: skip
LONG = Scale(
    warmup=2.0, fault=8.0, after=4.0, workers=16, creators=8, readers=10,
    flood=48, overload=64, gateway_clients=64,
)  # fmt: skip

_SETTLE_SECONDS = 1.0  # after the load stops: the server finishes what it still does


def _finish(report: Report, stage: Stage, address: str, load: Load) -> Report:
    """Stop the load, read what was written, retry the failed creates, read again."""
    load.stop()
    time.sleep(_SETTLE_SECONDS)
    report.before_retries = stored_requests(stage.url)
    settle(address, load.creates)
    report.after_retries = stored_requests(stage.url)
    return report


def _database_fault(
    tmp: Path,
    scale: Scale,
    name: str,
    *,
    break_it: Callable[[Stage], None],
    mend_it: Callable[[Stage], None],
    deadline: float = 2.0,
) -> tuple[Report, ServiceProcess, Stage, dict[str, float]]:
    """The common course of a database fault; the caller adds its own checks."""
    with database(tmp) as stage:
        service = ServiceProcess.user(stage, USER_GRPC__MAX_WORKERS=str(scale.workers))
        with running(service):
            reader = sign_up_reader(service.address, stage.issuer)
            load = Load(
                service.address,
                creators=scale.creators,
                readers=scale.readers,
                probe=True,
                reader=reader,
                deadline=deadline,
                tag=name.replace(" ", "-"),
            ).start()
            time.sleep(scale.warmup)
            port = stage.proxy.port
            baseline = service.sockets_to(port)
            broken = time.monotonic()
            break_it(stage)
            during = _peak_sockets(service, port, scale.fault)
            mend_it(stage)
            mended = time.monotonic()
            time.sleep(scale.after)
            report = Report(name, load.creates, load.reads, load.probes)
            _finish(report, stage, service.address, load)
            time.sleep(1.0)  # connections the fault left behind have been dropped by now
            after = service.sockets_to(port)
            report.recovery = first_ok_after([c.first for c in load.creates] + load.reads, mended)
            report.notes["sockets to the database (open, CLOSE-WAIT)"] = (
                f"before {baseline}, peak during {during}, after {after}"
            )
            marks = {
                "broken": broken,
                "mended": mended,
                "peak": during[0],
                "after": after[0],
                "waiting": after[1],
            }
            return report, service, stage, marks


def _peak_sockets(service: ServiceProcess, port: int, seconds: float) -> tuple[int, int]:
    """The most sockets to ``port`` the service held, sampled every 0.2 s for ``seconds``."""
    peak = (0, 0)
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        peak = max(peak, service.sockets_to(port))
        time.sleep(0.2)
    return peak


def _during(attempts: list[Attempt], marks: dict[str, float]) -> list[Attempt]:
    return [a for a in attempts if marks["broken"] <= a.started < marks["mended"]]


def _refusals(attempts: list[Attempt]) -> list[float]:
    return [a.seconds for a in attempts if a.code == "RESOURCE_EXHAUSTED"]


def database_cut(tmp: Path, scale: Scale) -> Report:
    report, _service, _stage, _marks = _database_fault(
        tmp,
        scale,
        "database cut",
        break_it=lambda stage: stage.proxy.cut(),
        mend_it=lambda stage: stage.proxy.restore(),
    )
    report.check_writes()
    report.check("recovered after the database returned", report.recovery, 30, unit=" s")
    report.check("recovery after the database returned", report.recovery, 3, unit=" s", timed=True)
    return report


def database_freeze(tmp: Path, scale: Scale) -> Report:
    report, _service, _stage, marks = _database_fault(
        tmp,
        scale,
        "database freeze",
        break_it=lambda stage: stage.proxy.freeze(),
        mend_it=lambda stage: stage.proxy.thaw(),
        deadline=1.0,
    )
    probes = _during(report.probes, marks)
    refused = _refusals(_during(report.attempts, marks))
    unanswered = sum(1 for probe in probes if probe.code != "OK")
    report.notes["liveness probes during the freeze"] = (
        f"{len(probes)}, unanswered {unanswered}, slowest "
        f"{max((p.seconds for p in probes), default=0):.3f} s"
    )
    report.notes["refused at once during the freeze"] = (
        f"{len(refused)}, slowest {max(refused, default=0) * 1000:.1f} ms"
    )
    report.check_writes()
    report.check("liveness probes during the freeze", len(probes), 1, at_most=False)
    report.check("liveness probes unanswered during the freeze", unanswered, 0)
    report.check(
        "calls refused at once (RESOURCE_EXHAUSTED) during the freeze",
        len(refused),
        1,
        at_most=False,
    )
    report.check("recovered after the freeze", report.recovery, 30, unit=" s")
    slowest = max((p.seconds for p in probes), default=None)
    report.check("liveness answered during the freeze", slowest, 1, unit=" s", timed=True)
    report.check("excess refused", max(refused, default=None), 0.1, unit=" s", timed=True)
    report.check("recovery after the freeze", report.recovery, 3, unit=" s", timed=True)
    return report


def _slow_and_reconnect(stage: Stage) -> None:
    """Every packet 0.6 s late, so a new connection's handshake outlasts the connect timeout
    (2 s); and the pool's connections dropped first, so the service has to make new ones."""
    stage.proxy.cut()
    stage.proxy.restore()
    stage.proxy.slow(0.6)


def database_slowdown(tmp: Path, scale: Scale) -> Report:
    report, _service, _stage, marks = _database_fault(
        tmp,
        scale,
        "database slowdown",
        break_it=_slow_and_reconnect,
        mend_it=lambda stage: stage.proxy.slow(0),
        deadline=1.0,
    )
    report.check_writes()
    # One connection per worker thread and the readiness ping's, connecting ones included:
    # a timed-out connect attempt leaves nothing behind.
    report.check("sockets to the database during the slowdown", marks["peak"], scale.workers + 1)
    report.check("sockets to the database after", marks["after"], scale.workers + 1)
    report.check("sockets to the database in CLOSE-WAIT after", marks["waiting"], 0)
    report.check("recovered after the slowdown", report.recovery, 30, unit=" s")
    report.check("recovery after the slowdown", report.recovery, 3, unit=" s", timed=True)
    return report


def _process_fault(
    tmp: Path, scale: Scale, name: str, signum: int, *, hash_cost: int, grace: float = 1.0
) -> Report:
    with database(tmp) as stage:
        service = ServiceProcess.user(
            stage,  # the production thread pool: slow creates leave room for the reads
            USER_GRPC__GRACE_SECONDS=str(grace),
            USER_PASSWORDS__TIME_COST=str(hash_cost),
            USER_PASSWORDS__MEMORY_COST_KIB="16384",
            USER_PASSWORDS__MAX_CONCURRENT="8",
        )
        with running(service):
            reader = sign_up_reader(service.address, stage.issuer)
            load = Load(
                service.address,
                creators=scale.creators,
                readers=scale.readers,
                reader=reader,
                deadline=5.0,
                pause=0.2,  # a client backing off while no server listens
                tag=name.split(maxsplit=1)[0].lower(),
            ).start()
            time.sleep(scale.warmup)
            service.signal(signum)
            exit_code = service.wait(60)
            restarted = time.monotonic()
            start_seconds = service.start()
            time.sleep(scale.after)
            report = Report(name, load.creates, load.reads)
            _finish(report, stage, service.address, load)
    report.recovery = first_ok_after([c.first for c in load.creates] + load.reads, restarted)
    report.notes["exit code"] = str(exit_code)
    report.notes["new process serving after"] = f"{start_seconds:.2f} s"
    report.check_writes(transport_may_lose_answers=signum == signal.SIGKILL)
    if signum == signal.SIGTERM:
        report.check("exit code after SIGTERM", abs(exit_code), 0)
    report.check("recovered once a new process served", report.recovery, 60, unit=" s")
    return report


def sigterm(tmp: Path, scale: Scale) -> Report:
    # Creates that take longer than the grace period (about a second of hashing against
    # 0.3 s): the signal lands on creates that the drain must give up.
    return _process_fault(tmp, scale, "SIGTERM under load", signal.SIGTERM, hash_cost=96, grace=0.3)


def kill9(tmp: Path, scale: Scale) -> Report:
    return _process_fault(tmp, scale, "kill -9 under load", signal.SIGKILL, hash_cost=8)


def hashing_flood(tmp: Path, scale: Scale) -> Report:
    with database(tmp) as stage:
        service = ServiceProcess.user(
            stage,
            # The production thread pool, cost of a hash (argon2id t=3, 64 MiB) and its
            # bounds: sign-ups waiting for a hash hold 6 of the 14 call slots at most.
            USER_PASSWORDS__TIME_COST="3",
            USER_PASSWORDS__MEMORY_COST_KIB="65536",
            USER_PASSWORDS__PARALLELISM="4",
        )
        with running(service):
            reader = sign_up_reader(service.address, stage.issuer)
            readers = Load(
                service.address, readers=2, reader=reader, read_pause=0.05, tag="reader"
            ).start()
            time.sleep(scale.warmup)
            flood = Load(
                service.address, creators=scale.flood, pause=0.01, deadline=5.0, tag="flood"
            ).start()
            flooding = time.monotonic()
            time.sleep(scale.fault)
            flood.stop()
            readers.stop()
            reads = [read for read in readers.reads if read.started >= flooding]
            report = Report("hashing flood", flood.creates, reads)
            time.sleep(_SETTLE_SECONDS)
            # A flood is not retried (a thousand hashes): its first answers are checked.
            report.before_retries = report.after_retries = stored_requests(stage.url)
    refused = sum(1 for c in flood.creates if c.first.code == "RESOURCE_EXHAUSTED")
    p99 = percentile((read.seconds for read in reads), 0.99)
    report.notes["other users' reads during the flood"] = (
        f"{len(reads)}, p99 {0 if p99 is None else p99 * 1000:.1f} ms"
    )
    report.check_writes(retried=False)
    report.check("sign-ups refused (RESOURCE_EXHAUSTED)", refused, 1, at_most=False)
    report.check("other users' reads that failed", sum(r.code != "OK" for r in reads), 0)
    report.check("other users' reads, p99", p99, 1, unit=" s", timed=True)
    return report


def overload(tmp: Path, scale: Scale) -> Report:
    with database(tmp) as stage:
        service = ServiceProcess.user(stage, USER_GRPC__MAX_WORKERS=str(scale.workers))
        with running(service):
            reader = sign_up_reader(service.address, stage.issuer)
            stage.proxy.slow(0.1)  # each read holds its worker a while
            load = Load(
                service.address, readers=scale.overload, reader=reader, pause=0.02, deadline=5.0
            ).start()
            time.sleep(scale.fault)
            load.stop()
            stage.proxy.slow(0)
    report = Report("overload", [], load.reads)
    refused = _refusals(load.reads)
    served = [read.seconds for read in load.reads if read.code == "OK"]
    report.notes["refused at once"] = (
        f"{len(refused)}, p99 {(percentile(refused, 0.99) or 0) * 1000:.1f} ms"
    )
    report.notes["served"] = f"{len(served)}, p99 {(percentile(served, 0.99) or 0):.3f} s"
    codes = {read.code for read in load.reads}
    report.check("calls refused at once (RESOURCE_EXHAUSTED)", len(refused), 1, at_most=False)
    others = codes - {"OK", "RESOURCE_EXHAUSTED"}
    report.check("codes other than OK and RESOURCE_EXHAUSTED", len(others), 0)
    report.check("excess refused, p99", percentile(refused, 0.99), 0.1, unit=" s", timed=True)
    return report


def gateway_overload(tmp: Path, scale: Scale) -> Report:
    with database(tmp) as stage:
        user = ServiceProcess.user(stage)  # the production thread pool: 14 calls at once
        with running(user):
            user_id, token = sign_up_reader(user.address, stage.issuer)
            bound = max(2, scale.gateway_clients // 8)  # below what the user service admits
            gateway = ServiceProcess.gateway(
                user.address, GATEWAY_HTTP__MAX_CONCURRENT_REQUESTS=str(bound)
            )
            with running(gateway):
                stage.proxy.slow(0.05)
                replies = _hammer(gateway.address, user_id, token, scale)
                stage.proxy.slow(0)
    report = Report("gateway overload", [], [])
    shed = [r for r in replies if r[0] in (429, 503)]
    served = [r for r in replies if r[0] == 200]
    others = len(replies) - len(served) - len(shed)
    report.notes["requests"] = (
        f"{len(replies)} from {scale.gateway_clients} clients, bound {bound}: "
        f"200 {len(served)}, 503 {sum(r[0] == 503 for r in shed)}, "
        f"429 {sum(r[0] == 429 for r in shed)}, other {others}"
    )
    report.check("503 answered past the bound", sum(r[0] == 503 for r in shed), 1, at_most=False)
    report.check("503 or 429 without Retry-After", sum(1 for r in shed if not r[2]), 0)
    report.check("answers other than 200, 503 and 429", others, 0)
    served_p99 = percentile((r[1] for r in served), 0.99)
    shed_p99 = percentile((r[1] for r in shed), 0.99)
    report.check("served requests, p99", served_p99, 1, unit=" s", timed=True)
    report.check("refused requests, p99", shed_p99, 0.1, unit=" s", timed=True)
    return report


def _hammer(base: str, user_id: str, token: str, scale: Scale) -> list[tuple[int, float, bool]]:
    """``gateway_clients`` clients reading one user for ``fault`` seconds, each on a
    connection of its own; (status, seconds, has Retry-After) per request."""
    stop = threading.Event()
    headers = {"Authorization": f"Bearer {token}"}

    def client(_: int) -> list[tuple[int, float, bool]]:
        seen = []
        with httpx.Client(base_url=base, timeout=10) as http:
            while not stop.is_set():
                started = time.monotonic()
                reply = http.get(f"/v1/users/{user_id}", headers=headers)
                took = time.monotonic() - started
                seen.append((reply.status_code, took, "retry-after" in reply.headers))
                if reply.status_code != 200:
                    stop.wait(0.02)
        return seen

    with ThreadPoolExecutor(max_workers=scale.gateway_clients) as pool:
        futures = [pool.submit(client, n) for n in range(scale.gateway_clients)]
        time.sleep(scale.fault)
        stop.set()
        return [seen for future in futures for seen in future.result(timeout=60)]


SCENARIOS: dict[str, Callable[[Path, Scale], Report]] = {
    "database-cut": database_cut,
    "database-freeze": database_freeze,
    "database-slowdown": database_slowdown,
    "sigterm": sigterm,
    "kill-9": kill9,
    "hashing-flood": hashing_flood,
    "overload": overload,
    "gateway-overload": gateway_overload,
}
