"""Is a running service ready? The ``probe`` command every service has.

``python -m services.user probe --wait 60`` asks the server its own settings describe, and
exits 0 once it answers ready (gRPC: the standard health service says SERVING; the gateway:
``/readyz`` answers 200), or 1 when it has not within the wait. ``make up`` uses it to
await the whole stack before printing its addresses; a container runtime or a script can
use it the same way. Every check dials the loopback address when the server listens on
all interfaces.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import sys
import time
from collections.abc import Callable
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
    "metrics_address",
    "probe_grpc_service",
    "reachable_host",
    "report",
    "wait_until",
]

Check = Callable[[], "Outcome"]


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
    if outcome.ready:
        print(f"{service}: ready   " + "   ".join(addresses), flush=True)
        return 0
    print(f"{service}: not ready after {wait:g} s ({outcome.seen})", file=sys.stderr, flush=True)
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
