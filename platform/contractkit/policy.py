"""The access-policy rule: every RPC of the contracts declares who may call it, granting only
roles of the registry (:mod:`contractkit.roles`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor, descriptor_pb2

from contractkit.descriptors import Options, iter_methods, locations_of
from contractkit.findings import Finding
from contractkit.roles import REGISTRY_FILE, ROLE_NAME, read_registry

__all__ = ["ACCESS_OPTION", "check_access_policies"]

ACCESS_OPTION = "acme.options.v1.access"


def check_access_policies(
    files: list[descriptor_pb2.FileDescriptorProto], own_files: Iterable[str]
) -> list[Finding]:
    """Findings for every RPC of `own_files` whose access policy is missing or unsound, and
    for every unsound declaration of the role registry."""
    own = set(own_files)
    options = Options(files)
    registry = read_registry(files, own, options)
    findings: list[Finding] = list(registry.problems)
    locations = locations_of(f for f in files if f.name in own)
    for file, service, method in iter_methods(f for f in files if f.name in own):
        rpc = f"{file.package}.{service.name}.{method.name}"
        where = locations.get(rpc, file.name)
        policy = options.get(method.options, ACCESS_OPTION)
        if policy is None:
            findings.append(
                Finding(
                    where,
                    rpc,
                    "ACCESS_POLICY_REQUIRED",
                    f"declares no access policy (option ({ACCESS_OPTION}))",
                )
            )
            continue
        request = options.message(method.input_type)
        findings += [
            Finding(where, rpc, rule, text)
            for rule, text in _policy_problems(policy, request, registry.roles)
        ]
    return findings


def _policy_problems(
    policy: Any, request: descriptor.Descriptor, declared: frozenset[str]
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    grants = [
        policy.authenticated,
        bool(policy.roles),
        bool(policy.owner_field),
        bool(policy.services),
    ]
    if not policy.public and not any(grants):
        problems.append(("ACCESS_POLICY_EMPTY", "the access policy grants access to nobody"))
    if policy.public and any(grants):
        problems.append(
            (
                "ACCESS_POLICY_PUBLIC_EXCLUSIVE",
                "a public access policy cannot also set other grants",
            )
        )
    for role in policy.roles:
        if not ROLE_NAME.match(role):
            problems.append(("ACCESS_POLICY_ROLE_NAME", f"role {role!r} is not a lower-case name"))
        elif role not in declared:
            problems.append(("ACCESS_POLICY_ROLE_UNDECLARED", _undeclared(role, declared)))
    if policy.owner_field and not _is_string_field(request, policy.owner_field):
        problems.append(
            (
                "ACCESS_POLICY_OWNER_FIELD",
                f"owner_field {policy.owner_field!r} is not a string field of {request.full_name}",
            )
        )
    return problems


def _is_string_field(message: descriptor.Descriptor, path: str) -> bool:
    *parents, last = path.split(".")
    for name in parents:
        parent = message.fields_by_name.get(name)
        if parent is None or parent.message_type is None or parent.is_repeated:
            return False
        message = parent.message_type
    leaf = message.fields_by_name.get(last)
    return (
        leaf is not None
        and leaf.type == descriptor.FieldDescriptor.TYPE_STRING
        and not leaf.is_repeated
    )


def _undeclared(role: str, declared: frozenset[str]) -> str:
    text = f"role {role!r} is not declared in the role registry ({REGISTRY_FILE})"
    close = difflib.get_close_matches(role, sorted(declared), n=1)
    return f"{text}; did you mean {close[0]!r}?" if close else text
