"""The role registry: the roles an access policy may grant, declared once in the contracts.

Each role is a file option of `acme/options/v1/roles.proto`::

    option (acme.options.v1.role) = {name: "admin" description: "Full access ..."};

The contract lint refuses a registry entry that is malformed, repeated or declared anywhere
else, and (in :mod:`contractkit.policy`) a policy that names a role the registry lacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2

from contractkit.descriptors import Options
from contractkit.findings import Finding

__all__ = ["REGISTRY_FILE", "ROLE_OPTION", "Registry", "read_registry"]

ROLE_OPTION = "acme.options.v1.role"
REGISTRY_FILE = "acme/options/v1/roles.proto"
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FILE_OPTIONS, _ROLE_FIELD = 8, 51003  # FileDescriptorProto.options, the `role` extension


@dataclass(frozen=True)
class Registry:
    """The declared roles by name, and what is wrong with the declarations."""

    roles: frozenset[str]
    problems: tuple[Finding, ...]


def read_registry(
    files: list[descriptor_pb2.FileDescriptorProto], own_files: Iterable[str], options: Options
) -> Registry:
    """The roles `own_files` declare, with one finding per unsound declaration."""
    own = set(own_files)
    roles: set[str] = set()
    problems: list[Finding] = []
    for file in files:
        if file.name not in own:
            continue
        declarations = options.get(file.options, ROLE_OPTION) or []
        for index, declaration in enumerate(declarations):
            name = declaration.name
            source = _position(file, index)
            where = f"role {name!r}" if name else "a role"
            problems += [
                Finding(source, where, rule, text)
                for rule, text in _problems(file.name, declaration, seen=roles)
            ]
            roles.add(name)
    valid = frozenset(role for role in roles if ROLE_NAME.match(role))
    return Registry(roles=valid, problems=tuple(problems))


def _problems(file: str, declaration: Any, seen: set[str]) -> Iterator[tuple[str, str]]:
    if file != REGISTRY_FILE:
        yield (
            "ROLE_DECLARED_OUTSIDE_REGISTRY",
            f"roles are declared only in the registry, {REGISTRY_FILE}",
        )
    if not ROLE_NAME.match(declaration.name):
        yield "ROLE_NAME", "a role name is lower case: letters, digits and underscores"
    elif declaration.name in seen:
        yield "ROLE_DECLARED_TWICE", "is declared more than once"
    if not declaration.description.strip():
        yield "ROLE_DESCRIPTION", "needs a description: what holding the role allows"


def _position(file: descriptor_pb2.FileDescriptorProto, index: int) -> str:
    """`file:line:column` of the `index`-th role option of `file` (FileDescriptorProto
    `options` is field 8; the option is its extension field)."""
    path = [_FILE_OPTIONS, _ROLE_FIELD, index]
    for location in file.source_code_info.location:
        if list(location.path) == path:
            return f"{file.name}:{location.span[0] + 1}:{location.span[1] + 1}"
    return file.name
