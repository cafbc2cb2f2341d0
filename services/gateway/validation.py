"""connexion's request validation, reporting every broken rule as a field violation.

connexion stops at the first schema error and words it with the offending value
(``'hunter2' is too short``): a password would end up in the response and the logs. These
validators check the same schemas but collect every error, name each field by its JSON
path, give the rule in the contract's vocabulary (``string.min_len``, ``required``) and
describe it without the value. They also compile each schema once, where connexion
builds a validator per request.

``validator_map()`` is connexion's ``validator_map`` argument; its validators raise
``ContractViolation``, a ``BadRequestProblem`` carrying the violations, which the
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

_FORMATS = Draft4Validator.FORMAT_CHECKER
_STRING_RULES = {"minLength": "string.min_len", "maxLength": "string.max_len"}
_ITEM_RULES = {
    "minItems": "repeated.min_items",
    "maxItems": "repeated.max_items",
    "uniqueItems": "repeated.unique",
}


class ContractViolation(BadRequestProblem):  # type: ignore[misc]  # connexion is untyped
    """The request breaks the schemas of the document; ``location`` is body or parameters."""

    def __init__(self, violations: tuple[Violation, ...], *, location: str) -> None:
        super().__init__(detail=summary(violations))
        self.violations = violations
        self.location = location


def violations_of(errors: Iterable[ValidationError], *, root: str = "") -> tuple[Violation, ...]:
    """One violation per broken rule, in order, each once; fields are JSON paths."""
    found: dict[tuple[str, str], Violation] = {}
    for error in errors:
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
            entry = (schema, Draft4RequestValidator(schema, format_checker=_FORMATS))
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
        sources: dict[str, Callable[[str], Any]] = {
            "query": request.query_params.get,
            "path": request.path_params.get,
            "header": request.headers.get,
            "cookie": request.cookies.get,
        }
        for location, read in sources.items():
            for parameter in self.parameters.get(location, ()):
                violations += self._check(parameter, read(parameter["name"]))
        if violations:
            raise ContractViolation(tuple(violations), location="parameters")

    def _check(self, parameter: Mapping[str, Any], value: Any) -> tuple[Violation, ...]:
        name = parameter["name"]
        if value is None:
            if parameter.get("required"):
                return (Violation(name, "required", "is required"),)
            return ()
        schema = parameter.get("schema", parameter)
        if schema.get("nullable") and value in ("null", "None"):
            return ()
        return violations_of(self._cache.get(schema).iter_errors(value), root=name)


def _describe(error: ValidationError, root: str) -> list[Violation]:
    keyword = str(error.validator)
    where = _path(root, error.absolute_path)
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    if keyword == "required":
        return [
            Violation(_path(where, [name]), "required", "is required")
            for name in error.validator_value
            if name not in instance
        ]
    if keyword == "additionalProperties":
        declared = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        return [
            Violation(_path(where, [name]), "unknown_field", "is not a field of this message")
            for name in instance
            if name not in declared
        ]
    rule, message = _rule_and_message(keyword, error.validator_value, error.schema)
    return [Violation(where, rule, message)]


def _rule_and_message(keyword: str, limit: Any, schema: Any) -> tuple[str, str]:
    describe = _DESCRIPTIONS.get(keyword)
    if describe is None:
        return keyword, f"breaks the {keyword} rule of the schema"
    return describe(keyword, limit, schema if isinstance(schema, Mapping) else {})


def _length(keyword: str, limit: Any, _schema: Mapping[str, Any]) -> tuple[str, str]:
    at = "least" if keyword == "minLength" else "most"
    return _STRING_RULES[keyword], f"must be at {at} {limit} characters long"


def _items(keyword: str, limit: Any, _schema: Mapping[str, Any]) -> tuple[str, str]:
    if keyword == "uniqueItems":
        return _ITEM_RULES[keyword], "must not contain the same item twice"
    at = "least" if keyword == "minItems" else "most"
    return _ITEM_RULES[keyword], f"must contain at {at} {limit} items"


def _format(_keyword: str, limit: Any, _schema: Mapping[str, Any]) -> tuple[str, str]:
    return f"string.{str(limit).replace('-', '_')}", f"must be a valid {limit}"


def _enum(_keyword: str, limit: Any, _schema: Mapping[str, Any]) -> tuple[str, str]:
    return "enum.in", "must be one of " + ", ".join(str(choice) for choice in limit)


def _type(_keyword: str, limit: Any, _schema: Mapping[str, Any]) -> tuple[str, str]:
    return "type", f"must be of JSON type {limit}"


def _pattern(_keyword: str, limit: Any, _schema: Mapping[str, Any]) -> tuple[str, str]:
    return "string.pattern", f"must match the pattern {limit}"


def _bound(keyword: str, limit: Any, schema: Mapping[str, Any]) -> tuple[str, str]:
    lower = keyword == "minimum"
    exclusive = bool(schema.get("exclusiveMinimum" if lower else "exclusiveMaximum"))
    kind = str(schema.get("format") or "double")
    suffix = ("gt" if exclusive else "gte") if lower else ("lt" if exclusive else "lte")
    words = {"gt": "greater than", "gte": "at least", "lt": "less than", "lte": "at most"}
    return f"{kind}.{suffix}", f"must be {words[suffix]} {limit}"


_DESCRIPTIONS: dict[str, Callable[[str, Any, Mapping[str, Any]], tuple[str, str]]] = {
    "minLength": _length,
    "maxLength": _length,
    "minItems": _items,
    "maxItems": _items,
    "uniqueItems": _items,
    "minimum": _bound,
    "maximum": _bound,
    "format": _format,
    "enum": _enum,
    "type": _type,
    "pattern": _pattern,
}
"""Per JSON Schema keyword: the contract's rule id and a message that never shows the value."""


def _path(root: str, steps: Iterable[Any]) -> str:
    path = root
    for step in steps:
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path = f"{path}.{step}" if path else str(step)
    return path
