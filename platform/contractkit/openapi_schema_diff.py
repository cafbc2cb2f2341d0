"""Compare two versions of one JSON schema (OpenAPI 3.0 dialect) for changes that break clients.

Direction matters. In a *request* the client writes and the new server validates: a schema
that accepts less (a new required property, a removed property, a tighter bound) breaks. In
a *response* the new server writes and the old client reads: a schema that may send
something the client never saw (a removed property, another type, null) breaks. Removed enum
values are reported in both directions. Local ``$ref``s are followed; a pair of recursive
schemas is compared once per pair of refs, so recursion ends.

How one schema is read (allOf merged, properties by direction) is in
:mod:`contractkit.openapi_schemas`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contractkit.openapi_constraints import tightened_constraints
from contractkit.openapi_model import as_mapping, deref
from contractkit.openapi_schemas import (
    REQUEST,
    RESPONSE,
    Direction,
    flatten_all_of,
    required_names,
    schema_identity,
    schema_type,
    variants_by_key,
    visible_properties,
)

__all__ = ["Change", "diff_schemas"]

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
        pair = (schema_identity(self.base_doc, base_raw), schema_identity(self.head_doc, head_raw))
        if (pair != (None, None) and pair in self._active) or len(self._active) > _MAX_DEPTH:
            return
        self._active.append(pair)
        try:
            self._compare(
                flatten_all_of(self.base_doc, base, frozenset()),
                flatten_all_of(self.head_doc, head, frozenset()),
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
        base_type, head_type = schema_type(base), schema_type(head)
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
        path, was = _join(path, name), known and name in required_names(base)
        now = name in required_names(head)
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
            base_variants, head_variants = (
                variants_by_key(base, keyword),
                variants_by_key(head, keyword),
            )
            for key, raw in base_variants.items():
                if key in head_variants:
                    self.compare(raw, head_variants[key], path)
                elif head_variants and self.direction == REQUEST:
                    self.add("VARIANT_REMOVED", path, f"{keyword} variant '{key}' removed")
