"""servicekit.db: a service's database (SQLAlchemy 2), its unit of work and its migrations.

The wiring function builds one ``Database`` from ``DatabaseSettings`` and the gRPC thread
pool size, hands it to the units of work of the use cases, registers ``database.ping`` as a
readiness check and ``database.dispose`` as a shutdown step::

    database = Database(settings.database, pool_size=settings.grpc.max_workers)

``upgrade`` (alembic) runs as its own step, never from the serving process. Use cases
depend on the ``UnitOfWork`` protocol; those that only read take ``uow.reading()`` (no
transaction); hot point reads may run as a ``CompiledSelect`` (a Core select on the
driver's cursor).

Modules: ``database`` (``Database``), ``engine`` (``DatabaseSettings``, engine options,
URL check, the engine for reads), ``backends`` (PostgreSQL and SQLite engine setup),
``protocol`` (the unit of work use cases see), ``uow`` (its SQLAlchemy implementation and
error translation), ``reads`` (compiled point reads), ``schema`` (metadata and column
types), ``migrations`` (alembic, run from code), ``environment`` (the one alembic
environment of every service), ``revisions`` (new migrations, numbered in order), and
``guards`` with ``watchdog`` (a call's connections cut at its deadline or early end:
``servicekit.calls``).
"""

import importlib
from typing import TYPE_CHECKING, Any

from servicekit.db.database import Database
from servicekit.db.engine import DatabaseSettings, EngineOptions, build_engine, reads_engine
from servicekit.db.protocol import UnitOfWork
from servicekit.db.reads import CompiledSelect
from servicekit.db.uow import SqlAlchemyUnitOfWork, is_unique_violation, translate_error

if TYPE_CHECKING:
    from servicekit.db.migrations import current, downgrade, head, migrate, upgrade
    from servicekit.db.revisions import new_revision, revision

# alembic is imported on first use of a migration function: a serving process never runs
# one, and alembic costs every process that imports it a tenth of a second.
_MIGRATIONS = {
    **dict.fromkeys(("current", "downgrade", "head", "migrate", "upgrade"), "migrations"),
    **dict.fromkeys(("new_revision", "revision"), "revisions"),
}


def __getattr__(name: str) -> Any:
    module = _MIGRATIONS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "CompiledSelect",
    "Database",
    "DatabaseSettings",
    "EngineOptions",
    "SqlAlchemyUnitOfWork",
    "UnitOfWork",
    "build_engine",
    "current",
    "downgrade",
    "head",
    "is_unique_violation",
    "migrate",
    "new_revision",
    "reads_engine",
    "revision",
    "translate_error",
    "upgrade",
]
