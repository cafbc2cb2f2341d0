"""The schema of one field: its type in proto3 JSON, its rules, behaviours and default.

`google.api.field_behavior`: OUTPUT_ONLY is `readOnly`, INPUT_ONLY is `writeOnly`,
REQUIRED puts the field in its message's `required`, IMMUTABLE is a sentence. IDENTIFIER
is deliberately left plain: the identifier is read-only on create but is what an update
names the resource by, and `readOnly` would tell clients to leave it out of that body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from google.protobuf.descriptor import FieldDescriptor

from contractkit.openapigen.comments import join_text
from contractkit.openapigen.constraints import (
    common_notes,
    map_constraints,
    repeated_constraints,
    required_constraints,
    value_constraints,
    zero_admitted,
)
from contractkit.openapigen.keywords import Constraints, code_list, merge_keywords
from contractkit.openapigen.types import (
    STRING_INTEGER_TYPES,
    Schema,
    enum_of,
    message_of,
    scalar_schema,
)

if TYPE_CHECKING:
    from contractkit.openapigen.schemas import Schemas

__all__ = ["FieldParts", "FieldSchemas", "decorate", "is_map"]


@dataclass(frozen=True, kw_only=True)
class FieldParts:
    """A field's schema (without description) and what goes around it."""

    field: FieldDescriptor
    schema: Schema
    description: str
    required: bool
    behaviors: frozenset[str]
    default: Any | None


def is_map(field: FieldDescriptor) -> bool:
    """True for a map field (a repeated field of a synthetic map-entry message)."""
    return (
        field.is_repeated
        and field.message_type is not None
        and field.message_type.GetOptions().map_entry
    )


def decorate(schema: Schema, extras: Schema) -> Schema:
    """`schema` with `extras` (description, readOnly, default, ...) added: the description
    first, the others after the schema's own keywords. Keywords next to a `$ref` are
    ignored in OpenAPI 3.0, so a `$ref` is wrapped in `allOf` first."""
    extras = {key: value for key, value in extras.items() if value is not None and value != ""}
    if not extras:
        return schema
    body = {"allOf": [schema]} if "$ref" in schema else schema
    head = {"description": extras.pop("description")} if "description" in extras else {}
    return {**head, **{k: v for k, v in body.items() if k not in extras}, **extras}


