"""One problem found in a contract document, printable as a single line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Finding", "sorted_findings"]


@dataclass(frozen=True, order=True)
class Finding:
    """A rule broken at one place of one document.

    Positional construction (``Finding(source, location, rule, message)``) is part of the
    contract: other checks build findings that way.

    ``location`` names the place for a reader, e.g. ``GET /v1/users/{id}`` or
    ``components.schemas.acme.user.v1.User.properties.email``; ``rule`` is a stable id.
    """

    source: str
    location: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.location}: {self.message} [{self.rule}]"


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Deterministic order: by source, then location, then rule and message; no duplicates."""
    return sorted(set(findings))
