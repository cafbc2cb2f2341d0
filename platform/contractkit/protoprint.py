"""Print a ``FileDescriptorProto`` back as ``.proto`` source text.

The output compiles to the same descriptor; comments and layout are not kept. Options go
through a private descriptor pool that knows the file and its imports, so custom options
(extensions of ``google.protobuf.*Options``) come out as text-format aggregates.
"""

from __future__ import annotations

import importlib
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from google.protobuf import (
    descriptor_pool,
    message_factory,
    text_encoding,
    text_format,
    unknown_fields,
)
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    Edition,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
    OneofDescriptorProto,
    ServiceDescriptorProto,
)
from google.protobuf.message import Message

__all__ = ["print_file"]

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
_ONE_LINE = 60  # option aggregates longer than this are printed over several lines


def print_file(fd: FileDescriptorProto, deps: Iterable[FileDescriptorProto] = ()) -> str:
    """Return ``.proto`` source text that compiles to ``fd``.

    ``deps`` are descriptors of its imports (for example the rest of a ``buf build`` image);
    an import not given is taken from the default pool, importing its ``*_pb2`` module.
    Raises ``ValueError`` for an option whose extension is declared in none of them.
    """
    return _Printer(fd, _closure(fd, {d.name: d for d in deps})).render()


def _closure(
    fd: FileDescriptorProto, given: dict[str, FileDescriptorProto]
) -> list[FileDescriptorProto]:
    """descriptor.proto, ``fd`` and everything they import, dependencies first."""
    given = {**given, fd.name: fd}
    ordered: dict[str, FileDescriptorProto] = {}

    def visit(name: str) -> None:
        if name not in ordered:
            proto = given.get(name) or _from_default_pool(name)
            for dep in proto.dependency:
                visit(dep)
            ordered[name] = proto

    visit("google/protobuf/descriptor.proto")
    visit(fd.name)
    return list(ordered.values())


def _from_default_pool(name: str) -> FileDescriptorProto:
    pool = descriptor_pool.Default()
    try:
        found = pool.FindFileByName(name)
    except KeyError:
        try:
            importlib.import_module(name.removesuffix(".proto").replace("/", ".") + "_pb2")
            found = pool.FindFileByName(name)
        except (ImportError, KeyError) as exc:
            raise LookupError(f"import {name!r}: not given and not in the default pool") from exc
    proto = FileDescriptorProto()
    found.CopyToProto(proto)
    return proto


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


