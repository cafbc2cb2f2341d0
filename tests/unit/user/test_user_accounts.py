"""Creating, reading and deleting users through the use cases."""

from __future__ import annotations

import pytest

from servicekit.errors import InvalidArgument
from services.user.domain import EmailTaken, StaleEtag, UserNotFound
from services.user.service import UserService
from tests.unit.user.fakes import FakeUserUnitOfWork

PASSWORD = "correct horse battery staple"


def test_a_created_user_can_be_read_back_with_what_was_typed(service: UserService) -> None:
    created = service.create_user(email="Ada@Example.org", display_name="Ada", password=PASSWORD)

    read = service.get_user(created.id)

    assert read == created
    assert (read.email, read.display_name) == ("Ada@Example.org", "Ada")
    assert read.create_time == read.update_time


def test_self_registration_never_grants_a_role(service: UserService) -> None:
    user = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    assert service.get_user(user.id).roles == frozenset()


def test_the_password_is_stored_only_as_an_argon2id_hash(service: UserService) -> None:
    user = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert "password_hash" not in repr(user)


@pytest.mark.parametrize(
    "again", ["ada@example.org", "ADA@EXAMPLE.ORG", "Ada@Example.Org", "\uff41da@example.org"]
)
def test_an_email_is_taken_whatever_its_letter_case(service: UserService, again: str) -> None:
    service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    with pytest.raises(EmailTaken):
        service.create_user(email=again, display_name="Ada 2", password=PASSWORD)


def test_a_failed_create_leaves_only_the_first_user(
    service: UserService, uow: FakeUserUnitOfWork
) -> None:
    first = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    with pytest.raises(EmailTaken):
        service.create_user(email="ADA@example.org", display_name="Eve", password=PASSWORD)

    assert list(uow.users.rows.values()) == [first]


def test_an_unknown_user_is_not_found(service: UserService) -> None:
    with pytest.raises(UserNotFound):
        service.get_user("6f1c0a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f")


def test_a_deleted_user_is_not_found_any_more(service: UserService) -> None:
    user = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    service.delete_user(user.id, etag=None)

    with pytest.raises(UserNotFound):
        service.get_user(user.id)
    with pytest.raises(UserNotFound):
        service.delete_user(user.id, etag=None)


def test_a_deleted_user_frees_its_email(service: UserService) -> None:
    old = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)
    service.delete_user(old.id, etag=old.etag)

    new = service.create_user(email="Ada@example.org", display_name="Ada", password=PASSWORD)

    assert service.get_user(new.id).email == "Ada@example.org"


def test_a_delete_with_a_stale_etag_deletes_nothing(service: UserService) -> None:
    user = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)
    stale = user.etag
    service.bootstrap_admin(email="ada@example.org", display_name="Ada", password=PASSWORD)

    with pytest.raises(StaleEtag):
        service.delete_user(user.id, etag=stale)

    assert service.get_user(user.id).id == user.id


def test_a_delete_with_the_current_etag_succeeds(service: UserService) -> None:
    user = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    service.delete_user(user.id, etag=user.etag)

    with pytest.raises(UserNotFound):
        service.get_user(user.id)


def test_create_admin_creates_an_admin(service: UserService) -> None:
    admin = service.bootstrap_admin(
        email="root@example.org", display_name="Root", password=PASSWORD
    )

    assert [role.value for role in service.get_user(admin.id).roles] == ["admin"]


def test_create_admin_promotes_an_existing_user_keeping_the_password(
    service: UserService,
) -> None:
    user = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)

    admin = service.bootstrap_admin(
        email="ADA@example.org", display_name="Other", password="another password"
    )

    assert admin.id == user.id
    assert [role.value for role in admin.roles] == ["admin"]
    assert admin.display_name == "Ada"
    assert service.verify_credentials(email="ada@example.org", password=PASSWORD).id == user.id


def test_create_admin_twice_changes_nothing_the_second_time(service: UserService) -> None:
    first = service.bootstrap_admin(
        email="root@example.org", display_name="Root", password=PASSWORD
    )

    again = service.bootstrap_admin(
        email="root@example.org", display_name="Root", password=PASSWORD
    )

    assert again == first


@pytest.mark.parametrize("field", ["email", "display_name"])
def test_a_nul_character_is_refused_naming_the_field(service: UserService, field: str) -> None:
    values = {"email": "ada@example.org", "display_name": "Ada", field: "a\x00b"}

    with pytest.raises(InvalidArgument) as caught:
        service.create_user(password=PASSWORD, **values)

    assert [v.field for v in caught.value.violations] == [field]


def test_reading_use_cases_commit_nothing(service: UserService, uow: FakeUserUnitOfWork) -> None:
    ada = service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)
    commits = uow.commits

    service.get_user(ada.id)
    service.list_users(page_size=0, page_token="", email=None, role=None)
    service.verify_credentials(email="ada@example.org", password=PASSWORD)

    assert uow.commits == commits


def test_a_read_only_unit_of_work_refuses_to_commit_as_the_database_one_does(
    uow: FakeUserUnitOfWork,
) -> None:
    reader = uow.reading()

    with reader, pytest.raises(RuntimeError, match="nothing to commit"):
        reader.commit()
    assert reader.users is uow.users
