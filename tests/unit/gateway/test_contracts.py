"""services.gateway.contracts: the generated contracts found by walking them, and which
backend serves each contract service that has routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.gateway.contracts import (
    Routing,
    RoutingError,
    contract_services,
    import_contracts,
    routing,
)
from tests.unit.gateway._notes import NOTES_SERVICE, write_notes_module

USER = "acme.user.v1.UserService"
AUTH = "acme.auth.v1.AuthService"


def test_every_generated_module_of_the_contracts_is_imported_by_name() -> None:
    modules = import_contracts()

    assert {module.__name__ for module in modules} >= {
        "acme.user.v1.user_service_pb2",
        "acme.auth.v1.auth_service_pb2",
    }
    assert contract_services(modules) >= {USER, AUTH}


def test_a_contract_generated_later_is_found_without_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notes_module(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # a second folder of the acme namespace

    services = contract_services(import_contracts())

    assert NOTES_SERVICE in services


def test_no_generated_contracts_is_a_routing_error() -> None:
    with pytest.raises(RoutingError, match="'nosuchorg' is not importable"):
        import_contracts("nosuchorg")


def test_each_routed_service_goes_to_the_backend_that_lists_it() -> None:
    decided = routing(
        [USER, AUTH, USER],
        {"accounts": [USER, AUTH]},
        known={USER, AUTH},
    )

    assert decided == Routing(backend_of={AUTH: "accounts", USER: "accounts"}, unrouted=())


def test_a_routed_service_no_backend_lists_is_unrouted() -> None:
    decided = routing([USER, NOTES_SERVICE], {"user": [USER]}, known={USER, NOTES_SERVICE})

    assert decided.unrouted == (NOTES_SERVICE,)
    assert decided.backend_of == {USER: "user"}


def test_a_backend_may_serve_a_contract_service_without_routes() -> None:
    decided = routing([USER], {"user": [USER, AUTH]}, known={USER, AUTH})

    assert decided.backend_of == {USER: "user"}


def test_a_backend_naming_services_no_contract_declares_is_refused_naming_each() -> None:
    with pytest.raises(RoutingError) as refused:
        routing([USER], {"user": [USER, "acme.user.v1.Users"], "x": ["acme.x.v1.X"]}, known={USER})

    assert str(refused.value) == (
        "backends.user serves acme.user.v1.Users, which no contract declares; "
        "backends.x serves acme.x.v1.X, which no contract declares"
    )
