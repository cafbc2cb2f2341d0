"""What each REST operation does, worked out once at start from the contract.

For every operation of the OpenAPI document, its ``operationId`` (the full gRPC method
name) finds the method in the protobuf descriptor pool; the method's ``google.api.http``
rule says where the request body goes (``*``, one field, or nowhere) and which field of
the reply is the response body. Each path and query parameter is mapped to the JSON path
of the request field it fills: a query parameter is named by that path, a path parameter
by an identifier with the field path in ``x-acme-field-path`` (``{id}`` filling
``user.id``). The document and the descriptors are checked against each other: a
mismatch is a ``PlanError`` at start, never a surprise on a request.

What a plan does with one call (its request message, its reply's body) is in
``services.gateway.messages``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connexion.decorators.parameter import sanitized
from google.api import (  # type: ignore[import-untyped, unused-ignore]  # ships no py.typed
    annotations_pb2,
    http_pb2,
)
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, MethodDescriptor
from google.protobuf.message import Message

from contractkit.restface import FIELD_PATH_EXTENSION
from services.gateway.fieldpaths import TEMPLATE_VARIABLE, field_named

__all__ = [
    "BODY_ARGUMENT",
    "OperationPlan",
    "Parameter",
    "PlanError",
    "build_plans",
]

BODY_ARGUMENT = "body"
"""The name connexion gives the request body among a handler's keyword arguments."""

_VERBS = ("get", "put", "post", "delete", "patch")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PlanError(ValueError):
    """The OpenAPI document and the contracts' descriptors do not agree."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Parameter:
    """A path or query parameter: its name in the document, in connexion's arguments,
    and the JSON path of the request field it fills."""

    name: str
    argument: str
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OperationPlan:
    """Everything a call of one operation needs, computed at start."""

    operation_id: str
    http_method: str
    route: str
    service: str
    grpc_path: str
    method: MethodDescriptor
    request_class: type[Message]
    response_class: type[Message]
    body_path: tuple[str, ...] | None
    response_field: str | None
    parameters: tuple[Parameter, ...]

    @property
    def body_prefix(self) -> str:
        """The JSON path of the body inside the request (``user.``), for field names."""
        return "".join(f"{step}." for step in self.body_path or ())

    def request_field(self, field: str) -> str:
        """A field path that starts with a parameter's name (``id``, ``id[0]``) from the
        request's root, in JSON names (``user.id``): how violations name fields."""
        for parameter in self.parameters:
            name = parameter.name
            if field == name or field.startswith((f"{name}.", f"{name}[")):
                return ".".join(parameter.path) + field[len(name) :]
        return field


def build_plans(
    document: Mapping[str, Any], pool: descriptor_pool.DescriptorPool | None = None
) -> dict[str, OperationPlan]:
    """The plan of every operation of ``document``, by ``operationId``.

    The ``_pb2`` modules of the services must be imported first: their descriptors are
    looked up in ``pool`` (the default pool).
    """
    pool = pool or descriptor_pool.Default()
    plans: dict[str, OperationPlan] = {}
    problems: list[str] = []
    for route, verb, operation in _operations(document):
        where = f"{verb.upper()} {route}"
        operation_id = operation.get("operationId")
        if not isinstance(operation_id, str):
            problems.append(f"{where}: no operationId")
            continue
        try:
            plans[operation_id] = _plan(pool, route, verb, operation_id, operation)
        except PlanError as exc:
            problems += [f"{where} ({operation_id}): {problem}" for problem in exc.problems]
    if problems:
        raise PlanError(problems)
    return plans


def _operations(document: Mapping[str, Any]) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
    for route, item in (document.get("paths") or {}).items():
        for verb in _VERBS:
            operation = item.get(verb)
            if isinstance(operation, Mapping):
                yield route, verb, operation


