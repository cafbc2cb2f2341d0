"""The HTTP servers `bench/rest.py` measures, each pinned to the cores it is given.

    restserver.py --cpus 0 gateway [--workers N] # `python -m services.gateway serve`
    restserver.py --cpus 0 bare --port P         # a bare connexion app, one operation
    restserver.py --cpus 0 grpcgateway BINARY --listen H:P --backend H:P   # grpc-gateway

`gateway` is the real API gateway, started by its own command line (settings from the
`GATEWAY_*` variables the caller sets): the process sets its affinity, then execs the
interpreter on `-m services.gateway serve`, so the pid the caller holds is the gateway's.
`bare` is connexion alone: `AsyncApp` with a one-operation spec (GET /v1/users/{id}, the
path parameter a uuid), its handler returning a constant JSON user, served by uvicorn
with the gateway's uvicorn options (no access log, no server header, lifespan on).
`grpcgateway` sets its affinity, then execs BINARY (bench/grpcgateway, built by
bench/grpcgatewaystack.py) with the arguments after it: the pid is grpc-gateway's, and Go
sizes GOMAXPROCS to the cores it is given.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["BARE_SPEC", "CONSTANT_USER", "main"]

ROOT = Path(__file__).resolve().parents[1]
CONSTANT_USER = {
    "id": "7d2b4a3e-1c5f-4d6a-9e8b-2f1a3c4d5e6f",
    "email": "ada@example.com",
    "displayName": "Ada",
}
BARE_SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "bare", "version": "1"},
    "paths": {
        "/v1/users/{id}": {
            "get": {
                "operationId": "get_user",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid", "minLength": 1},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The user.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "string"},
                                        "email": {"type": "string"},
                                        "displayName": {"type": "string"},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}


def _run_gateway(args: argparse.Namespace) -> int:
    command = [sys.executable, "-m", "services.gateway", "serve", "--workers", str(args.workers)]
    os.chdir(ROOT)
    os.execv(sys.executable, command)  # noqa: S606 - our own interpreter, fixed arguments
    return 1  # not reached


def _run_grpc_gateway(args: argparse.Namespace) -> int:
    os.execv(args.binary, [args.binary, *args.rest])  # noqa: S606 - the binary the bench built


def _run_bare(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 - only this mode needs it
    from connexion import AsyncApp  # noqa: PLC0415
    from connexion.resolver import Resolver  # noqa: PLC0415

    async def get_user(**_params: Any) -> dict[str, str]:
        return CONSTANT_USER

    app = AsyncApp(__name__, resolver=Resolver(function_resolver=lambda _name: get_user))
    app.add_api(BARE_SPEC)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    print(f"bare connexion serving on port {args.port}", file=sys.stderr, flush=True)
    uvicorn.Server(config).run()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpus", default="", help="comma-separated cores to run on")
    commands = parser.add_subparsers(dest="command", required=True)
    gateway = commands.add_parser("gateway")
    gateway.add_argument("--workers", type=int, default=1, help="processes sharing the port")
    bare = commands.add_parser("bare")
    bare.add_argument("--port", type=int, required=True)
    grpc_gateway = commands.add_parser("grpcgateway")
    grpc_gateway.add_argument("binary")
    grpc_gateway.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cpus:
        os.sched_setaffinity(0, {int(core) for core in args.cpus.split(",")})
    runners = {"gateway": _run_gateway, "bare": _run_bare, "grpcgateway": _run_grpc_gateway}
    return runners[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
