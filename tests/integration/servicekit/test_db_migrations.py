"""servicekit.db.migrations: alembic run from code, on both backends, all or nothing.

The migrations here are a folder of revisions, as a service keeps them; the environment
and the template are servicekit's.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from servicekit.config import Secret
from servicekit.db import current, downgrade, head, revision, upgrade
from servicekit.db.engine import EngineOptions, build_engine

# The models after both migrations, plus a table no migration makes yet.
METADATA = sa.MetaData()
sa.Table(
    "teams",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("city", sa.String(50)),
)
sa.Table(
    "members",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False),
)
sa.Table("players", METADATA, sa.Column("id", sa.Integer, primary_key=True))

MIGRATIONS = {
    "0001_teams.py": """\
        import sqlalchemy as sa
        from alembic import op

        revision = "0001"
        down_revision = None

        def upgrade():
            op.create_table(
                "teams",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("name", sa.String(50), nullable=False),
            )
            op.create_table(
                "members",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False),
            )

        def downgrade():
            op.drop_table("members")
            op.drop_table("teams")
        """,
    # On SQLite, batch mode rebuilds `teams` (copy, drop, rename) under the rows of `members`.
    "0002_team_city.py": """\
        import sqlalchemy as sa
        from alembic import op

        revision = "0002"
        down_revision = "0001"

        def upgrade():
            with op.batch_alter_table("teams") as batch:
                batch.add_column(sa.Column("city", sa.String(50)))
                batch.alter_column("name", type_=sa.String(80))

        def downgrade():
            with op.batch_alter_table("teams") as batch:
                batch.alter_column("name", type_=sa.String(50))
                batch.drop_column("city")
        """,
}

BROKEN = """\
    from alembic import op

    revision = "0003"
    down_revision = "0002"

    def upgrade():
        op.execute("CREATE TABLE scratch (id INTEGER)")
        op.execute("SELECT * FROM no_such_table")

    def downgrade():
        pass
    """


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    """A throw-away folder of two migrations, as a service keeps its own."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, body in MIGRATIONS.items():
        (folder / name).write_text(textwrap.dedent(body))
    return folder


def columns(url: str) -> dict[str, set[str]]:
    """Every table of the database (but alembic's) with its column names."""
    engine = build_engine(url, EngineOptions(pool_size=None))
    try:
        schema = inspect(engine)
        names = set(schema.get_table_names()) - {"alembic_version"}
        return {name: {c["name"] for c in schema.get_columns(name)} for name in names}
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run ``statements`` in one transaction; the rows of the last one, if it has rows."""
    engine = build_engine(url, EngineOptions(pool_size=None))
    try:
        with engine.begin() as connection:
            results = [connection.execute(text(sql)) for sql in statements]
            last = results[-1]
            return [tuple(row) for row in last] if last.returns_rows else []
    finally:
        engine.dispose()


def test_upgrade_and_downgrade_move_the_schema_between_revisions(
    empty_database_url: str, scripts: Path
) -> None:
    assert current(empty_database_url, scripts) is None

    upgrade(empty_database_url, scripts, "0001")
    execute(
        empty_database_url,
        "INSERT INTO teams (id, name) VALUES (1, 'blue')",
        "INSERT INTO members (id, team_id) VALUES (7, 1)",
    )
    upgrade(empty_database_url, scripts)

    assert current(empty_database_url, scripts) == head(scripts) == "0002"
    assert columns(empty_database_url) == {
        "teams": {"id", "name", "city"},
        "members": {"id", "team_id"},
    }
    assert execute(
        empty_database_url, "SELECT m.id, t.name FROM members m JOIN teams t ON t.id = m.team_id"
    ) == [(7, "blue")]

    downgrade(empty_database_url, scripts, "0001")
    assert current(empty_database_url, scripts) == "0001"
    assert columns(empty_database_url)["teams"] == {"id", "name"}

    downgrade(empty_database_url, scripts, "base")
    assert current(empty_database_url, scripts) is None
    assert columns(empty_database_url) == {}


def test_a_failing_migration_leaves_the_database_as_it_was(
    empty_database_url: str, scripts: Path
) -> None:
    (scripts / "0003_broken.py").write_text(textwrap.dedent(BROKEN))

    with pytest.raises(Exception, match="no_such_table"):
        upgrade(empty_database_url, scripts)

    assert current(empty_database_url, scripts) is None
    assert columns(empty_database_url) == {}


REPLICA = """\
import sys, time
from servicekit.db import upgrade
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all start together, imports done
upgrade(sys.argv[1], sys.argv[2])
"""


def test_replicas_migrating_at_once_take_turns(empty_database_url: str, scripts: Path) -> None:
    start = f"{time.time() + 1.0}"
    command = [sys.executable, "-c", REPLICA, empty_database_url, str(scripts), start]
    replicas = [subprocess.Popen(command, stderr=subprocess.PIPE) for _ in range(3)]
    errors = [replica.communicate(timeout=30)[1] for replica in replicas]

    assert [replica.returncode for replica in replicas] == [0, 0, 0], errors
    assert current(empty_database_url, scripts) == "0002"


def test_a_password_with_a_percent_sign_reaches_the_database(
    postgresql_url: str, scripts: Path
) -> None:
    url = make_url(postgresql_url).set(password="100%-s3cret")  # trust auth ignores it
    secret = Secret(url.render_as_string(hide_password=False))

    upgrade(secret, scripts)

    assert current(secret, scripts) == "0002"


def test_revision_writes_a_migration_for_what_the_models_add(
    empty_database_url: str, scripts: Path
) -> None:
    upgrade(empty_database_url, scripts)

    written = revision(empty_database_url, scripts, "add players", metadata=METADATA)
    upgrade(empty_database_url, scripts)

    assert written == scripts / "0003_add_players.py"
    assert "create_table('players'" in written.read_text()
    assert current(empty_database_url, scripts) == "0003_add_players"
    assert columns(empty_database_url)["players"] == {"id"}
