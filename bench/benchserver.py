"""The processes `bench/services.py` measures, each pinned to the cores it is given.

    benchserver.py --cpus 0 constant --port P --in-flight N [--chain all|none|a,b]
                          [--workers N] [--jwks F] [--otlp URL]  # --otlp: spans to OTLP
    benchserver.py --cpus 0 user serve [--workers N]        # services.user's own command line
    benchserver.py --cpus 0 userdb --port P --in-flight N   # services.user's handlers, no chain
    benchserver.py --cpus 0 readconstant --port P --url URL --in-flight N  # + a psycopg read
    benchserver.py --cpus 0 pointread --url URL --id ID [--seconds S] [--rounds N]
    benchserver.py seed --target HOST:PORT --count N        # creates users, prints their ids
    benchserver.py --cpus 1 collector --port P              # a fake OTLP trace collector

`constant` serves acme.user.v1.UserService whose GetUser returns a fixed user, built with
servicekit's `build_server` behind the interceptors named (`all`: the chain of
`servicekit.grpc.chain.default_interceptors`). `userdb` serves the user service's own
handlers, use cases, unit of work and repository (wired by `services.user.app`, settings
from the same `USER_*` variables as `user serve`) on the same `build_server` with no
interceptors: R3's database path and nothing else. `readconstant` is the constant servicer
that first makes R3's point read with psycopg on a connection of its worker thread: the
least any GetUser that waits on PostgreSQL can cost on this server. `pointread` is the
database read alone:
psycopg 3, `SELECT ... WHERE id = %s` in a loop, printing its CPU per read as JSON.
`--in-flight` is the calls the load keeps in flight: the gRPC servers built here admit more
than that at once (`harness.admission`; `user serve` gets the same bound from the
`USER_GRPC__*` variables the caller sets), since servicekit refuses calls beyond its
bound with RESOURCE_EXHAUSTED.
Affinity is set before any server starts, so the worker processes it spawns inherit it.
This script parses the command line, pins the process and dispatches; the modes live in
bench/constantserver.py (`constant`), bench/dbservers.py (`user`, `userdb`,
`readconstant`, `pointread`, `seed`) and bench/otlpcollector.py (`collector`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from constantserver import run_constant
from dbservers import run_pointread, run_read_constant, run_seed, run_user, run_user_database_path
from otlpcollector import run_collector

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpus", default="", help="comma-separated cores to run on")
    commands = parser.add_subparsers(dest="command", required=True)
    constant = commands.add_parser("constant")
    constant.add_argument("--port", type=int, required=True)
    constant.add_argument("--chain", default="none")
    constant.add_argument("--workers", type=int, default=1)
    constant.add_argument("--jwks", default="")
    constant.add_argument("--otlp", default="", help="export spans to this OTLP endpoint")
    constant.add_argument("--in-flight", type=int, required=True, help="calls of the load")
    user = commands.add_parser("user")
    user.add_argument("rest", nargs=argparse.REMAINDER)
    userdb = commands.add_parser("userdb")
    userdb.add_argument("--port", type=int, required=True)
    userdb.add_argument("--in-flight", type=int, required=True, help="calls of the load")
    readconstant = commands.add_parser("readconstant")
    readconstant.add_argument("--port", type=int, required=True)
    readconstant.add_argument("--url", required=True)
    readconstant.add_argument("--in-flight", type=int, required=True, help="calls of the load")
    pointread = commands.add_parser("pointread")
    pointread.add_argument("--url", required=True)
    pointread.add_argument("--id", required=True)
    pointread.add_argument("--seconds", type=float, default=3.0, help="per round")
    pointread.add_argument("--rounds", type=int, default=3)
    collector = commands.add_parser("collector")
    collector.add_argument("--port", type=int, required=True)
    seed = commands.add_parser("seed")
    seed.add_argument("--target", required=True)
    seed.add_argument("--count", type=int, default=20)
    return parser


def _put_bench_folder_last() -> None:
    """Move bench/ to the end of the import path, the repository root first: in bench/,
    `services` is bench/services.py, which would hide the services package. Spawned
    workers inherit the path and import this script's sibling modules from bench/."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))
    sys.path.append(str(here))


def main(argv: Sequence[str] | None = None) -> int:
    _put_bench_folder_last()
    args = _parser().parse_args(argv)
    if args.cpus:
        os.sched_setaffinity(0, {int(core) for core in args.cpus.split(",")})
    runners = {
        "constant": run_constant,
        "user": run_user,
        "userdb": run_user_database_path,
        "readconstant": run_read_constant,
        "pointread": run_pointread,
        "seed": run_seed,
        "collector": run_collector,
    }
    return runners[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
