"""How the REST benchmark prints: the set-up, one row per contender, then the ratios.

R2 (REST tax) is the gateway's req/s over the bare connexion app's, target >= 0.80; REST /
gRPC is GetUser through the gateway over GetUser on the user service directly, target >=
0.60; R6 gateway is the gateway's req/s with 2 workers over 1, both free on the 2 cores,
target >= 1.40 (as R6 of the gRPC services). A ratio whose rows failed prints as NOT
MEASURED. The anchor line, informational (no target), is our gateway's CPU per REST GetUser
over grpc-gateway's, in front of the same user service, with both figures and both req/s
beside it.
"""

from __future__ import annotations

import subprocess

import grpcgatewaystack
from gotools import Unavailable
from harness import BenchError
from report import machine_line
from reststack import GRPC, GRPC_GATEWAY, R2_BARE, R2_GATEWAY, R6_ONE, R6_TWO, REST, Options
from restwindows import NotAvailable, Window

__all__ = ["describe", "print_ratios", "print_table"]

Results = dict[str, Window | BenchError | NotAvailable]


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}".replace(",", " ")


def print_table(results: Results) -> None:
    head = (
        f"{'':36} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'gateway us':>10} "
        f"{'backend us':>10} {'client us':>9} {'core 0':>6}"
    )
    print(head)
    for label, window in results.items():
        if isinstance(window, BenchError):
            print(f"{label:36} failed: {window}")
            continue
        if isinstance(window, NotAvailable):
            print(f"{label:36} not available: {window.why}")
            continue
        server_us = window.per_request_us(window.gateway_s)
        busy = window.core0_s / max(window.elapsed_s, 1e-9)
        core0 = "—" if label in (R6_ONE, R6_TWO) else f"{busy:.0%}"  # they run on both
        print(
            f"{label:36} {_fmt(window.rps):>8} {window.p50_us / 1000:>7.1f} "
            f"{window.p99_us / 1000:>7.1f} {_fmt(server_us):>10} "
            f"{_fmt(window.per_request_us(window.backend_s)):>10} "
            f"{_fmt(window.per_request_us(window.client_s)):>9} {core0:>6}"
        )


def _ratio_line(name: str, value: float | None, target: float, note: str) -> str:
    if value is None:
        return f"{name:44} {'—':>6}  target >= {target:.2f}  NOT MEASURED  {note}"
    verdict = "PASS" if value >= target else "MISS"
    return f"{name:44} {value:>6.2f}  target >= {target:.2f}  {verdict}  {note}"


def _rest_tax(results: Results) -> tuple[float | None, str]:
    gateway, bare = results.get(R2_GATEWAY), results.get(R2_BARE)
    if not (isinstance(gateway, Window) and isinstance(bare, Window)):
        return None, ""
    gw_us = gateway.per_request_us(gateway.gateway_s) or 0.0
    bare_us = bare.per_request_us(bare.gateway_s) or 0.0
    cpu = bare_us / gw_us if gw_us else float("nan")
    note = f"(by CPU per request, bare / gateway: {cpu:.2f}; gateway +{gw_us - bare_us:.0f} us)"
    return gateway.rps / bare.rps, note


def _rest_over_grpc(results: Results) -> tuple[float | None, str]:
    rest, grpc = results.get(REST), results.get(GRPC)
    if not (isinstance(rest, Window) and isinstance(grpc, Window)):
        return None, ""
    rest_total = (rest.per_request_us(rest.gateway_s) or 0) + (
        rest.per_request_us(rest.backend_s) or 0
    )
    grpc_total = grpc.per_request_us(grpc.backend_s) or 0
    note = (
        f"(server CPU per GetUser on core 0, REST {rest_total:.0f} us = gateway + "
        f"user service, gRPC {grpc_total:.0f} us)"
    )
    return rest.rps / grpc.rps, note


def _r6(results: Results) -> tuple[float | None, str]:
    one, two = results.get(R6_ONE), results.get(R6_TWO)
    if not (isinstance(one, Window) and isinstance(two, Window)):
        return None, ""
    us = [w.per_request_us(w.gateway_s) or 0.0 for w in (one, two)]
    note = f"(gateway CPU per request: 1 worker {us[0]:.0f} us, 2 workers {us[1]:.0f} us)"
    return two.rps / one.rps, note


def _anchor_line(results: Results) -> str | None:
    """Our gateway's CPU per REST GetUser / grpc-gateway's (None: grpc-gateway not asked)."""
    name = "our gateway CPU per request / grpc-gateway's"
    ours, anchor = results.get(REST), results.get(GRPC_GATEWAY)
    if anchor is None:
        return None
    if isinstance(anchor, NotAvailable):
        return f"{name:44} {'—':>6}  informational  not available: {anchor.why}"
    if not (isinstance(ours, Window) and isinstance(anchor, Window)):
        return f"{name:44} {'—':>6}  informational  NOT MEASURED"
    ours_us = ours.per_request_us(ours.gateway_s) or 0.0
    anchor_us = anchor.per_request_us(anchor.gateway_s) or 0.0
    value = ours_us / anchor_us if anchor_us else float("nan")
    backend = [_fmt(w.per_request_us(w.backend_s)) for w in (ours, anchor)]
    note = (
        f"(gateway us per GetUser: ours {ours_us:.0f}, grpc-gateway {anchor_us:.0f}; req/s: "
        f"ours {_fmt(ours.rps)}, grpc-gateway {_fmt(anchor.rps)}; the user service behind "
        f"each: {backend[0]} / {backend[1]} us)"
    )
    return f"{name:44} {value:>6.2f}  informational  {note}"


def print_ratios(results: Results) -> None:
    print()
    value, note = _rest_tax(results)
    print(_ratio_line("R2 REST tax, gateway / bare connexion, req/s", value, 0.80, note))
    value, note = _r6(results)
    if value is not None or R6_ONE in results:
        print(_ratio_line("R6 gateway, 2 workers / 1, req/s", value, 1.40, note))
    value, note = _rest_over_grpc(results)
    print(_ratio_line("REST / gRPC GetUser on PostgreSQL, req/s", value, 0.60, note))
    anchor = _anchor_line(results)
    if anchor is not None:
        print(anchor)


def _anchor(options: Options) -> str:
    if not options.grpc_gateway:
        return "grpc-gateway: left out (--no-grpc-gateway)"
    try:
        return f"anchor: {grpcgatewaystack.describe()}, on core 0 like our gateway"
    except Unavailable as exc:
        return f"anchor: grpc-gateway not available: {exc}"


def describe(options: Options) -> str:
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    version = (wrk.stdout or wrk.stderr).split("[")[0].strip()
    return (
        f"{machine_line()}\n"
        f"load: {version} (1 thread, Lua script counting non-200 replies), "
        f"{options.connections} connections = requests in flight; gRPC: bench/grpcload, "
        f"{options.connections} calls in flight over {options.grpc_connections} connections\n"
        f"servers on core 0 (the R2 constant backend on core 1 with the client); per "
        f"contender {options.warmup:g} s warm-up, then the fastest of {options.repeat} x "
        f"{options.duration:g} s (contenders take turns)\n"
        f"gateway us: CPU per request of the gateway process (bare row: the bare app's, "
        f"grpc-gateway row: grpc-gateway's); backend us: the row's gRPC server; core 0: "
        f"CPU of the servers on core 0 / wall\n"
        f"{_anchor(options)}"
    )
