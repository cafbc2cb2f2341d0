"""Compare two versions of one operation: id, parameters, request body, success responses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from contractkit.openapi_model import Operation, as_mapping, deref, operation_parameters
from contractkit.openapi_schema_diff import diff_schemas
from contractkit.openapi_schemas import REQUEST, RESPONSE, visible_properties

__all__ = ["Issue", "OperationPair", "diff_operation"]

Issue = tuple[str, str, str]  # location, rule, message
JSON = "application/json"
# Body changes that are the other half of a parameter moving into or out of the body.
_MOVE_ECHOES = ("REQUEST_PROPERTY_REMOVED", "REQUEST_PROPERTY_REQUIRED")


@dataclass(frozen=True, kw_only=True)
class OperationPair:
    """The same operation in the base and head documents; ``renames`` maps path parameters."""

    base_doc: Mapping[str, Any]
    head_doc: Mapping[str, Any]
    base: Operation
    head: Operation
    renames: Mapping[str, str]

    @property
    def label(self) -> str:
        return self.base.label

    def parameters(self) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], Any]]:
        """Base parameters keyed as in head (renamed path parameters), and head parameters."""
        base = {
            (where, self.renames.get(name, name) if where == "path" else name): parameter
            for (where, name), parameter in operation_parameters(self.base_doc, self.base).items()
        }
        return base, operation_parameters(self.head_doc, self.head)

    def base_name(self, where: str, name: str) -> str:
        """The base name of a parameter keyed by its head name (undoes path renames)."""
        if where != "path":
            return name
        return next((old for old, new in self.renames.items() if new == name), name)

    def body_properties(self) -> tuple[set[str], set[str]]:
        """Top-level request body properties a client may send, in base and in head."""
        return (
            set(visible_properties(self.base_doc, _body_schema(self.base_doc, self.base), REQUEST)),
            set(visible_properties(self.head_doc, _body_schema(self.head_doc, self.head), REQUEST)),
        )


def diff_operation(pair: OperationPair) -> list[Issue]:
    """Everything about ``pair`` that breaks a client of the base operation."""
    issues: list[Issue] = []
    base_id, head_id = pair.base.body.get("operationId"), pair.head.body.get("operationId")
    if base_id != head_id:
        message = f"operationId changed from '{base_id}' to '{head_id}'"
        issues.append((pair.label, "OPERATION_ID_CHANGED", message))
    moved = _moves(pair)
    issues += _parameter_issues(pair, moved)
    issues += _request_body_issues(pair, moved)
    issues += _response_issues(pair)
    return issues


def _body_schema(doc: Mapping[str, Any], operation: Operation) -> object | None:
    return _json_schema(deref(doc, operation.body.get("requestBody"))[0])


def _json_schema(holder: Mapping[str, Any]) -> object | None:
    media = as_mapping(as_mapping(holder.get("content")).get(JSON))
    return media.get("schema") if "schema" in media else None


def _moves(pair: OperationPair) -> set[str]:
    """Names that left the parameters for the body, or the body for the parameters."""
    base_params, head_params = pair.parameters()
    base_names, head_names = {n for _, n in base_params}, {n for _, n in head_params}
    base_body, head_body = pair.body_properties()
    into_body = (base_names - head_names) & (head_body - base_body)
    out_of_body = (head_names - base_names) & (base_body - head_body)
    return into_body | out_of_body


def _parameter_issues(pair: OperationPair, moved: set[str]) -> Iterator[Issue]:
    base_params, head_params = pair.parameters()
    head_in = {name: where for where, name in head_params}
    for (where, name), parameter in base_params.items():
        location = f"{pair.label} {where} parameter '{pair.base_name(where, name)}'"
        if (where, name) in head_params:
            yield from _parameter_changes(pair, location, parameter, head_params[(where, name)])
        elif name in head_in:
            yield location, "PARAMETER_MOVED", f"moved from {where} to {head_in[name]}"
        elif name in moved:
            yield location, "PARAMETER_MOVED", f"moved from {where} to the request body"
        else:
            yield location, "PARAMETER_REMOVED", "removed"
    base_names = {name for _, name in base_params}
    for (where, name), parameter in head_params.items():
        location = f"{pair.label} request body"
        if name in moved:
            yield location, "PARAMETER_MOVED", f"property '{name}' moved to {where} parameter"
        elif name not in base_names and parameter.get("required") is True:
            yield (
                f"{pair.label} {where} parameter '{name}'",
                "PARAMETER_REQUIRED",
                "added as required",
            )


def _parameter_changes(pair: OperationPair, location: str, base: Any, head: Any) -> Iterator[Issue]:
    if head.get("required") is True and base.get("required") is not True:
        yield location, "PARAMETER_REQUIRED", "became required"
    changes = diff_schemas(
        pair.base_doc, base.get("schema"), pair.head_doc, head.get("schema"), direction=REQUEST
    )
    yield from ((location, change.rule, change.message) for change in changes)


def _request_body_issues(pair: OperationPair, moved: set[str]) -> Iterator[Issue]:
    base_body = deref(pair.base_doc, pair.base.body.get("requestBody"))[0]
    head_body = deref(pair.head_doc, pair.head.body.get("requestBody"))[0]
    location = f"{pair.label} request body"
    if head_body.get("required") is True and base_body.get("required") is not True:
        yield (
            location,
            "REQUEST_BODY_REQUIRED",
            "became required" if base_body else "added as required",
        )
    base_schema, head_schema = _json_schema(base_body), _json_schema(head_body)
    if base_schema is not None and head_schema is None:
        yield location, "REQUEST_BODY_REMOVED", f"{JSON} body removed"
    if base_schema is None or head_schema is None:
        return
    for change in diff_schemas(
        pair.base_doc, base_schema, pair.head_doc, head_schema, direction=REQUEST
    ):
        if not (change.path in moved and change.rule in _MOVE_ECHOES):
            yield location, change.rule, change.message


def _response_issues(pair: OperationPair) -> Iterator[Issue]:
    base_responses = {
        str(code): raw for code, raw in as_mapping(pair.base.body.get("responses")).items()
    }
    head_responses = {
        str(code): raw for code, raw in as_mapping(pair.head.body.get("responses")).items()
    }
    for code, raw in base_responses.items():
        if not code.startswith("2"):
            continue
        if code not in head_responses:
            yield pair.label, "RESPONSE_REMOVED", f"response {code} removed"
            continue
        base_schema = _json_schema(deref(pair.base_doc, raw)[0])
        head_schema = _json_schema(deref(pair.head_doc, head_responses[code])[0])
        location = f"{pair.label} {code} response"
        if base_schema is not None and head_schema is None:
            yield location, "RESPONSE_BODY_REMOVED", f"{JSON} body removed"
        elif base_schema is not None:
            changes = diff_schemas(
                pair.base_doc, base_schema, pair.head_doc, head_schema, direction=RESPONSE
            )
            yield from ((location, change.rule, change.message) for change in changes)
