"""`make generate` writes only the derived files whose content changed: a running stack, a
file watcher (`make dev`) or a test reading gen/ never sees a folder emptied and refilled,
and an unchanged file keeps its modification time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contractkit.generated import generate_into
from tests.contracts.conftest import ETAG_FIELD, Sandbox

pytestmark = pytest.mark.slow

USER = "api/proto/acme/user/v1/user.proto"
UNTOUCHED = "gen/python/acme/auth/v1/auth_service_pb2.py"
# The user message in every language, and the files written by hand beside the generated code.
USER_FILES = (
    "gen/python/acme/user/v1/user_pb2.py",
    "gen/go/acme/user/v1/user.pb.go",
    "gen/ts/src/acme/user/v1/user_pb.ts",
    "gen/java/src/main/java/com/acme/user/v1/User.java",
)
HAND_WRITTEN = (
    "gen/go/go.mod",
    "gen/go/go.sum",
    "gen/go/doc.go",
    "gen/ts/package.json",
    "gen/ts/package-lock.json",
    "gen/ts/tsconfig.json",
    "gen/ts/check/clients.ts",
    "gen/java/pom.xml",
)


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
        ETAG_FIELD,
        ETAG_FIELD + "  // Preferred language.\n  string language = 99;\n",
    )
    before = mtimes(sandbox.root)

    result = sandbox.contractkit("generate")

    after = mtimes(sandbox.root)
    changed = {name for name in before if after.get(name) != before[name]}
    assert result.returncode == 0, result.stderr
    assert set(USER_FILES) <= changed
    assert "api/openapi/acme.openapi.yaml" in changed
    assert UNTOUCHED not in changed
    assert not changed & set(HAND_WRITTEN)
    assert "language" in (sandbox.root / "gen/python/acme/user/v1/user_pb2.pyi").read_text()
    assert "Language" in (sandbox.root / "gen/go/acme/user/v1/user.pb.go").read_text()
    assert sandbox.contractkit("check-generated").returncode == 0


def test_each_language_keeps_only_what_no_published_package_provides(sandbox: Sandbox) -> None:
    for folder in ("gen/python/acme", "gen/go/acme", "gen/ts/src", "gen/java/src"):
        shutil.rmtree(sandbox.root / folder)

    result = sandbox.contractkit("generate")

    assert result.returncode == 0, result.stderr
    assert all((sandbox.root / name).is_file() for name in (*USER_FILES, *HAND_WRITTEN))
    # google.rpc for TypeScript, which has no package for it; buf.validate for Python.
    assert (sandbox.root / "gen/ts/src/google/rpc/error_details_pb.ts").is_file()
    assert (sandbox.root / "gen/python/buf/validate/validate_pb2.py").is_file()
    for published in (
        "gen/python/google",  # googleapis-common-protos
        "gen/go/google",  # google.golang.org/genproto
        "gen/go/buf",  # buf.build/gen/go/bufbuild/protovalidate
        "gen/ts/src/buf",  # @bufbuild/protovalidate
        "gen/java/src/main/java/com/google",  # proto-google-common-protos
        "gen/java/src/main/java/build",  # build.buf:protovalidate
    ):
        assert not (sandbox.root / published).exists(), published
    assert sandbox.contractkit("check-generated").returncode == 0


def test_generating_one_output_runs_only_its_plugins(sandbox: Sandbox, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    generate_into(sandbox.root, scratch, only=["api/openapi"])

    document = "api/openapi/acme.openapi.yaml"
    assert (scratch / document).read_bytes() == (sandbox.root / document).read_bytes()
    assert not (scratch / "gen").exists()


def test_a_file_the_contracts_do_not_generate_is_removed(sandbox: Sandbox) -> None:
    stray = sandbox.root / "gen/python/acme/user/v1/helpers.py"
    stray.write_text("X = 1\n")

    result = sandbox.contractkit("generate")

    assert result.stdout.strip() == "generate: 0 file(s) written, 1 removed"
    assert not stray.exists()
    assert sandbox.contractkit("check-generated").returncode == 0


def test_only_the_stacks_outputs_are_regenerated_when_asked(sandbox: Sandbox) -> None:
    sandbox.edit(
        USER,
        ETAG_FIELD,
        ETAG_FIELD + "  // Preferred language.\n  string language = 99;\n",
    )
    before = mtimes(sandbox.root)

    result = sandbox.contractkit("generate", "--only", "gen/python,api/openapi")

    after = mtimes(sandbox.root)
    changed = {name for name in before if after.get(name) != before[name]}
    assert result.returncode == 0, result.stderr
    assert "gen/python/acme/user/v1/user_pb2.py" in changed
    assert "api/openapi/acme.openapi.yaml" in changed
    assert not any(name.startswith(("gen/go/", "gen/ts/", "gen/java/")) for name in changed)
    stale = sandbox.contractkit("check-generated").stdout
    assert "gen/go/acme/user/v1/user.pb.go: stale" in stale
