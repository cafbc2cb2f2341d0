"""The reply encoders write what json_format.MessageToDict writes, for every reply type of
the contracts and every kind of field, at a fraction of its cost per reply."""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from google.protobuf import (
    any_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    field_mask_pb2,
    json_format,
    message_factory,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from services.gateway.messages import reply_body_type
from services.gateway.plans import OperationPlan
from services.gateway.replies import ReplyEncoder

Field = descriptor_pb2.FieldDescriptorProto

_STRINGS = ("", "ada@example.com", "Zoë — 東京 🚀", 'quote " and \\ backslash', "\x00\n\t")
_INTS = (0, 1, -1, 2**31 - 1, -(2**31))
_INT64S = (0, 1, -1, 2**53 + 1, 2**63 - 1, -(2**63))
_UINT64S = (0, 1, 2**53 + 1, 2**64 - 1)
_DOUBLES = (0.0, -0.0, 0.1, 1e300, -2.5e-308, math.inf, -math.inf, math.nan)
_FLOATS = (0.0, 0.1, 3.4e38, -1.5, math.inf, math.nan)
_NANOS = (0, 1_000_000, 123_000, 7, 999_999_999)


def test_every_reply_type_of_the_contracts_is_written_as_message_to_dict_writes_it(
    plans: dict[str, OperationPlan],
) -> None:
    body_types = {body.full_name: body for body in map(reply_body_type, plans.values())}
    assert "acme.user.v1.User" in body_types
    for seed in range(8):
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
        for descriptor in body_types.values():
            message = _populated(descriptor, rng, depth=3)
            _assert_same(descriptor, message)


def test_an_empty_reply_is_an_empty_object() -> None:
    kinds, _ = _kinds()

    assert ReplyEncoder(kinds).encode(message_factory.GetMessageClass(kinds)()) == b"{}"


@pytest.mark.parametrize("seed", range(40))
def test_every_kind_of_field_is_written_as_message_to_dict_writes_it(seed: int) -> None:
    kinds, closed = _kinds()
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    for descriptor in (kinds, closed):
        _assert_same(descriptor, _populated(descriptor, rng, depth=3))


def test_an_enum_value_the_contract_does_not_know_is_written_as_its_number() -> None:
    kinds, _ = _kinds()
    message = message_factory.GetMessageClass(kinds)(colour=7, colours=[1, 9])

    assert ReplyEncoder(kinds).to_dict(message) == {"colour": 7, "colours": ["RED", 9]}
    _assert_same(kinds, message)


def test_the_document_is_json_with_text_beyond_ascii_as_utf8() -> None:
    kinds, _ = _kinds()
    message = message_factory.GetMessageClass(kinds)(text="Zoë 🚀", big=2**63 - 1, ratio=math.nan)

    document = ReplyEncoder(kinds).encode(message)

    assert orjson.loads(document) == {
        "text": "Zoë 🚀",
        "big": "9223372036854775807",
        "ratio": "NaN",
    }
    assert "Zoë 🚀".encode() in document


def _assert_same(descriptor: Descriptor, message: Message) -> None:
    expected = json_format.MessageToDict(message)
    encoder = ReplyEncoder(descriptor)
    assert _comparable(encoder.to_dict(message)) == _comparable(expected), descriptor.full_name
    assert orjson.loads(encoder.encode(message)) == orjson.loads(orjson.dumps(expected))


def _comparable(value: Any) -> Any:
    """NaN is not equal to itself: compare its text."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _populated(descriptor: Descriptor, rng: random.Random, *, depth: int) -> Message:
    """A message of ``descriptor``'s type with most fields set, to values drawn by ``rng``."""
    message = message_factory.GetMessageClass(descriptor)()
    _fill(message, rng, depth)
    return message


def _timestamp(message: Any, rng: random.Random) -> None:
    message.seconds, message.nanos = rng.randrange(0, 4_000_000_000), rng.choice(_NANOS)


def _duration(message: Any, rng: random.Random) -> None:
    seconds, nanos = rng.randrange(-10_000, 10_000), rng.choice(_NANOS)
    message.seconds, message.nanos = seconds, -nanos if seconds < 0 else nanos


_WELL_KNOWN: dict[str, Callable[[Any, random.Random], None]] = {
    "google.protobuf.Timestamp": _timestamp,
    "google.protobuf.Duration": _duration,
    "google.protobuf.FieldMask": lambda message, rng: message.paths.extend(
        rng.sample(["display_name", "email", "roles"], 2)
    ),
    "google.protobuf.Struct": lambda message, _: message.update(
        {"a": 1.5, "b": [True, None, "x"], "c": {"d": "e"}}
    ),
    "google.protobuf.Value": lambda message, rng: setattr(
        message, "string_value", rng.choice(_STRINGS)
    ),
    "google.protobuf.ListValue": lambda message, _: message.extend([1.0, "two", False]),
    "google.protobuf.Any": lambda message, rng: message.Pack(
        duration_pb2.Duration(seconds=rng.randrange(100))
    ),
}


def _fill(message: Message, rng: random.Random, depth: int) -> None:
    well_known = _WELL_KNOWN.get(message.DESCRIPTOR.full_name)
    if well_known is not None:
        well_known(message, rng)
        return
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.15:
            continue  # some fields left unset
        _fill_field(message, field, rng, depth)


def _fill_field(message: Message, field: Any, rng: random.Random, depth: int) -> None:
    entry = field.message_type
    target = getattr(message, field.name)
    if entry is not None and entry.GetOptions().map_entry:
        key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
        for _ in range(rng.randrange(1, 3)):
            if value.message_type is None:
                target[_scalar(key, rng)] = _scalar(value, rng)
            elif depth > 0:
                _fill(target[_scalar(key, rng)], rng, depth - 1)
    elif entry is not None and depth > 0:
        if field.is_repeated:
            for _ in range(rng.randrange(1, 3)):
                _fill(target.add(), rng, depth - 1)
        else:
            _fill(target, rng, depth - 1)
            target.SetInParent()
    elif entry is None and field.is_repeated:
        target.extend(_scalar(field, rng) for _ in range(rng.randrange(1, 4)))
    elif entry is None:
        setattr(message, field.name, _scalar(field, rng))


def _scalar(field: FieldDescriptor, rng: random.Random) -> Any:  # noqa: PLR0911 - one per kind
    kind = field.cpp_type
    if field.enum_type is not None:
        numbers = [value.number for value in field.enum_type.values]
        return rng.choice(numbers if field.enum_type.is_closed else [*numbers, 42])
    if field.type == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.randrange(0, 7))
    if kind == FieldDescriptor.CPPTYPE_STRING:
        return rng.choice(_STRINGS)
    if kind == FieldDescriptor.CPPTYPE_BOOL:
        return rng.random() < 0.5
    if kind == FieldDescriptor.CPPTYPE_INT64:
        return rng.choice(_INT64S)
    if kind == FieldDescriptor.CPPTYPE_UINT64:
        return rng.choice(_UINT64S)
    if kind == FieldDescriptor.CPPTYPE_UINT32:
        return rng.choice([0, 1, 2**32 - 1])
    if kind == FieldDescriptor.CPPTYPE_DOUBLE:
        return rng.choice(_DOUBLES)
    if kind == FieldDescriptor.CPPTYPE_FLOAT:
        return rng.choice(_FLOATS)
    return rng.choice(_INTS)


