"""Reads a settings dataclass once into a tree of nodes that convert raw values.

Mistakes in the declaration itself (a mutable dataclass, an annotation nobody can convert)
are programming errors: they raise ``TypeError`` before any value is looked at.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias, Union, get_args, get_origin, get_type_hints

from servicekit.config.secret import InsecureDefault, Secret

__all__ = [
    "Field",
    "Invalid",
    "Node",
    "Nullable",
    "Scalar",
    "Struct",
    "TupleOf",
    "describe",
    "node_at",
    "non_null",
]


class Invalid(Exception):  # an outcome of one conversion, not an error to report
    """A raw value does not fit its annotation; ``rule`` says why, without secret content."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Scalar:
    """A leaf value. ``text`` leaves take environment values verbatim, never parsed as TOML."""

    convert: Callable[[object], object]
    text: bool


@dataclass(frozen=True, slots=True)
class TupleOf:
    """``tuple[X, ...]``: a TOML array, or a comma-separated string."""

    item: Node


@dataclass(frozen=True, slots=True)
class Nullable:
    """``X | None``: an empty string (or no value) gives ``None``."""

    inner: Node


def non_null(node: Node) -> Node:
    """The node of ``X`` for ``X | None``; any other node as it is."""
    return node.inner if isinstance(node, Nullable) else node


@dataclass(frozen=True, slots=True)
class Field:
    """One dataclass field: its node, its default (``MISSING``: required), its marker."""

    name: str
    node: Node
    default: object
    insecure: InsecureDefault | None

    @property
    def required(self) -> bool:
        """Whether the settings must give a value: the dataclass has no default."""
        return self.default is dataclasses.MISSING


@dataclass(frozen=True, slots=True)
class Struct:
    """A frozen dataclass: a TOML table."""

    cls: type[Any]
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        """The field called ``name`` (lower case), if any."""
        return next((field for field in self.fields if field.name == name), None)


Node: TypeAlias = Scalar | TupleOf | Nullable | Struct


def node_at(struct: Struct, path: Sequence[str]) -> Node | None:
    """The node ``path`` (lower-case keys) leads to from ``struct``: a setting's or a
    table's; None when it names neither."""
    node: Node = struct
    for name in path:
        table = non_null(node)
        field = table.field(name) if isinstance(table, Struct) else None
        if field is None:
            return None
        node = field.node
    return node


def describe(cls: type[Any]) -> Struct:
    """The node tree of a frozen settings dataclass."""
    params = getattr(cls, "__dataclass_params__", None)
    if not isinstance(cls, type) or params is None or not params.frozen:
        raise TypeError(f"{cls!r} must be a frozen dataclass")
    try:
        hints = get_type_hints(cls, include_extras=True)
    except NameError as exc:
        where = f"{cls.__name__}: cannot resolve an annotation ({exc})"
        raise TypeError(f"{where}; declare settings classes at module level") from exc
    fields = []
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        annotation, insecure = _split_annotated(hints[field.name])
        default = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        node = _node(annotation, f"{cls.__name__}.{field.name}")
        fields.append(Field(name=field.name, node=node, default=default, insecure=insecure))
    return Struct(cls=cls, fields=tuple(fields))


def _split_annotated(annotation: Any) -> tuple[Any, InsecureDefault | None]:
    if get_origin(annotation) is not Annotated:
        return annotation, None
    inner, *extras = get_args(annotation)
    markers = [extra for extra in extras if isinstance(extra, InsecureDefault)]
    return inner, (markers[0] if markers else None)


def _node(annotation: Any, where: str) -> Node:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        if any(isinstance(extra, InsecureDefault) for extra in args[1:]):
            raise TypeError(f"{where}: insecure_default() belongs on the outer annotation")
        return _node(args[0], where)
    if origin in (Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1:
            return Nullable(_node(rest[0], where))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return TupleOf(_node(args[0], where))
    if origin is Literal:
        return Scalar(_literal(args), text=all(isinstance(arg, str) for arg in args))
    if annotation in _SCALARS:
        convert, text = _SCALARS[annotation]
        return Scalar(convert, text=text)
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return describe(annotation)
    raise TypeError(f"{where}: unsupported annotation {annotation!r}")


def _to_str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise Invalid(f"expected a string, got {value!r}")


def _to_secret(value: object) -> Secret:
    if isinstance(value, str):
        return Secret(value)
    raise Invalid(f"expected a string, got {type(value).__name__} (value hidden)")


def _to_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise Invalid(f"expected an integer, got {value!r}")


def _to_float(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise Invalid(f"expected a number, got {value!r}")


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Invalid(f"expected true or false, got {value!r}")


def _to_path(value: object) -> Path:
    if isinstance(value, str) and value:
        return Path(value)
    raise Invalid(f"expected a path, got {value!r}")


def _literal(choices: tuple[object, ...]) -> Callable[[object], object]:
    def convert(value: object) -> object:
        for choice in choices:
            if type(value) is type(choice) and value == choice:
                return choice
        allowed = ", ".join(repr(choice) for choice in choices)
        raise Invalid(f"expected one of {allowed}, got {value!r}")

    return convert


_SCALARS: dict[object, tuple[Callable[[object], object], bool]] = {
    str: (_to_str, True),
    Secret: (_to_secret, True),
    Path: (_to_path, True),
    int: (_to_int, False),
    float: (_to_float, False),
    bool: (_to_bool, False),
}
