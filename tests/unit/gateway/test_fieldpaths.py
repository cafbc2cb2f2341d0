"""services.gateway.fieldpaths: field and parameter names as the contract, the document and
Starlette spell them."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool

from acme.user.v1 import user_service_pb2
from services.gateway.fieldpaths import (
    field_named,
    json_field_path,
)
from tests.unit.gateway._notes import register_notes

UPDATE_REQUEST = user_service_pb2.UpdateUserRequest.DESCRIPTOR


@pytest.mark.parametrize(
    ("proto_path", "json_path"),
    [
        ("user.display_name", "user.displayName"),
        ("update_mask", "updateMask"),
        ("user.roles[1]", "user.roles[1]"),
        ("user.no_such_field", "user.no_such_field"),  # unknown names are kept as they are
        ("nothing.below.here", "nothing.below.here"),
    ],
)
def test_a_proto_field_path_is_spelled_in_json_names(proto_path: str, json_path: str) -> None:
    assert json_field_path(UPDATE_REQUEST, proto_path) == json_path


def test_a_map_subscript_leads_into_the_maps_value_message() -> None:
    register_notes()
    request = descriptor_pool.Default().FindMessageTypeByName("acme.notes.v1.CreateNoteRequest")

    assert json_field_path(request, 'note.labels["a.b"].display_name') == (
        'note.labels["a.b"].displayName'
    )


def test_a_field_is_found_by_its_proto_or_its_json_name() -> None:
    user = UPDATE_REQUEST.fields_by_name["user"].message_type

    assert field_named(user, "display_name") is field_named(user, "displayName")
    assert field_named(user, "displayname") is None
    assert field_named(None, "id") is None
