"""The Auth Service's figures: login throughput, and what verifying a token costs a call.

    make bench-auth                      # or: .venv/bin/python bench/auth.py
    .venv/bin/python bench/auth.py --duration 10 --clients 4

Login: the user and auth services (`python -m services.<name> serve`, SQLite in a scratch
folder, the argon2id cost of services/user/settings.toml unless --time-cost and friends
say otherwise), logins from a pool of client threads for --duration seconds; printed:
logins/s, p50 and p99, and one argon2id verification alone at the same cost (the bound).

Token verification: the CPU per call that the authentication interceptor adds to a
constant GetUser (a server behind the authentication interceptor alone / bare, both pinned
to core 0 and loaded by bench/grpcload on core 1), against its target: under 5 % of the
bare call. The verifier alone is timed too, with a fresh token each time (a full ES256
check) and with one token repeated (what a client with a live token costs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import grpc
from argon2 import PasswordHasher, Type
from harness import ROOT, admission, free_port
from report import Ratio, print_ratios, print_table
from scenarios import Bench, Constant, Options, describe_machine

from acme.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from acme.user.v1 import user_service_pb2, user_service_pb2_grpc
from servicekit.auth import JwksSource, TokenVerifier
from servicekit.testing.tokens import TestIssuer

PASSWORD = "correct horse battery staple"  # noqa: S105 - a throw-away bench account
VERIFY_TARGET = 0.05


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4, help="login threads")
    parser.add_argument("--time-cost", type=int, default=3)
    parser.add_argument("--memory-cost-kib", type=int, default=65536)
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="windows per server (fastest)")
    return parser


@contextmanager
def _service(name: str, env: dict[str, str]) -> Iterator[None]:
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log")  # noqa: SIM115
    command = [sys.executable, "-m", f"services.{name}"]
    full_env = {**os.environ, **env}
    subprocess.run([*command, "migrate"], cwd=ROOT, env=full_env, check=True, stderr=log)
    process = subprocess.Popen([*command, "serve"], cwd=ROOT, env=full_env, stderr=log)
    try:
        yield
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def _wait_serving(target: str) -> None:
    channel = grpc.insecure_channel(target)
    grpc.channel_ready_future(channel).result(timeout=60)
    channel.close()


def _login_window(target: str, email: str, clients: int, duration: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def client() -> None:
        channel = grpc.insecure_channel(target)
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        request = auth_service_pb2.LoginRequest(email=email, password=PASSWORD)
        while time.monotonic() < stop:
            start = time.perf_counter()
            stub.Login(request, timeout=30)  # any failure stops the bench: it must not be hidden
            with lock:
                latencies.append(time.perf_counter() - start)
        channel.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def login_throughput(args: argparse.Namespace, folder: Path) -> None:
    user_port, auth_port = free_port(), free_port()
    costs = {
        "USER_PASSWORDS__TIME_COST": str(args.time_cost),
        "USER_PASSWORDS__MEMORY_COST_KIB": str(args.memory_cost_kib),
        "USER_PASSWORDS__PARALLELISM": str(args.parallelism),
    }
    common = {"USER_LOGGING__FORMAT": "json", "AUTH_LOGGING__FORMAT": "json"}
    # Both services admit more calls at once than the --clients logins in flight (beyond
    # their bounds they refuse with RESOURCE_EXHAUSTED), and every login may wait for one
    # of the user service's argon2 slots (`passwords.max_concurrent`) instead of being
    # refused when more than `passwords.max_waiting` already wait.
    max_workers, max_concurrent_rpcs = (str(n) for n in admission(args.clients))
    for service in ("USER", "AUTH"):
        common[f"{service}_GRPC__MAX_WORKERS"] = max_workers
        common[f"{service}_GRPC__MAX_CONCURRENT_RPCS"] = max_concurrent_rpcs
    costs["USER_PASSWORDS__MAX_WAITING"] = str(max(args.clients, 4))
    user_env = {
        **common,
        **costs,
        "USER_DATABASE__URL": f"sqlite:///{folder / 'user.db'}",
        "USER_GRPC__PORT": str(user_port),
        "USER_METRICS__ENABLED": "false",
        "USER_AUTH__JWKS_FILE": str(folder / "jwks.json"),
    }
    auth_env = {
        **common,
        "AUTH_DATABASE__URL": f"sqlite:///{folder / 'auth.db'}",
        "AUTH_GRPC__PORT": str(auth_port),
        "AUTH_METRICS__ENABLED": "false",
        "AUTH_TOKENS__JWKS_FILE": str(folder / "jwks.json"),
        "AUTH_USER_CLIENT__TARGET": f"127.0.0.1:{user_port}",
    }
    with _service("user", user_env), _service("auth", auth_env):
        _wait_serving(f"127.0.0.1:{user_port}")
        _wait_serving(f"127.0.0.1:{auth_port}")
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        users = user_service_pb2_grpc.UserServiceStub(
            grpc.insecure_channel(f"127.0.0.1:{user_port}")
        )
        users.CreateUser(
            user_service_pb2.CreateUserRequest(email=email, display_name="B", password=PASSWORD),
            timeout=30,
        )
        _login_window(f"127.0.0.1:{auth_port}", email, args.clients, 1.0)  # warm-up
        latencies = _login_window(f"127.0.0.1:{auth_port}", email, args.clients, args.duration)
    hasher = PasswordHasher(
        time_cost=args.time_cost,
        memory_cost=args.memory_cost_kib,
        parallelism=args.parallelism,
        type=Type.ID,
    )
    encoded = hasher.hash(PASSWORD)
    start = time.perf_counter()
    hasher.verify(encoded, PASSWORD)
    alone_ms = (time.perf_counter() - start) * 1000
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"Login: argon2id t={args.time_cost} m={args.memory_cost_kib} KiB "
        f"p={args.parallelism}; one verification alone {alone_ms:.1f} ms"
    )
    print(
        f"  {len(latencies) / args.duration:.1f} logins/s with {args.clients} clients, "
        f"p50 {quantiles[49] * 1000:.1f} ms, p99 {quantiles[98] * 1000:.1f} ms "
        f"({len(latencies)} logins, every one OK)"
    )


def verifier_alone(folder: Path) -> float:
    issuer = TestIssuer(folder)
    verifier = TokenVerifier(
        JwksSource.from_file(issuer.jwks_file), issuer=issuer.issuer, audience=issuer.audience
    )
    fresh = [issuer.mint(str(uuid.uuid4())) for _ in range(1000)]
    start = time.process_time()
    for token in fresh:
        verifier.verify(token)
    miss_us = (time.process_time() - start) / len(fresh) * 1e6
    token, rounds = fresh[0], 20000
    start = time.process_time()
    for _ in range(rounds):
        verifier.verify(token)
    hit_us = (time.process_time() - start) / rounds * 1e6
    print(
        f"TokenVerifier.verify alone: {miss_us:.1f} us with a new token (full ES256 check), "
        f"{hit_us:.1f} us with a token seen before"
    )
    return hit_us


def interceptor_cost(args: argparse.Namespace, folder: Path, verify_us: float) -> None:
    options = Options(
        duration=args.duration, warmup=1.0, concurrency=64, connections=16,
        repeat=args.repeat, only=("auth",),
    )  # fmt: skip
    print(describe_machine(options))
    bench = Bench(options, folder)
    rows = bench.constants(
        [
            Constant(label="bare", chain="none"),
            Constant(label="authentication alone", chain="authentication"),
        ]
    )
    bare, auth = rows["bare"], rows["authentication alone"]
    print_table(
        "Token verification per call: constant GetUser, core 0, client core 1", [bare, auth]
    )
    if bare.server_cpu_us is None or auth.server_cpu_us is None:
        print("  token verification cost: not measured (a server failed)")
        return
    share = (auth.server_cpu_us - bare.server_cpu_us) / bare.server_cpu_us
    print_ratios(
        [
            Ratio(
                name="token verification (live token) / bare GetUser CPU",
                target=VERIFY_TARGET,
                at_least=False,
                value=verify_us / bare.server_cpu_us,
            ),
            Ratio(
                name="whole authentication interceptor / bare GetUser CPU",
                target=VERIFY_TARGET,
                at_least=False,
                value=share,
                reason="includes the interceptor layer itself and reading the metadata",
            ),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as scratch:
        folder = Path(scratch)
        verify_us = verifier_alone(folder / "verifier")
        interceptor_cost(args, folder / "interceptor", verify_us)
        login_throughput(args, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
