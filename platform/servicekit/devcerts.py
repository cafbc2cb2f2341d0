"""A development certificate authority and one certificate per service, for local mTLS.

``python -m servicekit.devcerts --out .run/tls user auth gateway`` writes::

    ca.pem  ca-key.pem                 the development CA (kept when it exists already)
    user.pem  user-key.pem             one certificate and key per service
    ...

Every service certificate is good for both ends of a connection (serverAuth and
clientAuth): a service serves with it and calls other services with it. Its subject
alternative names are the DNS names ``<name>`` (the Kubernetes Service) and ``localhost``,
the address ``127.0.0.1``, and the URI ``spiffe://acme.dev/service/<name>``: the SPIFFE
ID that ``servicekit.tls.peer_service`` reads as the caller's service identity.

Running it again is safe: the CA is kept, so certificates already handed out stay valid,
and a service certificate is only re-issued when it is missing, was not signed by this
CA, or expires within 30 days. Keys are EC P-256, written readable by the owner only.
These are development certificates: production ones come from a real CA (cert-manager,
SPIRE) with the same SAN shape.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from servicekit.tls import SPIFFE_TRUST_DOMAIN, spiffe_id

__all__ = ["CA_CERT", "CA_KEY", "issue_dev_certificates", "main"]

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"

_CA_DAYS = 3650
_LEAF_DAYS = 365
_RENEW_BEFORE = datetime.timedelta(days=30)
_SERVICE_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_Key = ec.EllipticCurvePrivateKey


def issue_dev_certificates(out: Path, names: Sequence[str]) -> list[Path]:
    """Make (or keep) the CA in ``out`` and a certificate for each service name.

    Returns the files written by this run (an empty list when everything was current).
    Raises ``ValueError`` for a name that is not a DNS label (it becomes a DNS SAN).
    """
    bad = [name for name in names if not _SERVICE_NAME.fullmatch(name)]
    if bad:
        raise ValueError(f"service names must be lowercase DNS labels, got {bad}")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    ca_cert, ca_key = _load_or_make_ca(out, written)
    for name in dict.fromkeys(names):  # each once, in the order given
        if not _is_current(out / f"{name}.pem", ca_cert):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = _service_certificate(name, key, ca_cert, ca_key)
            written += _write_pair(out, name, cert, key)
    return written


def _load_or_make_ca(out: Path, written: list[Path]) -> tuple[x509.Certificate, _Key]:
    cert_file, key_file = out / CA_CERT, out / CA_KEY
    if cert_file.exists() != key_file.exists():
        present, missing = (cert_file, key_file) if cert_file.exists() else (key_file, cert_file)
        raise FileNotFoundError(
            f"{missing} is missing but {present} exists: restore it, or delete both to "
            "make a new CA (every service certificate must then be re-issued)"
        )
    if cert_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_file} is not an EC private key")
        return x509.load_pem_x509_certificate(cert_file.read_bytes()), key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "acme development"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{SPIFFE_TRUST_DOMAIN} development CA"),
        ]
    )
    cert = (
        _builder(name, name, key.public_key(), days=_CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    written += _write_pair(out, "ca", cert, key)
    return cert, key


def _service_certificate(
    name: str, key: _Key, ca_cert: x509.Certificate, ca_key: _Key
) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "acme development"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    alternative_names = x509.SubjectAlternativeName(
        [
            x509.DNSName(name),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.UniformResourceIdentifier(spiffe_id(name)),
        ]
    )
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    ca_key_id = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        _builder(subject, ca_cert.subject, key.public_key(), days=_LEAF_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(alternative_names, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, *, days: int
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # tolerate small clock skew
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _is_current(cert_file: Path, ca_cert: x509.Certificate) -> bool:
    """Whether an existing certificate was signed by this CA and is not about to expire."""
    key_file = cert_file.with_name(f"{cert_file.stem}-key.pem")
    if not (cert_file.exists() and key_file.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    remaining = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return remaining > _RENEW_BEFORE


def _write_pair(out: Path, stem: str, cert: x509.Certificate, key: _Key) -> list[Path]:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file, cert_file = out / f"{stem}-key.pem", out / f"{stem}.pem"
    _write(key_file, key_pem, mode=0o600)
    _write(cert_file, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return [cert_file, key_file]


def _write(path: Path, data: bytes, *, mode: int) -> None:
    """Write then rename, so a service starting meanwhile never reads half a file."""
    partial = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.chmod(partial, mode)  # O_CREAT's mode is filtered by the umask; this one is not
    os.replace(partial, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.devcerts",
        description="Make a development CA and a certificate per service (mTLS on a laptop).",
    )
    parser.add_argument("--out", type=Path, default=Path(".run/tls"), help="output folder")
    parser.add_argument("names", nargs="+", help="service names (user auth gateway ...)")
    args = parser.parse_args(argv)
    try:
        written = issue_dev_certificates(args.out, args.names)
    except (OSError, ValueError) as exc:
        print(f"devcerts: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"certificates for {', '.join(args.names)} are current in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
