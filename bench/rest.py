"""The REST face under load: the gateway's REST tax (R2) and REST / gRPC.

    .venv/bin/python bench/rest.py [--duration S --repeat N --connections C]

Side by side in one run, every server a pinned subprocess, the load generator (wrk, a
Lua script checking the status of every reply) pinned to core 1:

- R2 REST tax: GET /v1/users/{id} through the real gateway (`python -m services.gateway
  serve`, uvicorn) whose user backend is the CONSTANT gRPC servicer (bench/benchserver.py
  `constant --chain none`) / a bare connexion app (bench/restserver.py `bare`: uvicorn, a
  one-operation spec, a handler returning a constant JSON user). The gateway alone is
  on core 0; the constant backend shares core 1 with the client, so that core 0's work
  is the gateway's alone and the gateway's CPU per request compares with the bare app's.
- REST / gRPC: GetUser over REST through the gateway / GetUser over gRPC directly
  (bench/grpcload, the C client of bench/services.py), the same `python -m services.user
  serve` on a throw-away PostgreSQL database (migrated, 20 users seeded through
  CreateUser, a token of the user read minted by servicekit.testing.tokens.TestIssuer).
  Gateway and user service both on core 0 (the REST path's whole server cost on the
  one core), the client on core 1, PostgreSQL unpinned; the same calls in flight.
- The anchor: the same GET through grpc-gateway (Go; bench/grpcgateway, generated and
  built by bench/grpcgatewaystack.py) in front of the same user service, on core 0 like
  the gateway: our gateway's CPU per request / grpc-gateway's is printed (informational).
  Without Go, or when the build fails, its row says "not available: <why>".

Per contender a warm-up, then the fastest of `--repeat` windows, the contenders taking
turns. Server CPU is utime + stime from /proc/<pid>/stat across each window: the gateway
process alone ("gateway us"), and the other server of the row ("backend us": the user
service, or the constant backend on core 1). Exits 1 when any reply was not a 200 (or
not gRPC OK), a socket error occurred, or a server failed (not for a contender that is
not available).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness import BenchError
from restload import WRK_SCRIPT
from restreport import describe, print_ratios, print_table
from reststack import LABELS, Options, start_all
from restwindows import measure

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per window")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before")
    parser.add_argument("--repeat", type=int, default=3, help="windows; the fastest counts")
    parser.add_argument("--connections", type=int, default=64, help="requests in flight")
    parser.add_argument("--grpc-connections", type=int, default=16)
    parser.add_argument(
        "--no-grpc-gateway", action="store_true", help="leave out the grpc-gateway anchor"
    )
    parser.add_argument(
        "--no-r6", action="store_true", help="leave out the gateway's 2 workers / 1"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = Options(
        duration=args.duration,
        warmup=args.warmup,
        repeat=args.repeat,
        connections=args.connections,
        grpc_connections=args.grpc_connections,
        grpc_gateway=not args.no_grpc_gateway,
        r6=not args.no_r6,
    )
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 1
    print(describe(options), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        script = workdir / "status.lua"
        script.write_text(WRK_SCRIPT)
        try:
            contenders, skipped = start_all(stack, options, workdir, script)
        except BenchError as exc:
            print(f"failed to start: {exc}", file=sys.stderr)
            return 1
        measured = measure(
            contenders, warmup=options.warmup, duration=options.duration, rounds=options.repeat
        )
    found = {**measured, **skipped}
    results = {label: found[label] for label in LABELS if label in found}
    print()
    print_table(results)
    print_ratios(results)
    failed = [r for r in results.values() if isinstance(r, BenchError)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
