"""The Auth Service's use cases behind one ``AuthService``: plain arguments in, domain objects out.

Sign-in, refresh, logout and purge are here; the signing keys' use cases are
``key_management``'s and the counting of sign-in attempts is ``throttling``'s. What
happens (sign-ins by outcome, refresh tokens reused, sessions revoked and why) is told to
the injected ``AuthEvents`` once it has happened, committed.

Each use case owns its transactions (``with self._uow() as uow: ... uow.commit()``). No
transaction is open while the User Service checks a password, while it tells what a user
is now, or while a failed sign-in is held back, so none holds a pooled connection.

Sessions follow their user: every refresh asks the User Service (as the service ``auth``)
for the user as it is now, and signs the new access token with the roles of that answer.
A session whose user is gone, or whose password was set again since it began, ends
there. Why a call rather than events from the User Service: the answer is current at the
moment a token is issued, with no event to lose, order or replay, and it costs one point
read per refresh (once per access-token life of an active client). Access tokens already
issued stay valid until they expire (``tokens.access_token_ttl_seconds``, 15 minutes):
the services that check them do not call back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

import structlog

from servicekit.errors import ServiceError
from services.auth.attempts import AttemptKeys, LoginThrottle, TooManyAttempts
from services.auth.domain import (
    InvalidCredentials,
    InvalidRefreshToken,
    RefreshToken,
    RefreshTokenReused,
    Session,
    SessionLifetimes,
    SigningKey,
)
from services.auth.key_management import ensure_signing_key, rotate_keys
from services.auth.keys import KeyRotation, SigningKeys
from services.auth.ports import (
    AuthEvents,
    Clock,
    NoEvents,
    RevocationReason,
    Sleep,
    UserDirectory,
    VerifiedUser,
    utc_now,
)
from services.auth.throttling import LoginAttemptCounter
from services.auth.tokens import (
    AccessToken,
    TokenIssuer,
    new_refresh_token,
    refresh_token_hash,
)
from services.auth.unit_of_work import AuthUnitOfWork

__all__ = ["AuthService", "Purged", "TokenPair"]

_log = structlog.get_logger(__name__)

UnitOfWorkFactory = Callable[[], AuthUnitOfWork]


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenPair:
    """What a sign-in or a refresh hands out."""

    access_token: str = field(repr=False)
    access_token_expires_at: datetime
    refresh_token: str = field(repr=False)
    refresh_token_expires_at: datetime
    session_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Purged:
    sessions: int
    login_attempts: int


def _new_id() -> str:
    return str(uuid.uuid4())


class AuthService:
    """Every use case of the service; built once by the wiring, shared by all calls.

    The session and token use cases live here; the signing keys' are ``key_management``'s
    and the counting of sign-in attempts is a ``LoginAttemptCounter``'s.
    Raises ``ValueError`` when the key rotation overlap is shorter than an access token
    can outlive its key's last signature (ttl + key cache + verifier leeway).
    """

    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        users: UserDirectory,
        keys: SigningKeys,
        tokens: TokenIssuer,
        throttle: LoginThrottle | None = None,
        lifetimes: SessionLifetimes | None = None,
        rotation: KeyRotation | None = None,
        verifier_leeway: timedelta = timedelta(seconds=30),
        clock: Clock = utc_now,
        sleep: Sleep = time.sleep,
        new_id: Callable[[], str] = _new_id,
        events: AuthEvents | None = None,
    ) -> None:
        self._uow = unit_of_work
        self._events: AuthEvents = events if events is not None else NoEvents()
        self._users = users
        self._keys = keys
        self._tokens = tokens
        self._lifetimes = lifetimes or SessionLifetimes()
        self._rotation = rotation or KeyRotation()
        self._clock = clock
        self._new_id = new_id
        self._attempts = LoginAttemptCounter(
            unit_of_work=unit_of_work,
            throttle=throttle or LoginThrottle(),
            clock=clock,
            sleep=sleep,
        )
        shortest = tokens.ttl + keys.cache_for + verifier_leeway
        if self._rotation.overlap < shortest:
            raise ValueError(f"the key rotation overlap must be at least {shortest}")

    def login(self, *, email: str, password: str, client: str = "") -> TokenPair:
        """A new session for these credentials, asked from ``client`` (its address; empty
        when unknown).

        Every email, known or not, has its attempts counted, per client and per account
        (``LoginThrottle``): locked out, the User Service is not even asked; a failure
        from the ``slow_after``-th on is answered late.
        """
        self._keys.signing_kid(self._clock())  # unable to sign: refuse before counting
        keys = AttemptKeys.of(email, client)
        try:
            self._attempts.admit(keys)
        except TooManyAttempts:
            self._events.login("locked")
            raise
        try:
            user = self._users.verify(email, password)
        except InvalidCredentials:
            attempts = self._attempts.failed(keys)
            self._events.login("failed")
            self._attempts.hold_back(attempts)
            raise
        except ServiceError:
            self._attempts.release(keys)  # the password was not judged: do not count it
            raise
        pair = self._sign_in(keys, user)
        self._events.login("succeeded")
        return pair

    def refresh(self, refresh_token: str) -> TokenPair:
        """A new pair for a refresh token, which stops working; a used one ends the session.

        The user is asked for first (no transaction open meanwhile): gone, or with a
        password set since the session began, the session ends; otherwise the new access
        token carries the user's roles of now. The token is spent only after that answer,
        so an unreachable User Service leaves it usable.
        """
        presented = refresh_token_hash(refresh_token)
        now = self._clock()
        self._keys.signing_kid(now)  # fail before the token is spent, not after
        with self._uow() as uow:
            session = _live_session(uow, presented, now, self._events)
        user = self._users.current(session.user_id)
        if user is None or session.outlived_password(user.password_set_at):
            self._end(session, now, "user_deleted" if user is None else "password_changed")
        replacement = new_refresh_token()
        with self._uow() as uow:
            session = _live_session(uow, presented, now, self._events)
            record = self._refresh_record(replacement, session, now)
            if not uow.refresh_tokens.claim(presented, now, record.token_hash):
                # A concurrent refresh used it first.
                _revoke_reused(uow, session, now, self._events)
            uow.refresh_tokens.add(record)
            uow.commit()
        return _pair(self._access_token(session, user.roles, now), replacement, record)

    def logout(self, refresh_token: str) -> None:
        """End the session of this refresh token (used or not).

        An unknown token is ignored and an ended session stays ended: the answer is the
        same, so it never tells whether a token exists.
        """
        presented = refresh_token_hash(refresh_token)
        now = self._clock()
        with self._uow() as uow:
            stored = uow.refresh_tokens.get(presented)
            if stored is not None and uow.sessions.revoke(stored.session_id, now):
                uow.commit()
                self._events.session_revoked("logout")

    def jwks(self) -> list[dict[str, str]]:
        """The public keys of every published signing key (a JWKS's ``keys``)."""
        return [dict(key.public_jwk) for key in self._keys.published(self._clock())]

    def ensure_signing_key(self) -> str:
        """The kid that signs now, after creating a first key if none can sign."""
        return ensure_signing_key(self._uow, self._keys, now=self._clock())

    def rotate_keys(self) -> SigningKey:
        """Add a new signing key; the others retire once the overlap after it has passed."""
        return rotate_keys(self._uow, self._keys, self._rotation, now=self._clock())

    def purge(self) -> Purged:
        """Delete sessions ended more than ``retention`` ago and attempts that expired."""
        now = self._clock()
        with self._uow() as uow:
            sessions = uow.sessions.delete_ended(now - self._lifetimes.retention)
            attempts = self._attempts.delete_stale(uow, now)
            uow.commit()
        return Purged(sessions=sessions, login_attempts=attempts)

    def _sign_in(self, keys: AttemptKeys, user: VerifiedUser) -> TokenPair:
        now = self._clock()
        session = Session(
            id=self._new_id(),
            user_id=user.id,
            roles=user.roles,
            created_at=now,
            expires_at=now + self._lifetimes.session_ttl,
            password_set_at=user.password_set_at,
        )
        access = self._access_token(session, user.roles, now)  # signed before anything is stored
        refresh = new_refresh_token()
        record = self._refresh_record(refresh, session, now)
        with self._uow() as uow:
            self._attempts.succeeded(uow, keys, now)
            uow.sessions.add(session)
            uow.refresh_tokens.add(record)
            uow.commit()
        return _pair(access, refresh, record)

    def _end(self, session: Session, now: datetime, reason: RevocationReason) -> NoReturn:
        """End ``session`` because its user changed, and refuse the refresh."""
        with self._uow() as uow:
            if uow.sessions.revoke(session.id, now):
                uow.commit()
                self._events.session_revoked(reason)
        _log.info("session ended", session=session.id, user=session.user_id, reason=reason)
        raise InvalidRefreshToken

    def _refresh_record(self, token: str, session: Session, now: datetime) -> RefreshToken:
        expires_at = min(now + self._lifetimes.refresh_token_ttl, session.expires_at)
        return RefreshToken(
            token_hash=refresh_token_hash(token),
            session_id=session.id,
            issued_at=now,
            expires_at=expires_at,
        )

    def _access_token(self, session: Session, roles: frozenset[str], now: datetime) -> AccessToken:
        return self._tokens.mint_access_token(
            subject=session.user_id, roles=roles, session_id=session.id, now=now
        )


def _live_session(
    uow: AuthUnitOfWork, presented: str, now: datetime, events: AuthEvents
) -> Session:
    """The live session of the presented refresh token (its hash), or the refusal; a used
    token revokes its session (committed) before it is refused."""
    stored = uow.refresh_tokens.get(presented)
    session = None if stored is None else uow.sessions.get(stored.session_id)
    if stored is None or session is None:
        raise InvalidRefreshToken
    if stored.used_at is not None:
        _revoke_reused(uow, session, now, events)
    if not stored.is_usable(now) or not session.is_live(now):
        raise InvalidRefreshToken
    return session


def _revoke_reused(
    uow: AuthUnitOfWork, session: Session, now: datetime, events: AuthEvents
) -> NoReturn:
    revoked = uow.sessions.revoke(session.id, now)
    uow.commit()
    events.refresh_token_reused()
    if revoked:
        events.session_revoked("refresh_token_reused")
    _log.warning("refresh token reused; session revoked", session=session.id, user=session.user_id)
    raise RefreshTokenReused


def _pair(access: AccessToken, refresh: str, record: RefreshToken) -> TokenPair:
    return TokenPair(
        access_token=access.token,
        access_token_expires_at=access.expires_at,
        refresh_token=refresh,
        refresh_token_expires_at=record.expires_at,
        session_id=record.session_id,
    )
