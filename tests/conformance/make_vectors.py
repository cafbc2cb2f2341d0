"""Writes data/vectors.json: sample messages of the contracts as binary and proto3 JSON.

    .venv/bin/python tests/conformance/make_vectors.py   # after changing a sample below

Every language's runner decodes each vector from binary and from JSON and re-encodes it
both ways: the binary must come back byte for byte, the JSON equal as JSON. The samples
reach for the edges: unicode beyond the BMP, NUL and JSON's own escapes, empty messages
and empty-but-set fields, the contracts' maximum lengths, 32- and 64-bit extremes,
timestamps from year 1 to 9999 and before 1970, known, zero and unknown enum numbers,
field masks (empty too) and durations. The file is generated once and committed;
tests/conformance/test_vectors.py checks that it is what this script writes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from google.protobuf import duration_pb2, field_mask_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]

from acme.auth.v1 import auth_service_pb2 as auth
from acme.options.v1 import access_pb2 as options
from acme.user.v1 import user_pb2, user_service_pb2

OUT = Path(__file__).parent / "data" / "vectors.json"

UNICODE = (
    "Zoë Ωμέγα 日本語 עברית العربية "  # Latin-1, Greek, CJK, right-to-left
    "🚀👩‍💻🇫🇷 𝄞 "  # astral code points (UTF-16 surrogate pairs), a ZWJ sequence, flags
    'e\u0301 \u00a0\u2028\u2029 \t\n\r "quoted" \\ / \u0000 \u007f \ufeff \uffff'
)
UNKNOWN_ROLE = user_pb2.Role.ValueType(7)  # open enums keep numbers they do not know
USER_ID = "0b6f9a59-5c2a-4c51-9c3a-6f0f1d2e8a71"


def timestamp(seconds: int, nanos: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def at(text: str, nanos: int = 0) -> timestamp_pb2.Timestamp:
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return timestamp(int(moment.timestamp()), nanos)


def samples() -> Iterator[tuple[str, Message]]:
    yield (
        "user-typical",
        user_pb2.User(
            id=USER_ID,
            email="ada@example.com",
            display_name="Ada Lovelace",
            roles=[user_pb2.ROLE_ADMIN, user_pb2.ROLE_AUDITOR],
            create_time=at("2024-02-29T12:34:56", 789_000_000),
            update_time=at("2024-03-01T00:00:00", 1),
            etag="3975f08e69ed3859",
        ),
    )
    yield "user-empty", user_pb2.User()
    yield "user-unicode", user_pb2.User(email="ünïcødé@例え.jp", display_name=UNICODE, etag="ü")
    yield (
        "user-max-lengths",
        user_pb2.User(
            id=USER_ID,
            email="a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 61]),  # 254 characters
            display_name="🚀" * 100,  # 100 characters, 400 bytes of UTF-8
            roles=[user_pb2.ROLE_ADMIN] * 8,
            etag="f" * 64,
        ),
    )
    yield (
        "user-role-edges",
        user_pb2.User(roles=[user_pb2.ROLE_UNSPECIFIED, UNKNOWN_ROLE, user_pb2.ROLE_AUDITOR]),
    )
    yield (
        "user-time-edges",
        user_pb2.User(
            create_time=timestamp(-62135596800),  # 0001-01-01T00:00:00Z, the earliest
            update_time=timestamp(253402300799, 999_999_999),  # 9999-12-31T23:59:59.999999999Z
        ),
    )
    yield (
        "token-pair-time-edges",
        auth.TokenPair(
            access_token="eyJ" + "x" * 509,
            token_type="Bearer",
            access_token_expire_time=timestamp(0),  # set, all zero: the epoch
            refresh_token="r" * 512,
            refresh_token_expire_time=timestamp(-1, 500_000_000),  # half a second before 1970
        ),
    )
    yield (
        "login-response",
        auth.LoginResponse(
            tokens=auth.TokenPair(
                access_token="a.b.c",
                token_type="Bearer",
                access_token_expire_time=at("2026-12-06T12:25:22", 123_456_000),
                refresh_token="opaque",
                refresh_token_expire_time=at("2026-12-20T12:10:22"),
            )
        ),
    )
    yield (
        "create-user-request",
        user_service_pb2.CreateUserRequest(
            email="ada@example.com", display_name="Ada", password="correct horse battery"
        ),
    )
    yield (
        "update-user-request-mask",
        user_service_pb2.UpdateUserRequest(
            user=user_pb2.User(id=USER_ID, display_name="Ada Lovelace", etag="3975f08e69ed3859"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name", "email", "roles"]),
        ),
    )
    yield (
        "update-user-request-empty-mask",
        user_service_pb2.UpdateUserRequest(
            user=user_pb2.User(), update_mask=field_mask_pb2.FieldMask()
        ),
    )
    yield (
        "list-users-request-max",
        user_service_pb2.ListUsersRequest(
            page_size=2**31 - 1, page_token="t" * 512, role=user_pb2.ROLE_AUDITOR
        ),
    )
    yield (
        "list-users-request-negative",
        user_service_pb2.ListUsersRequest(
            page_size=-(2**31),  # ten bytes of varint
            role=user_pb2.Role.ValueType(99),  # an enum number no version knows
        ),
    )
    yield (
        "list-users-response",
        user_service_pb2.ListUsersResponse(
            users=[
                user_pb2.User(id=USER_ID, email="ada@example.com", display_name="Ada"),
                user_pb2.User(),  # an empty element still counts
                user_pb2.User(display_name="Bob", roles=[user_pb2.ROLE_AUDITOR]),
            ],
            next_page_token="eyJvIjoiMjAyNi0xMi0wNiJ9",
        ),
    )
    yield "delete-user-response-empty", user_service_pb2.DeleteUserResponse()
    yield "field-default-int64-max", options.FieldDefault(int_value=2**63 - 1)
    yield "field-default-int64-min", options.FieldDefault(int_value=-(2**63))
    yield "field-default-empty-string", options.FieldDefault(string_value="")  # set, empty
    yield "field-default-false", options.FieldDefault(bool_value=False)  # set, false
    yield (
        "access-policy",
        options.AccessPolicy(
            owner_field="user.id", roles=["admin", "auditor", ""], services=["auth"]
        ),
    )
    yield (
        "jwks-response",
        auth.GetJwksResponse(
            keys=[
                auth.JsonWebKey(
                    kty="EC",
                    kid="DUExViuyg8yITLLej7YNeHevp0iOpfEuuelVgofXn1o",
                    use="sig",
                    alg="ES256",
                    crv="P-256",
                    x="f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                    y="x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
                ),
                auth.JsonWebKey(
                    kty="OKP", crv="Ed25519", x="11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
                ),
            ]
        ),
    )
    yield (
        "bad-request",
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field="email",
                    description="must be a valid email address",
                    reason="string.email",
                ),
                error_details_pb2.BadRequest.FieldViolation(
                    field="user.roles[1]",
                    description="valeur répétée « 🚀 »",
                    reason="repeated.unique",
                ),
            ]
        ),
    )
    yield (
        "retry-info",
        error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=899, nanos=994_127_000)
        ),
    )
    yield (
        "retry-info-duration-edges",
        error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=315_576_000_000, nanos=999_999_999)
        ),
    )
    yield (
        "retry-info-negative",
        error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=-1, nanos=-500_000_000)
        ),
    )


def vectors() -> dict[str, object]:
    return {
        "about": (
            "Generated by tests/conformance/make_vectors.py (never edited by hand): each vector "
            "is a message of type 'type' as 'binary' (hex) and as proto3 JSON ('json')."
        ),
        "vectors": [
            {
                "name": name,
                "type": message.DESCRIPTOR.full_name,
                "binary": message.SerializeToString().hex(),
                "json": json.loads(json_format.MessageToJson(message)),
            }
            for name, message in samples()
        ],
    }


def render() -> str:
    return json.dumps(vectors(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT}\n")
