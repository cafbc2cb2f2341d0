"""services.gateway.admission.RequestBound: a bound, its 503, and quiet logs under a flood."""

from __future__ import annotations

from structlog.testing import capture_logs

from services.gateway.admission import RequestBound


def test_requests_past_the_bound_are_refused_until_a_place_is_free() -> None:
    bound = RequestBound(2, retry_after_seconds=1.0)

    taken = [bound.try_enter() for _ in range(3)]
    bound.leave()

    assert taken == [True, True, False]
    assert bound.try_enter()
    assert (bound.in_flight, bound.refused) == (2, 1)


def test_a_refused_request_gets_503_unavailable_with_whole_seconds_to_wait() -> None:
    problem = RequestBound(1, retry_after_seconds=0.2).problem()

    assert (problem.status, problem.code) == (503, "UNAVAILABLE")
    assert problem.response_headers()["Retry-After"] == "1"


def test_a_flood_is_two_log_lines_however_many_requests_it_refuses() -> None:
    bound = RequestBound(4, retry_after_seconds=1.0)
    with capture_logs() as logs:
        for _ in range(4):
            bound.try_enter()
        for _ in range(100):  # one refused, one done, its place taken again at once
            bound.try_enter()
            bound.leave()
            bound.try_enter()
        for _ in range(4):
            bound.leave()

    assert [line["event"] for line in logs] == [
        "refusing requests: at the limit of concurrent requests",
        "admitting requests again",
    ]
    assert logs[1]["refused"] == 100
