"""The real User Service on a real port, called through the generated client.

One server per test module and database kind (PostgreSQL and SQLite), on a fresh,
migrated database; tests create the users they need with unique emails, so they never
depend on each other. Tokens come from a test issuer whose JWKS file the server reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from servicekit.db import upgrade
from servicekit.testing.databases import DatabaseKind, temporary_database
from servicekit.testing.tokens import TestIssuer
from services.user.app import create_server
from services.user.models import MIGRATIONS_DIR
from tests.e2e.user._support import UserApi, user_settings


@pytest.fixture(scope="module")
def api(database_kind: DatabaseKind, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserApi]:
    directory = tmp_path_factory.mktemp("user-e2e")
    issuer = TestIssuer(directory)
    with temporary_database(database_kind, directory) as url:
        upgrade(url, MIGRATIONS_DIR)
        server = create_server(user_settings(url, issuer.jwks_file))
        server.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            yield UserApi(server=server, channel=channel, issuer=issuer, database_url=url)
        finally:
            channel.close()
            server.stop(0)
