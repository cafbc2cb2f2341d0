"""`buf.validate` rules of well-known types (Duration, Timestamp, FieldMask, Any).

Their JSON forms are strings (or an object for Any), so bounds are stated in words.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from contractkit.openapigen.keywords import Constraints, code, code_list, lower_camel

__all__ = [
    "any_constraints",
    "bound_note",
    "duration_constraints",
    "field_mask_constraints",
    "timestamp_constraints",
]

_BOUND_WORDS = {
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "gt_now": "later than now",
    "lt_now": "earlier than now",
}


def bound_note(rules: Any, show: Any) -> str:
    """A sentence stating the `greater_than` / `less_than` bounds of `rules`, or ""."""
    lower, upper = rules.WhichOneof("greater_than"), rules.WhichOneof("less_than")
    parts = [_bound(rules, name, show) for name in (lower, upper) if name is not None]
    if not parts:
        return ""
    if lower and upper and _outside(rules, lower, upper):
        return f"Must be {parts[0]} or {parts[1]}."
    return f"Must be {' and '.join(parts)}."


def _bound(rules: Any, name: str, show: Any) -> str:
    if name.endswith("_now"):
        return _BOUND_WORDS[name]
    return f"{_BOUND_WORDS[name]} {show(getattr(rules, name))}"


def _outside(rules: Any, lower: str, upper: str) -> bool:
    """True when the bounds exclude a range (`lt` below `gt`) instead of including one."""
    if lower.endswith("_now") or upper.endswith("_now"):
        return False
    low, high = getattr(rules, lower), getattr(rules, upper)
    if hasattr(low, "seconds"):
        return bool((high.seconds, high.nanos) < (low.seconds, low.nanos))
    return bool(high < low)


def _duration_text(value: Any) -> str:
    """A Duration message in its JSON form, as code (`1.5s`)."""
    total = value.seconds + value.nanos / 1e9
    text = f"{total:.9f}".rstrip("0").rstrip(".")
    return code(f"{text}s")


def _timestamp_text(value: Any) -> str:
    """A Timestamp message in its JSON form (RFC 3339, UTC), as code."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        seconds=value.seconds, microseconds=value.nanos // 1000
    )
    return code(moment.isoformat().replace("+00:00", "Z"))


def duration_constraints(rules: Any) -> Constraints:
    """Notes of a DurationRules."""
    return _time_constraints(rules, _duration_text)


def timestamp_constraints(rules: Any) -> Constraints:
    """Notes of a TimestampRules."""
    out = _time_constraints(rules, _timestamp_text)
    if rules.HasField("within"):
        out.notes.append(f"Must be within {_duration_text(rules.within)} of now.")
    return out


def _time_constraints(rules: Any, show: Any) -> Constraints:
    out = Constraints()
    if rules.HasField("const"):
        out.notes.append(f"Must be {show(rules.const)}.")
    note = bound_note(rules, show)
    if note:
        out.notes.append(note)
    values = getattr(rules, "in", [])
    if values:
        out.notes.append(f"Must be one of {', '.join(show(v) for v in values)}.")
    if getattr(rules, "not_in", []):
        out.notes.append(f"Must not be {', '.join(show(v) for v in rules.not_in)}.")
    if rules.example:
        out.keywords["example"] = show(rules.example[0]).strip("`")
    return out


def field_mask_constraints(rules: Any) -> Constraints:
    """Notes of a FieldMaskRules: the allowed or forbidden paths, as JSON paths; the
    allowed ones also as a `pattern` of the JSON form (one or more paths, each an allowed
    one or a path below it), so that tools generate masks the rule accepts; the rules'
    first example as the `example`, in the JSON form."""
    out = Constraints()
    if rules.example:
        out.keywords["example"] = ",".join(lower_camel(p) for p in rules.example[0].paths)
    if rules.HasField("const"):
        paths = [lower_camel(p) for p in rules.const.paths]
        out.notes.append(f"Must be exactly {code(','.join(paths))}.")
    allowed = [lower_camel(p) for p in getattr(rules, "in")]
    if allowed:
        out.notes.append(f"Allowed paths: {code_list(allowed)} (and paths below them).")
        path = "(" + "|".join(re.escape(p) for p in allowed) + r")(\.[A-Za-z][A-Za-z0-9]*)*"
        out.keywords["pattern"] = f"^{path}(,{path})*$"
    forbidden = [lower_camel(p) for p in rules.not_in]
    if forbidden:
        out.notes.append(f"Forbidden paths: {code_list(forbidden)} (and paths below them).")
    return out


def any_constraints(rules: Any) -> Constraints:
    """An AnyRules: the allowed type URLs as the enum of `@type`, the forbidden in words."""
    out = Constraints()
    allowed = list(getattr(rules, "in"))
    if allowed:
        out.keywords["properties"] = {"@type": {"enum": allowed}}
    if rules.not_in:
        out.notes.append(f"`@type` must not be {code_list(rules.not_in)}.")
    return out