class FieldSchemas:
    """Schemas of fields, sharing the component registry of `Schemas`."""

    def __init__(self, schemas: Schemas) -> None:
        self.schemas = schemas
        self.annotations = schemas.annotations

    def parts(self, field: FieldDescriptor) -> FieldParts:
        """The field's schema with every rule applied, and its description."""
        rules = self.annotations.rules(field)
        if is_map(field):
            schema, notes = self._map(field, rules)
        elif field.is_repeated:
            schema, notes = self._array(field, rules)
        else:
            schema, notes = self._value(field, rules)
        required = bool(rules is not None and rules.required)
        if required:
            schema = self._require(field, schema)
        behaviors = self.annotations.behaviors(field)
        type_note = str(schema.pop("description", "")) if "$ref" not in schema else ""
        if rules is not None:
            notes += common_notes(rules, constrained=bool(notes or _constrained(schema)))
        owner = field.containing_type
        if owner is None or owner.full_name not in self.schemas.response_messages:
            schema = zero_admitted(schema, field, rules)
        description = join_text(
            self.schemas.comments.get(field.full_name),
            type_note,
            self._oneof_note(field),
            *self._behavior_notes(behaviors),
            *notes,
        )
        return FieldParts(
            field=field,
            schema=schema,
            description=description,
            required=required or "REQUIRED" in behaviors,
            behaviors=behaviors,
            default=self._default(field),
        )

    def property_schema(self, parts: FieldParts) -> Schema:
        """The schema of the field as a property of its message's schema."""
        return decorate(
            parts.schema,
            {
                "description": parts.description,
                "readOnly": True if "OUTPUT_ONLY" in parts.behaviors else None,
                "writeOnly": True if "INPUT_ONLY" in parts.behaviors else None,
                "default": parts.default,
                "deprecated": True if parts.field.GetOptions().deprecated else None,
            },
        )

    def _value(self, field: FieldDescriptor, rules: Any | None) -> tuple[Schema, list[str]]:
        """One value of the field (the field, or one item or map value of it)."""
        if field.type == FieldDescriptor.TYPE_ENUM:
            base = self.schemas.enum(enum_of(field))
        elif field.message_type is not None:
            base = self.schemas.message(field.message_type)
        else:
            base = scalar_schema(field.type)
        found = value_constraints(rules, field) if rules is not None else Constraints()
        return _constrain(base, field, found.keywords), found.notes

    def _array(self, field: FieldDescriptor, rules: Any | None) -> tuple[Schema, list[str]]:
        repeated = _kind_rules(rules, "repeated")
        item_rules = repeated.items if repeated is not None and repeated.HasField("items") else None
        items, item_notes = self._value(field, item_rules)
        schema: Schema = {"type": "array", "items": items}
        notes = [_each("item", note) for note in item_notes]
        if repeated is not None:
            merge_keywords(schema, repeated_constraints(repeated).keywords)
        return schema, notes

    def _map(self, field: FieldDescriptor, rules: Any | None) -> tuple[Schema, list[str]]:
        entry = message_of(field).fields_by_name
        key, value = entry["key"], entry["value"]
        map_rules = _kind_rules(rules, "map")
        value_rules = None
        if map_rules is not None and map_rules.HasField("values"):
            value_rules = map_rules.values
        values, value_notes = self._value(value, value_rules)
        schema: Schema = {"type": "object", "additionalProperties": values}
        notes = [_key_note(key)] if key.type != FieldDescriptor.TYPE_STRING else []
        notes += [_each("value", note) for note in value_notes]
        if map_rules is not None:
            found = map_constraints(map_rules, key)
            merge_keywords(schema, found.keywords)
            notes += found.notes
        return schema, notes

    def _require(self, field: FieldDescriptor, schema: Schema) -> Schema:
        """`required` on a field without presence also rules out its zero value; a keyword
        that the field's rules already state wins."""
        extra = required_constraints(field).keywords
        missing = {k: v for k, v in extra.items() if k not in schema}
        return _constrain(schema, field, missing) if missing else schema

    def _oneof_note(self, field: FieldDescriptor) -> str:
        oneof = field.containing_oneof
        if oneof is None or _synthetic(oneof):
            return ""
        names = [member.json_name for member in oneof.fields]
        return f"Member of the oneof `{oneof.name}`: at most one of {code_list(names)} is set."

    @staticmethod
    def _behavior_notes(behaviors: frozenset[str]) -> list[str]:
        return ["Cannot be changed once set."] if "IMMUTABLE" in behaviors else []

    def _default(self, field: FieldDescriptor) -> Any | None:
        found = self.annotations.default(field)
        kind = found.WhichOneof("value") if found is not None else None
        if kind is None:
            return None
        value = getattr(found, kind)
        if field.type in STRING_INTEGER_TYPES:
            return str(value)
        if field.type == FieldDescriptor.TYPE_ENUM and isinstance(value, int):
            named = enum_of(field).values_by_number.get(value)
            return named.name if named is not None else value
        return value


def _kind_rules(rules: Any | None, kind: str) -> Any | None:
    """The `kind` rules (`repeated`, `map`) of a FieldRules, when that is its kind."""
    if rules is None or rules.WhichOneof("type") != kind:
        return None
    return getattr(rules, kind)


def _constrain(base: Schema, field: FieldDescriptor, keywords: Schema) -> Schema:
    """`base` with constraint keywords. A narrowed enum is inlined (the shared component
    cannot change); other keywords on a `$ref` go next to it in an `allOf`."""
    if not keywords:
        return base
    if "$ref" in base:
        if field.type == FieldDescriptor.TYPE_ENUM and "enum" in keywords:
            return {"type": "string", **keywords}
        return {"allOf": [base], **keywords}
    return merge_keywords(base, keywords)


def _constrained(schema: Schema) -> bool:
    return any(
        key in schema
        for key in (
            "minLength",
            "maxLength",
            "pattern",
            "format",
            "enum",
            "minimum",
            "maximum",
            "not",
            "allOf",
        )
    )


def _each(what: str, note: str) -> str:
    return f"Each {what}: {note[:1].lower()}{note[1:]}"


def _key_note(key: FieldDescriptor) -> str:
    if key.type == FieldDescriptor.TYPE_BOOL:
        return "Each key is `true` or `false`."
    return "Each key is an integer, written as a string."


def _synthetic(oneof: Any) -> bool:
    """True for the oneof protoc makes up for a proto3 `optional` field."""
    fields = oneof.fields
    return len(fields) == 1 and oneof.name == f"_{fields[0].name}"
