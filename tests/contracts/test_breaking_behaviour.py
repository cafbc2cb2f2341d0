"""`make breaking` judges what the contract promises, not only its shape: each kind of
behaviour change is one `proto:` line naming the element and what changed, and a corpus of
safe edits stays silent. Each test edits a throw-away copy of the repository with `main`
committed and a feature branch checked out."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.contracts.conftest import Sandbox

USER = "api/proto/acme/user/v1/user.proto"
USER_SERVICE = "api/proto/acme/user/v1/user_service.proto"
GET_USER_POLICY = """    option (acme.options.v1.access) = {
      owner_field: "id"
      roles: [
        "admin",
        "auditor"
      ]
    };"""
LIST_USERS_POLICY = """  rpc ListUsers(ListUsersRequest) returns (ListUsersResponse) {
    option (google.api.http) = {get: "/v1/users"};
    option (acme.options.v1.access) = {
      roles: [
        "admin",
        "auditor"
      ]
    };"""

OPEN_POLICY = "    option (acme.options.v1.access) = {authenticated: true};"
REQUIRED = "    (buf.validate.field).required = true,\n"
PASSWORD_TO_CHECK = "  // Password to check.\n  string password = 2 [\n" + REQUIRED

pytestmark = pytest.mark.slow


def lines(result: subprocess.CompletedProcess[str], prefix: str) -> list[str]:
    """The report's lines that start with `prefix`, positions as `file:L:C` (the contracts
    around the edited line move as they grow)."""
    return [
        re.sub(r"\.proto:\d+:\d+:", ".proto:L:C:", line)
        for line in result.stdout.splitlines()
        if line.startswith(prefix)
    ]


def breaking(sandbox: Sandbox) -> subprocess.CompletedProcess[str]:
    return sandbox.contractkit("breaking")


def test_owners_losing_an_rpc_is_a_narrowed_access_policy(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, GET_USER_POLICY, GET_USER_POLICY.replace('owner_field: "id"\n', ""))

    result = breaking(sandbox)

    assert result.returncode == 1, result.stdout + result.stderr
    assert lines(result, "proto:") == [
        "proto: api/proto/acme/user/v1/user_service.proto:L:C: "
        "acme.user.v1.UserService.GetUser: owner_field 'id' removed: owners of the resource "
        "are refused [ACCESS_NARROWED]"
    ]


def test_a_role_removed_from_a_policy_is_a_narrowed_access_policy(sandbox: Sandbox) -> None:
    narrower = LIST_USERS_POLICY.replace('        "admin",\n        "auditor"\n', '"admin"')
    sandbox.edit(USER_SERVICE, LIST_USERS_POLICY, narrower)

    result = breaking(sandbox)

    assert result.returncode == 1
    assert any(
        "acme.user.v1.UserService.ListUsers: role 'auditor' no longer admitted [ACCESS_NARROWED]"
        in line
        for line in lines(result, "proto:")
    ), result.stdout


def test_a_path_removed_from_the_update_mask_is_breaking(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, '    (buf.validate.field).field_mask.in = "email",\n', "")

    result = breaking(sandbox)

    assert result.returncode == 1
    assert any(
        "acme.user.v1.UpdateUserRequest.update_mask: 'field_mask.in' path 'email' no longer "
        "allowed [UPDATE_MASK_PATH_REMOVED]" in line
        for line in lines(result, "proto:")
    ), result.stdout


def test_a_rule_tightened_on_a_grpc_only_rpc_is_breaking(sandbox: Sandbox) -> None:
    """VerifyCredentials has no REST face: only the proto report can see it."""
    sandbox.edit(
        USER_SERVICE,
        PASSWORD_TO_CHECK,
        PASSWORD_TO_CHECK + "    (buf.validate.field).string.min_len = 12,\n",
    )

    result = breaking(sandbox)

    assert result.returncode == 1
    assert lines(result, "proto:") == [
        "proto: api/proto/acme/user/v1/user_service.proto:L:C: "
        "acme.user.v1.VerifyCredentialsRequest.password: 'string.min_len' 12 added "
        "[VALIDATION_TIGHTENED]"
    ]
    assert lines(result, "openapi:") == []


def test_a_tightened_bound_is_named_on_both_faces(sandbox: Sandbox) -> None:
    display_name = (
        "  string display_name = 3 [\n    (buf.validate.field).string.min_len = 1,\n"
        "    (buf.validate.field).string.max_len = {},"
    )
    sandbox.edit(USER, display_name.format(100), display_name.format(50))

    result = breaking(sandbox)

    assert result.returncode == 1
    assert any(
        "acme.user.v1.User.display_name: 'string.max_len' decreased from 100 to 50" in line
        for line in lines(result, "proto:")
    ), result.stdout
    assert any("maxLength decreased from 100 to 50" in line for line in lines(result, "openapi:"))


def test_a_changed_default_is_breaking(sandbox: Sandbox) -> None:
    sandbox.edit(
        USER_SERVICE,
        "(acme.options.v1.field_default).int_value = 20",
        "(acme.options.v1.field_default).int_value = 50",
    )

    result = breaking(sandbox)

    assert result.returncode == 1
    assert any(
        "acme.user.v1.ListUsersRequest.page_size: 'field_default' changed from 20 to 50" in line
        and "[DEFAULT_CHANGED]" in line
        for line in lines(result, "proto:")
    ), result.stdout


def test_a_new_enum_value_in_a_response_is_a_warning(sandbox: Sandbox) -> None:
    sandbox.edit(
        USER,
        "  ROLE_AUDITOR = 2;\n",
        "  ROLE_AUDITOR = 2;\n  // Read access to support tickets.\n  ROLE_SUPPORT = 3;\n",
    )

    result = breaking(sandbox)

    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result, "proto:") == [
        "proto: warning: api/proto/acme/user/v1/user.proto:L:C: acme.user.v1.Role: value "
        "'ROLE_SUPPORT' (3) added to an enum that responses carry: strict clients of the "
        "previous contract may fail to read it [ENUM_VALUE_ADDED]"
    ]
    assert "breaking: no breaking change against main" in result.stdout
    assert "(1 warning)" in result.stdout


def _new_list_filter(sandbox: Sandbox) -> None:
    number = sandbox.free_field_number("acme.user.v1.ListUsersRequest")
    sandbox.edit(
        USER_SERVICE,
        "  Role role = 4 [(buf.validate.field).enum.defined_only = true];\n",
        "  Role role = 4 [(buf.validate.field).enum.defined_only = true];\n"
        "  // Only users whose display name starts with this.\n"
        f"  string name_prefix = {number} [(buf.validate.field).string.max_len = 100];\n",
    )


SAFE_EDITS = {
    "a policy widened by a role": lambda box: box.edit(
        USER_SERVICE, '      roles: ["admin"]\n    };\n  }\n\n  // Deletes',
        '      roles: [\n        "admin",\n        "auditor"\n      ]\n    };\n  }\n\n  // Deletes',
    ),
    "a policy opened to every authenticated caller": lambda box: box.edit(
        USER_SERVICE, GET_USER_POLICY, OPEN_POLICY
    ),
    "a bound loosened": lambda box: box.edit(
        USER_SERVICE, "  string etag = 2 [(buf.validate.field).string.max_len = 64];",
        "  string etag = 2 [(buf.validate.field).string.max_len = 128];",
    ),
    "a requirement dropped from a gRPC-only request": lambda box: box.edit(
        USER_SERVICE, PASSWORD_TO_CHECK, PASSWORD_TO_CHECK.replace(REQUIRED, ""),
    ),
    "an update mask path added": lambda box: box.edit(
        USER_SERVICE, '    (buf.validate.field).field_mask.in = "roles",\n',
        '    (buf.validate.field).field_mask.in = "roles",\n'
        '    (buf.validate.field).field_mask.in = "etag",\n',
    ),
    "an optional request field added": _new_list_filter,
    "a comment reworded": lambda box: box.edit(
        USER_SERVICE, "  // Returns one user.\n", "  // Returns one user, by its id.\n"
    ),
}  # fmt: skip


@pytest.mark.parametrize("edit", SAFE_EDITS.values(), ids=SAFE_EDITS.keys())
def test_a_safe_edit_raises_no_finding(sandbox: Sandbox, edit) -> None:
    edit(sandbox)
    sandbox.generate()

    result = breaking(sandbox)

    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result, "proto:") == lines(result, "openapi:") == []
    assert "breaking: no breaking change against main" in result.stdout
