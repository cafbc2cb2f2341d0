"""VerifyCredentials: one answer for every wrong pair, for the same work."""

from __future__ import annotations

import pytest

from services.user.contract import contract_update_mask
from services.user.domain import InvalidCredentials
from services.user.pagination import PageLimits
from services.user.passwords import Passwords
from services.user.service import UserService
from tests.unit.user.fakes import FakeUserUnitOfWork

PASSWORD = "correct horse battery staple"
MASK = contract_update_mask()


def test_the_right_password_gives_the_user(service: UserService) -> None:
    user = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    assert service.verify_credentials(email="ADA@example.org", password=PASSWORD) == user


def test_an_unknown_email_and_a_wrong_password_give_the_same_error(
    service: UserService,
) -> None:
    service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    with pytest.raises(InvalidCredentials) as unknown:
        service.verify_credentials(email="nobody@example.org", password=PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        service.verify_credentials(email="ada@example.org", password=PASSWORD + "!")

    assert (type(unknown.value), unknown.value.message) == (type(wrong.value), wrong.value.message)
    assert unknown.value.message == "invalid credentials"


def test_a_deleted_user_cannot_sign_in(service: UserService) -> None:
    user = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)
    service.delete_user(user.id, etag=None)

    with pytest.raises(InvalidCredentials):
        service.verify_credentials(email="ada@example.org", password=PASSWORD)


def test_a_hash_made_with_old_costs_is_upgraded_on_sign_in(
    uow: FakeUserUnitOfWork, passwords: Passwords
) -> None:
    limits = PageLimits(default=3, maximum=5)
    old = UserService(
        unit_of_work=lambda: uow, passwords=passwords, page_limits=limits, update_mask=MASK
    )
    user = old.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)
    stronger = Passwords(time_cost=2, memory_cost_kib=16, parallelism=1)
    new = UserService(
        unit_of_work=lambda: uow, passwords=stronger, page_limits=limits, update_mask=MASK
    )

    signed_in = new.verify_credentials(email="ada@example.org", password=PASSWORD)

    stored = uow.users.rows[user.id]
    assert not stronger.needs_rehash(stored.password_hash)
    assert stored.etag == user.etag == signed_in.etag
    assert new.verify_credentials(email="ada@example.org", password=PASSWORD).id == user.id


class CountingPasswords(Passwords):
    """The real hasher, counting the argon2 verifications it runs (the costly part)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost_kib=1024, parallelism=1)
        self.verifications = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return super().verify(password_hash, password)


def _argon2_runs_to_refuse(email: str) -> int:
    passwords = CountingPasswords()
    uow = FakeUserUnitOfWork()
    limits = PageLimits(default=3, maximum=5)
    service = UserService(
        unit_of_work=lambda: uow, passwords=passwords, page_limits=limits, update_mask=MASK
    )
    service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)
    passwords.verifications = 0
    with pytest.raises(InvalidCredentials):
        service.verify_credentials(email=email, password="a wrong password")
    return passwords.verifications


def test_an_unknown_email_costs_one_argon2_run_like_a_wrong_password() -> None:
    # Equal work, hence similar timing: an unknown email is checked against a dummy hash.
    # (The timing itself is measured by bench/, not asserted here.)
    assert _argon2_runs_to_refuse("nobody@example.org") == 1
    assert _argon2_runs_to_refuse("ada@example.org") == 1


def test_an_email_with_a_nul_character_is_just_invalid_credentials(service: UserService) -> None:
    with pytest.raises(InvalidCredentials):
        service.verify_credentials(email="ada\x00@example.org", password=PASSWORD)
