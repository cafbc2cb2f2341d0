"""New migrations as `make migration SERVICE=user MSG="add locale"` writes them: numbered in
order, with the column types of the project imported, and running on both backends.

The User Service's model gains two columns in a copy of its metadata; its migrations are a
throw-away copy of its folder. Nothing of the service itself changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, Text, inspect

from servicekit.cli import main
from servicekit.db import current, downgrade, head, new_revision, upgrade
from servicekit.db.schema import UtcDateTime, new_metadata
from servicekit.definition import ServiceDefinition
from services.user import models as user_models
from services.user.app import create_server
from services.user.settings import load


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """A copy of the User Service's migrations, to write new ones into."""
    folder = tmp_path / "migrations"
    shutil.copytree(
        user_models.MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder


def numbered(migrations: Path, step: int = 1) -> str:
    """The number ``step`` after the highest revision of ``migrations`` (``0003``)."""
    return f"{int(str(head(migrations))[:4]) + step:04d}"


def users_with_a_locale() -> MetaData:
    """The User Service's model, plus a text column and a column of servicekit's own type."""
    metadata = new_metadata()
    users = user_models.users.to_metadata(metadata)
    users.append_column(Column("locale", Text(), nullable=True))
    users.append_column(Column("locale_time", UtcDateTime(), nullable=True))
    return metadata


def test_autogenerate_writes_the_next_numbered_revision_with_the_types_it_uses(
    migrations: Path,
) -> None:
    previous, number = head(migrations), numbered(migrations)
    written = new_revision(migrations, users_with_a_locale(), "Add locale", autogenerate=True)

    text = written.read_text()
    assert written == migrations / f"{number}_add_locale.py"
    assert head(migrations) == f"{number}_add_locale"
    assert f"revision: str = '{number}_add_locale'" in text
    assert f"down_revision: str | Sequence[str] | None = '{previous}'" in text
    assert "from servicekit.db.schema import UtcDateTime" in text
    assert "sa.Column('locale_time', UtcDateTime(), nullable=True)" in text


def test_the_written_revision_upgrades_to_the_changed_model_and_back(
    migrations: Path, empty_database_url: str, engine: Engine
) -> None:
    changed = users_with_a_locale()
    new_revision(migrations, changed, "add locale", autogenerate=True)

    upgrade(empty_database_url, migrations)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), changed)
    downgrade(empty_database_url, migrations, "0001")

    assert differences == []
    assert current(empty_database_url, migrations) == "0001"
    assert "locale" not in {column["name"] for column in inspect(engine).get_columns("users")}


def test_numbers_follow_the_highest_and_the_message_is_cut_at_a_word(migrations: Path) -> None:
    metadata = user_models.metadata
    one, two = numbered(migrations), numbered(migrations, 2)
    first = new_revision(migrations, metadata, "Backfill: e-mail keys!", autogenerate=False)
    second = new_revision(
        migrations,
        metadata,
        "an unusually long message that names every step of a data migration",
        autogenerate=False,
    )

    assert first.name == f"{one}_backfill_e_mail_keys.py"
    assert second.name == f"{two}_an_unusually_long_message.py"
    assert head(migrations) == f"{two}_an_unusually_long_message"


def test_a_revision_with_a_long_message_still_upgrades_postgresql(
    migrations: Path, empty_database_url: str
) -> None:
    # alembic_version.version_num is VARCHAR(32): PostgreSQL refuses a longer id.
    new_revision(
        migrations,
        user_models.metadata,
        "remember the request that created each user, and when",
        autogenerate=False,
    )

    upgrade(empty_database_url, migrations)

    assert len(str(head(migrations))) <= 32
    assert current(empty_database_url, migrations) == head(migrations)


def test_the_revision_command_writes_it_without_touching_the_services_database(
    migrations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "user.db"
    monkeypatch.setenv("USER_DATABASE__URL", f"sqlite:///{database}")
    monkeypatch.setenv("USER_LOGGING__FORMAT", "json")
    service = ServiceDefinition(
        name="user",
        settings=load,
        create_server=create_server,
        migrations=migrations,
        metadata=users_with_a_locale(),
    )

    before = sorted(path.name for path in migrations.glob("*.py"))
    number = numbered(migrations)

    code = main(service, ["revision", "--autogenerate", "-m", "add locale"])

    assert code == 0
    assert sorted(path.name for path in migrations.glob("*.py")) == [
        *before,
        f"{number}_add_locale.py",
    ]
    assert not database.exists()


def test_the_revision_command_refuses_in_one_line_when_there_are_two_heads(
    migrations: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("0002_one", "0002_other"):
        (migrations / f"{name}.py").write_text(
            f'revision = "{name}"\ndown_revision = "0001"\n\n\n'
            "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
        )
    service = ServiceDefinition(
        name="user",
        settings=load,
        create_server=create_server,
        migrations=migrations,
        metadata=user_models.metadata,
    )

    code = main(service, ["revision", "-m", "three"])

    assert code == 1
    assert "no revision written" in capsys.readouterr().err
    assert not list(migrations.glob("0003*"))
