"""What every test tier shares: no tier is left out without saying so.

A test that needs PostgreSQL gets the server of ``TEST_POSTGRES_URL``, or one that the
test process starts itself (``servicekit.testing.databases.postgres_server_url``). Where a
tier cannot run here (no PostgreSQL server can be started, a language's toolchain is
missing), its tests are skipped with a reason that names the tier; with ``CI=true`` every
skip is a failure instead, so CI never passes with a tier left out.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest
import structlog

from servicekit.testing.postgres import PostgresUnavailable


@pytest.fixture(autouse=True, scope="module")
def _structlog_configuration_stays_with_its_module() -> Generator[None, None, None]:
    """A module that configures logging (a service command run in-process does, from a
    module-wide fixture too) leaves the next module the configuration it found: a level
    filter left behind would hide the debug lines another module captures, whichever
    module a parallel worker happens to run next. Set up before the module's other
    fixtures, so torn down after them."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture(autouse=True)
def _structlog_configuration_stays_with_its_test() -> Generator[None, None, None]:
    """The same between the tests of a module."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(PostgresUnavailable):
        reason = f"PostgreSQL tier: no server to run on: {call.excinfo.value}"
        if not in_ci():
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, reason)
        else:
            report.longrepr = f"{reason} (CI=true: a tier that cannot run is a failure)"
    elif report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every tier must run: {report.longrepr}"
    return report