@functools.cache
def _kinds() -> tuple[Descriptor, Descriptor]:
    """Two message types with every kind of field the proto3 JSON mapping writes: ``Kinds``
    (proto3) and ``Closed`` (proto2: a closed enum), in a pool of their own."""
    pool = descriptor_pool.DescriptorPool()
    for module in (any_pb2, duration_pb2, field_mask_pb2, struct_pb2, timestamp_pb2, wrappers_pb2):
        pool.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    pool.Add(_kinds_file())
    pool.Add(_closed_file())
    return pool.FindMessageTypeByName("kinds.v1.Kinds"), pool.FindMessageTypeByName(
        "kinds.v1.Closed"
    )


_SCALARS = {
    "text": Field.TYPE_STRING,
    "blob": Field.TYPE_BYTES,
    "flag": Field.TYPE_BOOL,
    "small": Field.TYPE_INT32,
    "zigzag": Field.TYPE_SINT32,
    "fixed": Field.TYPE_SFIXED32,
    "unsigned": Field.TYPE_UINT32,
    "big": Field.TYPE_INT64,
    "big_zigzag": Field.TYPE_SINT64,
    "big_unsigned": Field.TYPE_UINT64,
    "big_fixed": Field.TYPE_FIXED64,
    "ratio": Field.TYPE_DOUBLE,
}
_MESSAGES = {
    "when": ".google.protobuf.Timestamp",
    "how_long": ".google.protobuf.Duration",
    "mask": ".google.protobuf.FieldMask",
    "extra": ".google.protobuf.Struct",
    "anything": ".google.protobuf.Value",
    "items": ".google.protobuf.ListValue",
    "packed": ".google.protobuf.Any",
    "maybe_text": ".google.protobuf.StringValue",
    "maybe_big": ".google.protobuf.Int64Value",
    "maybe_ratio": ".google.protobuf.DoubleValue",
    "maybe_single": ".google.protobuf.FloatValue",
    "maybe_blob": ".google.protobuf.BytesValue",
    "child": ".kinds.v1.Kinds",
    "plain": ".kinds.v1.Plain",
    "singles": ".kinds.v1.Singles",
}


