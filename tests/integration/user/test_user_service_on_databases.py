"""The use cases on real databases: what the database itself must guarantee."""

from __future__ import annotations

import pytest

from services.user.domain import (
    Actor,
    EmailTaken,
    InvalidCredentials,
    Role,
    StaleEtag,
    UserChanges,
    UserNotFound,
)
from services.user.service import UserService

PASSWORD = "correct horse battery staple"
ADMIN = Actor(subject="00000000-0000-4000-8000-00000000000a", roles=frozenset({Role.ADMIN}))


@pytest.mark.parametrize("again", ["ADA@EXAMPLE.ORG", "Ada@example.org", "\uff21da@example.org"])
def test_an_email_differing_only_in_letter_case_is_taken(
    user_service: UserService, again: str
) -> None:
    user_service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    with pytest.raises(EmailTaken):
        user_service.create_user(email=again, display_name="Eve", password=PASSWORD)


def test_a_stale_etag_changes_nothing_in_the_database(user_service: UserService) -> None:
    ada = user_service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)
    renamed = user_service.update_user(
        ada.id,
        changes=UserChanges(display_name="Ada L."),
        paths=["display_name"],
        etag="",
        actor=ADMIN,
    )

    with pytest.raises(StaleEtag):
        user_service.update_user(
            ada.id,
            changes=UserChanges(display_name="Eve", roles=frozenset({Role.ADMIN})),
            paths=["display_name", "roles"],
            etag=ada.etag,
            actor=ADMIN,
        )

    assert user_service.get_user(ada.id) == renamed


def test_pages_stay_correct_while_users_come_and_go(user_service: UserService) -> None:
    existing = [
        user_service.create_user(email=f"u{n}@example.org", display_name=f"U{n}", password=PASSWORD)
        for n in range(7)
    ]
    seen: list[str] = []
    token = ""
    for round_ in range(10):
        page = user_service.list_users(page_size=2, page_token=token, email=None, role=None)
        seen += [user.id for user in page.users]
        user_service.create_user(
            email=f"late{round_}@example.org", display_name="Late", password=PASSWORD
        )
        if round_ == 0:  # delete one already served and one not served yet
            user_service.delete_user(existing[0].id, etag=None)
            user_service.delete_user(existing[4].id, etag=None)
        token = page.next_page_token
        if not token:
            break

    expected = [u.id for n, u in enumerate(existing) if n != 4]
    assert len(seen) == len(set(seen))
    assert seen[: len(expected)] == expected


def test_a_deleted_user_is_not_found_and_cannot_sign_in(user_service: UserService) -> None:
    ada = user_service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    user_service.delete_user(ada.id, etag=ada.etag)

    with pytest.raises(UserNotFound):
        user_service.get_user(ada.id)
    with pytest.raises(InvalidCredentials):
        user_service.verify_credentials(email="ada@example.org", password=PASSWORD)


def test_unicode_names_and_emails_survive_every_use_case(user_service: UserService) -> None:
    email, name = (
        "Jos\u00e9.\u00dftra\u00dfe@example.org",
        "Zo\u00eb \U0001f469\u200d\U0001f4bb \u202eabc",
    )
    user = user_service.create_user(email=email, display_name=name, password=PASSWORD)

    listed = user_service.list_users(
        page_size=5, page_token="", email="jos\u00e9.SSTRASSE@example.org", role=None
    )

    assert [u.display_name for u in listed.users] == [name]
    assert user_service.verify_credentials(email=email.upper(), password=PASSWORD) == user
