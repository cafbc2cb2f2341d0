"""The gRPC services under load: requests/s, latency, server CPU per call, and three ratios.

    make bench-services                  # or: .venv/bin/python bench/services.py
    .venv/bin/python bench/services.py --only r1 --duration 10
    .venv/bin/python bench/services.py --only r1 --ghz   # + ghz as a cross-check

R1 middleware tax: a constant GetUser behind the full servicekit chain / bare (>= 0.70),
plus each interceptor alone and its CPU cost per call. R3 database path: server CPU per
GetUser of services.user's handlers on PostgreSQL, on the bare server (no interceptors) /
the floor: the bare servicer making the same psycopg point read itself, on the same
server (<= 1.2). Its ratio to bare + the read measured alone, and the service behind its
full chain, are printed for reference. R6 scale-out: two worker processes sharing the
port / one (>= 1.4).

Each server runs in a subprocess pinned to core 0 and the load generator (bench/grpcload)
to core 1; R6 gives the server both cores and the client shares them. Figures, not a test:
this machine is shared and noisy. Exits 1 when a run saw a reply with a wrong status or a
server failed; a missing piece is reported as "not available", not as a failure. With
`--ghz`, R1's bare and full-chain servers are also loaded by ghz (bench/ghzload.py, Go,
built from bench/ghz), in turns with grpcload: its req/s beside grpcload's, a cross-check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness import BenchError
from report import Ratio, Row, print_ratios, print_table
from scenariorows import EXPORTING, database_rows, middleware_rows, scale_out_rows
from scenarios import BARE, FULL, Bench, Options, cross_check_label, describe_machine

__all__ = ["main"]

RATIOS = {
    "r1": Ratio(name="R1 middleware tax: full chain / bare, req/s", target=0.70, at_least=True),
    "r3": Ratio(
        name="R3 database path: GetUser CPU / the bare servicer making the same read",
        target=1.2,
        at_least=False,
    ),
    "r6": Ratio(name="R6 scale-out: 2 workers / 1 on 2 cores, req/s", target=1.4, at_least=True),
}
TITLES = {
    "r1": "R1 middleware tax: constant GetUser, server on core 0, client on core 1",
    "r3": "R3 database path: services.user GetUser on PostgreSQL, server on core 0, client on 1",
    "r6": "R6 scale-out: constant GetUser behind the full chain, server on cores 0-1, "
    "client SHARES those two cores",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """What one scenario printed as rows and the ratio it decides."""

    rows: list[Row]
    ratio: Ratio


def _why(rows: Sequence[Row]) -> str:
    """The note of the first row that has no figure: why a ratio cannot be computed."""
    return next((row.note for row in rows if row.server_cpu_us is None), "")


def r1(bench: Bench) -> Outcome:
    rows = middleware_rows(bench)
    bare, full = rows[0].measurement, rows[1].measurement
    if bare is None or full is None:
        return Outcome(rows=rows, ratio=RATIOS["r1"].missing(_why(rows)))
    ratio = RATIOS["r1"].of(full.result.rps, bare.result.rps)
    by_label = {row.label: row.measurement for row in rows}
    notes = []
    exporting = by_label.get(EXPORTING)
    if exporting is not None:
        also = exporting.result.rps / bare.result.rps
        notes.append(f"with tracing exporting its spans over OTLP: {also:.2f}")
    ghz_bare, ghz_full = (by_label.get(cross_check_label(label)) for label in (BARE, FULL))
    if ghz_bare is not None and ghz_full is not None:
        notes.append(f"loaded by ghz: {ghz_full.result.rps / ghz_bare.result.rps:.2f}")
    return Outcome(rows=rows, ratio=replace(ratio, reason="; ".join(notes)))


def r3(bench: Bench) -> Outcome:
    """services.user's GetUser without interceptors / the floor: the bare servicer making
    the same psycopg read itself. Its ratio to bare + the read alone, and the same GetUser
    behind the full chain, are reference figures (the chain is R1's subject)."""
    rows = database_rows(bench)
    needed = [rows[index] for index in (0, 2, 4, 5) if index < len(rows)]
    if len(needed) < 4 or any(row.server_cpu_us is None for row in needed):
        return Outcome(rows=rows, ratio=RATIOS["r3"].missing(_why(needed)))
    bare, service, read, floor = (float(row.server_cpu_us or 0) for row in needed)
    full, reference = rows[1].server_cpu_us, rows[3].server_cpu_us
    note = (
        f"GetUser costs {service - floor:.0f} us of CPU above the floor; against bare + "
        f"the point read alone ({read:.0f} us), R3's denominator until 2026-12-06: "
        f"{service / (bare + read):.2f}, the floor's own {floor / (bare + read):.2f} (a read "
        "that blocks a worker thread)"
    )
    if reference is not None and full is not None:
        note += (
            f"; behind the full chain GetUser costs {reference:.0f} us "
            f"({reference - full:.0f} beyond the constant servicer behind it)"
        )
    ratio = RATIOS["r3"].of(service, floor)
    return Outcome(rows=rows, ratio=replace(ratio, reason=note))


def r6(bench: Bench) -> Outcome:
    rows = scale_out_rows(bench)
    one, two, pinned = (row.measurement for row in rows)
    if one is None or two is None:
        return Outcome(rows=rows, ratio=RATIOS["r6"].missing(_why(rows)))
    ratio = RATIOS["r6"].of(two.result.rps, one.result.rps)
    if pinned is not None:
        also = two.result.rps / pinned.result.rps
        ratio = replace(ratio, reason=f"2 workers on 2 cores / 1 worker on 1 core: {also:.2f}")
    return Outcome(rows=rows, ratio=ratio)


RUNNERS: dict[str, Callable[[Bench], Outcome]] = {"r1": r1, "r3": r3, "r6": r6}


def _run(name: str, bench: Bench) -> Outcome:
    """A scenario's outcome; a failure becomes its ratio's reason, never a traceback."""
    try:
        outcome = RUNNERS[name](bench)
    except BenchError as exc:
        return Outcome(rows=[], ratio=RATIOS[name].missing(f"failed: {exc}", failed=True))
    if any(row.failed for row in outcome.rows):
        return replace(outcome, ratio=replace(outcome.ratio, failed_run=True))
    return outcome


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(RUNNERS), help="e.g. r1 or r1,r6")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=1.5, help="seconds of load before")
    parser.add_argument("--repeat", type=int, default=3, help="runs per server; fastest counts")
    parser.add_argument("--concurrency", type=int, default=64, help="calls in flight")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--ghz", action="store_true", help="R1: also load bare and full chain with ghz"
    )
    return parser


def _options(argv: Sequence[str] | None) -> Options:
    args = _parser().parse_args(argv)
    only = tuple(name.strip().lower() for name in args.only.split(",") if name.strip())
    unknown = set(only) - set(RUNNERS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: r1, r3, r6")
    return Options(
        duration=args.duration,
        warmup=args.warmup,
        concurrency=args.concurrency,
        connections=args.connections,
        repeat=args.repeat,
        only=only,
        ghz=args.ghz,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = _options(argv)
    print(describe_machine(options))
    ratios = []
    with tempfile.TemporaryDirectory(prefix="bench-services-") as workdir:
        bench = Bench(options, Path(workdir))
        for name in options.only:
            outcome = _run(name, bench)
            print_table(TITLES[name], outcome.rows)
            ratios.append(outcome.ratio)
    print_ratios(ratios)
    return 1 if any(ratio.failed_run for ratio in ratios) else 0


if __name__ == "__main__":
    sys.exit(main())
