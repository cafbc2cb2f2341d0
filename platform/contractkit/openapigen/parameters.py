"""Path and query parameters of an operation, from the fields of its request message.

Path parameters are named by identifiers (`pathtemplate.parameter_names`) and carry the
field path they fill in `x-acme-field-path`, which the gateway reads.
Query parameters use proto3 JSON names; non-repeated message fields expand into dotted
names (`filter.years.from`), stopping at a message already being expanded. Maps, repeated
messages, OUTPUT_ONLY fields and the well-known types without a string form (Struct,
Value, ListValue, Empty, Any) have no query form and are left out.
"""

from __future__ import annotations

import dataclasses

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from contractkit.openapigen.comments import join_text
from contractkit.openapigen.constraints import ZERO_VALUE_NOTE
from contractkit.openapigen.fields import FieldParts, decorate, is_map
from contractkit.openapigen.keywords import code, merge_keywords
from contractkit.openapigen.pathtemplate import PathTemplate, Variable, parameter_names
from contractkit.openapigen.schemas import Schemas
from contractkit.openapigen.types import QUERY_UNSUPPORTED_TYPES, Schema, well_known_schema
from contractkit.plugins._io import PluginError
from contractkit.restface import FIELD_PATH_EXTENSION

__all__ = ["path_parameters", "query_parameters", "resolve_field"]


def resolve_field(message: Descriptor, path: str) -> FieldDescriptor:
    """The field a dotted path of proto field names leads to from `message`."""
    *parents, last = path.split(".")
    for name in parents:
        field = message.fields_by_name.get(name)
        if field is None or field.message_type is None or field.is_repeated:
            raise PluginError(f"{message.full_name} has no message field {name!r} ({path})")
        message = field.message_type
    field = message.fields_by_name.get(last)
    if field is None:
        raise PluginError(f"{message.full_name} has no field {last!r} ({path})")
    return field


def path_parameters(schemas: Schemas, request: Descriptor, template: PathTemplate) -> list[Schema]:
    """One required `in: path` parameter per variable of the template, named as
    `template.named(parameter_names(request, template))` names it."""
    names = parameter_names(request, template)
    return [
        _path_parameter(schemas, request, variable, names[variable.field_path])
        for variable in template.variables
    ]


def _path_parameter(schemas: Schemas, request: Descriptor, variable: Variable, name: str) -> Schema:
    field = resolve_field(request, variable.field_path)
    if field.is_repeated or field.message_type is not None:
        raise PluginError(
            f"path variable {variable.field_path!r} of {request.full_name} "
            "must be a singular scalar or enum field"
        )
    parts = schemas.fields.parts(field)
    # A path segment is never empty: the zero value a field's rules may admit is not one.
    schema, note = _without_zero(parts.schema), ""
    parts = dataclasses.replace(parts, description=_without_zero_note(parts.description))
    if variable.pattern is not None:
        segments = variable.segments or ""
        note = f"The value has the form {code(segments)}, where `*` is one path segment"
        note += " and `**` any number of segments." if "**" in segments else "."
        schema = merge_keywords(schema, {"pattern": variable.pattern})
    parameter = _parameter(name, "path", parts, schema, note, required=True)
    parameter[FIELD_PATH_EXTENSION] = variable.field_path
    return parameter


def _without_zero_note(description: str) -> str:
    """`description` without the note that the zero value is accepted."""
    paragraphs = description.split("\n\n")
    return "\n\n".join(p for p in paragraphs if p != ZERO_VALUE_NOTE)


def _without_zero(schema: Schema) -> Schema:
    """`schema` without the zero value `constraints.zero_admitted` added beside it."""
    if "anyOf" not in schema:
        return schema
    outside = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**outside, **schema["anyOf"][0]}


def query_parameters(schemas: Schemas, request: Descriptor, skip: frozenset[str]) -> list[Schema]:
    """The query parameters of every request field not in `skip` (dotted proto paths of
    the fields bound to the path or the body)."""
    walk = _QueryWalk(schemas, skip)
    walk.message(request, ("", ""), (request.full_name,))
    return walk.found


class _QueryWalk:
    def __init__(self, schemas: Schemas, skip: frozenset[str]) -> None:
        self.schemas, self.skip = schemas, skip
        self.found: list[Schema] = []

    def message(self, message: Descriptor, prefix: tuple[str, str], stack: tuple[str, ...]) -> None:
        for field in message.fields:
            proto_path, json_name = prefix[0] + field.name, prefix[1] + field.json_name
            if proto_path in self.skip or is_map(field) or _output_only(self.schemas, field):
                continue
            nested = field.message_type
            if nested is not None and well_known_schema(nested.full_name) is None:
                if not field.is_repeated and nested.full_name not in stack:
                    self.message(
                        nested, (proto_path + ".", json_name + "."), (*stack, nested.full_name)
                    )
                continue
            if nested is None or nested.full_name not in QUERY_UNSUPPORTED_TYPES:
                self.found.append(self.parameter(field, json_name, nested=bool(prefix[0])))

    def parameter(self, field: FieldDescriptor, name: str, *, nested: bool) -> Schema:
        parts = self.schemas.fields.parts(field)
        schema = decorate(parts.schema, {"default": parts.default})
        # A nested field is required only when its parent is sent: never in the query.
        return _parameter(name, "query", parts, schema, "", required=parts.required and not nested)


def _output_only(schemas: Schemas, field: FieldDescriptor) -> bool:
    return "OUTPUT_ONLY" in schemas.annotations.behaviors(field)


def _parameter(
    name: str, where: str, parts: FieldParts, schema: Schema, note: str, *, required: bool
) -> Schema:
    parameter: Schema = {"name": name, "in": where}
    description = join_text(parts.description, note)
    if description:
        parameter["description"] = description
    if required:
        parameter["required"] = True
    if parts.field.GetOptions().deprecated:
        parameter["deprecated"] = True
    if parts.field.is_repeated:
        parameter.update(style="form", explode=True)
    parameter["schema"] = schema
    return parameter
