"""services.gateway.validation: the gateway judges a request's JSON types against the
document; every other keyword of its schemas is the contract's rule, judged by protovalidate
on the request message with the gRPC face's words (tests/e2e/gateway/test_gateway_vocabulary.py)."""

from __future__ import annotations

from jsonschema import Draft4Validator  # type: ignore[import-untyped, unused-ignore]

from services.gateway.problems import Violation
from services.gateway.validation import violations_of

SCHEMA = {
    "type": "object",
    "properties": {
        "displayName": {"type": "string", "minLength": 1, "maxLength": 100},
        "roles": {"type": "array", "items": {"type": "string", "enum": ["ROLE_ADMIN"]}},
        "pageSize": {"type": "integer", "minimum": 0},
    },
    "required": ["email"],
    "additionalProperties": False,
}


def test_only_json_types_are_judged_here_every_rule_is_left_to_protovalidate() -> None:
    request = {"displayName": "", "roles": ["ROLE_NOBODY", 7], "pageSize": "many", "x": 1}

    found = violations_of(Draft4Validator(SCHEMA).iter_errors(request), root="user")

    assert found == (
        Violation("user.roles[1]", "type", "must be of JSON type string"),
        Violation("user.pageSize", "type", "must be of JSON type integer"),
    )


def test_a_request_of_the_right_types_has_no_violation_here_whatever_its_values() -> None:
    request = {"displayName": "x" * 500, "roles": ["ROLE_NOBODY"], "pageSize": -5}

    assert violations_of(Draft4Validator(SCHEMA).iter_errors(request)) == ()
