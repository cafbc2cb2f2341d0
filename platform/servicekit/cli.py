"""Every service's command line: ``python -m services.<name> [--env-file FILE] COMMAND ...``.

``main(SERVICE)`` runs a ``ServiceDefinition`` (``servicekit.definition``)::

    serve [--workers N]                  serve gRPC until SIGTERM or SIGINT (0 after a clean drain)
    probe [--wait SECONDS]               0 once the running server answers ready, else 1
    migrate [--revision REV] [--down]    apply the migrations (up to head, or down to REV)
    revision -m MSG [--autogenerate]     write the next migration (0002_add_locale.py)
    db-shell                             sqlite3 or psql on the database the settings name
    <the service's own commands>         create-admin, rotate-keys, ...

The settings are loaded once, before the command runs; invalid settings are reported by
key and end the process with exit code 2, before anything starts. A database that cannot
be used is one line too (``servicekit.dbcheck``: the setting, where it points, the cause),
exit code 2; ``serve`` connects once before it starts. ``migrate`` says in one line what
it did. ``command_line`` and ``settings_or_report`` are the parts a service with another
kind of server shares.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, TypeVar

import structlog

from servicekit import db
from servicekit.config import ConfigError
from servicekit.dbcheck import check_reachable, database_problem, where
from servicekit.dbshell import open_shell
from servicekit.definition import STANDARD_COMMANDS, ServiceDefinition, ServiceSettings
from servicekit.grpc.standard import serve_service
from servicekit.logging import configure_logging
from servicekit.probe import add_probe_command, probe_grpc_service

__all__ = ["add_serve_command", "command_line", "main", "settings_or_report"]

S = TypeVar("S")
Run = Callable[[ServiceDefinition[Any], Any, argparse.Namespace], int]


def main(service: ServiceDefinition[Any], argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, load the settings, run the command; its exit code."""
    args = _parser(service).parse_args(argv)
    settings = settings_or_report(
        service.name, service.settings, args.env_file, other_variables=service.other_variables
    )
    if settings is None:
        return 2
    standard = _STANDARD.get(args.command)
    try:
        if standard is not None:
            return standard(service, settings, args)
        return service.command(args.command).run(settings, args)
    except Exception as exc:  # the outermost boundary: a database error is one line
        line = database_problem(
            exc,
            service=service.name,
            setting=_database_setting(service),
            url=settings.database.url.reveal(),
        )
        if line is None:
            raise
        print(line, file=sys.stderr, flush=True)
        return 2


