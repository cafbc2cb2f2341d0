"""``make test-faults``: every fault scenario, longer and harder than in ``make test``,
with its figures and a PASS or MISS line for each promise, timed ones included.

    .venv/bin/python -m tests.faults.run                      # LONG scale: a few minutes
    .venv/bin/python -m tests.faults.run --only database-freeze,overload
    .venv/bin/python -m tests.faults.run --short               # the scale pytest uses

The timed promises (liveness within 1 s during a freeze, excess calls refused within
100 ms, other users' reads p99 under 1 s during a hashing flood, recovery under 3 s after
the database returns) are judged here only, as a benchmark judges its targets: on a shared
machine a figure can miss for another tenant's load, so pytest asserts the behaviour
behind them instead. Exit code 1 when any check misses.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.faults._scenarios import LONG, SCENARIOS, SHORT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated scenarios: " + ", ".join(SCENARIOS))
    parser.add_argument("--short", action="store_true", help="the scale of the pytest suite")
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    scale = SHORT if args.short else LONG
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[0]
    print(
        f"fault suite, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"Python {platform.python_version()}, load average {load}, "
        f"scale {'SHORT' if args.short else 'LONG'}: {scale}",
        flush=True,
    )
    misses: list[str] = []
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        for name in chosen:
            started = time.monotonic()
            folder = Path(tmp) / name
            folder.mkdir()
            report = SCENARIOS[name](folder, scale)
            print("\n".join(report.lines()), flush=True)
            print(f"  ({time.monotonic() - started:.1f} s)", flush=True)
            misses += [f"{name}: {check.name}" for check in report.misses]
    checks = "every check passed" if not misses else f"{len(misses)} MISS"
    print(f"\nfault suite: {checks}")
    for miss in misses:
        print(f"MISS {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
