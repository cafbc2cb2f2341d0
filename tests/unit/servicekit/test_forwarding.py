"""The end client of a call: the peer's address, or what a trusted edge forwarded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import structlog

from servicekit.config import ConfigError, load_settings
from servicekit.grpc import GrpcSettings
from servicekit.grpc.forwarding import (
    FORWARDED_FOR,
    ClientAddresses,
    ForwardingSettings,
    peer_address,
)
from servicekit.grpc.interceptors.request_context import RequestContextInterceptor
from servicekit.tls import spiffe_id
from tests.unit.servicekit._observed_server import get_user, serving


@dataclass
class Context:
    """What ``ClientAddresses`` reads of a servicer context."""

    peer_text: str
    metadata: list[tuple[str, str]] = field(default_factory=list)
    certificate_names: list[bytes] = field(default_factory=list)

    def peer(self) -> str:
        return self.peer_text

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return self.metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        return {"peer_spiffe_id": self.certificate_names} if self.certificate_names else {}


GATEWAY_CERT = [spiffe_id("gateway").encode()]
FORWARDED = [(FORWARDED_FOR, "203.0.113.9")]


def test_a_direct_caller_is_its_peer_address() -> None:
    clients = ClientAddresses()

    assert clients.of(Context("ipv4:198.51.100.7:50312")) == "198.51.100.7"
    assert clients.of(Context("ipv6:[::1]:50312")) == "::1"
    assert clients.of(Context("ipv6:%5B2001:db8::1%5D:443")) == "2001:db8::1"
    assert clients.of(Context("unix:/run/sock")) == "unknown"


def test_a_forwarded_address_from_an_untrusted_caller_is_ignored() -> None:
    clients = ClientAddresses(ForwardingSettings(trusted_networks=("10.0.0.0/8",)))

    assert clients.of(Context("ipv4:198.51.100.7:50312", FORWARDED)) == "198.51.100.7"
    other_service = [spiffe_id("user").encode()]
    assert clients.of(Context("ipv4:198.51.100.7:1", FORWARDED, other_service)) == "198.51.100.7"


def test_the_gateway_over_mutual_tls_is_believed() -> None:
    clients = ClientAddresses()

    assert clients.of(Context("ipv4:10.1.2.3:50312", FORWARDED, GATEWAY_CERT)) == "203.0.113.9"


def test_a_caller_from_a_trusted_network_is_believed() -> None:
    clients = ClientAddresses(ForwardingSettings(trusted_networks=("10.0.0.0/8", "::1")))

    assert clients.of(Context("ipv4:10.1.2.3:50312", FORWARDED)) == "203.0.113.9"
    assert clients.of(Context("ipv6:[::1]:50312", FORWARDED)) == "203.0.113.9"


@pytest.mark.parametrize(
    "metadata",
    [
        [(FORWARDED_FOR, "not an address")],
        [(FORWARDED_FOR, "203.0.113.9"), (FORWARDED_FOR, "203.0.113.10")],
        [(FORWARDED_FOR, "203.0.113.9, 10.0.0.1")],
    ],
    ids=["malformed", "repeated", "a-chain"],
)
def test_a_forwarded_value_that_is_not_one_address_is_ignored(
    metadata: list[tuple[str, str]],
) -> None:
    clients = ClientAddresses(ForwardingSettings(trusted_networks=("10.0.0.0/8",)))

    assert clients.of(Context("ipv4:10.1.2.3:50312", metadata)) == "10.1.2.3"


def test_peer_strings_of_other_transports_have_no_address() -> None:
    assert peer_address(None) is None
    assert peer_address("unix-abstract:grpc") is None
    assert peer_address("ipv4:not-an-ip:1") is None


def test_trusted_networks_are_checked_when_the_settings_load(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("[forwarding]\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(
            GrpcSettings,
            service_dir=tmp_path,
            prefix="T",
            env={"T_FORWARDING__TRUSTED_NETWORKS": "10.0.0.0/8,gateway"},
        )

    assert "forwarding" in str(refused.value)
    assert "'gateway'" in str(refused.value)


def test_the_request_context_binds_the_client_for_the_handler_and_the_summary_line() -> None:
    interceptor = RequestContextInterceptor(
        clients=ClientAddresses(ForwardingSettings(trusted_networks=("127.0.0.0/8", "::1")))
    )
    with (
        serving([interceptor]) as served,
        structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as logs,
    ):
        code, _ = get_user(served, metadata=FORWARDED)

    assert code == grpc.StatusCode.OK
    assert served.servicer.seen_clients == ["203.0.113.9"]
    [summary] = [line for line in logs if line["event"] == "rpc"]
    assert summary["client"] == "203.0.113.9"
