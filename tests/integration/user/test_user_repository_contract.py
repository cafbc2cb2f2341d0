"""One contract, three stores: the fake and the SQLAlchemy repository on PostgreSQL and SQLite.

Every test runs against each implementation, so the fake the unit tests trust behaves as
the databases do: unique live emails, invisible deleted users, version checks, list order.
The SQLAlchemy repository runs on a session, and on a bare connection as a read-only unit
of work gives it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from servicekit.testing.databases import rolled_back_session
from services.user.domain import EmailTaken, Role, StaleEtag, User, UserNotFound, email_key
from services.user.pagination import Position, UserFilter
from services.user.repository import SqlAlchemyUserRepository, UserRepository
from tests.unit.user.fakes import FakeUserRepository

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
ALL = UserFilter()


@pytest.fixture(
    params=[
        "fake",
        "postgresql",
        "sqlite",
        "postgresql-connection",
        "sqlite-connection",
    ]
)
def repository(request: pytest.FixtureRequest, migrated_engine_for) -> Iterator[UserRepository]:
    if request.param == "fake":
        yield FakeUserRepository()
        return
    kind, _, on = request.param.partition("-")
    engine = migrated_engine_for(kind)
    if on == "connection":
        with engine.connect() as connection:  # never committed: rolled back on close
            yield SqlAlchemyUserRepository(connection)
        return
    with rolled_back_session(engine) as session:
        yield SqlAlchemyUserRepository(session)


def make_user(n: int, **changes: Any) -> User:
    email = f"user{n}@example.org"
    user = User(
        id=f"00000000-0000-4000-8000-{n:012d}",
        email=email,
        email_key=email_key(email),
        display_name=f"User {n}",
        roles=frozenset(),
        password_hash=f"$argon2id$hash-{n}",
        create_time=T0 + timedelta(seconds=n),
        update_time=T0 + timedelta(seconds=n),
    )
    return dataclasses.replace(user, **changes)


def newer(user: User, **changes: Any) -> User:
    return dataclasses.replace(
        user, version=user.version + 1, update_time=user.update_time + timedelta(hours=1), **changes
    )


def ids(users: list[User]) -> list[str]:
    return [user.id for user in users]


def test_an_added_user_reads_back_field_for_field(repository: UserRepository) -> None:
    user = make_user(1, roles=frozenset({Role.ADMIN, Role.AUDITOR}), version=7)
    repository.add(user)

    read = repository.get(user.id)

    assert read == user
    assert read is not None
    assert read.create_time.tzinfo is not None
    assert read.create_time.utcoffset() == timedelta(0)


def test_an_unknown_id_finds_nothing(repository: UserRepository) -> None:
    assert repository.get("00000000-0000-4000-8000-999999999999") is None


def test_a_user_is_found_by_email_key(repository: UserRepository) -> None:
    user = make_user(1, email="Ada@Example.org", email_key="ada@example.org")
    repository.add(user)

    assert repository.get_by_email_key("ada@example.org") == user
    assert repository.get_by_email_key("Ada@Example.org") is None


def test_a_second_live_user_with_the_same_email_key_is_refused(
    repository: UserRepository,
) -> None:
    first = make_user(1)
    repository.add(first)

    with pytest.raises(EmailTaken):
        repository.add(make_user(2, email="USER1@example.org", email_key=first.email_key))

    assert repository.get(first.id) == first
    assert repository.get(make_user(2).id) is None
    repository.add(make_user(3))  # the store is still usable after the conflict
    assert ids(repository.list_page(ALL, after=None, limit=10)) == [first.id, make_user(3).id]


def test_a_deleted_user_is_invisible_and_frees_its_email(repository: UserRepository) -> None:
    old = make_user(1)
    repository.add(old)

    repository.soft_delete(old.id, expected_version=None, when=T0 + timedelta(days=1))
    repository.add(make_user(2, email_key=old.email_key))

    assert repository.get(old.id) is None
    assert repository.get_by_email_key(old.email_key) == make_user(2, email_key=old.email_key)
    assert ids(repository.list_page(ALL, after=None, limit=10)) == [make_user(2).id]


def test_users_are_listed_by_create_time_then_id(repository: UserRepository) -> None:
    same_time = T0 + timedelta(seconds=5)
    users = [make_user(3), make_user(9, create_time=same_time), make_user(4, create_time=same_time)]
    for user in users:
        repository.add(user)

    listed = repository.list_page(ALL, after=None, limit=10)

    assert ids(listed) == [make_user(3).id, make_user(4).id, make_user(9).id]


def test_a_page_starts_strictly_after_the_position(repository: UserRepository) -> None:
    same_time = T0 + timedelta(seconds=5)
    for n in (1, 2, 3):
        repository.add(make_user(n, create_time=same_time))
    repository.add(make_user(4))  # older than the position
    repository.add(make_user(6))  # newer

    after = Position(create_time=same_time, id=make_user(2).id)
    listed = repository.list_page(ALL, after=after, limit=10)

    assert ids(listed) == [make_user(3).id, make_user(6).id]


def test_a_page_holds_at_most_the_limit(repository: UserRepository) -> None:
    for n in range(5):
        repository.add(make_user(n))

    assert ids(repository.list_page(ALL, after=None, limit=2)) == ids([make_user(0), make_user(1)])


def test_lists_filter_by_email_key_and_by_role(repository: UserRepository) -> None:
    admin = make_user(1, roles=frozenset({Role.ADMIN}))
    both = make_user(2, roles=frozenset({Role.ADMIN, Role.AUDITOR}))
    auditor = make_user(3, roles=frozenset({Role.AUDITOR}))
    for user in (admin, both, auditor, make_user(4)):
        repository.add(user)

    def listed(filter_: UserFilter) -> list[str]:
        return ids(repository.list_page(filter_, after=None, limit=10))

    assert listed(UserFilter(role=Role.ADMIN)) == [admin.id, both.id]
    assert listed(UserFilter(role=Role.AUDITOR)) == [both.id, auditor.id]
    assert listed(UserFilter(email_key=both.email_key)) == [both.id]
    assert listed(UserFilter(email_key=both.email_key, role=Role.AUDITOR)) == [both.id]
    assert listed(UserFilter(email_key=admin.email_key, role=Role.AUDITOR)) == []


def test_an_update_at_the_expected_version_is_stored(repository: UserRepository) -> None:
    user = make_user(1)
    repository.add(user)
    changed = newer(user, display_name="Renamed", roles=frozenset({Role.AUDITOR}))

    repository.update(changed, expected_version=user.version)

    assert repository.get(user.id) == changed


def test_an_update_at_a_stale_version_changes_nothing(repository: UserRepository) -> None:
    user = make_user(1)
    repository.add(user)
    current = newer(user, display_name="First")
    repository.update(current, expected_version=user.version)

    with pytest.raises(StaleEtag):
        repository.update(newer(user, display_name="Second"), expected_version=user.version)

    assert repository.get(user.id) == current


def test_an_update_of_a_missing_or_deleted_user_is_not_found(repository: UserRepository) -> None:
    user = make_user(1)
    repository.add(user)
    repository.soft_delete(user.id, expected_version=user.version, when=T0)

    with pytest.raises(UserNotFound):
        repository.update(newer(user), expected_version=user.version)
    with pytest.raises(UserNotFound):
        repository.update(newer(make_user(2)), expected_version=1)


def test_an_update_to_another_users_email_is_refused(repository: UserRepository) -> None:
    ada, eve = make_user(1), make_user(2)
    repository.add(ada)
    repository.add(eve)

    with pytest.raises(EmailTaken):
        repository.update(
            newer(ada, email="EVE", email_key=eve.email_key), expected_version=ada.version
        )

    assert repository.get(ada.id) == ada
    assert repository.get(eve.id) == eve


def test_a_delete_at_a_stale_version_deletes_nothing(repository: UserRepository) -> None:
    user = make_user(1)
    repository.add(user)
    repository.update(newer(user), expected_version=user.version)

    with pytest.raises(StaleEtag):
        repository.soft_delete(user.id, expected_version=user.version, when=T0)

    assert repository.get(user.id) == newer(user)


def test_a_delete_of_an_unknown_user_is_not_found(repository: UserRepository) -> None:
    with pytest.raises(UserNotFound):
        repository.soft_delete(make_user(1).id, expected_version=None, when=T0)


def test_a_new_password_hash_keeps_the_version(repository: UserRepository) -> None:
    user = make_user(1)
    repository.add(user)

    repository.set_password_hash(user.id, "$argon2id$new")

    assert repository.get(user.id) == dataclasses.replace(user, password_hash="$argon2id$new")


@pytest.mark.parametrize(
    ("email", "display_name"),
    [
        ("o'brien@example.org", "Robert'); DROP TABLE users;--"),
        ("100%_off\\@example.org", "50% _off_ \\ [a-z]* %%"),
        ('"quoted"@example.org', "\"double\" 'single' `back` ;"),
        ("jose\u0301@example.org", "Jose\u0301 Zoe\u0308 a\u0300\u0301\u0302\u0303"),
        (
            "\U0001f469\u200d\U0001f4bb@example.org",
            "\U0001f469\u200d\U0001f4bb \U0001f1eb\U0001f1f7",
        ),
        ("\u0645\u0631\u062d\u0628\u0627@example.org", "\u202e\u0645\u0631\u062d\u0628\u0627 abc"),
        ("\u00df@example.org", "\u0130stanbul \u1e9e \ufb03"),
    ],
)
def test_sql_metacharacters_and_unicode_round_trip(
    repository: UserRepository, email: str, display_name: str
) -> None:
    user = make_user(1, email=email, email_key=email_key(email), display_name=display_name)
    repository.add(user)
    repository.add(make_user(2))

    assert repository.get(user.id) == user
    assert repository.get_by_email_key(email_key(email)) == user
    assert ids(
        repository.list_page(UserFilter(email_key=email_key(email)), after=None, limit=5)
    ) == [user.id]
