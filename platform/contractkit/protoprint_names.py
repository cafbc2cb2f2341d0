"""Names in printed ``.proto`` source: the shortest reference protoc resolves to a target.

:class:`Names` knows every full name a set of files declares (package prefixes included) and
writes a reference to a type, extension or service as protoc's scoping rules read it from a
given scope, so that the printed file compiles to the same descriptor.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
)

__all__ = ["Names"]


class Names:
    """Name lookup over ``files``: the file being printed and everything it imports."""

    def __init__(self, files: Iterable[FileDescriptorProto]) -> None:
        self._names = _symbols(files)

    def ref(self, target: str, scope: str, *, shortest: bool = True) -> str:
        """The shortest (or the full) name that protoc resolves to ``target`` from ``scope``."""
        parts = target.lstrip(".").split(".")
        outer = scope.split(".") if scope else []
        for start in range(len(parts) - 1, -1, -1) if shortest else [0]:
            cand = parts[start:]
            hits = (
                i
                for i in range(len(outer), -1, -1)
                if ".".join([*outer[:i], cand[0]]) in self._names
            )
            i = next(hits, None)
            if (cand if i is None else outer[:i] + cand) == parts:
                return ".".join(cand)
        return "." + ".".join(parts)


def _symbols(files: Iterable[FileDescriptorProto]) -> set[str]:
    """Every full name the files declare, package prefixes included (for name lookup)."""
    names: set[str] = set()

    def walk(
        prefix: str,
        messages: Iterable[DescriptorProto],
        enums: Iterable[EnumDescriptorProto],
        exts: Iterable[FieldDescriptorProto],
    ) -> None:
        for enum in enums:  # enum values are siblings of their enum, as in C++
            names.update([prefix + enum.name, *(prefix + v.name for v in enum.value)])
        names.update(prefix + x.name for x in exts)
        for m in messages:
            names.update([prefix + m.name, *(f"{prefix}{m.name}.{x.name}" for x in m.field)])
            names.update(f"{prefix}{m.name}.{o.name}" for o in m.oneof_decl)
            walk(f"{prefix}{m.name}.", m.nested_type, m.enum_type, m.extension)

    for f in files:
        parts = f.package.split(".") if f.package else []
        names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        prefix = f"{f.package}." if f.package else ""
        walk(prefix, f.message_type, f.enum_type, f.extension)
        for s in f.service:
            names.update([prefix + s.name, *(f"{prefix}{s.name}.{m.name}" for m in s.method)])
    return names
