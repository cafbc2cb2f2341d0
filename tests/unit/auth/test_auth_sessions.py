"""Refresh-token rotation with reuse detection, logout, the lifetimes of sessions, and
sessions that follow their user (deleted, its roles changed, its password set again)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from servicekit.errors import Unavailable
from services.auth.domain import InvalidCredentials, InvalidRefreshToken, RefreshTokenReused
from services.auth.service import AuthService, TokenPair
from services.auth.tokens import refresh_token_hash
from tests.unit.auth._support import ADA, ADA_ID, PASSWORD, Clock, Verify
from tests.unit.auth.fakes import FakeAuthUnitOfWork, FakeUserDirectory


@pytest.fixture
def signed_in(service: AuthService) -> TokenPair:
    return service.login(email=ADA, password=PASSWORD)


def test_a_refresh_gives_a_new_pair_for_the_same_user_and_session(
    service: AuthService, signed_in: TokenPair, verify: Verify, clock: Clock
) -> None:
    clock.advance(timedelta(minutes=10))

    renewed = service.refresh(signed_in.refresh_token)

    before, after = verify(signed_in.access_token), verify(renewed.access_token)
    assert renewed.refresh_token != signed_in.refresh_token
    assert renewed.session_id == signed_in.session_id
    assert (after.subject, after.roles) == (before.subject, before.roles)
    assert after.token_id != before.token_id
    assert renewed.access_token_expires_at == clock.now + timedelta(minutes=15)
    assert renewed.refresh_token_expires_at == clock.now + timedelta(days=1)


def test_the_used_token_names_its_successor(
    service: AuthService, signed_in: TokenPair, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    renewed = service.refresh(signed_in.refresh_token)

    used = uow.refresh_tokens.rows[refresh_token_hash(signed_in.refresh_token)]
    assert used.used_at == clock.now
    assert used.replaced_by == refresh_token_hash(renewed.refresh_token)


def test_a_chain_of_refreshes_works_one_token_at_a_time(
    service: AuthService, signed_in: TokenPair, clock: Clock
) -> None:
    pair = signed_in
    for _ in range(5):
        clock.advance(timedelta(hours=12))
        pair = service.refresh(pair.refresh_token)

    assert pair.session_id == signed_in.session_id


def test_reusing_a_refresh_token_revokes_the_whole_session(
    service: AuthService, signed_in: TokenPair, uow: FakeAuthUnitOfWork
) -> None:
    renewed = service.refresh(signed_in.refresh_token)

    with pytest.raises(RefreshTokenReused) as reused:
        service.refresh(signed_in.refresh_token)  # the thief, or the victim, comes back

    with pytest.raises(InvalidRefreshToken) as later:
        service.refresh(renewed.refresh_token)  # issued later in the family: dead too
    assert reused.value.message == later.value.message == "refresh token is invalid or expired"
    assert uow.sessions.rows[signed_in.session_id].revoked_at is not None


def test_reuse_ends_only_its_own_session(service: AuthService, signed_in: TokenPair) -> None:
    other = service.login(email=ADA, password=PASSWORD)
    service.refresh(signed_in.refresh_token)

    with pytest.raises(RefreshTokenReused):
        service.refresh(signed_in.refresh_token)

    assert service.refresh(other.refresh_token).session_id == other.session_id


def test_an_unknown_refresh_token_is_invalid(service: AuthService) -> None:
    with pytest.raises(InvalidRefreshToken):
        service.refresh("not-a-token-anyone-was-given")


def test_an_expired_refresh_token_is_invalid_and_changes_nothing(
    service: AuthService, signed_in: TokenPair, clock: Clock, uow: FakeAuthUnitOfWork
) -> None:
    clock.advance(timedelta(days=1))

    with pytest.raises(InvalidRefreshToken):
        service.refresh(signed_in.refresh_token)

    assert uow.refresh_tokens.rows[refresh_token_hash(signed_in.refresh_token)].used_at is None
    assert uow.sessions.rows[signed_in.session_id].revoked_at is None


def test_refresh_tokens_never_outlive_their_session(
    service: AuthService, signed_in: TokenPair, clock: Clock
) -> None:
    pair = signed_in
    for _ in range(5):  # the session lasts three days, each token one
        clock.advance(timedelta(hours=12))
        pair = service.refresh(pair.refresh_token)
    session_end = signed_in.refresh_token_expires_at + timedelta(days=2)

    assert pair.refresh_token_expires_at == session_end
    clock.advance(session_end - clock.now)
    with pytest.raises(InvalidRefreshToken):
        service.refresh(pair.refresh_token)


def test_logout_ends_the_session(
    service: AuthService, signed_in: TokenPair, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    service.logout(signed_in.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        service.refresh(signed_in.refresh_token)
    assert uow.sessions.rows[signed_in.session_id].revoked_at == clock.now


def test_logout_with_an_older_token_of_the_session_ends_it_too(
    service: AuthService, signed_in: TokenPair
) -> None:
    renewed = service.refresh(signed_in.refresh_token)

    service.logout(signed_in.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        service.refresh(renewed.refresh_token)


def test_logout_twice_or_with_an_unknown_token_quietly_succeeds(
    service: AuthService, signed_in: TokenPair, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    service.logout(signed_in.refresh_token)
    ended_at = clock.now
    clock.advance(timedelta(minutes=1))

    service.logout(signed_in.refresh_token)
    service.logout("never-issued")

    assert uow.sessions.rows[signed_in.session_id].revoked_at == ended_at


def test_logout_leaves_other_sessions_alone(service: AuthService, signed_in: TokenPair) -> None:
    other = service.login(email=ADA, password=PASSWORD)

    service.logout(signed_in.refresh_token)

    assert service.refresh(other.refresh_token).session_id == other.session_id


def test_purge_deletes_long_ended_sessions_and_stale_attempts_only(
    service: AuthService, signed_in: TokenPair, uow: FakeAuthUnitOfWork, clock: Clock
) -> None:
    live = service.login(email=ADA, password=PASSWORD)  # expires after 3 days
    service.logout(signed_in.refresh_token)
    with pytest.raises(InvalidCredentials):
        service.login(email="eve@example.org", password="guess")
    clock.advance(timedelta(hours=20))
    live = service.refresh(live.refresh_token)
    clock.advance(timedelta(days=7, hours=4))  # retention: 7 days after the end

    purged = service.purge()

    # eve's failure was counted twice: for her client on the account, and for the account
    assert (purged.sessions, purged.login_attempts) == (1, 2)
    assert set(uow.sessions.rows) == {live.session_id}
    assert {t.session_id for t in uow.refresh_tokens.rows.values()} == {live.session_id}


def test_a_deleted_users_session_ends_at_its_next_refresh(
    service: AuthService, signed_in: TokenPair, users: FakeUserDirectory, uow: FakeAuthUnitOfWork
) -> None:
    users.remove(ADA_ID)

    with pytest.raises(InvalidRefreshToken) as refused:
        service.refresh(signed_in.refresh_token)

    assert refused.value.message == "refresh token is invalid or expired"
    assert uow.sessions.rows[signed_in.session_id].revoked_at is not None
    stored = uow.refresh_tokens.rows[refresh_token_hash(signed_in.refresh_token)]
    assert stored.used_at is None  # refused before it was spent; the session is gone anyway


def test_a_refresh_carries_the_roles_the_user_has_now(
    service: AuthService, signed_in: TokenPair, users: FakeUserDirectory, verify: Verify
) -> None:
    assert verify(signed_in.access_token).roles == frozenset({"admin"})

    users.set_roles(ADA_ID, [])
    demoted = service.refresh(signed_in.refresh_token)
    users.set_roles(ADA_ID, ["auditor"])
    auditor = service.refresh(demoted.refresh_token)

    assert verify(demoted.access_token).roles == frozenset()
    assert verify(auditor.access_token).roles == frozenset({"auditor"})
    assert auditor.session_id == signed_in.session_id


def test_a_password_set_again_ends_the_sessions_that_began_before_it(
    service: AuthService, signed_in: TokenPair, users: FakeUserDirectory, clock: Clock
) -> None:
    users.set_password(ADA_ID, "a brand new passphrase", at=clock.now)

    with pytest.raises(InvalidRefreshToken):
        service.refresh(signed_in.refresh_token)

    after = service.login(email=ADA, password="a brand new passphrase")
    assert service.refresh(after.refresh_token).session_id == after.session_id


def test_with_the_user_service_down_a_refresh_fails_and_its_token_stays_usable(
    service: AuthService, signed_in: TokenPair, users: FakeUserDirectory
) -> None:
    users.available = False
    with pytest.raises(Unavailable):
        service.refresh(signed_in.refresh_token)
    users.available = True

    assert service.refresh(signed_in.refresh_token).session_id == signed_in.session_id


def test_a_refused_or_reused_token_never_asks_the_user_service(
    service: AuthService, signed_in: TokenPair, users: FakeUserDirectory
) -> None:
    service.refresh(signed_in.refresh_token)
    asked = users.lookups

    with pytest.raises(RefreshTokenReused):
        service.refresh(signed_in.refresh_token)
    with pytest.raises(InvalidRefreshToken):
        service.refresh("never issued")

    assert users.lookups == asked


def test_a_session_kept_before_password_times_were_is_not_ended_by_one(
    service: AuthService,
    signed_in: TokenPair,
    users: FakeUserDirectory,
    uow: FakeAuthUnitOfWork,
    clock: Clock,
) -> None:
    session = uow.sessions.rows[signed_in.session_id]
    uow.sessions.rows[session.id] = dataclasses.replace(session, password_set_at=None)
    users.set_password(ADA_ID, "a brand new passphrase", at=clock.now)

    assert service.refresh(signed_in.refresh_token).session_id == signed_in.session_id
