"""Is a running service ready? The ``probe`` command every service has.

``python -m services.user probe --wait 60`` asks the server its own settings describe, and
exits 0 once it answers ready (gRPC: the standard health service says SERVING; the gateway:
``/readyz`` answers 200), or 1 when it has not within the wait. ``make up`` uses it to
await the whole stack before printing its addresses; a container runtime or a script can
use it the same way. Every check dials the loopback address when the server listens on
all interfaces.

``python -m servicekit.probe --wait 60 services.user services.auth services.gateway`` runs
the ``probe`` command of each service at once, in one interpreter (``make up``'s ``ready``
process): it exits 0 once every one is ready, so the stack is announced as soon as its
last service answers. ``--running`` asks each once, quietly, and names those that answer
(``make up`` says so instead of starting a second stack beside the first).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib
import io
import ipaddress
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from servicekit.grpc.server import GrpcSettings
from servicekit.metrics import MetricsSettings
from servicekit.tls import TlsClientSettings, channel_credentials, channel_options

__all__ = [
    "Outcome",
    "add_probe_command",
    "grpc_ready",
    "grpc_target",
    "http_ready",
    "main",
    "metrics_address",
    "probe_all",
    "probe_grpc_service",
    "reachable_host",
    "report",
    "running",
    "wait_until",
]

Check = Callable[[], "Outcome"]
_ONE_LINE_AT_A_TIME = threading.Lock()
CommandLine = Callable[[Sequence[str]], int]
"""A service's ``main(argv)``: the ``__main__`` module of ``python -m services.<name>``."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One answer of a check: ready or not, and what was seen."""

    ready: bool
    seen: str


def reachable_host(host: str) -> str:
    """Where a local client reaches a server bound to ``host`` (a wildcard: loopback)."""
    if host in ("", "*"):
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name
    if address.is_unspecified:
        return "::1" if address.version == 6 else "127.0.0.1"
    return host


def grpc_target(settings: GrpcSettings) -> str:
    """``host:port`` of the server ``settings`` describe, as a local client dials it."""
    host = reachable_host(settings.host)
    return f"[{host}]:{settings.port}" if ":" in host else f"{host}:{settings.port}"


def grpc_ready(settings: GrpcSettings, *, timeout: float = 2.0) -> Outcome:
    """One health check of the server: ready when the overall status is SERVING.

    A TLS server is checked over TLS. Under mutual TLS the probe presents the server's own
    certificate and verifies the server with the clients' CA (one development CA signs
    both); without it, the server is verified against the system's trusted roots.
    """
    target = grpc_target(settings)
    tls = settings.tls
    client = TlsClientSettings(
        enabled=tls.enabled,
        ca_file=tls.client_ca_file,
        cert_file=tls.cert_file if tls.require_client_cert else "",
        key_file=tls.key_file if tls.require_client_cert else "",
    )
    credentials = channel_credentials(client)
    channel = (
        grpc.insecure_channel(target)
        if credentials is None
        else grpc.secure_channel(target, credentials, options=channel_options(client))
    )
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError as exc:
            return Outcome(False, f"grpc {target}: {exc.code().name}")
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return Outcome(status == "SERVING", f"grpc {target}: {status}")


def http_ready(host: str, port: int, path: str, *, timeout: float = 2.0) -> Outcome:
    """One GET of ``path``: ready on a 200."""
    where = f"http://{reachable_host(host)}:{port}{path}"
    connection = http.client.HTTPConnection(reachable_host(host), port, timeout=timeout)
    try:
        connection.request("GET", path)
        status = connection.getresponse().status
    except OSError as exc:
        return Outcome(False, f"{where}: {exc.strerror or exc}")
    finally:
        connection.close()
    return Outcome(status == 200, f"{where}: {status}")


def wait_until(check: Check, *, within: float, every: float = 0.25) -> Outcome:
    """Run ``check`` until it answers ready or ``within`` seconds pass (at least once)."""
    deadline = time.monotonic() + within
    while True:
        outcome = check()
        if outcome.ready or time.monotonic() >= deadline:
            return outcome
        time.sleep(every)


