"""What ``python -m services.user`` says when the first hour goes wrong, and when it goes
right: one line each, never a traceback (the exact first line is the contract).

- a mistyped USER_ variable names the variable meant; Kubernetes' service links are fine;
- a database that cannot be reached, does not exist or is not migrated names the setting,
  where it points and the cause, exit code 2;
- create-admin without a password or a terminal, or with a weak password, names what is
  missing or the rule;
- migrate and create-admin say what they did in one plain line, even in the console format
  of `make up`, without alembic's chatter;
- db-shell opens sqlite3, Python's own sqlite3 module or psql on the configured database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import make_url

from servicekit.db import head
from servicekit.testing.databases import postgres_server_url, temporary_database
from servicekit.testing.ports import free_port
from services.user.models import MIGRATIONS_DIR
from tests.e2e.user._support import FAST_PASSWORDS

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "correct horse battery"


def run_cli(
    *args: str, env: dict[str, str], stdin: str | None = None, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it under `make up`: the console log format."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("USER_")},
        **FAST_PASSWORDS,
        "USER_LOGGING__FORMAT": "console",
        **env,
    }
    if path is not None:
        environment["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "services.user", *args],
        cwd=REPO,
        env=environment,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def first_line(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stderr or result.stdout).splitlines()[0]


def sqlite(tmp_path: Path, name: str = "user.db") -> dict[str, str]:
    return {"USER_DATABASE__URL": f"sqlite:///{tmp_path / name}"}


# Settings variables


@pytest.mark.parametrize(
    ("variable", "value"), [("USER_GRPC__PROT", "1"), ("USER_GRPC_PORT", "50061")]
)
def test_a_mistyped_variable_stops_serve_with_the_variable_meant(
    tmp_path: Path, variable: str, value: str
) -> None:
    served = run_cli("serve", env={**sqlite(tmp_path), variable: value})

    assert served.returncode == 2
    assert served.stderr.splitlines() == [
        f"user: invalid settings: {variable}: unknown setting, did you mean USER_GRPC__PORT?"
    ]
    assert served.stdout == ""


def test_the_variables_kubernetes_injects_for_the_user_service_are_harmless(
    tmp_path: Path,
) -> None:
    port = free_port()
    links = {
        "USER_PORT": "tcp://10.96.0.7:50051",
        "USER_PORT_50051_TCP": "tcp://10.96.0.7:50051",
        "USER_SERVICE_HOST": "10.96.0.7",
        "USER_SERVICE_PORT": "50051",
    }

    probed = run_cli("probe", env={**sqlite(tmp_path), **links, "USER_GRPC__PORT": str(port)})

    assert probed.returncode == 1  # the settings loaded; nothing listens there
    assert first_line(probed) == f"user: not ready after 0 s (grpc 127.0.0.1:{port}: UNAVAILABLE)"


# The database


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_a_database_server_that_refuses_is_one_line_naming_setting_host_and_cause(
    command: str,
) -> None:
    port = free_port()  # nothing listens there
    env = {"USER_DATABASE__URL": f"postgresql://user:s3cret@127.0.0.1:{port}/user"}

    done = run_cli(command, env=env)

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"user: cannot reach the database at 127.0.0.1:{port} (USER_DATABASE__URL): "
        "connection refused"
    ]
    assert "s3cret" not in done.stderr + done.stdout


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_a_database_that_does_not_exist_is_one_line_naming_it(command: str) -> None:
    server = make_url(postgres_server_url())
    missing = f"missing_{uuid.uuid4().hex[:8]}"
    url = server.set(database=missing).render_as_string(hide_password=False)
    where = f"{server.host}:{server.port or 5432}"

    done = run_cli(command, env={"USER_DATABASE__URL": url})

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"user: cannot reach the database at {where} (USER_DATABASE__URL): "
        f'database "{missing}" does not exist'
    ]


def test_a_database_that_is_not_migrated_says_to_migrate(tmp_path: Path) -> None:
    (tmp_path / "user.db").touch()
    env = {**sqlite(tmp_path), "USER_ADMIN_PASSWORD": PASSWORD}

    created = run_cli("create-admin", "--email", "root@example.com", env=env)

    assert created.returncode == 2
    assert created.stderr.splitlines() == [
        f"user: the database at {tmp_path / 'user.db'} (USER_DATABASE__URL) is not migrated "
        "(no such table: users): run `python -m services.user migrate` first"
    ]


def test_a_sqlite_file_whose_folder_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").touch()  # a file where the database's folder should be
    url = f"sqlite:///{tmp_path / 'file' / 'user.db'}"

    migrated = run_cli("migrate", env={"USER_DATABASE__URL": url})

    assert migrated.returncode == 2
    assert first_line(migrated) == (
        f"user: cannot open the database at {tmp_path / 'file' / 'user.db'} "
        f"(USER_DATABASE__URL): File exists: {tmp_path / 'file'}"
    )


# create-admin


def test_create_admin_without_a_password_nor_a_terminal_says_what_it_needs(
    tmp_path: Path,
) -> None:
    run_cli("migrate", env=sqlite(tmp_path))

    created = run_cli("create-admin", "--email", "root@example.com", env=sqlite(tmp_path))

    assert created.returncode == 2
    assert created.stderr.splitlines() == [
        "user: create-admin needs the admin's password: set USER_ADMIN_PASSWORD, "
        "or run it in a terminal to be asked"
    ]


def test_create_admin_with_a_weak_password_names_the_rule(tmp_path: Path) -> None:
    env = {**sqlite(tmp_path), "USER_ADMIN_PASSWORD": "short"}
    run_cli("migrate", env=env)

    created = run_cli("create-admin", "--email", "root@example.com", env=env)

    assert created.returncode == 2
    assert created.stderr.splitlines() == [
        "user: create-admin refused: password: must be at least 12 characters (string.min_len)"
    ]


# What migrate and create-admin say when they work


def test_migrate_and_create_admin_each_say_what_they_did_in_one_plain_line(
    tmp_path: Path,
) -> None:
    env = {**sqlite(tmp_path), "USER_ADMIN_PASSWORD": PASSWORD}
    database = tmp_path / "user.db"
    latest = head(MIGRATIONS_DIR)

    first = run_cli("migrate", env=env)
    again = run_cli("migrate", env=env)
    created = run_cli("create-admin", "--email", "root@example.com", env=env)
    recreated = run_cli("create-admin", "--email", "root@example.com", env=env)

    assert (first.stdout, first.stderr) == (
        f"user: migrated {database} from an empty schema to {latest}\n",
        "",
    )
    assert (again.stdout, again.stderr) == (f"user: {database} is up to date ({latest})\n", "")
    admin = r"user: root@example\.com is an admin \(user id [0-9a-f-]{36}\)\n"
    assert re.fullmatch(admin, created.stdout), created.stdout + created.stderr
    assert (recreated.stdout, recreated.stderr) == (created.stdout, "")


# db-shell


def migrated_sqlite(tmp_path: Path) -> dict[str, str]:
    env = sqlite(tmp_path)
    assert run_cli("migrate", env=env).returncode == 0
    return env


def test_db_shell_without_a_sqlite3_program_is_pythons_sqlite3_module(tmp_path: Path) -> None:
    env = migrated_sqlite(tmp_path)
    no_sqlite3 = tmp_path / "bin"
    no_sqlite3.mkdir()

    shell = run_cli(
        "db-shell",
        env=env,
        stdin=".tables\nSELECT COUNT(*) AS users\n  FROM users;\nSELECT nonsense;\n.quit\n",
        path=str(no_sqlite3),
    )

    tables, *rest = shell.stdout.splitlines()
    assert shell.returncode == 0, shell.stderr
    assert {"alembic_version", "users"} <= set(tables.split())
    assert rest == ["users", "0", "Error: no such column: nonsense"]


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="no sqlite3 program here")
def test_db_shell_is_the_sqlite3_program_when_there_is_one(tmp_path: Path) -> None:
    env = migrated_sqlite(tmp_path)

    shell = run_cli("db-shell", env=env, stdin=".tables\nSELECT COUNT(*) FROM users;\n")

    *tables, count = shell.stdout.split()
    assert shell.returncode == 0, shell.stderr
    assert {"alembic_version", "users"} <= set(tables)
    assert count == "0"


def test_db_shell_before_the_database_exists_says_what_creates_it(tmp_path: Path) -> None:
    shell = run_cli("db-shell", env=sqlite(tmp_path))

    assert shell.returncode == 2
    assert shell.stderr.splitlines() == [
        f"user: no database at {tmp_path / 'user.db'} (USER_DATABASE__URL) yet: "
        "`python -m services.user migrate` (or make up) creates it"
    ]


@pytest.mark.skipif(shutil.which("psql") is None, reason="no psql program here")
def test_db_shell_on_postgresql_is_psql(tmp_path: Path) -> None:
    with temporary_database("postgresql", tmp_path) as url:
        env = {"USER_DATABASE__URL": url}
        assert run_cli("migrate", env=env).returncode == 0
        shell = run_cli("db-shell", env=env, stdin="SELECT count(*) AS users FROM users;\n")

    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split()[:3] == ["users", "-------", "0"]
