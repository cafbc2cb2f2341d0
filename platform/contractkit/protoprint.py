"""Print a ``FileDescriptorProto`` back as ``.proto`` source text.

The output compiles to the same descriptor; comments and layout are not kept. This module
gathers the file's imports and prints the file level (syntax, package, imports, file
options, services); :mod:`contractkit.protoprint_declarations` prints messages and enums,
:mod:`contractkit.protoprint_writer` the options, custom ones included.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from google.protobuf import descriptor_pool
from google.protobuf.descriptor_pb2 import Edition, FileDescriptorProto, ServiceDescriptorProto

from contractkit.protoprint_declarations import DeclarationPrinter

__all__ = ["print_file"]


def print_file(fd: FileDescriptorProto, deps: Iterable[FileDescriptorProto] = ()) -> str:
    """Return ``.proto`` source text that compiles to ``fd``.

    ``deps`` are descriptors of its imports (for example the rest of a ``buf build`` image);
    an import not given is taken from the default pool, importing its ``*_pb2`` module.
    Raises ``ValueError`` for an option whose extension is declared in none of them.
    """
    return _FilePrinter(fd, _closure(fd, {d.name: d for d in deps})).render()


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


class _FilePrinter(DeclarationPrinter):
    """One file: its header, file options, top-level declarations and services."""

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

    def _service(self, s: ServiceDescriptorProto, package: str) -> None:
        scope = f"{package}.{s.name}".lstrip(".")
        with self._braces(f"service {s.name}", spaced=True):
            self._option_lines(s.options, scope)
            ref = self._names.ref
            for m in s.method:
                ins = ("stream " if m.client_streaming else "") + ref(m.input_type, scope)
                outs = ("stream " if m.server_streaming else "") + ref(m.output_type, scope)
                head = f"rpc {m.name}({ins}) returns ({outs})"
                if not self._options(m.options, scope):
                    self._emit(head + ";")
                    continue
                with self._braces(head):
                    self._option_lines(m.options, scope)
