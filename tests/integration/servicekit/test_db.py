"""servicekit.db units of work on both backends: what is kept, what is undone, unique keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from servicekit.db import Database, SqlAlchemyUnitOfWork, is_unique_violation
from servicekit.testing.databases import rolled_back_session

OpenDatabase = Callable[..., Database]

metadata = MetaData()
teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    UniqueConstraint("name", name="uq_teams_name"),
)
members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", ForeignKey("teams.id"), nullable=False),
    Column("nickname", String(50), nullable=False),
    UniqueConstraint("team_id", "nickname", name="uq_members_team_id_nickname"),
)


@pytest.fixture
def database(empty_database_url: str, open_database: OpenDatabase) -> Database:
    """A Database on a fresh database holding the ``teams`` and ``members`` tables."""
    opened = open_database(empty_database_url)
    metadata.create_all(opened.engine)
    return opened


def team_names(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return list(connection.scalars(select(teams.c.name).order_by(teams.c.name)))


def add_team(uow: SqlAlchemyUnitOfWork, name: str) -> None:
    uow.session.execute(insert(teams).values(name=name))


def commit_row(database: Database, table: Table, **values: object) -> None:
    """Insert one row in a unit of work and commit it."""
    with SqlAlchemyUnitOfWork(database) as uow:
        uow.session.execute(insert(table).values(**values))
        uow.commit()


def test_the_unit_of_work_keeps_only_what_was_committed(database: Database) -> None:
    with SqlAlchemyUnitOfWork(database) as uow:
        add_team(uow, "kept")
        uow.commit()
        add_team(uow, "after the commit")
    with SqlAlchemyUnitOfWork(database) as uow:
        add_team(uow, "never committed")

    assert team_names(database) == ["kept"]


def test_an_error_inside_the_unit_of_work_rolls_it_back(database: Database) -> None:
    def give_up_half_way() -> None:
        with SqlAlchemyUnitOfWork(database) as uow:
            add_team(uow, "half done")
            uow.session.flush()
            raise LookupError("the use case gives up")

    with pytest.raises(LookupError):
        give_up_half_way()

    assert team_names(database) == []


def test_rollback_drops_the_work_since_the_last_commit(database: Database) -> None:
    with SqlAlchemyUnitOfWork(database) as uow:
        add_team(uow, "first")
        uow.commit()
        add_team(uow, "second")
        uow.rollback()
        add_team(uow, "third")
        uow.commit()

    assert team_names(database) == ["first", "third"]


def test_the_session_is_only_usable_inside_the_with_block(database: Database) -> None:
    uow = SqlAlchemyUnitOfWork(database)
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.session
    with uow, pytest.raises(RuntimeError, match="open already"):
        uow.__enter__()


def test_the_open_hook_receives_the_session_of_the_unit_of_work(database: Database) -> None:
    class TeamUnitOfWork(SqlAlchemyUnitOfWork):
        def _open(self, session: object) -> None:
            self.seen = session

    with TeamUnitOfWork(database) as uow:
        assert uow.seen is uow.session


def test_concurrent_units_of_work_from_a_thread_pool_all_commit(database: Database) -> None:
    def read_then_write(worker: int) -> None:
        for round_ in range(5):
            with SqlAlchemyUnitOfWork(database) as uow:
                uow.session.execute(select(func.count()).select_from(teams)).scalar_one()
                time.sleep(0.002)  # let the others commit between this read and this write
                add_team(uow, f"team {worker}-{round_}")
                uow.commit()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(read_then_write, range(8)))

    assert len(team_names(database)) == 40


def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError) as raised:
        commit_row(database, members, team_id=42, nickname="ghost")

    assert not is_unique_violation(raised.value)


def test_integrity_errors_are_left_to_the_service(database: Database) -> None:
    commit_row(database, teams, name="twice")

    with pytest.raises(IntegrityError) as raised:
        commit_row(database, teams, name="twice")

    assert is_unique_violation(raised.value)
    assert team_names(database) == ["twice"]


def test_a_unique_violation_is_recognised_by_its_constraint_name(database: Database) -> None:
    commit_row(database, teams, id=1, name="blue")
    commit_row(database, members, team_id=1, nickname="ace")

    def violation(table: Table, **values: object) -> IntegrityError:
        with pytest.raises(IntegrityError) as raised:
            commit_row(database, table, **values)
        return raised.value

    by_name = violation(teams, id=2, name="blue")
    by_two_columns = violation(members, team_id=1, nickname="ace")
    by_primary_key = violation(teams, id=1, name="red")

    assert is_unique_violation(by_name, "uq_teams_name")
    assert not is_unique_violation(by_name, "uq_members_team_id_nickname")
    assert is_unique_violation(by_two_columns, "uq_members_team_id_nickname")
    assert not is_unique_violation(by_two_columns, "uq_teams_name")
    assert is_unique_violation(by_primary_key, "teams_pkey")
    assert not is_unique_violation(by_primary_key, "uq_teams_name")


def test_other_integrity_errors_are_not_unique_violations(database: Database) -> None:
    with pytest.raises(IntegrityError) as raised:
        commit_row(database, teams, name=None)

    assert not is_unique_violation(raised.value)


def test_rolled_back_session_undoes_what_the_test_committed(database: Database) -> None:
    with rolled_back_session(database.engine) as session:
        session.execute(insert(teams).values(name="temporary"))
        session.commit()
        assert session.scalars(select(teams.c.name)).all() == ["temporary"]

    assert team_names(database) == []
