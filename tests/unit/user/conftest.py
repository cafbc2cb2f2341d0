"""Use cases of the User Service on the in-memory fakes, with a clock that only moves on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.user.contract import contract_update_mask
from services.user.pagination import PageLimits
from services.user.passwords import Passwords
from services.user.service import UserService
from tests.unit.user.fakes import FakeUserUnitOfWork


class TickingClock:
    """Every reading is one millisecond after the previous one."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    """Real argon2id at the lowest costs: the behaviour is real, the tests stay fast."""
    return Passwords(time_cost=1, memory_cost_kib=8, parallelism=1)


@pytest.fixture
def uow() -> FakeUserUnitOfWork:
    return FakeUserUnitOfWork()


@pytest.fixture
def service(uow: FakeUserUnitOfWork, passwords: Passwords) -> UserService:
    return UserService(
        unit_of_work=lambda: uow,
        passwords=passwords,
        page_limits=PageLimits(default=3, maximum=5),
        update_mask=contract_update_mask(),
        clock=TickingClock(),
    )
