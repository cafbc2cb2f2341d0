"""The access-policy rule: every RPC of the contracts declares who may call it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor, descriptor_pb2

from contractkit.descriptors import Options, iter_methods
from contractkit.findings import Finding

__all__ = ["ACCESS_OPTION", "check_access_policies"]

ACCESS_OPTION = "acme.options.v1.access"
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# FileDescriptorProto.service = 6, ServiceDescriptorProto.method = 2.
_SERVICE_FIELD, _METHOD_FIELD = 6, 2


def check_access_policies(
    files: list[descriptor_pb2.FileDescriptorProto], own_files: Iterable[str]
) -> list[Finding]:
    """Findings for every RPC of `own_files` whose access policy is missing or unsound."""
    own = set(own_files)
    options = Options(files)
    findings: list[Finding] = []
    for file, service, method in iter_methods(f for f in files if f.name in own):
        rpc = f"{file.package}.{service.name}.{method.name}"
        where = _location(file, service, method)
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
            Finding(where, rpc, rule, text) for rule, text in _policy_problems(policy, request)
        ]
    return findings


def _policy_problems(policy: Any, request: descriptor.Descriptor) -> list[tuple[str, str]]:
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
    problems += [
        ("ACCESS_POLICY_ROLE_NAME", f"role {role!r} is not a lower-case name")
        for role in policy.roles
        if not _ROLE_NAME.match(role)
    ]
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


def _location(
    file: descriptor_pb2.FileDescriptorProto,
    service: descriptor_pb2.ServiceDescriptorProto,
    method: descriptor_pb2.MethodDescriptorProto,
) -> str:
    """`file:line:column` of the method's declaration (1-based), or the file name."""
    path = [
        _SERVICE_FIELD,
        list(file.service).index(service),
        _METHOD_FIELD,
        list(service.method).index(method),
    ]
    for loc in file.source_code_info.location:
        if list(loc.path) == path:
            return f"{file.name}:{loc.span[0] + 1}:{loc.span[1] + 1}"
    return file.name
