"""What a use case needs of a unit of work, whatever stands behind it: the one protocol.

A service names its repositories on top of it, and nothing else::

    class UserUnitOfWork(UnitOfWork, Protocol):
        @property
        def users(self) -> UserRepository: ...

``SqlAlchemyUnitOfWork`` subclasses (production) and ``servicekit.testing``'s
``InMemoryUnitOfWork`` subclasses (unit tests) both satisfy it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

__all__ = ["UnitOfWork"]


class UnitOfWork(Protocol):
    """One transaction of one use case: ``with uow:`` opens it, ``commit()`` keeps its work,
    leaving the block without committing rolls it back.

    ``reading()`` gives one like it for a use case that only reads, in one statement: no
    transaction, and ``commit()`` refuses.
    """

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def reading(self) -> Self: ...
