"""The judgements behind the behaviour findings of `make breaking`, one rule at a time:
which validation rules refuse what the previous ones accepted, which new fields refuse the
callers of the previous contract, which access policies refuse a caller the previous one
admitted, and how a finding is named for an acknowledgement."""

from __future__ import annotations

from pathlib import Path

import pytest
from buf.validate import validate_pb2
from google.protobuf import text_format

from acme.options.v1 import access_pb2
from acme.user.v1 import user_pb2, user_service_pb2
from contractkit.access_diff import narrowed
from contractkit.acknowledged import (
    Acknowledgement,
    AcknowledgementError,
    Reported,
    identity,
    judge,
    load_acknowledgements,
)
from contractkit.proto_rules import tightened
from contractkit.proto_unset import refuses_unset

CREATE = user_service_pb2.CreateUserRequest.DESCRIPTOR
LIST = user_service_pb2.ListUsersRequest.DESCRIPTOR


def rules(text: str) -> validate_pb2.FieldRules:
    return text_format.Parse(text, validate_pb2.FieldRules())


def changes(base: str | None, head: str | None) -> list[str]:
    before = rules(base) if base is not None else None
    after = rules(head) if head is not None else None
    return [text for _, text in tightened(before, after, CREATE.fields_by_name["email"])]


@pytest.mark.parametrize(
    ("base", "head", "expected"),
    [
        (
            "string {max_len: 100}",
            "string {max_len: 50}",
            "'string.max_len' decreased from 100 to 50",
        ),
        ("string {min_len: 1}", "string {min_len: 3}", "'string.min_len' increased from 1 to 3"),
        ("string {max_len: 100}", "string {max_len: 100 email: true}", "'string.email' added"),
        (None, "string {max_len: 10}", "'string.max_len' 10 added"),
        ("int32 {lte: 100}", "int32 {lt: 100}", "'int32.lt' tightened from lte 100 to lt 100"),
        ("int32 {gte: 0}", "int32 {gt: 0}", "'int32.gt' tightened from gte 0 to gt 0"),
        ('string {in: ["a", "b"]}', 'string {in: ["a"]}', "'string.in' no longer accepts 'b'"),
        ("enum {not_in: [0]}", "enum {not_in: [0, 3]}", "'enum.not_in' now refuses 3"),
        ("string {max_len: 9}", "required: true string {max_len: 9}", "'required' added"),
        (
            'string {pattern: "^a"}',
            'string {pattern: "^b"}',
            "'string.pattern' changed from '^a' to '^b'",
        ),
        (
            "repeated {items {string {max_len: 9}}}",
            "repeated {items {string {max_len: 8}}}",
            "'repeated.items.string.max_len' decreased from 9 to 8",
        ),
        (
            "string {}",
            'cel {id: "no_x" expression: "!this.contains(\'x\')"}',
            "custom rule 'cel:no_x' added or changed",
        ),
        ("int32 {lte: 9}", "string {max_len: 9}", "'int32' rules replaced by 'string' rules"),
        (
            "ignore: IGNORE_IF_ZERO_VALUE string {email: true}",
            "string {email: true}",
            "'ignore' IGNORE_IF_ZERO_VALUE removed: unset is refused",
        ),
    ],
)
def test_rules_that_refuse_what_the_previous_ones_accepted_are_named(
    base: str | None, head: str, expected: str
) -> None:
    assert expected in changes(base, head)


@pytest.mark.parametrize(
    ("base", "head"),
    [
        ("string {max_len: 50}", "string {max_len: 100}"),
        ("string {min_len: 3 email: true}", "string {min_len: 1}"),
        ("int32 {lt: 100}", "int32 {lte: 100}"),
        ('string {in: ["a"]}', 'string {in: ["a", "b"]}'),
        ("enum {not_in: [0, 3]}", "enum {not_in: [0]}"),
        ("required: true string {max_len: 9}", "string {max_len: 9}"),
        ("string {email: true}", "ignore: IGNORE_IF_ZERO_VALUE string {email: true}"),
        ("string {max_len: 9}", "ignore: IGNORE_ALWAYS string {max_len: 1}"),
        ("string {max_len: 9}", None),
        ("string {max_len: 9}", 'string {max_len: 9 example: "x"}'),
        ("ignore: IGNORE_IF_ZERO_VALUE string {max_len: 9}", "string {max_len: 9}"),
    ],
)
def test_rules_that_accept_as_much_or_more_are_silent(base: str, head: str | None) -> None:
    assert changes(base, head) == []


def test_a_path_the_update_mask_no_longer_allows_is_its_own_finding() -> None:
    base = rules('field_mask {in: ["display_name", "email", "roles"]}')
    head = rules('field_mask {in: ["display_name", "roles"]}')

    assert tightened(base, head) == [
        ("UPDATE_MASK_PATH_REMOVED", "'field_mask.in' path 'email' no longer allowed")
    ]


