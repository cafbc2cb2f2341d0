"""services.gateway.settings: the backends as a map by name, layered like every setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from servicekit.config import ConfigError
from services.gateway.settings import BackendSettings, GatewaySettings, load
from stackkit.manifest import load_manifests

ROOT = Path(__file__).resolve().parents[3]
FIRST = ("user", "auth")
USER = "acme.user.v1.UserService"
AUTH = "acme.auth.v1.AuthService"
NOTES = "acme.notes.v1.NotesService"


def test_the_defaults_are_the_user_and_auth_backends_of_settings_toml() -> None:
    backends = load(env={}).backends

    # Among them: a service made by `make new-service` is one more (see the manifests' test).
    assert {name: (backends[name].target, backends[name].services) for name in FIRST} == {
        "user": ("127.0.0.1:50051", (USER,)),
        "auth": ("127.0.0.1:50052", (AUTH,)),
    }
    assert backends["auth"].deadline_seconds == 10.0


def test_the_existing_variables_still_move_a_backend_and_keep_the_rest() -> None:
    env = {
        "GATEWAY_BACKENDS__USER__TARGET": "user:50051",
        "GATEWAY_BACKENDS__AUTH__TARGET": "auth:50052",
        "GATEWAY_BACKENDS__AUTH__BREAKER_RESET_SECONDS": "0.5",
    }

    backends = load(env=env).backends

    assert (backends["user"].target, backends["user"].services) == ("user:50051", (USER,))
    assert backends["user"].deadline_seconds == 5.0
    assert (backends["auth"].target, backends["auth"].breaker_reset_seconds) == ("auth:50052", 0.5)


@pytest.mark.parametrize("services", [NOTES, f'["{NOTES}"]'])
def test_a_new_backend_needs_nothing_but_variables(services: str) -> None:
    env = {
        "GATEWAY_BACKENDS__NOTES__TARGET": "notes:50053",
        "GATEWAY_BACKENDS__NOTES__SERVICES": services,
    }

    notes = load(env=env).backends["notes"]

    assert (notes.target, notes.services) == ("notes:50053", (NOTES,))
    assert notes.deadline_seconds == 5.0  # the gateway's own call policy


def test_a_backend_in_an_env_file_is_found_too(tmp_path: Path) -> None:
    env_file = tmp_path / "gateway.env"
    env_file.write_text(
        f"GATEWAY_BACKENDS__NOTES__TARGET=notes:1\nGATEWAY_BACKENDS__NOTES__SERVICES={NOTES}\n"
    )

    assert load(env={}, env_file=env_file).backends["notes"].target == "notes:1"


def test_an_empty_services_list_switches_a_backend_off() -> None:
    backends = load(env={"GATEWAY_BACKENDS__AUTH__SERVICES": ""}).backends

    assert backends["auth"].services == ()


def test_the_default_map_is_the_lowest_layer_overridden_key_by_key() -> None:
    defaults = {
        "notes": BackendSettings(target="127.0.0.1:50053", services=(NOTES,), max_attempts=2),
        "user": BackendSettings(target="127.0.0.1:60000", services=(USER,), max_attempts=1),
    }

    backends = load(
        env={"GATEWAY_BACKENDS__NOTES__TARGET": "notes:50053"}, defaults=defaults
    ).backends

    assert (backends["notes"].target, backends["notes"].services) == ("notes:50053", (NOTES,))
    assert backends["notes"].max_attempts == 2
    assert backends["user"].target == "127.0.0.1:60000"
    assert backends["user"].max_attempts == 1
    assert backends["user"].services == (USER,)
    assert "auth" not in backends  # the map is the defaults', not settings.toml's


def test_the_default_map_is_every_grpc_service_of_the_manifests() -> None:
    backends = load(env={}).backends

    assert {name: (b.target, b.services) for name, b in backends.items()} == {
        m.name: (f"127.0.0.1:{m.serve_port}", m.implements)
        for m in load_manifests(ROOT)
        if m.kind == "grpc"
    }
    assert backends["auth"].deadline_seconds == 10.0  # what auth's manifest asks callers for
    assert backends["user"].deadline_seconds == 5.0


def test_every_problem_of_the_backends_is_reported_at_once() -> None:
    env = {
        "GATEWAY_BACKENDS__USER__DEADLINE_SECONDS": "0",
        "GATEWAY_BACKENDS__AUTH__SERVICES": "AuthService",
        "GATEWAY_BACKENDS__NOTES__SERVICES": NOTES,
        "GATEWAY_BACKENDS__9LIVES__TARGET": "cat:9",
    }

    with pytest.raises(ConfigError) as refused:
        load(env=env)

    assert sorted(str(problem) for problem in refused.value.problems) == [
        "backends.9lives: a backend name is lower-case letters, digits and _, "
        "starting with a letter",
        "backends.auth: services must be full names of contract services "
        "(acme.user.v1.UserService), got 'AuthService'",
        "backends.notes.target: required",
        "backends.user: deadline_seconds must be > 0, got 0.0",
    ]


def test_a_contract_service_is_served_by_one_backend_only() -> None:
    env = {"GATEWAY_BACKENDS__AUTH__SERVICES": f"{AUTH},{USER}"}

    with pytest.raises(ConfigError) as refused:
        load(env=env)

    assert [str(problem) for problem in refused.value.problems] == [
        f"backends: {USER} is served by one backend only, not by auth and user"
    ]


def test_the_map_is_read_only() -> None:
    settings = GatewaySettings(backends={"user": BackendSettings(target="u:1", services=(USER,))})

    with pytest.raises(TypeError):
        settings.backends["other"] = BackendSettings(target="o:1")  # type: ignore[index]


def test_the_public_operations_that_hash_passwords_are_rate_limited_by_default() -> None:
    limits = load(env={}).rate_limits.limits()

    assert {name: [str(item) for item in items] for name, items in limits.items()} == {
        "acme.user.v1.UserService.CreateUser": ["10 per 1 minute", "100 per 1 hour"],
        "acme.auth.v1.AuthService.Login": ["30 per 1 minute", "300 per 1 hour"],
        "acme.auth.v1.AuthService.RefreshToken": ["60 per 1 minute"],
    }


def test_rate_limits_are_settings_and_switch_off() -> None:
    replaced = load(
        env={"GATEWAY_RATE_LIMITS__OPERATIONS": f"{AUTH}.Login=2/second;5/minute,{USER}.GetUser="}
    ).rate_limits
    off = load(env={"GATEWAY_RATE_LIMITS__ENABLED": "false"}).rate_limits

    assert {name: len(items) for name, items in replaced.limits().items()} == {f"{AUTH}.Login": 2}
    assert off.limits() == {}


def test_every_problem_of_the_rate_limits_and_proxies_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        load(
            env={
                "GATEWAY_RATE_LIMITS__OPERATIONS": (
                    f"{AUTH}.Login=lots,{AUTH}.Login=1/second,nonsense"
                ),
                "GATEWAY_RATE_LIMITS__STORAGE_URI": "memory://",
                "GATEWAY_HTTP__TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal",
            }
        )

    text = str(refused.value)
    assert "'lots' is not a limit" in text
    assert f"{AUTH}.Login is limited twice" in text
    assert "'nonsense' is not <operationId>=<limits>" in text
    assert "async+" in text
    assert "'proxy.internal'" in text


def test_no_proxy_is_trusted_by_default() -> None:
    assert load(env={}).http.trusted_proxies == ()
