"""`google.api.http` path templates as OpenAPI paths.

`/v1/{name=shelves/*}/books:search` becomes `/v1/{name}/books:search` with the variable
`name` matching `shelves/*`; `{user.id}` keeps its dotted name. Wildcards outside a
variable cannot be named in OpenAPI and are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contractkit.plugins._io import PluginError

__all__ = ["PathTemplate", "Variable", "parse_template"]

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_VARIABLE = re.compile(rf"\{{({_IDENT}(?:\.{_IDENT})*)(?:=([^{{}}]*))?\}}")
_SEGMENT = re.compile(r"^(\*\*?|[^/*{}:]+)$")


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
