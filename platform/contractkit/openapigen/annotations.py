"""The custom options the document is built from, decoded through `contractkit.descriptors`.

Option values are dynamic messages of the request's own descriptor pool, hence `Any`.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor, message, message_factory

from contractkit.descriptors import Options

__all__ = ["Annotations"]

HTTP = "google.api.http"
ACCESS = "acme.options.v1.access"
FIELD_RULES = "buf.validate.field"
MESSAGE_RULES = "buf.validate.message"
ONEOF_RULES = "buf.validate.oneof"
FIELD_BEHAVIOR = "google.api.field_behavior"
FIELD_BEHAVIOR_ENUM = "google.api.FieldBehavior"
FIELD_DEFAULT = "acme.options.v1.field_default"
_IGNORE_ALWAYS = 3  # buf.validate.Ignore.IGNORE_ALWAYS


class Annotations:
    """Typed access to the options of methods, messages, oneofs and fields."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._rules: dict[str, Any | None] = {}

    def http(self, method: descriptor.MethodDescriptor) -> Any | None:
        """The method's `google.api.http` HttpRule."""
        return self.options.get(method.GetOptions(), HTTP)

    def access(self, method: descriptor.MethodDescriptor) -> Any | None:
        """The method's `acme.options.v1.access` AccessPolicy."""
        return self.options.get(method.GetOptions(), ACCESS)

    def rules(self, field: descriptor.FieldDescriptor) -> Any | None:
        """The field's `buf.validate.field` FieldRules; None when unset or IGNORE_ALWAYS."""
        if field.full_name not in self._rules:
            rules = self.options.get(field.GetOptions(), FIELD_RULES)
            if rules is not None and rules.ignore == _IGNORE_ALWAYS:
                rules = None
            self._rules[field.full_name] = rules
        return self._rules[field.full_name]

    def message_rules(self, message_type: descriptor.Descriptor) -> Any | None:
        """The message's `buf.validate.message` MessageRules."""
        return self.options.get(message_type.GetOptions(), MESSAGE_RULES)

    def oneof_rules(self, oneof: descriptor.OneofDescriptor) -> Any | None:
        """The oneof's `buf.validate.oneof` OneofRules."""
        return self.options.get(oneof.GetOptions(), ONEOF_RULES)

    def default(self, field: descriptor.FieldDescriptor) -> Any | None:
        """The field's `acme.options.v1.field_default` FieldDefault."""
        return self.options.get(field.GetOptions(), FIELD_DEFAULT)

    def behaviors(self, field: descriptor.FieldDescriptor) -> frozenset[str]:
        """Names of the field's `google.api.field_behavior` values (`OUTPUT_ONLY`, ...)."""
        numbers = self._repeated(field.GetOptions(), FIELD_BEHAVIOR)
        if not numbers:
            return frozenset()
        enum = self.options.pool.FindEnumTypeByName(FIELD_BEHAVIOR_ENUM)
        return frozenset(
            enum.values_by_number[n].name for n in numbers if n in enum.values_by_number
        )

    def _repeated(self, options: message.Message, extension: str) -> list[Any]:
        """A repeated extension's values. (`Options.get` handles singular extensions only:
        `HasExtension` refuses repeated ones.)"""
        try:
            ext = self.options.pool.FindExtensionByName(extension)
        except KeyError:
            return []
        name = options.DESCRIPTOR.full_name
        cls = message_factory.GetMessageClass(self.options.pool.FindMessageTypeByName(name))
        decoded: Any = cls.FromString(options.SerializeToString())
        return list(decoded.Extensions[ext])
