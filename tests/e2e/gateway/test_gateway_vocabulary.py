"""One validation vocabulary on both faces: the same bad input, sent over REST through the
gateway and over gRPC to the service, is refused with the same rule ids and the same
messages; REST names each field by its JSON path (``user.displayName``), gRPC by its proto
path (``user.display_name``).

Every row of the user service's bad-input table (``BREACHES``: one per rule of the
contract) that REST can express is played on both faces. Rows REST cannot express are left
out: an RPC without a REST mapping, an empty path segment (no route), a message the path
already sets (``user`` of UpdateUser, present once ``{id}`` fills ``user.id``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.api import annotations_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status  # type: ignore[import-untyped, unused-ignore]

from acme.user.v1 import user_service_pb2 as pb
from servicekit.testing.databases import DatabaseKind
from services.gateway.fieldpaths import TEMPLATE_VARIABLE, json_field_path
from tests.e2e.gateway._gateway import Rest, assert_problem
from tests.e2e.user.test_user_bad_input import BREACHES, OVERRULED, Breach

USER_SERVICE = pb.DESCRIPTOR.services_by_name["UserService"]

Reported = set[tuple[str, str, str]]  # field, rule id, message


@pytest.fixture(scope="module")
def database_kind() -> DatabaseKind:
    """Validation answers before any database is read: one backend is enough."""
    return "sqlite"


@dataclass(frozen=True)
class RestCall:
    """A gRPC request as the REST call that the gateway turns into the same request."""

    verb: str
    path: str
    query: dict[str, Any]
    body: Any


def rest_call(rpc: str, request: Message) -> RestCall | None:
    """The REST call of ``request`` by its RPC's ``google.api.http`` rule; None when REST
    cannot say it."""
    method = USER_SERVICE.methods_by_name[rpc]
    if not method.GetOptions().HasExtension(annotations_pb2.http):
        return None
    rule = method.GetOptions().Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    template = getattr(rule, verb)
    fields = _json(request)
    bound = TEMPLATE_VARIABLE.findall(template)
    values = [_value_at(request, field_path) for field_path in bound]
    if not all(values):
        return None  # an empty segment: no route
    path = template
    for field_path, value in zip(bound, values, strict=True):
        segment = urllib.parse.quote(value, safe="").replace("\\", "\\\\")
        path = TEMPLATE_VARIABLE.sub(segment, path, count=1)
        fields.pop(field_path, None)
    body: Any = None
    if rule.body == "*":
        body, fields = fields, {}
    elif rule.body:
        field = request.DESCRIPTOR.fields_by_name[rule.body]
        if not request.HasField(rule.body):
            return None  # the path sets part of it: REST cannot leave it out
        body = fields.pop(field.json_name, {})
    return RestCall(verb=verb, path=path, query=fields, body=body)


def _value_at(message: Message, field_path: str) -> str:
    value: Any = message
    for name in field_path.split("."):
        value = getattr(value, name)
    return str(value)


def _json(message: Message) -> dict[str, Any]:
    """The proto3 JSON of ``message``, an enum's unknown number as a string (REST documents
    enums as strings; the JSON mapping reads a number in one)."""
    data: dict[str, Any] = json_format.MessageToDict(message)
    _enum_numbers_as_strings(message, data)
    return data


def _enum_numbers_as_strings(message: Message, data: dict[str, Any]) -> None:
    for field in message.DESCRIPTOR.fields:
        if field.json_name not in data:
            continue
        value = data[field.json_name]
        if field.enum_type is not None:
            data[field.json_name] = (
                [str(v) for v in value] if isinstance(value, list) else str(value)
            )
        elif field.message_type is not None and isinstance(value, dict):
            _enum_numbers_as_strings(getattr(message, field.name), value)


def grpc_answer(rest: Rest, rpc: str, request: Message) -> tuple[str, Reported]:
    """The status message and the violations of ``request`` sent over gRPC as an admin."""
    metadata = tuple((k.lower(), v) for k, v in rest.admin().items())
    with pytest.raises(grpc.RpcError) as call:
        getattr(rest.stack.users, rpc)(request, metadata=metadata, timeout=10)
    error = call.value
    assert isinstance(error, grpc.Call)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    status = rpc_status.from_call(error)
    reported: Reported = set()
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            reported |= {(v.field, v.reason, v.description) for v in bad_request.field_violations}
    return str(error.details()), reported


def rest_answer(rest: Rest, call: RestCall) -> tuple[str, Reported]:
    """The problem's detail and violations of ``call`` sent to the gateway as an admin."""
    reply = rest.client.request(
        call.verb.upper(),
        call.path,
        params=call.query,
        json=call.body,
        headers=rest.admin(),
    )
    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    violations = problem.get("violations", [])
    return str(problem["detail"]), {(v["field"], v["rule"], v["message"]) for v in violations}


def in_json_names(rpc: str, reported: Reported) -> Reported:
    request = USER_SERVICE.methods_by_name[rpc].input_type
    return {(json_field_path(request, field), rule, text) for field, rule, text in reported}


def _expressible() -> Iterator[Any]:
    for breach in [*BREACHES, *OVERRULED]:
        call = rest_call(breach.rpc, breach.request)
        if call is not None:
            yield pytest.param(breach, call, id=str(breach))


@pytest.mark.parametrize(("breach", "call"), list(_expressible()))
def test_a_bad_input_gets_the_same_rule_and_message_over_rest_as_over_grpc(
    rest: Rest, breach: Breach, call: RestCall
) -> None:
    grpc_message, over_grpc = grpc_answer(rest, breach.rpc, breach.request)

    detail, over_rest = rest_answer(rest, call)

    assert over_grpc, "the gRPC face reported no violation"
    assert over_rest == in_json_names(breach.rpc, over_grpc)
    renamed = grpc_message
    for field, _, _ in over_grpc:
        renamed = renamed.replace(f"{field}: ", f"{json_field_path(_input(breach), field)}: ")
    assert detail == renamed


def _input(breach: Breach) -> Any:
    return USER_SERVICE.methods_by_name[breach.rpc].input_type


def test_an_empty_display_name_is_required_on_both_faces_in_each_faces_field_names(
    rest: Rest,
) -> None:
    """The case of the issue: `displayName/string.min_len` over REST used to meet
    `display_name/required` over gRPC, worded differently."""
    request = pb.CreateUserRequest(
        email="ada@example.com", display_name="", password="correct horse battery"
    )
    body = {"email": "ada@example.com", "displayName": "", "password": "correct horse battery"}

    _, over_grpc = grpc_answer(rest, "CreateUser", request)
    reply = rest.client.post("/v1/users", json=body)

    problem = assert_problem(reply, 400, "INVALID_ARGUMENT")
    assert over_grpc == {("display_name", "required", "value is required")}
    assert problem["violations"] == [
        {"field": "displayName", "rule": "required", "message": "value is required"}
    ]
    assert problem["detail"] == "invalid request: displayName: value is required"


def test_the_table_reaches_every_rest_operation_of_the_user_service() -> None:
    covered = {str(param.values[0].rpc) for param in _expressible()}

    assert covered == {"CreateUser", "GetUser", "ListUsers", "UpdateUser", "DeleteUser"}
