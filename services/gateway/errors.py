"""connexion's own errors as the gateway's problem documents.

connexion rejects a request before any handler runs when it breaks the document (bad
JSON, a schema violation, an unknown query parameter, a wrong content type) and Starlette
when no route matches; both raise. The handler here answers every such exception with
the same problem shape as a backend's error, field violations included, and turns any
other exception into a logged INTERNAL problem that says nothing of its cause. A 405 names
in ``Allow`` every method the document gives the path (Starlette would name only those of
the one route it tried).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
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

__all__ = ["HANDLED", "AllowedMethods", "problem_handler", "problem_of"]

HANDLED: tuple[type[Exception], ...] = (ProblemException, HTTPException, Exception)
"""The exception classes to register ``problem_handler`` for, with connexion."""

_ROUTING = "connexion_routing"
_log = structlog.get_logger("services.gateway")

ErrorHandler = Callable[[ConnexionRequest, Exception], Awaitable[ConnexionResponse]]
_VARIABLE = re.compile(r"\{[^{}]*\}")


class AllowedMethods:
    """The methods the document gives each path, found by a request's path (as Starlette
    routes: a parameter is one segment); HEAD is served wherever GET is."""

    def __init__(self, plans: Iterable[OperationPlan]) -> None:
        methods: dict[str, set[str]] = {}
        for plan in plans:
            methods.setdefault(plan.route, set()).add(plan.http_method)
        self._routes = [
            (re.compile(_route_pattern(route)), frozenset(found))
            for route, found in methods.items()
        ]

    def of(self, path: str) -> str | None:
        """``DELETE, GET, HEAD, PATCH`` for ``/v1/users/42``; None for a path of no route."""
        found: set[str] = set()
        for pattern, methods in self._routes:
            if pattern.fullmatch(path):
                found |= methods
        if "GET" in found:
            found.add("HEAD")
        return ", ".join(sorted(found)) if found else None


def _route_pattern(route: str) -> str:
    parts = _VARIABLE.split(route)
    return "[^/]+".join(re.escape(part) for part in parts)


def problem_handler(plans: Mapping[str, OperationPlan]) -> ErrorHandler:
    """connexion's error handler (a coroutine: no thread hop) over the operations' plans."""

    allowed = AllowedMethods(plans.values())

    async def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        plan = _plan_of(request.scope, plans)
        problem = problem_of(exc, plan)
        if problem.status == 405:
            methods = allowed.of(request.url.path)
            if methods is not None:
                problem = dataclasses.replace(
                    problem, headers={**problem.headers, "Allow": methods}
                )
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
    """Field paths from the request message's root, in JSON names (a path parameter's
    violation names the field it fills: ``user.id`` for ``{id}``)."""
    if plan is None:
        return violation
    if location == "body":
        field = plan.body_prefix + violation.field if violation.field else plan.body_prefix[:-1]
    else:
        field = plan.request_field(violation.field)
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
