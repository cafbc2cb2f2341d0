"""Names of fields and parameters, as the contract, the document and Starlette spell them.

- ``json_field_path``: a field path in proto names (``user.display_name``, as the
  backends' violations give it) in JSON names (``user.displayName``, as the REST face).
- ``routable_document``: the OpenAPI document with path parameters Starlette can route:
  its templates take identifiers only, so ``/v1/users/{user.id}`` would match nothing but
  that literal text; connexion gets ``{user_id}`` instead. The URLs are the same.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

__all__ = [
    "TEMPLATE_VARIABLE",
    "field_named",
    "json_field_path",
    "routable_document",
    "routable_name",
]

TEMPLATE_VARIABLE = re.compile(r"\{([^}=]+)(?:=[^}]*)?\}")
"""A variable of a path template: ``{id}``, ``{user.id}``, ``{name=users/*}``."""

_VERBS = ("get", "put", "post", "delete", "patch")
_FIELD_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]*\])*)")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def routable_name(name: str) -> str:
    """A path parameter name Starlette can route (``user.id`` -> ``user_id``).

    Starlette's path templates take identifiers only: ``/v1/users/{user.id}`` would match
    nothing but that literal text.
    """
    return _NOT_IDENTIFIER.sub("_", name)


def routable_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` whose path templates and path parameters Starlette can route.

    connexion routes and validates with this copy; clients see the document as it is.
    """
    routed = copy.deepcopy(dict(document))
    paths: dict[str, Any] = {}
    for route, item in (routed.get("paths") or {}).items():
        for declarations in _parameter_lists(item):
            for declaration in declarations:
                if isinstance(declaration, dict) and declaration.get("in") == "path":
                    declaration["name"] = routable_name(str(declaration.get("name", "")))
        paths[TEMPLATE_VARIABLE.sub(lambda m: "{" + routable_name(m.group(1)) + "}", route)] = item
    routed["paths"] = paths
    return routed


def json_field_path(descriptor: Descriptor, proto_path: str) -> str:
    """``user.displayName`` for ``user.display_name``: a field path in JSON names.

    Subscripts (``roles[1]``, ``labels["a"]``) are kept; an unknown name is kept as it is.
    """
    return _json_field_path(descriptor, proto_path)


@functools.lru_cache(maxsize=1024)
def _json_field_path(descriptor: Descriptor | None, proto_path: str) -> str:
    parts: list[str] = []
    for match in _FIELD_STEP.finditer(proto_path):
        name, subscripts = match.group(1), match.group(2)
        field = field_named(descriptor, name)
        parts.append((field.json_name if field else name) + subscripts)
        descriptor = _next_message(field, subscripts=bool(subscripts))
    return ".".join(parts)


def _parameter_lists(item: Mapping[str, Any]) -> Iterable[list[Any]]:
    yield item.get("parameters") or []
    for verb in _VERBS:
        operation = item.get(verb)
        if isinstance(operation, Mapping):
            yield operation.get("parameters") or []


def field_named(descriptor: Descriptor | None, name: str) -> FieldDescriptor | None:
    """The field of ``descriptor`` called ``name``, in proto or JSON spelling; else None."""
    if descriptor is None:
        return None
    field = descriptor.fields_by_name.get(name)
    if field is None:
        field = next((f for f in descriptor.fields if f.json_name == name), None)
    return field


def _next_message(field: FieldDescriptor | None, *, subscripts: bool) -> Descriptor | None:
    message = None if field is None else field.message_type
    if subscripts and message is not None and message.GetOptions().map_entry:
        value = message.fields_by_name.get("value")
        return None if value is None else value.message_type
    return message
