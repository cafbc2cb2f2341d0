"""Leading comments of the contracts, by full name, as Markdown descriptions.

Comments come from `source_code_info`, whose locations are addressed by paths of field
numbers of the descriptor messages (FileDescriptorProto.message_type = 4, ...). Protobuf
comments are wrapped by hand; lines of a paragraph are joined, paragraphs, list items and
indented lines are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from google.protobuf import descriptor_pb2

__all__ = ["Comments", "first_sentence", "join_text"]

# Field numbers of the descriptor messages that source-code paths go through.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM, _MESSAGE_ONEOF = 2, 3, 4, 8
_SERVICE_METHOD = 2
_ENUM_VALUE = 2
_SENTENCE = re.compile(r"^(.+?[.!?])(?=\s|$)", re.DOTALL)
_KEEP_LINE = re.compile(r"^(\s|[-*+] |\d+[.)] |```|\|)")

_Path = tuple[int, ...]


class Comments:
    """The cleaned leading (else trailing) comment of every element, by full name.

    Fields, oneofs, enum values and methods are named `<parent full name>.<name>`.
    """

    def __init__(self, files: Iterable[descriptor_pb2.FileDescriptorProto]) -> None:
        self._text: dict[str, str] = {}
        for file in files:
            self._index_file(file)

    def get(self, full_name: str) -> str:
        """The comment of the element, or "" when it has none."""
        return self._text.get(full_name, "")

    def _index_file(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        raw = {
            tuple(loc.path): loc.leading_comments or loc.trailing_comments
            for loc in file.source_code_info.location
        }
        prefix = f"{file.package}." if file.package else ""
        for i, message in enumerate(file.message_type):
            self._index_message(raw, (_FILE_MESSAGE, i), prefix + message.name, message)
        for i, enum in enumerate(file.enum_type):
            self._index_enum(raw, (_FILE_ENUM, i), prefix + enum.name, enum)
        for i, service in enumerate(file.service):
            name = prefix + service.name
            self._put(raw, (_FILE_SERVICE, i), name)
            for j, method in enumerate(service.method):
                self._put(raw, (_FILE_SERVICE, i, _SERVICE_METHOD, j), f"{name}.{method.name}")

    def _index_message(
        self,
        raw: dict[_Path, str],
        path: _Path,
        name: str,
        message: descriptor_pb2.DescriptorProto,
    ) -> None:
        self._put(raw, path, name)
        for i, field in enumerate(message.field):
            self._put(raw, (*path, _MESSAGE_FIELD, i), f"{name}.{field.name}")
        for i, oneof in enumerate(message.oneof_decl):
            self._put(raw, (*path, _MESSAGE_ONEOF, i), f"{name}.{oneof.name}")
        for i, nested in enumerate(message.nested_type):
            self._index_message(raw, (*path, _MESSAGE_NESTED, i), f"{name}.{nested.name}", nested)
        for i, enum in enumerate(message.enum_type):
            self._index_enum(raw, (*path, _MESSAGE_ENUM, i), f"{name}.{enum.name}", enum)

    def _index_enum(
        self,
        raw: dict[_Path, str],
        path: _Path,
        name: str,
        enum: descriptor_pb2.EnumDescriptorProto,
    ) -> None:
        self._put(raw, path, name)
        for i, value in enumerate(enum.value):
            self._put(raw, (*path, _ENUM_VALUE, i), f"{name}.{value.name}")

    def _put(self, raw: dict[_Path, str], path: _Path, name: str) -> None:
        text = _clean(raw.get(path, ""))
        if text:
            self._text[name] = text


def _clean(comment: str) -> str:
    """Comment text without the space after `//`, with wrapped paragraph lines joined."""
    lines = [line[1:] if line.startswith(" ") else line for line in comment.splitlines()]
    out: list[str] = []
    for line in (line.rstrip() for line in lines):
        joinable = out and out[-1] and line and not _KEEP_LINE.match(line)
        if joinable and not out[-1].startswith(("    ", "\t", "```")):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def first_sentence(text: str) -> str:
    """The first sentence of `text` (up to the first `.`, `!` or `?` and a space), or its
    first paragraph when it has no such sentence end."""
    paragraph = text.strip().split("\n\n", 1)[0].replace("\n", " ")
    match = _SENTENCE.match(paragraph)
    return match.group(1) if match else paragraph


def join_text(*parts: str) -> str:
    """The non-empty parts as paragraphs of one text, leaving out a part that an earlier
    one already says word for word."""
    kept: list[str] = []
    for part in parts:
        if part and not any(part in earlier for earlier in kept):
            kept.append(part)
    return "\n\n".join(kept)
