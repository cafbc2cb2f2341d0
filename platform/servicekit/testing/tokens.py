"""Signed access tokens for tests: an ES256 issuer that publishes its keys as a JWKS file.

A service under test is configured with ``AuthSettings(jwks_file=str(issuer.jwks_file))``
and called with ``issuer.mint(...)`` tokens, so tests go through the real verification::

    issuer = TestIssuer(tmp_path)
    admin = issuer.mint("2f1c...", roles=("admin",))
    auth_service = issuer.mint("auth", service="auth")
    expired = issuer.mint(user_id, expires_in=-60)
    forged = issuer.mint(user_id, key=issuer.unpublished_key())   # kid not in the JWKS
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from servicekit.auth.jwks import write_jwks_file

__all__ = ["SigningKey", "TestIssuer"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SigningKey:
    """A private key and the ``kid`` its tokens carry."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(kid=uuid.uuid4().hex[:16], private_key=ec.generate_private_key(ec.SECP256R1()))

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "ES256", "use": "sig"}


class TestIssuer:
    """Mints ES256 access tokens and keeps ``<directory>/jwks.json`` up to date."""

    __test__ = False  # a helper, not a test class, whatever pytest thinks of its name

    def __init__(
        self, directory: Path, *, issuer: str = "acme-auth", audience: str = "acme"
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._jwks_file = Path(directory) / "jwks.json"
        self._keys: list[SigningKey] = [SigningKey.generate()]
        self._write_jwks()

    @property
    def jwks_file(self) -> Path:
        """The JWKS file listing every published key (point ``AuthSettings.jwks_file`` here)."""
        return self._jwks_file

    @property
    def current_key(self) -> SigningKey:
        """The key ``mint`` signs with unless told otherwise (the newest one)."""
        return self._keys[-1]

    def jwks(self) -> dict[str, Any]:
        """The published key set, as the auth service's JWKS endpoint returns it."""
        return {"keys": [key.public_jwk() for key in self._keys]}

    def rotate(self) -> SigningKey:
        """Publish a new key and sign with it from now on; older keys stay published."""
        key = SigningKey.generate()
        self._keys.append(key)
        self._write_jwks()
        return key

    def unpublished_key(self) -> SigningKey:
        """A fresh key that is NOT in the JWKS: its tokens name an unknown ``kid``."""
        return SigningKey.generate()

    def mint(
        self,
        subject: str,
        roles: Iterable[str] = (),
        *,
        service: str | None = None,
        expires_in: int = 300,
        kid: str | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        key: SigningKey | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token. ``kid`` overrides the header only (the signature still comes
        from ``key``); ``extra_claims`` replace or add claims, ``None`` values remove them."""
        signer = key or self.current_key
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + expires_in,
            "jti": uuid.uuid4().hex,
            "roles": list(roles),
        }
        if service is not None:
            claims["svc"] = service
        claims.update(extra_claims or {})
        claims = {name: value for name, value in claims.items() if value is not None}
        headers = {"kid": kid or signer.kid}
        return jwt.encode(claims, signer.private_key, algorithm="ES256", headers=headers)

    def _write_jwks(self) -> None:
        write_jwks_file(self._jwks_file, self.jwks()["keys"])
