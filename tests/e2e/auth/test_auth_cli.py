"""``python -m services.auth migrate | rotate-keys | probe`` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from servicekit.testing.ports import free_port

REPO = Path(__file__).resolve().parents[3]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.auth", *args],
        cwd=REPO,
        env={**os.environ, "AUTH_LOGGING__FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_rotate_keys_prints_a_new_kid_each_time_and_publishes_every_key(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    env = {
        "AUTH_DATABASE__URL": f"sqlite:///{tmp_path / 'auth.db'}",
        "AUTH_TOKENS__JWKS_FILE": str(jwks),
    }

    migrated = run_cli("migrate", env=env)
    rotations = [run_cli("rotate-keys", env=env) for _ in range(2)]

    kids = [rotation.stdout.strip() for rotation in rotations]
    assert migrated.returncode == 0, migrated.stderr
    assert [rotation.returncode for rotation in rotations] == [0, 0]
    assert len(set(kids)) == 2
    assert set(kids) <= {key["kid"] for key in json.loads(jwks.read_text())["keys"]}


def test_invalid_settings_are_reported_by_key_before_anything_runs(tmp_path: Path) -> None:
    refused = run_cli("rotate-keys", env={"AUTH_USER_CLIENT__DEADLINE_SECONDS": "soon"})

    assert refused.returncode == 2
    assert refused.stderr.startswith("auth: invalid settings")
    assert "user_client.deadline_seconds" in refused.stderr


def test_probe_of_a_server_that_is_not_running_fails_naming_what_it_saw() -> None:
    port = free_port()

    probed = run_cli("probe", env={"AUTH_GRPC__PORT": str(port)})

    assert probed.returncode == 1
    assert f"auth: not ready after 0 s (grpc 127.0.0.1:{port}: UNAVAILABLE)" in probed.stderr
