"""What a fault scenario saw, counted the same way for every scenario, and its checks.

Counts are of first attempts (what a client that does not retry would have seen):
sent, ok, failed by code, and **committed but reported failed** (the database holds the
write of an attempt that was told it failed), by code. Then every failed create is sent
again with its own request id (``_harness.settle``), and the final counts are those of
idempotent retries: committed but reported failed, and **lost** (a create answered OK whose
user the database does not hold, or holds under another id).

A ``Check`` is one promise of the platform with its bound: the behaviour ones (counts that
must be 0, things that must happen) and the timed ones (liveness answered within 1 s,
excess refused within 100 ms, p99 of reads under 1 s, recovery under 3 s), which only the
report of ``make test-faults`` judges: pytest asserts the behaviour alone.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.faults._harness import Attempt, Create

__all__ = ["AMBIGUOUS", "Check", "Report", "percentile"]

AMBIGUOUS = frozenset({"DEADLINE_EXCEEDED", "CANCELLED"})
"""Codes that say "it may have happened" (gRPC's own definition of DEADLINE_EXCEEDED for
changes): a write they report may have been committed; an idempotent retry tells."""


def percentile(values: Iterable[float], share: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class Check:
    """``value`` against ``bound``: at most the bound (``at_most``) or at least it."""

    name: str
    value: float | None
    bound: float
    unit: str = ""
    timed: bool = False
    at_most: bool = True

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False
        return self.value <= self.bound if self.at_most else self.value >= self.bound

    def line(self) -> str:
        shown = "none" if self.value is None else f"{self.value:g}{self.unit}"
        relation = "<=" if self.at_most else ">="
        verdict = "PASS" if self.passed else "MISS"
        return f"  {verdict}  {self.name}: {shown} ({relation} {self.bound:g}{self.unit})"


@dataclass
class Report:
    """One scenario's figures (see the module)."""

    scenario: str
    creates: list[Create]
    reads: list[Attempt]
    probes: list[Attempt] = field(default_factory=list)
    before_retries: dict[str, str] = field(default_factory=dict)  # email -> user id
    after_retries: dict[str, str] = field(default_factory=dict)
    recovery: float | None = None
    notes: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    retried: bool = True

    @property
    def attempts(self) -> list[Attempt]:
        return [create.first for create in self.creates] + self.reads

    @property
    def failed(self) -> Counter[str]:
        return Counter(a.code for a in self.attempts if a.code != "OK")

    @property
    def committed_reported_failed(self) -> Counter[str]:
        """First attempts told they failed whose write the database holds, by code."""
        return Counter(
            create.first.code
            for create in self.creates
            if create.first.code != "OK" and create.request.email in self.before_retries
        )

    @property
    def committed_reported_failed_final(self) -> int:
        return sum(
            1
            for create in self.creates
            if create.final.code != "OK" and create.request.email in self.after_retries
        )

    @property
    def lost(self) -> int:
        """Creates answered OK (first or final) that the database does not hold as told."""
        return sum(
            1
            for create in self.creates
            if create.final.code == "OK"
            and self.after_retries.get(create.request.email) != create.final.user_id
        )

    @property
    def unsettled(self) -> int:
        return sum(1 for create in self.creates if create.final.code != "OK")

    def committed_reported_unavailable(self) -> int:
        """Committed, yet reported with a code that promises nothing was done."""
        counts = self.committed_reported_failed
        return sum(count for code, count in counts.items() if code not in AMBIGUOUS)

    def check(
        self,
        name: str,
        value: float | None,
        bound: float,
        *,
        unit: str = "",
        timed: bool = False,
        at_most: bool = True,
    ) -> Check:
        made = Check(name, value, bound, unit=unit, timed=timed, at_most=at_most)
        self.checks.append(made)
        return made

    def check_writes(
        self, *, transport_may_lose_answers: bool = False, retried: bool = True
    ) -> None:
        """The checks every scenario makes of its writes (``retried``: the failed creates
        were sent again, ``_harness.settle``)."""
        self.retried = retried
        if not transport_may_lose_answers:
            self.check(
                "committed but reported UNAVAILABLE/RESOURCE_EXHAUSTED/... (first attempts)",
                self.committed_reported_unavailable(),
                0,
            )
        self.check("acknowledged but lost", self.lost, 0)
        if retried:
            self.check(
                "committed but reported failed, after idempotent retries",
                self.committed_reported_failed_final,
                0,
            )
            self.check("creates still failing after idempotent retries", self.unsettled, 0)

    def lines(self) -> list[str]:
        lines = [f"{self.scenario}:"]
        attempts = self.attempts
        if attempts:
            failed = ", ".join(f"{code} {n}" for code, n in sorted(self.failed.items()))
            lines.append(
                f"  sent {len(attempts)} (creates {len(self.creates)}, reads {len(self.reads)}), "
                f"ok {sum(1 for a in attempts if a.code == 'OK')}, failed: {failed or 'none'}"
            )
        if self.creates:
            committed = self.committed_reported_failed
            by_code = ", ".join(f"{code} {n}" for code, n in sorted(committed.items()))
            lines.append(
                f"  committed-but-reported-failed, first attempts: {sum(committed.values())}"
                + (f" ({by_code})" if by_code else "")
            )
            lines.append(
                f"  after idempotent retries: committed-but-reported-failed "
                f"{self.committed_reported_failed_final}, lost {self.lost}, "
                f"unsettled {self.unsettled}"
                if self.retried
                else f"  not retried; lost {self.lost}"
            )
        if self.recovery is not None:
            lines.append(f"  recovery: {self.recovery:.3f} s")
        lines += [f"  {key}: {value}" for key, value in self.notes.items()]
        lines += [check.line() for check in self.checks]
        return lines

    @property
    def misses(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def behaviour_misses(self) -> list[str]:
        """The checks of behaviour (not of durations) that missed, as report lines: what
        pytest asserts is empty."""
        return [check.line() for check in self.checks if not check.timed and not check.passed]
