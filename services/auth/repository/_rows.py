"""Rows <-> domain objects for the repositories: a column is named as its field is."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import CursorResult, Row

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["rowcount", "to_entity", "to_values"]

E = TypeVar("E")


def to_values(entity: DataclassInstance, **overrides: Any) -> dict[str, Any]:
    """The column values of ``entity``: its fields, with ``overrides`` replacing some."""
    values = {field.name: getattr(entity, field.name) for field in dataclasses.fields(entity)}
    return values | overrides


def to_entity(kind: type[E], row: Row[Any], **overrides: Any) -> E:
    """A ``kind`` made of the row's columns, with ``overrides`` replacing some."""
    return kind(**(dict(row._mapping) | overrides))


def rowcount(result: object) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return cast(CursorResult[Any], result).rowcount
