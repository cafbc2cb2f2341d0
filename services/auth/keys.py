"""Signing keys: ES256 key pairs, their encryption at rest, the key ring and its rotation.

A rotation adds a key and schedules the retirement of the others: they stay published
(in the JWKS) for ``overlap`` after the new key starts signing, so every token they
signed expires before verifiers stop trusting them. The new key can be published some
time before it signs (``activation_delay``), so verifiers that cache the JWKS know it
before the first token it signs arrives.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from servicekit.errors import ServiceError
from services.auth.domain import ES256, NoSigningKey, SigningKey
from services.auth.ports import Clock, utc_now

__all__ = [
    "KeyEncryption",
    "KeyRing",
    "KeyRotation",
    "Rotation",
    "SigningKeys",
    "generate_signing_key",
    "public_jwk",
]

_log = structlog.get_logger(__name__)
_P256_BYTES = 32
_NEVER = datetime.max.replace(tzinfo=UTC)


class KeyEncryption:
    """Encrypts private keys for storage (PKCS#8 PEM, the best encryption available)."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the key-encryption secret must not be empty")
        self._secret = secret

    def __repr__(self) -> str:
        return "KeyEncryption(<secret>)"

    def encrypt(self, private_key: ec.EllipticCurvePrivateKey) -> str:
        return private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._secret),
        ).decode("ascii")

    def decrypt(self, pem: str) -> ec.EllipticCurvePrivateKey:
        """The private key; ``ValueError`` when the secret is not the one it was stored with."""
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=self._secret)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("a signing key must be an elliptic-curve key")
        return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The JWK of a P-256 public key; its ``kid`` is the RFC 7638 thumbprint."""
    numbers = public_key.public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(_P256_BYTES, "big")),
        "y": _b64url(numbers.y.to_bytes(_P256_BYTES, "big")),
    }
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = _b64url(hashlib.sha256(canonical).digest())
    return {**members, "kid": kid, "use": "sig", "alg": ES256}


def generate_signing_key(
    encryption: KeyEncryption, *, now: datetime, activated_at: datetime | None = None
) -> SigningKey:
    """A new P-256 key pair, its private half encrypted with ``encryption``."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(private_key.public_key())
    return SigningKey(
        kid=jwk["kid"],
        private_key_pem=encryption.encrypt(private_key),
        public_jwk=jwk,
        created_at=now,
        activated_at=now if activated_at is None else activated_at,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyRotation:
    """How long old keys stay published after the new one signs, and how long a new key
    is published before it signs."""

    overlap: timedelta = timedelta(hours=1)
    activation_delay: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.overlap <= timedelta(0) or self.activation_delay < timedelta(0):
            raise ValueError("key rotation needs overlap > 0 and activation_delay >= 0")


@dataclass(frozen=True, kw_only=True, slots=True)
class Rotation:
    """What a rotation changes: the key to add, the keys that retire at ``retire_at``, and
    the keys retired before now, which can be deleted."""

    new_key: SigningKey
    retire_at: datetime
    retiring: tuple[SigningKey, ...]
    dropped: tuple[SigningKey, ...]


class KeyRing:
    """A set of signing keys and the rules about which one signs and which are published."""

    def __init__(self, keys: Iterable[SigningKey]) -> None:
        self._keys = sorted(keys, key=_age, reverse=True)

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """Every key, newest first."""
        return tuple(self._keys)

    def signing_key(self, now: datetime) -> SigningKey:
        """The newest active key; ``NoSigningKey`` when none is."""
        for key in self._keys:
            if key.is_active(now):
                return key
        raise NoSigningKey

    def has_signing_key(self, now: datetime) -> bool:
        return any(key.is_active(now) for key in self._keys)

    def published(self, now: datetime) -> list[SigningKey]:
        """The keys verifiers must know (not retired yet), newest first."""
        return [key for key in self._keys if key.is_published(now)]

    def rotate(self, new_key: SigningKey, *, now: datetime, overlap: timedelta) -> Rotation:
        """Add ``new_key``; every other published key retires ``overlap`` after it
        starts signing (or earlier, if it was due to retire earlier already)."""
        retire_at = new_key.activated_at + overlap
        retiring = tuple(
            key
            for key in self._keys
            if key.is_published(now) and (key.retire_at is None or key.retire_at > retire_at)
        )
        dropped = tuple(key for key in self._keys if not key.is_published(now))
        return Rotation(new_key=new_key, retire_at=retire_at, retiring=retiring, dropped=dropped)


def _age(key: SigningKey) -> tuple[datetime, datetime, datetime, str]:
    """Sort key, newest last: activation, then retirement (a key that a rotation retired is
    older than the one it made, even when both started signing in the same instant)."""
    return (key.activated_at, key.retire_at or _NEVER, key.created_at, key.kid)


class SigningKeys:
    """The stored keys, re-read at most every ``cache_for``; signs with the newest active one.

    Thread-safe; private keys are decrypted once per process. After a rotation made by
    another process, this one signs and publishes the new key within ``cache_for``.
    """

    def __init__(
        self,
        load: Callable[[], Sequence[SigningKey]],
        *,
        encryption: KeyEncryption,
        cache_for: timedelta = timedelta(seconds=30),
        clock: Clock = utc_now,
    ) -> None:
        self._load = load
        self.encryption = encryption
        self.cache_for = cache_for
        self._clock = clock
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._loaded_at: datetime | None = None
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}

    def ring(self) -> KeyRing:
        """The keys, read again when the cache is older than ``cache_for``. When that read
        fails (the database is down), the keys known so far serve another ``cache_for``."""
        with self._lock:
            now = self._clock()
            loaded, ring = self._loaded_at, self._ring
            if ring is not None and loaded is not None and now - loaded < self.cache_for:
                return ring
            try:
                ring = KeyRing(self._load())
            except ServiceError as exc:
                if ring is None:
                    raise
                _log.warning("signing keys not re-read, keeping known ones", error=exc.message)
            self._ring, self._loaded_at = ring, now
            return ring

    def invalidate(self) -> None:
        """Forget the cached keys: the next use reads them again (after a rotation here)."""
        with self._lock:
            self._ring, self._loaded_at = None, None

    def published(self, now: datetime) -> list[SigningKey]:
        return self.ring().published(now)

    def signing_kid(self, now: datetime) -> str:
        """The kid that signs now; ``NoSigningKey`` when none can."""
        return self.ring().signing_key(now).kid

    def sign(self, claims: Mapping[str, Any], now: datetime) -> str:
        """A JWT of ``claims`` signed by the newest active key, its kid in the header."""
        key = self.ring().signing_key(now)
        return jwt.encode(
            dict(claims), self._private_key(key), algorithm=key.algorithm, headers={"kid": key.kid}
        )

    def _private_key(self, key: SigningKey) -> ec.EllipticCurvePrivateKey:
        with self._lock:
            private = self._private.get(key.kid)
            if private is None:
                try:
                    private = self.encryption.decrypt(key.private_key_pem)
                except ValueError:
                    _log.error("signing key cannot be decrypted: wrong secret?", kid=key.kid)
                    raise NoSigningKey from None
                self._private[key.kid] = private
            return private
