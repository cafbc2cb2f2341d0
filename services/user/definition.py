"""The User Service, declared to servicekit: its name, settings, wiring and schema, and
``create-admin``, its one command of its own.

``python -m services.user`` runs this declaration through ``servicekit.cli`` (``serve``,
``probe``, ``migrate``, ``revision`` and ``create-admin``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from servicekit.definition import Command, ServiceDefinition
from services.user.app import SERVICE_NAME, create_admin, create_server
from services.user.models import MIGRATIONS_DIR, metadata
from services.user.settings import UserSettings, load

__all__ = ["PASSWORD_ENV", "SERVICE"]

PASSWORD_ENV = "USER_ADMIN_PASSWORD"  # noqa: S105 - a variable name  # nosec B105


def _admin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True)
    parser.add_argument("--display-name", default="Administrator")


def _create_admin(settings: UserSettings, args: argparse.Namespace) -> int:
    password = os.environ.get(PASSWORD_ENV) or _ask_password()
    if password is None:
        return 2
    return create_admin(
        settings, email=args.email, display_name=args.display_name, password=password
    )


def _ask_password() -> str | None:
    """The admin's password, asked on the terminal; None, said in one line, without one."""
    if not sys.stdin.isatty():
        print(
            f"{SERVICE_NAME}: create-admin needs the admin's password: set {PASSWORD_ENV}, "
            "or run it in a terminal to be asked",
            file=sys.stderr,
        )
        return None
    try:
        return getpass.getpass("Password for the admin: ")
    except (EOFError, KeyboardInterrupt):
        print(f"\n{SERVICE_NAME}: create-admin: no password given, nothing done", file=sys.stderr)
        return None


SERVICE = ServiceDefinition(
    name=SERVICE_NAME,
    settings=load,
    create_server=create_server,
    migrations=MIGRATIONS_DIR,
    metadata=metadata,
    commands=(
        Command(
            name="create-admin",
            help=f"create the first admin, or promote a user (password from ${PASSWORD_ENV})",
            arguments=_admin_arguments,
            run=_create_admin,
            variables=(PASSWORD_ENV,),
        ),
    ),
)
