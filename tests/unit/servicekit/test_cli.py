"""servicekit.cli: one command line for every service a ServiceDefinition declares."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData

from servicekit.cli import main
from servicekit.config import Environment, SettingsLoader
from servicekit.db import DatabaseSettings
from servicekit.definition import Command, ServiceDefinition
from servicekit.grpc import GrpcSettings
from servicekit.logging import LoggingSettings
from servicekit.metrics import MetricsSettings
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
    assert capsys.readouterr().err.startswith("tiny: invalid settings\n")


def test_every_service_has_the_standard_commands_beside_its_own(
    tiny: ServiceDefinition[TinySettings], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(tiny, ["--help"])

    usage = capsys.readouterr().out
    assert done.value.code == 0
    assert "python -m services.tiny" in usage
    assert "{serve,probe,migrate,revision,greet}" in usage
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
