"""Every error the gateway answers, as RFC 9457 problem details (``application/problem+json``).

One shape for all of them, whoever found the problem: the backend (a gRPC status with its
``google.rpc`` details), connexion (the request breaks the OpenAPI document) or the
gateway itself (a backend that cannot be reached)::

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "invalid request: email: value must be a valid email address",
     "instance": "/v1/users", "code": "INVALID_ARGUMENT", "requestId": "9f0c...",
     "violations": [{"field": "email", "rule": "string.email", "message": "..."}]}

The HTTP status comes from ``HTTP_STATUS_OF_CODE`` (``contractkit.httpstatus``, a module
without dependencies), the one gRPC-to-HTTP table that the OpenAPI generator documents
too. A backend's own
message is shown for the codes that describe the caller's request; for the codes that
describe the backend (UNAVAILABLE, INTERNAL, ...) the gateway says what happened in its
own words, so no address, query or stack trace of the backend reaches the caller.
RESOURCE_EXHAUSTED is 429 with the backend's ``RetryInfo`` as ``Retry-After``, except when
gRPC itself refused the request's metadata as too large: that is the caller's headers,
431, and gRPC's internal text is not shown.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError
from google.rpc import (  # type: ignore[import-untyped, unused-ignore]  # ships no py.typed
    error_details_pb2,
    status_pb2,
)
from starlette.responses import Response

from contractkit.httpstatus import HTTP_STATUS_OF_CODE, PROBLEM_JSON
from servicekit.errors import FieldViolation
from servicekit.validation import summary as validation_summary
from services.gateway.fieldpaths import json_field_path

__all__ = [
    "PROBLEM_JSON",
    "Problem",
    "Violation",
    "code_of_http_status",
    "from_rpc_error",
    "http_status_of",
    "invalid_request",
    "summary",
]

_STATUS_DETAILS_KEY = "grpc-status-details-bin"
# Codes whose message the backend wrote for the caller (servicekit.errors): shown as is.
_CALLER_CODES = frozenset(
    {
        "INVALID_ARGUMENT",
        "FAILED_PRECONDITION",
        "OUT_OF_RANGE",
        "UNAUTHENTICATED",
        "PERMISSION_DENIED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "ABORTED",
        "RESOURCE_EXHAUSTED",
    }
)
# How gRPC core words a call whose metadata is over the peer's limit ("received metadata
# size exceeds soft limit (...)", "... hard limit ..."): 431, not a rate limit.
_METADATA_TOO_LARGE = re.compile(r"metadata size exceeds", re.IGNORECASE)
# HTTP statuses the gateway answers by itself that no gRPC code maps to.
_CODE_OF_OTHER_STATUS = {405: "UNIMPLEMENTED"}


@dataclass(frozen=True, slots=True)
class Violation:
    """One field of the request that breaks one rule; ``field`` in JSON names."""

    field: str
    rule: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    """A problem before it is rendered for one request (its path and request id)."""

    status: int
    code: str
    detail: str
    violations: tuple[Violation, ...] = ()
    retry_after: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of_code(cls, code: str, detail: str, **kwargs: Any) -> Problem:
        """A problem with the HTTP status of the gRPC code ``code``."""
        return cls(status=http_status_of(code), code=code, detail=detail, **kwargs)

    def body(self, *, instance: str, request_id: str | None) -> bytes:
        """The ``application/problem+json`` document."""
        document: dict[str, Any] = {
            "type": "about:blank",
            "title": _title(self.status),
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "code": self.code,
        }
        if request_id:
            document["requestId"] = request_id
        if self.violations:
            document["violations"] = [violation.as_json() for violation in self.violations]
        return json.dumps(document).encode()

    def response_headers(self) -> dict[str, str]:
        """``Retry-After`` (whole seconds, rounded up) when the backend gave a delay."""
        headers = dict(self.headers)
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(0, math.ceil(self.retry_after)))
        return headers

    def response(self, *, instance: str, request_id: str | None) -> Response:
        """The Starlette response, with its content type set explicitly."""
        return Response(
            self.body(instance=instance, request_id=request_id),
            status_code=self.status,
            headers=self.response_headers(),
            media_type=PROBLEM_JSON,
        )


def summary(violations: Iterable[Violation]) -> str:
    """``invalid request: email: value is required; password: ...``: the gRPC face's
    status message (``servicekit.validation.summary``), with fields in JSON names."""
    return validation_summary(violations)


def invalid_request(violations: Iterable[FieldViolation], request: Descriptor) -> Problem:
    """400 for the contract's rules broken by a request of ``request``'s type (field paths in
    proto names, as protovalidate gives them), in the REST face's words: JSON names."""
    found = tuple(
        Violation(
            field=json_field_path(request, violation.field),
            rule=violation.rule,
            message=violation.message,
        )
        for violation in violations
    )
    return Problem.of_code("INVALID_ARGUMENT", summary(found), violations=found)


