"""Whether a new access policy refuses a caller that the previous one admitted.

A policy's grants are alternatives (servicekit.auth admits a caller when any grant does), so
a policy narrows exactly when one of the previous grants is no longer covered: `public` by
`public`; `authenticated` by `public` or `authenticated`; a role, the owner field, a service
by the same grant or by `public` or `authenticated`. Each grant lost is one change, quoting
it (`role 'auditor' no longer admitted`). Widening (a grant added) is never reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["narrowed"]


def narrowed(base: Any | None, head: Any | None) -> Iterator[str]:
    """The callers `base` admitted that `head` refuses, one sentence per lost grant.
    None is an RPC with no policy: nobody may call it."""
    if base is None:
        return
    if head is None:
        if base.public or base.authenticated or base.roles or base.owner_field or base.services:
            yield "'access' removed: the RPC now refuses every caller"
        return
    if head.public:
        return
    if base.public:
        yield "'public' removed: callers without an access token are refused"
    if not head.authenticated:
        yield from _lost_grants(base, head)


def _lost_grants(base: Any, head: Any) -> Iterator[str]:
    """The grants of `base` other than `public` that `head` (neither public nor open to
    every authenticated caller) lacks."""
    if base.authenticated:
        yield "'authenticated' removed: callers are admitted only by role, ownership or service"
    yield from (f"role {r!r} no longer admitted" for r in base.roles if r not in head.roles)
    if base.owner_field and base.owner_field != head.owner_field:
        yield (
            f"owner_field changed from {base.owner_field!r} to {head.owner_field!r}: "
            "the previous owners are no longer admitted"
            if head.owner_field
            else f"owner_field {base.owner_field!r} removed: owners of the resource are refused"
        )
    yield from (
        f"service {s!r} no longer admitted" for s in base.services if s not in head.services
    )
