"""Compare two versions of one JSON schema (OpenAPI 3.0 dialect) for changes that break clients.

Direction matters. In a *request* the client writes and the new server validates: a schema
that accepts less (a new required property, a removed property, a tighter bound) breaks. In
a *response* the new server writes and the old client reads: a schema that may send
something the client never saw (a removed property, another type, null) breaks. Removed enum
values are reported in both directions. Local ``$ref``s are followed; a pair of recursive
schemas is compared once per pair of refs, so recursion ends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from contractkit.openapi_constraints import tightened_constraints
from contractkit.openapi_model import as_mapping, deref

__all__ = ["REQUEST", "RESPONSE", "Change", "Direction", "diff_schemas", "visible_properties"]

Direction = Literal["request", "response"]
REQUEST: Direction = "request"
RESPONSE: Direction = "response"
_MAX_DEPTH = 64  # belt and braces: schemas nested deeper are not compared


@dataclass(frozen=True)
class Change:
    """One breaking change at ``path`` (a JSON path like ``user.emails[]``; '' is the root)."""

    rule: str
    path: str
    message: str


def diff_schemas(
    base_doc: Mapping[str, Any],
    base: object,
    head_doc: Mapping[str, Any],
    head: object,
    *,
    direction: Direction,
) -> list[Change]:
    """The breaking changes from schema ``base`` (in ``base_doc``) to ``head`` (in ``head_doc``)."""
    walk = _Walk(base_doc, head_doc, direction)
    walk.compare(base, head, "")
    return walk.changes


def visible_properties(
    doc: Mapping[str, Any], schema: object, direction: Direction
) -> dict[str, Any]:
    """Properties of ``schema`` that travel in ``direction`` (no readOnly in requests...)."""
    flat = _flatten(doc, deref(doc, schema)[0], frozenset())
    hidden = "readOnly" if direction == REQUEST else "writeOnly"
    return {
        str(name): raw
        for name, raw in as_mapping(flat.get("properties")).items()
        if not (as_mapping(raw).get(hidden) or deref(doc, raw)[0].get(hidden))
    }


def _flatten(
    doc: Mapping[str, Any], schema: Mapping[str, Any], seen: frozenset[str]
) -> Mapping[str, Any]:
    """``schema`` with its ``allOf`` parts merged in: properties and required lists united."""
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return schema
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    properties = dict(as_mapping(schema.get("properties")))
    required = list(_required(schema))
    for raw in parts:
        part, ref = deref(doc, raw)
        if ref not in seen:
            part = _flatten(doc, part, seen | {ref} if ref else seen)
            properties = {**as_mapping(part.get("properties")), **properties}
            required += _required(part)
            merged = {**part, **merged}
    if properties:  # an allOf of untyped parts is no more an object than its parts say
        merged["properties"] = properties
    return {**merged, "required": required}


def _identity(doc: Mapping[str, Any], raw: object) -> str | None:
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


def _required(schema: Mapping[str, Any]) -> list[str]:
    required = schema.get("required")
    return [str(name) for name in required] if isinstance(required, list) else []


def _type(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if declared is None and "properties" in schema:
        return "object"
    return None if declared is None else str(declared)


def _at(path: str, text: str) -> str:
    return f"property '{path}' {text}" if path else text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Walk:
    """One comparison: both documents, the direction, the refs being compared, the result."""

    def __init__(
        self, base_doc: Mapping[str, Any], head_doc: Mapping[str, Any], direction: Direction
    ) -> None:
        self.base_doc, self.head_doc, self.direction = base_doc, head_doc, direction
        self.changes: list[Change] = []
        self._active: list[tuple[str | None, str | None]] = []

    def add(self, rule: str, path: str, text: str) -> None:
        self.changes.append(Change(rule, path, _at(path, text)))

    def compare(self, base_raw: object, head_raw: object, path: str) -> None:
        base, head = deref(self.base_doc, base_raw)[0], deref(self.head_doc, head_raw)[0]
        pair = (_identity(self.base_doc, base_raw), _identity(self.head_doc, head_raw))
        if (pair != (None, None) and pair in self._active) or len(self._active) > _MAX_DEPTH:
            return
        self._active.append(pair)
        try:
            self._compare(
                _flatten(self.base_doc, base, frozenset()),
                _flatten(self.head_doc, head, frozenset()),
                path,
            )
        finally:
            self._active.pop()

    def _compare(self, base: Mapping[str, Any], head: Mapping[str, Any], path: str) -> None:
        if self._type_changed(base, head, path):
            return
        self._enum(base, head, path)
        self._nullable(base, head, path)
        if self.direction == REQUEST:
            for text in tightened_constraints(base, head):
                self.add("CONSTRAINT_TIGHTENED", path, text)
        self._properties(base, head, path)
        self._children(base, head, path)
        self._variants(base, head, path)

    def _narrower(self, base_value: object, head_value: object) -> bool:
        """A changed keyword that makes the schema say more than before, for this direction."""
        if base_value == head_value:
            return False
        return (head_value if self.direction == REQUEST else base_value) is not None

    def _type_changed(self, base: Mapping[str, Any], head: Mapping[str, Any], path: str) -> bool:
        base_type, head_type = _type(base), _type(head)
        if self._narrower(base_type, head_type):
            self.add(
                "TYPE_CHANGED",
                path,
                f"type changed from {base_type or 'any'} to {head_type or 'any'}",
            )
            return True
        base_format, head_format = base.get("format"), head.get("format")
        if self._narrower(base_format, head_format):
            self.add(
                "FORMAT_CHANGED",
                path,
                f"format changed from {base_format or 'none'} to {head_format or 'none'}",
            )
        return False

    def _enum(self, base: Mapping[str, Any], head: Mapping[str, Any], path: str) -> None:
        base_enum, head_enum = base.get("enum"), head.get("enum")
        if not isinstance(head_enum, list):
            return
        if isinstance(base_enum, list):
            removed = [value for value in base_enum if value not in head_enum]
            if removed:
                values = ", ".join(repr(value) for value in removed)
                noun = "value" if len(removed) == 1 else "values"
                self.add("ENUM_VALUE_REMOVED", path, f"enum {noun} {values} removed")
        elif self.direction == REQUEST:
            self.add("CONSTRAINT_TIGHTENED", path, "enum restriction added")

    def _nullable(self, base: Mapping[str, Any], head: Mapping[str, Any], path: str) -> None:
        base_null, head_null = bool(base.get("nullable")), bool(head.get("nullable"))
        if self.direction == REQUEST and base_null and not head_null:
            self.add("NULLABLE_CHANGED", path, "no longer accepts null")
        if self.direction == RESPONSE and head_null and not base_null:
            self.add("NULLABLE_CHANGED", path, "may now be null")

    def _properties(self, base: Mapping[str, Any], head: Mapping[str, Any], path: str) -> None:
        base_props = visible_properties(self.base_doc, base, self.direction)
        head_props = visible_properties(self.head_doc, head, self.direction)
        for name in base_props.keys() - head_props.keys():
            self._removed(head, path, name)
        for name, raw in head_props.items():
            self._required(base, head, path, name, known=name in base_props)
            if name in base_props:
                self.compare(base_props[name], raw, _join(path, name))

    def _removed(self, head: Mapping[str, Any], path: str, name: str) -> None:
        if self.direction == RESPONSE:
            self.add("RESPONSE_PROPERTY_REMOVED", _join(path, name), "removed")
        elif name in as_mapping(head.get("properties")):
            self.add("REQUEST_PROPERTY_REMOVED", _join(path, name), "is now read-only")
        else:
            self.add("REQUEST_PROPERTY_REMOVED", _join(path, name), "removed")

    def _required(
        self, base: Mapping[str, Any], head: Mapping[str, Any], path: str, name: str, *, known: bool
    ) -> None:
        path, was = _join(path, name), known and name in _required(base)
        now = name in _required(head)
        if self.direction == REQUEST and now and not was:
            self.add(
                "REQUEST_PROPERTY_REQUIRED",
                path,
                "became required" if known else "added as required",
            )
        if self.direction == RESPONSE and was and not now:
            self.add("RESPONSE_PROPERTY_OPTIONAL", path, "is no longer required")

    def _children(self, base: Mapping[str, Any], head: Mapping[str, Any], path: str) -> None:
        if "items" in base and "items" in head:
            self.compare(base["items"], head["items"], f"{path}[]")
        base_extra, head_extra = base.get("additionalProperties"), head.get("additionalProperties")
        if isinstance(base_extra, Mapping) and isinstance(head_extra, Mapping):
            self.compare(base_extra, head_extra, _join(path, "*"))

    def _variants(self, base: Mapping[str, Any], head: Mapping[str, Any], path: str) -> None:
        for keyword in ("oneOf", "anyOf"):
            base_variants, head_variants = _variants(base, keyword), _variants(head, keyword)
            for key, raw in base_variants.items():
                if key in head_variants:
                    self.compare(raw, head_variants[key], path)
                elif head_variants and self.direction == REQUEST:
                    self.add("VARIANT_REMOVED", path, f"{keyword} variant '{key}' removed")


def _variants(schema: Mapping[str, Any], keyword: str) -> dict[str, Any]:
    """Alternatives keyed by the schema they refer to, else by position."""
    raw = schema.get(keyword)
    variants: Iterator[tuple[int, Any]] = enumerate(raw if isinstance(raw, list) else [])
    return {_variant_key(index, item): item for index, item in variants}


def _variant_key(index: int, item: object) -> str:
    ref = as_mapping(item).get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else f"#{index}"
