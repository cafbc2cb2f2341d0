"""How the service benchmark prints: the machine, one table per scenario, then the ratios."""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from turns import Measurement

__all__ = ["Ratio", "Row", "machine_line", "print_ratios", "print_table"]


def machine_line() -> str:
    """When, on what and under which load average: the first line every benchmark prints."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?"
    )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"{now}: {os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"load average {load}"
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Row:
    """One line of a table: a measured server, or a CPU figure alone, or why there is none.

    `cost_us` is the CPU per call this row adds over its baseline (an interceptor's cost).
    `failed` marks a run that saw unexpected statuses or a server that would not start.
    """

    label: str
    measurement: Measurement | None = None
    cpu_us: float | None = None
    cost_us: float | None = None
    note: str = ""
    failed: bool = False

    @classmethod
    def unavailable(cls, label: str, why: str) -> Row:
        return cls(label=label, note=f"not available: {why}")

    @classmethod
    def broken(cls, label: str, why: str) -> Row:
        return cls(label=label, note=f"failed: {why}", failed=True)

    @property
    def server_cpu_us(self) -> float | None:
        return self.measurement.cpu_us_per_call if self.measurement else self.cpu_us


@dataclass(frozen=True, kw_only=True, slots=True)
class Ratio:
    """A ratio against its target; `value` None means it could not be measured."""

    name: str
    target: float
    at_least: bool
    value: float | None = None
    reason: str = ""
    failed_run: bool = False

    def of(self, numerator: float, denominator: float) -> Ratio:
        return replace(self, value=numerator / denominator if denominator else None)

    def missing(self, why: str, *, failed: bool = False) -> Ratio:
        return replace(self, reason=why, failed_run=failed)

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a"
        passes = self.value >= self.target if self.at_least else self.value <= self.target
        return "PASS" if passes else "MISS"

    @property
    def target_text(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.target:.2f}"


SATURATED = 0.85
"""Below this share of its cores, a server was not the limit of its run."""

_HEADER = (
    f"  {'server':<40} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/call':>11} "
    f"{'busy':>5} {'client us':>9} {'cost us':>8}"
)


def _number(value: float | None, width: int, digits: int = 1) -> str:
    return f"{value:>{width}.{digits}f}" if value is not None else " " * width


def _cost(value: float | None) -> str:
    return f"{value:>+8.1f}" if value is not None else " " * 8


def _line(row: Row) -> str:
    m = row.measurement
    if m is None:
        cpu = _number(row.cpu_us, 11)
        return (
            f"  {row.label:<40} {'':>7} {'':>7} {'':>7} {cpu} {'':>5} {'':>9} {_cost(row.cost_us)}"
        )
    r = m.result
    return (
        f"  {row.label:<40} {r.rps:>7.0f} {r.p50_us / 1000:>7.2f} {r.p99_us / 1000:>7.2f} "
        f"{m.cpu_us_per_call:>11.1f} {m.busy:>5.0%} {m.client_us_per_call:>9.1f} "
        f"{_cost(row.cost_us)}"
    )


def print_table(title: str, rows: Sequence[Row]) -> None:
    """The scenario's rows; notes (why a row is missing, extra figures) under each."""
    print(f"\n{title}")
    print(_HEADER)
    for row in rows:
        print(_line(row))
        if row.note:
            print(f"  {'':<4}{row.note}")
        m = row.measurement
        if m and m.server_cores == 1 and m.busy < SATURATED:
            print(f"  {'':<4}! server not saturated: other load on the machine limited this run")


def print_ratios(ratios: Sequence[Ratio]) -> None:
    print(f"\n  {'ratio':<56} {'value':>6} {'target':>8}  result")
    for ratio in ratios:
        value = f"{ratio.value:>6.2f}" if ratio.value is not None else f"{'-':>6}"
        print(f"  {ratio.name:<56} {value} {ratio.target_text:>8}  {ratio.verdict}")
        if ratio.reason:
            print(f"  {'':<4}{ratio.reason}")
