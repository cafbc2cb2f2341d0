"""Errors a service raises from its domain and use cases, free of any transport.

Domain code subclasses these (``class UserNotFound(NotFound)``) and never imports grpc.
One table at the edge (``servicekit.grpc.interceptors.errors``) maps each class, by walking
the exception's MRO, to a gRPC status; the gateway maps that status to HTTP. Anything that
is not a ``ServiceError`` becomes INTERNAL with a generic message.

The message of a ``ServiceError`` is shown to the caller: write it for them, and keep
secrets, SQL and stack traces out of it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AlreadyExists",
    "Cancelled",
    "Conflict",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "ServiceError",
    "Unauthenticated",
    "Unavailable",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldViolation:
    """One broken rule on one field: ``field`` is a dotted path (``user.email``)."""

    field: str
    rule: str
    message: str


class ServiceError(Exception):
    """Base of every error whose message may be shown to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ServiceError):
    """The request is malformed, whatever the state of the system (INVALID_ARGUMENT)."""

    def __init__(self, message: str, violations: tuple[FieldViolation, ...] = ()) -> None:
        super().__init__(message)
        self.violations = violations

    @classmethod
    def for_field(cls, field: str, rule: str, message: str) -> InvalidArgument:
        """An error about a single field, named in the message and in the violations."""
        return cls(
            f"{field}: {message}", (FieldViolation(field=field, rule=rule, message=message),)
        )


class NotFound(ServiceError):
    """The resource does not exist, or the caller may not know it exists (NOT_FOUND)."""


class AlreadyExists(ServiceError):
    """A resource with the same unique key exists already (ALREADY_EXISTS)."""


class FailedPrecondition(ServiceError):
    """The system is not in the state the operation needs (FAILED_PRECONDITION)."""


class Conflict(ServiceError):
    """A concurrency conflict, such as a stale etag: re-read and retry (ABORTED)."""


class Unauthenticated(ServiceError):
    """No valid credentials came with the call (UNAUTHENTICATED)."""


class PermissionDenied(ServiceError):
    """The caller is known but may not do this (PERMISSION_DENIED)."""


class ResourceExhausted(ServiceError):
    """A quota or rate limit is hit; ``retry_after`` seconds is a hint (RESOURCE_EXHAUSTED)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    """A dependency (the database, another service) cannot be reached now (UNAVAILABLE)."""


class DeadlineExceeded(ServiceError):
    """The work did not finish in the time it was given (DEADLINE_EXCEEDED)."""


class Cancelled(ServiceError):
    """The call ended before its work did: the caller went away (CANCELLED)."""
