"""The breaking-change check: what a REST client of the base document no longer gets from head.

Every test starts from one synthetic user document, applies one change to a copy and asserts
on the exact finding lines.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from contractkit.openapi_breaking import diff_documents, diff_trees

SOURCE = "api/openapi/user.yaml"
USER = "acme.user.v1.User"
CREATE = "acme.user.v1.CreateUserRequest"
PATCH = "acme.user.v1.UserPatch"
ADDRESS = "acme.user.v1.Address"
ROLE = "acme.user.v1.Role"
PROBLEM = {"$ref": "#/components/responses/Problem"}
Doc = dict[str, Any]
Mutation = Callable[[Doc], object]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"description": "A body.", "content": {"application/json": {"schema": schema}}, **extra}


def operation(op_id: str, parameters: list[Any], responses: dict[str, Any], **extra: Any) -> Doc:
    return {
        "operationId": f"acme.user.v1.UserService.{op_id}",
        "summary": op_id,
        "description": f"{op_id} of the user directory.",
        "tags": ["acme.user.v1.UserService"],
        "parameters": parameters,
        "responses": {**responses, "default": PROBLEM},
        **extra,
    }


def _paths() -> Doc:
    user_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    page_size = {
        "name": "page_size",
        "in": "query",
        "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 100},
    }
    page_token = {"name": "page_token", "in": "query", "schema": {"type": "string"}}
    role = {"name": "role", "in": "query", "schema": ref(ROLE)}
    update_mask = {"name": "update_mask", "in": "query", "schema": {"type": "string"}}
    if_match = {"name": "If-Match", "in": "header", "schema": {"type": "string"}}
    return {
        "/v1/users": {
            "get": operation(
                "ListUsers",
                [page_size, page_token, role],
                {"200": json_body(ref("acme.user.v1.ListUsersResponse"))},
            ),
            "post": operation(
                "CreateUser",
                [],
                {"201": json_body(ref("acme.user.v1.CreateUserResponse"))},
                requestBody=json_body(ref(CREATE), required=True),
            ),
        },
        "/v1/users/{id}": {
            "get": operation("GetUser", [user_id], {"200": json_body(ref(USER)), "404": PROBLEM}),
            "patch": operation(
                "UpdateUser",
                [user_id, update_mask],
                {"204": {"description": "Updated."}},
                requestBody=json_body(ref(PATCH)),
            ),
            "delete": operation(
                "DeleteUser", [user_id, if_match], {"204": {"description": "Deleted."}}
            ),
        },
    }


def _schemas() -> Doc:
    string: Doc = {"type": "string"}
    return {
        "acme.type.v1.Resource": {"type": "object", "properties": {"etag": string, "name": string}},
        USER: {
            "allOf": [ref("acme.type.v1.Resource")],
            "type": "object",
            "required": ["id", "email"],
            "properties": {
                "id": {"type": "string", "readOnly": True},
                "email": {"type": "string", "format": "email"},
                "login_count": {"type": "integer", "format": "int64"},
                "role": ref(ROLE),
                "address": ref(ADDRESS),
                "tags": {"type": "array", "items": string},
                "labels": {"type": "object", "additionalProperties": string},
                "manager": ref(USER),
                "password": {"type": "string", "writeOnly": True},
                "contact": {
                    "oneOf": [ref("acme.user.v1.EmailContact"), ref("acme.user.v1.PhoneContact")]
                },
            },
        },
        ADDRESS: {"type": "object", "properties": {"street": string, "city": string}},
        ROLE: {"type": "string", "enum": ["ROLE_UNSPECIFIED", "ADMIN", "MEMBER"]},
        "acme.user.v1.ListUsersResponse": {
            "type": "object",
            "properties": {
                "users": {"type": "array", "items": ref(USER)},
                "next_page_token": string,
            },
        },
        CREATE: {
            "type": "object",
            "required": ["email"],
            "properties": {
                "id": {"type": "string", "readOnly": True},
                "email": {"type": "string", "maxLength": 254},
                "display_name": {
                    "type": "string",
                    "nullable": True,
                    "minLength": 1,
                    "maxLength": 64,
                    "pattern": "^\\S.*$",
                },
                "role": ref(ROLE),
                "address": ref(ADDRESS),
                "tags": {"type": "array", "maxItems": 10, "items": string},
                "contact": {
                    "oneOf": [ref("acme.user.v1.EmailContact"), ref("acme.user.v1.PhoneContact")]
                },
            },
        },
        "acme.user.v1.EmailContact": {"type": "object", "properties": {"email": string}},
        "acme.user.v1.PhoneContact": {"type": "object", "properties": {"phone": string}},
        "acme.user.v1.CreateUserResponse": {"type": "object", "properties": {"user_id": string}},
        PATCH: {"type": "object", "properties": {"display_name": string, "address": ref(ADDRESS)}},
        "acme.rpc.v1.Problem": {
            "type": "object",
            "properties": {"title": string, "status": {"type": "integer"}},
        },
    }


def user_document() -> Doc:
    """GET/POST /v1/users and GET/PATCH/DELETE /v1/users/{id}, with refs, allOf, enums,
    arrays, maps, a oneOf and a recursive schema (``User.manager``)."""
    problem = {"content": {"application/problem+json": {"schema": ref("acme.rpc.v1.Problem")}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "acme.user.v1", "version": "v1"},
        "tags": [{"name": "acme.user.v1.UserService", "description": "Users."}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": {"Problem": {"description": "An error.", **problem}},
        },
    }


def schema(doc: Doc, name: str) -> Doc:
    found: Doc = doc["components"]["schemas"][name]
    return found


def prop(doc: Doc, name: str, prop_name: str) -> Doc:
    found: Doc = schema(doc, name)["properties"][prop_name]
    return found


def op(doc: Doc, method: str, path: str) -> Doc:
    found: Doc = doc["paths"][path][method]
    return found


def param(doc: Doc, method: str, path: str, name: str) -> Doc:
    return next(p for p in op(doc, method, path)["parameters"] if p.get("name") == name)


def breaking_lines(mutate: Mutation) -> list[str]:
    base = user_document()
    head = copy.deepcopy(base)
    mutate(head)
    return [str(finding) for finding in diff_documents(base, head, SOURCE)]


def line(location: str, message: str, rule: str) -> str:
    return f"{SOURCE}: {location}: {message} [{rule}]"


# --- one change, its exact findings -------------------------------------------------------

GET_ONE, GET_LIST, POST, PATCH_ONE, DELETE_ONE = (
    "GET /v1/users/{id}",
    "GET /v1/users",
    "POST /v1/users",
    "PATCH /v1/users/{id}",
    "DELETE /v1/users/{id}",
)


def in_user_responses(message: str, rule: str, *, prop_path: str) -> list[str]:
    """A change to ``User`` shows in the list response (under ``users[]``) and the get one."""
    return [
        line(f"{GET_LIST} 200 response", f"property 'users[].{prop_path}' {message}", rule),
        line(f"{GET_ONE} 200 response", f"property '{prop_path}' {message}", rule),
    ]


def _user_id_parameter(doc: Doc, path: str) -> Doc:
    """The path parameter object, shared by GET, PATCH and DELETE (copies keep the sharing)."""
    return param(doc, "get", path, "id" if path == "/v1/users/{id}" else "user_id")


def _rename_user_id(doc: Doc) -> None:
    _user_id_parameter(doc, "/v1/users/{id}")["name"] = "user_id"
    doc["paths"]["/v1/users/{user_id}"] = doc["paths"].pop("/v1/users/{id}")


def _rename_user_id_and_make_it_an_integer(doc: Doc) -> None:
    _rename_user_id(doc)
    _user_id_parameter(doc, "/v1/users/{user_id}")["schema"] = {"type": "integer"}


def _require_new_create_property(doc: Doc) -> None:
    schema(doc, CREATE)["properties"]["locale"] = {"type": "string"}
    schema(doc, CREATE)["required"].append("locale")


def _require_new_address_property(doc: Doc) -> None:
    schema(doc, ADDRESS)["properties"]["zip"] = {"type": "string"}
    schema(doc, ADDRESS)["required"] = ["zip"]


def _move_update_mask_into_body(doc: Doc) -> None:
    patch = op(doc, "patch", "/v1/users/{id}")
    patch["parameters"] = [p for p in patch["parameters"] if p["name"] != "update_mask"]
    schema(doc, PATCH)["properties"]["update_mask"] = {"type": "string"}


def _move_display_name_to_query(doc: Doc) -> None:
    schema(doc, PATCH)["properties"].pop("display_name")
    display_name = {"name": "display_name", "in": "query", "schema": {"type": "string"}}
    op(doc, "patch", "/v1/users/{id}")["parameters"].append(display_name)


def _remove_parameter(method: str, path: str, name: str) -> Mutation:
    def mutate(doc: Doc) -> None:
        target = op(doc, method, path)
        target["parameters"] = [p for p in target["parameters"] if p["name"] != name]

    return mutate


def _add_required_tenant(doc: Doc) -> None:
    tenant = {"name": "tenant", "in": "query", "required": True, "schema": {"type": "string"}}
    op(doc, "get", "/v1/users")["parameters"].append(tenant)


def _replace_delete_204_with_200(doc: Doc) -> None:
    op(doc, "delete", "/v1/users/{id}")["responses"]["200"] = json_body(ref(USER))
    del op(doc, "delete", "/v1/users/{id}")["responses"]["204"]


BREAKING = [
    pytest.param(
        lambda d: d["paths"].pop("/v1/users/{id}"),
        [line("/v1/users/{id}", "path removed (with GET, DELETE, PATCH)", "PATH_REMOVED")],
        id="path-removed",
    ),
    pytest.param(
        lambda d: d["paths"]["/v1/users/{id}"].pop("delete"),
        [line(DELETE_ONE, "operation removed", "OPERATION_REMOVED")],
        id="operation-removed",
    ),
    pytest.param(
        lambda d: op(d, "get", "/v1/users/{id}").update(operationId="acme.user.v1.Users.Fetch"),
        [
            line(
                GET_ONE,
                "operationId changed from 'acme.user.v1.UserService.GetUser' "
                "to 'acme.user.v1.Users.Fetch'",
                "OPERATION_ID_CHANGED",
            )
        ],
        id="operation-id-changed",
    ),
    pytest.param(
        _rename_user_id,
        [
            line(
                label,
                "path parameter 'id' renamed to 'user_id' (/v1/users/{user_id})",
                "PATH_PARAMETER_RENAMED",
            )
            for label in (DELETE_ONE, GET_ONE, PATCH_ONE)
        ],
        id="path-parameter-renamed",
    ),
    pytest.param(
        _rename_user_id_and_make_it_an_integer,
        [
            finding
            for label in (DELETE_ONE, GET_ONE, PATCH_ONE)
            for finding in (
                line(
                    label,
                    "path parameter 'id' renamed to 'user_id' (/v1/users/{user_id})",
                    "PATH_PARAMETER_RENAMED",
                ),
                line(
                    f"{label} path parameter 'id'",
                    "type changed from string to integer",
                    "TYPE_CHANGED",
                ),
            )
        ],
        id="renamed-path-parameter-still-compared",
    ),
    # responses
    pytest.param(
        lambda d: schema(d, USER)["properties"].pop("email"),
        in_user_responses("removed", "RESPONSE_PROPERTY_REMOVED", prop_path="email"),
        id="response-property-removed",
    ),
    pytest.param(
        lambda d: schema(d, "acme.type.v1.Resource")["properties"].pop("etag"),
        in_user_responses("removed", "RESPONSE_PROPERTY_REMOVED", prop_path="etag"),
        id="response-property-removed-from-allof-part",
    ),
    pytest.param(
        lambda d: schema(d, USER)["properties"].pop("manager"),
        in_user_responses("removed", "RESPONSE_PROPERTY_REMOVED", prop_path="manager"),
        id="recursive-response-property-removed",
    ),
    pytest.param(
        lambda d: prop(d, USER, "login_count").update(type="string"),
        in_user_responses(
            "type changed from integer to string", "TYPE_CHANGED", prop_path="login_count"
        ),
        id="response-type-changed",
    ),
    pytest.param(
        lambda d: prop(d, USER, "login_count").update(format="int32"),
        in_user_responses(
            "format changed from int64 to int32", "FORMAT_CHANGED", prop_path="login_count"
        ),
        id="response-format-changed",
    ),
    pytest.param(
        lambda d: prop(d, USER, "tags").update(items={"type": "integer"}),
        in_user_responses(
            "type changed from string to integer", "TYPE_CHANGED", prop_path="tags[]"
        ),
        id="response-array-item-type-changed",
    ),
    pytest.param(
        lambda d: prop(d, USER, "labels").update(additionalProperties={"type": "integer"}),
        in_user_responses(
            "type changed from string to integer", "TYPE_CHANGED", prop_path="labels.*"
        ),
        id="response-map-value-type-changed",
    ),
    pytest.param(
        lambda d: prop(d, USER, "email").update(nullable=True),
        in_user_responses("may now be null", "NULLABLE_CHANGED", prop_path="email"),
        id="response-property-became-nullable",
    ),
    pytest.param(
        lambda d: schema(d, USER).update(required=["id"]),
        in_user_responses("is no longer required", "RESPONSE_PROPERTY_OPTIONAL", prop_path="email"),
        id="response-property-no-longer-required",
    ),
    pytest.param(
        lambda d: prop(d, USER, "email").update(writeOnly=True),
        in_user_responses("removed", "RESPONSE_PROPERTY_REMOVED", prop_path="email"),
        id="response-property-became-write-only",
    ),
    pytest.param(
        lambda d: op(d, "get", "/v1/users/{id}")["responses"].pop("200"),
        [line(GET_ONE, "response 200 removed", "RESPONSE_REMOVED")],
        id="success-status-removed",
    ),
    pytest.param(
        _replace_delete_204_with_200,
        [line(DELETE_ONE, "response 204 removed", "RESPONSE_REMOVED")],
        id="success-status-changed",
    ),
    pytest.param(
        lambda d: op(d, "get", "/v1/users/{id}")["responses"]["200"].pop("content"),
        [line(f"{GET_ONE} 200 response", "application/json body removed", "RESPONSE_BODY_REMOVED")],
        id="response-body-removed",
    ),
    # enums, in both directions
    pytest.param(
        lambda d: schema(d, ROLE)["enum"].remove("MEMBER"),
        [
            line(
                f"{GET_LIST} 200 response",
                "property 'users[].role' enum value 'MEMBER' removed",
                "ENUM_VALUE_REMOVED",
            ),
            line(
                f"{GET_LIST} query parameter 'role'",
                "enum value 'MEMBER' removed",
                "ENUM_VALUE_REMOVED",
            ),
            line(
                f"{GET_ONE} 200 response",
                "property 'role' enum value 'MEMBER' removed",
                "ENUM_VALUE_REMOVED",
            ),
            line(
                f"{POST} request body",
                "property 'role' enum value 'MEMBER' removed",
                "ENUM_VALUE_REMOVED",
            ),
        ],
        id="enum-value-removed-everywhere-the-enum-is-used",
    ),
    # request bodies
    pytest.param(
        _require_new_create_property,
        [
            line(
                f"{POST} request body",
                "property 'locale' added as required",
                "REQUEST_PROPERTY_REQUIRED",
            )
        ],
        id="new-required-request-property",
    ),
    pytest.param(
        lambda d: schema(d, CREATE)["required"].append("display_name"),
        [
            line(
                f"{POST} request body",
                "property 'display_name' became required",
                "REQUEST_PROPERTY_REQUIRED",
            )
        ],
        id="optional-request-property-became-required",
    ),
    pytest.param(
        _require_new_address_property,
        [
            line(
                f"{PATCH_ONE} request body",
                "property 'address.zip' added as required",
                "REQUEST_PROPERTY_REQUIRED",
            ),
            line(
                f"{POST} request body",
                "property 'address.zip' added as required",
                "REQUEST_PROPERTY_REQUIRED",
            ),
        ],
        id="new-required-property-in-nested-request-object",
    ),
    pytest.param(
        lambda d: schema(d, CREATE)["properties"].pop("display_name"),
        [
            line(
                f"{POST} request body",
                "property 'display_name' removed",
                "REQUEST_PROPERTY_REMOVED",
            )
        ],
        id="request-property-removed",
    ),
    pytest.param(
        lambda d: schema(d, ADDRESS)["properties"].pop("city"),
        [
            *in_user_responses("removed", "RESPONSE_PROPERTY_REMOVED", prop_path="address.city"),
            line(
                f"{PATCH_ONE} request body",
                "property 'address.city' removed",
                "REQUEST_PROPERTY_REMOVED",
            ),
            line(
                f"{POST} request body",
                "property 'address.city' removed",
                "REQUEST_PROPERTY_REMOVED",
            ),
        ],
        id="shared-property-removed-from-requests-and-responses",
    ),
    pytest.param(
        lambda d: prop(d, CREATE, "display_name").update(readOnly=True),
        [
            line(
                f"{POST} request body",
                "property 'display_name' is now read-only",
                "REQUEST_PROPERTY_REMOVED",
            )
        ],
        id="request-property-became-read-only",
    ),
    pytest.param(
        lambda d: prop(d, CREATE, "email").update(type="integer"),
        [
            line(
                f"{POST} request body",
                "property 'email' type changed from string to integer",
                "TYPE_CHANGED",
            )
        ],
        id="request-type-changed",
    ),
    pytest.param(
        lambda d: prop(d, CREATE, "email").update(format="email"),
        [
            line(
                f"{POST} request body",
                "property 'email' format changed from none to email",
                "FORMAT_CHANGED",
            )
        ],
        id="request-format-added",
    ),
    pytest.param(
        lambda d: prop(d, CREATE, "display_name").pop("nullable"),
        [
            line(
                f"{POST} request body",
                "property 'display_name' no longer accepts null",
                "NULLABLE_CHANGED",
            )
        ],
        id="request-property-no-longer-nullable",
    ),
    pytest.param(
        lambda d: prop(d, CREATE, "contact")["oneOf"].pop(),
        [
            line(
                f"{POST} request body",
                "property 'contact' oneOf variant 'acme.user.v1.PhoneContact' removed",
                "VARIANT_REMOVED",
            )
        ],
        id="request-oneof-variant-removed",
    ),
    pytest.param(
        lambda d: op(d, "patch", "/v1/users/{id}")["requestBody"].update(required=True),
        [line(f"{PATCH_ONE} request body", "became required", "REQUEST_BODY_REQUIRED")],
        id="request-body-became-required",
    ),
    pytest.param(
        lambda d: op(d, "delete", "/v1/users/{id}").update(
            requestBody=json_body(ref(PATCH), required=True)
        ),
        [line(f"{DELETE_ONE} request body", "added as required", "REQUEST_BODY_REQUIRED")],
        id="required-request-body-added",
    ),
    pytest.param(
        lambda d: op(d, "patch", "/v1/users/{id}").pop("requestBody"),
        [
            line(
                f"{PATCH_ONE} request body", "application/json body removed", "REQUEST_BODY_REMOVED"
            )
        ],
        id="request-body-removed",
    ),
    # parameters
    pytest.param(
        _add_required_tenant,
        [line(f"{GET_LIST} query parameter 'tenant'", "added as required", "PARAMETER_REQUIRED")],
        id="new-required-parameter",
    ),
    pytest.param(
        lambda d: param(d, "get", "/v1/users", "page_token").update(required=True),
        [line(f"{GET_LIST} query parameter 'page_token'", "became required", "PARAMETER_REQUIRED")],
        id="optional-parameter-became-required",
    ),
    pytest.param(
        _remove_parameter("get", "/v1/users", "page_token"),
        [line(f"{GET_LIST} query parameter 'page_token'", "removed", "PARAMETER_REMOVED")],
        id="query-parameter-removed",
    ),
    pytest.param(
        _remove_parameter("delete", "/v1/users/{id}", "If-Match"),
        [line(f"{DELETE_ONE} header parameter 'If-Match'", "removed", "PARAMETER_REMOVED")],
        id="header-parameter-removed",
    ),
    pytest.param(
        lambda d: param(d, "get", "/v1/users", "page_size").update(schema={"type": "string"}),
        [
            line(
                f"{GET_LIST} query parameter 'page_size'",
                "type changed from integer to string",
                "TYPE_CHANGED",
            )
        ],
        id="parameter-type-changed",
    ),
    pytest.param(
        lambda d: param(d, "get", "/v1/users", "page_size")["schema"].update(format="int64"),
        [
            line(
                f"{GET_LIST} query parameter 'page_size'",
                "format changed from int32 to int64",
                "FORMAT_CHANGED",
            )
        ],
        id="parameter-format-changed",
    ),
    pytest.param(
        lambda d: param(d, "get", "/v1/users", "page_token").update({"in": "header"}),
        [
            line(
                f"{GET_LIST} query parameter 'page_token'",
                "moved from query to header",
                "PARAMETER_MOVED",
            )
        ],
        id="parameter-moved-to-header",
    ),
    pytest.param(
        _move_update_mask_into_body,
        [
            line(
                f"{PATCH_ONE} query parameter 'update_mask'",
                "moved from query to the request body",
                "PARAMETER_MOVED",
            )
        ],
        id="parameter-moved-into-body",
    ),
    pytest.param(
        _move_display_name_to_query,
        [
            line(
                f"{PATCH_ONE} request body",
                "property 'display_name' moved to query parameter",
                "PARAMETER_MOVED",
            )
        ],
        id="body-property-moved-to-parameter",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), BREAKING)
def test_each_breaking_change_is_reported_as_exactly_its_lines(
    mutate: Mutation, expected: list[str]
) -> None:
    assert breaking_lines(mutate) == expected


def test_removing_a_response_property_is_reported_with_its_json_path() -> None:
    lines = breaking_lines(lambda d: schema(d, ADDRESS)["properties"].pop("city"))

    assert (
        line(
            f"{GET_LIST} 200 response",
            "property 'users[].address.city' removed",
            "RESPONSE_PROPERTY_REMOVED",
        )
        in lines
    )


# --- tightened request constraints --------------------------------------------------------


def _create_prop(name: str, **changes: Any) -> Mutation:
    return lambda d: prop(d, CREATE, name).update(changes)


def _page_size(**changes: Any) -> Mutation:
    return lambda d: param(d, "get", "/v1/users", "page_size")["schema"].update(changes)


def _page_token(**changes: Any) -> Mutation:
    return lambda d: param(d, "get", "/v1/users", "page_token")["schema"].update(changes)


BODY, PAGE_SIZE, PAGE_TOKEN = (
    f"{POST} request body",
    f"{GET_LIST} query parameter 'page_size'",
    f"{GET_LIST} query parameter 'page_token'",
)
TIGHTENED = [
    pytest.param(
        _create_prop("display_name", maxLength=32),
        BODY,
        "property 'display_name' maxLength decreased from 64 to 32",
        id="maxLength-decreased",
    ),
    pytest.param(
        _create_prop("display_name", minLength=3),
        BODY,
        "property 'display_name' minLength increased from 1 to 3",
        id="minLength-increased",
    ),
    pytest.param(
        _create_prop("display_name", pattern="^[a-z]+$"),
        BODY,
        "property 'display_name' pattern changed from '^\\S.*$' to '^[a-z]+$'",
        id="pattern-changed",
    ),
    pytest.param(
        _create_prop("email", pattern="^.+@.+$"),
        BODY,
        "property 'email' pattern '^.+@.+$' added",
        id="pattern-added",
    ),
    pytest.param(
        _create_prop("tags", maxItems=5),
        BODY,
        "property 'tags' maxItems decreased from 10 to 5",
        id="maxItems-decreased",
    ),
    pytest.param(
        _create_prop("tags", minItems=1),
        BODY,
        "property 'tags' minItems 1 added",
        id="minItems-added",
    ),
    pytest.param(
        _create_prop("tags", uniqueItems=True),
        BODY,
        "property 'tags' uniqueItems added",
        id="uniqueItems-added",
    ),
    pytest.param(
        _page_size(maximum=50),
        PAGE_SIZE,
        "maximum decreased from 100 to 50",
        id="maximum-decreased",
    ),
    pytest.param(
        _page_size(minimum=10), PAGE_SIZE, "minimum increased from 1 to 10", id="minimum-increased"
    ),
    pytest.param(
        _page_size(exclusiveMaximum=True),
        PAGE_SIZE,
        "exclusiveMaximum added",
        id="exclusiveMaximum-added",
    ),
    pytest.param(
        _page_token(maxLength=100), PAGE_TOKEN, "maxLength 100 added", id="maxLength-added"
    ),
    pytest.param(
        _page_token(enum=["a", "b"]), PAGE_TOKEN, "enum restriction added", id="enum-added"
    ),
    pytest.param(
        _page_size(**{"not": {"enum": [0]}}), PAGE_SIZE, "value 0 now rejected", id="not-enum-added"
    ),
    pytest.param(
        _page_token(**{"not": {"pattern": "^x"}}),
        PAGE_TOKEN,
        "'not' constraint added",
        id="not-added",
    ),
    pytest.param(
        lambda d: schema(d, CREATE).update(additionalProperties=False),
        BODY,
        "additional properties no longer accepted",
        id="additionalProperties-forbidden",
    ),
]


@pytest.mark.parametrize(("mutate", "location", "message"), TIGHTENED)
def test_a_tightened_request_constraint_is_reported(
    mutate: Mutation, location: str, message: str
) -> None:
    assert breaking_lines(mutate) == [line(location, message, "CONSTRAINT_TIGHTENED")]


# --- changes no client notices -------------------------------------------------------------


def _reverse_key_order(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _reverse_key_order(node[key]) for key in reversed(node)}
    if isinstance(node, list):
        return [_reverse_key_order(item) for item in node]
    return node


def _reorder_everything(doc: Doc) -> None:
    reordered = _reverse_key_order(doc)
    doc.clear()
    doc.update(reordered)


def _reword_everything(doc: Doc) -> None:
    for item in doc["paths"].values():
        for operation in item.values():
            operation.update(summary="Reworded.", description="Reworded, at length.")
    for definition in doc["components"]["schemas"].values():
        definition["description"] = "Now documented."


def _add_operation_and_path(doc: Doc) -> None:
    doc["paths"]["/v1/users/{id}"]["put"] = operation(
        "ReplaceUser", [], {"200": json_body(ref(USER))}
    )
    doc["paths"]["/v1/users:search"] = {
        "post": operation("SearchUsers", [], {"200": json_body(ref(USER))})
    }


def _add_optional_parameter(doc: Doc) -> None:
    extra = {"name": "order_by", "in": "query", "schema": {"type": "string"}}
    op(doc, "get", "/v1/users")["parameters"].append(extra)


def _loosen_constraints(doc: Doc) -> None:
    prop(doc, CREATE, "display_name").update(maxLength=128, minLength=0)
    prop(doc, CREATE, "display_name").pop("pattern")
    prop(doc, CREATE, "tags").pop("maxItems")
    param(doc, "get", "/v1/users", "page_size")["schema"].update(minimum=0, maximum=1000)


def _inline_a_ref(doc: Doc) -> None:
    prop(doc, CREATE, "address").clear()
    prop(doc, CREATE, "address").update(copy.deepcopy(schema(doc, ADDRESS)))


def _wrap_recursive_ref_in_allof(doc: Doc) -> None:
    schema(doc, USER)["properties"]["manager"] = ref("acme.user.v1.Manager")
    doc["components"]["schemas"]["acme.user.v1.Manager"] = {"allOf": [ref(USER)]}


NOT_BREAKING = [
    pytest.param(lambda d: None, id="same-document"),
    pytest.param(
        lambda d: schema(d, CREATE)["properties"].update(nickname={"type": "string"}),
        id="optional-request-property-added",
    ),
    pytest.param(
        lambda d: schema(d, USER)["properties"].update(nickname={"type": "string"}),
        id="response-property-added",
    ),
    pytest.param(
        lambda d: schema(d, USER)["required"].append("login_count"),
        id="response-property-became-required",
    ),
    pytest.param(
        lambda d: schema(d, CREATE).update(required=[]), id="request-property-became-optional"
    ),
    pytest.param(
        lambda d: schema(d, CREATE)["required"].append("id"),
        id="read-only-request-property-required",
    ),
    pytest.param(
        lambda d: schema(d, CREATE)["properties"].pop("id"), id="read-only-request-property-removed"
    ),
    pytest.param(
        lambda d: schema(d, USER)["properties"].pop("password"),
        id="write-only-response-property-removed",
    ),
    pytest.param(
        lambda d: prop(d, CREATE, "email").update(nullable=True),
        id="request-property-became-nullable",
    ),
    pytest.param(
        lambda d: param(d, "get", "/v1/users", "page_size")["schema"].pop("format"),
        id="request-format-removed",
    ),
    pytest.param(
        lambda d: prop(d, CREATE, "contact")["oneOf"].append(ref(ADDRESS)),
        id="request-oneof-variant-added",
    ),
    pytest.param(
        lambda d: prop(d, USER, "contact")["oneOf"].pop(),
        id="response-oneof-variant-removed",
    ),
    pytest.param(lambda d: schema(d, ROLE)["enum"].append("GUEST"), id="enum-value-added"),
    pytest.param(
        lambda d: op(d, "post", "/v1/users")["requestBody"].update(required=False),
        id="request-body-became-optional",
    ),
    pytest.param(
        lambda d: op(d, "get", "/v1/users/{id}")["responses"].pop("404"),
        id="error-response-removed",
    ),
    pytest.param(
        lambda d: op(d, "get", "/v1/users/{id}")["responses"].update({"203": json_body(ref(USER))}),
        id="success-status-added",
    ),
    pytest.param(_add_operation_and_path, id="operation-and-path-added"),
    pytest.param(_add_optional_parameter, id="optional-parameter-added"),
    pytest.param(_loosen_constraints, id="constraints-loosened"),
    pytest.param(_reword_everything, id="summaries-and-descriptions-changed"),
    pytest.param(_reorder_everything, id="keys-reordered"),
    pytest.param(_inline_a_ref, id="ref-replaced-by-equal-inline-schema"),
    pytest.param(_wrap_recursive_ref_in_allof, id="recursive-ref-wrapped-in-allof"),
]


@pytest.mark.parametrize("mutate", NOT_BREAKING)
def test_a_change_no_client_notices_produces_no_finding(mutate: Mutation) -> None:
    assert breaking_lines(mutate) == []


def test_a_removal_in_a_reshaped_recursive_schema_is_reported_per_distinct_pair_of_schemas() -> (
    None
):
    # Unchanged recursion (User -> User) is compared once; here manager became Manager
    # (allOf User), a new pair of schemas, so the loss shows one level down too, then stops.
    def mutate(doc: Doc) -> None:
        _wrap_recursive_ref_in_allof(doc)
        schema(doc, USER)["properties"].pop("email")

    removed = "RESPONSE_PROPERTY_REMOVED"
    assert breaking_lines(mutate) == [
        line(f"{GET_LIST} 200 response", "property 'users[].email' removed", removed),
        line(f"{GET_LIST} 200 response", "property 'users[].manager.email' removed", removed),
        line(f"{GET_ONE} 200 response", "property 'email' removed", removed),
        line(f"{GET_ONE} 200 response", "property 'manager.email' removed", removed),
    ]


def test_excluding_fewer_values_with_not_is_not_reported() -> None:
    base = user_document()
    param(base, "get", "/v1/users", "page_size")["schema"]["not"] = {"enum": [0, 7]}
    head = copy.deepcopy(base)
    param(head, "get", "/v1/users", "page_size")["schema"]["not"] = {"enum": [0]}

    assert diff_documents(base, head, SOURCE) == []


def _recursion_through_allof_wrappers(doc: Doc) -> None:
    """How the generator annotates a ref: siblings of a 3.0 ``$ref`` are ignored, so allOf."""
    properties = schema(doc, USER)["properties"]
    properties["manager"] = {"description": "The manager.", "allOf": [ref(USER)]}
    properties["reports"] = {"type": "array", "items": {"readOnly": True, "allOf": [ref(USER)]}}


def test_recursion_through_allof_wrapped_refs_ends_and_reports_at_the_root() -> None:
    base = _mutated(_recursion_through_allof_wrappers)
    head = copy.deepcopy(base)
    schema(head, USER)["properties"].pop("email")

    assert diff_documents(base, copy.deepcopy(base), SOURCE) == []
    assert [str(finding) for finding in diff_documents(base, head, SOURCE)] == in_user_responses(
        "removed", "RESPONSE_PROPERTY_REMOVED", prop_path="email"
    )


def test_unquoted_yaml_status_codes_match_quoted_ones() -> None:
    base = user_document()
    head = yaml.safe_load(yaml.safe_dump(base).replace("'200':", "200:"))
    assert 200 in op(head, "get", "/v1/users/{id}")["responses"]

    assert diff_documents(base, head, SOURCE) == []
    del op(head, "get", "/v1/users/{id}")["responses"][200]
    assert [str(finding) for finding in diff_documents(base, head, SOURCE)] == [
        line(GET_ONE, "response 200 removed", "RESPONSE_REMOVED")
    ]


def test_a_ref_cycle_without_any_schema_terminates() -> None:
    base = user_document()
    schemas = base["components"]["schemas"]
    schemas["acme.user.v1.A"], schemas["acme.user.v1.B"] = (
        ref("acme.user.v1.B"),
        ref("acme.user.v1.A"),
    )
    prop(base, USER, "address").update(ref("acme.user.v1.A"))

    assert diff_documents(base, copy.deepcopy(base), SOURCE) == []


def test_findings_are_sorted_by_location() -> None:
    def mutate(doc: Doc) -> None:
        doc["paths"]["/v1/users"].pop("post")
        doc["paths"]["/v1/users"]["get"]["operationId"] = "renamed"
        doc["paths"]["/v1/users/{id}"].pop("delete")

    locations = [
        finding.location for finding in diff_documents(user_document(), _mutated(mutate), SOURCE)
    ]

    assert locations == [DELETE_ONE, GET_LIST, POST]


def _mutated(mutate: Mutation) -> Doc:
    doc = user_document()
    mutate(doc)
    return doc


# --- sets of documents --------------------------------------------------------------------


def test_documents_are_compared_by_file_name_and_findings_name_their_file() -> None:
    other = "api/openapi/other.yaml"
    base = {SOURCE: user_document(), other: user_document()}
    head = {SOURCE: user_document(), other: _mutated(lambda d: d["paths"].pop("/v1/users"))}

    assert [str(f) for f in diff_trees(base, head)] == [
        f"{other}: /v1/users: path removed (with GET, POST) [PATH_REMOVED]"
    ]


def test_a_removed_document_removes_all_of_its_paths_and_an_added_one_is_fine() -> None:
    added = "api/openapi/new.yaml"
    base = {SOURCE: user_document()}
    head = {added: user_document()}

    assert [str(f) for f in diff_trees(base, head)] == [
        line("/v1/users", "path removed (with GET, POST)", "PATH_REMOVED"),
        line("/v1/users/{id}", "path removed (with GET, DELETE, PATCH)", "PATH_REMOVED"),
    ]
    assert diff_trees({}, head) == []


def _move_patch_to_user_dot_id(doc: Doc) -> None:
    patch = copy.deepcopy(doc["paths"]["/v1/users/{id}"].pop("patch"))
    patch["parameters"][0]["name"] = "user.id"
    doc["paths"]["/v1/users/{user.id}"] = {"patch": patch}


def test_same_shape_paths_serving_different_methods_are_matched_by_method() -> None:
    doc = _mutated(_move_patch_to_user_dot_id)

    assert diff_documents(doc, copy.deepcopy(doc), SOURCE) == []


def test_moving_one_method_to_a_same_shape_path_renames_only_its_parameter() -> None:
    assert breaking_lines(_move_patch_to_user_dot_id) == [
        line(
            PATCH_ONE,
            "path parameter 'id' renamed to 'user.id' (/v1/users/{user.id})",
            "PATH_PARAMETER_RENAMED",
        )
    ]


def _mask_pattern(*paths: str) -> str:
    one = "(" + "|".join(paths) + r")(\.[A-Za-z][A-Za-z0-9]*)*"
    return f"^{one}(,{one})*$"


def test_an_update_mask_path_allowed_more_is_no_finding_and_one_allowed_less_is_named() -> None:
    from contractkit.openapi_constraints import tightened_constraints  # noqa: PLC0415

    narrow = {"type": "string", "pattern": _mask_pattern("displayName", "email")}
    wide = {"type": "string", "pattern": _mask_pattern("displayName", "email", "roles")}

    assert tightened_constraints(narrow, wide) == []
    assert tightened_constraints(wide, narrow) == ["update mask paths no longer allowed: roles"]
    assert tightened_constraints({"pattern": "^a$"}, {"pattern": "^b$"}) == [
        "pattern changed from '^a$' to '^b$'"
    ]
