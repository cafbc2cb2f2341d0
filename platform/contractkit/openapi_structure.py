"""Structural validity of an OpenAPI 3.0 document, as one issue per problem with its location.

``openapi_spec_validator`` finds the problems (all of them, through ``iter_errors`` rather
than the first one ``validate`` raises); this module says where each is and what is wrong in
a line, instead of a traceback or a dump of the schema.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from openapi_spec_validator import OpenAPIV30SpecValidator
from openapi_spec_validator.schemas import schema_v30
from openapi_spec_validator.schemas.backend.jsonschema import create_validator
from openapi_spec_validator.validation.exceptions import (
    DuplicateOperationIDError,
    OpenAPIValidationError,
    UnresolvableParameterError,
)

from contractkit.openapi_model import HTTP_METHODS, iter_local_refs, resolve_pointer

__all__ = ["Issue", "dotted_location", "ref_issues", "structural_issues"]

Issue = tuple[str, str, str]  # location, rule, message
# The lint reports these with a dedicated rule and a precise location.
_COVERED_BY_RULES = (DuplicateOperationIDError, UnresolvableParameterError)
_VALUE_DUMP = re.compile(r"^[\[{].*[\]}] (?=is not )")
_Error = OpenAPIValidationError


def dotted_location(parts: tuple[str, ...] | list[Any]) -> str:
    """A key path as a location: ``GET /v1/x responses.200`` or ``components.schemas.X``."""
    names = [str(part) for part in parts]
    if len(names) < 2 or names[0] != "paths":
        return ".".join(names) or "(document)"
    head, rest = names[1], names[2:]
    if rest and rest[0] in HTTP_METHODS:
        head, rest = f"{rest[0].upper()} {head}", rest[1:]
    return f"{head} {'.'.join(rest)}" if rest else head


def ref_issues(doc: Mapping[str, Any]) -> list[Issue]:
    """Every ``$ref`` that does not point inside the document."""
    return [
        (
            dotted_location(where),
            "REF_UNRESOLVED",
            f"$ref '{ref}' does not resolve within the document",
        )
        for where, ref in iter_local_refs(doc)
        if resolve_pointer(doc, ref) is None
    ]


def structural_issues(doc: Mapping[str, Any], *, refs_ok: bool) -> Iterator[Issue]:
    """Every error of ``OpenAPIV30SpecValidator.iter_errors``, taken in its two steps.

    Step one checks the OpenAPI 3.0 JSON Schema and knows where each error is; it uses the
    pure-Python backend whatever else is installed, as only that one explains a ``oneOf``
    failure. Step two (the semantic checks: defaults, required lists, ...) assumes a
    schema-valid document whose refs resolve, so it runs only then; its errors carry no
    location in the document.
    """
    schema_errors = list(create_validator(schema_v30).iter_errors(doc))
    for error in schema_errors:
        yield from _explained(error)
    if schema_errors or not refs_ok:
        return
    validator = OpenAPIV30SpecValidator(doc)
    for error in validator.root_validator(validator.schema_path):
        if not isinstance(error, _COVERED_BY_RULES):
            inner = ".".join(str(part) for part in error.absolute_path)
            message = f"in a schema, at '{inner}': {_short(error)}" if inner else _short(error)
            yield "(document)", "OPENAPI_INVALID", message


def _explained(error: _Error) -> Iterator[Issue]:
    reasons = _reasons(error)
    if len(reasons) > 1 and all(reason.validator == "enum" for reason in reasons):
        # Every alternative was ruled out by the value of one field: list what it may be.
        choices = [choice for reason in reasons for choice in reason.validator_value]
        message = f"{reasons[0].instance!r} is not one of {choices!r}"
        yield dotted_location(list(reasons[0].absolute_path)), "OPENAPI_INVALID", message
        return
    for reason in reasons:
        yield dotted_location(list(reason.absolute_path)), "OPENAPI_INVALID", _short(reason)


def _reasons(error: _Error) -> list[_Error]:
    """What is wrong, for a ``oneOf``/``anyOf`` failure: the errors of the alternative meant.

    The ever-present ``$ref`` alternative is never the one meant. A field whose value most
    alternatives reject with an ``enum`` (such as a parameter's ``in``) discriminates: the
    alternatives that accept its value are meant (the one with fewest errors). If none does,
    the value of that field is what is wrong.
    """
    if not error.context:
        return [error]
    branches: dict[object, list[_Error]] = {}
    for sub in error.context:
        key = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(key, []).append(sub)
    candidates = [branch for branch in branches.values() if not _is_ref_alternative(branch)]
    misses = [sub for branch in candidates for sub in branch if _rules_out(sub)]
    field = Counter(tuple(sub.relative_path) for sub in misses).most_common(1)
    discriminated = [sub for sub in misses if field and tuple(sub.relative_path) == field[0][0]]
    meant = [branch for branch in candidates if not any(sub in discriminated for sub in branch)]
    if meant:
        return [reason for sub in min(meant, key=len) for reason in _reasons(sub)]
    return discriminated or [error]


def _rules_out(error: _Error) -> bool:
    return error.validator in ("enum", "const")


def _is_ref_alternative(branch: list[_Error]) -> bool:
    return (
        len(branch) == 1
        and branch[0].validator == "required"
        and branch[0].validator_value == ["$ref"]
    )


def _short(error: _Error) -> str:
    """The first line of the message, with a dump of the offending value replaced by 'value'."""
    message = str(error.message).split("\n", 1)[0].strip()
    return _VALUE_DUMP.sub("value ", message)
