"""Small helpers shared by the schema modules: constraint results and their merging."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contractkit.openapigen.types import Schema

__all__ = ["Constraints", "code", "code_list", "lower_camel", "merge_keywords"]


@dataclass
class Constraints:
    """What validation rules add to a value's schema: JSON Schema keywords, and notes for
    the rules that JSON Schema (OpenAPI 3.0) cannot state."""

    keywords: Schema = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, other: Constraints) -> None:
        """Merges `other` into this one."""
        merge_keywords(self.keywords, other.keywords)
        self.notes += other.notes


def merge_keywords(target: Schema, extra: Schema) -> Schema:
    """Adds `extra` to `target` in place. Bounds keep the tighter of the two; mappings
    merge key by key; any other keyword that both set differently is kept from `target`
    and the other value goes to `allOf`, so no constraint is lost."""
    for key, value in extra.items():
        if key in _BOUNDS:
            _merge_bound(target, extra, key)
        elif key in _BOUND_FLAGS:
            continue  # merged with its bound
        elif key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(target[key], dict) and isinstance(value, dict) and key != "not":
            merge_keywords(target[key], value)
        elif target[key] != value:
            target.setdefault("allOf", []).append({key: copy.deepcopy(value)})
    return target


_BOUNDS = {"minimum": ("exclusiveMinimum", max), "maximum": ("exclusiveMaximum", min)}
_BOUND_FLAGS = frozenset(flag for flag, _ in _BOUNDS.values())


def _merge_bound(target: Schema, extra: Schema, key: str) -> None:
    flag, tighter = _BOUNDS[key]
    new = (extra[key], bool(extra.get(flag)))
    old = (target[key], bool(target.get(flag))) if key in target else new
    if old[0] == new[0]:
        value, exclusive = old[0], old[1] or new[1]
    else:
        value = tighter(old[0], new[0])
        exclusive = new[1] if value == new[0] else old[1]
    target[key] = value
    target.pop(flag, None)
    if exclusive:
        target[flag] = True


def code(value: Any) -> str:
    """`value` as inline Markdown code."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"`{text}`"


def code_list(values: Iterable[Any], last: str = "or") -> str:
    """`a`, `b` or `c`."""
    items = [code(value) for value in values]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def lower_camel(path: str) -> str:
    """A dotted snake_case field path in the lowerCamelCase of proto3 JSON."""

    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)

    return ".".join(camel(part) for part in path.split("."))
