"""services.gateway.propagation: what the edge reads of a request's headers, and passes on."""

from __future__ import annotations

import pytest

from services.gateway.propagation import MAX_AUTHORIZATION_BYTES, read_headers, tracestate


def test_a_valid_tracestate_passes_on_as_one_list_whatever_the_headers_and_spaces() -> None:
    assert tracestate(["vendor=opaque"]) == "vendor=opaque"
    assert tracestate(["a=1 , b=2", "c=3\t"]) == "a=1,b=2,c=3"
    assert tracestate(["tenant@system=x", "ok=with space"]) == "tenant@system=x,ok=with space"
    assert tracestate([]) is None
    assert tracestate([" , "]) is None


@pytest.mark.parametrize(
    "header",
    [
        "a=" + "x" * 8000,  # a value longer than 256 characters
        "Upper=1",
        "key=has,comma",
        "key=has=equals",
        "key=",
        "no-equals",
        "a=1,a=2",
        ",".join(f"k{n}=v" for n in range(33)),
        "a=caf\u00e9",
    ],
    ids=[
        "8-kb-value",
        "upper-case-key",
        "comma",
        "equals",
        "empty-value",
        "no-equals",
        "repeated-key",
        "33-members",
        "not-ascii",
    ],
)
def test_a_tracestate_that_breaks_the_w3c_rules_is_dropped_whole(header: str) -> None:
    assert tracestate([header]) is None


def test_a_long_tracestate_loses_its_large_members_first_then_its_last_ones() -> None:
    large = "big=" + "y" * 200
    small = [f"k{n}=" + "v" * 60 for n in range(10)]

    kept = tracestate([",".join([small[0], large, *small[1:]])])

    assert kept is not None
    assert len(kept) <= 512
    assert "big=" not in kept
    assert kept.split(",") == small[: len(kept.split(","))]  # the first members, in order
    assert len(kept.split(",")) == 8  # 8 members of 63 characters and 7 commas: 511


def test_the_authorization_headers_are_counted_and_an_oversized_one_is_flagged() -> None:
    single = read_headers([(b"authorization", b"Bearer a.b.c")])
    double = read_headers([(b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")])
    huge = read_headers([(b"authorization", b"Bearer " + b"x" * MAX_AUTHORIZATION_BYTES)])

    assert (single.authorization, single.authorizations) == ("Bearer a.b.c", 1)
    assert not single.authorization_too_large
    assert double.authorizations == 2
    assert huge.authorization_too_large


def test_several_tracestate_headers_make_one_checked_list() -> None:
    incoming = read_headers(
        [
            (b"traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            (b"tracestate", b"a=1"),
            (b"tracestate", b"b=2"),
        ]
    )

    assert incoming.tracestate == "a=1,b=2"
