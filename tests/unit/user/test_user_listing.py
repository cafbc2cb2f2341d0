"""ListUsers: keyset pages that stay correct while users come and go, filters, tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest

from servicekit.errors import InvalidArgument
from services.user.domain import Actor, Role, User, UserChanges
from services.user.pagination import PageLimits, PageTokens, Position, UserFilter
from services.user.service import UserService

PASSWORD = "correct horse battery staple"
ADMIN = Actor(subject="00000000-0000-4000-8000-00000000000a", roles=frozenset({Role.ADMIN}))


def create(service: UserService, count: int, prefix: str = "user") -> list[User]:
    return [
        service.create_user(
            email=f"{prefix}{n}@example.org", display_name=f"{prefix} {n}", password=PASSWORD
        )
        for n in range(count)
    ]


def everything(service: UserService, *, page_size: int = 2, **filters: object) -> list[str]:
    emails: list[str] = []
    token = ""
    while True:
        page = service.list_users(
            page_size=page_size,
            page_token=token,
            email=filters.get("email"),  # type: ignore[arg-type]
            role=filters.get("role"),  # type: ignore[arg-type]
        )
        emails += [user.email for user in page.users]
        token = page.next_page_token
        if not token:
            return emails


def test_users_are_listed_oldest_first_in_pages(service: UserService) -> None:
    users = create(service, 5)

    first = service.list_users(page_size=2, page_token="", email=None, role=None)

    assert [u.id for u in first.users] == [u.id for u in users[:2]]
    assert everything(service) == [u.email for u in users]


def test_the_last_page_has_no_next_token(service: UserService) -> None:
    create(service, 4)

    first = service.list_users(page_size=2, page_token="", email=None, role=None)
    last = service.list_users(page_size=2, page_token=first.next_page_token, email=None, role=None)

    assert len(last.users) == 2
    assert last.next_page_token == ""


def test_an_empty_list_is_one_empty_page(service: UserService) -> None:
    page = service.list_users(page_size=0, page_token="", email=None, role=None)

    assert page.users == ()
    assert page.next_page_token == ""


def test_users_created_between_pages_never_repeat_or_hide_existing_ones(
    service: UserService,
) -> None:
    existing = create(service, 6)
    seen: list[str] = []
    token = ""
    for round_ in range(10):
        page = service.list_users(page_size=2, page_token=token, email=None, role=None)
        seen += [u.id for u in page.users]
        create(service, 1, prefix=f"late{round_}-")
        token = page.next_page_token
        if not token:
            break

    assert len(seen) == len(set(seen))
    assert {u.id for u in existing} <= set(seen)


def test_users_deleted_between_pages_never_shift_the_others(service: UserService) -> None:
    users = create(service, 7)
    first = service.list_users(page_size=3, page_token="", email=None, role=None)
    for gone in (users[0], users[2], users[3]):  # before and at the page boundary
        service.delete_user(gone.id, etag=None)

    rest = service.list_users(page_size=3, page_token=first.next_page_token, email=None, role=None)

    assert [u.id for u in rest.users] == [users[4].id, users[5].id, users[6].id]


def test_a_page_size_of_zero_gives_the_default(service: UserService) -> None:
    create(service, 6)

    page = service.list_users(page_size=0, page_token="", email=None, role=None)

    assert len(page.users) == 3  # the service fixture's default


def test_a_page_size_over_the_maximum_gives_the_maximum(service: UserService) -> None:
    create(service, 7)

    page = service.list_users(page_size=1000, page_token="", email=None, role=None)

    assert len(page.users) == 5  # the service fixture's maximum


def test_page_limits_need_a_positive_default_within_the_maximum() -> None:
    with pytest.raises(ValueError, match="default"):
        PageLimits(default=0, maximum=10)
    with pytest.raises(ValueError, match="default"):
        PageLimits(default=20, maximum=10)


def test_the_email_filter_ignores_letter_case(service: UserService) -> None:
    create(service, 3)

    assert everything(service, email="USER1@example.ORG") == ["user1@example.org"]


def test_the_role_filter_lists_only_holders_of_the_role(service: UserService) -> None:
    users = create(service, 4)
    for user in (users[1], users[3]):
        service.update_user(
            user.id,
            changes=UserChanges(roles=frozenset({Role.AUDITOR})),
            paths=["roles"],
            etag="",
            actor=ADMIN,
        )

    assert everything(service, role=Role.AUDITOR) == [users[1].email, users[3].email]
    assert everything(service, role=Role.ADMIN) == []


def test_a_token_is_refused_with_other_filters(service: UserService) -> None:
    create(service, 4)
    first = service.list_users(page_size=2, page_token="", email=None, role=None)

    with pytest.raises(InvalidArgument) as caught:
        service.list_users(
            page_size=2, page_token=first.next_page_token, email=None, role=Role.ADMIN
        )

    assert [v.field for v in caught.value.violations] == ["page_token"]


def test_the_page_size_may_change_between_pages(service: UserService) -> None:
    users = create(service, 5)
    first = service.list_users(page_size=1, page_token="", email=None, role=None)

    rest = service.list_users(page_size=5, page_token=first.next_page_token, email=None, role=None)

    assert [u.id for u in rest.users] == [u.id for u in users[1:]]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2],
        lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:],
        lambda t: t + "AAAA",
        lambda t: "not a token!",
        lambda t: base64.urlsafe_b64encode(b'{"v":1,"t":0,"i":"x","f":""}').decode(),
        lambda t: "%%%%",
    ],
)
def test_a_tampered_token_is_refused_as_an_invalid_page_token(service: UserService, tamper) -> None:
    create(service, 4)
    token = service.list_users(page_size=2, page_token="", email=None, role=None).next_page_token

    with pytest.raises(InvalidArgument) as caught:
        service.list_users(page_size=2, page_token=tamper(token), email=None, role=None)

    assert [v.field for v in caught.value.violations] == ["page_token"]
    assert caught.value.message.startswith("page_token: ")


def test_a_token_is_opaque_and_short(service: UserService) -> None:
    create(service, 4)

    token = service.list_users(page_size=2, page_token="", email=None, role=None).next_page_token

    assert len(token) <= 512
    assert "example.org" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_token_forged_with_an_unkeyed_mac_is_refused(service: UserService) -> None:
    users = create(service, 4)
    fields = {"v": 1, "t": 0, "i": users[0].id, "f": UserFilter().fingerprint()}
    payload = json.dumps(fields, separators=(",", ":")).encode()
    unkeyed = hashlib.blake2b(payload, digest_size=12).digest()  # what anyone can compute
    forged = base64.urlsafe_b64encode(unkeyed + payload).decode().rstrip("=")

    with pytest.raises(InvalidArgument) as caught:
        service.list_users(page_size=2, page_token=forged, email=None, role=None)

    assert [v.field for v in caught.value.violations] == ["page_token"]


def test_page_tokens_need_a_key_and_read_only_their_own_keys_tokens(
    service: UserService,
) -> None:
    create(service, 4)
    first = PageTokens(b"the secret every replica shares")
    same = PageTokens(b"the secret every replica shares")
    other = PageTokens(b"another deployment's secret")
    position = Position(create_time=datetime(2024, 5, 1, tzinfo=UTC), id="x")
    token = first.encode(position, UserFilter())

    assert same.decode(token, UserFilter()) == position
    with pytest.raises(InvalidArgument):
        other.decode(token, UserFilter())
    with pytest.raises(ValueError, match="key"):
        PageTokens(b"")
