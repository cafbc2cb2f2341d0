"""Turns the merged raw values into the typed settings object, collecting every problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from servicekit.config.errors import ConfigProblem
from servicekit.config.schema import Invalid, Node, Nullable, Struct, TupleOf, non_null

__all__ = ["FAILED", "build", "insecure_values", "takes_text", "unknown_keys"]

FAILED: Any = object()
"""Stands for a value that could not be converted; its problem is already recorded."""


def build(struct: Struct, data: object, problems: list[ConfigProblem], key: str = "") -> Any:
    """An instance of ``struct.cls`` from ``data``, or ``FAILED`` with problems appended."""
    if not isinstance(data, Mapping):
        problems.append(ConfigProblem(key, f"expected a table, got {data!r}"))
        return FAILED
    given = _lowered(data)
    values: dict[str, object] = {}
    for field in struct.fields:
        field_key = _join(key, field.name)
        if field.name in given:
            values[field.name] = convert(field.node, given[field.name], problems, field_key)
        elif field.required:
            problems.append(ConfigProblem(field_key, "required"))
            values[field.name] = FAILED
    if any(value is FAILED for value in values.values()):
        return FAILED
    try:
        return struct.cls(**values)
    except ValueError as exc:  # a cross-field rule in the dataclass's __post_init__
        problems.append(ConfigProblem(key or struct.cls.__name__, str(exc)))
        return FAILED


def convert(node: Node, value: object, problems: list[ConfigProblem], key: str) -> object:
    """The value ``node`` describes, or ``FAILED`` with problems appended."""
    if isinstance(node, Nullable):
        if value is None or value == "":
            return None
        return convert(node.inner, value, problems, key)
    if isinstance(node, Struct):
        return build(node, value, problems, key)
    if isinstance(node, TupleOf):
        return _convert_tuple(node, value, problems, key)
    try:
        return node.convert(value)
    except Invalid as exc:
        problems.append(ConfigProblem(key, exc.rule))
        return FAILED


def _convert_tuple(node: TupleOf, value: object, problems: list[ConfigProblem], key: str) -> object:
    if isinstance(value, str):
        items: list[object] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        problems.append(ConfigProblem(key, f"expected a list, got {value!r}"))
        return FAILED
    converted = [
        convert(node.item, item, problems, f"{key}[{index}]") for index, item in enumerate(items)
    ]
    return FAILED if any(item is FAILED for item in converted) else tuple(converted)


def unknown_keys(struct: Struct, data: Mapping[str, object], key: str = "") -> list[ConfigProblem]:
    """A problem for every key of ``data`` that names no field (typos included)."""
    problems: list[ConfigProblem] = []
    for name, value in _lowered(data).items():
        field = struct.field(name)
        if field is None:
            rule = "unknown key"
            close = difflib.get_close_matches(name, [f.name for f in struct.fields], n=1)
            if close:
                rule += f", did you mean {_join(key, close[0])!r}?"
            problems.extend(ConfigProblem(leaf, rule) for leaf in _leaves(value, _join(key, name)))
            continue
        node = non_null(field.node)
        if isinstance(node, Struct) and isinstance(value, Mapping):
            problems.extend(unknown_keys(node, value, _join(key, name)))
    return problems


def insecure_values(
    struct: Struct, data: Mapping[str, object], environment: str, key: str = ""
) -> Iterator[ConfigProblem]:
    """A problem for every field still holding its development default outside development.

    Works on the raw ``data`` (plus field defaults), so that it reports alongside the other
    problems instead of waiting for them to be fixed.
    """
    given = _lowered(data)
    for field in struct.fields:
        field_key = _join(key, field.name)
        if field.insecure is not None:
            value = field.default
            if field.name in given:
                value = convert(field.node, given[field.name], [], field_key)
            if field.insecure.matches(value):
                rule = f"the development default is refused in {environment}"
                yield ConfigProblem(field_key, rule)
        node = non_null(field.node)
        inner = given.get(field.name, {})
        if isinstance(node, Struct) and isinstance(inner, Mapping):
            yield from insecure_values(node, inner, environment, field_key)


def takes_text(node: Node) -> bool:
    """Whether a setting of ``node`` takes text verbatim (str, Secret, Path, string Literal)."""
    node = non_null(node)
    return not isinstance(node, Struct | TupleOf | Nullable) and node.text


def _lowered(data: Mapping[Any, object]) -> dict[str, object]:
    return {str(name).lower(): value for name, value in data.items()}


def _leaves(value: object, key: str) -> Iterator[str]:
    if isinstance(value, Mapping) and value:
        for name, inner in _lowered(value).items():
            yield from _leaves(inner, f"{key}.{name}")
    else:
        yield key


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name
