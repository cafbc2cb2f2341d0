"""``python -m services.user migrate | create-admin | serve`` as an operator runs them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from acme.user.v1 import user_pb2
from acme.user.v1 import user_service_pb2 as pb
from servicekit.testing.tokens import TestIssuer
from services.user.app import create_server
from tests.e2e.user._support import FAST_PASSWORDS, UserApi, user_settings

REPO = Path(__file__).resolve().parents[3]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.user", *args],
        cwd=REPO,
        env={**os.environ, **FAST_PASSWORDS, "USER_LOGGING__FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_then_create_admin_gives_a_working_admin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'user.db'}"
    env = {"USER_DATABASE__URL": url, "USER_ADMIN_PASSWORD": "a long admin password"}

    migrated = run_cli("migrate", env=env)
    created = run_cli("create-admin", "--email", "root@example.com", env=env)
    issuer = TestIssuer(tmp_path)
    with create_server(user_settings(url, issuer.jwks_file)) as server:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        api = UserApi(server=server, channel=channel, issuer=issuer, database_url=url)
        listed = api.stub.ListUsers(
            pb.ListUsersRequest(role=user_pb2.ROLE_ADMIN), metadata=api.as_admin(), timeout=5
        )
        channel.close()

    assert migrated.returncode == 0, migrated.stderr
    assert created.returncode == 0, created.stderr
    assert [(user.email, list(user.roles)) for user in listed.users] == [
        ("root@example.com", [user_pb2.ROLE_ADMIN])
    ]


def test_create_admin_refuses_a_password_the_contract_refuses(tmp_path: Path) -> None:
    env = {
        "USER_DATABASE__URL": f"sqlite:///{tmp_path / 'user.db'}",
        "USER_ADMIN_PASSWORD": "short",
    }
    run_cli("migrate", env=env)

    refused = run_cli("create-admin", "--email", "root@example.com", env=env)

    assert refused.returncode == 2
    assert "password" in refused.stderr
    assert "string.min_len" in refused.stderr


def test_invalid_settings_are_reported_by_key_before_anything_runs(tmp_path: Path) -> None:
    env = {"USER_DATABASE__URL": "mysql://nowhere/db", "USER_GRPC__PORT": "not-a-port"}

    refused = run_cli("migrate", env=env)

    assert refused.returncode == 2
    assert "grpc.port" in refused.stderr
    assert "database" in refused.stderr


def test_migrate_down_empties_the_schema_and_up_restores_it(tmp_path: Path) -> None:
    env = {"USER_DATABASE__URL": f"sqlite:///{tmp_path / 'user.db'}"}

    results = [
        run_cli(*args, env=env) for args in (["migrate"], ["migrate", "--down"], ["migrate"])
    ]

    assert [result.returncode for result in results] == [0, 0, 0]
    assert results[1].stdout.endswith(" to an empty schema\n")


@pytest.mark.parametrize("taken", ["USER_GRPC__PORT", "USER_METRICS__PORT"])
def test_serve_on_a_port_in_use_says_which_address_in_one_line(tmp_path: Path, taken: str) -> None:
    with socket.socket() as other:  # another program listening on the port
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {
            "USER_DATABASE__URL": f"sqlite:///{tmp_path / 'user.db'}",
            "USER_GRPC__PORT": "0",
            "USER_METRICS__PORT": "0",
            taken: str(port),
        }
        run_cli("migrate", env=env)
        served = run_cli("serve", env=env)

    errors = [json.loads(line) for line in served.stderr.splitlines() if '"error"' in line]
    assert served.returncode == 1
    assert "Traceback" not in served.stderr + served.stdout
    assert [error["event"] for error in errors] == [
        f"cannot listen for gRPC on 127.0.0.1:{port}: the port is in use or the host is not "
        "an address of this machine (GRPC_VERBOSITY=debug tells which)"
        if taken == "USER_GRPC__PORT"
        else f"cannot serve metrics on 127.0.0.1:{port}: Address already in use"
    ]
