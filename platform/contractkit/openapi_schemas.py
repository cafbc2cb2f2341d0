"""One JSON schema (OpenAPI 3.0 dialect) as the schema diff reads it.

A schema's ``allOf`` parts are merged into it; its properties are those that travel in one
direction (no ``readOnly`` ones in a request, no ``writeOnly`` ones in a response); the
named schema(s) it stands for identify it when recursion must end; its ``oneOf`` and
``anyOf`` alternatives are keyed by the schema they refer to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from contractkit.openapi_model import as_mapping, deref

__all__ = [
    "REQUEST",
    "RESPONSE",
    "Direction",
    "flatten_all_of",
    "required_names",
    "schema_identity",
    "schema_type",
    "variants_by_key",
    "visible_properties",
]

Direction = Literal["request", "response"]
REQUEST: Direction = "request"
RESPONSE: Direction = "response"


def visible_properties(
    doc: Mapping[str, Any], schema: object, direction: Direction
) -> dict[str, Any]:
    """Properties of ``schema`` that travel in ``direction`` (no readOnly in requests...)."""
    flat = flatten_all_of(doc, deref(doc, schema)[0], frozenset())
    hidden = "readOnly" if direction == REQUEST else "writeOnly"
    return {
        str(name): raw
        for name, raw in as_mapping(flat.get("properties")).items()
        if not (as_mapping(raw).get(hidden) or deref(doc, raw)[0].get(hidden))
    }


def flatten_all_of(
    doc: Mapping[str, Any], schema: Mapping[str, Any], seen: frozenset[str]
) -> Mapping[str, Any]:
    """``schema`` with its ``allOf`` parts merged in: properties and required lists united."""
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return schema
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    properties = dict(as_mapping(schema.get("properties")))
    required = list(required_names(schema))
    for raw in parts:
        part, ref = deref(doc, raw)
        if ref not in seen:
            part = flatten_all_of(doc, part, seen | {ref} if ref else seen)
            properties = {**as_mapping(part.get("properties")), **properties}
            required += required_names(part)
            merged = {**part, **merged}
    if properties:  # an allOf of untyped parts is no more an object than its parts say
        merged["properties"] = properties
    return {**merged, "required": required}


def schema_identity(doc: Mapping[str, Any], raw: object) -> str | None:
    """The named schema(s) ``raw`` stands for: its ref, or the refs an allOf wrapper merges.

    Generators wrap a ``$ref`` in ``allOf`` to annotate it (siblings of a 3.0 ``$ref`` are
    ignored), so recursion through such a wrapper must be recognised as well.
    """
    schema, ref = deref(doc, raw)
    if ref is not None:
        return ref
    parts = schema.get("allOf")
    refs = (
        [str(as_mapping(part).get("$ref")) for part in parts if "$ref" in as_mapping(part)]
        if isinstance(parts, list)
        else []
    )
    return " & ".join(refs) or None


def required_names(schema: Mapping[str, Any]) -> list[str]:
    """The names in the schema's ``required`` list (none if it has no list)."""
    required = schema.get("required")
    return [str(name) for name in required] if isinstance(required, list) else []


def schema_type(schema: Mapping[str, Any]) -> str | None:
    """The declared type; ``object`` for an untyped schema with properties; else None."""
    declared = schema.get("type")
    if declared is None and "properties" in schema:
        return "object"
    return None if declared is None else str(declared)


def variants_by_key(schema: Mapping[str, Any], keyword: str) -> dict[str, Any]:
    """Alternatives keyed by the schema they refer to, else by position."""
    raw = schema.get(keyword)
    variants: Iterator[tuple[int, Any]] = enumerate(raw if isinstance(raw, list) else [])
    return {_variant_key(index, item): item for index, item in variants}


def _variant_key(index: int, item: object) -> str:
    ref = as_mapping(item).get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else f"#{index}"
