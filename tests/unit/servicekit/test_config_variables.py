"""servicekit.config: every ``{PREFIX}_`` variable names a setting, or is reported as a typo
with the closest setting's variable; Kubernetes' service links stay harmless."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from servicekit.config import ConfigError, Secret, load_settings
from servicekit.config.variables import is_service_link


@dataclass(frozen=True, kw_only=True, slots=True)
class GrpcSettings:
    host: str = "127.0.0.1"
    port: int = 50051


@dataclass(frozen=True, kw_only=True, slots=True)
class DatabaseSettings:
    url: Secret


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceSettings:
    grpc: GrpcSettings = field(default_factory=GrpcSettings)
    database: DatabaseSettings
    workers: int = 1


DEFAULTS = '[database]\nurl = "sqlite:///user.db"\n'


def load(tmp_path: Path, env: dict[str, str], **kwargs: object) -> ServiceSettings:
    (tmp_path / "settings.toml").write_text(DEFAULTS)
    return load_settings(
        ServiceSettings,
        service_dir=tmp_path,
        prefix="USER",
        env=env,
        **kwargs,  # type: ignore[arg-type]
    )


def problems(tmp_path: Path, env: dict[str, str], **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, env, **kwargs)
    return [str(problem) for problem in error.value.problems]


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("USER_GRPC__PROT", "USER_GRPC__PORT"),  # a typo in the key
        ("USER_GRPC_PORT", "USER_GRPC__PORT"),  # one underscore where two belong
        ("USER_DATABSE__URL", "USER_DATABASE__URL"),  # a typo in the section
        ("USER_WORKER", "USER_WORKERS"),
    ],
)
def test_a_prefixed_variable_that_names_no_setting_is_reported_with_the_closest_one(
    tmp_path: Path, name: str, meant: str
) -> None:
    assert problems(tmp_path, {name: "50061"}) == [
        f"{name}: unknown setting, did you mean {meant}?"
    ]


def test_a_variable_far_from_every_setting_is_reported_without_a_guess(tmp_path: Path) -> None:
    assert problems(tmp_path, {"USER_ZZZ": "1"}) == ["USER_ZZZ: unknown setting"]


def test_every_unknown_variable_is_reported_at_once_and_none_is_applied(tmp_path: Path) -> None:
    env = {"USER_GRPC__PROT": "1", "USER_GRPC_PORT": "2", "USER_GRPC__PORT": "abc"}

    assert problems(tmp_path, env) == [
        "USER_GRPC_PORT: unknown setting, did you mean USER_GRPC__PORT?",
        "USER_GRPC__PROT: unknown setting, did you mean USER_GRPC__PORT?",
        "grpc.port: expected an integer, got 'abc'",
    ]


def test_a_variable_below_a_setting_is_unknown(tmp_path: Path) -> None:
    assert problems(tmp_path, {"USER_GRPC__PORT__NUMBER": "1"}) == [
        "USER_GRPC__PORT__NUMBER: unknown setting, did you mean USER_GRPC__PORT?"
    ]


def test_an_unknown_key_of_a_table_set_by_one_variable_is_reported_once(tmp_path: Path) -> None:
    assert problems(tmp_path, {"USER_GRPC": "{prot = 1}"}) == [
        "grpc.prot: unknown key, did you mean 'grpc.port'?"
    ]


def test_an_unknown_variable_of_the_env_file_names_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    env_file.write_text("USER_GRPC__PROT=1\nOTHER=2\n")

    assert problems(tmp_path, {}, env_file=env_file) == [
        f"USER_GRPC__PROT: unknown setting (in {env_file}), did you mean USER_GRPC__PORT?"
    ]


def test_the_variables_a_command_reads_itself_are_not_settings_nor_problems(
    tmp_path: Path,
) -> None:
    env = {"USER_ADMIN_PASSWORD": "correct horse battery", "USER_GRPC__PORT": "50061"}

    settings = load(tmp_path, env, other_variables={"USER_ADMIN_PASSWORD"})

    assert settings.grpc.port == 50061


# What Kubernetes injects into every pod for each Service of its namespace: a Service
# `user` (ports grpc 50051 and metrics 9464) and a Service `user-db`.
SERVICE_LINKS = {
    "USER_SERVICE_HOST": "10.96.0.7",
    "USER_SERVICE_PORT": "50051",
    "USER_SERVICE_PORT_GRPC": "50051",
    "USER_SERVICE_PORT_METRICS": "9464",
    "USER_PORT": "tcp://10.96.0.7:50051",
    "USER_PORT_50051_TCP": "tcp://10.96.0.7:50051",
    "USER_PORT_50051_TCP_PROTO": "tcp",
    "USER_PORT_50051_TCP_PORT": "50051",
    "USER_PORT_50051_TCP_ADDR": "10.96.0.7",
    "USER_PORT_9464_TCP": "tcp://10.96.0.7:9464",
    "USER_DB_SERVICE_HOST": "fd00::12",
    "USER_DB_PORT": "tcp://[fd00::12]:5432",
    "USER_DB_PORT_5432_TCP_ADDR": "fd00::12",
    "USER_SERVICE_SERVICE_PORT": "80",  # a Service called `user-service`
    "USER_SERVICE_PORT_80_TCP": "tcp://10.96.0.9:80",
}


def test_the_service_links_kubernetes_injects_stay_harmless(tmp_path: Path) -> None:
    settings = load(tmp_path, {**SERVICE_LINKS, "USER_GRPC__PORT": "50061"})

    assert settings.grpc == GrpcSettings(port=50061)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("USER_GRPC_PORT", "50061"),  # <NAME>_PORT is a URL when Kubernetes sets it
        ("USER_PORT", "50061"),
        ("USER_SERVICE_HOST", "user.example"),  # an address, never a name
        ("USER_SERVICE_PORT", "grpc"),
        ("USER_PORT_50051_TCP_PROTO", "http"),
        ("USER_PORT_50051_HTTP", "tcp://10.96.0.7:50051"),
    ],
)
def test_a_variable_only_shaped_like_a_service_link_is_still_reported(
    tmp_path: Path, name: str, value: str
) -> None:
    reported = problems(tmp_path, {name: value})

    assert not is_service_link(name, value)
    assert [line.partition(":")[0] for line in reported] == [name]
