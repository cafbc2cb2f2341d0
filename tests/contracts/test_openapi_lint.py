"""The OpenAPI lint: structural validity plus the house rules every operation must follow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from contractkit.findings import Finding
from contractkit.openapi_lint import lint_document

SOURCE = "api/openapi/user.yaml"
USER = "acme.user.v1.User"
PROBLEM = {"$ref": "#/components/responses/Problem"}


def _operation(op_id: str, *, parameters: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "operationId": f"acme.user.v1.UserService.{op_id}",
        "summary": f"{op_id} a user.",
        "description": f"{op_id} a user of the directory.",
        "tags": ["acme.user.v1.UserService"],
        "parameters": parameters or [],
        "responses": {"default": PROBLEM},
        **extra,
    }


def _ok(schema_name: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{schema_name}"}
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def user_document() -> dict[str, Any]:
    """A small valid document: GET /v1/users, GET/DELETE /v1/users/{id}."""
    user_id = {"$ref": "#/components/parameters/UserId"}
    get_user = _operation("GetUser", parameters=[user_id])
    get_user["responses"] = {"200": _ok(USER), "404": PROBLEM, "default": PROBLEM}
    delete_user = _operation("DeleteUser", parameters=[user_id])
    delete_user["responses"] = {"204": {"description": "Deleted."}, "default": PROBLEM}
    list_users = _operation(
        "ListUsers",
        parameters=[{"name": "page_size", "in": "query", "schema": {"type": "integer"}}],
    )
    list_users["responses"] = {"200": _ok("acme.user.v1.ListUsersResponse"), "default": PROBLEM}
    problem_content = {"schema": {"$ref": "#/components/schemas/acme.rpc.v1.Problem"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "acme.user.v1", "version": "v1"},
        "tags": [{"name": "acme.user.v1.UserService", "description": "Users of the directory."}],
        "paths": {
            "/v1/users": {"get": list_users},
            "/v1/users/{id}": {"get": get_user, "delete": delete_user},
        },
        "components": {
            "parameters": {
                "UserId": {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
            "responses": {
                "Problem": {
                    "description": "An error.",
                    "content": {"application/problem+json": problem_content},
                }
            },
            "schemas": {
                USER: {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "readOnly": True},
                        "email": {"type": "string", "format": "email"},
                    },
                },
                "acme.user.v1.ListUsersResponse": {
                    "type": "object",
                    "properties": {
                        "users": {
                            "type": "array",
                            "items": {"$ref": f"#/components/schemas/{USER}"},
                        }
                    },
                },
                "acme.rpc.v1.Problem": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "status": {"type": "integer"}},
                },
            },
        },
    }


def lint_lines(doc: dict[str, Any]) -> list[str]:
    return [str(finding) for finding in lint_document(doc, SOURCE)]


def get_user(doc: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"]["/v1/users/{id}"]["get"]
    return operation


def test_a_document_following_every_rule_has_no_findings() -> None:
    assert lint_lines(user_document()) == []


def test_a_finding_prints_as_one_line_naming_source_location_message_and_rule() -> None:
    finding = Finding(SOURCE, "GET /v1/users/{id}", "SUMMARY_MISSING", "operation has no summary")

    assert str(finding) == (
        "api/openapi/user.yaml: GET /v1/users/{id}: operation has no summary [SUMMARY_MISSING]"
    )


def test_every_structural_error_is_reported_with_its_location_not_only_the_first() -> None:
    doc = user_document()
    get_user(doc)["bogus"] = 1
    doc["paths"]["/v1/users"]["get"]["parameters"][0]["in"] = "body"

    assert lint_lines(doc) == [
        f"{SOURCE}: GET /v1/users parameters.0.in: "
        "'body' is not one of ['path', 'query', 'header', 'cookie'] [OPENAPI_INVALID]",
        f"{SOURCE}: GET /v1/users/{{id}}: "
        "'bogus' does not match any of the regexes: '^x-' [OPENAPI_INVALID]",
    ]


def test_a_structural_message_carries_no_traceback_or_schema_dump() -> None:
    doc = user_document()
    del doc["info"]["version"]

    assert lint_lines(doc) == [
        f"{SOURCE}: info: 'version' is a required property [OPENAPI_INVALID]"
    ]


def test_a_structural_error_outside_paths_is_located_by_its_dotted_key_path() -> None:
    doc = user_document()
    doc["components"]["schemas"][USER]["properties"]["email"]["nullable"] = "yes"

    assert lint_lines(doc) == [
        f"{SOURCE}: components.schemas.{USER}.properties.email.nullable: "
        "'yes' is not of type 'boolean' [OPENAPI_INVALID]"
    ]


def test_a_structural_error_names_what_the_alternative_meant_is_missing() -> None:
    doc = user_document()
    id_without_required = {"name": "id", "in": "path", "schema": {"type": "string"}}
    doc["paths"]["/v1/users/{id}"]["parameters"] = [id_without_required]

    assert lint_lines(doc) == [
        f"{SOURCE}: /v1/users/{{id}} parameters.0: 'required' is a required property "
        "[OPENAPI_INVALID]"
    ]


def test_a_response_without_description_is_not_explained_by_the_ref_alternative() -> None:
    doc = user_document()
    get_user(doc)["responses"]["200"].pop("description")

    assert lint_lines(doc) == [
        f"{SOURCE}: GET /v1/users/{{id}} responses.200: 'description' is a required property "
        "[OPENAPI_INVALID]"
    ]


def test_a_ref_that_points_nowhere_is_reported_where_it_is_used() -> None:
    doc = user_document()
    get_user(doc)["responses"]["200"] = _ok("acme.user.v1.Missing")

    assert lint_lines(doc) == [
        f"{SOURCE}: GET /v1/users/{{id}} responses.200.content.application/json.schema: "
        "$ref '#/components/schemas/acme.user.v1.Missing' does not resolve within the document "
        "[REF_UNRESOLVED]"
    ]


def test_a_semantic_error_without_a_known_location_is_still_reported() -> None:
    doc = user_document()
    doc["components"]["schemas"][USER]["properties"]["email"]["default"] = 3

    assert lint_lines(doc) == [f"{SOURCE}: (document): 3 is not of type 'string' [OPENAPI_INVALID]"]


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: get_user(doc).pop(key)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: get_user(doc).__setitem__(key, value)


def _set_tag_description(doc: dict[str, Any]) -> None:
    doc["tags"][0]["description"] = " "


def _duplicate_operation_id(doc: dict[str, Any]) -> None:
    doc["paths"]["/v1/users/{id}"]["delete"]["operationId"] = get_user(doc)["operationId"]


def _problem_as_json(doc: dict[str, Any]) -> None:
    get_user(doc)["responses"]["404"] = _ok("acme.rpc.v1.Problem")


def _success_as_text(doc: dict[str, Any]) -> None:
    get_user(doc)["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}


def _declare_extra_path_parameter(doc: dict[str, Any]) -> None:
    extra = {"name": "org", "in": "path", "required": True, "schema": {"type": "string"}}
    get_user(doc)["parameters"].append(extra)


def _path_parameter_in_query(doc: dict[str, Any]) -> None:
    get_user(doc)["parameters"] = [{"name": "id", "in": "query", "schema": {"type": "string"}}]


GET = f"{SOURCE}: GET /v1/users/{{id}}"
RULE_CASES = [
    pytest.param(
        _drop("operationId"),
        [f"{GET}: operation has no operationId [OPERATION_ID_MISSING]"],
        id="no-operation-id",
    ),
    pytest.param(
        _duplicate_operation_id,
        [
            f"{SOURCE}: DELETE /v1/users/{{id}}: operationId 'acme.user.v1.UserService.GetUser' "
            "is used by more than one operation [OPERATION_ID_DUPLICATE]",
            f"{GET}: operationId 'acme.user.v1.UserService.GetUser' "
            "is used by more than one operation [OPERATION_ID_DUPLICATE]",
        ],
        id="duplicate-operation-id",
    ),
    pytest.param(
        _drop("summary"), [f"{GET}: operation has no summary [SUMMARY_MISSING]"], id="no-summary"
    ),
    pytest.param(
        _set("summary", "  "),
        [f"{GET}: operation has no summary [SUMMARY_MISSING]"],
        id="blank-summary",
    ),
    pytest.param(_set("tags", []), [f"{GET}: operation has no tag [TAG_MISSING]"], id="no-tag"),
    pytest.param(
        _set("tags", ["acme.user.v1.Admin"]),
        [f"{GET}: tag 'acme.user.v1.Admin' is not declared in the top-level tags [TAG_UNDECLARED]"],
        id="undeclared-tag",
    ),
    pytest.param(
        _set_tag_description,
        [
            f"{SOURCE}: tags.acme.user.v1.UserService: tag 'acme.user.v1.UserService' "
            "is declared without a description [TAG_UNDESCRIBED]"
        ],
        id="tag-without-description",
    ),
    pytest.param(
        _set("responses", {"200": _ok(USER)}),
        [
            f"{GET}: operation documents no error response (4xx, 5xx or default) "
            "[ERROR_RESPONSE_MISSING]"
        ],
        id="no-error-response",
    ),
    pytest.param(
        _problem_as_json,
        [f"{GET}: error response 404 has no application/problem+json content [ERROR_CONTENT_TYPE]"],
        id="error-response-not-problem-json",
    ),
    pytest.param(
        _success_as_text,
        [f"{GET}: response 200 has a body but no application/json content [SUCCESS_CONTENT_TYPE]"],
        id="success-body-not-json",
    ),
    pytest.param(
        _set("parameters", []),
        [f"{GET}: path parameter 'id' is not declared as in: path [PATH_PARAMETER_UNDECLARED]"],
        id="template-parameter-undeclared",
    ),
    pytest.param(
        _path_parameter_in_query,
        [f"{GET}: path parameter 'id' is not declared as in: path [PATH_PARAMETER_UNDECLARED]"],
        id="template-parameter-declared-in-query",
    ),
    pytest.param(
        _declare_extra_path_parameter,
        [
            f"{GET}: path parameter 'org' does not appear in the path template "
            "[PATH_PARAMETER_UNKNOWN]"
        ],
        id="declared-path-parameter-not-in-template",
    ),
]


def _dotted_path_parameter(doc: dict[str, Any]) -> None:
    doc["paths"]["/v1/users/{user.id}"] = doc["paths"].pop("/v1/users/{id}")
    doc["components"]["parameters"]["UserId"]["name"] = "user.id"


def _same_template_other_name(doc: dict[str, Any]) -> None:
    item = doc["paths"]["/v1/users/{id}"]
    renamed = {**doc["components"]["parameters"]["UserId"], "name": "userId"}
    item["delete"]["parameters"] = [renamed]
    doc["paths"]["/v1/users/{userId}"] = {"delete": item.pop("delete")}


DOTTED = f"{SOURCE}: " + "{} /v1/users/{{user.id}}: path parameter 'user.id' is not an identifier "
RULE_CASES += [
    pytest.param(
        _dotted_path_parameter,
        [
            DOTTED.format("DELETE") + "(tools fill and route templates by identifier) "
            "[PATH_PARAMETER_NAME]",
            DOTTED.format("GET") + "(tools fill and route templates by identifier) "
            "[PATH_PARAMETER_NAME]",
        ],
        id="dotted-path-parameter",
    ),
    pytest.param(
        _same_template_other_name,
        [
            f"{SOURCE}: /v1/users/{{userId}}: same template as /v1/users/{{id}} with other "
            "parameter names: one path for OpenAPI [PATH_TEMPLATE_DUPLICATE]"
        ],
        id="same-template-two-paths",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), RULE_CASES)
def test_each_house_rule_reports_exactly_its_own_violation(
    mutate: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    doc = user_document()
    mutate(doc)

    assert lint_lines(doc) == expected


def test_a_path_parameter_not_marked_required_breaks_both_the_schema_and_the_house_rule() -> None:
    doc = user_document()
    doc["components"]["parameters"]["UserId"]["required"] = False

    assert lint_lines(doc) == [
        f"{SOURCE}: DELETE /v1/users/{{id}}: path parameter 'id' is not declared required: true "
        "[PATH_PARAMETER_OPTIONAL]",
        f"{GET}: path parameter 'id' is not declared required: true [PATH_PARAMETER_OPTIONAL]",
        f"{SOURCE}: components.parameters.UserId.required: False is not one of [True] "
        "[OPENAPI_INVALID]",
    ]


def test_path_parameters_declared_on_the_path_item_count_for_its_operations() -> None:
    doc = user_document()
    item = doc["paths"]["/v1/users/{id}"]
    item["parameters"] = [{"$ref": "#/components/parameters/UserId"}]
    for method in ("get", "delete"):
        item[method]["parameters"] = []

    assert lint_lines(doc) == []


def test_a_bodyless_success_response_and_range_error_codes_are_accepted() -> None:
    doc = user_document()
    get_user(doc)["responses"] = {"200": _ok(USER), "4XX": PROBLEM}

    assert lint_lines(doc) == []


def test_a_yaml_document_with_unquoted_status_codes_is_linted_like_any_other() -> None:
    text = yaml.safe_dump(user_document())
    for code in ("200", "204", "404"):
        text = text.replace(f"'{code}':", f"{code}:")
    doc = yaml.safe_load(text)
    assert 200 in get_user(doc)["responses"]  # YAML made it an integer key

    assert lint_lines(doc) == []
    get_user(doc)["responses"][200]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    assert lint_lines(doc) == [
        f"{GET}: response 200 has a body but no application/json content [SUCCESS_CONTENT_TYPE]"
    ]


def test_findings_are_sorted_by_location() -> None:
    doc = user_document()
    for item in doc["paths"].values():
        for operation in item.values():
            operation.pop("summary")
    locations = [finding.location for finding in lint_document(doc, SOURCE)]

    assert locations == ["DELETE /v1/users/{id}", "GET /v1/users", "GET /v1/users/{id}"]
