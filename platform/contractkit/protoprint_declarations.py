"""Messages, fields, oneofs, enums and extensions printed as ``.proto`` declarations.

Nested messages print in declaration order, except that a map entry or a proto2 group
prints at the field that declares it; a real oneof prints as one block where its first
member stands.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from google.protobuf import text_encoding
from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
    OneofDescriptorProto,
)

from contractkit.protoprint_writer import ProtoWriter

__all__ = ["DeclarationPrinter"]

_F = FieldDescriptorProto
_SCALARS = {
    _F.TYPE_DOUBLE: "double", _F.TYPE_FLOAT: "float", _F.TYPE_INT64: "int64",
    _F.TYPE_UINT64: "uint64", _F.TYPE_INT32: "int32", _F.TYPE_FIXED64: "fixed64",
    _F.TYPE_FIXED32: "fixed32", _F.TYPE_BOOL: "bool", _F.TYPE_STRING: "string",
    _F.TYPE_BYTES: "bytes", _F.TYPE_UINT32: "uint32", _F.TYPE_SFIXED32: "sfixed32",
    _F.TYPE_SFIXED64: "sfixed64", _F.TYPE_SINT32: "sint32", _F.TYPE_SINT64: "sint64",
}  # fmt: skip
_VISIBILITY = {1: "local ", 2: "export "}  # SymbolVisibility (edition 2024); 0 is unset
_MAX_FIELD = 536_870_911  # 2**29 - 1: `max` in reserved and extensions statements
_MAX_MESSAGE_SET = 2_147_483_646  # `max` in a message_set_wire_format message
_MAX_ENUM = 2_147_483_647  # `max` in an enum's reserved statement


@dataclass
class _Scope:
    """A file or message scope: its nested messages print in declaration order, each
    map entry or group at the field that declares it."""

    name: str
    messages: Sequence[DescriptorProto]
    oneofs: Sequence[OneofDescriptorProto] = ()
    owned: dict[str, int] = field(default_factory=dict)  # type_name -> index in messages
    next: int = 0


class DeclarationPrinter(ProtoWriter):
    """Prints the declarations of a file or message scope, in the syntax of ``fd``."""

    def __init__(self, fd: FileDescriptorProto, files: Sequence[FileDescriptorProto]) -> None:
        super().__init__(fd, files)
        self._syntax = fd.syntax if fd.syntax in ("proto3", "editions") else "proto2"

    def _type(self, f: FieldDescriptorProto, scope: str) -> str:
        return _SCALARS.get(f.type) or self._names.ref(f.type_name, scope)

    def _scope(self, name: str, m: DescriptorProto | FileDescriptorProto) -> _Scope:
        """The scope of a file or message, knowing which nested messages its fields own."""
        messages = m.nested_type if isinstance(m, DescriptorProto) else m.message_type
        sc = _Scope(name, messages, m.oneof_decl if isinstance(m, DescriptorProto) else ())
        prefix = f".{name}." if name else "."
        index = {prefix + n.name: i for i, n in enumerate(messages)}
        fields = m.field if isinstance(m, DescriptorProto) else ()
        for f in [*fields, *m.extension]:
            i = index.get(f.type_name)
            if i is not None and (
                messages[i].options.map_entry
                or (self._syntax == "proto2" and f.type == _F.TYPE_GROUP)
            ):
                sc.owned[f.type_name] = i
        return sc

    def _members(
        self,
        sc: _Scope,
        fields: Sequence[FieldDescriptorProto],
        enums: Sequence[EnumDescriptorProto],
    ) -> None:
        self._fields(sc, fields)
        self._flush(sc, len(sc.messages))
        for enum in enums:
            self._enum(enum, sc.name)

    def _extends(self, sc: _Scope, exts: Sequence[FieldDescriptorProto]) -> None:
        for extendee, group in itertools.groupby(exts, key=lambda x: x.extendee):
            with self._braces(f"extend {self._names.ref(extendee, sc.name)}", spaced=True):
                for f in group:
                    self._field(sc, f, extension=True)

    def _flush(self, sc: _Scope, upto: int) -> None:
        """Print the nested messages declared before index ``upto`` not yet printed."""
        owned = set(sc.owned.values())
        while sc.next < upto:
            if sc.next not in owned:
                self._message(sc.messages[sc.next], sc.name)
            sc.next += 1

    def _claim(self, sc: _Scope, fields: Iterable[FieldDescriptorProto]) -> None:
        """Before ``fields`` print, print the nested messages declared before theirs."""
        mine = [sc.owned[f.type_name] for f in fields if f.type_name in sc.owned]
        if mine:
            self._flush(sc, max(mine))
            sc.next = max(sc.next, max(mine) + 1)

    def _fields(self, sc: _Scope, fields: Sequence[FieldDescriptorProto]) -> None:
        """Fields in order; each real oneof as one block where its first member stands."""
        seen: set[int] = set()
        for f in fields:
            if not _in_oneof(f):
                self._claim(sc, [f])
                self._field(sc, f)
            elif f.oneof_index not in seen:
                seen.add(f.oneof_index)
                members = [g for g in fields if _in_oneof(g) and g.oneof_index == f.oneof_index]
                self._claim(sc, members)
                decl = sc.oneofs[f.oneof_index]
                with self._braces(f"oneof {decl.name}"):
                    self._option_lines(decl.options, sc.name)
                    for g in members:
                        self._field(sc, g)

    def _field(self, sc: _Scope, f: FieldDescriptorProto, *, extension: bool = False) -> None:
        extra = []
        if f.HasField("default_value"):
            raw = f.default_value
            extra.append(
                f"default = {_quote(raw) if f.type == _F.TYPE_STRING else _literal(f, raw)}"
            )
        if not extension and f.HasField("json_name") and f.json_name != _json_name(f.name):
            extra.append(f"json_name = {_quote(f.json_name)}")
        options = self._inline(f.options, sc.name, extra)
        owned = sc.messages[sc.owned[f.type_name]] if f.type_name in sc.owned else None
        if owned is not None and owned.options.map_entry:
            scope = f"{sc.name}.{owned.name}".lstrip(".")
            key, value = (self._type(x, scope) for x in owned.field)
            self._emit(f"map<{key}, {value}> {f.name} = {f.number}{options};")
        elif owned is not None:
            with self._braces(f"{self._label(f)}group {owned.name} = {f.number}{options}"):
                self._message_body(owned, f"{sc.name}.{owned.name}".lstrip("."))
        else:
            self._emit(f"{self._label(f)}{self._type(f, sc.name)} {f.name} = {f.number}{options};")

    def _label(self, f: FieldDescriptorProto) -> str:
        if f.label == _F.LABEL_REPEATED:
            return "repeated "
        if _in_oneof(f) or self._syntax == "editions":
            return ""
        if self._syntax == "proto3":
            return "optional " if f.proto3_optional else ""
        return "required " if f.label == _F.LABEL_REQUIRED else "optional "

    def _message(self, m: DescriptorProto, scope: str) -> None:
        visibility = _VISIBILITY.get(getattr(m, "visibility", 0), "")
        with self._braces(f"{visibility}message {m.name}", spaced=True):
            self._message_body(m, f"{scope}.{m.name}".lstrip("."))

    def _message_body(self, m: DescriptorProto, scope: str) -> None:
        self._option_lines(m.options, scope)
        top = _MAX_MESSAGE_SET if m.options.message_set_wire_format else _MAX_FIELD
        sc = self._scope(scope, m)
        self._members(sc, m.field, m.enum_type)
        for r in m.extension_range:
            self._emit(
                f"extensions {_span(r.start, r.end - 1, top)}{self._inline(r.options, scope)};"
            )
        self._reserved([_span(r.start, r.end - 1, top) for r in m.reserved_range], m.reserved_name)
        self._extends(sc, m.extension)

    def _reserved(self, spans: Sequence[str], names: Sequence[str]) -> None:
        if spans:
            self._emit(f"reserved {', '.join(spans)};")
        if names:
            quote = (lambda n: n) if self._syntax == "editions" else _quote
            self._emit(f"reserved {', '.join(quote(n) for n in names)};")

    def _enum(self, e: EnumDescriptorProto, scope: str) -> None:
        visibility = _VISIBILITY.get(getattr(e, "visibility", 0), "")
        with self._braces(f"{visibility}enum {e.name}", spaced=True):
            inner = f"{scope}.{e.name}".lstrip(".")
            self._option_lines(e.options, inner)
            for v in e.value:
                self._emit(f"{v.name} = {v.number}{self._inline(v.options, inner)};")
            self._reserved(
                [_span(r.start, r.end, _MAX_ENUM) for r in e.reserved_range], e.reserved_name
            )


def _in_oneof(f: FieldDescriptorProto) -> bool:
    """Whether ``f`` belongs to a real oneof (not the synthetic one of proto3 ``optional``)."""
    return f.HasField("oneof_index") and not f.proto3_optional


def _json_name(name: str) -> str:
    """protoc's default json_name: drop each underscore and upper-case the next letter."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _span(start: int, end: int, top: int) -> str:
    """An inclusive range as written in ``reserved`` and ``extensions`` statements."""
    if end == start:
        return str(start)
    return f"{start} to {'max' if end >= top else end}"


def _quote(text: str) -> str:
    return '"' + text_encoding.CEscape(text.encode(), as_utf8=True) + '"'


def _literal(f: FieldDescriptorProto, raw: str) -> str:
    """A default value as descriptor.proto stores it, written back as a literal."""
    return f'"{raw}"' if f.type == _F.TYPE_BYTES else raw  # bytes defaults are stored escaped
