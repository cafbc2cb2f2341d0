"""The rows of each service scenario: which servers R1, R3 and R6 measure, in which order.

Every function takes the run's `Bench` (bench/scenarios.py), which starts and loads the
servers and remembers bare and full chain for the scenarios that share them.
"""

from __future__ import annotations

from dataclasses import replace

import dbpath
from report import Row
from scenarios import BARE, BOTH_CPUS, CHAIN_NAMES, FULL, Bench, Constant, missing, with_cost

__all__ = ["EXPORTING", "database_rows", "middleware_rows", "scale_out_rows"]

EXPORTING = "full chain, tracing exporting (OTLP)"

# label, chain, label of the row its cost is measured against
SINGLES = (
    ("request context alone", "request_context", BARE),
    ("tracing alone", "tracing", BARE),
    ("metrics alone", "metrics", BARE),
    ("error mapping alone", "error_mapping", BARE),
    ("authentication alone", "authentication", BARE),
    (
        "access policy (after authentication)",
        "authentication,access_policy",
        "authentication alone",
    ),
    ("validation alone", "validation", BARE),
)
USER_NAMES = (
    "services.user.definition:SERVICE",
    "services.user.app:_user_service",
    "services.user.handlers:UserServiceHandlers",
    "servicekit.testing.databases:temporary_database",
)


def middleware_rows(bench: Bench) -> list[Row]:
    """Bare, the full chain, the full chain with tracing exporting its spans over OTLP,
    then each interceptor alone with its cost per call; with `--ghz`, bare and full chain
    loaded by ghz last (a cross-check of grpcload's figures)."""
    extra = [Constant(label=EXPORTING, chain="all", otlp=True)]
    extra += [Constant(label=label, chain=chain) for label, chain, _ in SINGLES]
    rows = bench.baselines(extra)
    if rows[FULL].measurement is None:
        return [rows[BARE], rows[FULL], *bench.cross_check_rows()]
    singles = [with_cost(rows[label], rows[base]) for label, _, base in SINGLES]
    total = sum(row.cost_us or 0.0 for row in singles)
    return [
        rows[BARE],
        rows[FULL],
        with_cost(rows[EXPORTING], rows[BARE]),
        *singles,
        Row(label="sum of the costs alone", cost_us=total),
        *bench.cross_check_rows(),
    ]


def database_rows(bench: Bench) -> list[Row]:
    """Bare, full chain, the user service's GetUser on PostgreSQL without interceptors
    (R3's numerator) and behind the full chain (reference), the read alone."""
    why = missing(USER_NAMES)
    base = bench.baselines()
    if why:
        return [base[BARE], base[FULL], Row.unavailable("services.user GetUser", why)]
    return [base[BARE], base[FULL], *dbpath.database_rows(bench, bench.workdir)]


def scale_out_rows(bench: Bench) -> list[Row]:
    """The full chain on both cores: one worker process, then two sharing the port;
    then, for reference, one worker held to a single core."""
    configs = [
        Constant(label="1 worker on 2 cores", chain="all", cpus=BOTH_CPUS, wide=True),
        Constant(label="2 workers on 2 cores", chain="all", cpus=BOTH_CPUS, workers=2, wide=True),
        Constant(label="1 worker on core 0 (reference)", chain="all", wide=True),
    ]
    why = missing(CHAIN_NAMES)
    if why:
        return [Row.unavailable(config.label, why) for config in configs]
    rows = bench.constants(configs)
    return [rows[configs[0].label], _with_split(rows[configs[1].label]), rows[configs[2].label]]


def _with_split(row: Row) -> Row:
    """Note how the kernel spread the connections: each worker's share of the CPU."""
    if row.measurement is None:
        return row
    split = row.measurement.per_process_cpu_s[:2]
    total = sum(split) or 1.0
    shares = " / ".join(f"{share / total:.0%}" for share in split)
    return replace(row, note=f"CPU split between the two workers: {shares}")
