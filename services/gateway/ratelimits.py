"""Per-client rate limits of chosen operations, with the ``limits`` library.

The public operations that cost the services most (a sign-up or a sign-in hashes a
password: tens of milliseconds and 64 MiB each) are limited per client at the edge, before
any backend is called: ``[rate_limits] operations`` gives each its limits, and every
client (its address: ``services.gateway.edge.client_address``) has a budget of its own
per operation, counted in a moving window. A request over budget is answered 429
``RESOURCE_EXHAUSTED`` with ``Retry-After`` (when the window frees a slot), without a call.

``RateLimits.of`` checks the settings against the document: an operation the document
does not have is a ``PlanError`` at start, not a limit that silently never applies.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from services.gateway.plans import OperationPlan, PlanError
from services.gateway.problems import Problem
from services.gateway.settings import RateLimitSettings

__all__ = ["RateLimits"]


class RateLimits:
    """The limits of each limited operation, by operation id, over one storage."""

    def __init__(
        self,
        limits: Mapping[str, tuple[RateLimitItem, ...]],
        *,
        storage_uri: str = "async+memory://",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limits = dict(limits)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._clock = clock

    @classmethod
    def of(cls, settings: RateLimitSettings, plans: Mapping[str, OperationPlan]) -> RateLimits:
        """The limits of the settings; ``PlanError`` naming every operation the document
        does not have."""
        limits = settings.limits()
        unknown = sorted(set(limits) - set(plans))
        if unknown:
            raise PlanError(
                [f"rate_limits: {name} is not an operation of the document" for name in unknown]
            )
        return cls(limits, storage_uri=settings.storage_uri)

    @property
    def operations(self) -> frozenset[str]:
        return frozenset(self._limits)

    async def admit(self, operation_id: str, client: str) -> Problem | None:
        """Count one request of ``client`` for ``operation_id``: None while within every
        limit, else the 429 problem to answer (nothing is counted for a refused request)."""
        items = self._limits.get(operation_id)
        if not items:
            return None
        for item in items:
            if not await self._limiter.test(item, operation_id, client):
                return await self._refusal(item, operation_id, client)
        for item in items:
            if not await self._limiter.hit(item, operation_id, client):
                return await self._refusal(item, operation_id, client)
        return None

    async def _refusal(self, item: RateLimitItem, operation_id: str, client: str) -> Problem:
        stats = await self._limiter.get_window_stats(item, operation_id, client)
        retry_after = max(1, math.ceil(stats.reset_time - self._clock()))
        operation = operation_id.rsplit(".", 2)
        name = ".".join(operation[-2:])
        detail = f"too many {name} requests from this client (at most {item}); retry later"
        return Problem.of_code("RESOURCE_EXHAUSTED", detail, retry_after=float(retry_after))