def _json_name(name: str) -> str:
    """protoc's default json_name: drop each underscore and upper-case the next letter."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _span(start: int, end: int, top: int) -> str:
    """An inclusive range as written in ``reserved`` and ``extensions`` statements."""
    if end == start:
        return str(start)
    return f"{start} to {'max' if end >= top else end}"


@dataclass
class _Scope:
    """A file or message scope: its nested messages print in declaration order, each
    map entry or group at the field that declares it."""

    name: str
    messages: Sequence[DescriptorProto]
    oneofs: Sequence[OneofDescriptorProto] = ()
    owned: dict[str, int] = field(default_factory=dict)  # type_name -> index in messages
    next: int = 0


class _Printer:
    def __init__(self, fd: FileDescriptorProto, files: Sequence[FileDescriptorProto]) -> None:
        self._fd = fd
        self._syntax = fd.syntax if fd.syntax in ("proto3", "editions") else "proto2"
        self._names = _symbols(files)
        self._lines: list[str] = []
        self._depth = 0
        self._spaced = False  # a blank line goes before the next declaration
        pool = descriptor_pool.DescriptorPool()
        for proto in files:
            pool.Add(proto)
        self._classes = message_factory.GetMessageClassesForFiles([f.name for f in files], pool)

    def _emit(self, text: str = "") -> None:
        if self._spaced and text and not text.startswith("}"):
            self._lines.append("")
        self._spaced = False
        self._lines.append("  " * self._depth + text if text else "")

    def _gap(self) -> None:
        if self._lines and self._lines[-1] and not self._lines[-1].endswith("{"):
            self._emit()

    @contextmanager
    def _braces(self, header: str, *, spaced: bool = False) -> Iterator[None]:
        if spaced:
            self._gap()
        self._emit(header + " {")
        self._depth += 1
        yield
        self._depth -= 1
        self._emit("}")
        self._spaced = spaced

    def _ref(self, target: str, scope: str, *, shortest: bool = True) -> str:
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

    def _type(self, f: FieldDescriptorProto, scope: str) -> str:
        return _SCALARS.get(f.type) or self._ref(f.type_name, scope)

    # -- options ----------------------------------------------------------------------
    def _options(self, options: Message, scope: str) -> list[str]:
        """``name = value`` for every option set in ``options``, custom ones included."""
        parsed = self._classes[options.DESCRIPTOR.full_name].FromString(options.SerializeToString())
        unknown = unknown_fields.UnknownFieldSet(parsed)
        if len(unknown):
            numbers = sorted({unknown[i].field_number for i in range(len(unknown))})
            where = f"{self._fd.name}: {options.DESCRIPTOR.name} of {scope or 'the file'}"
            raise ValueError(f"{where}: no extension declares {numbers}")
        out = []
        for fdesc, value in parsed.ListFields():
            name = (
                f"({self._ref(fdesc.full_name, scope, shortest=False)})"
                if fdesc.is_extension
                else fdesc.name
            )
            values = value if fdesc.is_repeated else [value]
            out += [f"{name} = {self._value(fdesc, v)}" for v in values]
        return [o for o in out if o != "map_entry = true"]

    def _value(self, fdesc: FieldDescriptor, value: object) -> str:
        if not isinstance(value, Message):
            out = io.StringIO()
            text_format.PrintFieldValue(fdesc, value, out, as_utf8=True)
            return out.getvalue()
        one = text_format.MessageToString(value, as_one_line=True, as_utf8=True)
        if len(one) <= _ONE_LINE:
            return f"{{ {one} }}" if one else "{}"
        indent = 2 * (self._depth + 1)
        body = text_format.MessageToString(value, indent=indent, as_utf8=True)
        return "{\n" + body + " " * (indent - 2) + "}"

    def _option_lines(self, options: Message, scope: str) -> None:
        for option in self._options(options, scope):
            self._emit(f"option {option};")

    def _inline(self, options: Message, scope: str, extra: Sequence[str] = ()) -> str:
        pairs = [*extra, *self._options(options, scope)]
        return f" [{', '.join(pairs)}]" if pairs else ""

    # -- declarations -----------------------------------------------------------------
    def render(self) -> str:
        fd = self._fd
        if self._syntax == "editions":
            self._emit(f'edition = "{Edition.Name(fd.edition).removeprefix("EDITION_")}";')
        else:
            self._emit(f'syntax = "{self._syntax}";')
        if fd.package:
            self._emit(f"\npackage {fd.package};")
        kinds = dict.fromkeys(fd.public_dependency, "public ")
        kinds |= dict.fromkeys(fd.weak_dependency, "weak ")
        imports = [f'import {kinds.get(i, "")}"{name}";' for i, name in enumerate(fd.dependency)]
        imports += [f'import option "{name}";' for name in getattr(fd, "option_dependency", ())]
        for i, line in enumerate(imports):
            self._emit(("\n" if i == 0 else "") + line)
        self._gap()
        self._option_lines(fd.options, fd.package)
        sc = self._scope(fd.package, fd)
        self._members(sc, [], fd.enum_type)
        self._extends(sc, fd.extension)
        for service in fd.service:
            self._service(service, fd.package)
        return "\n".join(self._lines) + "\n"

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
            with self._braces(f"extend {self._ref(extendee, sc.name)}", spaced=True):
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

    def _service(self, s: ServiceDescriptorProto, package: str) -> None:
        scope = f"{package}.{s.name}".lstrip(".")
        with self._braces(f"service {s.name}", spaced=True):
            self._option_lines(s.options, scope)
            for m in s.method:
                ins = ("stream " if m.client_streaming else "") + self._ref(m.input_type, scope)
                outs = ("stream " if m.server_streaming else "") + self._ref(m.output_type, scope)
                head = f"rpc {m.name}({ins}) returns ({outs})"
                if not self._options(m.options, scope):
                    self._emit(head + ";")
                    continue
                with self._braces(head):
                    self._option_lines(m.options, scope)


def _in_oneof(f: FieldDescriptorProto) -> bool:
    """Whether ``f`` belongs to a real oneof (not the synthetic one of proto3 ``optional``)."""
    return f.HasField("oneof_index") and not f.proto3_optional


def _quote(text: str) -> str:
    return '"' + text_encoding.CEscape(text.encode(), as_utf8=True) + '"'


def _literal(f: FieldDescriptorProto, raw: str) -> str:
    """A default value as descriptor.proto stores it, written back as a literal."""
    return f'"{raw}"' if f.type == _F.TYPE_BYTES else raw  # bytes defaults are stored escaped