def _plan(
    pool: descriptor_pool.DescriptorPool, route: str, verb: str, operation_id: str, op: Any
) -> OperationPlan:
    try:
        method = pool.FindMethodByName(operation_id)
    except KeyError:
        raise PlanError(["no gRPC method of that name in the contracts"]) from None
    rule = _http_rule(method)
    declared = op.get("parameters") or ()
    problems = _rule_problems(
        rule, route, verb, _field_paths(declared), has_body="requestBody" in op
    )
    body_path = _body_path(method.input_type, rule.body, problems)
    response_field = _response_field(method.output_type, rule.response_body, problems)
    parameters = _parameters(method.input_type, declared, problems)
    if problems:
        raise PlanError(problems)
    service = method.containing_service.full_name
    return OperationPlan(
        operation_id=operation_id,
        http_method=verb.upper(),
        route=route,
        service=service,
        grpc_path=f"/{service}/{method.name}",
        method=method,
        request_class=message_factory.GetMessageClass(method.input_type),
        response_class=message_factory.GetMessageClass(method.output_type),
        body_path=body_path,
        response_field=response_field,
        parameters=parameters,
    )


def _http_rule(method: MethodDescriptor) -> http_pb2.HttpRule:
    rule: http_pb2.HttpRule = method.GetOptions().Extensions[annotations_pb2.http]
    return rule


def _field_paths(declared: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The field path each path parameter fills, by its name (the name, without one)."""
    return {
        str(p.get("name", "")): str(p.get(FIELD_PATH_EXTENSION) or p.get("name", ""))
        for p in declared
        if p.get("in") == "path"
    }


def _rule_problems(
    rule: http_pb2.HttpRule,
    route: str,
    verb: str,
    field_paths: Mapping[str, str],
    *,
    has_body: bool,
) -> list[str]:
    """The route must be the rule's template with each variable named by a parameter that
    fills the variable's field."""
    pattern = rule.WhichOneof("pattern")
    if pattern is None:
        return ["the method has no google.api.http rule"]
    template = getattr(rule, pattern)
    filled = [field_paths.get(name, name) for name in TEMPLATE_VARIABLE.findall(route)]
    problems = []
    if (
        pattern != verb
        or TEMPLATE_VARIABLE.sub("{}", template) != TEMPLATE_VARIABLE.sub("{}", route)
        or TEMPLATE_VARIABLE.findall(template) != filled
    ):
        problems.append(f"the google.api.http rule says {pattern.upper()} {template}")
    if has_body != bool(rule.body):
        problems.append(f"requestBody present: {has_body}, but the rule's body is {rule.body!r}")
    return problems


def _body_path(descriptor: Descriptor, body: str, problems: list[str]) -> tuple[str, ...] | None:
    if not body:
        return None
    if body == "*":
        return ()
    return _resolve(descriptor, body, problems, what="body field")


def _response_field(descriptor: Descriptor, name: str, problems: list[str]) -> str | None:
    if not name:
        return None
    field = descriptor.fields_by_name.get(name)
    if field is None or field.message_type is None:
        problems.append(f"response_body {name!r} is not a message field of {descriptor.name}")
        return None
    return name


def _parameters(
    descriptor: Descriptor, declared: Iterable[Mapping[str, Any]], problems: list[str]
) -> tuple[Parameter, ...]:
    parameters = []
    arguments = {BODY_ARGUMENT}
    for declaration in declared:
        name, location = declaration.get("name", ""), declaration.get("in")
        if location not in ("path", "query"):
            problems.append(f"parameter {name!r} in {location}: only path and query are mapped")
            continue
        if location == "path" and not _IDENTIFIER.match(name):
            problems.append(f"path parameter {name!r} is not an identifier: it cannot be routed")
        argument = sanitized(name)
        if argument in arguments:
            problems.append(f"parameter {name!r} collides with another as argument {argument!r}")
        arguments.add(argument)
        dotted = (declaration.get(FIELD_PATH_EXTENSION) or name) if location == "path" else name
        path = _resolve(descriptor, str(dotted), problems, what=f"{location} parameter")
        parameters.append(Parameter(name=name, argument=argument, path=path))
    return tuple(parameters)


def _resolve(
    descriptor: Descriptor, dotted: str, problems: list[str], *, what: str
) -> tuple[str, ...]:
    """JSON names of the fields along ``dotted`` (proto or JSON names)."""
    steps: list[str] = []
    current: Descriptor | None = descriptor
    for name in dotted.split("."):
        field = field_named(current, name)
        if field is None:
            problems.append(f"{what} {dotted!r}: {name!r} is not a field of {descriptor.name}")
            return tuple(steps)
        steps.append(field.json_name)
        current = field.message_type
    return tuple(steps)
