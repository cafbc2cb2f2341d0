"""TLS and mutual TLS for servers and clients, from settings; the caller's service identity.

A server with ``TlsServerSettings(enabled=True, ...)`` serves over TLS; with
``require_client_cert`` too, every client must present a certificate signed by
``client_ca_file``, and one without is refused during the handshake (the client sees
UNAVAILABLE). A client with ``TlsClientSettings(enabled=True, ...)`` checks the server's
certificate against ``ca_file`` (the system roots when empty) and presents its own
certificate when ``cert_file`` and ``key_file`` are set.

Files are read and parsed when the credentials are built, at start: a missing, unreadable
or malformed file is a ``TlsFileError`` naming the setting and the path, not a handshake
failure an hour later.

``peer_service`` reads who called over mTLS: the SPIFFE ID
``spiffe://acme.dev/service/<name>`` in the client certificate's URI SAN, as
``python -m servicekit.devcerts`` (or cert-manager, SPIRE) issues it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

__all__ = [
    "SPIFFE_TRUST_DOMAIN",
    "TlsClientSettings",
    "TlsFileError",
    "TlsServerSettings",
    "channel_credentials",
    "channel_options",
    "peer_service",
    "server_credentials",
    "spiffe_id",
]

SPIFFE_TRUST_DOMAIN = "acme.dev"
"""The trust domain of this platform's service identities."""

_SERVICE_PATH = "/service/"
_SERVICE_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# Where grpc core puts a verified peer certificate's URI SANs: a SPIFFE ID of its own when
# the certificate has exactly one, then every SAN (DNS, IP, URI) as text.
_SAN_PROPERTIES = ("peer_spiffe_id", "peer_uri", "x509_subject_alternative_name")


class TlsFileError(ValueError):
    """A TLS file named by the settings is missing, unreadable or not what it should be."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TlsServerSettings:
    """How a server offers TLS. ``require_client_cert`` makes it mutual TLS.

    ``client_ca_file`` is the CA that signs client certificates. grpcio either requires
    and verifies a client certificate or does not ask for one at all, so a CA without
    ``require_client_cert`` would verify nothing: that combination is refused.
    """

    enabled: bool = False
    cert_file: str = ""
    key_file: str = ""
    client_ca_file: str = ""
    require_client_cert: bool = False

    def __post_init__(self) -> None:
        if not self.enabled:
            return
        problems: list[str] = []
        if not (self.cert_file and self.key_file):
            problems.append("TLS needs cert_file and key_file")
        if self.require_client_cert and not self.client_ca_file:
            problems.append("require_client_cert needs client_ca_file (the clients' CA)")
        if self.client_ca_file and not self.require_client_cert:
            problems.append("client_ca_file is used only with require_client_cert = true")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True, kw_only=True, slots=True)
class TlsClientSettings:
    """How a client checks the server (``ca_file``) and proves who it is (cert and key).

    ``server_name_override`` is the name checked against the server's certificate when
    the target address is not one of its names (an IP of a pod, a port-forward).
    """

    enabled: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name_override: str = ""

    def __post_init__(self) -> None:
        if self.enabled and bool(self.cert_file) != bool(self.key_file):
            raise ValueError("a client certificate needs both cert_file and key_file")


def server_credentials(settings: TlsServerSettings) -> grpc.ServerCredentials | None:
    """``grpc.ServerCredentials`` for ``add_secure_port``, or None when TLS is off."""
    if not settings.enabled:
        return None
    chain, key = _key_pair(settings.cert_file, settings.key_file)
    client_ca = _certificates("client_ca_file", settings.client_ca_file) or None
    return grpc.ssl_server_credentials(
        [(key, chain)],
        root_certificates=client_ca,
        require_client_auth=settings.require_client_cert,
    )


def channel_credentials(settings: TlsClientSettings) -> grpc.ChannelCredentials | None:
    """``grpc.ChannelCredentials`` for ``secure_channel``, or None when TLS is off."""
    if not settings.enabled:
        return None
    roots = _certificates("ca_file", settings.ca_file) or None
    chain, key = (None, None)
    if settings.cert_file:
        chain, key = _key_pair(settings.cert_file, settings.key_file)
    return grpc.ssl_channel_credentials(
        root_certificates=roots, private_key=key, certificate_chain=chain
    )


def channel_options(settings: TlsClientSettings) -> list[tuple[str, str]]:
    """The channel options TLS needs besides the credentials (the name override)."""
    if settings.enabled and settings.server_name_override:
        return [("grpc.ssl_target_name_override", settings.server_name_override)]
    return []


def spiffe_id(service: str, *, trust_domain: str = SPIFFE_TRUST_DOMAIN) -> str:
    """The identity URI of a service: ``spiffe://acme.dev/service/user``."""
    return f"spiffe://{trust_domain}{_SERVICE_PATH}{service}"


def peer_service(context: Any, *, trust_domain: str = SPIFFE_TRUST_DOMAIN) -> str | None:
    """The service name of an mTLS caller, from its verified certificate; else None.

    grpc core fills the auth context with the peer certificate's names only after it has
    verified that certificate, which ``server_credentials`` always requires when it asks
    for one. A plaintext call, a TLS call without a client certificate, a certificate
    from another trust domain, or a context that is not a transport's (a test fake) all
    give None.
    """
    auth_context = getattr(context, "auth_context", None)
    if auth_context is None:
        return None
    properties = auth_context()
    prefix = f"spiffe://{trust_domain}{_SERVICE_PATH}"
    for name in _SAN_PROPERTIES:
        for value in properties.get(name, ()):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            service = text.removeprefix(prefix) if text.startswith(prefix) else None
            if service is not None and _SERVICE_NAME.fullmatch(service):
                return service
    return None


def _key_pair(cert_file: str, key_file: str) -> tuple[bytes, bytes]:
    """A certificate chain and its private key as PEM, checked to belong together."""
    chain = _certificates("cert_file", cert_file)
    key_pem = _read("key_file", key_file)
    try:
        key: PrivateKeyTypes = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise TlsFileError(
            f"key_file: {key_file} is not an unencrypted PEM private key ({exc})"
        ) from exc
    leaf = x509.load_pem_x509_certificates(chain)[0]
    if leaf.public_key() != key.public_key():
        raise TlsFileError(f"key_file: {key_file} is not the key of the certificate {cert_file}")
    return chain, key_pem


def _certificates(setting: str, path: str) -> bytes:
    """The PEM certificates of ``path`` (b"" when the setting is empty), checked to parse."""
    if not path:
        return b""
    data = _read(setting, path)
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise TlsFileError(f"{setting}: {path} holds no PEM certificate ({exc})") from exc
    return data


def _read(setting: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise TlsFileError(f"{setting}: cannot read {path} ({reason})") from exc
