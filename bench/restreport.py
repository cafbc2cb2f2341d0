"""How the REST benchmark prints: the set-up, one row per contender, then the two ratios.

R2 (REST tax) is the gateway's req/s over the bare connexion app's, target >= 0.80; REST /
gRPC is GetUser through the gateway over GetUser on the user service directly, target >=
0.60. A ratio whose rows failed prints as NOT MEASURED.
"""

from __future__ import annotations

import subprocess

from harness import BenchError
from report import machine_line
from reststack import GRPC, R2_BARE, R2_GATEWAY, REST, Options
from restwindows import Window

__all__ = ["describe", "print_ratios", "print_table"]

Results = dict[str, Window | BenchError]


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}".replace(",", " ")


def print_table(results: Results) -> None:
    head = (
        f"{'':34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'gateway us':>10} "
        f"{'backend us':>10} {'client us':>9} {'core 0':>6}"
    )
    print(head)
    for label, window in results.items():
        if isinstance(window, BenchError):
            print(f"{label:34} failed: {window}")
            continue
        server_us = window.per_request_us(window.gateway_s)
        busy = window.core0_s / max(window.elapsed_s, 1e-9)
        print(
            f"{label:34} {_fmt(window.rps):>8} {window.p50_us / 1000:>7.1f} "
            f"{window.p99_us / 1000:>7.1f} {_fmt(server_us):>10} "
            f"{_fmt(window.per_request_us(window.backend_s)):>10} "
            f"{_fmt(window.per_request_us(window.client_s)):>9} {busy:>6.0%}"
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


def print_ratios(results: Results) -> None:
    print()
    value, note = _rest_tax(results)
    print(_ratio_line("R2 REST tax, gateway / bare connexion, req/s", value, 0.80, note))
    value, note = _rest_over_grpc(results)
    print(_ratio_line("REST / gRPC GetUser on PostgreSQL, req/s", value, 0.60, note))


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
        f"gateway us: CPU per request of the gateway process (bare row: the bare app's); "
        f"backend us: the row's gRPC server; core 0: CPU of the servers on core 0 / wall"
    )
