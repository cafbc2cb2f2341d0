"""The user service's process ends under load: SIGTERM (a drain within the grace period,
exit 0) and kill -9; a new process takes over. No write is lost; none is reported failed
yet committed (kill -9: the transport cannot answer for a killed server, and the retries
with the same request id settle every create).
"""

from __future__ import annotations

from pathlib import Path

from tests.faults._scenarios import SHORT, kill9, sigterm


def test_sigterm_under_load_drains_exits_0_and_reports_no_write_wrongly(tmp_path: Path) -> None:
    report = sigterm(tmp_path, SHORT)
    print("\n".join(report.lines()))

    assert report.behaviour_misses() == []


def test_kill_9_under_load_loses_no_acknowledged_write_and_retries_settle_the_rest(
    tmp_path: Path,
) -> None:
    report = kill9(tmp_path, SHORT)
    print("\n".join(report.lines()))

    assert report.behaviour_misses() == []
