"""Hot reads at the driver's cost: a Core select compiled once, run on the DBAPI cursor.

SQLAlchemy's ``Connection.execute`` costs about 75 us of CPU per statement on this stack
(an execution context, result metadata, events), five times psycopg's own cost of a
point read; a primary-key read served over gRPC pays it on every call. A
``CompiledSelect`` keeps the statement in SQLAlchemy Core, so the tables stay the one
source of columns and types, compiles it once per dialect and then runs it on the
connection's DBAPI cursor:

    BY_ID = CompiledSelect(select(users).where(users.c.id == bindparam("id")))

    row = BY_ID.first(connection, {"id": user_id})   # a named tuple, or None
    row.email, row.create_time                        # typed as SQLAlchemy types them

Values go through the same bind and result processing as with ``execute`` (type
decorators included), and a driver error goes through the connection's own error
handling: the same ``DBAPIError`` comes out, and a lost connection invalidates the pool.
What it skips: SQLAlchemy's ``before/after_cursor_execute`` events and ``echo`` logging
do not see these statements, and a statement that SQLAlchemy renders at execution time
(expanding ``IN``, literal execution) is refused when compiled.
"""

from __future__ import annotations

import collections
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect

__all__ = ["CompiledSelect"]

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement compiled for one dialect: its SQL and how to bind and read values."""

    sql: str
    positions: tuple[str, ...] | None  # parameter order, for positional paramstyles
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters that need processing
    construct: Callable[[Mapping[str, Any]], dict[str, Any]]
    row: Callable[..., tuple[Any, ...]]  # a named tuple of the selected columns
    types: tuple[Any, ...]  # each column's dialect type, for its result processor
    processors: list[tuple[_Processor, ...]]  # set at the first execution (see _run)


class CompiledSelect:
    """A Core select run on the DBAPI cursor of a ``Connection`` (see the module).

    Thread-safe: one instance serves every thread; a plan is made per dialect, at first
    use. Rows are named tuples whose fields are the keys of the selected columns.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._keys = tuple(statement.selected_columns.keys())
        # Weak keys: a test suite makes an engine (a dialect) per database, a service one.
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def first(self, connection: Connection, parameters: Mapping[str, Any]) -> Any | None:
        """The first row, or None."""
        rows = self._run(connection, parameters, many=False)
        return rows[0] if rows else None

    def all(self, connection: Connection, parameters: Mapping[str, Any]) -> list[Any]:
        """Every row."""
        return self._run(connection, parameters, many=True)

    def _run(
        self, connection: Connection, parameters: Mapping[str, Any], *, many: bool
    ) -> list[Any]:
        dialect = connection.dialect
        plan = self._plans.get(dialect) or self._plan(dialect)
        values = plan.construct(parameters)
        for name, process in plan.binds:
            values[name] = process(values[name])
        arguments: Sequence[Any] | Mapping[str, Any] = values
        if plan.positions is not None:
            arguments = tuple(values[name] for name in plan.positions)
        cursor = None
        try:
            cursor = connection.connection.cursor()
            cursor.execute(plan.sql, arguments)
            fetched = cursor.fetchall() if many else cursor.fetchmany(1)
            if not plan.processors:  # the driver's type codes are known from here on
                plan.processors.append(_result_processors(dialect, plan, cursor.description))
        except dialect.loaded_dbapi.Error as exc:
            # SQLAlchemy's own handling, as for ``execute``: wrap the error, invalidate
            # the connection and the pool when it was lost, run handle_error events.
            connection._handle_dbapi_exception(exc, plan.sql, arguments, cursor, None)
        finally:
            if cursor is not None:
                cursor.close()
        processors, make = plan.processors[0], plan.row
        return [
            make(*[v if p is None else p(v) for p, v in zip(processors, row, strict=True)])
            for row in fetched
        ]

    def _plan(self, dialect: Dialect) -> _Plan:
        with self._lock:
            if dialect not in self._plans:
                self._plans[dialect] = self._compile(dialect)
            return self._plans[dialect]

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled: Any = self.statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("this select is rendered at execution time: use execute()")
        binds = []
        for name, parameter in compiled.binds.items():
            process = parameter.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds.append((compiled.escaped_bind_names.get(name, name), process))
        columns = self.statement.selected_columns
        return _Plan(
            sql=compiled.string,
            positions=tuple(compiled.positiontup) if compiled.positional else None,
            binds=tuple(binds),
            construct=compiled.construct_params,
            row=collections.namedtuple("Row", self._keys, rename=True),
            types=tuple(column.type.dialect_impl(dialect) for column in columns),
            processors=[],
        )


def _result_processors(dialect: Dialect, plan: _Plan, description: Any) -> tuple[_Processor, ...]:
    """Each column's result processor (some depend on the driver's type code of the column,
    which a statement's columns keep: the plan keeps the processors)."""
    codes = [column[1] for column in description or ()]
    return tuple(
        type_.result_processor(dialect, code) for type_, code in zip(plan.types, codes, strict=True)
    )
