"""What breaks an existing REST client when an OpenAPI document goes from base to head.

Operations are matched by method and path; a path whose template parameters were only renamed
(``/v1/users/{id}`` -> ``/v1/users/{user_id}``) is the same path, and the rename is reported.
Each finding is one line naming the path or operation and what changed; adding paths,
operations, optional input or output is never reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from contractkit.findings import Finding, sorted_findings
from contractkit.openapi_model import (
    Operation,
    iter_operations,
    plain_json,
    template_parameters,
)
from contractkit.openapi_operation_diff import Issue, OperationPair, diff_operation

__all__ = ["diff_documents", "diff_trees"]

_TEMPLATE_PARAMETER = re.compile(r"\{[^{}]*\}")
_NO_PATHS: Mapping[str, Any] = {"paths": {}}


def diff_documents(base: Mapping[str, Any], head: Mapping[str, Any], source: str) -> list[Finding]:
    """The breaking changes from ``base`` to ``head``, sorted by location."""
    base, head = plain_json(base), plain_json(head)
    return sorted_findings(
        Finding(source, location, rule, message)
        for location, rule, message in _document_issues(base, head)
    )


def diff_trees(
    base: Mapping[str, Mapping[str, Any]], head: Mapping[str, Mapping[str, Any]]
) -> list[Finding]:
    """Breaking changes across documents keyed by file name; a removed file removes its paths."""
    findings = [
        finding
        for name, document in base.items()
        for finding in diff_documents(document, head.get(name, _NO_PATHS), name)
    ]
    return sorted_findings(findings)


def _shape(path: str) -> str:
    """The path with its parameter names erased: what a client actually requests."""
    return _TEMPLATE_PARAMETER.sub("{}", path)


def _operations_by_path(doc: Mapping[str, Any]) -> dict[str, dict[str, Operation]]:
    by_path: dict[str, dict[str, Operation]] = {}
    for operation in iter_operations(doc):
        by_path.setdefault(operation.path, {})[operation.method] = operation
    return by_path


def _document_issues(base: Mapping[str, Any], head: Mapping[str, Any]) -> Iterator[Issue]:
    base_paths, head_paths = _operations_by_path(base), _operations_by_path(head)
    head_by_shape: dict[str, list[str]] = {}
    for path in head_paths:
        head_by_shape.setdefault(_shape(path), []).append(path)
    for path, base_operations in base_paths.items():
        candidates = head_by_shape.get(_shape(path), [])
        if not candidates:
            methods = ", ".join(method.upper() for method in base_operations)
            yield path, "PATH_REMOVED", f"path removed (with {methods})"
            continue
        for method, operation in base_operations.items():
            head_path = _matching_path(path, method, candidates, head_paths)
            if head_path is None:
                yield operation.label, "OPERATION_REMOVED", "operation removed"
                continue
            yield from _operation_issues(base, head, operation, head_paths[head_path][method])


def _matching_path(
    path: str, method: str, candidates: list[str], head_paths: Mapping[str, Mapping[str, Operation]]
) -> str | None:
    """The head path serving `method` on `path`: the same template if it still has the
    method, else a same-shape template that does (its parameters were renamed). Paths
    that differ only in parameter names (`/users/{id}` for GET, `/users/{user.id}` for
    PATCH) are told apart by the method they serve."""
    serving = [c for c in candidates if method in head_paths[c]]
    if path in serving:
        return path
    return serving[0] if serving else None


def _operation_issues(
    base: Mapping[str, Any],
    head: Mapping[str, Any],
    operation: Operation,
    head_operation: Operation,
) -> Iterator[Issue]:
    renames = {
        old: new
        for old, new in zip(
            template_parameters(operation.path),
            template_parameters(head_operation.path),
            strict=True,
        )
        if old != new
    }
    for old, new in renames.items():
        yield (
            operation.label,
            "PATH_PARAMETER_RENAMED",
            f"path parameter '{old}' renamed to '{new}' ({head_operation.path})",
        )
    pair = OperationPair(
        base_doc=base, head_doc=head, base=operation, head=head_operation, renames=renames
    )
    yield from diff_operation(pair)
