"""Keyset pagination of users: filters, positions and opaque, checked page tokens.

Pages are ordered by ``(create_time, id)`` and a token holds the key of the last row
served, never an offset: rows inserted or deleted between two pages can neither shift an
existing row onto the next page twice nor push one off unseen.

A token is urlsafe base64 of ``mac || json``. The MAC (BLAKE2b keyed with a secret that
every replica shares: the ``pagination.page_token_secret`` setting) makes any edited,
truncated or forged token fail as a whole; the filter fingerprint inside it refuses a
token replayed with other filters. Neither grants anything: a forged position would only
start a list the caller may read anyway somewhere else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from servicekit.errors import InvalidArgument
from services.user.domain import Role, User

__all__ = ["PageLimits", "PageTokens", "Position", "UserFilter"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MAC_BYTES = 12
_VERSION = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class UserFilter:
    """Which users a list returns: ``email_key`` compares as :func:`domain.email_key` does."""

    email_key: str | None = None
    role: Role | None = None

    def fingerprint(self) -> str:
        """A short digest that changes whenever the filter does."""
        text = json.dumps([self.email_key, self.role.value if self.role else None])
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class Position:
    """The sort key of the last user of a page; the next page starts strictly after it."""

    create_time: datetime
    id: str

    @classmethod
    def of(cls, user: User) -> Position:
        return cls(create_time=user.create_time, id=user.id)


@dataclass(frozen=True, kw_only=True, slots=True)
class PageLimits:
    """The contract's page size default and maximum, as plain numbers."""

    default: int
    maximum: int

    def __post_init__(self) -> None:
        if not 1 <= self.default <= self.maximum:
            raise ValueError(f"page sizes need 1 <= default <= maximum, not {self}")

    def size(self, requested: int) -> int:
        """The page size to serve: 0 means the default; larger than the maximum, the maximum."""
        if requested < 0:
            raise InvalidArgument.for_field("page_size", "int32.gte", "must not be negative")
        return min(requested or self.default, self.maximum)


class PageTokens:
    """Writes and reads page tokens; ``key`` (shared by every replica) signs them.

    ``ValueError`` for an empty key: an unkeyed MAC is a checksum anyone can recompute.
    """

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("page tokens need a key")
        # BLAKE2b takes keys of up to 64 bytes: longer ones are hashed down to that.
        self._key = key if len(key) <= 64 else hashlib.blake2b(key).digest()

    @classmethod
    def with_random_key(cls) -> PageTokens:
        """Tokens that only this instance can read (tests, one-process tools)."""
        return cls(secrets.token_bytes(32))

    def encode(self, position: Position, filter_: UserFilter) -> str:
        micros = (position.create_time - _EPOCH) // _MICROSECOND
        fields = {"v": _VERSION, "t": micros, "i": position.id, "f": filter_.fingerprint()}
        payload = json.dumps(fields, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._mac(payload) + payload).decode().rstrip("=")

    def decode(self, token: str, filter_: UserFilter) -> Position | None:
        """The position in ``token``; None for an empty token (the first page)."""
        if not token:
            return None
        fields = self._fields(token)
        if fields.get("f") != filter_.fingerprint():
            raise _invalid("the filters differ from the request that produced this token")
        micros, user_id = fields.get("t"), fields.get("i")
        if fields.get("v") != _VERSION or not isinstance(micros, int):
            raise _invalid("not a page token of this list")
        if not isinstance(user_id, str):
            raise _invalid("not a page token of this list")
        try:
            create_time = _EPOCH + micros * _MICROSECOND
        except OverflowError as exc:
            raise _invalid("not a page token of this list") from exc
        return Position(create_time=create_time, id=user_id)

    def _fields(self, token: str) -> dict[str, object]:
        try:
            padded = token + "=" * (-len(token) % 4)
            raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _invalid("not a page token of this list") from exc
        mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise _invalid("not a page token of this list")
        try:
            fields = json.loads(payload)
        except ValueError as exc:
            raise _invalid("not a page token of this list") from exc
        if not isinstance(fields, dict):
            raise _invalid("not a page token of this list")
        return fields

    def _mac(self, payload: bytes) -> bytes:
        return hashlib.blake2b(payload, key=self._key, digest_size=_MAC_BYTES).digest()


def _invalid(message: str) -> InvalidArgument:
    return InvalidArgument.for_field("page_token", "page_token.valid", message)
