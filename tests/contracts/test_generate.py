"""`make generate` writes only the derived files whose content changed: a running stack, a
file watcher (`make dev`) or a test reading gen/ never sees a folder emptied and refilled,
and an unchanged file keeps its modification time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contracts.conftest import Sandbox

pytestmark = pytest.mark.slow

USER = "api/proto/acme/user/v1/user.proto"
UNTOUCHED = "gen/python/acme/auth/v1/auth_service_pb2.py"


def mtimes(root: Path) -> dict[str, int]:
    return {
        path.relative_to(root).as_posix(): path.stat().st_mtime_ns
        for folder in ("gen", "api/openapi")
        for path in (root / folder).rglob("*")
        if path.is_file()
    }


def test_an_unchanged_contract_rewrites_nothing(sandbox: Sandbox) -> None:
    before = mtimes(sandbox.root)

    result = sandbox.contractkit("generate")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "generate: up to date"
    assert mtimes(sandbox.root) == before


def test_an_edited_contract_rewrites_its_own_files_only(sandbox: Sandbox) -> None:
    sandbox.edit(
        USER,
        "  string etag = 7 [(buf.validate.field).string.max_len = 64];\n",
        "  string etag = 7 [(buf.validate.field).string.max_len = 64];\n"
        "  // Preferred language.\n  string language = 99;\n",
    )
    before = mtimes(sandbox.root)

    result = sandbox.contractkit("generate")

    after = mtimes(sandbox.root)
    changed = {name for name in before if after.get(name) != before[name]}
    assert result.returncode == 0, result.stderr
    assert "gen/python/acme/user/v1/user_pb2.py" in changed
    assert "api/openapi/acme.openapi.yaml" in changed
    assert UNTOUCHED not in changed
    assert "language" in (sandbox.root / "gen/python/acme/user/v1/user_pb2.pyi").read_text()
    assert sandbox.contractkit("check-generated").returncode == 0


def test_a_file_the_contracts_do_not_generate_is_removed(sandbox: Sandbox) -> None:
    stray = sandbox.root / "gen/python/acme/user/v1/helpers.py"
    stray.write_text("X = 1\n")

    result = sandbox.contractkit("generate")

    assert result.stdout.strip() == "generate: 0 file(s) written, 1 removed"
    assert not stray.exists()
    assert sandbox.contractkit("check-generated").returncode == 0
