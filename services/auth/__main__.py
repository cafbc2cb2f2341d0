"""``python -m services.auth serve | probe | migrate | rotate-keys``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from servicekit.config import ConfigError
from servicekit.probe import add_probe_command, probe_grpc_service
from services.auth.app import migrate, rotate_keys, serve
from services.auth.settings import load


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load(env_file=args.env_file)
    except ConfigError as exc:
        print(f"auth: invalid settings\n{exc}", file=sys.stderr)
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
    parser = argparse.ArgumentParser(prog="python -m services.auth", description=__doc__)
    parser.add_argument("--env-file", type=Path, help="a dotenv file of AUTH_* variables")
    commands = parser.add_subparsers(dest="command", required=True)
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
