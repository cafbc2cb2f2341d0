"""The reading use cases through the service's own units of work, on both databases.

GetUser, ListUsers and VerifyCredentials read outside any transaction (a read-only unit
of work, its point reads compiled once); they must see exactly what the writes committed.
These tests commit for real, so each one runs on a fresh database of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servicekit.config import Secret
from servicekit.db import Database, DatabaseSettings, upgrade
from services.user.contract import contract_update_mask
from services.user.domain import Actor, InvalidCredentials, UserChanges, UserNotFound
from services.user.models import MIGRATIONS_DIR
from services.user.pagination import PageLimits
from services.user.passwords import Passwords
from services.user.service import UserService
from services.user.unit_of_work import SqlAlchemyUserUnitOfWork

PASSWORD = "correct horse battery staple"


@pytest.fixture
def service(empty_database_url: str, passwords: Passwords) -> Iterator[UserService]:
    upgrade(empty_database_url, MIGRATIONS_DIR)
    database = Database(DatabaseSettings(url=Secret(empty_database_url)), pool_size=2)
    yield UserService(
        unit_of_work=lambda: SqlAlchemyUserUnitOfWork(database),
        passwords=passwords,
        page_limits=PageLimits(default=3, maximum=5),
        update_mask=contract_update_mask(),
    )
    database.dispose()


def test_reads_see_every_committed_write_and_nothing_else(service: UserService) -> None:
    ada = service.create_user(email="Ada@Example.org", display_name="Ada", password=PASSWORD)
    bob = service.create_user(email="bob@example.org", display_name="Bob", password=PASSWORD)
    renamed = service.update_user(
        ada.id,
        changes=UserChanges(display_name="Ada L."),
        paths=["display_name"],
        etag=ada.etag,
        actor=Actor(subject=ada.id),
    )
    service.delete_user(bob.id, etag=None)

    read = service.get_user(ada.id)
    page = service.list_users(page_size=0, page_token="", email=None, role=None)
    signed_in = service.verify_credentials(email="ADA@example.org", password=PASSWORD)

    assert read == renamed
    assert read.create_time.tzinfo is not None
    assert read.create_time == ada.create_time
    assert [user.id for user in page.users] == [ada.id]
    assert signed_in == renamed
    with pytest.raises(UserNotFound):
        service.get_user(bob.id)
    with pytest.raises(InvalidCredentials):
        service.verify_credentials(email="bob@example.org", password=PASSWORD)


def test_a_wrong_password_or_unknown_email_is_refused_alike(service: UserService) -> None:
    service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    with pytest.raises(InvalidCredentials):
        service.verify_credentials(email="ada@example.org", password="wrong " + PASSWORD)
    with pytest.raises(InvalidCredentials):
        service.verify_credentials(email="nobody@example.org", password=PASSWORD)
