"""The lines of a ``.proto`` file being printed, and the options its declarations carry.

:class:`ProtoWriter` keeps the indentation and the blank lines between declarations, and
writes options as ``option`` statements or inline ``[...]`` lists. Options go through a
private descriptor pool that knows the file and its imports, so custom options (extensions
of ``google.protobuf.*Options``) come out as text-format aggregates.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from google.protobuf import descriptor_pool, message_factory, text_format, unknown_fields
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from google.protobuf.message import Message

from contractkit.protoprint_names import Names

__all__ = ["ProtoWriter"]

_ONE_LINE = 60  # option aggregates longer than this are printed over several lines


class ProtoWriter:
    """Output lines for ``fd``; ``files`` are ``fd`` and all it imports, dependencies first."""

    def __init__(self, fd: FileDescriptorProto, files: Sequence[FileDescriptorProto]) -> None:
        self._fd = fd
        self._names = Names(files)
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
                f"({self._names.ref(fdesc.full_name, scope, shortest=False)})"
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
