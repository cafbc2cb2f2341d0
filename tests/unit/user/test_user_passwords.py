"""argon2id password hashes: costs from the settings, rehash when they change."""

from __future__ import annotations

from services.user.passwords import Passwords

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
    class Settings:
        time_cost = 1
        memory_cost_kib = 32
        parallelism = 2

    passwords = Passwords.from_settings(Settings())  # type: ignore[arg-type]

    assert passwords.hash(PASSWORD).startswith("$argon2id$v=19$m=32,t=1,p=2$")
