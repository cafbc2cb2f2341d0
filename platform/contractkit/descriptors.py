"""Reading descriptors and their custom options without generated code.

Custom options (google.api.http, buf.validate, acme.options.v1.access) arrive as
unknown fields of the standard options messages. They are decoded here through a
descriptor pool built from the very files being processed, so the tooling never
depends on generated stubs that may be stale, and always sees the options as the
contracts currently declare them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, message, message_factory

__all__ = ["Options", "iter_methods", "load_image"]

_OPTION_TYPES = {
    descriptor_pb2.FileOptions: "google.protobuf.FileOptions",
    descriptor_pb2.MessageOptions: "google.protobuf.MessageOptions",
    descriptor_pb2.FieldOptions: "google.protobuf.FieldOptions",
    descriptor_pb2.EnumOptions: "google.protobuf.EnumOptions",
    descriptor_pb2.EnumValueOptions: "google.protobuf.EnumValueOptions",
    descriptor_pb2.ServiceOptions: "google.protobuf.ServiceOptions",
    descriptor_pb2.MethodOptions: "google.protobuf.MethodOptions",
    descriptor_pb2.OneofOptions: "google.protobuf.OneofOptions",
}


@dataclass
class Options:
    """Decodes custom options of descriptors against the files that declare them."""

    files: Iterable[descriptor_pb2.FileDescriptorProto]
    pool: descriptor_pool.DescriptorPool = field(init=False)

    def __post_init__(self) -> None:
        self.pool = descriptor_pool.DescriptorPool()
        for file in self.files:
            self.pool.Add(file)

    def get(self, options: message.Message, extension: str) -> Any | None:
        """The value of custom option `extension` (full name) in `options` (a list for a
        repeated one), or None when unset or when no file declares that extension."""
        try:
            ext = self.pool.FindExtensionByName(extension)
        except KeyError:
            return None
        decoded = self._decode(options)
        if ext.is_repeated:
            values: list[Any] = list(decoded.Extensions[ext])  # type: ignore[index]
            return values or None
        if not decoded.HasExtension(ext):  # type: ignore[arg-type]
            return None
        return decoded.Extensions[ext]  # type: ignore[index]

    def _decode(self, options: message.Message) -> message.Message:
        name = _OPTION_TYPES[type(options)]
        cls = message_factory.GetMessageClass(self.pool.FindMessageTypeByName(name))
        return cls.FromString(options.SerializeToString())

    def message(self, full_name: str) -> descriptor.Descriptor:
        """The pool's descriptor of a message, by full name (no leading dot)."""
        return self.pool.FindMessageTypeByName(full_name.lstrip("."))


def load_image(data: bytes) -> list[descriptor_pb2.FileDescriptorProto]:
    """The files of a serialized FileDescriptorSet (a `buf build -o -` image)."""
    return list(descriptor_pb2.FileDescriptorSet.FromString(data).file)


def iter_methods(
    files: Iterable[descriptor_pb2.FileDescriptorProto],
) -> Iterator[
    tuple[
        descriptor_pb2.FileDescriptorProto,
        descriptor_pb2.ServiceDescriptorProto,
        descriptor_pb2.MethodDescriptorProto,
    ]
]:
    """Every (file, service, method) of `files`, in declaration order."""
    for file in files:
        for service in file.service:
            for method in service.method:
                yield file, service, method