def http_status_of(code: str) -> int:
    """The HTTP status of the gRPC status code named ``code`` (500 for unlisted codes)."""
    return HTTP_STATUS_OF_CODE.get(code, 500)


def code_of_http_status(status: int) -> str:
    """The gRPC code name a problem with HTTP ``status`` reports (the table read backwards).

    Where several codes share a status, the first of the table wins (400:
    INVALID_ARGUMENT, 409: ALREADY_EXISTS); other 4xx are INVALID_ARGUMENT, other 5xx
    INTERNAL.
    """
    for code, mapped in HTTP_STATUS_OF_CODE.items():
        if mapped == status:
            return code
    if status in _CODE_OF_OTHER_STATUS:
        return _CODE_OF_OTHER_STATUS[status]
    return "INVALID_ARGUMENT" if 400 <= status < 500 else "INTERNAL"


def from_rpc_error(error: grpc.RpcError, *, service: str, request: Descriptor) -> Problem:
    """The problem of a failed call to ``service`` (``UserService``) with ``request``."""
    code_of = getattr(error, "code", None)
    status_code = code_of() if callable(code_of) else None
    code = status_code.name if isinstance(status_code, grpc.StatusCode) else "UNKNOWN"
    if code == "RESOURCE_EXHAUSTED" and _is_metadata_too_large(error):
        return Problem(
            status=431,
            code=code,
            detail=f"the request's headers are too large for {service}",
        )
    violations: list[Violation] = []
    renamed: dict[str, str] = {}
    retry_after = None
    for detail in _rich_details(error):
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            violations += _violations(detail, request, renamed)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            retry_after = info.retry_delay.ToNanoseconds() / 1e9
    detail = _detail(error, code, service)
    return Problem.of_code(
        code,
        _in_json_names(detail, renamed) if renamed else detail,
        violations=tuple(violations),
        retry_after=retry_after,
    )


def _is_metadata_too_large(error: grpc.RpcError) -> bool:
    """Whether gRPC itself refused the call's metadata as too large (its own words, no
    rich details), rather than a service saying a quota is exhausted."""
    details_of = getattr(error, "details", None)
    text = details_of() if callable(details_of) else None
    return bool(text and _METADATA_TOO_LARGE.search(text)) and not tuple(_rich_details(error))


def _detail(error: grpc.RpcError, code: str, service: str) -> str:
    if code in _CALLER_CODES:
        details_of = getattr(error, "details", None)
        text = details_of() if callable(details_of) else None
        return str(text or code.lower().replace("_", " "))
    if code == "UNAVAILABLE":
        return f"{service} is unavailable; retry later"
    if code == "DEADLINE_EXCEEDED":
        return f"{service} did not answer in time"
    if code == "CANCELLED":
        return f"the call to {service} was cancelled"
    if code == "UNIMPLEMENTED":
        return f"{service} does not implement this operation"
    return f"{service} failed the call ({code})"


def _rich_details(error: grpc.RpcError) -> Iterable[Any]:
    """The ``google.rpc.Status`` details the backend attached, if any."""
    metadata_of = getattr(error, "trailing_metadata", None)
    metadata = metadata_of() if callable(metadata_of) else None
    for key, value in metadata or ():
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return tuple(status_pb2.Status.FromString(value).details)
            except DecodeError:  # a garbled trailer is no detail
                return ()
    return ()


def _violations(detail: Any, request: Descriptor, renamed: dict[str, str]) -> list[Violation]:
    """The field violations of a ``BadRequest``, named in JSON names; ``renamed`` gets each
    proto path that changed, with its JSON path."""
    bad_request = error_details_pb2.BadRequest()
    detail.Unpack(bad_request)
    found = []
    for violation in bad_request.field_violations:
        field_path = json_field_path(request, violation.field)
        if field_path != violation.field:
            renamed[violation.field] = field_path
        found.append(
            Violation(field=field_path, rule=violation.reason, message=violation.description)
        )
    return found


def _in_json_names(text: str, renamed: Mapping[str, str]) -> str:
    """The backend's message with each field it names (``user.display_name: ...``, as the
    violations do) in JSON names: the REST face's words for the same fields."""
    fields = "|".join(re.escape(name) for name in sorted(renamed, key=len, reverse=True))
    return re.sub(rf"(?<![\w.])({fields})(?=: )", lambda m: renamed[m.group(1)], text)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
