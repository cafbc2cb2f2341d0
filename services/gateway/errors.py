"""connexion's own errors as the gateway's problem documents.

connexion rejects a request before any handler runs when it breaks the document (bad
JSON, a schema violation, an unknown query parameter, a wrong content type) and Starlette
when no route matches; both raise. The handler here answers every such exception with
the same problem shape as a backend's error, field violations included, and turns any
other exception into a logged INTERNAL problem that says nothing of its cause.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

import structlog
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from services.gateway import scope
from services.gateway.plans import OperationPlan
from services.gateway.problems import (
    PROBLEM_JSON,
    Problem,
    Violation,
    code_of_http_status,
    summary,
)
from services.gateway.validation import ContractViolation

__all__ = ["HANDLED", "problem_handler", "problem_of"]

HANDLED: tuple[type[Exception], ...] = (ProblemException, HTTPException, Exception)
"""The exception classes to register ``problem_handler`` for, with connexion."""

_ROUTING = "connexion_routing"
_log = structlog.get_logger("services.gateway")

ErrorHandler = Callable[[ConnexionRequest, Exception], Awaitable[ConnexionResponse]]


def problem_handler(plans: Mapping[str, OperationPlan]) -> ErrorHandler:
    """connexion's error handler (a coroutine: no thread hop) over the operations' plans."""

    async def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        plan = _plan_of(request.scope, plans)
        problem = problem_of(exc, plan)
        current = scope.current()
        body = problem.body(
            instance=current.instance if current else request.url.path,
            request_id=current.request_id if current else None,
        )
        return ConnexionResponse(
            status_code=problem.status,
            mimetype=PROBLEM_JSON,
            content_type=PROBLEM_JSON,
            body=body,
            headers=problem.response_headers(),
        )

    return handle


def problem_of(exc: Exception, plan: OperationPlan | None) -> Problem:
    """The problem to answer for ``exc``, raised while serving an operation of ``plan``."""
    if isinstance(exc, ContractViolation):
        violations = tuple(_in_request_terms(v, exc.location, plan) for v in exc.violations)
        return Problem.of_code("INVALID_ARGUMENT", summary(violations), violations=violations)
    if isinstance(exc, ProblemException):
        status = int(exc.status)
        detail = exc.detail or exc.title or _phrase(status)
        return Problem(
            status=status,
            code=code_of_http_status(status),
            detail=str(detail),
            headers=dict(exc.headers or {}),
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
        return Problem(
            status=status,
            code=code_of_http_status(status),
            detail=str(exc.detail or _phrase(status)),
            headers=dict(exc.headers or {}),
        )
    _log.error("unhandled error", exc_info=exc)
    return Problem(status=500, code="INTERNAL", detail="internal error")


def _in_request_terms(violation: Violation, location: str, plan: OperationPlan | None) -> Violation:
    """Field paths from the request message's root, with the document's parameter names."""
    if plan is None:
        return violation
    if location == "body":
        field = plan.body_prefix + violation.field if violation.field else plan.body_prefix[:-1]
    else:
        field = plan.document_field(violation.field)
    return Violation(field=field, rule=violation.rule, message=violation.message)


def _plan_of(
    request_scope: Mapping[str, Any], plans: Mapping[str, OperationPlan]
) -> OperationPlan | None:
    routing = (request_scope.get("extensions") or {}).get(_ROUTING)
    operation_id = routing.get("operation_id") if isinstance(routing, Mapping) else None
    return plans.get(operation_id) if isinstance(operation_id, str) else None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
