"""Validation keywords of a JSON schema that a new version may tighten (reject more input)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from contractkit.openapi_model import as_mapping

__all__ = ["tightened_constraints"]

# Keywords whose value is an upper bound: lowering it (or adding it) rejects more.
_UPPER_BOUNDS = ("maxLength", "maximum", "maxItems", "maxProperties")
# Keywords whose value is a lower bound: raising it (or adding it) rejects more.
_LOWER_BOUNDS = ("minLength", "minimum", "minItems", "minProperties")
# Boolean keywords that reject more once switched on.
_SWITCHES = ("exclusiveMaximum", "exclusiveMinimum", "uniqueItems")


def tightened_constraints(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[str]:
    """One sentence per validation keyword that accepts less in ``head`` than in ``base``."""
    return [
        *_bounds(base, head),
        *_switches(base, head),
        *_pattern(base, head),
        *_additional_properties(base, head),
        *_negation(base, head),
    ]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _bounds(base: Mapping[str, Any], head: Mapping[str, Any]) -> Iterator[str]:
    for keyword, sign in [*((k, 1) for k in _UPPER_BOUNDS), *((k, -1) for k in _LOWER_BOUNDS)]:
        before, after = _number(base.get(keyword)), _number(head.get(keyword))
        if after is None:
            continue
        if before is None:
            yield f"{keyword} {head[keyword]} added"
        elif (after - before) * sign < 0:
            verb = "decreased" if sign > 0 else "increased"
            yield f"{keyword} {verb} from {base[keyword]} to {head[keyword]}"


def _switches(base: Mapping[str, Any], head: Mapping[str, Any]) -> Iterator[str]:
    for keyword in _SWITCHES:
        if head.get(keyword) is True and base.get(keyword) is not True:
            yield f"{keyword} added"


def _pattern(base: Mapping[str, Any], head: Mapping[str, Any]) -> Iterator[str]:
    before, after = base.get("pattern"), head.get("pattern")
    if after is None or after == before:
        return
    old_paths, new_paths = _mask_paths(before), _mask_paths(after)
    if old_paths is not None and new_paths is not None:
        # An update mask's allowed paths: a path added accepts more, one removed less.
        removed = sorted(old_paths - new_paths)
        if removed:
            yield f"update mask paths no longer allowed: {', '.join(removed)}"
        return
    yield (
        f"pattern '{after}' added"
        if before is None
        else f"pattern changed from '{before}' to '{after}'"
    )


# The pattern the generator gives an update mask (contractkit.openapigen.timerules): one or
# more comma-separated paths, each an allowed one or a path below it.
_BELOW = r"(\.[A-Za-z][A-Za-z0-9]*)*"
_MASK = re.compile(
    r"\^\((?P<paths>[^()]*)\)"
    + re.escape(_BELOW)
    + r"\(,\((?P=paths)\)"
    + re.escape(_BELOW)
    + r"\)\*\$"
)


def _mask_paths(pattern: object) -> set[str] | None:
    """The allowed paths of an update mask's pattern, or None if it is another pattern."""
    if not isinstance(pattern, str):
        return None
    found = _MASK.fullmatch(pattern)
    if found is None:
        return None
    return {re.sub(r"\\(.)", r"\1", path) for path in found["paths"].split("|")}


def _additional_properties(base: Mapping[str, Any], head: Mapping[str, Any]) -> Iterator[str]:
    if head.get("additionalProperties") is False and base.get("additionalProperties") is not False:
        yield "additional properties no longer accepted"


def _negation(base: Mapping[str, Any], head: Mapping[str, Any]) -> Iterator[str]:
    """``not``: "not zero" reads ``not: {enum: [0]}``; more excluded values reject more."""
    before, after = as_mapping(base.get("not")), as_mapping(head.get("not"))
    if not after or after == before:
        return
    if set(after) == {"enum"} and set(before) <= {"enum"}:
        excluded = before.get("enum") or []
        newly = [value for value in after["enum"] if value not in excluded]
        if newly:
            noun = "value" if len(newly) == 1 else "values"
            yield f"{noun} {', '.join(repr(value) for value in newly)} now rejected"
        return
    yield "'not' constraint changed" if before else "'not' constraint added"
