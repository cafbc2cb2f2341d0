"""Errors as RFC 9457 problem details (`application/problem+json`).

The gateway turns a gRPC status into a problem whose HTTP status follows the canonical
gRPC to HTTP mapping, `HTTP_STATUS_OF_CODE` of `contractkit.httpstatus`: the one table,
for the gateway too (re-exported here).
"""

from __future__ import annotations

from contractkit.httpstatus import HTTP_STATUS_OF_CODE, PROBLEM_JSON
from contractkit.openapigen.types import Schema

__all__ = [
    "HTTP_STATUS_OF_CODE",
    "PROBLEM_JSON",
    "error_responses",
    "problem_responses",
    "problem_schemas",
]

_CODES = [
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
]
# Shared responses: name -> (status or None for `default`, description).
_RESPONSES: dict[str, tuple[str, str]] = {
    "BadRequest": (
        "400",
        "The request breaks the contract (INVALID_ARGUMENT: `violations` "
        "names the fields at fault), or the resource is not in a state "
        "that allows it (FAILED_PRECONDITION, OUT_OF_RANGE).",
    ),
    "Unauthorized": ("401", "No valid access token was sent (UNAUTHENTICATED)."),
    "Forbidden": ("403", "The caller may not do this (PERMISSION_DENIED)."),
    "NotFound": ("404", "The resource does not exist (NOT_FOUND)."),
    "Conflict": (
        "409",
        "The resource already exists, or changed since it was read (ALREADY_EXISTS, ABORTED).",
    ),
    "TooManyRequests": ("429", "Too many requests, or a quota is used up (RESOURCE_EXHAUSTED)."),
    "ServiceUnavailable": (
        "503",
        "The service is unavailable for now; retry with backoff (UNAVAILABLE).",
    ),
    "Error": (
        "default",
        "Any other error: 501 for UNIMPLEMENTED (an operation its service does not "
        "implement), 504 for DEADLINE_EXCEEDED, 500 for every other code (UNKNOWN, "
        "INTERNAL, ...).",
    ),
}
_WRITES = frozenset({"post", "put", "patch", "delete"})


def problem_schemas() -> dict[str, Schema]:
    """The `Problem` and `FieldViolation` component schemas."""
    return {
        "FieldViolation": {
            "description": "A field of the request that breaks a rule of the contract.",
            "type": "object",
            "properties": {
                "field": {
                    "description": "Path of the field, in JSON names (`user.displayName`).",
                    "type": "string",
                },
                "rule": {
                    "description": "Identifier of the broken rule (`string.max_len`).",
                    "type": "string",
                },
                "message": {"description": "What is wrong, for people.", "type": "string"},
            },
            "required": ["field", "message"],
        },
        "Problem": {
            "description": "An error, as RFC 9457 problem details, derived from the gRPC "
            "status of the call.",
            "type": "object",
            "properties": _problem_properties(),
            "required": ["title", "status", "code"],
        },
    }


def _problem_properties() -> dict[str, Schema]:
    return {
        "type": {
            "description": "URI reference naming the problem type.",
            "type": "string",
            "format": "uri-reference",
            "default": "about:blank",
        },
        "title": {"description": "Short summary of the problem type.", "type": "string"},
        "status": {
            "description": "The HTTP status code.",
            "type": "integer",
            "format": "int32",
            "minimum": 100,
            "maximum": 599,
        },
        "detail": {"description": "What went wrong in this occurrence.", "type": "string"},
        "instance": {
            "description": "URI reference of this occurrence.",
            "type": "string",
            "format": "uri-reference",
        },
        "code": {
            "description": "Name of the gRPC status code of the call.",
            "type": "string",
            "enum": list(_CODES),
        },
        "requestId": {
            "description": "Identifier of the request, as logged by the servers.",
            "type": "string",
        },
        "violations": {
            "description": "For INVALID_ARGUMENT: every field that breaks a rule.",
            "type": "array",
            "items": {"$ref": "#/components/schemas/FieldViolation"},
        },
    }


def problem_responses() -> dict[str, Schema]:
    """The shared error responses of `components/responses`."""
    return {
        name: {
            "description": description,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for name, (_, description) in _RESPONSES.items()
    }


def error_responses(*, verb: str, has_path_parameters: bool, public: bool) -> dict[str, Schema]:
    """The error responses of one operation, by status, as `$ref`s to the shared ones."""
    names = ["BadRequest", "TooManyRequests", "ServiceUnavailable", "Error"]
    if not public:
        names += ["Unauthorized", "Forbidden"]
    if has_path_parameters:
        names.append("NotFound")
    if verb in _WRITES:
        names.append("Conflict")
    ordered = sorted(names, key=lambda name: _RESPONSES[name][0])
    return {_RESPONSES[name][0]: {"$ref": f"#/components/responses/{name}"} for name in ordered}
