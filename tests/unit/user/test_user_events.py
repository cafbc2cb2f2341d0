"""The User Service's domain events, counted on a registry as its /metrics serves them."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from services.user.contract import contract_update_mask
from services.user.domain import EmailTaken
from services.user.metrics import UserMetrics
from services.user.pagination import PageLimits
from services.user.passwords import Passwords
from services.user.service import UserService
from tests.unit.user.conftest import TickingClock
from tests.unit.user.fakes import FakeUserUnitOfWork

REGISTERED = "acme_users_registered_total"
PASSWORD = "correct horse battery"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def counted(
    uow: FakeUserUnitOfWork, passwords: Passwords, registry: CollectorRegistry
) -> UserService:
    return UserService(
        unit_of_work=lambda: uow,
        passwords=passwords,
        page_limits=PageLimits(default=3, maximum=5),
        update_mask=contract_update_mask(),
        clock=TickingClock(),
        events=UserMetrics(registry),
    )


def test_each_sign_up_counts_one_registered_user_from_zero(
    counted: UserService, registry: CollectorRegistry
) -> None:
    assert registry.get_sample_value(REGISTERED) == 0.0

    counted.create_user(email="ada@example.com", display_name="Ada", password=PASSWORD)
    counted.create_user(email="bob@example.com", display_name="Bob", password=PASSWORD)

    assert registry.get_sample_value(REGISTERED) == 2.0


def test_a_refused_sign_up_and_a_repeated_request_count_nothing(
    counted: UserService, registry: CollectorRegistry
) -> None:
    counted.create_user(
        email="ada@example.com", display_name="Ada", password=PASSWORD, request_id="req-1"
    )

    with pytest.raises(EmailTaken):
        counted.create_user(email="ADA@example.com", display_name="Ada", password=PASSWORD)
    again = counted.create_user(
        email="ada@example.com", display_name="Ada", password=PASSWORD, request_id="req-1"
    )

    assert again.email == "ada@example.com"
    assert registry.get_sample_value(REGISTERED) == 1.0
