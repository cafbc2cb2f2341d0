"""A service, declared once: what servicekit needs to run it, and the commands it adds.

A service's ``definition.py`` is one declaration; its ``__main__.py`` hands it to
``servicekit.cli.main``, which gives it ``serve``, ``probe``, ``migrate``, ``revision`` and
``db-shell`` (and ``--env-file``, the settings check, one-line errors and the exit codes)
beside its own commands::

    SERVICE = ServiceDefinition(
        name="user",                      # python -m services.user; logs; probe lines
        settings=load,                    # a SettingsLoader: settings.toml, USER_* variables
        create_server=create_server,      # the wiring function of app.py
        migrations=MIGRATIONS_DIR,        # the alembic revisions
        metadata=metadata,                # the models they build (for revision --autogenerate)
        commands=(                        # its own; `variables`: the USER_ ones it reads
            Command(name="create-admin", help="...", run=..., variables=("USER_ADMIN_PASSWORD",)),
        ),
    )

Declaring builds nothing: no settings are read, no engine or server is made until a
command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from sqlalchemy import MetaData

from servicekit.config import SettingsLoader
from servicekit.grpc.standard import RuntimeSettings, ServerFactory
from servicekit.logging import LoggingSettings

__all__ = ["STANDARD_COMMANDS", "Command", "ServiceDefinition", "ServiceSettings"]

STANDARD_COMMANDS = ("serve", "probe", "migrate", "revision", "db-shell")
"""What every service's command line has; a service's own commands take other names."""


class ServiceSettings(RuntimeSettings, Protocol):
    """The sections of a service's settings that servicekit's commands read."""

    @property
    def logging(self) -> LoggingSettings: ...


S = TypeVar("S", bound=ServiceSettings)


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command without options of its own."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Command(Generic[S]):
    """One command of one service (``create-admin``, ``rotate-keys``).

    ``arguments`` adds its options to its parser; ``run`` gets the loaded settings and the
    parsed arguments, and returns the exit code. ``variables`` are the environment variables
    of the service's prefix it reads itself (``USER_ADMIN_PASSWORD``): the settings loader
    does not report them as unknown settings, whichever command runs.
    """

    name: str
    help: str
    run: Callable[[S, argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    variables: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceDefinition(Generic[S]):
    """A gRPC service with a database of its own, as ``servicekit.cli`` runs it."""

    name: str
    settings: SettingsLoader[S]
    create_server: ServerFactory[S]
    migrations: Path
    metadata: MetaData
    commands: tuple[Command[S], ...] = ()

    def __post_init__(self) -> None:
        names = [command.name for command in self.commands]
        taken = sorted({n for n in names if n in STANDARD_COMMANDS or names.count(n) > 1})
        if taken:
            raise ValueError(f"service {self.name!r}: command names taken twice: {taken}")

    @property
    def module(self) -> str:
        """What ``python -m`` runs: ``services.<name>``."""
        return f"services.{self.name}"

    @property
    def env_prefix(self) -> str:
        """The prefix of its environment variables (``USER`` of ``USER_GRPC__PORT``)."""
        return self.settings.prefix

    @property
    def other_variables(self) -> frozenset[str]:
        """The variables of its prefix that its commands read and that are no settings."""
        return frozenset(name for command in self.commands for name in command.variables)

    def command(self, name: str) -> Command[S]:
        """The service's own command called ``name``."""
        return next(command for command in self.commands if command.name == name)
