"""`make lint` refuses what would otherwise surface later, or never: a role no registry
declares, a path variable that names no field, a request field without a validation rule or
a reason for none. Each test edits a throw-away copy of the repository."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.contracts.conftest import Sandbox

USER_SERVICE = "api/proto/acme/user/v1/user_service.proto"
ROLES = "api/proto/acme/options/v1/roles.proto"
ETAG = "  string etag = 2 [(buf.validate.field).string.max_len = 64];\n"
UPDATE_POLICY = '      owner_field: "user.id"\n      roles: ["admin"]\n'

pytestmark = pytest.mark.slow


def lint(sandbox: Sandbox) -> subprocess.CompletedProcess[str]:
    return sandbox.contractkit("lint")


def findings(result: subprocess.CompletedProcess[str], rule: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.endswith(f"[{rule}]")]


def test_a_misspelled_role_is_not_in_the_registry(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, UPDATE_POLICY, UPDATE_POLICY.replace('"admin"', '"admn"'))

    result = lint(sandbox)

    assert result.returncode == 1
    [line] = findings(result, "ACCESS_POLICY_ROLE_UNDECLARED")
    assert "user_service.proto:" in line
    assert "acme.user.v1.UserService.UpdateUser: role 'admn' is not declared in the role " in line
    assert "(acme/options/v1/roles.proto); did you mean 'admin'?" in line


def test_a_role_declared_in_the_registry_can_be_granted(sandbox: Sandbox) -> None:
    sandbox.edit(
        ROLES,
        'option (acme.options.v1.role) = {\n  name: "auditor"',
        'option (acme.options.v1.role) = {\n  name: "support"\n'
        '  description: "Reads users to answer their tickets."\n};\n'
        'option (acme.options.v1.role) = {\n  name: "auditor"',
    )
    sandbox.edit(
        USER_SERVICE, UPDATE_POLICY, UPDATE_POLICY.replace('"admin"', '"admin", "support"')
    )

    result = lint(sandbox)

    assert result.returncode == 0, result.stdout + result.stderr


def test_roles_are_declared_in_the_registry_only(sandbox: Sandbox) -> None:
    sandbox.edit(
        USER_SERVICE,
        "// Manages users and their credentials.\n",
        'option (acme.options.v1.role) = {\n  name: "admin"\n  description: "Again."\n};\n\n'
        "// Manages users and their credentials.\n",
    )
    sandbox.edit(
        USER_SERVICE,
        'import "acme/options/v1/access.proto";\n',
        'import "acme/options/v1/access.proto";\nimport "acme/options/v1/roles.proto";\n',
    )

    result = lint(sandbox)

    assert result.returncode == 1
    assert [
        re.sub(r":\d+:\d+:", ":L:C:", line)
        for line in findings(result, "ROLE_DECLARED_OUTSIDE_REGISTRY")
    ] == [
        "acme/user/v1/user_service.proto:L:C: role 'admin': roles are declared only in the "
        "registry, acme/options/v1/roles.proto [ROLE_DECLARED_OUTSIDE_REGISTRY]"
    ]


def test_a_path_variable_that_names_no_field_fails_lint(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, 'get: "/v1/users/{id}"', 'get: "/v1/users/{uid}"')

    result = lint(sandbox)

    assert result.returncode == 1
    [line] = findings(result, "HTTP_PATH_VARIABLE")
    assert (
        "acme.user.v1.UserService.GetUser: GET /v1/users/{uid}: path variable {uid} names no "
        "field of acme.user.v1.GetUserRequest" in line
    )


def test_a_body_that_names_no_field_fails_lint(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, '      body: "user"\n', '      body: "person"\n')

    result = lint(sandbox)

    assert result.returncode == 1
    [line] = findings(result, "HTTP_BODY_FIELD")
    assert "body 'person' names no field of acme.user.v1.UpdateUserRequest" in line


def test_a_request_field_without_a_rule_fails_lint(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, ETAG, "  string etag = 2;\n")

    result = lint(sandbox)

    assert result.returncode == 1
    [line] = findings(result, "REQUEST_FIELD_VALIDATION")
    assert "acme.user.v1.DeleteUserRequest.etag: request field has no buf.validate rule" in line


def test_a_request_field_may_say_why_it_needs_no_rule(sandbox: Sandbox) -> None:
    sandbox.edit(
        USER_SERVICE,
        ETAG,
        '  string etag = 2 [(acme.options.v1.unvalidated) = "compared as-is with the stored '
        'etag"];\n',
    )
    sandbox.edit(
        USER_SERVICE,
        'import "acme/options/v1/access.proto";\n',
        'import "acme/options/v1/access.proto";\nimport "acme/options/v1/validation.proto";\n',
    )

    result = lint(sandbox)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_reason_for_no_rule_cannot_be_empty(sandbox: Sandbox) -> None:
    sandbox.edit(USER_SERVICE, ETAG, '  string etag = 2 [(acme.options.v1.unvalidated) = " "];\n')
    sandbox.edit(
        USER_SERVICE,
        'import "acme/options/v1/access.proto";\n',
        'import "acme/options/v1/access.proto";\nimport "acme/options/v1/validation.proto";\n',
    )

    result = lint(sandbox)

    assert result.returncode == 1
    [line] = findings(result, "REQUEST_FIELD_VALIDATION")
    assert (
        "acme.user.v1.DeleteUserRequest.etag: (acme.options.v1.unvalidated) needs a reason" in line
    )
