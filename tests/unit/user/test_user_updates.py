"""UpdateUser's rules: field masks, etags, unique emails and who may change roles."""

from __future__ import annotations

import pytest

from servicekit.errors import InvalidArgument
from services.user.domain import (
    Actor,
    EmailTaken,
    ImmutableField,
    Role,
    RoleChangeForbidden,
    StaleEtag,
    UnknownField,
    UpdateMask,
    User,
    UserChanges,
    UserNotFound,
)
from services.user.service import UserService
from tests.unit.user.fakes import FakeUserUnitOfWork

PASSWORD = "correct horse battery staple"
ADMIN = Actor(subject="00000000-0000-4000-8000-00000000000a", roles=frozenset({Role.ADMIN}))
ADMIN_ROLES = frozenset({Role.ADMIN})


@pytest.fixture
def ada(service: UserService) -> User:
    return service.create_user(email="ada@example.org", display_name="Ada", password=PASSWORD)


def owner(user: User, *roles: Role) -> Actor:
    return Actor(subject=user.id, roles=frozenset(roles))


def test_only_the_fields_in_the_mask_change(service: UserService, ada: User) -> None:
    changes = UserChanges(email="other@example.org", display_name="Ada L.")

    updated = service.update_user(
        ada.id, changes=changes, paths=["display_name"], etag="", actor=owner(ada)
    )

    assert (updated.display_name, updated.email) == ("Ada L.", "ada@example.org")
    assert service.get_user(ada.id) == updated
    assert updated.etag != ada.etag
    assert updated.update_time > ada.update_time
    assert updated.create_time == ada.create_time


def test_an_email_change_keeps_the_new_spelling(service: UserService, ada: User) -> None:
    changes = UserChanges(email="Ada.Lovelace@Example.org")

    updated = service.update_user(ada.id, changes=changes, paths=["email"], etag="", actor=ADMIN)

    assert updated.email == "Ada.Lovelace@Example.org"
    assert updated.email_key == "ada.lovelace@example.org"


def test_changing_only_the_letter_case_of_ones_own_email_is_allowed(
    service: UserService, ada: User
) -> None:
    changes = UserChanges(email="ADA@example.org")

    updated = service.update_user(ada.id, changes=changes, paths=["email"], etag="", actor=ADMIN)

    assert updated.email == "ADA@example.org"


def test_an_email_change_to_another_users_email_is_refused(service: UserService, ada: User) -> None:
    service.create_user(email="eve@example.org", display_name="Eve", password=PASSWORD)

    with pytest.raises(EmailTaken):
        service.update_user(
            ada.id,
            changes=UserChanges(email="EVE@example.org", display_name="Eve?"),
            paths=["email", "display_name"],
            etag="",
            actor=owner(ada),
        )

    assert service.get_user(ada.id) == ada


@pytest.mark.parametrize("path", ["id", "create_time", "update_time", "etag"])
def test_a_mask_naming_a_server_set_field_is_refused_naming_it(
    service: UserService, ada: User, path: str
) -> None:
    with pytest.raises(ImmutableField) as caught:
        service.update_user(
            ada.id, changes=UserChanges(), paths=["display_name", path], etag="", actor=ADMIN
        )

    assert path in caught.value.message
    assert [v.field for v in caught.value.violations] == ["update_mask"]
    assert service.get_user(ada.id) == ada


@pytest.mark.parametrize("path", ["password", "password_hash", "user.email", "*", "roles.0", ""])
def test_a_mask_naming_an_unknown_field_is_refused_naming_it(
    service: UserService, ada: User, path: str
) -> None:
    with pytest.raises(UnknownField) as caught:
        service.update_user(ada.id, changes=UserChanges(), paths=[path], etag="", actor=ADMIN)

    assert repr(path) in caught.value.message
    assert service.get_user(ada.id) == ada


def test_an_unknown_path_is_answered_with_the_paths_the_contract_allows(
    service: UserService, ada: User
) -> None:
    with pytest.raises(UnknownField) as caught:
        service.update_user(ada.id, changes=UserChanges(), paths=["nickname"], etag="", actor=ADMIN)

    assert caught.value.message == (
        "update_mask: unknown field 'nickname'; use display_name, email or roles"
    )


def test_an_empty_mask_is_refused(service: UserService, ada: User) -> None:
    with pytest.raises(InvalidArgument) as caught:
        service.update_user(ada.id, changes=UserChanges(), paths=[], etag="", actor=ADMIN)

    assert [v.field for v in caught.value.violations] == ["update_mask"]


