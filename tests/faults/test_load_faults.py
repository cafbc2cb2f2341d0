"""Too much work at once: an anonymous flood of sign-ups at real hashing cost (other users'
reads go on), more calls than the user service admits (the excess refused at once), and
more requests than the gateway admits (503 with Retry-After).
"""

from __future__ import annotations

from pathlib import Path

from tests.faults._scenarios import SHORT, gateway_overload, hashing_flood, overload


def test_a_hashing_flood_is_refused_while_other_users_reads_are_served(tmp_path: Path) -> None:
    report = hashing_flood(tmp_path, SHORT)
    print("\n".join(report.lines()))

    assert report.behaviour_misses() == []


def test_calls_past_the_servers_bound_are_refused_at_once(tmp_path: Path) -> None:
    report = overload(tmp_path, SHORT)
    print("\n".join(report.lines()))

    assert report.behaviour_misses() == []


def test_requests_past_the_gateways_bound_get_503_with_retry_after(tmp_path: Path) -> None:
    report = gateway_overload(tmp_path, SHORT)
    print("\n".join(report.lines()))

    assert report.behaviour_misses() == []
