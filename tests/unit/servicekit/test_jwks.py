"""servicekit.auth.jwks: keys are cached, refreshed on rotation, and never hammered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from servicekit.auth import AuthSettings, JwksSource, TokenVerifier, parse_jwks
from servicekit.errors import Unauthenticated
from servicekit.testing.tokens import TestIssuer


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingLoader:
    """Serves the issuer's current JWKS, or fails while ``broken``, counting every read."""

    def __init__(self, issuer: TestIssuer) -> None:
        self.issuer = issuer
        self.reads = 0
        self.broken = False
        self.withdrawn: set[str] = set()
        self.delay = 0.0

    def __call__(self) -> str:
        self.reads += 1
        time.sleep(self.delay)
        if self.broken:
            raise OSError("connection refused")
        keys = [key for key in self.issuer.jwks()["keys"] if key["kid"] not in self.withdrawn]
        return json.dumps({"keys": keys})


@pytest.fixture
def issuer(tmp_path: Path) -> TestIssuer:
    return TestIssuer(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def loader(issuer: TestIssuer) -> CountingLoader:
    return CountingLoader(issuer)


@pytest.fixture
def source(loader: CountingLoader, clock: FakeClock) -> JwksSource:
    return JwksSource(loader, description="fake", min_refresh_interval=10, clock=clock)


def test_keys_are_read_on_first_use_not_at_construction(
    issuer: TestIssuer, loader: CountingLoader, source: JwksSource
) -> None:
    assert loader.reads == 0

    key = source.key_for(issuer.current_key.kid)

    assert key.key_id == issuer.current_key.kid
    assert key.algorithm_name == "ES256"
    assert loader.reads == 1


def test_known_keys_are_served_from_the_cache(
    issuer: TestIssuer, loader: CountingLoader, source: JwksSource, clock: FakeClock
) -> None:
    for _ in range(50):
        source.key_for(issuer.current_key.kid)
        clock.advance(1)

    assert loader.reads == 1


def test_a_rotated_key_is_found_by_refreshing_on_its_unknown_kid(
    issuer: TestIssuer, loader: CountingLoader, source: JwksSource, clock: FakeClock
) -> None:
    old = issuer.current_key.kid
    source.key_for(old)
    clock.advance(10)

    new = issuer.rotate().kid

    assert source.key_for(new).key_id == new
    assert source.key_ids == {old, new}
    assert loader.reads == 2


def test_a_flood_of_unknown_kids_reads_the_jwks_at_most_once_per_interval(
    issuer: TestIssuer, loader: CountingLoader, source: JwksSource, clock: FakeClock
) -> None:
    source.key_for(issuer.current_key.kid)

    for attempt in range(100):
        with pytest.raises(Unauthenticated, match="unknown signing key"):
            source.key_for(f"made-up-{attempt}")
    assert loader.reads == 1  # the first read was under 10 s ago: no refresh at all

    clock.advance(10)
    for attempt in range(100):
        with pytest.raises(Unauthenticated):
            source.key_for(f"made-up-again-{attempt}")
    assert loader.reads == 2


def test_concurrent_calls_with_an_unknown_kid_share_one_refresh(
    issuer: TestIssuer, loader: CountingLoader, source: JwksSource, clock: FakeClock
) -> None:
    source.key_for(issuer.current_key.kid)
    clock.advance(10)
    loader.delay = 0.05  # a slow endpoint: the other callers arrive while it answers
    start = threading.Barrier(20)
    errors: list[Exception] = []

    def call() -> None:
        start.wait()
        try:
            source.key_for("made-up")
        except Unauthenticated as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(errors) == 20
    assert loader.reads == 2


def test_an_unreadable_jwks_keeps_the_known_keys_and_logs_a_warning(
    issuer: TestIssuer, loader: CountingLoader, source: JwksSource, clock: FakeClock
) -> None:
    kid = issuer.current_key.kid
    source.key_for(kid)
    loader.broken = True
    clock.advance(600)  # past max_age: the next use tries a refresh

    with capture_logs() as logs:
        key = source.key_for(kid)

    assert key.key_id == kid
    assert loader.reads == 2
    assert [(log["event"], log["log_level"], log["source"]) for log in logs] == [
        ("jwks refresh failed, keeping known keys", "warning", "fake")
    ]
    assert "connection refused" in logs[0]["error"]


def test_a_key_withdrawn_from_the_jwks_stops_working_after_max_age(
    issuer: TestIssuer, loader: CountingLoader, source: JwksSource, clock: FakeClock
) -> None:
    withdrawn = issuer.current_key.kid
    source.key_for(withdrawn)
    issuer.rotate()
    loader.withdrawn.add(withdrawn)  # the auth service revokes the old key

    clock.advance(299)
    assert source.key_for(withdrawn).key_id == withdrawn
    clock.advance(1)
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        source.key_for(withdrawn)


def test_a_rotation_written_to_the_jwks_file_is_picked_up(issuer: TestIssuer) -> None:
    source = JwksSource.from_file(issuer.jwks_file, min_refresh_interval=0)
    source.key_for(issuer.current_key.kid)

    rotated = issuer.rotate().kid

    assert source.key_for(rotated).key_id == rotated


def test_a_missing_jwks_file_means_every_key_is_unknown(tmp_path: Path) -> None:
    source = JwksSource.from_file(tmp_path / "not-published-yet.json")

    with capture_logs() as logs, pytest.raises(Unauthenticated, match="unknown signing key"):
        source.key_for("any")
    assert logs[0]["log_level"] == "warning"


class JwksHandler(BaseHTTPRequestHandler):
    document: bytes = b""
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def jwks_url(issuer: TestIssuer) -> Iterator[str]:
    JwksHandler.document = json.dumps(issuer.jwks()).encode()
    JwksHandler.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/auth/jwks"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_keys_are_fetched_from_an_http_jwks_endpoint(issuer: TestIssuer, jwks_url: str) -> None:
    source = JwksSource.from_url(jwks_url, timeout=2.0)

    assert source.key_for(issuer.current_key.kid).key_id == issuer.current_key.kid
    with pytest.raises(Unauthenticated):
        source.key_for("made-up")
    assert JwksHandler.hits == 1  # the unknown kid came within the refresh interval


def test_a_verifier_configured_with_a_jwks_url_verifies_tokens_signed_by_its_keys(
    issuer: TestIssuer, jwks_url: str
) -> None:
    verifier = TokenVerifier.from_settings(AuthSettings(jwks_url=jwks_url))

    principal = verifier.verify(issuer.mint("auth", service="auth"))

    assert principal.service == "auth"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/jwks", "jwks.json"])
def test_only_http_and_https_jwks_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="http or https"):
        JwksSource.from_url(url)


def test_only_asymmetric_signing_keys_with_a_kid_are_kept(issuer: TestIssuer) -> None:
    published = issuer.jwks()["keys"][0]
    document = {
        "keys": [
            published,
            {"kty": "oct", "kid": "shared-secret", "k": "c2VjcmV0"},
            {**published, "kid": "for-encryption", "use": "enc"},
            {key: value for key, value in published.items() if key != "kid"},
        ]
    }

    assert set(parse_jwks(json.dumps(document))) == {published["kid"]}


@pytest.mark.parametrize(
    "document",
    ['{"keys": [{"kty": "oct", "kid": "a", "k": "c2VjcmV0"}]}', '{"keys": []}', "[]", "not json"],
)
def test_a_jwks_without_usable_keys_is_an_error(document: str) -> None:
    with pytest.raises(ValueError, match=r"JWKS|Expecting"):
        parse_jwks(document)
