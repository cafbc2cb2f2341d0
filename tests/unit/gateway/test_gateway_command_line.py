"""``python -m services.gateway``: a mistyped GATEWAY_ variable is one line naming it and
the variable meant, while the backends' map still takes backends only variables name."""

from __future__ import annotations

import os

import pytest

from servicekit.testing.ports import free_port
from services.gateway.__main__ import main
from services.gateway.settings import load


@pytest.fixture(autouse=True)
def _no_gateway_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's environment holds only the GATEWAY_ variables it sets."""
    for name in [name for name in os.environ if name.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)


def test_a_typo_in_a_section_is_one_line_naming_the_variable_meant(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_HTTTP__PORT", "8081")

    code = main(["probe"])

    assert code == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "gateway: invalid settings: GATEWAY_HTTTP__PORT: unknown setting, "
        "did you mean GATEWAY_HTTP__PORT?"
    )


def test_a_typo_in_a_backends_client_setting_is_reported_under_its_backend(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_BACKENDS__USER__DEADLINE_SECOND", "3")

    code = main(["probe"])

    assert code == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "gateway: invalid settings: GATEWAY_BACKENDS__USER__DEADLINE_SECOND: unknown setting, "
        "did you mean GATEWAY_BACKENDS__USER__DEADLINE_SECONDS?"
    )


def test_a_backend_only_variables_name_takes_every_client_setting() -> None:
    env = {
        "GATEWAY_BACKENDS__NOTES__TARGET": "127.0.0.1:50053",
        "GATEWAY_BACKENDS__NOTES__SERVICES": "acme.notes.v1.NotesService",
        "GATEWAY_BACKENDS__NOTES__DEADLINE_SECONDS": "2.5",
        "GATEWAY_BACKENDS__NOTES__TLS__ENABLED": "false",
    }

    notes = load(env=env).backends["notes"]

    assert (notes.target, notes.deadline_seconds) == ("127.0.0.1:50053", 2.5)


def test_kubernetes_service_links_of_the_gateway_stay_harmless(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    monkeypatch.setenv("GATEWAY_HTTP__PORT", str(port))
    monkeypatch.setenv("GATEWAY_SERVICE_HOST", "10.96.0.3")
    monkeypatch.setenv("GATEWAY_SERVICE_PORT_HTTP", "8080")
    monkeypatch.setenv("GATEWAY_PORT", "tcp://10.96.0.3:8080")
    monkeypatch.setenv("GATEWAY_PORT_8080_TCP_ADDR", "10.96.0.3")

    code = main(["probe"])  # the settings load; nothing listens there

    assert code == 1
    assert capsys.readouterr().err.startswith(
        f"gateway: not ready after 0 s (http://127.0.0.1:{port}/readyz: "
    )
