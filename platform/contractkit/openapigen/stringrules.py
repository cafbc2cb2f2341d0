"""`buf.validate` string and bytes rules as JSON Schema keywords and notes."""

from __future__ import annotations

import base64
from typing import Any

from contractkit.openapigen.keywords import Constraints, code

__all__ = ["EMAIL_PATTERN", "bytes_constraints", "string_constraints"]

# What protovalidate's `string.email` accepts: HTML's "valid e-mail address" (WHATWG), as a
# pattern. JSON Schema's `email` format is another definition (it takes labels of 64
# characters, refuses a local part ending in a dot): with it, tools that generate values
# from the document sent addresses the rule refuses, and took for invalid some it accepts.
EMAIL_PATTERN = (
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)

# StringRules.well_known: the keywords that state it (if any) and a note (if needed).
_WELL_KNOWN: dict[str, tuple[dict[str, Any], str]] = {
    "email": ({"pattern": EMAIL_PATTERN}, "An email address (as HTML defines a valid one)."),
    "hostname": ({"format": "hostname"}, ""),
    "ip": ({"format": "ip"}, "An IPv4 or IPv6 address."),
    "ipv4": ({"format": "ipv4"}, ""),
    "ipv6": ({"format": "ipv6"}, ""),
    "uri": ({"format": "uri"}, ""),
    "uri_ref": ({"format": "uri-reference"}, ""),
    "address": ({}, "A host name or an IP address."),
    "uuid": ({"format": "uuid"}, ""),
    "tuuid": ({"pattern": "^[0-9a-fA-F]{32}$"}, "A UUID without dashes."),
    "ip_with_prefixlen": ({}, "An IP address with a prefix length (`10.0.0.1/8`)."),
    "ipv4_with_prefixlen": ({}, "An IPv4 address with a prefix length (`10.0.0.1/8`)."),
    "ipv6_with_prefixlen": ({}, "An IPv6 address with a prefix length (`fd00::1/64`)."),
    "ip_prefix": ({}, "An IP network prefix (`10.0.0.0/8`)."),
    "ipv4_prefix": ({}, "An IPv4 network prefix (`10.0.0.0/8`)."),
    "ipv6_prefix": ({}, "An IPv6 network prefix (`fd00::/64`)."),
    "host_and_port": ({}, "A host name or IP address and a port (`example.com:8080`)."),
    "ulid": ({"pattern": "^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$"}, "A ULID."),
    "protobuf_fqn": ({}, "A fully-qualified protobuf name (`acme.user.v1.User`)."),
    "protobuf_dot_fqn": ({}, "A fully-qualified protobuf name with a leading dot."),
}
_KNOWN_REGEX = {1: "An HTTP header name (RFC 7230).", 2: "An HTTP header value (RFC 7230)."}


def string_constraints(rules: Any) -> Constraints:
    """Keywords and notes of a StringRules."""
    out = Constraints()
    _string_lengths(rules, out)
    if rules.HasField("const"):
        out.keywords["enum"] = [rules.const]
    if rules.HasField("pattern"):
        out.keywords["pattern"] = rules.pattern
    if getattr(rules, "in"):
        out.keywords["enum"] = list(getattr(rules, "in"))
    if rules.not_in:
        out.keywords["not"] = {"enum": list(rules.not_in)}
    _affixes(rules, out, "string")
    _well_known(rules, out)
    if rules.example:
        out.keywords["example"] = rules.example[0]
    return out


def _string_lengths(rules: Any, out: Constraints) -> None:
    if rules.HasField("len"):
        out.keywords.update(minLength=rules.len, maxLength=rules.len)
    if rules.HasField("min_len"):
        out.keywords["minLength"] = rules.min_len
    if rules.HasField("max_len"):
        out.keywords["maxLength"] = rules.max_len
    lengths = _length_note(rules, "len_bytes", "min_bytes", "max_bytes")
    if lengths:
        out.notes.append(f"{lengths} in UTF-8.")


def _length_note(rules: Any, exact: str, low: str, high: str) -> str:
    """`Exactly 8 bytes long`, `Between 1 and 64 bytes long`, ... or ""."""

    def size(name: str) -> str:
        count = getattr(rules, name)
        return f"{count} byte{'' if count == 1 else 's'}"

    if rules.HasField(exact):
        return f"Exactly {size(exact)} long"
    if rules.HasField(low) and rules.HasField(high):
        return f"Between {getattr(rules, low)} and {size(high)} long"
    if rules.HasField(low):
        return f"At least {size(low)} long"
    return f"At most {size(high)} long" if rules.HasField(high) else ""


def _affixes(rules: Any, out: Constraints, kind: str) -> None:
    show = _show_bytes if kind == "bytes" else code
    if rules.HasField("prefix"):
        out.notes.append(f"Starts with {show(rules.prefix)}.")
    if rules.HasField("suffix"):
        out.notes.append(f"Ends with {show(rules.suffix)}.")
    if rules.HasField("contains"):
        out.notes.append(f"Contains {show(rules.contains)}.")
    if kind == "string" and rules.HasField("not_contains"):
        out.notes.append(f"Does not contain {code(rules.not_contains)}.")


def _well_known(rules: Any, out: Constraints) -> None:
    which = rules.WhichOneof("well_known")
    if which == "well_known_regex":
        out.notes.append(_KNOWN_REGEX.get(rules.well_known_regex, "A well-known format."))
    elif which is not None and getattr(rules, which):
        keywords, note = _WELL_KNOWN.get(which, ({}, f"Format `{which}`."))
        out.keywords.update(keywords)
        if note:
            out.notes.append(note)


def bytes_constraints(rules: Any) -> Constraints:
    """Notes of a BytesRules: the JSON form is base64, so byte rules are stated in words."""
    out = Constraints()
    lengths = _length_note(rules, "len", "min_len", "max_len")
    if lengths:
        out.notes.append(f"{lengths} (before base64 encoding).")
    if rules.HasField("pattern"):
        out.notes.append(f"The bytes match the pattern {code(rules.pattern)}.")
    _affixes(rules, out, "bytes")
    if rules.HasField("const"):
        out.keywords["enum"] = [_base64(rules.const)]
    if getattr(rules, "in"):
        out.keywords["enum"] = [_base64(v) for v in getattr(rules, "in")]
    if rules.not_in:
        out.keywords["not"] = {"enum": [_base64(v) for v in rules.not_in]}
    which = rules.WhichOneof("well_known")
    if which is not None and getattr(rules, which):
        out.notes.append(f"The bytes of {'a UUID' if which == 'uuid' else f'an {which} address'}.")
    return out


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _show_bytes(data: bytes) -> str:
    return f"{code(_base64(data))} (base64)"
