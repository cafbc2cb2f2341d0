"""Alembic environment of the Auth Service: run by ``servicekit.db.migrations``."""

from alembic import context

from servicekit.db.migrations import run_migrations_online
from services.auth.models import metadata

run_migrations_online(context, metadata)
