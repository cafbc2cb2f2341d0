"""Lint a generated OpenAPI 3.0 document: structurally valid, and shaped the way we promise.

Structural validity comes from ``openapi_spec_validator`` (see ``openapi_structure``); the
house rules (operation ids, summaries, tags, problem+json errors, path parameters, JSON
success bodies) are checked here, on each operation. Path parameters are identifiers
(mainstream tools fill templates with `str.format` or route them by identifier: a dotted
`{user.id}` breaks them), and no two paths share a template shape (OpenAPI holds
`/users/{id}` and `/users/{name}` to be one path).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from contractkit.findings import Finding, sorted_findings
from contractkit.openapi_model import (
    Operation,
    as_mapping,
    deref,
    iter_operations,
    operation_parameters,
    plain_json,
    template_parameters,
)
from contractkit.openapi_structure import Issue, ref_issues, structural_issues

__all__ = ["lint_document"]

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEMPLATE_NAME = re.compile(r"\{[^{}]*\}")


def lint_document(doc: Mapping[str, Any], source: str) -> list[Finding]:
    """Every structural error and house-rule violation of ``doc``, sorted by location."""
    doc = plain_json(doc)
    dangling = ref_issues(doc)
    issues = [
        *dangling,
        *structural_issues(doc, refs_ok=not dangling),
        *_operation_id_clashes(doc),
        *_same_shape_paths(doc),
    ]
    tags = _declared_tags(doc)
    for operation in iter_operations(doc):
        issues += [
            (operation.label, rule, message)
            for rule, message in _operation_issues(doc, operation, tags)
        ]
    issues += _undescribed_tag_issues(doc, tags)
    return sorted_findings(
        Finding(source=source, location=location, rule=rule, message=message)
        for location, rule, message in issues
    )


def _operation_id_clashes(doc: Mapping[str, Any]) -> Iterator[Issue]:
    operations = list(iter_operations(doc))
    counts = Counter(str(op.body["operationId"]) for op in operations if "operationId" in op.body)
    for op in operations:
        op_id = op.body.get("operationId")
        if op_id is not None and counts[str(op_id)] > 1:
            yield (
                op.label,
                "OPERATION_ID_DUPLICATE",
                f"operationId '{op_id}' is used by more than one operation",
            )


def _same_shape_paths(doc: Mapping[str, Any]) -> Iterator[Issue]:
    by_shape: dict[str, list[str]] = {}
    for path in as_mapping(doc.get("paths")):
        by_shape.setdefault(_TEMPLATE_NAME.sub("{}", str(path)), []).append(str(path))
    for paths in by_shape.values():
        for path in paths[1:]:
            yield (
                path,
                "PATH_TEMPLATE_DUPLICATE",
                f"same template as {paths[0]} with other parameter names: one path for OpenAPI",
            )


def _declared_tags(doc: Mapping[str, Any]) -> dict[str, str]:
    tags = doc.get("tags")
    declared = [as_mapping(tag) for tag in (tags if isinstance(tags, list) else [])]
    return {str(tag.get("name")): str(tag.get("description") or "").strip() for tag in declared}


def _undescribed_tag_issues(doc: Mapping[str, Any], tags: dict[str, str]) -> Iterator[Issue]:
    used = {str(tag) for op in iter_operations(doc) for tag in _tags_of(op)}
    for name in sorted(used & tags.keys()):
        if not tags[name]:
            yield (
                f"tags.{name}",
                "TAG_UNDESCRIBED",
                f"tag '{name}' is declared without a description",
            )


def _tags_of(operation: Operation) -> list[Any]:
    tags = operation.body.get("tags")
    return tags if isinstance(tags, list) else []


def _operation_issues(
    doc: Mapping[str, Any], op: Operation, tags: dict[str, str]
) -> Iterator[tuple[str, str]]:
    if not op.body.get("operationId"):
        yield "OPERATION_ID_MISSING", "operation has no operationId"
    if not str(op.body.get("summary") or "").strip():
        yield "SUMMARY_MISSING", "operation has no summary"
    if not _tags_of(op):
        yield "TAG_MISSING", "operation has no tag"
    for tag in _tags_of(op):
        if str(tag) not in tags:
            yield "TAG_UNDECLARED", f"tag '{tag}' is not declared in the top-level tags"
    yield from _response_issues(doc, op)
    yield from _path_parameter_issues(doc, op)


def _response_issues(doc: Mapping[str, Any], op: Operation) -> Iterator[tuple[str, str]]:
    responses = {
        str(code): deref(doc, raw)[0] for code, raw in as_mapping(op.body.get("responses")).items()
    }
    errors = {
        code: body
        for code, body in responses.items()
        if code == "default" or code[:1] in ("4", "5")
    }
    if not errors:
        yield (
            "ERROR_RESPONSE_MISSING",
            "operation documents no error response (4xx, 5xx or default)",
        )
    for code, response in errors.items():
        if PROBLEM_JSON not in as_mapping(response.get("content")):
            yield "ERROR_CONTENT_TYPE", f"error response {code} has no {PROBLEM_JSON} content"
    for code, response in responses.items():
        content = as_mapping(response.get("content"))
        if code.startswith("2") and content and JSON not in content:
            yield "SUCCESS_CONTENT_TYPE", f"response {code} has a body but no {JSON} content"


def _path_parameter_issues(doc: Mapping[str, Any], op: Operation) -> Iterator[tuple[str, str]]:
    in_template = template_parameters(op.path)
    declared = {
        name: p for (where, name), p in operation_parameters(doc, op).items() if where == "path"
    }
    for name in in_template:
        if not _IDENTIFIER.match(name):
            yield (
                "PATH_PARAMETER_NAME",
                f"path parameter '{name}' is not an identifier (tools fill and route "
                "templates by identifier)",
            )
        if name not in declared:
            yield (
                "PATH_PARAMETER_UNDECLARED",
                f"path parameter '{name}' is not declared as in: path",
            )
        elif declared[name].get("required") is not True:
            yield (
                "PATH_PARAMETER_OPTIONAL",
                f"path parameter '{name}' is not declared required: true",
            )
    for name in sorted(declared.keys() - set(in_template)):
        yield (
            "PATH_PARAMETER_UNKNOWN",
            f"path parameter '{name}' does not appear in the path template",
        )
