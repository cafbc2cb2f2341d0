"""`buf.validate` field rules as JSON Schema (OpenAPI 3.0) constraints.

Each rule that JSON Schema can state becomes a keyword (`minLength`, `minimum` with the
3.0 boolean `exclusiveMinimum`, `enum`, `not: {enum}`, ...); every other rule becomes a
sentence of the field's description, so no rule is silently dropped. A field whose rules
skip its zero value (IGNORE_IF_ZERO_VALUE) admits it beside the constrained values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from jsonschema import Draft4Validator  # type: ignore[import-untyped, unused-ignore]

from contractkit.openapigen.keywords import Constraints, code, merge_keywords
from contractkit.openapigen.stringrules import bytes_constraints, string_constraints
from contractkit.openapigen.timerules import (
    any_constraints,
    bound_note,
    duration_constraints,
    field_mask_constraints,
    timestamp_constraints,
)
from contractkit.openapigen.types import STRING_INTEGER_TYPES, Schema, enum_of

ZERO_VALUE_NOTE = "The zero value (empty) is accepted as well: the rules skip it."

__all__ = [
    "ZERO_VALUE_NOTE",
    "common_notes",
    "map_constraints",
    "repeated_constraints",
    "required_constraints",
    "value_constraints",
    "zero_admitted",
]

_NUMBERS = frozenset({"float", "double", "int32", "uint32", "sint32", "fixed32", "sfixed32"})
_STRING_INTEGERS = frozenset({"int64", "uint64", "sint64", "fixed64", "sfixed64"})
_IGNORE_IF_ZERO_VALUE = 1
_Handler = Callable[[Any], Constraints]
_HANDLERS: dict[str, _Handler] = {
    "string": string_constraints,
    "bytes": bytes_constraints,
    "duration": duration_constraints,
    "timestamp": timestamp_constraints,
    "field_mask": field_mask_constraints,
    "any": any_constraints,
}


def value_constraints(rules: Any, field: FieldDescriptor) -> Constraints:
    """The constraints a FieldRules puts on one value of `field` (the field itself, or one
    item or map value of it: the collection rules are handled by the caller)."""
    kind = rules.WhichOneof("type")
    if kind is None or kind in ("repeated", "map"):
        return Constraints()
    kind_rules = getattr(rules, kind)
    if kind in _NUMBERS:
        return _number_constraints(kind_rules)
    if kind in _STRING_INTEGERS:
        return _string_integer_constraints(kind_rules)
    if kind == "bool":
        return _bool_constraints(kind_rules)
    if kind == "enum":
        return _enum_constraints(kind_rules, field)
    return _HANDLERS[kind](kind_rules)


def common_notes(rules: Any, *, constrained: bool) -> list[str]:
    """Notes of the rules that apply to any field: CEL expressions, and IGNORE_IF_ZERO_VALUE
    (worth saying only when the field is `constrained` by other rules)."""
    notes = [
        f"Must satisfy rule {code(rule.id)}: {rule.message}."
        if rule.message
        else f"Must satisfy {code(rule.expression)}."
        for rule in rules.cel
    ]
    notes += [f"Must satisfy {code(expression)}." for expression in rules.cel_expression]
    if constrained and rules.ignore == _IGNORE_IF_ZERO_VALUE:
        notes.append(ZERO_VALUE_NOTE)
    return notes


def _number_constraints(rules: Any) -> Constraints:
    out = Constraints(keywords=_bounds(rules))
    if not out.keywords and bound_note(rules, code):
        out.keywords["not"] = _excluded_range(rules)
        out.notes.append(bound_note(rules, code))
    _choices(rules, out, convert=lambda value: value)
    if getattr(rules, "finite", False):
        out.notes.append("Must be finite (not NaN nor an infinity).")
    return out


def _bounds(rules: Any) -> dict[str, Any]:
    """minimum/maximum of the bounds of `rules`, or {} when they exclude a range."""
    lower, upper = rules.WhichOneof("greater_than"), rules.WhichOneof("less_than")
    if lower and upper and getattr(rules, upper) < getattr(rules, lower):
        return {}
    keywords: dict[str, Any] = {}
    if lower:
        keywords["minimum"] = getattr(rules, lower)
        if lower == "gt":
            keywords["exclusiveMinimum"] = True
    if upper:
        keywords["maximum"] = getattr(rules, upper)
        if upper == "lt":
            keywords["exclusiveMaximum"] = True
    return keywords


def _excluded_range(rules: Any) -> dict[str, Any]:
    """`not` of the range that `lt` below `gt` (or their inclusive forms) excludes."""
    lower, upper = rules.WhichOneof("greater_than"), rules.WhichOneof("less_than")
    excluded: dict[str, Any] = {"minimum": getattr(rules, upper)}
    if upper == "lte":
        excluded["exclusiveMinimum"] = True
    excluded["maximum"] = getattr(rules, lower)
    if lower == "gte":
        excluded["exclusiveMaximum"] = True
    return excluded


def _choices(rules: Any, out: Constraints, convert: Callable[[Any], Any]) -> None:
    if rules.HasField("const"):
        out.keywords["enum"] = [convert(rules.const)]
    if getattr(rules, "in"):
        out.keywords["enum"] = [convert(value) for value in getattr(rules, "in")]
    if rules.not_in:
        merge_keywords(out.keywords, {"not": {"enum": [convert(v) for v in rules.not_in]}})
    if rules.example:
        out.keywords["example"] = convert(rules.example[0])


def _string_integer_constraints(rules: Any) -> Constraints:
    """64-bit integers are JSON strings: bounds in words, choices as strings."""
    out = Constraints()
    note = bound_note(rules, code)
    if note:
        out.notes.append(note)
    _choices(rules, out, convert=str)
    return out


def _bool_constraints(rules: Any) -> Constraints:
    out = Constraints()
    if rules.HasField("const"):
        out.keywords["enum"] = [rules.const]
    if rules.example:
        out.keywords["example"] = rules.example[0]
    return out


def _enum_constraints(rules: Any, field: FieldDescriptor) -> Constraints:
    """The enum's value names narrowed by `const`, `in` and `not_in` (as an `enum` keyword
    only when narrower than the enum itself)."""
    enum = enum_of(field)
    values = enum.values
    numbers = [value.number for value in values]
    if rules.HasField("const"):
        numbers = [rules.const]
    if getattr(rules, "in"):
        numbers = [n for n in numbers if n in getattr(rules, "in")]
    numbers = [n for n in numbers if n not in rules.not_in]
    names = [value.name for value in values if value.number in numbers]
    out = Constraints()
    if len(names) < len(values):
        out.keywords["enum"] = names
    if rules.example and rules.example[0] in enum.values_by_number:
        out.keywords["example"] = enum.values_by_number[rules.example[0]].name
    return out


def repeated_constraints(rules: Any) -> Constraints:
    """minItems, maxItems and uniqueItems of a RepeatedRules."""
    out = Constraints()
    if rules.HasField("min_items"):
        out.keywords["minItems"] = rules.min_items
    if rules.HasField("max_items"):
        out.keywords["maxItems"] = rules.max_items
    if rules.unique:
        out.keywords["uniqueItems"] = True
    return out


def map_constraints(rules: Any, key_field: FieldDescriptor) -> Constraints:
    """minProperties and maxProperties of a MapRules; key rules in words (OpenAPI 3.0 has
    no `propertyNames`)."""
    out = Constraints()
    if rules.HasField("min_pairs"):
        out.keywords["minProperties"] = rules.min_pairs
    if rules.HasField("max_pairs"):
        out.keywords["maxProperties"] = rules.max_pairs
    if rules.HasField("keys"):
        keys = value_constraints(rules.keys, key_field)
        stated = [f"{name} {value}" for name, value in keys.keywords.items()]
        if stated:
            out.notes.append(f"Each key: {', '.join(stated)}.")
        out.notes += [f"Each key: {note[:1].lower()}{note[1:]}" for note in keys.notes]
    return out


def zero_admitted(schema: Schema, field: FieldDescriptor, rules: Any | None) -> Schema:
    """`schema` admitting the zero value too when the rules skip it (IGNORE_IF_ZERO_VALUE on
    a scalar without presence) and the schema's constraints would refuse it: `anyOf` the
    constrained values and the zero value (`""`, `"0"`, `false`, `0`), as tools that generate
    requests from the document must know; the type stays beside the `anyOf`. A string's
    one refusing constraint becomes a `pattern` that admits `""` instead, where it can. A
    `format` is taken to refuse the zero value.
    (The caller keeps the schemas of messages that responses carry as they are: there a
    field's constraints say what the server sends.)"""
    if (
        rules is None
        or rules.ignore != _IGNORE_IF_ZERO_VALUE
        or field.is_repeated
        or field.has_presence
        or field.message_type is not None
        or field.type == FieldDescriptor.TYPE_ENUM
    ):
        return schema
    zero = _ZERO_JSON.get(field.type, 0)
    if "format" not in schema and Draft4Validator(schema).is_valid(zero):
        return schema
    folded = _zero_in_pattern(schema) if zero == "" else None
    if folded is not None:
        return folded
    outside = {k: v for k, v in schema.items() if k in _BESIDE_ANY_OF}
    constrained = {k: v for k, v in schema.items() if k not in _BESIDE_ANY_OF}
    return {**outside, "anyOf": [constrained, {"enum": [zero]}]}


def _zero_in_pattern(schema: Schema) -> Schema | None:
    """A string schema whose one constraint that refuses `""` (a format of known pattern,
    `minLength`, `pattern`) becomes a `pattern` admitting `""` too; None if there is no such
    one constraint. Tools read a pattern as a plain string, where an `anyOf` becomes a type of
    its own (openapi-generator's Java) or an enum of the empty string."""
    refusing = [
        key
        for key in ("format", "minLength", "pattern")
        if key in schema and not (key == "minLength" and schema[key] == 0)
    ]
    if len(refusing) != 1:
        return None
    key = refusing[0]
    if key == "format":
        known = _FORMAT_PATTERNS.get(str(schema["format"]))
        if known is None:
            return None
        alternative = f"^{known}$"
    elif key == "minLength":
        alternative = f"^[\\s\\S]{{{schema['minLength']},}}$"
    else:
        alternative = f"(?:{schema['pattern']})"
    rest = {k: v for k, v in schema.items() if k != key}
    return {**rest, "pattern": f"^$|{alternative}"}


# The patterns of the formats protovalidate's string rules check (exactly theirs).
_FORMAT_PATTERNS = {
    "uuid": "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
}

# What stays beside the `anyOf`: the type (a query parameter's is read there, to parse it)
# and what documents the value as a whole.
_BESIDE_ANY_OF = frozenset({"type", "description", "example", "default", "nullable"})


_ZERO_JSON: dict[int, Any] = {
    FieldDescriptor.TYPE_STRING: "",
    FieldDescriptor.TYPE_BYTES: "",
    FieldDescriptor.TYPE_BOOL: False,
    **dict.fromkeys(STRING_INTEGER_TYPES, "0"),
}


def required_constraints(field: FieldDescriptor) -> Constraints:
    """What `required` adds to a field without presence: not its zero value."""
    if field.is_repeated:
        is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
        return Constraints(keywords={"minProperties" if is_map else "minItems": 1})
    if field.has_presence:
        return Constraints()
    if field.type == FieldDescriptor.TYPE_ENUM:
        names = [v.name for v in enum_of(field).values if v.number != 0]
        return Constraints(keywords={"enum": names})
    return Constraints(keywords=dict(_NOT_ZERO.get(field.type, {"not": {"enum": [0]}})))


_NOT_ZERO: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_STRING: {"minLength": 1},
    FieldDescriptor.TYPE_BYTES: {"minLength": 1},
    FieldDescriptor.TYPE_BOOL: {"enum": [True]},
    **{t: {"not": {"enum": ["0"]}} for t in STRING_INTEGER_TYPES},
}
