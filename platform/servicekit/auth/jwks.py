"""The public keys that verify access tokens: a JSON Web Key Set, cached and refreshed.

The auth service publishes its keys as a JWKS (a file in ``make up``, a URL in the
cluster). A verifier asks for the key named by a token's ``kid``. Keys are cached; an
unknown ``kid`` (the auth service rotated its key) or an old cache triggers a refresh, but
at most once every ``min_refresh_interval`` seconds, so a flood of tokens with made-up
``kid`` values cannot turn into a flood of requests to the JWKS endpoint. A refresh that
fails keeps the keys already known: an auth service restarting must not log everyone out.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from http.client import HTTPException
from pathlib import Path

import structlog
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWTError

from servicekit.errors import Unauthenticated

__all__ = ["JwksSource", "parse_jwks", "write_jwks_file"]

_log = structlog.get_logger(__name__)

_MAX_JWKS_BYTES = 1024 * 1024
_SIGNING_KEY_TYPES = frozenset({"EC", "RSA", "OKP"})
_URL_SCHEMES = frozenset({"http", "https"})


def write_jwks_file(path: Path, keys: Sequence[Mapping[str, object]]) -> None:
    """Publish ``keys`` as a JWKS document at ``path``, atomically.

    Written to a temporary file, then renamed over ``path``: a verifier reading the file
    (``JwksSource.from_file``) sees the old key set or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps({"keys": list(keys)}, indent=2), encoding="utf-8")
    os.replace(partial, path)


def parse_jwks(document: str | bytes) -> dict[str, PyJWK]:
    """The signing keys of a JWKS document, by ``kid``.

    Only asymmetric signature keys with a ``kid`` are kept: a symmetric (``oct``) key in a
    published key set would let anyone who reads it forge tokens, and a key without a
    ``kid`` can never be selected. Raises ``ValueError`` when nothing usable is left.
    """
    data = json.loads(document)
    if not isinstance(data, dict):
        raise ValueError("a JWKS document is a JSON object with a 'keys' array")
    try:
        key_set = PyJWKSet.from_dict(data)
    except PyJWTError as exc:
        raise ValueError(f"the JWKS holds no usable key ({exc})") from exc
    keys: dict[str, PyJWK] = {}
    for key in key_set:
        kid = key.key_id
        usable = key.key_type in _SIGNING_KEY_TYPES and key.public_key_use in (None, "sig")
        if usable and isinstance(kid, str) and kid:
            keys[kid] = key
    if not keys:
        raise ValueError("the JWKS holds no asymmetric signing key with a kid")
    return keys


class JwksSource:
    """A thread-safe, rate-limited cache of the signing keys of one JWKS location.

    Nothing is read at construction, so a service can start before the auth service has
    published its keys; the first ``key_for`` loads them.
    """

    def __init__(
        self,
        load: Callable[[], str | bytes],
        *,
        description: str,
        min_refresh_interval: float = 10.0,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``load`` returns the JWKS document; ``max_age`` bounds how long a key that was
        withdrawn (revoked) from the JWKS stays trusted here."""
        if min_refresh_interval < 0 or max_age <= 0:
            raise ValueError("min_refresh_interval must be >= 0 and max_age > 0")
        self._load = load
        self.description = description
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Mapping[str, PyJWK] = {}
        self._loaded_at: float | None = None
        self._attempted_at: float | None = None

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        min_refresh_interval: float = 10.0,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> JwksSource:
        """Keys read from a JWKS file (the auth service rewrites it on rotation)."""
        file = Path(path)
        return cls(
            file.read_bytes,
            description=f"file {file}",
            min_refresh_interval=min_refresh_interval,
            max_age=max_age,
            clock=clock,
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout: float = 2.0,
        min_refresh_interval: float = 10.0,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> JwksSource:
        """Keys fetched over HTTP(S). Only ``http`` and ``https`` URLs are accepted:
        ``urllib`` would otherwise also open ``file:`` and ``ftp:`` locations."""
        if urllib.parse.urlsplit(url).scheme not in _URL_SCHEMES:
            raise ValueError(f"a JWKS URL must use http or https, not {url!r}")

        def fetch() -> bytes:
            request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked above
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only  # nosec B310
                body: bytes = response.read(_MAX_JWKS_BYTES + 1)
            if len(body) > _MAX_JWKS_BYTES:
                raise ValueError("the JWKS document is larger than 1 MiB")
            return body

        return cls(
            fetch,
            description=f"url {url}",
            min_refresh_interval=min_refresh_interval,
            max_age=max_age,
            clock=clock,
        )

    def key_for(self, kid: str) -> PyJWK:
        """The key with this ``kid``; raises ``Unauthenticated`` when it stays unknown."""
        key = self._keys.get(kid)
        if key is None:
            self.refresh(wait=True)
        elif self._is_stale():
            # Known but old: refresh, unless another thread is at it; this key serves meanwhile.
            self.refresh(wait=False)
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("unknown signing key")
        return key

    @property
    def key_ids(self) -> frozenset[str]:
        """The ``kid`` of every key known now (for health reports and tests)."""
        return frozenset(self._keys)

    def refresh(self, *, wait: bool = True) -> bool:
        """Re-read the JWKS unless the last attempt is too recent; True when a new key set
        was loaded. A failed read is logged and the keys known so far stay in use.

        ``wait=False`` returns at once when another thread is refreshing already."""
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            now = self._clock()
            last = self._attempted_at
            if last is not None and now - last < self._min_refresh_interval:
                return False
            self._attempted_at = now
            try:
                keys = parse_jwks(self._load())
            except (OSError, ValueError, HTTPException) as exc:
                _log.warning(
                    "jwks refresh failed, keeping known keys",
                    source=self.description,
                    error=f"{type(exc).__name__}: {exc}",
                    known_keys=len(self._keys),
                )
                return False
            self._keys, self._loaded_at = keys, now
            return True
        finally:
            self._lock.release()

    def _is_stale(self) -> bool:
        loaded = self._loaded_at
        return loaded is None or self._clock() - loaded >= self._max_age