def report(service: str, check: Check, *, wait: float, addresses: list[str]) -> int:
    """The ``probe`` command's outcome: one line naming the addresses once ready (exit 0),
    or one line on stderr naming what was last seen (exit 1)."""
    outcome = wait_until(check, within=wait)
    with _ONE_LINE_AT_A_TIME:  # several services' probes may report at once (probe_all)
        if outcome.ready:
            print(f"{service}: ready   " + "   ".join(addresses), flush=True)
            return 0
        where = sys.stderr
        print(f"{service}: not ready after {wait:g} s ({outcome.seen})", file=where, flush=True)
        return 1


def metrics_address(metrics: MetricsSettings) -> list[str]:
    """``metrics <url>`` as the ``probe`` line shows it, or nothing when metrics are off."""
    if not metrics.enabled:
        return []
    return [f"metrics http://{reachable_host(metrics.host)}:{metrics.port}/metrics"]


def probe_grpc_service(
    service: str, grpc_settings: GrpcSettings, metrics: MetricsSettings, *, wait: float
) -> int:
    """``probe`` of a gRPC service: its health, then its gRPC and metrics addresses."""
    addresses = [f"grpc {grpc_target(grpc_settings)}", *metrics_address(metrics)]
    return report(service, lambda: grpc_ready(grpc_settings), wait=wait, addresses=addresses)


def add_probe_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``probe [--wait SECONDS]`` to a service's command line."""
    probe = commands.add_parser(
        "probe", help="exit 0 when the running server answers ready, 1 when it does not"
    )
    probe.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep asking for this long before giving up (default: ask once)",
    )


def command_line(module: str) -> CommandLine:
    """The ``main(argv)`` of ``python -m <module>`` (its ``__main__`` module, imported)."""
    entry = getattr(importlib.import_module(f"{module}.__main__"), "main", None)
    if not callable(entry):
        raise SystemExit(f"probe: {module} has no command line (a __main__.main(argv))")
    return entry  # type: ignore[no-any-return]


def probe_all(commands: Sequence[CommandLine], *, wait: float) -> int:
    """Each command's ``probe --wait`` in a thread of its own, all at once: 0 when every
    one answered ready, else the highest exit code. Each prints its own line."""
    codes = [1] * len(commands)

    def run(index: int, command: CommandLine) -> None:
        codes[index] = command(["probe", "--wait", f"{wait:g}"])

    threads = [
        threading.Thread(target=run, args=(index, command), daemon=True)
        for index, command in enumerate(commands)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(codes, default=0)


def running(commands: Sequence[tuple[str, CommandLine]]) -> list[str]:
    """Which of the named commands' servers answer ready now (asked once, one after the
    other, their output kept quiet), each as ``user at grpc 127.0.0.1:50051``."""
    answering = []
    for name, command in commands:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = command(["probe"])
        if code == 0:
            _, _, addresses = out.getvalue().partition(": ready")
            first = addresses.strip().split("   ")[0]
            answering.append(f"{name} at {first}" if first else name)
    return answering


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m servicekit.probe [--wait SECONDS | --running] MODULE ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.probe",
        description="The probe command of several services at once.",
    )
    parser.add_argument("modules", nargs="*", metavar="MODULE", help="services.user, ...")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument(
        "--running",
        action="store_true",
        help="print which of them answer now (exit 0), or nothing (exit 1) when none does",
    )
    args = parser.parse_args(argv)
    commands = [command_line(module) for module in args.modules]  # imported one at a time
    if args.running:
        names = [module.rpartition(".")[2] for module in args.modules]
        answering = running(list(zip(names, commands, strict=True)))
        if answering:
            print(", ".join(answering), flush=True)
        return 0 if answering else 1
    return probe_all(commands, wait=args.wait)


def _exit_with(code: int) -> Callable[[int, object], None]:
    def stop(_signum: int, _frame: object) -> None:
        sys.stdout.flush()
        os._exit(code)

    return stop


if __name__ == "__main__":
    for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        signal.signal(signum, _exit_with(code))  # stop at once: no thread holds anything
    sys.exit(main())
