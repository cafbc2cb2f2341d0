"""The use cases of the signing keys: load them, make the first, rotate them.

Each write is one transaction; after it the key cache of ``SigningKeys`` is dropped, so
this process signs with the new state at once (others within their ``cache_for``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from services.auth.domain import SigningKey
from services.auth.keys import KeyRing, KeyRotation, SigningKeys, generate_signing_key
from services.auth.unit_of_work import AuthUnitOfWork

__all__ = ["ensure_signing_key", "rotate_keys", "stored_signing_keys"]

_log = structlog.get_logger(__name__)

UnitOfWorkFactory = Callable[[], AuthUnitOfWork]


def stored_signing_keys(unit_of_work: UnitOfWorkFactory) -> Callable[[], list[SigningKey]]:
    """A loader of the stored keys for ``SigningKeys``, one short transaction per read."""

    def load() -> list[SigningKey]:
        with unit_of_work() as uow:
            return uow.signing_keys.list_all()

    return load


def ensure_signing_key(unit_of_work: UnitOfWorkFactory, keys: SigningKeys, *, now: datetime) -> str:
    """The kid that signs at ``now``, after creating a first key if none can."""
    with unit_of_work() as uow:
        ring = KeyRing(uow.signing_keys.list_all())
        if ring.has_signing_key(now):
            return ring.signing_key(now).kid
        key = generate_signing_key(keys.encryption, now=now)
        uow.signing_keys.add(key)
        uow.commit()
    keys.invalidate()
    _log.info("signing key created", kid=key.kid)
    return key.kid


def rotate_keys(
    unit_of_work: UnitOfWorkFactory, keys: SigningKeys, policy: KeyRotation, *, now: datetime
) -> SigningKey:
    """Add a new signing key; the others retire once the overlap after it has passed."""
    activated_at = now + policy.activation_delay
    new_key = generate_signing_key(keys.encryption, now=now, activated_at=activated_at)
    with unit_of_work() as uow:
        ring = KeyRing(uow.signing_keys.list_all())
        rotation = ring.rotate(new_key, now=now, overlap=policy.overlap)
        for key in rotation.retiring:
            uow.signing_keys.retire(key.kid, rotation.retire_at)
        for key in rotation.dropped:
            uow.signing_keys.delete(key.kid)
        uow.signing_keys.add(new_key)
        uow.commit()
    keys.invalidate()
    _log.info(
        "signing keys rotated",
        kid=new_key.kid,
        activated_at=activated_at.isoformat(),
        retiring=[key.kid for key in rotation.retiring],
        retire_at=rotation.retire_at.isoformat(),
    )
    return new_key
