"""connexion's request validation: the JSON types of a request, every problem reported.

The document's schemas state two kinds of things. The JSON type of each value is judged
here, against the schemas, before the request message can be built; every wrong type is
reported, each field named by its JSON path. Everything else the schemas say (lengths,
bounds, formats, patterns, enums, ``required``, closed objects) restates the contract's
``buf.validate`` rules or the proto3 JSON mapping, and is left to what judges the request
message itself: building it (``messages.request_message``: an unknown field, a value that
does not fit its field; the mapping's parser also takes proto field names) and
protovalidate (``servicekit.validation``, in the transcoder), exactly as the gRPC face
judges it. So the same bad input gets the same rule id and message on both faces (an empty
display name is ``displayName`` / ``required`` / "value is required" here, ``display_name``
/ ``required`` / "value is required" over gRPC), and the schemas' own words never compete.

connexion would stop at the first schema error and word it with the offending value
(``'hunter2' is too short``); these validators collect every type error, describe it
without the value, and compile each schema once, where connexion builds a validator per
request. ``validator_map()`` is connexion's ``validator_map`` argument; its validators
raise ``ContractViolation``, a ``BadRequestProblem`` carrying the violations, which the
gateway's error handler renders like a backend's INVALID_ARGUMENT.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, ClassVar

from connexion.datastructures import MediaTypeDict
from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    ValidationError,
)

from services.gateway.problems import Violation, summary

__all__ = ["ContractViolation", "validator_map", "violations_of"]

SHAPE_KEYWORDS = frozenset({"type"})
"""The JSON Schema keywords judged here: the JSON type of a value. Every other keyword of
the document is the contract's (protovalidate judges it) or the JSON mapping's (building
the message judges it)."""


class ContractViolation(BadRequestProblem):  # type: ignore[misc]  # connexion is untyped
    """The request breaks the schemas of the document; ``location`` is body or parameters."""

    def __init__(self, violations: tuple[Violation, ...], *, location: str) -> None:
        super().__init__(detail=summary(violations))
        self.violations = violations
        self.location = location


def violations_of(errors: Iterable[ValidationError], *, root: str = "") -> tuple[Violation, ...]:
    """One violation per broken shape, in order, each once; fields are JSON paths. Errors
    of other keywords are not the shape's: they are left out."""
    found: dict[tuple[str, str], Violation] = {}
    for error in errors:
        if str(error.validator) in SHAPE_KEYWORDS:
            for violation in _describe(error, root):
                found.setdefault((violation.field, violation.rule), violation)
    return tuple(found.values())


def validator_map() -> dict[str, Any]:
    """connexion's ``validator_map``: these validators, with a schema cache of their own."""
    cache = _ValidatorCache()

    class Body(_BodyValidator):
        _cache = cache

    class Parameters(_ParameterValidator):
        _cache = cache

    return {"body": MediaTypeDict({"*/*json": Body}), "parameter": Parameters}


class _ValidatorCache:
    """One compiled validator per schema object of the document (they live as long)."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Mapping[str, Any], Draft4Validator]] = {}

    def get(self, schema: Mapping[str, Any]) -> Draft4Validator:
        entry = self._entries.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = (schema, Draft4RequestValidator(schema))
            self._entries[id(schema)] = entry
        return entry[1]


class _BodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]  # connexion is untyped
    _cache: ClassVar[_ValidatorCache]

    async def _parse(self, stream: AsyncIterator[bytes], scope: Any) -> Any:
        try:
            return await super()._parse(stream, scope)
        except (UnicodeDecodeError, LookupError):  # bytes not in, or no such, charset
            raise BadRequestProblem(
                detail=f"the request body is not valid {self._encoding}"
            ) from None
        except RecursionError:  # thousands of nested arrays: json gives up, and so do we
            raise _too_deep() from None

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if not self._nullable and body is None:
            raise ContractViolation(
                (Violation(field="", rule="required", message="a JSON body is required"),),
                location="body",
            )
        try:
            violations = violations_of(self._cache.get(self._schema).iter_errors(body))
        except RecursionError:
            raise _too_deep() from None
        if violations:
            raise ContractViolation(violations, location="body")
        return None


def _too_deep() -> BadRequestProblem:
    """400 for a body nested deeper than the parser (or the schema check) can follow."""
    return BadRequestProblem(detail="the request body is nested too deeply")


# Where each location's parameters are read, in the order they are judged.
_SOURCES: dict[str, Callable[[Any], Mapping[str, Any]]] = {
    "query": lambda request: request.query_params,
    "path": lambda request: request.path_params,
    "header": lambda request: request.headers,
    "cookie": lambda request: request.cookies,
}


class _ParameterValidator(ParameterValidator):  # type: ignore[misc]  # connexion is untyped
    _cache: ClassVar[_ValidatorCache]

    def validate_request(self, request: Any) -> None:
        violations: list[Violation] = []
        if self.strict_validation:
            extra = self.validate_query_parameter_list(
                request, security_params=self.security_query_params
            )
            violations += [
                Violation(name, "unknown_parameter", "is not a parameter of this operation")
                for name in sorted(extra)
            ]
        for location, source in _SOURCES.items():
            parameters = self.parameters.get(location)
            if parameters:  # each source is parsed from the request when it is asked for
                values = source(request)
                for parameter in parameters:
                    violations += self._check(parameter, values.get(parameter["name"]))
        if violations:
            raise ContractViolation(tuple(violations), location="parameters")

    def _check(self, parameter: Mapping[str, Any], value: Any) -> tuple[Violation, ...]:
        """The shape of one parameter's value; a missing one is protovalidate's to judge
        (``required``), as it is on the gRPC face."""
        if value is None:
            return ()
        schema = parameter.get("schema", parameter)
        if schema.get("nullable") and value in ("null", "None"):
            return ()
        return violations_of(self._cache.get(schema).iter_errors(value), root=parameter["name"])


def _describe(error: ValidationError, root: str) -> list[Violation]:
    where = _path(root, error.absolute_path)
    return [Violation(where, "type", f"must be of JSON type {error.validator_value}")]


def _path(root: str, steps: Iterable[Any]) -> str:
    path = root
    for step in steps:
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path = f"{path}.{step}" if path else str(step)
    return path
