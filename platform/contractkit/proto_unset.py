"""Whether a new request field refuses the callers of the previous contract, who never
send it.

Such a caller leaves the field unset. A field with presence (a message, an `optional`
scalar, a oneof member) that is unset is not validated unless it is `required`; a field
without presence carries its zero value (``""``, ``0``, ``false``, the enum's 0, an empty
list or map), which protovalidate validates unless `ignore` is `IGNORE_IF_ZERO_VALUE`. So
the new field breaks those callers when it is required, or when one of its rules refuses
the zero value: `min_len` 1, `email`, `gt` 0, `enum.not_in` 0, `in` without the zero value,
a `pattern` the empty string does not match, custom rules (never evaluated: assumed to).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor

__all__ = ["IGNORE_ALWAYS", "IGNORE_IF_ZERO", "Change", "number", "refuses_unset", "refuses_zero"]

Change = tuple[str, str]  # (rule, text)
TIGHTENED = "VALIDATION_TIGHTENED"
IGNORE_IF_ZERO, IGNORE_ALWAYS = 1, 3  # buf.validate.Ignore
_NOT_KEYWORDS = frozenset({"example", "strict", "items", "keys", "values"})


def refuses_unset(head: Any | None, field: descriptor.FieldDescriptor) -> list[Change]:
    """For a new request field: the rules that refuse a caller that does not send it (the
    callers of the previous contract). A field with presence (a message, `optional`, a oneof
    member) that is unset is not validated, unless required."""
    if head is None or head.ignore == IGNORE_ALWAYS:
        return []
    if head.required:
        return [(TIGHTENED, "'required' on a new field: callers of the previous contract omit it")]
    if field.has_presence or head.ignore == IGNORE_IF_ZERO:
        return []
    kind = head.WhichOneof("type")
    refusing = refuses_zero(kind, getattr(head, kind), field) if kind else []
    if len(head.cel) or len(head.cel_expression):
        refusing.append("custom rules")
    if not refusing:
        return []
    text = f"new field refuses its unset value ({', '.join(refusing)}): callers of the "
    return [(TIGHTENED, text + "previous contract omit it")]


def refuses_zero(kind: str, rules: Any, field: descriptor.FieldDescriptor) -> list[str]:
    """The keywords of `rules` that refuse the zero value of the field."""
    zero: Any = {"string": "", "bytes": b"", "bool": False, "repeated": [], "map": {}}.get(kind, 0)
    found: list[str] = []
    for keyword, value in rules.ListFields():
        name = keyword.name
        if name in _NOT_KEYWORDS:
            continue
        if name == "defined_only":
            refuses = bool(value) and 0 not in (
                field.enum_type.values_by_number if field.enum_type else {0: 0}
            )
        elif name in _ZERO_REFUSED:
            refuses = _ZERO_REFUSED[name](value, zero)
        else:
            # Switches (`email`, `uuid`, `hostname`, ...): the empty string fails every
            # well-known format. An unknown keyword counts as refusing.
            refuses = keyword.type != keyword.TYPE_BOOL or bool(value)
        if refuses:
            found.append(f"'{kind}.{name}'")
    return found


def _pattern_refuses(pattern: str, zero: Any) -> bool:
    try:
        return re.search(pattern, zero if isinstance(zero, str) else "") is None
    except re.error:
        return True


def _never(*_: Any) -> bool:
    return False


def _when_set(value: Any, _: Any) -> bool:
    return bool(value)


# Whether a keyword with this value refuses the zero value of its field.
_ZERO_REFUSED: dict[str, Callable[[Any, Any], bool]] = {
    **dict.fromkeys(
        ("min_len", "min_bytes", "min_items", "min_pairs", "len", "len_bytes"), _when_set
    ),
    **dict.fromkeys(("prefix", "suffix", "contains"), _when_set),
    **dict.fromkeys(
        ("max_len", "max_bytes", "max_items", "max_pairs", "not_contains", "unique", "finite"),
        _never,
    ),
    "pattern": _pattern_refuses,
    "in": lambda value, zero: zero not in list(value),
    "not_in": lambda value, zero: zero in list(value),
    "const": lambda value, zero: bool(value != zero),
    "gt": lambda value, _: number(value) >= 0,
    "gte": lambda value, _: number(value) > 0,
    "lt": lambda value, _: number(value) <= 0,
    "lte": lambda value, _: number(value) < 0,
}


def number(value: Any) -> float:
    """A bound as a number: Duration and Timestamp values in seconds."""
    if hasattr(value, "seconds"):
        return float(value.seconds) + float(value.nanos) / 1e9
    return float(value)
