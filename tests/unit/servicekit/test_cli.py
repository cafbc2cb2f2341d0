"""servicekit.cli: one command line for every service a ServiceDefinition declares."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, text

from servicekit.cli import main
from servicekit.config import Environment, SettingsLoader
from servicekit.db import DatabaseSettings
from servicekit.definition import Command, ServiceDefinition
from servicekit.grpc import GrpcSettings
from servicekit.logging import LoggingSettings
from servicekit.metrics import MetricsSettings
from servicekit.testing.ports import free_port
from servicekit.tracing import TracingSettings


@dataclass(frozen=True, kw_only=True, slots=True)
class TinySettings:
    environment: Environment = "development"
    grpc: GrpcSettings = field(default_factory=GrpcSettings)
    database: DatabaseSettings
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)


def no_server(settings: TinySettings, *, worker_index: int = 0, reuse_port: bool = False) -> Any:
    raise AssertionError("no test here serves")


@dataclass
class Greeter:
    """A service's own command: records what it was given."""

    seen: list[tuple[TinySettings, argparse.Namespace]] = field(default_factory=list)

    def arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", required=True)

    def run(self, settings: TinySettings, args: argparse.Namespace) -> int:
        self.seen.append((settings, args))
        return 7


@pytest.fixture
def greeter() -> Greeter:
    return Greeter()


@pytest.fixture
def tiny(tmp_path: Path, greeter: Greeter) -> ServiceDefinition[TinySettings]:
    (tmp_path / "settings.toml").write_text('[database]\nurl = "sqlite:///tiny.db"\n')
    return ServiceDefinition(
        name="tiny",
        settings=SettingsLoader(TinySettings, service_dir=tmp_path, prefix="TINY"),
        create_server=no_server,
        migrations=tmp_path / "migrations",
        metadata=MetaData(),
        commands=(
            Command(name="greet", help="say hello", arguments=greeter.arguments, run=greeter.run),
        ),
    )


def test_a_service_command_gets_the_settings_and_its_arguments(
    tiny: ServiceDefinition[TinySettings], greeter: Greeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINY_GRPC__PORT", "50099")

    code = main(tiny, ["greet", "--name", "Ada"])

    ((settings, args),) = greeter.seen
    assert code == 7
    assert (settings.grpc.port, args.name) == (50099, "Ada")


def test_invalid_settings_end_with_exit_code_2_before_the_command_runs(
    tiny: ServiceDefinition[TinySettings],
    greeter: Greeter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TINY_GRPC__PORT", "not-a-port")

    code = main(tiny, ["greet", "--name", "Ada"])

    assert code == 2
    assert greeter.seen == []
    assert capsys.readouterr().err == (
        "tiny: invalid settings: grpc.port: expected an integer, got 'not-a-port'\n"
    )


def test_several_invalid_settings_are_counted_then_listed_one_per_line(
    tiny: ServiceDefinition[TinySettings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TINY_GRPC__PORT", "not-a-port")
    monkeypatch.setenv("TINY_GRPC__PROT", "1")

    code = main(tiny, ["greet", "--name", "Ada"])

    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "tiny: invalid settings, 2 problems:",
        "  TINY_GRPC__PROT: unknown setting, did you mean TINY_GRPC__PORT?",
        "  grpc.port: expected an integer, got 'not-a-port'",
    ]


def test_a_variable_a_command_reads_itself_is_no_unknown_setting(
    tiny: ServiceDefinition[TinySettings],
    greeter: Greeter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads_its_own = Command(
        name="greet",
        help="say hello",
        arguments=greeter.arguments,
        run=greeter.run,
        variables=("TINY_GREETING",),
    )
    service = ServiceDefinition(
        name="tiny",
        settings=tiny.settings,
        create_server=no_server,
        migrations=tiny.migrations,
        metadata=tiny.metadata,
        commands=(reads_its_own,),
    )
    monkeypatch.setenv("TINY_GREETING", "hello")

    assert main(service, ["greet", "--name", "Ada"]) == 7


def test_serve_on_a_database_that_refuses_connections_is_one_line_and_exit_code_2(
    tiny: ServiceDefinition[TinySettings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("TINY_DATABASE__URL", f"postgresql://app:s3cret@127.0.0.1:{port}/tiny")

    code = main(tiny, ["serve"])  # no_server would fail the test: nothing may be built

    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == (
        f"tiny: cannot reach the database at 127.0.0.1:{port} (TINY_DATABASE__URL): "
        "connection refused\n"
    )
    assert "s3cret" not in captured.err + captured.out


def test_a_service_command_failing_on_its_database_is_one_line(
    tmp_path: Path,
    tiny: ServiceDefinition[TinySettings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def reads_users(settings: TinySettings, args: argparse.Namespace) -> int:
        engine = create_engine(settings.database.url.reveal())
        with engine.connect() as connection:
            connection.execute(text("SELECT id FROM users"))
        return 0

    service = ServiceDefinition(
        name="tiny",
        settings=tiny.settings,
        create_server=no_server,
        migrations=tiny.migrations,
        metadata=tiny.metadata,
        commands=(Command(name="list", help="list users", run=reads_users),),
    )
    monkeypatch.setenv("TINY_DATABASE__URL", f"sqlite:///{tmp_path / 'empty.db'}")

    code = main(service, ["list"])

    assert code == 2
    assert capsys.readouterr().err == (
        f"tiny: the database at {tmp_path / 'empty.db'} (TINY_DATABASE__URL) is not migrated "
        "(no such table: users): run `python -m services.tiny migrate` first\n"
    )


def test_an_error_that_is_not_the_databases_is_not_hidden(
    tiny: ServiceDefinition[TinySettings],
) -> None:
    def broken(settings: TinySettings, args: argparse.Namespace) -> int:
        raise RuntimeError("a bug")

    service = ServiceDefinition(
        name="tiny",
        settings=tiny.settings,
        create_server=no_server,
        migrations=tiny.migrations,
        metadata=tiny.metadata,
        commands=(Command(name="broken", help="fails", run=broken),),
    )

    with pytest.raises(RuntimeError, match="a bug"):
        main(service, ["broken"])


def test_every_service_has_the_standard_commands_beside_its_own(
    tiny: ServiceDefinition[TinySettings], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(tiny, ["--help"])

    usage = capsys.readouterr().out
    assert done.value.code == 0
    assert "python -m services.tiny" in usage
    assert "{serve,probe,migrate,revision,db-shell,greet}" in usage
    assert "a dotenv file of TINY_* variables" in usage


def test_a_command_named_like_a_standard_one_is_refused(
    tiny: ServiceDefinition[TinySettings],
) -> None:
    clash = Command(name="migrate", help="mine", run=Greeter().run)

    with pytest.raises(ValueError, match="migrate"):
        ServiceDefinition(
            name="tiny",
            settings=tiny.settings,
            create_server=no_server,
            migrations=tiny.migrations,
            metadata=tiny.metadata,
            commands=(clash,),
        )
