"""The ``probe`` command: real servers on real ports, asked whether they are ready."""

from __future__ import annotations

import http.server
import io
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from servicekit.devcerts import issue_dev_certificates
from servicekit.grpc import GrpcSettings, HealthReporter
from servicekit.metrics import MetricsSettings
from servicekit.probe import (
    Outcome,
    grpc_ready,
    http_ready,
    probe_all,
    probe_grpc_service,
    reachable_host,
    report,
    running,
    wait_until,
)
from servicekit.probe import main as probe_main
from servicekit.testing.ports import free_port
from servicekit.tls import TlsServerSettings
from tests.unit.servicekit._fake_user_service import running_server


@pytest.mark.parametrize(
    ("host", "dialled"),
    [
        ("0.0.0.0", "127.0.0.1"),  # noqa: S104 - a bind address under test  # nosec B104
        ("::", "::1"),
        ("", "127.0.0.1"),
        ("10.1.2.3", "10.1.2.3"),
        ("user.acme.svc", "user.acme.svc"),
    ],
)
def test_a_wildcard_bind_address_is_dialled_on_loopback(host: str, dialled: str) -> None:
    assert reachable_host(host) == dialled


def test_a_serving_server_is_ready() -> None:
    with running_server() as server:
        outcome = grpc_ready(GrpcSettings(port=server.port))

    assert outcome == Outcome(True, f"grpc 127.0.0.1:{server.port}: SERVING")


def test_a_server_whose_readiness_check_fails_is_not_ready() -> None:
    health = HealthReporter({"database": lambda: False})
    with running_server(health=health) as server:
        outcome = grpc_ready(GrpcSettings(port=server.port))

    assert outcome == Outcome(False, f"grpc 127.0.0.1:{server.port}: NOT_SERVING")


def test_nothing_listening_is_not_ready_and_says_unavailable() -> None:
    port = free_port()

    outcome = grpc_ready(GrpcSettings(port=port), timeout=1)

    assert outcome == Outcome(False, f"grpc 127.0.0.1:{port}: UNAVAILABLE")


def test_a_mutual_tls_server_is_probed_with_its_own_certificate(tmp_path: Path) -> None:
    issue_dev_certificates(tmp_path, ["user"])
    tls = TlsServerSettings(
        enabled=True,
        cert_file=str(tmp_path / "user.pem"),
        key_file=str(tmp_path / "user-key.pem"),
        client_ca_file=str(tmp_path / "ca.pem"),
        require_client_cert=True,
    )
    with running_server(settings=GrpcSettings(port=0, max_workers=4, tls=tls)) as server:
        outcome = grpc_ready(GrpcSettings(port=server.port, tls=tls))

    assert outcome.ready, outcome.seen