def command_line(
    *, prog: str, env_prefix: str, description: str | None
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    """The parser with ``--env-file``, and the sub-parsers its commands are added to."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--env-file", type=Path, help=f"a dotenv file of {env_prefix}_* variables")
    return parser, parser.add_subparsers(dest="command", required=True)


def add_serve_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], help_text: str
) -> None:
    """``serve [--workers N]``: N processes sharing the port (default: the settings')."""
    serve = commands.add_parser("serve", help=help_text)
    serve.add_argument(
        "--workers", type=int, default=None, help="processes sharing the port (SO_REUSEPORT)"
    )


def settings_or_report(
    service: str,
    load: Callable[..., S],
    env_file: Path | None,
    *,
    other_variables: Collection[str] = (),
) -> S | None:
    """``load(env_file=...)``, or None after printing every problem to stderr: one line
    for one problem (``user: invalid settings: USER_GRPC__PROT: unknown setting, ...``),
    else a line with their number, then one line each."""
    try:
        if other_variables:
            return load(env_file=env_file, other_variables=other_variables)
        return load(env_file=env_file)
    except ConfigError as exc:
        problems = exc.problems
        if len(problems) == 1:
            print(f"{service}: invalid settings: {problems[0]}", file=sys.stderr)
        else:
            lines = "".join(f"\n  {problem}" for problem in problems)
            print(f"{service}: invalid settings, {len(problems)} problems:{lines}", file=sys.stderr)
        return None


def _database_setting(service: ServiceDefinition[Any]) -> str:
    return f"{service.env_prefix}_DATABASE__URL"


def _parser(service: ServiceDefinition[Any]) -> argparse.ArgumentParser:
    names = " | ".join([*STANDARD_COMMANDS, *(command.name for command in service.commands)])
    parser, commands = command_line(
        prog=f"python -m {service.module}",
        env_prefix=service.env_prefix,
        description=f"``python -m {service.module} {names}``.",
    )
    add_serve_command(commands, "serve gRPC until SIGTERM or SIGINT")
    add_probe_command(commands)
    migrate_ = commands.add_parser("migrate", help="apply the database migrations")
    migrate_.add_argument("--revision", default=None, help="target revision (default: head)")
    migrate_.add_argument("--down", action="store_true", help="downgrade to --revision instead")
    revision = commands.add_parser(
        "revision",
        help="write the next migration (0002_add_locale.py), compared with a throw-away "
        "database migrated to head",
    )
    revision.add_argument("-m", "--message", required=True, help="what the migration does")
    revision.add_argument(
        "--autogenerate", action="store_true", help="write what the models add to the schema"
    )
    commands.add_parser(
        "db-shell", help="a SQL shell (sqlite3 or psql) on the database the settings name"
    )
    for command in service.commands:
        command.arguments(commands.add_parser(command.name, help=command.help))
    return parser


def _serve(
    service: ServiceDefinition[Any], settings: ServiceSettings, args: argparse.Namespace
) -> int:
    check_reachable(settings.database)  # a database it cannot use: one line, exit code 2
    return serve_service(
        service.create_server,
        settings,
        service=service.name,
        grpc=settings.grpc,
        logging=settings.logging,
        workers=args.workers,
    )


def _probe(
    service: ServiceDefinition[Any], settings: ServiceSettings, args: argparse.Namespace
) -> int:
    return probe_grpc_service(service.name, settings.grpc, settings.metrics, wait=args.wait)


def _migrate(
    service: ServiceDefinition[Any], settings: ServiceSettings, args: argparse.Namespace
) -> int:
    """Migrate, then one line: ``user: migrated .run/user.db from 0001 to 0002``."""
    configure_logging(settings.logging, service=service.name)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl." ...
    url = settings.database.url
    before = db.current(url, service.migrations)
    db.migrate(url, service.migrations, target=args.revision, down=args.down)
    after = db.current(url, service.migrations)
    place = where(url.reveal())
    if before == after:
        print(f"{service.name}: {place} is up to date ({_revision_name(after)})", flush=True)
    else:
        print(
            f"{service.name}: migrated {place} from {_revision_name(before)} "
            f"to {_revision_name(after)}",
            flush=True,
        )
    return 0


def _revision_name(revision: str | None) -> str:
    return revision or "an empty schema"


def _db_shell(
    service: ServiceDefinition[Any], settings: ServiceSettings, args: argparse.Namespace
) -> int:
    return open_shell(
        settings.database.url.reveal(), service=service.name, setting=_database_setting(service)
    )


def _revision(
    service: ServiceDefinition[Any], settings: ServiceSettings, args: argparse.Namespace
) -> int:
    # alembic is imported by the commands that migrate only (see servicekit.db).
    from alembic.util import CommandError  # noqa: PLC0415

    configure_logging(settings.logging, service=service.name)
    try:
        written = db.new_revision(
            service.migrations, service.metadata, args.message, autogenerate=args.autogenerate
        )
    except CommandError as exc:  # several heads, a broken revision: say it in one line
        print(f"{service.name}: no revision written: {exc}", file=sys.stderr)
        return 1
    structlog.get_logger(service.module).info("revision written", path=str(written))
    return 0


_STANDARD: dict[str, Run] = {
    "serve": _serve,
    "probe": _probe,
    "migrate": _migrate,
    "revision": _revision,
    "db-shell": _db_shell,
}
