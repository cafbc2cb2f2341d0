"""``python -m services.auth serve | probe | migrate | rotate-keys``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from servicekit.cli import command_line, settings_or_report
from servicekit.probe import add_probe_command, probe_grpc_service
from services.auth.app import migrate, rotate_keys, serve
from services.auth.settings import load


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_or_report("auth", load, args.env_file)
    if settings is None:
        return 2
    if args.command == "serve":
        return serve(settings, workers=args.workers)
    if args.command == "probe":
        return probe_grpc_service("auth", settings.grpc, settings.metrics, wait=args.wait)
    if args.command == "migrate":
        migrate(settings, revision=args.revision, down=args.down)
        return 0
    print(rotate_keys(settings))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser, commands = command_line(
        prog="python -m services.auth", env_prefix="AUTH", description=__doc__
    )
    serve_command = commands.add_parser("serve", help="serve gRPC until SIGTERM or SIGINT")
    serve_command.add_argument(
        "--workers", type=int, default=None, help="processes sharing the port (SO_REUSEPORT)"
    )
    add_probe_command(commands)
    migrate_command = commands.add_parser("migrate", help="apply the database migrations")
    migrate_command.add_argument("--revision", default=None, help="target (default: head)")
    migrate_command.add_argument("--down", action="store_true", help="downgrade to --revision")
    commands.add_parser(
        "rotate-keys",
        help="make a new signing key (prints its kid); old keys stay published for the overlap",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
