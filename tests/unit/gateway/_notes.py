"""A third contract, ``acme.notes.v1.NotesService``, as a new user would add it.

Two RPCs with REST mappings (``POST /v1/notes`` with ``body: "note"`` and
``response_body: "note"``, ``GET /v1/notes/{note_id}``), built here as a descriptor so the
tests need no ``buf generate``: ``register_notes`` puts it in the default pool,
``write_notes_module`` writes it as a generated ``*_pb2`` module under ``acme/`` in a folder
(put on ``sys.path``, it joins the ``acme`` namespace package as ``gen/python`` does), and
``notes_paths`` is its part of the OpenAPI document. ``Note`` has a ``labels`` map of
messages, for field paths with subscripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from google.api import (  # type: ignore[import-untyped, unused-ignore]  # ships no py.typed
    annotations_pb2,
    http_pb2,
)
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor

NOTES_SERVICE = "acme.notes.v1.NotesService"
NOTES_FILE = "acme/notes/v1/notes_service.proto"
_F = descriptor_pb2.FieldDescriptorProto


def notes_file() -> descriptor_pb2.FileDescriptorProto:
    """The file descriptor of the notes contract."""
    file = descriptor_pb2.FileDescriptorProto(
        name=NOTES_FILE,
        package="acme.notes.v1",
        syntax="proto3",
        dependency=["google/api/annotations.proto"],
    )
    label = file.message_type.add(name="Label")
    _field(label, "display_name", 1, _F.TYPE_STRING, json_name="displayName")
    note = file.message_type.add(name="Note")
    _field(note, "id", 1, _F.TYPE_STRING)
    _field(note, "title", 2, _F.TYPE_STRING)
    entry = note.nested_type.add(name="LabelsEntry")
    entry.options.map_entry = True
    _field(entry, "key", 1, _F.TYPE_STRING)
    _field(entry, "value", 2, _F.TYPE_MESSAGE, type_name=".acme.notes.v1.Label")
    _field(
        note,
        "labels",
        3,
        _F.TYPE_MESSAGE,
        type_name=".acme.notes.v1.Note.LabelsEntry",
        repeated=True,
    )
    create = file.message_type.add(name="CreateNoteRequest")
    _field(create, "note", 1, _F.TYPE_MESSAGE, type_name=".acme.notes.v1.Note")
    created = file.message_type.add(name="CreateNoteResponse")
    _field(created, "note", 1, _F.TYPE_MESSAGE, type_name=".acme.notes.v1.Note")
    get = file.message_type.add(name="GetNoteRequest")
    _field(get, "note_id", 1, _F.TYPE_STRING, json_name="noteId")
    service = file.service.add(name="NotesService")
    create_rule = http_pb2.HttpRule(post="/v1/notes", body="note", response_body="note")
    _method(service, "CreateNote", "CreateNoteRequest", "CreateNoteResponse", create_rule)
    _method(
        service, "GetNote", "GetNoteRequest", "Note", http_pb2.HttpRule(get="/v1/notes/{note_id}")
    )
    return file


def register_notes() -> FileDescriptor:
    """The notes contract in the default pool (added once per process)."""
    pool = descriptor_pool.Default()
    try:
        return pool.FindFileByName(NOTES_FILE)
    except KeyError:
        return pool.AddSerializedFile(notes_file().SerializeToString())


def write_notes_module(root: Path) -> Path:
    """``root/acme/notes/v1/notes_service_pb2.py``, as protoc would write it."""
    module = root / "acme" / "notes" / "v1" / "notes_service_pb2.py"
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(
        "from google.api import annotations_pb2 as _annotations  # noqa: F401\n"
        "from google.protobuf import descriptor_pool as _pool\n"
        f"DESCRIPTOR = _pool.Default().AddSerializedFile({notes_file().SerializeToString()!r})\n",
        encoding="utf-8",
    )
    return module


def notes_paths() -> dict[str, Any]:
    """The document's operations of the notes contract."""
    note = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}},
    }
    answer = {"description": "The note.", "content": {"application/json": {"schema": note}}}
    return {
        "/v1/notes": {
            "post": {
                "operationId": f"{NOTES_SERVICE}.CreateNote",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": note}},
                },
                "responses": {"200": answer},
            }
        },
        "/v1/notes/{note_id}": {
            "get": {
                "operationId": f"{NOTES_SERVICE}.GetNote",
                "parameters": [
                    {
                        "name": "note_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"200": answer},
            }
        },
    }


def _field(
    message: descriptor_pb2.DescriptorProto,
    name: str,
    number: int,
    kind: int,
    *,
    type_name: str = "",
    json_name: str = "",
    repeated: bool = False,
) -> None:
    field = message.field.add(
        name=name,
        number=number,
        type=kind,
        json_name=json_name or name,
        label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
    )
    if type_name:
        field.type_name = type_name


def _method(
    service: descriptor_pb2.ServiceDescriptorProto,
    name: str,
    request: str,
    reply: str,
    rule: Any,
) -> None:
    method = service.method.add(
        name=name, input_type=f".acme.notes.v1.{request}", output_type=f".acme.notes.v1.{reply}"
    )
    method.options.Extensions[annotations_pb2.http].MergeFrom(rule)
