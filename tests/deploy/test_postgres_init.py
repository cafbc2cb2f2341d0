"""PostgreSQL's init script (derived from the manifests) on a real server: one login role and
one private database per database owner, and it runs again without harm, a changed password
taken over (what an existing cluster needs when a database service is added later).

The script runs as the postgres image runs it (``sh``, ``psql``, ``POSTGRES_USER``), pointed
at a throw-away server of the test's own and at a folder standing in for the mounted Secret.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg

from servicekit.testing.postgres import SUPERUSER, LocalPostgres, binaries
from stackkit.overlays import INIT_SCRIPT
from tests.deploy._services import MANIFESTS, ROOT

OWNERS = [m.name for m in MANIFESTS if m.database]


def _run_script(server: LocalPostgres, secrets: Path) -> None:
    env = {
        "PATH": f"{binaries()}{os.pathsep}{os.environ['PATH']}",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(server.port),
        "POSTGRES_USER": SUPERUSER,
        "POSTGRES_SECRETS": str(secrets),
    }
    result = subprocess.run(
        ["sh", str(ROOT / INIT_SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _write_passwords(secrets: Path, suffix: str) -> None:
    secrets.mkdir(exist_ok=True)
    (secrets / "postgres-password").write_text("unused-on-trusted-loopback")
    for owner in OWNERS:
        (secrets / f"{owner}-password").write_text(f"{owner}-{suffix}")


def _state(server: LocalPostgres) -> dict[str, tuple[bool, str, bool, str]]:
    """Per owner: its role can log in, the database's owner, whether PUBLIC may connect,
    and the role's stored password hash."""
    with psycopg.connect(
        host="127.0.0.1", port=server.port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as connection:
        rows = connection.execute(
            "SELECT d.datname, r.rolcanlogin, o.rolname,"
            " has_database_privilege('public_probe', d.datname, 'CONNECT'), r.rolpassword"
            " FROM pg_database d JOIN pg_authid o ON o.oid = d.datdba"
            " JOIN pg_authid r ON r.rolname = d.datname || '_service'"
        ).fetchall()
    return {name: (login, owner, public, password) for name, login, owner, public, password in rows}


def test_each_owner_gets_a_login_role_and_a_private_database_and_it_runs_again(
    tmp_path: Path,
) -> None:
    secrets = tmp_path / "secrets"
    _write_passwords(secrets, "first")
    with LocalPostgres() as server:
        with psycopg.connect(
            host="127.0.0.1", port=server.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE ROLE public_probe")  # any other role: PUBLIC's rights
        _run_script(server, secrets)
        first = _state(server)
        _write_passwords(secrets, "rotated")
        _run_script(server, secrets)
        again = _state(server)

    assert sorted(first) == sorted(OWNERS)
    for owner in OWNERS:
        login, database_owner, public, password = first[owner]
        assert (login, database_owner, public) == (True, f"{owner}_service", False)
        assert password.startswith("SCRAM-SHA-256$")
        assert again[owner][:3] == first[owner][:3]
        assert again[owner][3] != password  # the Secret's new password was taken over
