"""Each contract check catches what it must and passes what it must, on a throw-away copy
of the repository with `main` committed and a feature branch checked out."""

from __future__ import annotations

import subprocess

import pytest

from tests.contracts.conftest import ETAG_FIELD, Sandbox

USER = "api/proto/acme/user/v1/user.proto"
USER_SERVICE = "api/proto/acme/user/v1/user_service.proto"

pytestmark = pytest.mark.slow


def report(result: subprocess.CompletedProcess[str], face: str) -> list[str]:
    """The lines of one report (`proto` or `openapi`) of `contractkit breaking`."""
    return [line for line in result.stdout.splitlines() if line.startswith(f"{face}:")]


def test_an_unchanged_branch_has_no_breaking_change(sandbox: Sandbox) -> None:
    result = sandbox.contractkit("breaking")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no breaking change against main" in result.stdout


def test_deleting_a_user_field_is_named_in_both_reports(sandbox: Sandbox) -> None:
    sandbox.edit(
        USER,
        "  // Name shown to other people.\n  string display_name = 3 [\n"
        "    (buf.validate.field).string.min_len = 1,\n"
        "    (buf.validate.field).string.max_len = 100,\n"
        '    (buf.validate.field).string.example = "Ada Lovelace",\n'
        "    (buf.validate.field).ignore = IGNORE_IF_ZERO_VALUE\n  ];\n",
        "",
    )
    sandbox.generate()
    sandbox.commit("drop display_name")

    result = sandbox.contractkit("breaking")

    assert result.returncode == 1
    proto = report(result, "proto")
    openapi = report(result, "openapi")
    assert any('"display_name"' in line and "deleted" in line for line in proto), proto
    assert any("displayName" in line for line in openapi), openapi


def test_an_uncommitted_and_ungenerated_deletion_is_caught_too(sandbox: Sandbox) -> None:
    sandbox.edit(USER, ETAG_FIELD, "")

    result = sandbox.contractkit("breaking")

    assert result.returncode == 1
    assert '"etag"' in result.stdout
    assert any("etag" in line for line in report(result, "openapi")), result.stdout


def test_changing_a_field_type_is_breaking(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, "  int32 page_size = 1 [", "  string page_size = 1 [")
    sandbox.edit(
        USER_SERVICE,
        "    (buf.validate.field).int32.gte = 0,\n"
        "    (buf.validate.field).int32.lte = 100,\n"
        "    (acme.options.v1.field_default).int_value = 20\n",
        "    (buf.validate.field).string.max_len = 3\n",
    )

    result = sandbox.contractkit("breaking")

    assert result.returncode == 1
    proto = report(result, "proto")
    assert any("page_size" in line and "type" in line for line in proto), proto
    assert any("pageSize" in line for line in report(result, "openapi")), result.stdout


def test_renaming_a_json_name_is_breaking(sandbox: Sandbox) -> None:
    sandbox.edit(USER, "  string etag = 7 [", '  string etag = 7 [json_name = "eTag", ')

    result = sandbox.contractkit("breaking")

    assert result.returncode == 1
    proto = report(result, "proto")
    assert any("json_name" in line and "eTag" in line for line in proto), proto
    assert any("etag" in line for line in report(result, "openapi")), result.stdout


def test_a_new_required_request_field_breaks_both_faces(sandbox: Sandbox) -> None:
    number = sandbox.free_field_number("acme.user.v1.CreateUserRequest")
    sandbox.edit(
        USER_SERVICE,
        "message CreateUserRequest {\n",
        "message CreateUserRequest {\n  // Invitation code.\n"
        f"  string invitation = {number} [(buf.validate.field).required = true];\n",
    )

    result = sandbox.contractkit("breaking")

    assert result.returncode == 1
    openapi = report(result, "openapi")
    assert any("POST /v1/users" in line and "invitation" in line for line in openapi), openapi
    assert any(
        "acme.user.v1.CreateUserRequest.invitation: 'required' on a new field" in line
        for line in report(result, "proto")
    ), result.stdout


