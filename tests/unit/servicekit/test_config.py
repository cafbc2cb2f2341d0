"""servicekit.config: layered settings, validated at once, handed down frozen and typed."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pytest

from servicekit.config import (
    ConfigError,
    ConfigProblem,
    Environment,
    Secret,
    insecure_default,
    load_settings,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class GrpcSettings:
    host: str
    port: int
    max_workers: int = 8


@dataclass(frozen=True, kw_only=True, slots=True)
class UserSettings:
    environment: Environment = "development"
    grpc: GrpcSettings
    database_url: Secret
    jwt_signing_key: Annotated[Secret, insecure_default("dev-signing-key")]


DEFAULTS = """\
environment = "development"
database_url = "postgresql://user:s3cret@localhost/users"
jwt_signing_key = "dev-signing-key"

[grpc]
host = "localhost"
port = 50051
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    burst: int


@dataclass(frozen=True, kw_only=True, slots=True)
class EveryKind:
    count: int
    ratio: float
    enabled: bool
    name: str
    data_dir: Path
    hosts: tuple[str, ...]
    ports: tuple[int, ...] = ()
    limits: Limits
    token: Secret
    level: Literal["debug", "info"]
    timeout: float | None = None
    optional_limits: Limits | None = None


EVERY_KIND = """\
count = 3
ratio = 2
enabled = true
name = "users"
data_dir = "/var/lib/users"
hosts = ["a.example", "b.example"]
token = "t0ken"
level = "info"

[limits]
burst = 10
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class AdminSettings:
    debug: Annotated[bool, insecure_default(True)] = True


@dataclass(frozen=True, kw_only=True, slots=True)
class AdminService:
    environment: Environment
    admin: AdminSettings = field(default_factory=AdminSettings)


def load(
    settings_cls: type[object],
    directory: Path,
    toml: str,
    env: dict[str, str] | None = None,
    env_file: Path | None = None,
) -> object:
    (directory / "settings.toml").write_text(toml)
    return load_settings(
        settings_cls, service_dir=directory, prefix="USER", env=env or {}, env_file=env_file
    )


def load_user(tmp_path: Path, env: dict[str, str] | None = None, **kwargs: Path) -> UserSettings:
    settings = load(UserSettings, tmp_path, DEFAULTS, env, **kwargs)
    assert isinstance(settings, UserSettings)
    return settings


def problems_of(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(problem) for problem in error.value.problems]


# Layering


def test_values_come_from_the_services_settings_toml(tmp_path: Path) -> None:
    settings = load_user(tmp_path)

    assert settings.grpc == GrpcSettings(host="localhost", port=50051, max_workers=8)
    assert settings.database_url.reveal() == "postgresql://user:s3cret@localhost/users"
    assert settings.environment == "development"


def test_a_dataclass_default_applies_when_no_layer_gives_the_key(tmp_path: Path) -> None:
    assert load_user(tmp_path).grpc.max_workers == 8


def test_the_env_file_overrides_settings_toml(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    env_file.write_text("USER_GRPC__PORT=50099\nUSER_GRPC__HOST='127.0.0.1'\nOTHER=1\n")

    settings = load_user(tmp_path, env_file=env_file)

    assert (settings.grpc.host, settings.grpc.port) == ("127.0.0.1", 50099)


def test_a_prefixed_env_var_overrides_a_nested_key_and_beats_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    env_file.write_text("USER_GRPC__PORT=50099\n")

    settings = load_user(tmp_path, {"USER_GRPC__PORT": "50061"}, env_file=env_file)

    assert settings.grpc.port == 50061
    assert settings.grpc.host == "localhost"


def test_env_vars_without_the_service_prefix_are_ignored(tmp_path: Path) -> None:
    env = {"GRPC__PORT": "1", "ORDER_GRPC__PORT": "2", "DYNACONF_GRPC__PORT": "3"}

    assert load_user(tmp_path, env).grpc.port == 50051


def test_text_fields_keep_the_exact_text_of_an_env_var(tmp_path: Path) -> None:
    env = {"USER_GRPC__HOST": "0123", "USER_DATABASE_URL": "1.50", "USER_JWT_SIGNING_KEY": "true"}

    settings = load_user(tmp_path, env)

    assert settings.grpc.host == "0123"
    assert settings.database_url.reveal() == "1.50"
    assert settings.jwt_signing_key.reveal() == "true"


# Validation


def test_every_problem_is_reported_at_once_each_naming_its_key(tmp_path: Path) -> None:
    toml = DEFAULTS.replace('database_url = "postgresql://user:s3cret@localhost/users"\n', "")
    env = {"USER_GRPC__PORT": "abc", "USER_ENVIRONMENT": "prod"}

    with pytest.raises(ConfigError) as error:
        load(UserSettings, tmp_path, toml, env)

    assert problems_of(error) == [
        "environment: expected one of 'development', 'test', 'staging', 'production', got 'prod'",
        "grpc.port: expected an integer, got 'abc'",
        "database_url: required",
        "jwt_signing_key: the development default is refused in prod",
    ]
    assert "  grpc.port: expected an integer, got 'abc'" in str(error.value).splitlines()


def test_a_typo_in_settings_toml_is_reported_as_an_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(UserSettings, tmp_path, DEFAULTS + "\n[grcp]\nport = 50061\n")

    assert problems_of(error) == ["grcp.port: unknown key, did you mean 'grpc'?"]


def test_an_unknown_key_far_from_any_field_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(UserSettings, tmp_path, "zzz = 1\n" + DEFAULTS)

    assert problems_of(error) == ["zzz: unknown key"]


def test_an_unknown_nested_key_is_reported_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(UserSettings, tmp_path, DEFAULTS + "prot = 1\n")

    assert problems_of(error) == ["grpc.prot: unknown key, did you mean 'grpc.port'?"]


def test_an_unknown_prefixed_key_in_the_env_file_is_reported(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    env_file.write_text("USER_GRPC__PROT=1\n")

    with pytest.raises(ConfigError) as error:
        load_user(tmp_path, env_file=env_file)

    assert problems_of(error) == [
        f"USER_GRPC__PROT: unknown setting (in {env_file}), did you mean USER_GRPC__PORT?"
    ]


def test_unknown_prefixed_env_vars_are_ignored_like_kubernetes_service_links(
    tmp_path: Path,
) -> None:
    env = {"USER_PORT": "tcp://10.0.0.7:50051", "USER_SERVICE_HOST": "10.0.0.7"}

    assert load_user(tmp_path, env).grpc.port == 50051


def test_a_missing_settings_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(UserSettings, service_dir=tmp_path, prefix="USER", env={})

    assert problems_of(error) == [f"{tmp_path / 'settings.toml'}: settings file not found"]


def test_a_broken_settings_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(UserSettings, tmp_path, "port = [\n")

    assert error.value.problems[0].key == str(tmp_path / "settings.toml")
    assert error.value.problems[0].rule.startswith("cannot be read")


def test_a_missing_env_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_user(tmp_path, env_file=tmp_path / "absent.env")

    assert problems_of(error) == [f"{tmp_path / 'absent.env'}: env file not found"]


def test_a_dynaconf_meta_variable_in_the_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_user(tmp_path, {"SETTINGS_FILE_FOR_DYNACONF": "other.toml"})

    assert [p.key for p in error.value.problems] == ["SETTINGS_FILE_FOR_DYNACONF"]


def test_a_dynaconf_token_that_cannot_apply_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_user(tmp_path, {"USER_GRPC__PORT": "@int abc"})

    assert problems_of(error) == ["grpc.port: USER_GRPC__PORT: the @token cannot be applied"]


def test_a_post_init_rule_is_reported_as_a_problem(tmp_path: Path) -> None:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class Window:
        low: int
        high: int

        def __post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError("low must not exceed high")

    with pytest.raises(ConfigError) as error:
        load(Window, tmp_path, "low = 5\nhigh = 1\n")

    assert problems_of(error) == ["Window: low must not exceed high"]


# Conversion


def test_every_supported_kind_is_converted_from_settings_toml(tmp_path: Path) -> None:
    settings = load(EveryKind, tmp_path, EVERY_KIND)

    assert settings == EveryKind(
        count=3,
        ratio=2.0,
        enabled=True,
        name="users",
        data_dir=Path("/var/lib/users"),
        hosts=("a.example", "b.example"),
        limits=Limits(burst=10),
        token=Secret("t0ken"),
        level="info",
    )
    assert isinstance(settings, EveryKind)
    assert type(settings.ratio) is float


def test_every_supported_kind_is_converted_from_env_vars(tmp_path: Path) -> None:
    env = {
        "USER_COUNT": "7",
        "USER_RATIO": "0.5",
        "USER_ENABLED": "False",
        "USER_NAME": "42",
        "USER_DATA_DIR": "relative/dir",
        "USER_HOSTS": "c.example, d.example",
        "USER_PORTS": "[1, 2]",
        "USER_LIMITS__BURST": "20",
        "USER_TOKEN": "0001",
        "USER_LEVEL": "debug",
        "USER_TIMEOUT": "1.5",
        "USER_OPTIONAL_LIMITS__BURST": "3",
    }

    settings = load(EveryKind, tmp_path, EVERY_KIND, env)

    assert isinstance(settings, EveryKind)
    assert (settings.count, settings.ratio, settings.enabled) == (7, 0.5, False)
    assert (settings.name, settings.data_dir) == ("42", Path("relative/dir"))
    assert (settings.hosts, settings.ports) == (("c.example", "d.example"), (1, 2))
    assert (settings.limits, settings.optional_limits) == (Limits(burst=20), Limits(burst=3))
    assert (settings.token.reveal(), settings.level, settings.timeout) == ("0001", "debug", 1.5)


def test_an_optional_field_set_to_an_empty_env_var_is_none(tmp_path: Path) -> None:
    settings = load(EveryKind, tmp_path, "timeout = 3.0\n" + EVERY_KIND, {"USER_TIMEOUT": ""})

    assert isinstance(settings, EveryKind)
    assert settings.timeout is None


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('count = "many"', "count: expected an integer, got 'many'"),
        ("count = true", "count: expected an integer, got True"),
        ('ratio = "fast"', "ratio: expected a number, got 'fast'"),
        ('enabled = "maybe"', "enabled: expected true or false, got 'maybe'"),
        ("name = 5", "name: expected a string, got 5"),
        ("data_dir = 5", "data_dir: expected a path, got 5"),
        ('hosts = ["a", 2]', "hosts[1]: expected a string, got 2"),
        ("hosts = 3", "hosts: expected a list, got 3"),
        ('level = "trace"', "level: expected one of 'debug', 'info', got 'trace'"),
        ("token = 1234", "token: expected a string, got int (value hidden)"),
        ('timeout = "soon"', "timeout: expected a number, got 'soon'"),
    ],
)
def test_an_ill_typed_value_is_reported_with_its_key(
    tmp_path: Path, line: str, problem: str
) -> None:
    key = line.partition(" = ")[0]
    kept = [row for row in EVERY_KIND.splitlines() if not row.startswith(f"{key} = ")]

    with pytest.raises(ConfigError) as error:
        load(EveryKind, tmp_path, "\n".join([line, *kept]))

    assert problems_of(error) == [problem]


def test_a_scalar_where_a_table_belongs_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(EveryKind, tmp_path, EVERY_KIND, {"USER_LIMITS": "3"})

    assert problems_of(error) == ["limits: expected a table, got 3"]


def test_a_settings_class_declared_in_a_function_is_a_type_error(tmp_path: Path) -> None:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class Inner:
        port: int

    @dataclass(frozen=True, kw_only=True, slots=True)
    class Outer:
        inner: Inner

    with pytest.raises(TypeError, match="declare settings classes at module level"):
        load(Outer, tmp_path, "[inner]\nport = 1\n")


@pytest.mark.parametrize(
    ("name", "key"), [("USER_GRPC__HOST", "grpc.host"), ("USER_DATABASE_URL", "@format")]
)
def test_a_lazy_format_value_that_cannot_render_is_a_config_error(
    tmp_path: Path, name: str, key: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_user(tmp_path, {name: "@format {this.missing}"})

    assert [p.key for p in error.value.problems] == [key]


@dataclass(frozen=True, kw_only=True, slots=True)
class WithList:
    hosts: list[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class WithUnion:
    port: int | str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class WithPair:
    pair: tuple[int, str]


@dataclass(frozen=True, kw_only=True, slots=True)
class WithInnerMarker:
    key: Annotated[Secret, insecure_default("dev")] | None


@pytest.mark.parametrize(
    ("settings_cls", "message"),
    [
        (WithList, r"WithList\.hosts: unsupported annotation"),
        (WithUnion, r"WithUnion\.port: unsupported annotation"),
        (WithPair, r"WithPair\.pair: unsupported annotation"),
        (WithInnerMarker, "insecure_default.. belongs on the outer annotation"),
    ],
)
def test_an_annotation_that_cannot_be_loaded_is_a_type_error(
    tmp_path: Path, settings_cls: type[object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        load(settings_cls, tmp_path, "")


@dataclass(frozen=True, kw_only=True, slots=True)
class WithDerived:
    port: int
    derived: int = field(init=False, default=0)


def test_a_field_outside_init_is_not_a_setting(tmp_path: Path) -> None:
    assert load(WithDerived, tmp_path, "port = 1\n") == WithDerived(port=1)
    with pytest.raises(ConfigError) as error:
        load(WithDerived, tmp_path, "port = 1\nderived = 2\n")

    assert problems_of(error) == ["derived: unknown key"]


def test_a_mutable_settings_dataclass_is_a_type_error(tmp_path: Path) -> None:
    @dataclass(kw_only=True)
    class Mutable:
        port: int

    with pytest.raises(TypeError, match="must be a frozen dataclass"):
        load(Mutable, tmp_path, "port = 1\n")


# The object handed down


def test_the_settings_object_is_frozen_all_the_way_down(tmp_path: Path) -> None:
    settings = load_user(tmp_path)

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.environment = "production"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.grpc.port = 1  # type: ignore[misc]


def test_the_loaded_object_has_no_trace_of_dynaconf(tmp_path: Path) -> None:
    settings = load(EveryKind, tmp_path, EVERY_KIND, {"USER_PORTS": "[1, 2]"})

    def types_in(value: object) -> set[type]:
        found = {type(value)}
        if dataclasses.is_dataclass(value):
            for item in dataclasses.fields(value):
                found |= types_in(getattr(value, item.name))
        elif isinstance(value, tuple):
            for item in value:
                found |= types_in(item)
        return found

    modules = {kind.__module__.split(".")[0] for kind in types_in(settings)}
    assert modules <= {"builtins", "pathlib", "servicekit", __name__.split(".")[0]}


def test_the_settings_object_survives_pickling_for_worker_processes(tmp_path: Path) -> None:
    settings = load_user(tmp_path)

    assert pickle.loads(pickle.dumps(settings)) == settings  # noqa: S301 - our own bytes


# Secrets


def test_a_secret_is_masked_in_repr_str_and_formatting() -> None:
    secret = Secret("hunter2")

    assert repr(secret) == "Secret('********')"
    assert str(secret) == "Secret('********')"
    assert f"{secret}" == "Secret('********')"
    assert secret.reveal() == "hunter2"


def test_secrets_are_masked_in_the_repr_of_the_settings_object(tmp_path: Path) -> None:
    settings = load_user(tmp_path, {"USER_JWT_SIGNING_KEY": "rotated-key"})

    text = repr(settings)

    assert "database_url=Secret('********')" in text
    assert "s3cret" not in text
    assert "rotated-key" not in text
    assert "s3cret" not in str(settings)


def test_secrets_compare_by_content() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert len({Secret("a"), Secret("a")}) == 1


def test_a_secret_wraps_only_strings() -> None:
    with pytest.raises(TypeError, match="Secret wraps a str"):
        Secret(1234)  # type: ignore[arg-type]


# Insecure defaults


def test_an_insecure_default_is_accepted_in_development(tmp_path: Path) -> None:
    settings = load_user(tmp_path)

    assert settings.jwt_signing_key.reveal() == "dev-signing-key"


@pytest.mark.parametrize("environment", ["production", "staging", "test"])
def test_an_insecure_default_is_refused_outside_development(
    tmp_path: Path, environment: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_user(tmp_path, {"USER_ENVIRONMENT": environment})

    assert problems_of(error) == [
        f"jwt_signing_key: the development default is refused in {environment}"
    ]


def test_a_replaced_insecure_default_is_accepted_in_production(tmp_path: Path) -> None:
    env = {"USER_ENVIRONMENT": "production", "USER_JWT_SIGNING_KEY": "a-real-key"}

    settings = load_user(tmp_path, env)

    assert settings.environment == "production"
    assert settings.jwt_signing_key == Secret("a-real-key")


def test_an_insecure_dataclass_default_in_a_nested_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(AdminService, tmp_path, 'environment = "production"\n')

    assert error.value.problems == (
        ConfigProblem("admin.debug", "the development default is refused in production"),
    )


def test_insecure_defaults_need_an_environment_field(tmp_path: Path) -> None:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class NoEnvironment:
        key: Annotated[Secret, insecure_default("dev")]

    with pytest.raises(TypeError, match="no environment field"):
        load(NoEnvironment, tmp_path, 'key = "dev"\n')


def test_insecure_default_needs_a_value() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        insecure_default()
