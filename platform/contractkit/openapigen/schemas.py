"""Component schemas of messages and enums, in the proto3 JSON mapping.

Messages and enums are components named by their full proto name and referenced with
`$ref`; only those reachable from an operation are emitted. Well-known types and scalars
are inlined. Field-level details (rules, behaviours, defaults) live in `fields`.

A message's object schema is closed (`additionalProperties: false`): the gateway refuses a
field the message does not have (proto3 JSON parsers reject unknown fields), and a tool
that generates requests from the document must know it. A scalar field of a message that
only requests carry admits its zero value beside its constraints when its rules skip it
(IGNORE_IF_ZERO_VALUE); a message that responses carry keeps the constraints alone.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, EnumDescriptor

from contractkit.openapigen.annotations import Annotations
from contractkit.openapigen.comments import Comments, join_text
from contractkit.openapigen.fields import FieldSchemas
from contractkit.openapigen.keywords import code, code_list
from contractkit.openapigen.types import Schema, well_known_schema

__all__ = ["Schemas", "component_ref"]

_PREFIX = "#/components/schemas/"


def component_ref(name: str) -> Schema:
    """A `$ref` to the component schema `name`."""
    return {"$ref": _PREFIX + name}


class Schemas:
    """Builds schemas and collects the components they reference."""

    def __init__(
        self,
        annotations: Annotations,
        comments: Comments,
        response_messages: frozenset[str] = frozenset(),
    ) -> None:
        self.annotations = annotations
        self.comments = comments
        # Messages a response may carry (full names): their fields' schemas state what the
        # server sends, and never admit a zero value beside their constraints.
        self.response_messages = response_messages
        self.fields = FieldSchemas(self)
        self._pending: list[Descriptor | EnumDescriptor] = []
        self._queued: set[str] = set()
        self._built: dict[str, Schema] = {}

    def message(self, message: Descriptor) -> Schema:
        """The schema of a message-typed value: inline for a well-known type, else a
        `$ref` to its component."""
        inline = well_known_schema(message.full_name)
        if inline is not None:
            return inline
        return self._ref(message)

    def enum(self, enum: EnumDescriptor) -> Schema:
        """A `$ref` to an enum's component."""
        return self._ref(enum)

    def _ref(self, element: Descriptor | EnumDescriptor) -> Schema:
        if element.full_name not in self._queued:
            self._queued.add(element.full_name)
            self._pending.append(element)
        return component_ref(element.full_name)

    def object_schema(self, message: Descriptor, exclude: frozenset[str] = frozenset()) -> Schema:
        """The object schema of a message, without the fields named in `exclude`."""
        inline = well_known_schema(message.full_name)
        if inline is not None:
            return inline
        properties: Schema = {}
        required: list[str] = []
        for field in message.fields:
            if field.name in exclude:
                continue
            parts = self.fields.parts(field)
            properties[field.json_name] = self.fields.property_schema(parts)
            if parts.required:
                required.append(field.json_name)
        schema: Schema = {}
        description = join_text(self.comments.get(message.full_name), *self._notes(message))
        if description:
            schema["description"] = description
        schema["type"] = "object"
        if properties:
            schema["properties"] = properties
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        return schema

    def _notes(self, message: Descriptor) -> list[str]:
        """Sentences for the message-level rules: CEL expressions and oneof rules."""
        notes: list[str] = []
        for oneof in message.oneofs:
            rules = self.annotations.oneof_rules(oneof)
            if rules is not None and rules.required:
                names = [field.json_name for field in oneof.fields]
                notes.append(f"Exactly one of {code_list(names)} must be set.")
        rules = self.annotations.message_rules(message)
        if rules is None:
            return notes
        for group in rules.oneof:
            names = [
                message.fields_by_name[n].json_name
                for n in group.fields
                if n in message.fields_by_name
            ]
            quantity, verb = ("Exactly", "must") if group.required else ("At most", "may")
            notes.append(f"{quantity} one of {code_list(names)} {verb} be set.")
        notes += [
            f"Must satisfy rule {code(rule.id)}: {rule.message}."
            if rule.message
            else f"Must satisfy {code(rule.expression)}."
            for rule in rules.cel
        ]
        notes += [f"Must satisfy {code(expr)}." for expr in rules.cel_expression]
        return notes

    def _enum_schema(self, enum: EnumDescriptor) -> Schema:
        lines = [
            f"- {code(value.name)}: {text}"
            for value in enum.values
            if (text := self.comments.get(f"{enum.full_name}.{value.name}"))
        ]
        schema: Schema = {}
        description = join_text(self.comments.get(enum.full_name), "\n".join(lines))
        if description:
            schema["description"] = description
        names = list(dict.fromkeys(value.name for value in enum.values))
        schema.update(type="string", enum=names)
        return schema

    def components(self) -> dict[str, Schema]:
        """Every component referenced so far (and those they reference), sorted by name."""
        while self._pending:
            element = self._pending.pop()
            if isinstance(element, EnumDescriptor):
                self._built[element.full_name] = self._enum_schema(element)
            else:
                self._built[element.full_name] = self.object_schema(element)
        return dict(sorted(self._built.items()))
