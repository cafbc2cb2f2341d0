"""One OpenAPI operation per binding (the rule and each of its `additional_bindings`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, MethodDescriptor

from contractkit.openapigen.access import describe_access
from contractkit.openapigen.annotations import Annotations
from contractkit.openapigen.comments import first_sentence, join_text
from contractkit.openapigen.parameters import path_parameters, query_parameters
from contractkit.openapigen.pathtemplate import parameter_names, parse_template
from contractkit.openapigen.problems import error_responses
from contractkit.openapigen.schemas import Schemas
from contractkit.openapigen.types import Schema
from contractkit.plugins._io import PluginError

__all__ = ["Binding", "OperationBuilder", "bindings"]

JSON = "application/json"
_VERBS = ("get", "put", "post", "delete", "patch")
_CUSTOM_VERBS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


@dataclass(frozen=True)
class Binding:
    """One HTTP binding of an RPC: verb, path template, body and response body fields."""

    verb: str
    template: str
    body: str
    response_body: str
    index: int


def bindings(method: MethodDescriptor, rule: Any) -> list[Binding]:
    """The HttpRule's own binding, then its additional bindings, in order."""
    rules = [rule, *rule.additional_bindings]
    return [_binding(method, each, index) for index, each in enumerate(rules)]


def _binding(method: MethodDescriptor, rule: Any, index: int) -> Binding:
    kind = rule.WhichOneof("pattern")
    if kind in _VERBS:
        verb, template = kind, getattr(rule, kind)
    elif kind == "custom":
        verb, template = rule.custom.kind.lower(), rule.custom.path
        if verb not in _CUSTOM_VERBS:
            raise PluginError(
                f"{method.full_name}: custom HTTP method {rule.custom.kind!r} "
                "has no OpenAPI operation"
            )
    else:
        raise PluginError(f"{method.full_name}: google.api.http binding has no path")
    return Binding(
        verb=verb, template=template, body=rule.body, response_body=rule.response_body, index=index
    )


class OperationBuilder:
    """Builds operations, sharing one schema registry."""

    def __init__(self, schemas: Schemas, annotations: Annotations) -> None:
        self.schemas = schemas
        self.annotations = annotations

    def build(self, method: MethodDescriptor, binding: Binding, tag: str) -> tuple[str, Schema]:
        """The OpenAPI path and operation of one binding of `method`."""
        template = parse_template(binding.template)
        request = method.input_type
        bound = frozenset(variable.field_path for variable in template.variables)
        parameters = path_parameters(self.schemas, request, template)
        if binding.body != "*":
            skip = bound | {binding.body} if binding.body else bound
            parameters += query_parameters(self.schemas, request, skip)
        access = describe_access(self.annotations.access(method))
        comment = self.schemas.comments.get(method.full_name)
        suffix = f"_{binding.index + 1}" if binding.index else ""
        operation: Schema = {
            "operationId": method.full_name + suffix,
            "tags": [tag],
            "summary": first_sentence(comment) or method.name,
            "description": join_text(comment, access.sentence),
        }
        if method.GetOptions().deprecated:
            operation["deprecated"] = True
        if parameters:
            operation["parameters"] = parameters
        if binding.body:
            operation["requestBody"] = self._request_body(request, binding.body, bound)
        operation["responses"] = {
            "200": self._success(method.output_type, binding),
            **error_responses(
                verb=binding.verb, has_path_parameters=bool(bound), public=access.public
            ),
        }
        operation["security"] = access.security
        operation["x-access-policy"] = access.extension
        return template.named(parameter_names(request, template)), operation

    def _request_body(self, request: Descriptor, body: str, bound: frozenset[str]) -> Schema:
        """`*`: the request without the top-level fields bound to the path (a nested bound
        field stays in the body; the path value wins); else the named field."""
        description = ""
        if body == "*":
            exclude = frozenset(path for path in bound if "." not in path)
            schema = (
                self.schemas.object_schema(request, exclude)
                if exclude
                else self.schemas.message(request)
            )
        else:
            field = request.fields_by_name.get(body)
            if field is None:
                raise PluginError(f"{request.full_name} has no body field {body!r}")
            parts = self.schemas.fields.parts(field)
            schema, description = parts.schema, parts.description
        request_body: Schema = {"description": description} if description else {}
        request_body.update(required=True, content={JSON: {"schema": schema}})
        return request_body

    def _success(self, response: Descriptor, binding: Binding) -> Schema:
        if binding.response_body:
            field = response.fields_by_name.get(binding.response_body)
            if field is None:
                raise PluginError(
                    f"{response.full_name} has no response_body field {binding.response_body!r}"
                )
            parts = self.schemas.fields.parts(field)
            schema, text = parts.schema, parts.description
        else:
            schema = self.schemas.message(response)
            # Well-known types' comments speak to proto authors, not to API users.
            well_known = response.full_name.startswith("google.protobuf.")
            text = "" if well_known else self.schemas.comments.get(response.full_name)
        success: Schema = {"description": first_sentence(text) or "OK"}
        if binding.verb != "head":
            success["content"] = {JSON: {"schema": schema}}
        return success
