"""Which `buf.validate` field rules refuse a request the previous rules accepted.

Rules are compared by meaning, keyword by keyword, on the decoded `FieldRules` of the base
and the head (each from its own descriptor pool, so by field name, never by class):

- bounds (`max_len`, `lt`/`lte`, `min_items`, `gt`/`gte`, `within`, ...) that are added or
  move inwards; a strict bound replacing an inclusive one at the same value;
- `in` losing values (or appearing), `not_in` gaining values;
- exact keywords (`const`, `len`, `pattern`, `prefix`, `well_known_regex`, ...) added or
  changed, switches (`email`, `uuid`, `defined_only`, `unique`, ...) switched on;
- `required` added, `ignore` relaxed so that the zero value is now validated, custom (CEL)
  rules added or changed, the rules of `repeated.items`, `map.keys`, `map.values` in turn.

A new field is judged by :mod:`contractkit.proto_unset`. Loosening is never reported. A
field mask's `in` (the paths an update may name) is reported as its own finding,
`UPDATE_MASK_PATH_REMOVED`. Each change is ``(rule, text)``; the text
quotes the keyword (`'string.max_len' decreased from 100 to 50`), which identifies the change
for an acknowledgement even when the numbers move again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor

from contractkit.proto_unset import IGNORE_ALWAYS, IGNORE_IF_ZERO, Change, number, refuses_zero

__all__ = ["MASK", "TIGHTENED", "Change", "custom_rules", "tightened"]

TIGHTENED = "VALIDATION_TIGHTENED"
MASK = "UPDATE_MASK_PATH_REMOVED"

_UPPER = frozenset({"max_len", "max_bytes", "max_items", "max_pairs", "within"})
_LOWER = frozenset({"min_len", "min_bytes", "min_items", "min_pairs"})
_EXACT = frozenset(
    {"const", "len", "len_bytes", "pattern", "prefix", "suffix", "contains", "not_contains"}
)
_NESTED = frozenset({"items", "keys", "values"})
_SKIPPED = frozenset({"example", "strict"})  # documentation; a header-parsing detail
_BOUNDS = {"less_than": ("lt", "lte"), "greater_than": ("gt", "gte")}


def tightened(
    base: Any | None,
    head: Any | None,
    field: descriptor.FieldDescriptor | None = None,
    prefix: str = "",
) -> list[Change]:
    """What `head` (the FieldRules of `field` in the head contract, or None) refuses that
    `base` accepted. `prefix` names nested rules (`repeated.items.`)."""
    if head is None or head.ignore == IGNORE_ALWAYS:
        return []
    if base is not None and base.ignore == IGNORE_ALWAYS:
        base = None
    changes: list[Change] = []
    if head.required and not (base is not None and base.required):
        changes.append((TIGHTENED, f"{_quote(prefix, 'required')} added"))
    if base is not None and base.ignore == IGNORE_IF_ZERO and head.ignore != IGNORE_IF_ZERO:
        kind = head.WhichOneof("type")
        if kind and field is not None and refuses_zero(kind, getattr(head, kind), field):
            where = _quote(prefix, "ignore")
            changes.append((TIGHTENED, f"{where} IGNORE_IF_ZERO_VALUE removed: unset is refused"))
    changes += custom_rules(base, head, prefix)
    kind = head.WhichOneof("type")
    if kind is None:
        return changes
    base_kind = base.WhichOneof("type") if base is not None else None
    name = f"{prefix}{kind}"
    if base_kind not in (None, kind):
        changes.append((TIGHTENED, f"{_quote(prefix, base_kind)} rules replaced by '{name}' rules"))
        return changes
    base_rules = getattr(base, kind) if base_kind == kind else None
    changes += list(_kind_changes(name, base_rules, getattr(head, kind)))
    return changes


def _quote(prefix: str, name: str) -> str:
    return f"'{prefix}{name}'"


def custom_rules(base: Any | None, head: Any, prefix: str = "") -> Iterator[Change]:
    """Custom (CEL) rules of `head` (field or message rules) that `base` lacks, as written."""
    rules = {(r.id, r.expression) for r in base.cel} if base is not None else set()
    expressions = set(base.cel_expression) if base is not None else set()
    for rule in head.cel:
        if (rule.id, rule.expression) not in rules:
            yield TIGHTENED, f"custom rule {_quote(prefix, 'cel:' + rule.id)} added or changed"
    for expression in head.cel_expression:
        if expression not in expressions:
            yield TIGHTENED, f"custom rule {_quote(prefix, 'cel:' + expression)} added"


@dataclass(frozen=True)
class _Keyword:
    """One keyword of one kind's rules, in the base (None: unset) and in the head."""

    where: str  # 'string.max_len', quoted
    before: Any | None
    value: Any


def _kind_changes(name: str, base: Any | None, head: Any) -> Iterator[Change]:
    """The changes of one kind's rules (StringRules, Int32Rules, ...), keyword by keyword."""
    for oneof, (strict, inclusive) in _BOUNDS.items():
        if oneof in head.DESCRIPTOR.oneofs_by_name:
            yield from _bound(name, oneof, (strict, inclusive), base, head)
    for field, value in head.ListFields():
        key = field.name
        if key in _SKIPPED or (field.containing_oneof and field.containing_oneof.name in _BOUNDS):
            continue
        before = _value(base, field)
        if key in _NESTED:
            yield from tightened(before, value, prefix=f"{name}.{key}.")
            continue
        compare = _COMPARE.get(key) or (_exact if field.type != field.TYPE_BOOL else _switch)
        yield from compare(_Keyword(f"'{name}.{key}'", before, value), name)