@pytest.mark.parametrize("path", ["email", "display_name"])
def test_a_masked_text_field_cannot_be_emptied(service: UserService, ada: User, path: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        service.update_user(ada.id, changes=UserChanges(), paths=[path], etag="", actor=ADMIN)

    assert [v.field for v in caught.value.violations] == [f"user.{path}"]
    assert service.get_user(ada.id) == ada


@pytest.mark.parametrize(
    "wanted", [frozenset({Role.ADMIN}), frozenset({Role.AUDITOR}), frozenset()]
)
def test_a_user_cannot_change_their_own_roles(
    service: UserService, ada: User, wanted: frozenset[Role]
) -> None:
    with pytest.raises(RoleChangeForbidden):
        service.update_user(
            ada.id,
            changes=UserChanges(roles=wanted, display_name="Ada"),
            paths=["display_name", "roles"],
            etag=ada.etag,
            actor=owner(ada),
        )

    assert service.get_user(ada.id) == ada


def test_an_auditor_cannot_grant_roles(service: UserService, ada: User) -> None:
    auditor = Actor(subject="some-auditor", roles=frozenset({Role.AUDITOR}))

    with pytest.raises(RoleChangeForbidden):
        service.update_user(
            ada.id, changes=UserChanges(roles=ADMIN_ROLES), paths=["roles"], etag="", actor=auditor
        )

    assert service.get_user(ada.id).roles == frozenset()


def test_a_service_principal_without_the_admin_role_cannot_grant_roles(
    service: UserService, ada: User
) -> None:
    auth_service = Actor(subject="auth", is_service=True)

    with pytest.raises(RoleChangeForbidden):
        service.update_user(
            ada.id,
            changes=UserChanges(roles=ADMIN_ROLES),
            paths=["roles"],
            etag="",
            actor=auth_service,
        )


def test_an_admin_grants_and_removes_roles(service: UserService, ada: User) -> None:
    both = frozenset({Role.ADMIN, Role.AUDITOR})
    granted = service.update_user(
        ada.id, changes=UserChanges(roles=both), paths=["roles"], etag=ada.etag, actor=ADMIN
    )
    removed = service.update_user(
        ada.id, changes=UserChanges(), paths=["roles"], etag=granted.etag, actor=ADMIN
    )

    assert granted.roles == both
    assert removed.roles == frozenset()
    assert service.get_user(ada.id).roles == frozenset()


def test_a_stale_etag_is_rejected_and_nothing_changes(
    service: UserService, ada: User, uow: FakeUserUnitOfWork
) -> None:
    renamed = service.update_user(
        ada.id,
        changes=UserChanges(display_name="Ada 1"),
        paths=["display_name"],
        etag="",
        actor=ADMIN,
    )
    commits = uow.commits

    with pytest.raises(StaleEtag):
        service.update_user(
            ada.id,
            changes=UserChanges(display_name="Ada 2", email="ada2@example.org"),
            paths=["display_name", "email"],
            etag=ada.etag,
            actor=ADMIN,
        )

    assert service.get_user(ada.id) == renamed
    assert uow.commits == commits


def test_an_update_with_the_current_etag_succeeds(service: UserService, ada: User) -> None:
    updated = service.update_user(
        ada.id,
        changes=UserChanges(display_name="Ada L."),
        paths=["display_name"],
        etag=ada.etag,
        actor=owner(ada),
    )

    assert updated.display_name == "Ada L."


def test_an_update_that_changes_nothing_keeps_the_etag(service: UserService, ada: User) -> None:
    same = service.update_user(
        ada.id,
        changes=UserChanges(display_name="Ada"),
        paths=["display_name"],
        etag="",
        actor=owner(ada),
    )

    assert same.etag == ada.etag
    assert service.get_user(ada.id) == ada


def test_an_update_of_a_deleted_user_is_not_found(service: UserService, ada: User) -> None:
    service.delete_user(ada.id, etag=None)

    with pytest.raises(UserNotFound):
        service.update_user(
            ada.id,
            changes=UserChanges(display_name="Ghost"),
            paths=["display_name"],
            etag="",
            actor=ADMIN,
        )


def test_the_mask_rules_are_the_ones_the_wiring_hands_in() -> None:
    narrower = UpdateMask(
        paths=frozenset({"display_name"}),
        fields=frozenset({"id", "email", "display_name"}),
        required=False,
    )

    with pytest.raises(ImmutableField):
        narrower.chosen(["email"])
    with pytest.raises(UnknownField) as unknown:
        narrower.chosen(["roles"])
    assert narrower.chosen([]) == frozenset()
    assert unknown.value.message == "update_mask: unknown field 'roles'; use display_name"


def test_a_mask_rule_allowing_a_path_that_is_no_field_is_refused() -> None:
    with pytest.raises(ValueError, match="update-mask paths"):
        UpdateMask(paths=frozenset({"nickname"}), fields=frozenset({"id"}), required=True)
