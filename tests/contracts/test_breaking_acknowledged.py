"""An intended break, acknowledged: `make breaking` fails until each finding is listed in
api/breaking-acknowledged.yaml with its reason and release, passes once they all are, and
names each entry as stale once the base branch has the break, so that the file is emptied."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from contractkit.cli import main
from tests.contracts.conftest import Sandbox

USER_SERVICE = "api/proto/acme/user/v1/user_service.proto"
ACKNOWLEDGED = "api/breaking-acknowledged.yaml"
DELETE_ETAG = (
    "  // When set, the user is deleted only if this is its current etag.\n"
    "  string etag = 2 [(buf.validate.field).string.max_len = 64];\n"
)

pytestmark = pytest.mark.slow


def drafted(result: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    """The entries `make breaking` proposes on stderr for its unacknowledged findings."""
    text = result.stderr.split("with its reason and release:\n", 1)[1]
    entries: list[dict[str, str]] = yaml.safe_load(text)
    return entries


def acknowledge(sandbox: Sandbox, entries: list[dict[str, str]]) -> None:
    (sandbox.root / ACKNOWLEDGED).write_text(
        yaml.safe_dump({"acknowledged": entries}, sort_keys=False, width=1000)
    )


def test_an_intended_break_passes_once_acknowledged_and_goes_stale_with_the_base(
    sandbox: Sandbox,
) -> None:
    # v1's DeleteUserRequest.etag is removed after its deprecation window: both faces break.
    sandbox.edit(USER_SERVICE, DELETE_ETAG, '  reserved 2;\n  reserved "etag";\n')
    sandbox.generate()

    failed = sandbox.contractkit("breaking")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    entries = drafted(failed)
    assert [entry["finding"] for entry in entries] == [
        "proto FIELD_NO_DELETE api/proto/acme/user/v1/user_service.proto "
        "'2' 'DeleteUserRequest' 'etag'",
        "openapi PARAMETER_REMOVED api/openapi/acme.openapi.yaml "
        "DELETE /v1/users/{id} query parameter 'etag'",
    ]
    for entry in entries:
        entry.update(
            reason="deprecated in v1.3; conditional deletes use If-Match", ships_in="v2.0.0"
        )

    # One finding acknowledged: the other still fails the check.
    acknowledge(sandbox, entries[:1])
    partly = sandbox.contractkit("breaking")
    assert partly.returncode == 1
    assert re.search(r"^openapi: .*query parameter 'etag': removed", partly.stdout, re.M)
    assert "proto: acknowledged (v2.0.0): api/proto/acme/user/v1/user_service.proto:" in (
        partly.stdout
    )

    acknowledge(sandbox, entries)
    passed = sandbox.contractkit("breaking")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert (
        len(re.findall(r"^(proto|openapi): acknowledged \(v2\.0\.0\): ", passed.stdout, re.M)) == 2
    )
    assert "breaking: every breaking change against main" in passed.stdout
    assert "is acknowledged (2 acknowledged)" in passed.stdout

    # The break lands: main moves past it, and the entries match nothing any more.
    sandbox.commit("drop DeleteUserRequest.etag")
    sandbox.run("git", "checkout", "-q", "main", check=True)
    sandbox.run("git", "merge", "-q", "--ff-only", "feature", check=True)
    sandbox.run("git", "checkout", "-q", "-b", "next", check=True)
    landed = sandbox.contractkit("breaking")
    assert landed.returncode == 0, landed.stdout + landed.stderr
    stale = [line for line in landed.stdout.splitlines() if ": stale (v2.0.0): " in line]
    assert [line.split(": stale (v2.0.0): ")[1].split(": matches")[0] for line in stale] == [
        entry["finding"] for entry in entries
    ]
    assert all(line.startswith(f"{ACKNOWLEDGED}: stale") for line in stale)
    assert "(2 stale acknowledgements)" in landed.stdout

    acknowledge(sandbox, [])
    emptied = sandbox.contractkit("breaking")
    assert emptied.returncode == 0
    assert emptied.stdout.splitlines()[-1].startswith("breaking: no breaking change against main")


def test_an_incomplete_acknowledgement_stops_the_check_naming_the_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / ACKNOWLEDGED).write_text(
        "acknowledged:\n  - finding: proto FIELD_NO_DELETE a.proto '3'\n    ships_in: v2.0.0\n"
    )

    code = main(["--root", str(tmp_path), "breaking"])

    assert code == 2
    assert f"{ACKNOWLEDGED}: entry 1: needs exactly finding, reason, ships_in" in (
        capsys.readouterr().err
    )
