"""The `google.api.http` rule lint: every binding names fields its messages have.

A path variable (`{id}`, `{user.id}`, `{name=shelves/*}`) binds a singular scalar or enum
field of the request, through singular message fields; `body` names a request field (or
`*`), `response_body` a response field. Generation would refuse the same mistakes later
and one at a time; the lint names them all, with the line of the RPC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from google.protobuf import descriptor, descriptor_pb2

from contractkit.descriptors import Options, iter_methods, locations_of
from contractkit.findings import Finding
from contractkit.openapigen.pathtemplate import parse_template
from contractkit.plugins._io import PluginError

__all__ = ["HTTP_OPTION", "check_http_rules"]

HTTP_OPTION = "google.api.http"
_VERBS = ("get", "put", "post", "delete", "patch")


def check_http_rules(
    files: list[descriptor_pb2.FileDescriptorProto], own_files: Iterable[str]
) -> list[Finding]:
    """One finding per binding of an RPC of `own_files` that names a field that is not there."""
    own = set(own_files)
    options = Options(files)
    locations = locations_of(f for f in files if f.name in own)
    findings: list[Finding] = []
    for file, service, method in iter_methods(f for f in files if f.name in own):
        rule = options.get(method.options, HTTP_OPTION)
        if rule is None:
            continue
        rpc = f"{file.package}.{service.name}.{method.name}"
        where = locations.get(rpc, file.name)
        request = options.message(method.input_type)
        response = options.message(method.output_type)
        for binding in [rule, *rule.additional_bindings]:
            findings += [
                Finding(where, rpc, code, text)
                for code, text in _binding_problems(binding, request, response)
            ]
    return findings


def _binding_problems(
    binding: Any, request: descriptor.Descriptor, response: descriptor.Descriptor
) -> Iterator[tuple[str, str]]:
    kind = binding.WhichOneof("pattern")
    if kind in _VERBS:
        verb, template = kind.upper(), getattr(binding, kind)
    elif kind == "custom":
        verb, template = binding.custom.kind.upper(), binding.custom.path
    else:
        yield "HTTP_RULE_PATH", "a google.api.http binding has no verb and path"
        return
    label = f"{verb} {template}"
    try:
        variables = parse_template(template).variables
    except PluginError as exc:
        yield "HTTP_PATH_TEMPLATE", f"{label}: {exc}"
        return
    for variable in variables:
        problem = _path_field_problem(request, variable.field_path)
        if problem:
            yield (
                "HTTP_PATH_VARIABLE",
                f"{label}: path variable {{{variable.field_path}}} {problem}",
            )
    if binding.body not in ("", "*") and binding.body not in request.fields_by_name:
        yield (
            "HTTP_BODY_FIELD",
            f"{label}: body {binding.body!r} names no field of {request.full_name}",
        )
    if binding.response_body and binding.response_body not in response.fields_by_name:
        yield (
            "HTTP_RESPONSE_BODY_FIELD",
            f"{label}: response_body {binding.response_body!r} names no field of "
            f"{response.full_name}",
        )


def _path_field_problem(request: descriptor.Descriptor, path: str) -> str:
    """Why `path` cannot be bound from the URL, or '' when it can."""
    message = request
    *parents, last = path.split(".")
    for name in parents:
        field = message.fields_by_name.get(name)
        if field is None:
            return f"names no field of {request.full_name} ({message.full_name} has no {name!r})"
        if field.message_type is None or field.is_repeated:
            return f"steps through {field.full_name}, which is not a singular message field"
        message = field.message_type
    leaf = message.fields_by_name.get(last)
    if leaf is None:
        return f"names no field of {request.full_name}" + (
            f" ({message.full_name} has no {last!r})" if parents else ""
        )
    if leaf.is_repeated or leaf.message_type is not None:
        return f"names {leaf.full_name}, which is not a singular scalar or enum field"
    return ""
