"""services.gateway.ratelimits: a budget per client and operation, 429 with Retry-After."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from limits import parse

from services.gateway.plans import OperationPlan, PlanError
from services.gateway.ratelimits import RateLimits
from services.gateway.settings import RateLimitSettings

LOGIN = "acme.auth.v1.AuthService.Login"
REGISTER = "acme.user.v1.UserService.CreateUser"
GET_USER = "acme.user.v1.UserService.GetUser"


def outcomes(limits: RateLimits, operation: str, client: str, count: int) -> list[Any]:
    """What ``count`` requests in a row get: None (admitted) or the problem."""

    async def run() -> list[Any]:
        return [await limits.admit(operation, client) for _ in range(count)]

    return asyncio.run(run())


def test_a_client_over_its_budget_gets_429_with_the_wait_until_a_slot_frees() -> None:
    limits = RateLimits({LOGIN: (parse("3/minute"),)})

    *admitted, refused = outcomes(limits, LOGIN, "203.0.113.9", 4)

    assert admitted == [None, None, None]
    assert (refused.status, refused.code) == (429, "RESOURCE_EXHAUSTED")
    assert 1 <= int(refused.response_headers()["Retry-After"]) <= 60
    assert refused.detail == (
        "too many AuthService.Login requests from this client (at most 3 per 1 minute); retry later"
    )


def test_each_client_and_each_operation_has_a_budget_of_its_own() -> None:
    limits = RateLimits({LOGIN: (parse("1/minute"),), REGISTER: (parse("1/minute"),)})

    async def run() -> list[Any]:
        return [
            await limits.admit(LOGIN, "203.0.113.9"),
            await limits.admit(LOGIN, "198.51.100.7"),
            await limits.admit(REGISTER, "203.0.113.9"),
            await limits.admit(GET_USER, "203.0.113.9"),  # not limited at all
            await limits.admit(GET_USER, "203.0.113.9"),
            await limits.admit(LOGIN, "203.0.113.9"),
        ]

    *admitted, refused = asyncio.run(run())

    assert admitted == [None] * 5
    assert refused is not None
    assert refused.status == 429


def test_every_limit_of_an_operation_applies() -> None:
    limits = RateLimits({LOGIN: (parse("5/minute"), parse("2/hour"))})

    *admitted, refused = outcomes(limits, LOGIN, "203.0.113.9", 3)

    assert admitted == [None, None]
    assert "at most 2 per 1 hour" in refused.detail
    assert 60 < int(refused.response_headers()["Retry-After"]) <= 3600


def test_an_operation_the_document_does_not_have_stops_the_start(
    plans: dict[str, OperationPlan],
) -> None:
    settings = RateLimitSettings(
        operations=(f"{LOGIN}=1/minute", "acme.auth.v1.AuthService.Logn=1/second")
    )

    with pytest.raises(PlanError, match=r"AuthService\.Logn is not an operation of the document"):
        RateLimits.of(settings, plans)
    assert RateLimits.of(
        RateLimitSettings(operations=(f"{LOGIN}=1/minute",)), plans
    ).operations == {LOGIN}
