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

__all__ = ["Options", "iter_methods", "load_image", "locations_of", "source_locations"]

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


# Field numbers of the descriptor messages, for source-code-info paths.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_ENUM_VALUE, _SERVICE_METHOD = 2, 2


def source_locations(file: descriptor_pb2.FileDescriptorProto) -> dict[str, str]:
    """``file:line:column`` (1-based) of every declaration of `file` that has a full name:
    messages, fields, enums, enum values, services and methods. (An enum value's full name
    is its enum's, then its own name, as in ``acme.user.v1.Role.ROLE_ADMIN``.)"""
    return _Locator(file).found


class _Locator:
    """Walks a file's declarations, noting each one's position by full name."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        self.file = file
        self.spans = {tuple(loc.path): loc.span for loc in file.source_code_info.location}
        self.found: dict[str, str] = {}
        for i, item in enumerate(file.message_type):
            self.message(file.package, item, (_FILE_MESSAGE, i))
        for i, enum in enumerate(file.enum_type):
            self.enum(file.package, enum, (_FILE_ENUM, i))
        for i, service in enumerate(file.service):
            name = _join(file.package, service.name)
            self.note(name, (_FILE_SERVICE, i))
            for k, method in enumerate(service.method):
                self.note(f"{name}.{method.name}", (_FILE_SERVICE, i, _SERVICE_METHOD, k))

    def note(self, name: str, path: tuple[int, ...]) -> None:
        span = self.spans.get(path)
        self.found[name] = (
            f"{self.file.name}:{span[0] + 1}:{span[1] + 1}" if span else self.file.name
        )

    def enum(
        self, prefix: str, item: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...]
    ) -> None:
        name = _join(prefix, item.name)
        self.note(name, path)
        for k, value in enumerate(item.value):
            self.note(f"{name}.{value.name}", (*path, _ENUM_VALUE, k))

    def message(
        self, prefix: str, item: descriptor_pb2.DescriptorProto, path: tuple[int, ...]
    ) -> None:
        name = _join(prefix, item.name)
        self.note(name, path)
        for k, field_ in enumerate(item.field):
            self.note(f"{name}.{field_.name}", (*path, _MESSAGE_FIELD, k))
        for k, nested in enumerate(item.nested_type):
            self.message(name, nested, (*path, _MESSAGE_NESTED, k))
        for k, enum in enumerate(item.enum_type):
            self.enum(name, enum, (*path, _MESSAGE_ENUM, k))


def locations_of(files: Iterable[descriptor_pb2.FileDescriptorProto]) -> dict[str, str]:
    """:func:`source_locations` of every file of `files`, merged."""
    found: dict[str, str] = {}
    for file in files:
        found.update(source_locations(file))
    return found


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