def _upper(keyword: _Keyword, _: str) -> Iterator[Change]:
    if keyword.before is None:
        yield TIGHTENED, f"{keyword.where} {_show(keyword.value)} added"
    elif number(keyword.value) < number(keyword.before):
        yield (
            TIGHTENED,
            f"{keyword.where} decreased from {_show(keyword.before)} to {_show(keyword.value)}",
        )


def _lower(keyword: _Keyword, _: str) -> Iterator[Change]:
    if keyword.before is None:
        yield TIGHTENED, f"{keyword.where} {_show(keyword.value)} added"
    elif number(keyword.value) > number(keyword.before):
        yield (
            TIGHTENED,
            f"{keyword.where} increased from {_show(keyword.before)} to {_show(keyword.value)}",
        )


def _exact(keyword: _Keyword, _: str) -> Iterator[Change]:
    if keyword.before is None:
        yield TIGHTENED, f"{keyword.where} {_show(keyword.value)} added"
    elif _key(keyword.before) != _key(keyword.value):
        yield (
            TIGHTENED,
            f"{keyword.where} changed from {_show(keyword.before)} to {_show(keyword.value)}",
        )


def _switch(keyword: _Keyword, _: str) -> Iterator[Change]:
    if keyword.value and not keyword.before:
        yield TIGHTENED, f"{keyword.where} added"


def _not_in(keyword: _Keyword, name: str) -> Iterator[Change]:
    before = {_key(v) for v in keyword.before or []}
    added = [v for v in keyword.value if _key(v) not in before]
    if added:
        yield _set_rule(name), f"{keyword.where} now refuses {_values(added)}"


def _bound(
    name: str, oneof: str, names: tuple[str, str], base: Any | None, head: Any
) -> Iterator[Change]:
    """An upper (`less_than`: `lt`, `lte`) or lower (`greater_than`) bound, as one."""
    strict, inclusive = names
    chosen = head.WhichOneof(oneof)
    if chosen is None:
        return
    where = f"'{name}.{chosen}'"
    value = getattr(head, chosen)
    previous = base.WhichOneof(oneof) if base is not None else None
    if previous is None:
        yield TIGHTENED, f"{where} {_show(value)} added"
        return
    before = getattr(base, previous)
    if chosen not in names or previous not in names:  # lt_now, gt_now
        if (chosen, _show(value)) != (previous, _show(before)):
            yield TIGHTENED, f"{where} replaces '{name}.{previous}'"
        return
    sign = 1 if oneof == "less_than" else -1  # an upper bound tightens downwards
    now, then = number(value) * sign, number(before) * sign
    if now < then or (now == then and chosen == strict and previous == inclusive):
        yield (
            TIGHTENED,
            f"{where} tightened from {previous} {_show(before)} to {chosen} {_show(value)}",
        )


def _in(keyword: _Keyword, name: str) -> Iterator[Change]:
    rule, after = _set_rule(name), {_key(v) for v in keyword.value}
    if not keyword.before:
        yield rule, f"{keyword.where} added: only {_values(list(keyword.value))} accepted"
        return
    for value in keyword.before:
        if _key(value) in after:
            continue
        if rule == MASK:
            yield rule, f"{keyword.where} path {value!r} no longer allowed"
        else:
            yield rule, f"{keyword.where} no longer accepts {_values([value])}"


_COMPARE: dict[str, Callable[[_Keyword, str], Iterator[Change]]] = {
    "in": _in,
    "not_in": _not_in,
    **dict.fromkeys(_UPPER, _upper),
    **dict.fromkeys(_LOWER, _lower),
    **dict.fromkeys(_EXACT, _exact),
}


def _key(value: Any) -> Any:
    """A value comparable across descriptor pools: messages (Duration, Timestamp, FieldMask)
    of the base and the head are instances of different classes."""
    if hasattr(value, "SerializeToString"):
        return value.SerializeToString(deterministic=True)
    return value


def _set_rule(name: str) -> str:
    return MASK if name.endswith("field_mask") else TIGHTENED


def _value(message: Any | None, field: descriptor.FieldDescriptor) -> Any | None:
    """The base's value of the keyword `field` (by name), or None when unset."""
    if message is None or field.name not in message.DESCRIPTOR.fields_by_name:
        return None
    if field.is_repeated:
        values = list(getattr(message, field.name))
        return values or None
    return getattr(message, field.name) if message.HasField(field.name) else None


def _show(value: Any) -> str:
    if hasattr(value, "seconds"):
        return f"{number(value):g}s"
    if hasattr(value, "paths"):
        return ",".join(value.paths)
    if isinstance(value, str | bytes):
        return repr(value)
    return str(value)


def _values(values: list[Any]) -> str:
    return ", ".join(_show(v) for v in values)
