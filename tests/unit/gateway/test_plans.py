"""services.gateway.plans: each operation's work, derived once from the document and the
contracts, and every disagreement between them named at once."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from services.gateway.plans import OperationPlan, Parameter, PlanError, build_plans

UPDATE_USER = "acme.user.v1.UserService.UpdateUser"
CREATE_NOTE = "acme.notes.v1.NotesService.CreateNote"


def test_a_plan_names_the_grpc_method_and_its_messages(plans: dict[str, OperationPlan]) -> None:
    plan = plans["acme.user.v1.UserService.GetUser"]

    assert (plan.http_method, plan.route) == ("GET", "/v1/users/{id}")
    assert plan.service == "acme.user.v1.UserService"
    assert plan.grpc_path == "/acme.user.v1.UserService/GetUser"
    assert plan.request_class.DESCRIPTOR.full_name == "acme.user.v1.GetUserRequest"
    assert plan.response_class.DESCRIPTOR.full_name == "acme.user.v1.GetUserResponse"


@pytest.mark.parametrize(
    ("operation", "body_path", "response_field"),
    [
        ("acme.user.v1.UserService.CreateUser", (), "user"),  # body: "*"
        (UPDATE_USER, ("user",), "user"),  # body: "user"
        ("acme.user.v1.UserService.ListUsers", None, None),  # no body, all of the reply
        ("acme.auth.v1.AuthService.Login", (), "tokens"),
        (CREATE_NOTE, ("note",), "note"),  # a contract the gateway never heard of
    ],
)
def test_the_http_rule_says_where_the_body_goes_and_what_the_response_is(
    plans: dict[str, OperationPlan],
    operation: str,
    body_path: tuple[str, ...] | None,
    response_field: str | None,
) -> None:
    plan = plans[operation]

    assert plan.body_path == body_path
    assert plan.response_field == response_field


def test_a_path_parameter_fills_the_field_its_extension_names(
    plans: dict[str, OperationPlan],
) -> None:
    parameters = plans[UPDATE_USER].parameters

    assert parameters == (
        Parameter(name="id", argument="id", path=("user", "id")),  # x-acme-field-path: user.id
        Parameter(name="updateMask", argument="updateMask", path=("updateMask",)),
    )


def test_a_parameter_in_proto_spelling_fills_the_json_named_field(
    plans: dict[str, OperationPlan],
) -> None:
    (parameter,) = plans["acme.notes.v1.NotesService.GetNote"].parameters

    assert (parameter.name, parameter.path) == ("note_id", ("noteId",))


def test_a_parameters_violation_names_the_field_it_fills_in_json_names(
    plans: dict[str, OperationPlan],
) -> None:
    update = plans[UPDATE_USER]

    assert update.body_prefix == "user."
    assert update.request_field("id") == "user.id"
    assert update.request_field("id[0]") == "user.id[0]"
    assert update.request_field("updateMask") == "updateMask"
    assert update.request_field("identity") == "identity"
    assert plans["acme.notes.v1.NotesService.GetNote"].request_field("note_id") == "noteId"
    assert plans["acme.user.v1.UserService.CreateUser"].body_prefix == ""


def test_a_route_must_name_the_rules_fields_by_its_parameters(document: dict[str, Any]) -> None:
    wrong = copy.deepcopy(document)
    patch = wrong["paths"]["/v1/users/{id}"]["patch"]
    patch["parameters"][0]["x-acme-field-path"] = "id"  # UpdateUserRequest has no field id

    with pytest.raises(PlanError) as refused:
        build_plans({"paths": {"/v1/users/{id}": {"patch": patch}}})

    assert refused.value.problems == (
        "PATCH /v1/users/{id} (acme.user.v1.UserService.UpdateUser): "
        "the google.api.http rule says PATCH /v1/users/{user.id}",
        "PATCH /v1/users/{id} (acme.user.v1.UserService.UpdateUser): "
        "path parameter 'id': 'id' is not a field of UpdateUserRequest",
    )


def test_a_path_parameter_that_is_no_identifier_cannot_be_routed(
    document: dict[str, Any],
) -> None:
    dotted = copy.deepcopy(document["paths"]["/v1/users/{id}"]["patch"])
    dotted["parameters"][0]["name"] = "user.id"
    del dotted["parameters"][0]["x-acme-field-path"]

    with pytest.raises(PlanError, match=r"path parameter .user\.id. is not an identifier"):
        build_plans({"paths": {"/v1/users/{user.id}": {"patch": dotted}}})


def _broken(document: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    paths = broken["paths"]
    paths["/v1/users/{id}"]["get"]["operationId"] = "acme.user.v1.UserService.Fetch"
    paths["/v1/users"]["post"].pop("requestBody")
    paths["/v1/users"]["get"]["parameters"].append({"name": "x-trace", "in": "header"})
    paths["/v1/auth/jwks"]["get"].pop("operationId")
    return broken


def test_every_disagreement_is_reported_together(document: dict[str, Any]) -> None:
    with pytest.raises(PlanError) as refused:
        build_plans(_broken(document))

    assert sorted(refused.value.problems) == [
        "GET /v1/auth/jwks: no operationId",
        "GET /v1/users (acme.user.v1.UserService.ListUsers): parameter 'x-trace' in header: "
        "only path and query are mapped",
        "GET /v1/users/{id} (acme.user.v1.UserService.Fetch): "
        "no gRPC method of that name in the contracts",
        "POST /v1/users (acme.user.v1.UserService.CreateUser): "
        "requestBody present: False, but the rule's body is '*'",
    ]


def test_a_route_or_verb_other_than_the_rules_is_refused(document: dict[str, Any]) -> None:
    moved = copy.deepcopy(document)
    moved["paths"]["/v1/people/{id}"] = moved["paths"].pop("/v1/users/{id}")

    rule = "the google.api.http rule says GET /v1/users/{id}"
    with pytest.raises(PlanError, match=re.escape(rule)):
        build_plans(moved)


def test_a_method_without_an_http_rule_cannot_be_an_operation() -> None:
    document = {
        "paths": {
            "/v1/verify": {"post": {"operationId": "acme.user.v1.UserService.VerifyCredentials"}}
        }
    }

    with pytest.raises(PlanError, match=re.escape("the method has no google.api.http rule")):
        build_plans(document)
