"""`google.api.http` path templates as OpenAPI paths.

`/v1/{name=shelves/*}/books:search` becomes `/v1/{name}/books:search` with the variable
`name` matching `shelves/*`. Wildcards outside a variable cannot be named in OpenAPI and
are refused.

A path parameter's name is an identifier, never the dotted field path (`{user.id}`):
tools fill templates with `str.format` or route them with frameworks that take only
identifiers. `parameter_names` names each variable by its field's JSON name (`user.id`
-> `id`), or by the whole path in lowerCamelCase (`shelfName`) when two variables of a
template would share a name; the field path itself travels with the parameter
(`x-acme-field-path`). `path_shape` erases the names: OpenAPI holds two templates of the
same shape to be the same path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor

from contractkit.plugins._io import PluginError

__all__ = ["PathTemplate", "Variable", "parameter_names", "parse_template", "path_shape"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_VARIABLE = re.compile(rf"\{{({_IDENT}(?:\.{_IDENT})*)(?:=([^{{}}]*))?\}}")
_SEGMENT = re.compile(r"^(\*\*?|[^/*{}:]+)$")
_TEMPLATE_NAME = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class Variable:
    """A variable of a path template: the request field it binds and, when the template
    gives one, the segments it matches (`shelves/*`)."""

    field_path: str
    segments: str | None

    @property
    def pattern(self) -> str | None:
        """A regular expression for the value when it spans a fixed shape of segments."""
        if self.segments is None:
            return None
        parts = [
            "[^/]+" if seg == "*" else ".+" if seg == "**" else re.escape(seg)
            for seg in self.segments.split("/")
        ]
        return "^" + "/".join(parts) + "$"


@dataclass(frozen=True)
class PathTemplate:
    """An OpenAPI path and the variables of its template, in order."""

    path: str
    variables: tuple[Variable, ...]

    def named(self, names: Mapping[str, str]) -> str:
        """The path with each variable called by its name in ``names`` (by field path)."""
        path = self.path
        for variable in self.variables:
            field_path = variable.field_path
            path = path.replace("{" + field_path + "}", "{" + names[field_path] + "}")
        return path


def path_shape(path: str) -> str:
    """``/v1/users/{}`` for ``/v1/users/{id}``: the path with its parameter names erased."""
    return _TEMPLATE_NAME.sub("{}", path)


def parameter_names(request: Descriptor, template: PathTemplate) -> dict[str, str]:
    """An identifier for each variable of ``template`` (by field path), unique in it: the
    JSON name of the field it binds, or of its whole path when two would clash."""
    leaf = {v.field_path: _json_names(request, v.field_path)[-1] for v in template.variables}
    whole = {
        v.field_path: _lower_camel(_json_names(request, v.field_path)) for v in template.variables
    }
    counts: dict[str, int] = {}
    for name in leaf.values():
        counts[name] = counts.get(name, 0) + 1
    names = {path: leaf[path] if counts[leaf[path]] == 1 else whole[path] for path in leaf}
    if len(set(names.values())) != len(names):
        raise PluginError(
            f"path template {template.path!r} of {request.full_name}: its variables cannot "
            "be given distinct parameter names"
        )
    return names


def _json_names(request: Descriptor, field_path: str) -> list[str]:
    """The JSON names of the fields along a dotted path of proto names."""
    names: list[str] = []
    message: Descriptor | None = request
    for step in field_path.split("."):
        field = None if message is None else message.fields_by_name.get(step)
        if field is None:
            raise PluginError(f"{request.full_name} has no field {field_path!r}")
        names.append(field.json_name)
        message = field.message_type
    return names


def _lower_camel(names: list[str]) -> str:
    """``shelfName`` for ``["shelf", "name"]``."""
    return names[0] + "".join(name[:1].upper() + name[1:] for name in names[1:])


def parse_template(template: str) -> PathTemplate:
    """The OpenAPI path of an HTTP rule's path template; PluginError when malformed."""
    if not template.startswith("/"):
        raise PluginError(f"path template {template!r} does not start with '/'")
    variables: list[Variable] = []

    def replace(match: re.Match[str]) -> str:
        segments = match.group(2)
        if segments is not None:
            _check_segments(template, segments)
        variables.append(Variable(match.group(1), None if segments in (None, "*") else segments))
        return "{" + match.group(1) + "}"

    path = _VARIABLE.sub(replace, template)
    rest = _VARIABLE.sub("", template)
    if "{" in rest or "}" in rest:
        raise PluginError(f"path template {template!r} has a malformed variable")
    if "*" in rest:
        raise PluginError(
            f"path template {template!r} has a wildcard outside a variable, "
            "which an OpenAPI path cannot name"
        )
    names = [variable.field_path for variable in variables]
    if len(set(names)) != len(names):
        raise PluginError(f"path template {template!r} binds a field twice")
    return PathTemplate(path=path, variables=tuple(variables))


def _check_segments(template: str, segments: str) -> None:
    if not all(_SEGMENT.match(segment) for segment in segments.split("/")):
        raise PluginError(f"path template {template!r} has malformed segments {segments!r}")
