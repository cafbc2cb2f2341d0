"""One contract, three stores: the fakes and the SQLAlchemy repositories on PostgreSQL and
SQLite, so the fakes the unit tests trust behave as the databases do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from servicekit.testing.databases import rolled_back_session
from services.auth.attempts import LoginAttempts
from services.auth.domain import RefreshToken, Session, SigningKey
from services.auth.keys import KeyEncryption, generate_signing_key
from services.auth.repository.login_attempts import (
    LoginAttemptRepository,
    SqlAlchemyLoginAttemptRepository,
)
from services.auth.repository.sessions import (
    RefreshTokenRepository,
    SessionRepository,
    SqlAlchemyRefreshTokenRepository,
    SqlAlchemySessionRepository,
)
from services.auth.repository.signing_keys import (
    SigningKeyRepository,
    SqlAlchemySigningKeyRepository,
)
from tests.integration.auth.conftest import EngineFor
from tests.unit.auth.fakes import FakeAuthUnitOfWork

T0 = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


@dataclass(frozen=True)
class Store:
    sessions: SessionRepository
    refresh_tokens: RefreshTokenRepository
    signing_keys: SigningKeyRepository
    login_attempts: LoginAttemptRepository


@pytest.fixture(params=["fake", "postgresql", "sqlite"])
def store(request: pytest.FixtureRequest, migrated_engine_for: EngineFor) -> Iterator[Store]:
    if request.param == "fake":
        fake = FakeAuthUnitOfWork()
        yield Store(fake.sessions, fake.refresh_tokens, fake.signing_keys, fake.login_attempts)
        return
    with rolled_back_session(migrated_engine_for(request.param)) as session:
        yield Store(
            SqlAlchemySessionRepository(session),
            SqlAlchemyRefreshTokenRepository(session),
            SqlAlchemySigningKeyRepository(session),
            SqlAlchemyLoginAttemptRepository(session),
        )


def make_session(n: int, **changes: object) -> Session:
    fields: dict[str, object] = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "user_id": f"00000000-0000-4000-9000-{n:012d}",
        "roles": frozenset({"admin", "auditor"}),
        "created_at": T0,
        "expires_at": T0 + timedelta(days=30),
        **changes,
    }
    return Session(**fields)  # type: ignore[arg-type]


def make_token(n: int, session: Session, **changes: object) -> RefreshToken:
    fields: dict[str, object] = {
        "token_hash": f"{n:064x}",
        "session_id": session.id,
        "issued_at": T0,
        "expires_at": T0 + timedelta(days=14),
        **changes,
    }
    return RefreshToken(**fields)  # type: ignore[arg-type]


def test_a_session_reads_back_field_for_field(store: Store) -> None:
    session = make_session(1, password_set_at=T0 - timedelta(days=3, microseconds=17))
    store.sessions.add(session)
    store.sessions.add(make_session(2, roles=frozenset()))

    assert store.sessions.get(session.id) == session
    assert store.sessions.get(make_session(2).id) == make_session(2, roles=frozenset())
    assert store.sessions.get(make_session(3).id) is None


def test_a_session_is_revoked_once(store: Store) -> None:
    session = make_session(1)
    store.sessions.add(session)

    assert store.sessions.revoke(session.id, T0 + timedelta(hours=1))
    assert not store.sessions.revoke(session.id, T0 + timedelta(hours=2))
    assert not store.sessions.revoke(make_session(9).id, T0)

    revoked = store.sessions.get(session.id)
    assert revoked is not None
    assert revoked.revoked_at == T0 + timedelta(hours=1)


def test_a_refresh_token_reads_back_by_its_hash(store: Store) -> None:
    session = make_session(1)
    store.sessions.add(session)
    token = make_token(1, session)
    store.refresh_tokens.add(token)

    assert store.refresh_tokens.get(token.token_hash) == token
    assert store.refresh_tokens.get(make_token(2, session).token_hash) is None


def test_a_refresh_token_is_claimed_exactly_once(store: Store) -> None:
    session = make_session(1)
    store.sessions.add(session)
    token = make_token(1, session)
    store.refresh_tokens.add(token)
    used_at = T0 + timedelta(minutes=5)

    assert store.refresh_tokens.claim(token.token_hash, used_at, "b" * 64)
    assert not store.refresh_tokens.claim(token.token_hash, T0 + timedelta(minutes=6), "c" * 64)
    assert not store.refresh_tokens.claim("d" * 64, used_at, "e" * 64)

    claimed = store.refresh_tokens.get(token.token_hash)
    assert claimed == make_token(1, session, used_at=used_at, replaced_by="b" * 64)


def test_deleting_ended_sessions_deletes_their_tokens(store: Store) -> None:
    expired = make_session(1, expires_at=T0 + timedelta(days=1))
    revoked = make_session(2, revoked_at=T0 + timedelta(days=1))
    recent = make_session(3, revoked_at=T0 + timedelta(days=5))
    live = make_session(4)
    for n, session in enumerate((expired, revoked, recent, live)):
        store.sessions.add(session)
        store.refresh_tokens.add(make_token(n, session))

    deleted = store.sessions.delete_ended(T0 + timedelta(days=2))

    assert deleted == 2
    assert store.sessions.get(expired.id) is None
    assert store.sessions.get(revoked.id) is None
    assert store.refresh_tokens.get(make_token(0, expired).token_hash) is None
    assert store.refresh_tokens.get(make_token(1, revoked).token_hash) is None
    assert store.refresh_tokens.get(make_token(3, live).token_hash) == make_token(3, live)
    assert store.sessions.get(recent.id) == recent


def test_signing_keys_keep_their_encrypted_pem_and_public_jwk(store: Store) -> None:
    encryption = KeyEncryption(b"secret")
    first = generate_signing_key(encryption, now=T0)
    second = generate_signing_key(
        encryption, now=T0 + timedelta(hours=1), activated_at=T0 + timedelta(hours=2)
    )
    store.signing_keys.add(first)
    store.signing_keys.add(second)

    listed = sorted(store.signing_keys.list_all(), key=lambda key: key.created_at)

    assert listed == [first, second]
    assert encryption.decrypt(listed[1].private_key_pem).public_key() is not None


def test_a_signing_key_is_retired_and_deleted_by_kid(store: Store) -> None:
    keys: list[SigningKey] = [generate_signing_key(KeyEncryption(b"s"), now=T0) for _ in range(3)]
    for key in keys:
        store.signing_keys.add(key)

    store.signing_keys.retire(keys[0].kid, T0 + timedelta(hours=1))
    store.signing_keys.delete(keys[1].kid)

    by_kid = {key.kid: key for key in store.signing_keys.list_all()}
    assert set(by_kid) == {keys[0].kid, keys[2].kid}
    assert by_kid[keys[0].kid].retire_at == T0 + timedelta(hours=1)
    assert by_kid[keys[2].kid].retire_at is None


def test_login_attempts_are_created_on_first_lock_then_read_back(store: Store) -> None:
    fresh = LoginAttempts(account_key="a" * 64, window_start=T0)

    assert store.login_attempts.lock(fresh) == fresh
    counted = LoginAttempts(
        account_key="a" * 64,
        failures=5,
        window_start=T0,
        locked_until=T0 + timedelta(minutes=15),
        pending=2,
        pending_until=T0 + timedelta(minutes=1),
    )
    store.login_attempts.save(counted)

    later = LoginAttempts(account_key="a" * 64, window_start=T0 + timedelta(hours=1))
    assert store.login_attempts.lock(later) == counted
    store.login_attempts.delete("a" * 64)
    assert store.login_attempts.lock(later) == later


def test_stale_login_attempts_are_deleted_but_not_running_ones(store: Store) -> None:
    now = T0 + timedelta(hours=1)
    rows = {
        "old": LoginAttempts(account_key="1" * 64, failures=2, window_start=T0),
        "locked": LoginAttempts(
            account_key="2" * 64, failures=5, window_start=T0, locked_until=now + timedelta(1)
        ),
        "unlocked": LoginAttempts(
            account_key="3" * 64, failures=5, window_start=T0, locked_until=now
        ),
        "recent": LoginAttempts(account_key="4" * 64, failures=1, window_start=now),
    }
    for attempts in rows.values():
        store.login_attempts.lock(attempts)

    deleted = store.login_attempts.delete_stale(
        window_start_before=now - timedelta(minutes=15), now=now
    )

    assert deleted == 2
    for name in ("locked", "recent"):
        fresh = LoginAttempts(account_key=rows[name].account_key, window_start=now)
        assert store.login_attempts.lock(fresh) == rows[name]
    fresh_old = LoginAttempts(account_key="1" * 64, window_start=now)
    assert store.login_attempts.lock(fresh_old) == fresh_old
