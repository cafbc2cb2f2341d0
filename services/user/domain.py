"""Users, their roles and the rules about changing them; free of any transport or storage.

Everything here is a plain value: the use cases build new ``User`` states with
:meth:`User.changed` and hand them to a repository, which decides nothing.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from servicekit.errors import (
    AlreadyExists,
    Conflict,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

__all__ = [
    "Actor",
    "EmailTaken",
    "ImmutableField",
    "InvalidCredentials",
    "RequestIdReused",
    "RequestIdTaken",
    "Role",
    "RoleChangeForbidden",
    "StaleEtag",
    "UnknownField",
    "UpdateMask",
    "User",
    "UserChanges",
    "UserNotFound",
    "email_key",
    "request_digest",
    "required_value",
    "storable_text",
]


class Role(enum.Enum):
    """A grant beyond a user's own resources; values are the access-token role names."""

    ADMIN = "admin"
    AUDITOR = "auditor"

    @classmethod
    def parse_known(cls, names: Iterable[str]) -> frozenset[Role]:
        """The roles among ``names`` that this service knows; others grant nothing here."""
        known = {role.value: role for role in cls}
        return frozenset(known[name] for name in names if name in known)


def email_key(email: str) -> str:
    """The form under which emails are unique: full-width ``A@X`` and ``a@x`` are one key.

    NFKC, case folding, NFKC again (close to Unicode's ``NFKC_Casefold``): compatibility
    forms and letter case stop mattering, while the user's own spelling is kept for display.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).casefold())


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    """Who asks for a use case, as far as the rules care; built from the call's principal."""

    subject: str = ""
    roles: frozenset[Role] = frozenset()
    is_service: bool = False

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


@dataclass(frozen=True, kw_only=True, slots=True)
class UserChanges:
    """New values of an update; only the ones named by the update mask are applied."""

    email: str = ""
    display_name: str = ""
    roles: frozenset[Role] = frozenset()


@dataclass(frozen=True, kw_only=True, slots=True)
class User:
    """A person who can sign in. ``version`` grows by one with every change."""

    id: str
    email: str
    email_key: str
    display_name: str
    roles: frozenset[Role]
    password_hash: str = dataclasses.field(repr=False)
    create_time: datetime
    update_time: datetime
    delete_time: datetime | None = None
    version: int = 1
    request_id: str | None = None
    request_digest: str | None = None

    @property
    def password_set_time(self) -> datetime:
        """When the password was last set: at creation, as no use case changes a password
        (a rehash with new costs keeps it). A use case that sets one must store its time
        and answer it here: sessions started before it then end (the auth service compares
        this time on every refresh)."""
        return self.create_time

    @property
    def etag(self) -> str:
        """An opaque tag of this state: it changes whenever ``version`` does."""
        digest = hashlib.blake2b(f"{self.id}:{self.version}".encode(), digest_size=8)
        return digest.hexdigest()

    def changed(self, changes: UserChanges, paths: frozenset[str], now: datetime) -> User:
        """This user with the fields in ``paths`` taken from ``changes``, one version on.

        Returns ``self`` untouched when nothing would differ, so no-op updates keep the etag.
        """
        email = changes.email if "email" in paths else self.email
        name = changes.display_name if "display_name" in paths else self.display_name
        roles = changes.roles if "roles" in paths else self.roles
        if (email, name, roles) == (self.email, self.display_name, self.roles):
            return self
        return dataclasses.replace(
            self,
            email=email,
            email_key=email_key(email),
            display_name=name,
            roles=roles,
            update_time=now,
            version=self.version + 1,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class UpdateMask:
    """Which update-mask paths a caller may name, as the contract states them (the wiring
    reads them from it): ``paths`` that may change, among all the ``fields`` of a user (the
    others only the server sets), and whether a mask must name at least one (``required``).
    """

    paths: frozenset[str]
    fields: frozenset[str]
    required: bool

    def __post_init__(self) -> None:
        if not self.paths or not self.paths <= self.fields:
            raise ValueError(f"update-mask paths must be some of the fields, not {self}")

    def chosen(self, paths: Iterable[str]) -> frozenset[str]:
        """The mask as a set, or the error naming the first path nobody may change."""
        chosen = list(paths)
        for path in chosen:
            if path in self.fields and path not in self.paths:
                raise ImmutableField(path)
            if path not in self.paths:
                raise UnknownField(path, allowed=self.paths)
        if self.required and not chosen:
            raise InvalidArgument.for_field("update_mask", "required", "name at least one field")
        return frozenset(chosen)


def request_digest(email: str, display_name: str) -> str:
    """What a create request asked for besides its password, as kept with the user it made:
    a request sent again must ask for the same (its password is checked against the hash).
    """
    return hashlib.sha256(f"{email}\x00{display_name}".encode()).hexdigest()


def required_value(path: str, value: str) -> None:
    """A mask path naming a text field sets it: an empty value would erase a required field."""
    if not value:
        raise InvalidArgument.for_field(f"user.{path}", "required", "must not be empty")
    storable_text(f"user.{path}", value)


def storable_text(field: str, value: str) -> None:
    """Refuse NUL characters: valid in protobuf strings, they cannot be stored as text
    (PostgreSQL refuses them) and no name or email needs one."""
    if "\x00" in value:
        raise InvalidArgument.for_field(field, "string.no_nul", "must not contain NUL characters")


class UserNotFound(NotFound):
    """No live user has this id (a deleted user is not found either)."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id!r} not found")


class EmailTaken(AlreadyExists):
    """Another live user has the same email, compared by :func:`email_key`."""

    def __init__(self) -> None:
        super().__init__("a user with this email exists already")


class RequestIdTaken(AlreadyExists):
    """Another user was created by a request with this id (a race of the same request)."""

    def __init__(self) -> None:
        super().__init__("a user was created by a request with this request_id already")


class RequestIdReused(InvalidArgument):
    """A create request reuses the ``request_id`` of an earlier one that asked for
    something else: a client bug (a new user needs a new id), not a retry."""

    def __init__(self) -> None:
        message = "was used by an earlier CreateUser with other fields; use a new one"
        super().__init__(
            f"request_id: {message}",
            (FieldViolation(field="request_id", rule="request_id.reused", message=message),),
        )


class StaleEtag(Conflict):
    """The user changed since the caller read it: re-read, then retry."""

    def __init__(self) -> None:
        super().__init__("the user has changed since it was read (stale etag); read it again")


class InvalidCredentials(Unauthenticated):
    """One error for an unknown email and a wrong password, so neither is revealed."""

    def __init__(self) -> None:
        super().__init__("invalid credentials")


class RoleChangeForbidden(PermissionDenied):
    """A caller without the admin role named ``roles`` in an update mask."""

    def __init__(self) -> None:
        super().__init__("only an admin may change roles")


class UnknownField(InvalidArgument):
    """An update-mask path that names no field of a user."""

    def __init__(self, path: str, *, allowed: Iterable[str]) -> None:
        *others, last = sorted(allowed)
        choices = f"{', '.join(others)} or {last}" if others else last
        message = f"unknown field {path!r}; use {choices}"
        super().__init__(f"update_mask: {message}", _mask_violation("unknown_path", message))


class ImmutableField(InvalidArgument):
    """An update-mask path that names a field only the server sets."""

    def __init__(self, path: str) -> None:
        message = f"field {path!r} cannot be changed"
        super().__init__(f"update_mask: {message}", _mask_violation("immutable_path", message))


def _mask_violation(rule: str, message: str) -> tuple[FieldViolation, ...]:
    return (FieldViolation(field="update_mask", rule=f"update_mask.{rule}", message=message),)
