"""Bad input to acme.user.v1.UserService through the generated client, on a real server.

Every validation rule of the contract is broken by one row of ``BREACHES`` (a test walks
the descriptors and fails when a rule has no row); several broken rules are reported at
once; oversized messages are refused without harm; SQL metacharacters and any Unicode
round-trip exactly, while NUL characters and over-long names are refused by field.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from acme.options.v1 import access_pb2
from acme.user.v1 import user_pb2
from acme.user.v1 import user_service_pb2 as pb
from tests.e2e.user._rules import ContractRule, any_item, contract_rules, reported_violations
from tests.e2e.user._support import PASSWORD, UserApi, code_of, unique_email

USER_SERVICE = pb.DESCRIPTOR.services_by_name["UserService"]
SOME_ID = "3f1c9a2e-5b7d-4e8a-9c61-0d2f4b6a8e10"
MIB = 1024 * 1024
ADMIN, AUDITOR = user_pb2.ROLE_ADMIN, user_pb2.ROLE_AUDITOR
UNDEFINED_ROLE = user_pb2.Role.ValueType(3)


def email_of_length(length: int) -> str:
    return "a" * (length - len("@example.com")) + "@example.com"


def create(**fields: str) -> pb.CreateUserRequest:
    valid = {"email": "valid@example.com", "display_name": "Valid Name", "password": PASSWORD}
    return pb.CreateUserRequest(**(valid | fields))


def update(mask: tuple[str, ...] = ("display_name",), **user: Any) -> pb.UpdateUserRequest:
    given = user_pb2.User(**({"id": SOME_ID, "display_name": "Valid Name"} | user))
    return pb.UpdateUserRequest(user=given, update_mask=field_mask_pb2.FieldMask(paths=mask))


def verify(**fields: str) -> pb.VerifyCredentialsRequest:
    return pb.VerifyCredentialsRequest(**({"email": "valid@example.com", "password": "x"} | fields))


@dataclass(frozen=True)
class Breach:
    """A request to ``rpc`` that breaks ``rule`` on ``field`` (and only the rules in ``also``,
    when breaking it alone is impossible)."""

    rpc: str
    request: Message
    field: str
    rule: str
    also: frozenset[tuple[str, str]] = frozenset()

    @property
    def contract_rule(self) -> ContractRule:
        return ContractRule(rpc=self.rpc, field=any_item(self.field), rule=self.rule)

    def __str__(self) -> str:
        return f"{self.rpc}:{self.field}:{self.rule}"


BREACHES = [
    Breach("CreateUser", create(email=""), "email", "required"),
    Breach("CreateUser", create(email="not-an-email"), "email", "string.email"),
    Breach("CreateUser", create(email=email_of_length(255)), "email", "string.max_len"),
    Breach("CreateUser", create(display_name=""), "display_name", "required"),
    Breach("CreateUser", create(display_name="x" * 101), "display_name", "string.max_len"),
    Breach("CreateUser", create(password=""), "password", "required"),
    Breach("CreateUser", create(password="x" * 11), "password", "string.min_len"),
    Breach("CreateUser", create(password="x" * 129), "password", "string.max_len"),
    Breach("CreateUser", create(request_id="not-a-uuid"), "request_id", "string.uuid"),
    Breach("GetUser", pb.GetUserRequest(), "id", "required"),
    Breach("GetUser", pb.GetUserRequest(id="not-a-uuid"), "id", "string.uuid"),
    Breach("ListUsers", pb.ListUsersRequest(page_size=101), "page_size", "int32.gte_lte"),
    Breach("ListUsers", pb.ListUsersRequest(page_size=-1), "page_size", "int32.gte_lte"),
    Breach("ListUsers", pb.ListUsersRequest(page_token="t" * 513), "page_token", "string.max_len"),
    Breach("ListUsers", pb.ListUsersRequest(email="not-an-email"), "email", "string.email"),
    Breach("ListUsers", pb.ListUsersRequest(email=email_of_length(255)), "email", "string.max_len"),
    Breach("ListUsers", pb.ListUsersRequest(role=UNDEFINED_ROLE), "role", "enum.defined_only"),
    Breach(
        "UpdateUser", pb.UpdateUserRequest(update_mask=update().update_mask), "user", "required"
    ),
    Breach("UpdateUser", pb.UpdateUserRequest(user=update().user), "update_mask", "required"),
    Breach("UpdateUser", update(mask=("password",)), "update_mask", "field_mask.in"),
    Breach("UpdateUser", update(id="not-a-uuid"), "user.id", "string.uuid"),
    Breach("UpdateUser", update(email="not-an-email"), "user.email", "string.email"),
    Breach("UpdateUser", update(email=email_of_length(255)), "user.email", "string.max_len"),
    Breach("UpdateUser", update(display_name="x" * 101), "user.display_name", "string.max_len"),
    Breach("UpdateUser", update(etag="e" * 65), "user.etag", "string.max_len"),
    Breach(
        "UpdateUser",
        update(roles=[ADMIN, AUDITOR] * 4 + [ADMIN]),  # 9 items of 2 defined roles repeat
        "user.roles",
        "repeated.max_items",
        also=frozenset({("user.roles", "repeated.unique")}),
    ),
    Breach("UpdateUser", update(roles=[ADMIN, ADMIN]), "user.roles", "repeated.unique"),
    Breach(
        "UpdateUser", update(roles=[ADMIN, UNDEFINED_ROLE]), "user.roles[1]", "enum.defined_only"
    ),
    Breach(
        "UpdateUser",
        update(roles=[AUDITOR, user_pb2.ROLE_UNSPECIFIED]),
        "user.roles[1]",
        "enum.not_in",
    ),
    Breach("DeleteUser", pb.DeleteUserRequest(), "id", "required"),
    Breach("DeleteUser", pb.DeleteUserRequest(id="not-a-uuid"), "id", "string.uuid"),
    Breach("DeleteUser", pb.DeleteUserRequest(id=SOME_ID, etag="e" * 65), "etag", "string.max_len"),
    Breach("VerifyCredentials", verify(email=""), "email", "required"),
    Breach("VerifyCredentials", verify(email=email_of_length(255)), "email", "string.max_len"),
    Breach("VerifyCredentials", verify(password=""), "password", "required"),
    Breach("VerifyCredentials", verify(password="x" * 129), "password", "string.max_len"),
    Breach("GetSignInState", pb.GetSignInStateRequest(), "id", "required"),
    Breach("GetSignInState", pb.GetSignInStateRequest(id="not-a-uuid"), "id", "string.uuid"),
]


@dataclass(frozen=True)
class Overruled(Breach):
    """A rule no request breaks alone: the only values it refuses are answered first by
    ``answer`` (empty text is ``required``, or skipped by IGNORE_IF_ZERO_VALUE)."""

    answer: tuple[str, str] = ("", "")


OVERRULED = [
    Overruled(
        "CreateUser",
        create(display_name=""),
        "display_name",
        "string.min_len",
        answer=("display_name", "required"),
    ),
    Overruled(
        "UpdateUser",  # the contract skips an empty name; the service refuses to erase one
        update(display_name=""),
        "user.display_name",
        "string.min_len",
        answer=("user.display_name", "required"),
    ),
]


def admitted(api: UserApi, rpc: str) -> tuple[tuple[str, str], ...]:
    """Metadata of a caller the contract's access policy admits to ``rpc`` without
    ownership (an admin for owner-checked RPCs), so validation, not policy, answers."""
    policy = USER_SERVICE.methods_by_name[rpc].GetOptions().Extensions[access_pb2.access]
    if policy.public:
        return ()
    if policy.services:
        return api.as_service(policy.services[0])
    return api.as_user(str(uuid.uuid4()), *policy.roles[:1])


def refused(api: UserApi, rpc: str, request: Message) -> pytest.ExceptionInfo[grpc.RpcError]:
    """The error of ``request`` sent to ``rpc`` by an admitted caller; fails if it succeeds."""
    with pytest.raises(grpc.RpcError) as call:
        getattr(api.stub, rpc)(request, metadata=admitted(api, rpc), timeout=10)
    return call


def by_email(api: UserApi, email: str) -> list[user_pb2.User]:
    reply = api.stub.ListUsers(pb.ListUsersRequest(email=email), metadata=api.as_admin())
    return list(reply.users)


def read(api: UserApi, user_id: str) -> user_pb2.User:
    reply: pb.GetUserResponse = api.stub.GetUser(
        pb.GetUserRequest(id=user_id), metadata=api.as_admin()
    )
    return reply.user


# -- every rule of the contract ------------------------------------------------------------


@pytest.mark.parametrize("breach", BREACHES, ids=str)
def test_a_request_breaking_a_rule_is_refused_naming_that_field_and_rule(
    api: UserApi, breach: Breach
) -> None:
    call = refused(api, breach.rpc, breach.request)

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert reported_violations(call.value) == {(breach.field, breach.rule), *breach.also}


@pytest.mark.parametrize("overruled", OVERRULED, ids=str)
def test_a_rule_no_request_breaks_alone_is_answered_by_the_rule_that_implies_it(
    api: UserApi, overruled: Overruled
) -> None:
    call = refused(api, overruled.rpc, overruled.request)

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert reported_violations(call.value) == {overruled.answer}


def test_every_rule_of_the_contract_has_a_request_that_breaks_it() -> None:
    tested = {breach.contract_rule for breach in BREACHES + OVERRULED}

    missing = sorted(contract_rules(USER_SERVICE) - tested)

    assert not missing, "contract rules without a bad-input row:\n" + "\n".join(map(str, missing))


def test_every_row_of_the_table_breaks_a_rule_the_contract_states() -> None:
    stale = sorted({b.contract_rule for b in BREACHES + OVERRULED} - contract_rules(USER_SERVICE))

    assert not stale, "rows naming no rule of the contract:\n" + "\n".join(map(str, stale))


# -- several rules at once -----------------------------------------------------------------


def test_every_broken_rule_of_a_registration_is_reported_at_once(api: UserApi) -> None:
    request = create(email="not-an-email", display_name="x" * 101, password="short")

    call = refused(api, "CreateUser", request)

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert reported_violations(call.value) == {
        ("email", "string.email"),
        ("display_name", "string.max_len"),
        ("password", "string.min_len"),
    }
    message = call.value.details()
    assert all(field in message for field in ("email", "display_name", "password"))


def test_every_broken_rule_of_an_update_is_reported_and_nothing_changes(api: UserApi) -> None:
    me = api.create(name="Unchanged")
    request = update(
        mask=("display_name", "password"),
        id=me.id,
        email="not-an-email",
        display_name="x" * 101,
        roles=[ADMIN, user_pb2.ROLE_UNSPECIFIED, UNDEFINED_ROLE],
    )

    call = refused(api, "UpdateUser", request)

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert reported_violations(call.value) == {
        ("update_mask", "field_mask.in"),
        ("user.email", "string.email"),
        ("user.display_name", "string.max_len"),
        ("user.roles[1]", "enum.not_in"),
        ("user.roles[2]", "enum.defined_only"),
    }
    assert read(api, me.id) == me


# -- oversized and malformed messages ------------------------------------------------------

OVER_THE_LIMIT = 4 * MIB + 1  # the server's default max receive size is 4 MiB
LONG_TEXT_FIELDS = pytest.mark.parametrize(
    ("rpc", "field"),
    [("CreateUser", "display_name"), ("VerifyCredentials", "password")],
    ids=["CreateUser", "VerifyCredentials"],
)


def with_text(rpc: str, email: str, field: str, text: str) -> Message:
    """A valid request to ``rpc`` whose ``field`` is ``text``."""
    build = {"CreateUser": create, "VerifyCredentials": verify}[rpc]
    return build(email=email, **{field: text})


@LONG_TEXT_FIELDS
def test_a_request_over_the_size_limit_is_refused_and_the_server_keeps_answering(
    api: UserApi, rpc: str, field: str
) -> None:
    email = unique_email("huge")

    call = refused(api, rpc, with_text(rpc, email, field, "x" * OVER_THE_LIMIT))

    assert code_of(call) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert by_email(api, email) == []
    assert api.create(email).email == email
    assert api.health() == health_pb2.HealthCheckResponse.SERVING


@LONG_TEXT_FIELDS
def test_a_large_request_under_the_size_limit_is_refused_by_the_contract_length_rule(
    api: UserApi, rpc: str, field: str
) -> None:
    call = refused(api, rpc, with_text(rpc, unique_email("large"), field, "x" * (3 * MIB)))

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert reported_violations(call.value) == {(field, "string.max_len")}


def malformed(valid: bytes, case: str) -> bytes:
    if case == "invalid-utf8":
        return valid.replace(b"MARK", b"\xff\xfe\xed\xa0")  # not UTF-8; the length holds
    return valid[:-1]  # the last field ends before its declared length


@pytest.mark.parametrize("case", ["invalid-utf8", "truncated"])
def test_bytes_that_are_no_valid_request_are_refused_leaking_nothing_and_storing_nothing(
    api: UserApi, case: str
) -> None:
    email = unique_email("bytes")
    valid = create(email=email, display_name="MARK").SerializeToString()
    send_bytes = api.channel.unary_unary("/acme.user.v1.UserService/CreateUser")

    with pytest.raises(grpc.RpcError) as call:
        send_bytes(malformed(valid, case), timeout=10)

    assert "Traceback" not in call.value.details()
    assert by_email(api, email) == []
    assert api.create(email).email == email


# -- SQL metacharacters --------------------------------------------------------------------

SQL_NAMES = [
    "O'Brien",
    "'; DROP TABLE users;--",
    "Robert'); DROP TABLE users; --",
    "x' OR '1'='1",
    '"double" "quotes"',
    "100% _real_ %_%",
    "back\\slash \\' \\\\ \\%",
    "name', display_name='pwned",
]
SQL_LOCAL_PARTS = ["o'brien", "x'or'1'='1", "'--", "admin'/**/--", "%", "_", "100%", "a%b_c"]
REFUSED_LOCAL_PARTS = ["'; DROP TABLE users;--", "back\\slash", "semi;colon", '"quoted"']


def every_user_id(api: UserApi) -> set[str]:
    ids: set[str] = set()
    token = ""
    while True:
        page = api.stub.ListUsers(
            pb.ListUsersRequest(page_size=100, page_token=token), metadata=api.as_admin()
        )
        ids |= {user.id for user in page.users}
        token = page.next_page_token
        if not token:
            return ids


@pytest.mark.parametrize("name", SQL_NAMES)
def test_a_display_name_that_looks_like_sql_is_stored_exactly_as_given(
    api: UserApi, name: str
) -> None:
    created = api.create(unique_email("sql"), name=name)

    assert created.display_name == name
    assert read(api, created.id).display_name == name
    assert [user.display_name for user in by_email(api, created.email)] == [name]


@pytest.mark.parametrize("name", SQL_NAMES)
def test_a_rename_that_looks_like_sql_changes_that_user_only(api: UserApi, name: str) -> None:
    me, bystander = api.create(name="Me"), api.create(name="Bystander")

    api.stub.UpdateUser(update(id=me.id, display_name=name), metadata=api.as_user(me))

    assert read(api, me.id).display_name == name
    assert read(api, bystander.id) == bystander


def test_the_users_table_keeps_working_after_input_that_looks_like_sql(api: UserApi) -> None:
    hostile = {api.create(unique_email("drop"), name=name).id for name in SQL_NAMES}
    hostile |= {
        api.create(f"{local}@{uuid.uuid4().hex[:12]}.example.com").id for local in ("%", "_")
    }

    later = api.create(name="After the storm")

    assert hostile | {later.id} <= every_user_id(api)
    assert read(api, later.id).display_name == "After the storm"


@pytest.mark.parametrize("local", SQL_LOCAL_PARTS)
def test_an_email_that_looks_like_sql_round_trips_and_signs_in(api: UserApi, local: str) -> None:
    email = f"{local}@{uuid.uuid4().hex[:12]}.example.com"

    created = api.create(email)
    verified = api.stub.VerifyCredentials(
        pb.VerifyCredentialsRequest(email=email, password=PASSWORD),
        metadata=api.as_service("auth"),
        timeout=10,
    ).user

    assert created.email == email
    assert read(api, created.id).email == email
    assert [user.id for user in by_email(api, email)] == [created.id]
    assert verified.id == created.id


@pytest.mark.parametrize("local", REFUSED_LOCAL_PARTS)
def test_an_email_the_email_rule_refuses_is_an_invalid_argument_not_an_error(
    api: UserApi, local: str
) -> None:
    call = refused(api, "CreateUser", create(email=f"{local}@example.com"))

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert reported_violations(call.value) == {("email", "string.email")}


def test_a_list_filter_with_like_wildcards_matches_only_that_exact_email(api: UserApi) -> None:
    domain = f"{uuid.uuid4().hex[:12]}.example.com"
    for local in ("alice", "axb", "a_b", "%", "100"):
        api.create(f"{local}@{domain}")
    filters = ["%", "a_b", "a%", "_lice", "%%", "___", "1%"]

    found = {
        wildcard: [user.email for user in by_email(api, f"{wildcard}@{domain}")]
        for wildcard in filters
    }

    assert found == {
        "%": [f"%@{domain}"],
        "a_b": [f"a_b@{domain}"],
        "a%": [],
        "_lice": [],
        "%%": [],
        "___": [],
        "1%": [],
    }


# -- Unicode -------------------------------------------------------------------------------

UNICODE_NAMES = [
    pytest.param("Zoe\u0308 Ame\u0301lie Nun\u0303ez", id="combining-marks"),
    pytest.param(
        "Ada \U0001f469\U0001f3fd\u200d\U0001f4bb \U0001f1fa\U0001f1e6 \u2764\ufe0f", id="emoji"
    ),
    pytest.param("\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627", id="right-to-left"),
    pytest.param("\u202eAda\u202c \u200fLovelace", id="bidi-controls"),
    pytest.param(
        "\uff21\uff24\uff21\u3000\uff2c\uff4f\uff56\uff45\uff4c\uff41\uff43\uff45", id="full-width"
    ),
    pytest.param("\U0002070e\U00020731 \u674e\u5c0f\u9f8d", id="cjk-beyond-the-bmp"),
]


@pytest.mark.parametrize("name", UNICODE_NAMES)
def test_a_display_name_in_any_script_round_trips_exactly(api: UserApi, name: str) -> None:
    created = api.create(unique_email("unicode"), name=name)

    assert created.display_name == name
    assert read(api, created.id).display_name == name
    assert [user.display_name for user in by_email(api, created.email)] == [name]


@pytest.mark.parametrize("name", UNICODE_NAMES)
def test_a_rename_in_any_script_round_trips_exactly(api: UserApi, name: str) -> None:
    me = api.create(name="Plain")

    renamed = api.stub.UpdateUser(update(id=me.id, display_name=name), metadata=api.as_user(me))

    assert renamed.user.display_name == name
    assert read(api, me.id).display_name == name


def test_an_email_differing_only_in_letter_case_is_already_taken(api: UserApi) -> None:
    email = f"Mixed.Case-{uuid.uuid4().hex[:10]}@Example.COM"
    api.create(email)
    codes = []

    for variant in (email.lower(), email.upper(), email.swapcase()):
        with pytest.raises(grpc.RpcError) as call:
            api.create(variant)
        codes.append(code_of(call))

    assert codes == [grpc.StatusCode.ALREADY_EXISTS] * 3
    assert [user.email for user in by_email(api, email)] == [email]


def test_changing_an_email_to_another_users_in_other_letter_case_is_already_taken(
    api: UserApi,
) -> None:
    taken, me = api.create(unique_email("Taken")), api.create()

    with pytest.raises(grpc.RpcError) as call:
        api.stub.UpdateUser(
            update(mask=("email",), id=me.id, email=taken.email.upper()), metadata=api.as_user(me)
        )

    assert code_of(call) == grpc.StatusCode.ALREADY_EXISTS
    assert read(api, me.id).email == me.email


@pytest.mark.parametrize(
    "name", ["Ada\x00", "\x00", "Ada\x00Lovelace"], ids=["end", "only", "middle"]
)
def test_a_display_name_with_a_nul_character_is_refused_naming_the_field(
    api: UserApi, name: str
) -> None:
    email = unique_email("nul")

    call = refused(api, "CreateUser", create(email=email, display_name=name))

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert {field for field, _ in reported_violations(call.value)} == {"display_name"}
    assert by_email(api, email) == []


def test_a_rename_with_a_nul_character_is_refused_naming_the_field(api: UserApi) -> None:
    me = api.create(name="Before")

    call = refused(api, "UpdateUser", update(id=me.id, display_name="After\x00"))

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert {field for field, _ in reported_violations(call.value)} == {"user.display_name"}
    assert read(api, me.id).display_name == "Before"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("\U0001f600" * 100, id="100-emoji"),
        pytest.param("e\u0301" * 50, id="50-accented-letters-of-2-code-points"),
    ],
)
def test_a_display_name_of_100_code_points_is_accepted_however_many_bytes_it_takes(
    api: UserApi, name: str
) -> None:
    created = api.create(unique_email("long"), name=name)

    assert read(api, created.id).display_name == name


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("\U0001f600" * 101, id="101-emoji"),
        pytest.param("e\u0301" * 50 + "e", id="51-letters-of-101-code-points"),
    ],
)
def test_a_display_name_of_101_code_points_is_refused_however_few_characters_it_shows(
    api: UserApi, name: str
) -> None:
    call = refused(api, "CreateUser", create(email=unique_email("long"), display_name=name))

    assert code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert reported_violations(call.value) == {("display_name", "string.max_len")}
