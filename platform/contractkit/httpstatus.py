"""The HTTP status of each gRPC status code on the REST face: one table, no dependencies.

The OpenAPI generator (``contractkit.openapigen.problems``) documents these statuses and
the gateway answers with them (``services.gateway.problems``): both read this module,
which imports nothing, so the gateway's runtime never loads the generator. The canonical
gRPC to HTTP mapping (google.rpc.Code); every code not listed is 500.
"""

from __future__ import annotations

from typing import Final

__all__ = ["HTTP_STATUS_OF_CODE", "PROBLEM_JSON"]

PROBLEM_JSON: Final = "application/problem+json"
"""The media type of every error answer (RFC 9457 problem details)."""

#: HTTP status of each gRPC status code name (every code not listed here: 500).
HTTP_STATUS_OF_CODE: Final[dict[str, int]] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
