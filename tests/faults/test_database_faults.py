"""The database fails under load: cut, frozen, slow. The user service loses no write,
reports none it made as failed (but with a code that says "maybe"), keeps answering
liveness, refuses what it cannot take at once, frees its sockets, and recovers by itself.

Short runs (``_scenarios.SHORT``); ``make test-faults`` runs them longer and judges the
durations too. Each test prints its figures (``pytest -s``).
"""

from __future__ import annotations

from pathlib import Path

from tests.faults._scenarios import SHORT, database_cut, database_freeze, database_slowdown


def test_a_database_cut_under_load_loses_no_write_and_the_service_recovers(
    tmp_path: Path,
) -> None:
    report = database_cut(tmp_path, SHORT)
    print("\n".join(report.lines()))

    assert report.behaviour_misses() == []


def test_a_frozen_database_keeps_liveness_answered_refuses_the_excess_and_recovers(
    tmp_path: Path,
) -> None:
    report = database_freeze(tmp_path, SHORT)
    print("\n".join(report.lines()))

    assert report.behaviour_misses() == []


def test_a_slow_database_leaves_no_socket_behind_and_no_write_reported_wrongly(
    tmp_path: Path,
) -> None:
    report = database_slowdown(tmp_path, SHORT)
    print("\n".join(report.lines()))

    assert report.behaviour_misses() == []
