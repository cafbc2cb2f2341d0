"""The gateway's own endpoints: liveness, readiness, the JWKS and the OpenAPI document.

- ``/healthz``: 200 while the process serves HTTP at all (liveness).
- ``/readyz``: 200 only while every backend's health check says SERVING, else 503; one
  round of checks answers for ``readiness_cache_seconds``. Contract services that no
  backend serves are listed as ``unrouted`` without making the gateway unready.
- ``/.well-known/jwks.json``: the auth service's GetJwks as a JSON Web Key Set, kept for
  ``jwks_cache_seconds`` (a problem document, uncached, when the auth service fails).
- ``/openapi.json``: the document exactly as generated, serialized once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response

from services.gateway.backends import Readiness
from services.gateway.edge import LocalEndpoint
from services.gateway.transcoder import JSON, Transcoder

__all__ = ["JwksCache", "own_endpoints"]

_NO_STORE = {"Cache-Control": "no-store"}


class JwksCache:
    """The JWKS document from ``operation_id`` (GetJwks), kept ``cache_seconds``."""

    def __init__(
        self,
        transcoder: Transcoder,
        operation_id: str,
        *,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transcoder = transcoder
        self._operation_id = operation_id
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._body: bytes | None = None
        self._fetched_at = 0.0

    async def response(self) -> Response:
        headers = {"Cache-Control": f"public, max-age={int(self._cache_seconds)}"}
        if self._body is not None and self._clock() - self._fetched_at < self._cache_seconds:
            return Response(self._body, media_type=JSON, headers=headers)
        answer = await self._transcoder.transcode(self._operation_id, {})
        if answer.status_code != 200:
            return answer
        self._body, self._fetched_at = bytes(answer.body), self._clock()
        return Response(self._body, media_type=JSON, headers=headers)


def own_endpoints(
    *, document: Mapping[str, Any], readiness: Readiness, jwks: JwksCache | None
) -> dict[str, LocalEndpoint]:
    """The endpoints by path, for the edge (no JWKS endpoint when ``jwks`` is None)."""
    spec = json.dumps(document, default=str).encode()

    async def healthz() -> Response:
        return Response(b'{"status": "ok"}', media_type=JSON, headers=_NO_STORE)

    async def readyz() -> Response:
        ready, statuses = await readiness.check()
        return Response(
            readiness.document(ready, statuses),
            status_code=200 if ready else 503,
            media_type=JSON,
            headers=_NO_STORE,
        )

    async def openapi() -> Response:
        return Response(spec, media_type=JSON)

    endpoints: dict[str, LocalEndpoint] = {
        "/healthz": healthz,
        "/readyz": readyz,
        "/openapi.json": openapi,
    }
    if jwks is not None:
        endpoints["/.well-known/jwks.json"] = jwks.response
    return endpoints
