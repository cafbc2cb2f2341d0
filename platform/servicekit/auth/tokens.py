"""Access tokens in, principals out: JWT verification against the auth service's keys.

A token that verified is remembered for a short while (``VerifiedTokens``: at most
``token_cache_seconds``, and never past its ``exp``), so a caller sending the same token
with every call pays for one signature check, not one per call.

Every failure becomes ``Unauthenticated`` with a message that says what is wrong with the
token (expired, wrong audience, bad signature...) so a caller can fix its side, and never
repeats the token or its claims back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidSignatureError,
    InvalidSubjectError,
    MissingRequiredClaimError,
    PyJWTError,
)

from servicekit.auth.jwks import JwksSource
from servicekit.auth.principal import Principal
from servicekit.auth.token_cache import VerifiedTokens
from servicekit.errors import Unauthenticated

__all__ = ["REQUIRED_CLAIMS", "AuthSettings", "TokenVerifier"]

REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud")
_MAX_TOKEN_CHARS = 8192

# Most specific first: several of these subclass each other (InvalidSignatureError is a
# DecodeError), and the first match wins.
_MESSAGES: tuple[tuple[type[PyJWTError], str], ...] = (
    (ExpiredSignatureError, "token expired"),
    (ImmatureSignatureError, "token is not valid yet"),
    (InvalidAudienceError, "token audience is wrong"),
    (InvalidIssuerError, "token issuer is wrong"),
    (InvalidSignatureError, "token signature is invalid"),
    (InvalidAlgorithmError, "token algorithm is not allowed"),
    (InvalidIssuedAtError, "token issue time is invalid"),
    (InvalidSubjectError, "token subject is invalid"),
    (InvalidJTIError, "token jti claim is invalid"),
    (DecodeError, "token is malformed"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthSettings:
    """Where the verifying keys are and what a valid token must say.

    Set exactly one of ``jwks_url`` (the auth service's JWKS over HTTP) and ``jwks_file``.
    A verified token is remembered for at most ``token_cache_seconds`` (0: verify every
    call), ``token_cache_size`` tokens at most.
    """

    jwks_url: str = ""
    jwks_file: str = ""
    issuer: str = "acme-auth"
    audience: str = "acme"
    leeway_seconds: int = 30
    algorithms: tuple[str, ...] = ("ES256", "RS256", "EdDSA")
    jwks_min_refresh_seconds: float = 10.0
    jwks_max_age_seconds: float = 300.0
    jwks_timeout_seconds: float = 2.0
    token_cache_size: int = 10_000
    token_cache_seconds: float = 60.0


class TokenVerifier:
    """Verifies a bearer token and turns its claims into a ``Principal``."""

    def __init__(
        self,
        jwks: JwksSource,
        *,
        issuer: str,
        audience: str,
        leeway: float = 30,
        algorithms: Sequence[str] = ("ES256", "RS256", "EdDSA"),
        cache_size: int = 10_000,
        cache_max_age: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Raises ``ValueError`` for an algorithm list that would accept forged tokens:
        ``none`` needs no key at all, and an ``HS*`` algorithm verified with a published
        public key lets anyone who reads the JWKS sign tokens.

        ``cache_size`` and ``cache_max_age`` bound the tokens remembered as verified;
        ``clock`` is the wall clock their ``exp`` is checked against."""
        self._jwks = jwks
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._algorithms = _checked_algorithms(algorithms)
        self._verified = VerifiedTokens(
            max_entries=cache_size, max_age=cache_max_age, leeway=leeway, clock=clock
        )

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> TokenVerifier:
        """A verifier reading the JWKS location the settings name."""
        return cls(
            _jwks_source(settings),
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=settings.leeway_seconds,
            algorithms=settings.algorithms,
            cache_size=settings.token_cache_size,
            cache_max_age=settings.token_cache_seconds,
        )

    def verify(self, token: str) -> Principal:
        """The principal the token speaks for; ``Unauthenticated`` when it is not valid."""
        if not token or len(token) > _MAX_TOKEN_CHARS:
            raise Unauthenticated("token is malformed")
        principal, expired = self._verified.find(token)
        if principal is not None:
            return principal
        if expired:
            raise Unauthenticated("token expired")
        kid = self._kid(token)
        key = self._jwks.key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(self._algorithms),
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except PyJWTError as exc:
            raise Unauthenticated(_message_for(exc)) from None
        principal = _principal(claims)
        self._verified.add(token, principal, float(claims["exp"]))
        return principal

    def _kid(self, token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError:
            raise Unauthenticated("token is malformed") from None
        if header.get("alg") not in self._algorithms:
            raise Unauthenticated("token algorithm is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token has no kid")
        return kid


def _checked_algorithms(algorithms: Sequence[str]) -> tuple[str, ...]:
    known = get_default_algorithms()
    chosen = tuple(algorithms)
    if not chosen:
        raise ValueError("at least one token algorithm must be allowed")
    for name in chosen:
        if name.lower() == "none" or name.upper().startswith("HS"):
            raise ValueError(f"token algorithm {name!r} is never accepted with public keys")
        if name not in known:
            raise ValueError(f"unknown token algorithm {name!r}")
    return chosen


def _jwks_source(settings: AuthSettings) -> JwksSource:
    if bool(settings.jwks_url) == bool(settings.jwks_file):
        raise ValueError("set exactly one of jwks_url and jwks_file")
    interval, max_age = settings.jwks_min_refresh_seconds, settings.jwks_max_age_seconds
    if settings.jwks_url:
        return JwksSource.from_url(
            settings.jwks_url,
            timeout=settings.jwks_timeout_seconds,
            min_refresh_interval=interval,
            max_age=max_age,
        )
    return JwksSource.from_file(settings.jwks_file, min_refresh_interval=interval, max_age=max_age)


def _message_for(exc: PyJWTError) -> str:
    if isinstance(exc, MissingRequiredClaimError):
        return f"token has no {exc.claim} claim"
    for kind, message in _MESSAGES:
        if isinstance(exc, kind):
            return message
    return "token is invalid"


def _principal(claims: dict[str, Any]) -> Principal:
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("token subject is invalid")
    service = claims.get("svc")
    if service is not None and service != subject:
        # A service token speaks for the service itself, never for a user.
        raise Unauthenticated("token svc claim does not match its subject")
    token_id = claims.get("jti")
    if token_id is not None and not isinstance(token_id, str):
        raise Unauthenticated("token jti claim is invalid")
    return Principal(subject=subject, roles=_roles(claims), service=service, token_id=token_id)


def _roles(claims: dict[str, Any]) -> frozenset[str]:
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise Unauthenticated("token roles claim must be a list of strings")
    return frozenset(role.lower() for role in roles)
