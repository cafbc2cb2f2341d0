"""Unique emails are the database's promise: concurrent creates cannot both win.

These tests commit for real (separate sessions on separate threads), so each one runs on a
fresh database of its own rather than in a rolled-back session.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from servicekit.config import Secret
from servicekit.db import Database, DatabaseSettings, upgrade
from services.user.contract import contract_update_mask
from services.user.domain import EmailTaken, User, email_key
from services.user.models import MIGRATIONS_DIR, users
from services.user.pagination import PageLimits
from services.user.passwords import Passwords
from services.user.service import UserService
from services.user.unit_of_work import SqlAlchemyUserUnitOfWork

PASSWORD = "correct horse battery staple"


@pytest.fixture
def database(empty_database_url: str) -> Iterator[Database]:
    upgrade(empty_database_url, MIGRATIONS_DIR)
    settings = DatabaseSettings(url=Secret(empty_database_url), pool_timeout_seconds=5.0)
    opened = Database(settings, pool_size=4)
    yield opened
    opened.dispose()


@pytest.fixture
def service(database: Database, passwords: Passwords) -> UserService:
    return UserService(
        unit_of_work=lambda: SqlAlchemyUserUnitOfWork(database),
        passwords=passwords,
        page_limits=PageLimits(default=3, maximum=5),
        update_mask=contract_update_mask(),
    )


def live_users_with(database: Database, email: str) -> int:
    statement = (
        select(func.count())
        .select_from(users)
        .where(users.c.email_key == email_key(email), users.c.delete_time.is_(None))
    )
    with database.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def new_user(email: str, display_name: str) -> User:
    now = datetime.now(UTC)
    return User(
        id=str(uuid.uuid4()),
        email=email,
        email_key=email_key(email),
        display_name=display_name,
        roles=frozenset(),
        password_hash="$argon2id$not-used-here",
        create_time=now,
        update_time=now,
    )


@pytest.mark.parametrize("round_", range(5))
def test_two_concurrent_creates_of_one_email_give_one_user_and_one_email_taken(
    service: UserService, database: Database, round_: int
) -> None:
    email = f"race{round_}@example.org"
    start = threading.Barrier(2)

    def create(spelling: str) -> User | EmailTaken:
        start.wait()
        try:
            return service.create_user(email=spelling, display_name="Racer", password=PASSWORD)
        except EmailTaken as taken:
            return taken

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(create, [email, email.upper()]))

    assert sorted(type(result).__name__ for result in results) == ["EmailTaken", "User"]
    assert live_users_with(database, email) == 1


def test_a_create_waiting_on_an_uncommitted_one_of_the_same_email_gets_email_taken(
    service: UserService, database: Database
) -> None:
    winner, loser = new_user("ada@example.org", "Ada"), new_user("ADA@example.org", "Eve")

    def add_and_commit(user: User) -> None:
        with SqlAlchemyUserUnitOfWork(database) as uow:
            uow.users.add(user)
            uow.commit()

    with ThreadPoolExecutor(max_workers=1) as pool, SqlAlchemyUserUnitOfWork(database) as first:
        first.users.add(winner)
        second = pool.submit(add_and_commit, loser)
        time.sleep(0.3)
        assert not second.done()  # it waits on the first transaction's uncommitted row
        first.commit()
        assert isinstance(second.exception(timeout=10), EmailTaken)

    assert live_users_with(database, "ada@example.org") == 1
    assert service.get_user(winner.id).display_name == "Ada"
