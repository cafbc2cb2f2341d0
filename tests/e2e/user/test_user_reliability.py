"""Faults a running User Service must survive: a database outage, SIGTERM under load, and
a burst of sign-ups beyond what password hashing may take at once.

The database outage is a TCP proxy between the server and PostgreSQL that the test cuts
(the shared PostgreSQL server itself is never stopped). SIGTERM goes to a real
``python -m services.user serve`` process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from acme.user.v1 import user_service_pb2 as pb
from acme.user.v1.user_service_pb2_grpc import UserServiceStub
from servicekit.db import upgrade
from servicekit.testing.databases import temporary_database
from servicekit.testing.proxy import TcpProxy
from servicekit.testing.tokens import TestIssuer
from services.user.app import create_server
from services.user.models import MIGRATIONS_DIR
from tests.e2e._metrics import YOUNGEST_COLLECTIONS, scrape
from tests.e2e.user._support import FAST_PASSWORDS, PASSWORD, UserApi, unique_email, user_settings

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
REPO = Path(__file__).resolve().parents[3]


def eventually(condition: Callable[[], bool], within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@contextmanager
def proxied_server(tmp_path: Path, **extra: str) -> Iterator[tuple[UserApi, TcpProxy]]:
    """A server whose PostgreSQL connections all go through a proxy the test controls."""
    issuer = TestIssuer(tmp_path)
    with temporary_database("postgresql", tmp_path) as url:
        upgrade(url, MIGRATIONS_DIR)
        target = make_url(url)
        with TcpProxy.to_database(url) as proxy:
            proxied = target.set(host="127.0.0.1", port=proxy.port)
            settings = user_settings(
                proxied.render_as_string(hide_password=False),
                issuer.jwks_file,
                USER_DATABASE__POOL_TIMEOUT_SECONDS="1",
                USER_DATABASE__CONNECT_TIMEOUT_SECONDS="1",
                **extra,
            )
            server = create_server(settings)
            server.start()
            channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
            try:
                yield (
                    UserApi(server=server, channel=channel, issuer=issuer, database_url=url),
                    proxy,
                )
            finally:
                proxy.thaw()
                channel.close()
                server.stop(0)


@pytest.fixture
def proxied_api(tmp_path: Path) -> Iterator[tuple[UserApi, TcpProxy]]:
    with proxied_server(tmp_path) as served:
        yield served


def test_a_database_outage_is_unavailable_and_not_serving_then_heals_by_itself(
    proxied_api: tuple[UserApi, TcpProxy],
) -> None:
    api, proxy = proxied_api
    me = api.create()
    read = pb.GetUserRequest(id=me.id)

    proxy.cut()
    with pytest.raises(grpc.RpcError) as call:
        api.stub.GetUser(read, metadata=api.as_user(me), timeout=20)
    went_down = eventually(lambda: api.health() == NOT_SERVING)
    proxy.restore()
    came_back = eventually(lambda: api.health() == SERVING)
    after = api.stub.GetUser(read, metadata=api.as_user(me), timeout=20)

    assert call.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "database" in call.value.details()
    assert went_down
    assert came_back
    assert after.user.id == me.id


@dataclass
class ServeProcess:
    process: subprocess.Popen[str]
    address: str
    metrics_url: str
    log: list[dict[str, Any]]
    database_url: str


def _read_log(stream: IO[str], log: list[dict[str, Any]], ready: threading.Event) -> None:
    for line in stream:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        log.append(record)
        if record.get("event") == "grpc server started":
            ready.set()


@contextmanager
def serving_process(tmp_path: Path, **extra: str) -> Iterator[ServeProcess]:
    """``python -m services.user serve`` on a free port, with slow (real-cost) hashing."""
    issuer = TestIssuer(tmp_path)
    with temporary_database("sqlite", tmp_path) as url:
        upgrade(url, MIGRATIONS_DIR)
        env = {
            **os.environ,
            **FAST_PASSWORDS,
            "USER_DATABASE__URL": url,
            "USER_GRPC__PORT": "0",
            "USER_GRPC__GRACE_SECONDS": "20",
            "USER_METRICS__PORT": "0",
            "USER_AUTH__JWKS_FILE": str(issuer.jwks_file),
            "USER_LOGGING__FORMAT": "json",
            # Hashing slow enough that the calls are surely in flight when SIGTERM lands,
            # and all four of them hashing at once (not refused by the bound on hashing).
            "USER_PASSWORDS__TIME_COST": "96",
            "USER_PASSWORDS__MEMORY_COST_KIB": "16384",
            "USER_PASSWORDS__MAX_CONCURRENT": "4",
            **extra,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "services.user", "serve"],
            cwd=REPO,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        log: list[dict[str, Any]] = []
        ready = threading.Event()
        assert process.stderr is not None
        reader = threading.Thread(target=_read_log, args=(process.stderr, log, ready), daemon=True)
        reader.start()
        try:
            assert ready.wait(30), f"the server did not start: {log}"
            built = next(record for record in log if record.get("event") == "user service built")
            yield ServeProcess(process, built["address"], built["metrics"], log, url)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(10)
            reader.join(5)


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[ServeProcess]:
    with serving_process(tmp_path) as served:
        yield served


def _started(metrics_url: str, method: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=5) as reply:  # noqa: S310 - a local URL
        text = reply.read().decode()
    prefix = "grpc_server_started_total{"
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and f'grpc_method="{method}"' in line
    )


def test_sigterm_under_load_finishes_every_accepted_call_and_exits_0(
    serve_process: ServeProcess,
) -> None:
    channel = grpc.insecure_channel(serve_process.address)
    stub = UserServiceStub(channel)
    in_flight = 4

    def register(index: int) -> grpc.StatusCode:
        request = pb.CreateUserRequest(
            email=unique_email(f"drain{index}"), display_name="Drain", password=PASSWORD
        )
        try:
            stub.CreateUser(request, timeout=60)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            return code
        return grpc.StatusCode.OK

    with ThreadPoolExecutor(in_flight) as pool:
        calls = [pool.submit(register, index) for index in range(in_flight)]
        assert eventually(lambda: _started(serve_process.metrics_url, "CreateUser") >= in_flight)
        serve_process.process.send_signal(signal.SIGTERM)
        codes = [call.result(timeout=60) for call in calls]
    exit_code = serve_process.process.wait(60)
    with pytest.raises(grpc.RpcError) as after:
        stub.CreateUser(pb.CreateUserRequest(), timeout=5)
    channel.close()

    assert codes == [grpc.StatusCode.OK] * in_flight
    assert exit_code == 0
    assert after.value.code() == grpc.StatusCode.UNAVAILABLE
    events = [record.get("event") for record in serve_process.log]
    assert "grpc server stopped" in events
    # The calls were in flight when the signal came: they finished during the drain.
    after_signal = events[events.index("stop signal received") :]
    drained = [
        record
        for record in serve_process.log[len(events) - len(after_signal) :]
        if record.get("event") == "rpc" and record.get("method", "").endswith("/CreateUser")
    ]
    assert drained, "no call was in flight when the signal came"
    assert {record["code"] for record in drained} == {"OK"}


def test_a_burst_of_sign_ups_beyond_the_hashing_bound_is_refused_at_once_and_reads_go_on(
    tmp_path: Path,
) -> None:
    issuer = TestIssuer(tmp_path)
    with temporary_database("sqlite", tmp_path) as url:
        upgrade(url, MIGRATIONS_DIR)
        settings = user_settings(
            url,
            issuer.jwks_file,
            USER_PASSWORDS__TIME_COST="3",
            USER_PASSWORDS__MEMORY_COST_KIB="8192",  # some 60 ms a hash: the burst overlaps
            USER_PASSWORDS__MAX_CONCURRENT="1",
            USER_PASSWORDS__MAX_WAITING="1",
            USER_PASSWORDS__MAX_WAIT_SECONDS="30",  # a waiter is never refused for its wait
            USER_PASSWORDS__RETRY_AFTER_SECONDS="2",
        )
        with create_server(settings) as server:
            channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
            api = UserApi(server=server, channel=channel, issuer=issuer, database_url=url)
            me = api.create()
            start = threading.Barrier(9)

            def call(n: int) -> grpc.StatusCode | pb.GetUserResponse:
                start.wait()
                try:
                    if n == 0:
                        read = pb.GetUserRequest(id=me.id)
                        return api.stub.GetUser(read, metadata=api.as_user(me), timeout=20)
                    api.create()
                except grpc.RpcError as refused:
                    refusals.append(refused)
                    code: grpc.StatusCode = refused.code()
                    return code
                return grpc.StatusCode.OK

            refusals: list[grpc.RpcError] = []
            with ThreadPoolExecutor(max_workers=9) as pool:
                read, *sign_ups = pool.map(call, range(9))
            channel.close()

    assert isinstance(read, pb.GetUserResponse)
    assert set(sign_ups) == {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert sign_ups.count(grpc.StatusCode.OK) >= 2  # one hashing, one waiting its turn
    for refused in refusals:
        status = rpc_status.from_call(refused)
        assert status is not None
        delays = [
            info.retry_delay.seconds
            for detail in status.details
            if detail.Unpack(info := error_details_pb2.RetryInfo())
        ]
        assert delays == [2]


def code_of_call(call: grpc.Future) -> grpc.StatusCode:
    try:
        call.result(timeout=60)
    except grpc.RpcError as error:
        code: grpc.StatusCode = error.code()
        return code
    return grpc.StatusCode.OK


def no_database_needed(api: UserApi, within: float = 15.0) -> grpc.StatusCode:
    """The code of a call that needs no database (its request breaks the contract),
    sent again while the server refuses it for being busy."""
    deadline = time.monotonic() + within
    while True:
        try:
            api.stub.CreateUser(pb.CreateUserRequest(email="not an email"), timeout=5)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            if code != grpc.StatusCode.RESOURCE_EXHAUSTED or time.monotonic() > deadline:
                return code
        time.sleep(0.2)


def test_a_frozen_database_holds_no_worker_past_its_calls_deadline_nor_takes_liveness(
    tmp_path: Path,
) -> None:
    with proxied_server(tmp_path, USER_GRPC__MAX_WORKERS="4") as (api, proxy):
        me = api.create()
        read = pb.GetUserRequest(id=me.id)
        proxy.slow(0.3)  # overlapping reads: a pooled connection for each worker
        warm = [
            api.stub.GetUser.future(read, metadata=api.as_user(me), timeout=20) for _ in range(4)
        ]
        warmed = [code_of_call(call) for call in warm]
        assert warmed.count(grpc.StatusCode.OK) >= 3, warmed
        proxy.slow(0)
        proxy.freeze()  # connections stay up; the database answers nothing
        reads = [
            api.stub.GetUser.future(read, metadata=api.as_user(me), timeout=1) for _ in range(12)
        ]
        codes = {code_of_call(call) for call in reads}
        liveness = api.health("liveness")
        # Every read's time is over: its worker is free again, the database still frozen.
        answered = no_database_needed(api)
        proxy.thaw()
        came_back = eventually(lambda: api.health() == SERVING)
        after = api.stub.GetUser(read, metadata=api.as_user(me), timeout=20)

    assert codes <= {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert liveness == SERVING
    assert answered == grpc.StatusCode.INVALID_ARGUMENT
    assert came_back
    assert after.user.id == me.id


def emails_in(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT email FROM users")).scalars())
    finally:
        engine.dispose()


def test_sigterm_past_the_grace_period_writes_nothing_for_the_calls_told_they_failed(
    tmp_path: Path,
) -> None:
    slow = {"USER_GRPC__GRACE_SECONDS": "0.3", "USER_PASSWORDS__TIME_COST": "192"}
    with serving_process(tmp_path, **slow) as served:
        channel = grpc.insecure_channel(served.address)
        stub = UserServiceStub(channel)
        emails = [unique_email(f"cut{index}") for index in range(4)]
        requests = [
            pb.CreateUserRequest(email=email, display_name="Cut", password=PASSWORD)
            for email in emails
        ]
        calls = [stub.CreateUser.future(request, timeout=60) for request in requests]
        assert eventually(lambda: _started(served.metrics_url, "CreateUser") >= len(calls))
        served.process.send_signal(signal.SIGTERM)  # the hashing outlasts the grace period
        codes = dict(zip(emails, (code_of_call(call) for call in calls), strict=True))
        exit_code = served.process.wait(60)
        channel.close()
        stored = emails_in(served.database_url)

    told_failed = {email for email, code in codes.items() if code != grpc.StatusCode.OK}
    assert exit_code == 0
    assert told_failed, f"every call ended within the grace period: {codes}"
    assert told_failed & stored == set(), "calls reported failed were written"
    assert set(emails) - told_failed <= stored


def test_a_served_process_does_not_run_the_collector_every_few_calls(
    serve_process: ServeProcess,
) -> None:
    """``serve`` settles the heap once started (servicekit.heap): with Python's defaults the
    youngest generation, collected every 700 net allocations, ran 13 to 17 times in these 400
    calls (each of which leaves some cyclic garbage); its threshold is now 20 000."""
    before = scrape(serve_process.metrics_url)[YOUNGEST_COLLECTIONS]
    with grpc.insecure_channel(serve_process.address) as channel:
        users = UserServiceStub(channel)
        for _ in range(25):
            pending = [
                users.CreateUser.future(pb.CreateUserRequest(email="not an email"), timeout=10)
                for _ in range(16)
            ]
            assert {future.code() for future in pending} == {grpc.StatusCode.INVALID_ARGUMENT}
    collected = scrape(serve_process.metrics_url)[YOUNGEST_COLLECTIONS] - before

    assert collected < 3, f"{collected:.0f} collections of the youngest generation"
