"""services.gateway.messages: a call's request message from connexion's arguments, the part
of the reply that is the response body, and requests that cannot fit named by field."""

from __future__ import annotations

import pytest
from google.protobuf import json_format

from acme.auth.v1 import auth_service_pb2
from acme.user.v1 import user_pb2, user_service_pb2
from services.gateway.messages import RequestError, reply_body, request_message
from services.gateway.plans import OperationPlan

USER_ID = "7f1c2d0e-5b6a-4c3d-9e8f-0a1b2c3d4e5f"


def test_a_whole_body_becomes_the_request(plans: dict[str, OperationPlan]) -> None:
    plan = plans["acme.user.v1.UserService.CreateUser"]

    request = request_message(
        plan, {"body": {"email": "ada@example.com", "displayName": "Ada", "password": "pw"}}
    )

    assert request == user_service_pb2.CreateUserRequest(
        email="ada@example.com", display_name="Ada", password="pw"
    )


def test_a_body_field_path_and_query_parameters_fill_their_fields(
    plans: dict[str, OperationPlan],
) -> None:
    plan = plans["acme.user.v1.UserService.UpdateUser"]

    request = request_message(
        plan,
        {"body": {"displayName": "Ada"}, "id": USER_ID, "updateMask": "displayName,roles"},
    )

    assert request.user.id == USER_ID  # type: ignore[attr-defined]
    assert request.user.display_name == "Ada"  # type: ignore[attr-defined]
    assert list(request.update_mask.paths) == ["display_name", "roles"]  # type: ignore[attr-defined]


def test_a_path_parameter_wins_over_the_same_field_in_the_body(
    plans: dict[str, OperationPlan],
) -> None:
    plan = plans["acme.user.v1.UserService.UpdateUser"]

    request = request_message(plan, {"body": {"id": "from-the-body"}, "id": USER_ID})

    assert request.user.id == USER_ID  # type: ignore[attr-defined]


def test_query_parameters_use_the_proto3_json_mapping(plans: dict[str, OperationPlan]) -> None:
    plan = plans["acme.user.v1.UserService.ListUsers"]

    request = request_message(plan, {"pageSize": 5, "role": "ROLE_ADMIN", "email": None})

    assert request == user_service_pb2.ListUsersRequest(page_size=5, role=user_pb2.ROLE_ADMIN)


def test_an_unknown_field_is_refused_and_named(plans: dict[str, OperationPlan]) -> None:
    plan = plans["acme.user.v1.UserService.UpdateUser"]

    with pytest.raises(RequestError) as refused:
        request_message(plan, {"body": {"admin": True}, "id": USER_ID})

    assert (refused.value.field, refused.value.rule) == ("user.admin", "unknown_field")
    assert refused.value.message == "is not a field of acme.user.v1.User"


def test_a_value_of_the_wrong_json_type_is_named_without_its_location(
    plans: dict[str, OperationPlan],
) -> None:
    plan = plans["acme.user.v1.UserService.ListUsers"]

    with pytest.raises(RequestError) as refused:
        request_message(plan, {"role": "ROLE_EMPEROR"})

    assert (refused.value.field, refused.value.rule) == ("role", "json_type")
    assert " at " not in refused.value.message


def test_a_body_that_is_not_an_object_is_refused(plans: dict[str, OperationPlan]) -> None:
    plan = plans["acme.auth.v1.AuthService.Login"]

    with pytest.raises(RequestError, match="must be a JSON object"):
        request_message(plan, {"body": ["ada@example.com"]})


def test_a_parameter_below_a_field_that_is_not_an_object_is_refused(
    plans: dict[str, OperationPlan],
) -> None:
    plan = plans["acme.user.v1.UserService.UpdateUser"]

    with pytest.raises(RequestError) as refused:
        request_message(plan, {"body": "Ada", "id": USER_ID})

    assert refused.value.field == "user"


def test_the_response_body_is_the_rules_field_or_the_whole_reply(
    plans: dict[str, OperationPlan],
) -> None:
    tokens = auth_service_pb2.TokenPair(access_token="a", refresh_token="r")
    login = auth_service_pb2.LoginResponse(tokens=tokens)
    jwks = auth_service_pb2.GetJwksResponse(keys=[auth_service_pb2.JsonWebKey(kid="k1")])

    assert reply_body(plans["acme.auth.v1.AuthService.Login"], login) == tokens
    assert reply_body(plans["acme.auth.v1.AuthService.GetJwks"], jwks) is jwks
    assert json_format.MessageToDict(
        reply_body(plans["acme.auth.v1.AuthService.Login"], login)
    ) == {
        "accessToken": "a",
        "refreshToken": "r",
    }
