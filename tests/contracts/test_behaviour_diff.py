"""contractkit.behaviour on two versions of a small contract, compiled by buf: which messages
are judged (what callers write, what they read) and the findings beyond single field rules
(message rules, required oneofs, defaults, enum values in responses, a policy removed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contractkit.behaviour import Contract, diff_behaviour
from tests.contracts._buf import build_contract

OWN = "shop/v1/shop.proto"
BASE = """syntax = "proto3";
package shop.v1;
import "acme/options/v1/access.proto";
import "buf/validate/validate.proto";
import "google/protobuf/duration.proto";

service Shop {
  rpc Find(FindRequest) returns (FindResponse) {
    option (acme.options.v1.access) = {roles: ["admin"]};
  }
}
message FindRequest {
  int32 page_size = 1 [(acme.options.v1.field_default).int_value = 20];
  oneof by {
    string name = 2;
    string code = 3;
  }
  Filter filter = 4;
  google.protobuf.Duration wait = 5 [(buf.validate.field).duration = {
    in: [{seconds: 1}, {seconds: 2}]
    const: {seconds: 1}
    lte: {seconds: 9}
  }];
}
message Filter {
  string tag = 1 [(buf.validate.field).string.max_len = 9];
}
message FindResponse {
  Kind kind = 1;
}
enum Kind {
  KIND_UNSPECIFIED = 0;
  KIND_BOOK = 1;
}
enum Unused {
  UNUSED_UNSPECIFIED = 0;
}
"""


def contract(folder: Path, source: str) -> Contract:
    return Contract(build_contract(folder, {OWN: source}), frozenset({OWN}))


def diff(tmp_path: Path, *edits: tuple[str, str]) -> list[str]:
    head = BASE
    for old, new in edits:
        assert old in head
        head = head.replace(old, new)
    findings = diff_behaviour(contract(tmp_path / "base", BASE), contract(tmp_path / "head", head))
    return [f"{f.location}: {f.message} [{f.rule}]" for f in findings]


def test_an_unchanged_contract_has_no_finding(tmp_path: Path) -> None:
    """Rules holding messages (durations here) compare equal across the two versions."""
    assert diff(tmp_path) == []


def test_rules_holding_messages_are_compared_by_value(tmp_path: Path) -> None:
    found = diff(
        tmp_path,
        ("in: [{seconds: 1}, {seconds: 2}]", "in: [{seconds: 1}]"),
        ("lte: {seconds: 9}", "lt: {seconds: 5}"),
    )

    assert found == [
        "shop.v1.FindRequest.wait: 'duration.lt' tightened from lte 9s to lt 5s "
        "[VALIDATION_TIGHTENED]",
        "shop.v1.FindRequest.wait: 'duration.in' no longer accepts 2s [VALIDATION_TIGHTENED]",
    ]


def test_a_message_rule_and_a_required_oneof_refuse_what_was_accepted(tmp_path: Path) -> None:
    found = diff(
        tmp_path,
        (
            "message FindRequest {\n",
            "message FindRequest {\n  option (buf.validate.message).oneof = "
            '{fields: ["name", "code"], required: true};\n',
        ),
        ("  oneof by {\n", "  oneof by {\n    option (buf.validate.oneof).required = true;\n"),
    )

    assert found == [
        "shop.v1.FindRequest: 'oneof' rule over ('name', 'code') added or changed "
        "[VALIDATION_TIGHTENED]",
        "shop.v1.FindRequest: oneof 'by' became 'required' [VALIDATION_TIGHTENED]",
    ]


def test_a_rule_of_a_nested_request_message_is_judged(tmp_path: Path) -> None:
    found = diff(tmp_path, ("string.max_len = 9", "string.max_len = 5"))

    assert found == [
        "shop.v1.Filter.tag: 'string.max_len' decreased from 9 to 5 [VALIDATION_TIGHTENED]"
    ]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("int_value = 20", "int_value = 50"),
            "page_size: 'field_default' changed from 20 to 50",
        ),
        (
            (" [(acme.options.v1.field_default).int_value = 20]", ""),
            "page_size: 'field_default' 20 removed: unset now means 0",
        ),
        (
            (
                "string code = 3;",
                'string code = 3 [(acme.options.v1.field_default).string_value = "x"];',
            ),
            "code: 'field_default' 'x' declared: unset meant ''",
        ),
    ],
)
def test_the_value_an_unset_field_takes_is_judged(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    [found] = diff(tmp_path, edit)

    assert found.startswith(f"shop.v1.FindRequest.{expected}")
    assert found.endswith("[DEFAULT_CHANGED]")


def test_an_enum_value_added_to_a_response_warns_and_elsewhere_is_silent(tmp_path: Path) -> None:
    found = diff(
        tmp_path,
        ("  KIND_BOOK = 1;\n", "  KIND_BOOK = 1;\n  KIND_GAME = 2;\n"),
        ("  UNUSED_UNSPECIFIED = 0;\n", "  UNUSED_UNSPECIFIED = 0;\n  UNUSED_MORE = 1;\n"),
    )

    assert found == [
        "shop.v1.Kind: value 'KIND_GAME' (2) added to an enum that responses carry: strict "
        "clients of the previous contract may fail to read it [ENUM_VALUE_ADDED]"
    ]


def test_a_policy_removed_refuses_every_caller(tmp_path: Path) -> None:
    found = diff(tmp_path, ('    option (acme.options.v1.access) = {roles: ["admin"]};\n', ""))

    assert found == [
        "shop.v1.Shop.Find: 'access' removed: the RPC now refuses every caller [ACCESS_NARROWED]"
    ]


def test_a_new_rpc_and_its_messages_have_no_previous_callers(tmp_path: Path) -> None:
    found = diff(
        tmp_path,
        (
            "service Shop {\n",
            "service Shop {\n  rpc Buy(BuyRequest) returns (FindResponse) {\n"
            '    option (acme.options.v1.access) = {roles: ["admin"]};\n  }\n',
        ),
        (
            "message Filter {\n",
            "message BuyRequest {\n  string sku = 1 [(buf.validate.field).required = true];\n}\n"
            "message Filter {\n",
        ),
    )

    assert found == []
