"""The Auth Service, declared to servicekit: its name, settings, wiring and schema, and
``rotate-keys``, its one command of its own.

``python -m services.auth`` runs this declaration through ``servicekit.cli`` (``serve``,
``probe``, ``migrate``, ``revision`` and ``rotate-keys``).
"""

from __future__ import annotations

import argparse

from servicekit.definition import Command, ServiceDefinition
from services.auth.app import SERVICE_NAME, create_server, rotate_keys
from services.auth.models import MIGRATIONS_DIR, metadata
from services.auth.settings import AuthSettings, load

__all__ = ["SERVICE"]


def _rotate_keys(settings: AuthSettings, args: argparse.Namespace) -> int:
    print(rotate_keys(settings))
    return 0


SERVICE = ServiceDefinition(
    name=SERVICE_NAME,
    settings=load,
    create_server=create_server,
    migrations=MIGRATIONS_DIR,
    metadata=metadata,
    commands=(
        Command(
            name="rotate-keys",
            help="make a new signing key (prints its kid); old keys stay published for the overlap",
            run=_rotate_keys,
        ),
    ),
)
