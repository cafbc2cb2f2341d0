"""Who the end client of a call is: its own address, or the one a trusted edge forwarded.

A service called directly sees its client as the gRPC peer. Behind the gateway every call
comes from the gateway, so the gateway sends the address of *its* client as
``x-forwarded-for`` metadata (one address). That value is believed only from a trusted
forwarder: a caller whose mutual-TLS certificate names one of ``trusted_services``, or
whose address is in one of ``trusted_networks``. From anyone else it is ignored, and the
client is the peer itself, so a caller cannot pick the address it is counted under.

``RequestContextInterceptor`` binds the answer for the call
(``servicekit.grpc.context.current_client``); per-client rules (the auth service's sign-in
throttle) read it there.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from servicekit.tls import peer_service

__all__ = [
    "FORWARDED_FOR",
    "ClientAddresses",
    "ForwardingSettings",
    "canonical_address",
    "peer_address",
]

FORWARDED_FOR = "x-forwarded-for"
"""The metadata key of the end client's address, as an edge forwards it (one address)."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, kw_only=True, slots=True)
class ForwardingSettings:
    """Whose ``x-forwarded-for`` to believe.

    - ``trusted_services``: callers whose mutual-TLS certificate names one of these
      services (the platform's edge, ``gateway``).
    - ``trusted_networks``: callers whose address is in one of these networks (CIDR, or
      one address), for deployments where the edge calls in plaintext. Empty by default:
      in plaintext, nobody is trusted.
    """

    trusted_services: tuple[str, ...] = ("gateway",)
    trusted_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        wrong = [text for text in self.trusted_networks if _network(text) is None]
        if wrong:
            raise ValueError(
                "trusted_networks must be addresses or networks (10.0.0.0/8, ::1), "
                f"got {', '.join(map(repr, wrong))}"
            )


class ClientAddresses:
    """Works out the end client's address of a call, by ``ForwardingSettings``."""

    def __init__(self, settings: ForwardingSettings | None = None) -> None:
        settings = settings or ForwardingSettings()
        self._services = frozenset(settings.trusted_services)
        self._networks: tuple[Network, ...] = tuple(
            network for network in map(_network, settings.trusted_networks) if network
        )
        # Whether a peer address is in a trusted network, remembered per address: the same
        # few peers (the gateway's replicas) make most calls.
        self._in_trusted_network = functools.lru_cache(maxsize=_REMEMBERED)(
            self._in_a_trusted_network
        )

    def of(self, context: Any) -> str:
        """The client of the call served with ``context``: a forwarded address when the
        caller is trusted to forward one, else the peer's address (``unknown`` when the
        transport names none)."""
        peer = peer_address(context.peer())
        forwarded = _forwarded(context.invocation_metadata())
        if forwarded is not None and self._trusts(context, peer):
            return forwarded
        return peer or "unknown"

    def _trusts(self, context: Any, peer: str | None) -> bool:
        if self._networks and peer is not None and self._in_trusted_network(peer):
            return True
        return bool(self._services) and peer_service(context) in self._services

    def _in_a_trusted_network(self, peer: str) -> bool:
        address = ipaddress.ip_address(peer)
        return any(address in network for network in self._networks)


def peer_address(peer: str | None) -> str | None:
    """The IP address in a gRPC peer string (``ipv4:10.0.0.7:50312``,
    ``ipv6:[::1]:50312``), or None for other transports (``unix:...``)."""
    if not peer:
        return None
    kind, _, rest = unquote(peer).partition(":")
    if kind == "ipv4":
        host = rest.rpartition(":")[0]
    elif kind == "ipv6":
        host = rest.rpartition(":")[0].strip("[]")
    else:
        return None
    return canonical_address(host)


def _forwarded(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The one forwarded address of the call; None when absent, repeated or malformed."""
    values = [value for key, value in metadata or () if key == FORWARDED_FOR]
    if len(values) != 1 or not isinstance(values[0], str):
        return None
    return canonical_address(values[0].strip())


# Parsed addresses are remembered (parsing one costs more than the rest of a call's
# forwarding rules); at most this many, per cache.
_REMEMBERED = 4096


@functools.lru_cache(maxsize=_REMEMBERED)
def canonical_address(text: str) -> str | None:
    """``text`` as an IP address in its canonical form, else None (remembered)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
