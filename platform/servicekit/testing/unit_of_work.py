"""The unit of work of unit tests: a transaction over in-memory repositories.

A service's test double lists its repositories, each keeping its state in a ``rows`` dict
(the fake repositories beside the service's tests)::

    class FakeUserUnitOfWork(InMemoryUnitOfWork):
        def __init__(self, users: FakeUserRepository | None = None) -> None:
            super().__init__()
            self.users = users if users is not None else FakeUserRepository()

        def repositories(self) -> list[InMemoryRepository]:
            return [self.users]

Rollback restores the rows as they were on entry (or at the last commit), so a test sees
exactly what a failed use case left behind; ``commits`` counts the commits. ``reading()``
gives one on the same repositories that refuses to commit, as the real read-only unit of
work does. It satisfies ``servicekit.db.UnitOfWork``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, Self

__all__ = ["InMemoryRepository", "InMemoryUnitOfWork"]


class InMemoryRepository(Protocol):
    """A fake repository whose whole state is its ``rows``."""

    rows: dict[Any, Any]


class InMemoryUnitOfWork:
    """A transaction over ``repositories()``: snapshot on entry, restored on rollback."""

    def __init__(self, *, read_only: bool = False) -> None:
        self.read_only = read_only
        self.commits = 0
        self._snapshot: list[dict[Any, Any]] | None = None

    def repositories(self) -> Sequence[InMemoryRepository]:
        """The repositories this unit of work spans (subclasses name theirs)."""
        raise NotImplementedError

    def reading(self) -> Self:
        """One on the same repositories for a use case that only reads: it cannot commit."""
        clone = copy.copy(self)
        clone.read_only = True
        clone.commits = 0
        clone._snapshot = None
        return clone

    def __enter__(self) -> Self:
        self._snapshot = self._rows()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._snapshot = None

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work has nothing to commit")
        self.commits += 1
        self._snapshot = self._rows()

    def rollback(self) -> None:
        if self._snapshot is None:
            return
        for repository, rows in zip(self.repositories(), self._snapshot, strict=True):
            repository.rows = dict(rows)

    def _rows(self) -> list[dict[Any, Any]]:
        return [dict(repository.rows) for repository in self.repositories()]
