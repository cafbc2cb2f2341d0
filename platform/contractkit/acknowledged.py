"""Acknowledged breaks: the breaking changes a branch makes on purpose, reviewed with it.

`api/breaking-acknowledged.yaml` lists each accepted finding with its reason and the release
it ships in::

    acknowledged:
      - finding: proto FIELD_NO_DELETE api/proto/acme/user/v1/user.proto '3' 'User' 'display_name'
        reason: display_name was deprecated in v1.2; its six-month window ended.
        ships_in: v2.0.0

A finding is named by its identity, not by its wording: the face (`proto`, `openapi`), the
rule, the place (the element's full name, or the file and operation) and the names the
message quotes. A message reworded, a line number moved, or a bound tightened once more
keeps the identity; another element or another rule does not. `make breaking` prints the
entries to paste for the findings no entry matches, and names each entry that matches no
finding (once the base branch has the break, it is no longer a finding against the base:
remove the entry, and the file is empty again).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ACKNOWLEDGED",
    "Acknowledgement",
    "AcknowledgementError",
    "Judged",
    "Reported",
    "draft",
    "identity",
    "judge",
    "load_acknowledgements",
]

ACKNOWLEDGED = Path("api/breaking-acknowledged.yaml")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_KEYS = ("finding", "reason", "ships_in")
_PLACEHOLDER = re.compile(r"^<.*>$")  # what `draft` leaves to fill in


class AcknowledgementError(Exception):
    """The acknowledgements file cannot be read as a list of complete entries."""


@dataclass(frozen=True)
class Reported:
    """One finding of `make breaking`: its face, its line (after ``face: ``), its identity."""

    face: str
    text: str
    key: str
    warning: bool = False


@dataclass(frozen=True)
class Acknowledgement:
    """One entry of the acknowledgements file."""

    finding: str
    reason: str
    ships_in: str


def identity(face: str, rule: str, place: str, message: str) -> str:
    """The stable name of a finding: face, rule, place and the names its message quotes
    (sorted, in single quotes: a rewording that reorders them or changes the quote marks
    keeps the identity)."""
    names = sorted({quoted[1:-1] for quoted in _QUOTED.findall(message)})
    return " ".join([face, rule, place, *(f"'{name}'" for name in names)])


def _normal(key: str) -> str:
    return " ".join(key.split())


def load_acknowledgements(root: Path) -> list[Acknowledgement]:
    """The entries of the file at `root` (none when it does not exist), each complete."""
    path = root / ACKNOWLEDGED
    if not path.is_file():
        return []
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise AcknowledgementError(f"{ACKNOWLEDGED}: not YAML: {exc}") from exc
    entries = document.get("acknowledged") if isinstance(document, dict) else None
    if entries is None:
        entries = []
    if not isinstance(entries, list) or set(document) - {"acknowledged"}:
        raise AcknowledgementError(f"{ACKNOWLEDGED}: expected one key, `acknowledged`: a list")
    found = [_entry(number, entry) for number, entry in enumerate(entries, start=1)]
    seen: set[str] = set()
    for entry in found:
        if entry.finding in seen:
            raise AcknowledgementError(f"{ACKNOWLEDGED}: {entry.finding!r} is listed twice")
        seen.add(entry.finding)
    return found


def _entry(number: int, entry: Any) -> Acknowledgement:
    where = f"{ACKNOWLEDGED}: entry {number}"
    if not isinstance(entry, dict) or set(entry) != set(_KEYS):
        raise AcknowledgementError(f"{where}: needs exactly {', '.join(_KEYS)}")
    empty = [key for key in _KEYS if not isinstance(entry[key], str) or not entry[key].strip()]
    if empty:
        raise AcknowledgementError(f"{where}: {', '.join(empty)} must be non-empty text")
    unfilled = [key for key in _KEYS if _PLACEHOLDER.match(entry[key].strip())]
    if unfilled:
        raise AcknowledgementError(f"{where}: fill in {', '.join(unfilled)} (still a <...>)")
    return Acknowledgement(
        finding=_normal(entry["finding"]),
        reason=entry["reason"].strip(),
        ships_in=entry["ships_in"].strip(),
    )


@dataclass
class Judged:
    """The findings split by the acknowledgements, and the entries that matched nothing."""

    errors: list[Reported]
    acknowledged: list[tuple[Reported, Acknowledgement]]
    warnings: list[Reported]
    stale: list[Acknowledgement]


def judge(reported: Iterable[Reported], entries: list[Acknowledgement]) -> Judged:
    by_key = {entry.finding: entry for entry in entries}
    judged = Judged(errors=[], acknowledged=[], warnings=[], stale=[])
    used: set[str] = set()
    for finding in reported:
        entry = by_key.get(_normal(finding.key))
        if entry is not None:
            judged.acknowledged.append((finding, entry))
            used.add(entry.finding)
        elif finding.warning:
            judged.warnings.append(finding)
        else:
            judged.errors.append(finding)
    judged.stale = [entry for entry in entries if entry.finding not in used]
    return judged


def draft(findings: Iterable[Reported]) -> str:
    """The YAML entries that would acknowledge `findings`, reason and release to fill in."""
    entries = [
        {"finding": f.key, "reason": "<why this break is intended>", "ships_in": "<release>"}
        for f in findings
    ]
    return yaml.safe_dump(entries, sort_keys=False, width=1000, allow_unicode=True)