class _Readyz(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def http_server(status: int) -> Iterator[int]:
    handler = type("Handler", (_Readyz,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_http_readiness_is_a_200_of_the_path() -> None:
    with http_server(200) as ok, http_server(503) as unready:
        assert http_ready("127.0.0.1", ok, "/readyz") == Outcome(
            True, f"http://127.0.0.1:{ok}/readyz: 200"
        )
        assert http_ready("127.0.0.1", unready, "/readyz") == Outcome(
            False, f"http://127.0.0.1:{unready}/readyz: 503"
        )


def test_http_with_nothing_listening_is_not_ready() -> None:
    port = free_port()

    outcome = http_ready("0.0.0.0", port, "/readyz", timeout=1)  # noqa: S104  # nosec B104

    assert not outcome.ready
    assert outcome.seen.startswith(f"http://127.0.0.1:{port}/readyz: ")


def test_waiting_asks_again_until_ready() -> None:
    answers = iter([False, False, True])
    asked: list[bool] = []

    def check() -> Outcome:
        asked.append(ready := next(answers))
        return Outcome(ready, "seen")

    assert wait_until(check, within=10, every=0.01).ready
    assert asked == [False, False, True]


def test_waiting_gives_up_with_the_last_answer() -> None:
    outcome = wait_until(lambda: Outcome(False, "still starting"), within=0.05, every=0.01)

    assert outcome == Outcome(False, "still starting")


def test_the_command_prints_the_addresses_once_ready(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = MetricsSettings(port=9999)
    with running_server() as server:
        code = probe_grpc_service("user", GrpcSettings(port=server.port), metrics, wait=5)

    lines = capsys.readouterr().out.splitlines()  # the server's own log lines too
    assert code == 0
    assert (
        f"user: ready   grpc 127.0.0.1:{server.port}   metrics http://127.0.0.1:9999/metrics"
    ) in lines


def test_the_command_fails_naming_what_it_last_saw(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()

    code = probe_grpc_service(
        "auth", GrpcSettings(port=port), MetricsSettings(enabled=False), wait=0.3
    )

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err == f"auth: not ready after 0.3 s (grpc 127.0.0.1:{port}: UNAVAILABLE)\n"


# Every service at once: `python -m servicekit.probe` (make up's `ready` process)


def test_the_services_are_probed_at_the_same_time() -> None:
    everyone_asking = threading.Barrier(3, timeout=30)  # one at a time never gets through

    def service(argv: Sequence[str]) -> int:
        assert list(argv) == ["probe", "--wait", "60"]
        everyone_asking.wait()
        return 0

    assert probe_all([service, service, service], wait=60) == 0


def test_the_stack_is_not_ready_when_one_service_is_not() -> None:
    assert probe_all([lambda argv: 0, lambda argv: 1, lambda argv: 0], wait=1) == 1


def test_running_names_the_services_that_answer_and_prints_nothing_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def answering(argv: Sequence[str]) -> int:
        print("user: ready   grpc 127.0.0.1:50051   metrics http://127.0.0.1:9464/metrics")
        return 0

    def silent(argv: Sequence[str]) -> int:
        print("auth: not ready after 0 s (grpc 127.0.0.1:50052: UNAVAILABLE)", file=sys.stderr)
        return 1

    found = running([("user", answering), ("auth", silent)])

    assert found == ["user at grpc 127.0.0.1:50051"]
    assert capsys.readouterr() == ("", "")


@pytest.fixture
def services_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package of two importable services, `<package>.up` (answers) and `.down` (does
    not); its name is the test's own, so that no other module is called the same."""
    package = f"probed_{uuid.uuid4().hex}"
    for name, code, line in (("up", 0, "up: ready   grpc 127.0.0.1:1"), ("down", 1, "")):
        folder = tmp_path / package / name
        folder.mkdir(parents=True)
        (folder / "__main__.py").write_text(
            f"def main(argv):\n    print({line!r})\n    return {code}\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    return package


def test_the_command_says_which_services_already_run(
    services_on_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    up, down = f"{services_on_path}.up", f"{services_on_path}.down"

    assert probe_main(["--running", down, up]) == 0
    assert capsys.readouterr().out == "up at grpc 127.0.0.1:1\n"
    assert probe_main(["--running", down]) == 1
    assert capsys.readouterr().out == ""


class _SlowStream(io.StringIO):
    """An output that lets another thread run in the middle of every print."""

    def write(self, text: str) -> int:
        written = super().write(text)
        time.sleep(0.01)
        return written


def test_services_reporting_at_the_same_moment_print_whole_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = _SlowStream()
    monkeypatch.setattr(sys, "stdout", out)
    together = threading.Barrier(3, timeout=30)

    def service(name: str) -> Callable[[Sequence[str]], int]:
        def main(argv: Sequence[str]) -> int:
            together.wait()
            return report(name, lambda: Outcome(True, "up"), wait=0, addresses=[f"grpc {name}"])

        return main

    assert probe_all([service("user"), service("auth"), service("gateway")], wait=0) == 0
    assert sorted(out.getvalue().splitlines()) == [
        "auth: ready   grpc auth",
        "gateway: ready   grpc gateway",
        "user: ready   grpc user",
    ]