@pytest.mark.parametrize(
    ("field", "head", "refused"),
    [
        (CREATE.fields_by_name["email"], "required: true", True),
        (CREATE.fields_by_name["email"], "string {min_len: 2}", True),
        (CREATE.fields_by_name["email"], "string {email: true}", True),
        (CREATE.fields_by_name["email"], 'string {pattern: "^[a-z]*$"}', False),
        (CREATE.fields_by_name["email"], "string {max_len: 35}", False),
        (
            CREATE.fields_by_name["email"],
            "ignore: IGNORE_IF_ZERO_VALUE string {email: true}",
            False,
        ),
        (LIST.fields_by_name["page_size"], "int32 {gt: 0}", True),
        (LIST.fields_by_name["page_size"], "int32 {gte: 0 lte: 100}", False),
        (LIST.fields_by_name["role"], "enum {defined_only: true}", False),
        (LIST.fields_by_name["role"], "enum {not_in: [0]}", True),
        (user_pb2.User.DESCRIPTOR.fields_by_name["roles"], "repeated {min_items: 1}", True),
        (user_pb2.User.DESCRIPTOR.fields_by_name["create_time"], "timestamp {lt_now: true}", False),
    ],
)
def test_a_new_field_breaks_the_callers_that_omit_it_only_when_its_rules_refuse_unset(
    field, head: str, refused: bool
) -> None:
    assert bool(refuses_unset(rules(head), field)) is refused


def policy(text: str) -> access_pb2.AccessPolicy:
    return text_format.Parse(text, access_pb2.AccessPolicy())


@pytest.mark.parametrize(
    ("base", "head", "expected"),
    [
        (
            'owner_field: "id" roles: ["admin"]',
            'roles: ["admin"]',
            ["owner_field 'id' removed: owners of the resource are refused"],
        ),
        ('roles: ["admin", "auditor"]', 'roles: ["admin"]', ["role 'auditor' no longer admitted"]),
        (
            "public: true",
            'roles: ["admin"]',
            ["'public' removed: callers without an access token are refused"],
        ),
        (
            "authenticated: true",
            'roles: ["admin"]',
            ["'authenticated' removed: callers are admitted only by role, ownership or service"],
        ),
        ('services: ["auth"]', 'services: ["gateway"]', ["service 'auth' no longer admitted"]),
        (
            'owner_field: "id"',
            'owner_field: "user.id"',
            [
                "owner_field changed from 'id' to 'user.id': "
                "the previous owners are no longer admitted"
            ],
        ),
        ('roles: ["admin"]', None, ["'access' removed: the RPC now refuses every caller"]),
        # Widening, or the same callers admitted another way, is silent.
        ('roles: ["admin"]', 'roles: ["admin", "auditor"]', []),
        ('owner_field: "id" roles: ["admin"]', "authenticated: true", []),
        ("authenticated: true", "public: true", []),
        (None, 'roles: ["admin"]', []),
    ],
)
def test_a_policy_narrows_when_a_caller_it_admitted_is_refused(
    base: str | None, head: str | None, expected: list[str]
) -> None:
    before = policy(base) if base is not None else None
    after = policy(head) if head is not None else None

    assert list(narrowed(before, after)) == expected


def test_a_finding_keeps_its_identity_when_its_message_is_reworded() -> None:
    before = identity("proto", "FIELD_NO_DELETE", "a.proto", 'Field "3" named "x" on "User" gone.')
    reworded = identity(
        "proto", "FIELD_NO_DELETE", "a.proto", "On 'User', field 'x' ('3') was removed"
    )

    assert before == reworded == "proto FIELD_NO_DELETE a.proto '3' 'User' 'x'"
    assert identity("proto", "FIELD_NO_DELETE", "a.proto", '"3" "y" "User"') != before


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "api").mkdir(exist_ok=True)
    (tmp_path / "api/breaking-acknowledged.yaml").write_text(text)
    return tmp_path


def test_acknowledgements_are_matched_by_identity_and_unmatched_ones_are_stale(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path,
        "acknowledged:\n"
        "  - finding: proto  ACCESS_NARROWED  a.B.C 'id'\n"
        "    reason: owners read themselves through GetMe now\n"
        "    ships_in: v2.0.0\n"
        "  - finding: proto FIELD_NO_DELETE a.proto '3'\n"
        "    reason: gone after its deprecation window\n"
        "    ships_in: v2.0.0\n",
    )
    narrowing = Reported("proto", "...", "proto ACCESS_NARROWED a.B.C 'id'")
    other = Reported("openapi", "...", "openapi PATH_REMOVED x /v1/y")
    enum = Reported("proto", "...", "proto ENUM_VALUE_ADDED a.E 'X'", warning=True)

    judged = judge([narrowing, other, enum], load_acknowledgements(root))

    assert [f for f, _ in judged.acknowledged] == [narrowing]
    assert judged.errors == [other]
    assert judged.warnings == [enum]
    assert judged.stale == [
        Acknowledgement(
            "proto FIELD_NO_DELETE a.proto '3'", "gone after its deprecation window", "v2.0.0"
        )
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "acknowledged:\n  - finding: x\n    ships_in: v2\n",
            "needs exactly finding, reason, ships_in",
        ),
        (
            "acknowledged:\n  - finding: x\n    reason: ' '\n    ships_in: v2\n",
            "reason must be non-empty",
        ),
        (
            "acknowledged:\n  - {finding: x, reason: r, ships_in: v2}\n"
            "  - {finding: x, reason: s, ships_in: v2}\n",
            "listed twice",
        ),
        ("acknowledged: {finding: x}\n", "expected one key"),
        (
            "acknowledged:\n  - {finding: x, reason: <why this break is intended>, ships_in: v2}\n",
            "fill in reason",
        ),
        ("acknowledged: [\n", "not YAML"),
    ],
)
def test_an_incomplete_acknowledgement_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(AcknowledgementError, match=problem):
        load_acknowledgements(write(tmp_path, text))


def test_the_committed_acknowledgements_file_reads() -> None:
    load_acknowledgements(Path(__file__).resolve().parents[2])
