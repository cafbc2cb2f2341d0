"""Who a service is when it calls another: its own bearer token, never a user's.

A ``CallCredentialsProvider`` hands out the calling service's token, one call at a time;
the caller-identity interceptor sends it as ``authorization: Bearer <token>``. The callee
verifies it like any access token and sees a service principal (``svc`` claim), which
the contract's access policies can name (``services: ["auth"]``).

Why metadata and not ``grpc.metadata_call_credentials``: grpc only sends call
credentials over TLS, and ``make up`` runs in plain text. Over mutual TLS a channel may
go without a provider: the server reads the identity from the client certificate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from servicekit.config import Secret

__all__ = ["CallCredentialsProvider", "RefreshingToken", "StaticToken"]


class CallCredentialsProvider(Protocol):
    """The calling service's bearer token; called once per call, so keep it cheap."""

    def token(self) -> str: ...


class StaticToken:
    """A token provisioned from settings (a ``Secret``): it never changes while running."""

    __slots__ = ("_secret",)

    def __init__(self, token: Secret) -> None:
        if not token.reveal():
            raise ValueError("a service token cannot be empty")
        self._secret = token

    def token(self) -> str:
        return self._secret.reveal()


class RefreshingToken:
    """A short-lived token minted by ``mint`` and re-minted before it expires.

    ``lifetime_seconds`` is how long a minted token is valid; a new one is minted once
    less than ``refresh_margin_seconds`` of it is left, so a call never leaves with a token
    that expires on the way. Thread-safe: concurrent callers mint once.
    """

    def __init__(
        self,
        mint: Callable[[], str],
        *,
        lifetime_seconds: float,
        refresh_margin_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= refresh_margin_seconds < lifetime_seconds:
            raise ValueError("refresh_margin_seconds must be >= 0 and < lifetime_seconds")
        self._mint = mint
        self._usable_for = lifetime_seconds - refresh_margin_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""  # no token yet  # nosec B105
        self._minted_at = 0.0

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if not self._token or now - self._minted_at >= self._usable_for:
                self._token, self._minted_at = self._mint(), now
            return self._token
