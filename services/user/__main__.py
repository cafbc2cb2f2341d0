"""``python -m services.user serve | probe | migrate | create-admin``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

from servicekit.cli import command_line, settings_or_report
from servicekit.probe import add_probe_command, probe_grpc_service
from services.user.app import create_admin, migrate, serve
from services.user.settings import load

PASSWORD_ENV = "USER_ADMIN_PASSWORD"  # noqa: S105 - a variable name  # nosec B105


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_or_report("user", load, args.env_file)
    if settings is None:
        return 2
    if args.command == "serve":
        return serve(settings, workers=args.workers)
    if args.command == "probe":
        return probe_grpc_service("user", settings.grpc, settings.metrics, wait=args.wait)
    if args.command == "migrate":
        migrate(settings, revision=args.revision, down=args.down)
        return 0
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass("Password for the admin: ")
    return create_admin(
        settings, email=args.email, display_name=args.display_name, password=password
    )


def _parser() -> argparse.ArgumentParser:
    parser, commands = command_line(
        prog="python -m services.user", env_prefix="USER", description=__doc__
    )
    serve = commands.add_parser("serve", help="serve gRPC until SIGTERM or SIGINT")
    serve.add_argument(
        "--workers", type=int, default=None, help="processes sharing the port (SO_REUSEPORT)"
    )
    add_probe_command(commands)
    migrate = commands.add_parser("migrate", help="apply the database migrations")
    migrate.add_argument("--revision", default=None, help="target revision (default: head)")
    migrate.add_argument("--down", action="store_true", help="downgrade to --revision instead")
    admin = commands.add_parser(
        "create-admin",
        help=f"create the first admin, or promote a user (password from ${PASSWORD_ENV})",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--display-name", default="Administrator")
    return parser


if __name__ == "__main__":
    sys.exit(main())
