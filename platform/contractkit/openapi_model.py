"""Read-only helpers over a parsed OpenAPI 3.0 document: local refs, operations, parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "as_mapping",
    "deref",
    "iter_local_refs",
    "iter_operations",
    "operation_parameters",
    "plain_json",
    "resolve_pointer",
    "template_parameters",
]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE_PARAMETER = re.compile(r"\{([^{}]*)\}")
_EMPTY: Mapping[str, Any] = {}


def as_mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one: documents may be malformed."""
    return value if isinstance(value, Mapping) else _EMPTY


def plain_json(doc: object) -> dict[str, Any]:
    """``doc`` as JSON would carry it: YAML's ``200:`` keys become ``"200"``, dates strings.

    Anything but a mapping (an empty YAML file loads as None) is an empty document.
    """
    if not isinstance(doc, Mapping):
        return {}
    plain: dict[str, Any] = json.loads(json.dumps(doc, default=str))
    return plain


def resolve_pointer(doc: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    """The mapping a local ``#/a/b`` reference points at, or None if it points nowhere."""
    if not ref.startswith("#/"):
        return None
    node: object = doc
    for raw in ref[2:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or token not in node:
            return None
        node = node[token]
    return node if isinstance(node, Mapping) else None


def deref(doc: Mapping[str, Any], node: object) -> tuple[Mapping[str, Any], str | None]:
    """Follow a chain of ``$ref`` from ``node``: the target and the last ref followed.

    A dangling or circular chain resolves to an empty mapping.
    """
    current, last_ref, seen = as_mapping(node), None, set[str]()
    while isinstance(ref := current.get("$ref"), str):
        if ref in seen:
            return _EMPTY, ref
        seen.add(ref)
        last_ref = ref
        current = resolve_pointer(doc, ref) or _EMPTY
    return current, last_ref


def iter_local_refs(
    node: object, location: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every ``$ref`` string in the document with the key path where it occurs."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield location, ref
        for key, value in node.items():
            if key != "$ref":
                yield from iter_local_refs(value, (*location, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from iter_local_refs(item, (*location, str(index)))


@dataclass(frozen=True, kw_only=True)
class Operation:
    """One method on one path, with the path item it belongs to."""

    method: str
    path: str
    body: Mapping[str, Any]
    path_item: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def iter_operations(doc: Mapping[str, Any]) -> Iterator[Operation]:
    """The operations of ``doc`` in document order (path items may be refs)."""
    for path, raw_item in as_mapping(doc.get("paths")).items():
        item, _ = deref(doc, raw_item)
        for method in HTTP_METHODS:
            if isinstance(body := item.get(method), Mapping):
                yield Operation(method=method, path=str(path), body=body, path_item=item)


def template_parameters(path: str) -> list[str]:
    """Names of the ``{...}`` parameters of a path template, in order."""
    return _TEMPLATE_PARAMETER.findall(path)


def operation_parameters(
    doc: Mapping[str, Any], operation: Operation
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Resolved parameters keyed by ``(in, name)``; operation-level ones override path-level."""
    merged: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw_list in (operation.path_item.get("parameters"), operation.body.get("parameters")):
        for raw in raw_list if isinstance(raw_list, list) else []:
            parameter, _ = deref(doc, raw)
            merged[(str(parameter.get("in")), str(parameter.get("name")))] = parameter
    return merged
