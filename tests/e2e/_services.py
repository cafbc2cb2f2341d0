"""Services of the manifests started as servicekit runs them, for e2e tests that need them
all: each from its declaration (``services.<name>.definition.SERVICE``: settings loader,
migrations, ``create_server``), on a fresh migrated database, on port 0.

The gateway's e2e tests run user and auth themselves (``tests/e2e/auth/_stack.py``) and put
the others (``other_services``) behind the gateway as well, so that every operation of its
document has a backend: a service made by `make new-service` is served there as soon as
it is declared, with no line of the tests changing.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from servicekit.db import upgrade
from servicekit.definition import ServiceDefinition
from servicekit.grpc import GrpcServer
from servicekit.testing.databases import DatabaseKind, temporary_database
from stackkit.local import start_order
from stackkit.manifest import ServiceManifest, load_manifests

__all__ = ["grpc_services", "running_services"]

REPO = Path(__file__).resolve().parents[2]


def grpc_services(*, besides: Sequence[str] = ()) -> list[ServiceManifest]:
    """The grpc services of the manifests, callees first, but for those named in ``besides``."""
    return [
        m for m in start_order(load_manifests(REPO)) if m.kind == "grpc" and m.name not in besides
    ]


@contextmanager
def running_services(
    manifests: Sequence[ServiceManifest],
    *,
    kind: DatabaseKind,
    folder: Path,
    jwks_file: Path,
    known: Mapping[str, str] | None = None,
) -> Iterator[dict[str, str]]:
    """Start each service (callees first); yield ``{name: address}``; stop them all.

    ``known`` gives the addresses of services already running (the callees a started
    service may call); token verifiers read ``jwks_file``.
    """
    addresses = dict(known or {})
    started: dict[str, str] = {}
    with ExitStack() as stack:
        for manifest in manifests:
            definition: ServiceDefinition[Any] = importlib.import_module(
                f"{manifest.package}.definition"
            ).SERVICE
            env = {
                manifest.variable("grpc.port"): "0",
                manifest.variable("metrics.port"): "0",
            }
            if manifest.database:
                url = stack.enter_context(temporary_database(kind, folder))
                upgrade(url, definition.migrations)
                env[manifest.variable("database.url")] = url
            if manifest.verifies_tokens:
                env[manifest.variable("auth.jwks_file")] = str(jwks_file)
            for callee in manifest.calls:
                env[manifest.variable(f"{callee}_client.target")] = addresses[callee]
            server = definition.create_server(
                definition.settings(env=env), worker_index=0, reuse_port=False
            )
            assert isinstance(server, GrpcServer)
            server.start()
            stack.callback(server.stop, 0)
            addresses[manifest.name] = started[manifest.name] = f"127.0.0.1:{server.port}"
        yield started
