"""The User Service's use cases: plain arguments in, domain objects out.

Each use case owns one transaction (``with self._uow() as uow: ... uow.commit()``), so a
rule that fails leaves nothing changed. A use case that only reads, in one statement,
opens ``self._uow().reading()``: no transaction to begin and roll back. Password hashing
runs outside transactions: it takes tens of milliseconds and must not hold a pooled
connection meanwhile.

A create may carry the caller's ``request_id`` (AIP-155): the request is then kept with
the user it makes, and the same request sent again (the caller saw a timeout or
UNAVAILABLE and cannot know whether it was done) answers that user instead of making a
second one or failing on its own email. Another request reusing the id is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.user.domain import (
    Actor,
    EmailTaken,
    InvalidCredentials,
    RequestIdReused,
    RequestIdTaken,
    Role,
    RoleChangeForbidden,
    StaleEtag,
    UpdateMask,
    User,
    UserChanges,
    UserNotFound,
    email_key,
    request_digest,
    required_value,
    storable_text,
)
from services.user.events import NoEvents, UserEvents
from services.user.pagination import PageLimits, PageTokens, Position, UserFilter
from services.user.passwords import Passwords
from services.user.unit_of_work import UserUnitOfWork

__all__ = ["Page", "UserService"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """One page of a list; ``next_page_token`` is empty on the last page."""

    users: tuple[User, ...]
    next_page_token: str


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


class UserService:
    """Every use case of the service; built once by the wiring, shared by all calls.

    ``page_limits`` and ``update_mask`` are the contract's rules, read by the wiring;
    ``page_tokens`` signs page tokens with the key every replica shares (without one, a
    key of this instance's own).
    """

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], UserUnitOfWork],
        passwords: Passwords,
        page_limits: PageLimits,
        update_mask: UpdateMask,
        page_tokens: PageTokens | None = None,
        clock: Callable[[], datetime] = _utc_now,
        new_id: Callable[[], str] = _new_id,
        events: UserEvents | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._passwords = passwords
        self._limits = page_limits
        self._mask = update_mask
        self._tokens = page_tokens if page_tokens is not None else PageTokens.with_random_key()
        self._clock = clock
        self._new_id = new_id
        self._events: UserEvents = events if events is not None else NoEvents()

    def create_user(
        self, *, email: str, display_name: str, password: str, request_id: str = ""
    ) -> User:
        """Register a user. Never grants a role, whoever calls: see :meth:`bootstrap_admin`.

        With a ``request_id`` made by an earlier create with the same fields, that create's
        user (``RequestIdReused`` if the fields differ; ``UserNotFound`` if it was deleted
        since).
        """
        if request_id:
            earlier = self._created_by(request_id)
            if earlier is not None:
                return self._same_request(earlier, email, display_name, password)
        user = self._new_user(
            email, display_name, password, roles=frozenset(), request_id=request_id or None
        )
        try:
            with self._uow() as uow:
                uow.users.add(user)
                uow.commit()
        except (RequestIdTaken, EmailTaken):
            # The same request, sent twice at once, made the user in the other call.
            earlier = self._created_by(request_id) if request_id else None
            if earlier is None:
                raise
            return self._same_request(earlier, email, display_name, password)
        self._events.user_registered()
        return user

    def get_user(self, user_id: str) -> User:
        with self._uow().reading() as uow:
            return _existing(uow, user_id)

    def list_users(
        self, *, page_size: int, page_token: str, email: str | None, role: Role | None
    ) -> Page:
        """Live users by creation time, from the position in ``page_token`` on."""
        filter_ = UserFilter(email_key=email_key(email) if email else None, role=role)
        after = self._tokens.decode(page_token, filter_)
        size = self._limits.size(page_size)
        with self._uow().reading() as uow:
            found = uow.users.list_page(filter_, after=after, limit=size + 1)
        page = tuple(found[:size])
        token = ""  # no next page  # nosec B105
        if len(found) > size:
            token = self._tokens.encode(Position.of(page[-1]), filter_)
        return Page(users=page, next_page_token=token)

    def update_user(
        self,
        user_id: str,
        *,
        changes: UserChanges,
        paths: Iterable[str],
        etag: str,
        actor: Actor,
    ) -> User:
        """Apply the fields named in ``paths``; with an ``etag``, only to that version.

        Roles change only by an admin's hand; the new email is checked for uniqueness by
        the database itself, inside this transaction.
        """
        chosen = self._mask.chosen(paths)
        for path, value in (("email", changes.email), ("display_name", changes.display_name)):
            if path in chosen:
                required_value(path, value)
        if "roles" in chosen and not actor.is_admin:
            raise RoleChangeForbidden
        with self._uow() as uow:
            current = _existing(uow, user_id)
            _check_etag(current, etag)
            changed = current.changed(changes, chosen, self._clock())
            if changed is not current:
                uow.users.update(changed, expected_version=current.version)
                uow.commit()
        return changed

    def delete_user(self, user_id: str, *, etag: str | None) -> None:
        """Soft-delete: the user is not found any more, cannot sign in, frees its email."""
        with self._uow() as uow:
            expected_version = None
            if etag:
                current = _existing(uow, user_id)
                _check_etag(current, etag)
                expected_version = current.version
            uow.users.soft_delete(user_id, expected_version=expected_version, when=self._clock())
            uow.commit()

    def verify_credentials(self, *, email: str, password: str) -> User:
        """The user these credentials belong to, or ``InvalidCredentials``.

        An unknown email costs one argon2 verification too (of a dummy hash), so neither
        the error nor the time taken tells whether the email exists.
        """
        user = None
        if "\x00" not in email:  # no user has one; the database would refuse to compare it
            with self._uow().reading() as uow:
                user = uow.users.get_by_email_key(email_key(email))
        if user is None:
            self._passwords.verify_dummy(password)
            raise InvalidCredentials
        if not self._passwords.verify(user.password_hash, password):
            raise InvalidCredentials
        if self._passwords.needs_rehash(user.password_hash):
            self._rehash(user, password)
        return user

    def sign_in_state(self, user_id: str) -> User:
        """The user as its sessions must see it now (roles, ``password_set_time``);
        ``UserNotFound`` once it is deleted."""
        return self.get_user(user_id)

    def bootstrap_admin(self, *, email: str, display_name: str, password: str) -> User:
        """Create an admin, or make the existing user with this email one.

        For ``create-admin``, the only way to the first admin. An existing user keeps its
        password and name: only the role is added.
        """
        with self._uow() as uow:
            existing = uow.users.get_by_email_key(email_key(email))
            if existing is None:
                admin = self._new_user(email, display_name, password, roles=frozenset({Role.ADMIN}))
                uow.users.add(admin)
            else:
                roles = UserChanges(roles=existing.roles | {Role.ADMIN})
                admin = existing.changed(roles, frozenset({"roles"}), self._clock())
                if admin is not existing:
                    uow.users.update(admin, expected_version=existing.version)
            uow.commit()
        return admin

    def _new_user(
        self,
        email: str,
        display_name: str,
        password: str,
        *,
        roles: frozenset[Role],
        request_id: str | None = None,
    ) -> User:
        storable_text("email", email)
        storable_text("display_name", display_name)
        now = self._clock()
        return User(
            id=self._new_id(),
            email=email,
            email_key=email_key(email),
            display_name=display_name,
            roles=roles,
            password_hash=self._passwords.hash(password),
            create_time=now,
            update_time=now,
            request_id=request_id,
            request_digest=None if request_id is None else request_digest(email, display_name),
        )

    def _created_by(self, request_id: str) -> User | None:
        with self._uow().reading() as uow:
            return uow.users.get_by_request_id(request_id)

    def _same_request(self, earlier: User, email: str, display_name: str, password: str) -> User:
        """``earlier``, made by a create with this request's id, if this is that request."""
        if earlier.request_digest != request_digest(email, display_name):
            raise RequestIdReused
        if not self._passwords.verify(earlier.password_hash, password):
            raise RequestIdReused
        if earlier.delete_time is not None:
            raise UserNotFound(earlier.id)
        return earlier

    def _rehash(self, user: User, password: str) -> None:
        password_hash = self._passwords.hash(password)
        with self._uow() as uow:
            uow.users.set_password_hash(user.id, password_hash)
            uow.commit()


def _existing(uow: UserUnitOfWork, user_id: str) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise UserNotFound(user_id)
    return user


def _check_etag(user: User, etag: str) -> None:
    if etag and etag != user.etag:
        raise StaleEtag