def _kinds_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="kinds/v1/kinds.proto", package="kinds.v1", syntax="proto3"
    )
    file.dependency.extend(
        f"google/protobuf/{name}.proto"
        for name in ("any", "duration", "field_mask", "struct", "timestamp", "wrappers")
    )
    colour = file.enum_type.add(name="Colour")
    for number, name in enumerate(("COLOUR_UNSPECIFIED", "RED", "GREEN")):
        colour.value.add(name=name, number=number)
    plain = file.message_type.add(name="Plain")
    plain.field.add(name="text", number=1, type=Field.TYPE_STRING, label=Field.LABEL_OPTIONAL)
    plain.field.add(name="big", number=2, type=Field.TYPE_INT64, label=Field.LABEL_REPEATED)
    # 32-bit floats are MessageToDict's to write: a type of their own, so that Kinds is not.
    singles = file.message_type.add(name="Singles")
    singles.field.add(name="single", number=1, type=Field.TYPE_FLOAT, label=Field.LABEL_OPTIONAL)
    singles.field.add(name="many", number=2, type=Field.TYPE_FLOAT, label=Field.LABEL_REPEATED)
    kinds = file.message_type.add(name="Kinds")
    number = 0
    for name, kind in _SCALARS.items():
        for suffix, label in (("", Field.LABEL_OPTIONAL), ("s", Field.LABEL_REPEATED)):
            number += 1
            kinds.field.add(name=name + suffix, number=number, type=kind, label=label)
    for name, type_name in _MESSAGES.items():
        for suffix, label in (("", Field.LABEL_OPTIONAL), ("s", Field.LABEL_REPEATED)):
            number += 1
            kinds.field.add(
                name=name + suffix,
                number=number,
                type=Field.TYPE_MESSAGE,
                type_name=type_name,
                label=label,
            )
    for suffix, label in (("", Field.LABEL_OPTIONAL), ("s", Field.LABEL_REPEATED)):
        number += 1
        kinds.field.add(
            name="colour" + suffix,
            number=number,
            type=Field.TYPE_ENUM,
            type_name=".kinds.v1.Colour",
            label=label,
        )
    number += 1
    kinds.field.add(
        name="maybe",
        number=number,
        type=Field.TYPE_STRING,
        label=Field.LABEL_OPTIONAL,
        proto3_optional=True,
        oneof_index=0,
    )
    kinds.oneof_decl.add(name="_maybe")
    for key_name, key_type in (
        ("by_text", Field.TYPE_STRING),
        ("by_flag", Field.TYPE_BOOL),
        ("by_big", Field.TYPE_INT64),
        ("by_small", Field.TYPE_UINT32),
    ):
        for value_name, value_type, type_name in (
            ("plain", Field.TYPE_MESSAGE, ".kinds.v1.Plain"),
            ("blob", Field.TYPE_BYTES, ""),
            ("colour", Field.TYPE_ENUM, ".kinds.v1.Colour"),
            ("when", Field.TYPE_MESSAGE, ".google.protobuf.Timestamp"),
            ("ratio", Field.TYPE_DOUBLE, ""),
        ):
            entry_name = f"{key_name}_{value_name}".title().replace("_", "") + "Entry"
            entry = kinds.nested_type.add(name=entry_name)
            entry.options.map_entry = True
            entry.field.add(name="key", number=1, type=key_type, label=Field.LABEL_OPTIONAL)
            value_field = entry.field.add(
                name="value", number=2, type=value_type, label=Field.LABEL_OPTIONAL
            )
            if type_name:
                value_field.type_name = type_name
            number += 1
            kinds.field.add(
                name=f"{key_name}_{value_name}",
                number=number,
                type=Field.TYPE_MESSAGE,
                type_name=f".kinds.v1.Kinds.{entry_name}",
                label=Field.LABEL_REPEATED,
            )
    return file


def _closed_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="kinds/v1/closed.proto", package="kinds.v1", syntax="proto2"
    )
    level = file.enum_type.add(name="Level")
    for number, name in enumerate(("LOW", "HIGH"), start=1):
        level.value.add(name=name, number=number)
    closed = file.message_type.add(name="Closed")
    for number, (name, label) in enumerate(
        (("level", Field.LABEL_OPTIONAL), ("levels", Field.LABEL_REPEATED)), start=1
    ):
        closed.field.add(
            name=name, number=number, type=Field.TYPE_ENUM, type_name=".kinds.v1.Level", label=label
        )
    closed.field.add(name="note", number=3, type=Field.TYPE_STRING, label=Field.LABEL_OPTIONAL)
    return file
