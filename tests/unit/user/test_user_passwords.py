"""argon2id password hashes: costs from the settings, rehash when they change."""

from __future__ import annotations

import pytest

from servicekit.concurrency import Bulkhead
from servicekit.errors import ResourceExhausted
from services.user.passwords import Passwords
from services.user.settings import PasswordSettings

PASSWORD = "correct horse battery staple"


def test_a_hash_is_argon2id_with_the_configured_costs() -> None:
    passwords = Passwords(time_cost=2, memory_cost_kib=16, parallelism=1)

    password_hash = passwords.hash(PASSWORD)

    assert password_hash.startswith("$argon2id$v=19$m=16,t=2,p=1$")


def test_the_same_password_hashes_differently_each_time(passwords: Passwords) -> None:
    assert passwords.hash(PASSWORD) != passwords.hash(PASSWORD)


def test_only_the_right_password_verifies(passwords: Passwords) -> None:
    password_hash = passwords.hash(PASSWORD)

    assert passwords.verify(password_hash, PASSWORD)
    assert not passwords.verify(password_hash, PASSWORD.upper())
    assert not passwords.verify(password_hash, "")


def test_a_corrupt_hash_never_verifies(passwords: Passwords) -> None:
    assert not passwords.verify("not a hash", PASSWORD)
    assert not passwords.verify("$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA", PASSWORD)
    assert passwords.needs_rehash("not a hash")


def test_compatibly_equivalent_passwords_match(passwords: Passwords) -> None:
    composed, decomposed = "caf\u00e9 au lait!!", "cafe\u0301 au lait!!"

    assert passwords.verify(passwords.hash(composed), decomposed)


def test_a_hash_with_other_costs_needs_a_rehash(passwords: Passwords) -> None:
    stronger = Passwords(time_cost=2, memory_cost_kib=16, parallelism=1)

    assert stronger.needs_rehash(passwords.hash(PASSWORD))
    assert not passwords.needs_rehash(passwords.hash(PASSWORD))


def test_settings_give_the_costs() -> None:
    settings = PasswordSettings(time_cost=1, memory_cost_kib=32, parallelism=2)

    passwords = Passwords.from_settings(settings)

    assert passwords.hash(PASSWORD).startswith("$argon2id$v=19$m=32,t=1,p=2$")


def test_with_every_hashing_slot_taken_a_hash_is_refused_at_once_with_a_retry_delay() -> None:
    hashing = Bulkhead("password hashing", limit=1, max_wait_seconds=30, retry_after_seconds=2)
    passwords = Passwords(time_cost=1, memory_cost_kib=8, parallelism=1, hashing=hashing)
    stored = passwords.hash(PASSWORD)

    with hashing.slot():  # another call is hashing
        with pytest.raises(ResourceExhausted) as refused:  # a 30 s wait would hang the test
            passwords.hash(PASSWORD)
        with pytest.raises(ResourceExhausted):
            passwords.verify(stored, PASSWORD)
        with pytest.raises(ResourceExhausted):
            passwords.verify_dummy(PASSWORD)

    assert refused.value.retry_after == 2
    assert passwords.verify(stored, PASSWORD)  # the slot is free again


def test_the_settings_bound_the_hashing_that_runs_at_once() -> None:
    settings = PasswordSettings(
        time_cost=1, memory_cost_kib=8, parallelism=1, max_concurrent=1, max_waiting=0
    )
    passwords = Passwords.from_settings(settings)
    assert passwords.hashing is not None

    with passwords.hashing.slot(), pytest.raises(ResourceExhausted):
        passwords.hash(PASSWORD)

    assert (passwords.hashing.limit, passwords.hashing.queue) == (1, 0)
    with pytest.raises(ValueError, match="max_concurrent"):
        PasswordSettings(max_concurrent=0)