def test_removing_an_enum_value_is_breaking(sandbox: Sandbox) -> None:
    sandbox.edit(USER, "  // Read-only access to every user.\n  ROLE_AUDITOR = 2;\n", "")

    result = sandbox.contractkit("breaking")

    assert result.returncode == 1
    proto = report(result, "proto")
    assert any('enum value "2" on enum "Role" was deleted' in line for line in proto), proto
    assert any("ROLE_AUDITOR" in line for line in report(result, "openapi")), result.stdout


def test_an_added_optional_field_passes_every_check(sandbox: Sandbox) -> None:
    number = sandbox.free_field_number("acme.user.v1.User")
    sandbox.edit(
        USER,
        ETAG_FIELD,
        ETAG_FIELD + "  // Preferred language, as a BCP 47 tag.\n"
        f"  string language = {number} [(buf.validate.field).string.max_len = 35];\n",
    )
    sandbox.generate()

    breaking = sandbox.contractkit("breaking")
    lint = sandbox.contractkit("lint")
    generated = sandbox.contractkit("check-generated")

    assert breaking.returncode == 0, breaking.stdout + breaking.stderr
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert generated.returncode == 0, generated.stdout + generated.stderr


def test_an_rpc_without_access_policy_fails_lint(sandbox: Sandbox) -> None:
    sandbox.edit(
        USER_SERVICE,
        '    option (acme.options.v1.access) = {\n      services: ["auth"]\n    };\n',
        "",
    )

    result = sandbox.contractkit("lint")

    assert result.returncode == 1
    assert "acme.user.v1.UserService.VerifyCredentials" in result.stdout
    assert "[ACCESS_POLICY_REQUIRED]" in result.stdout
    assert "user_service.proto:" in result.stdout


def test_an_access_policy_naming_a_missing_owner_field_fails_lint(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, 'owner_field: "user.id"', 'owner_field: "user.uid"')

    result = sandbox.contractkit("lint")

    assert result.returncode == 1
    assert "UpdateUser" in result.stdout
    assert "[ACCESS_POLICY_OWNER_FIELD]" in result.stdout


def test_a_stale_generated_file_is_named(sandbox: Sandbox) -> None:
    number = sandbox.free_field_number("acme.user.v1.User")
    sandbox.edit(
        USER,
        ETAG_FIELD,
        ETAG_FIELD + f"  // Preferred language.\n  string language = {number};\n",
    )

    result = sandbox.contractkit("check-generated")

    assert result.returncode == 1
    assert "gen/python/acme/user/v1/user_pb2.py: stale" in result.stdout
    assert "api/openapi/" in result.stdout


def test_a_hand_added_file_in_a_generated_folder_is_named(sandbox: Sandbox) -> None:
    (sandbox.root / "gen/python/acme/user/v1/helpers.py").write_text("X = 1\n")

    result = sandbox.contractkit("check-generated")

    assert result.returncode == 1
    assert "gen/python/acme/user/v1/helpers.py: not generated" in result.stdout


def test_breaking_fetches_the_base_branch_in_a_shallow_clone(sandbox: Sandbox, tmp_path) -> None:
    sandbox.edit(USER, ETAG_FIELD, "")
    sandbox.generate()
    sandbox.commit("drop etag")
    clone = tmp_path / "clone"
    sandbox.run(
        "git",
        "clone",
        "-q",
        "--depth=1",
        "--branch=feature",
        f"file://{sandbox.root}",
        str(clone),
        check=True,
    )
    shallow = Sandbox(clone)
    assert shallow.run("git", "rev-parse", "--verify", "--quiet", "main").returncode != 0
    shallow.contractkit("thirdparty").check_returncode()

    result = shallow.contractkit("breaking")

    assert result.returncode == 1, result.stdout + result.stderr
    assert '"etag"' in result.stdout
