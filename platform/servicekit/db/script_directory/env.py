"""The alembic ``env.py`` of every service's migrations: ``servicekit.db.migrations`` runs it.

Alembic wants this file in its script directory; the work is in ``servicekit.db.environment``.
"""

from alembic import context

from servicekit.db.environment import METADATA, run_migrations_online

run_migrations_online(context, context.config.attributes.get(METADATA))
