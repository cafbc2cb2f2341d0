"""JSON lines: whichever encoder writes a line, it says what json.dumps would say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from servicekit.log_lines import JsonLines


class Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


EVENTS: list[dict[str, Any]] = [
    {"event": "rpc", "code": "OK", "duration_ms": 0.123, "count": 3, "ok": True, "none": None},
    {"event": "unicode", "name": "Zoë 名前 \u2028", "quote": '"\\'},
    {"event": "big", "value": 2**70, "negative": -(2**65)},
    {"event": "opaque", "value": Opaque(), "nested": {"list": [1, "two", Opaque()]}},
    {"event": "floats", "tiny": 1e-300, "huge": 1.5e300, "third": 1 / 3},
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "standard"])
@pytest.mark.parametrize("event", EVENTS, ids=[str(event["event"]) for event in EVENTS])
def test_a_line_decodes_to_what_json_dumps_encodes(fast: bool, event: dict[str, Any]) -> None:
    line = JsonLines(fast=fast)(event)

    assert "\n" not in line
    assert line.isascii()
    assert json.loads(line) == json.loads(json.dumps(event, default=repr))


def test_text_beyond_ascii_is_escaped_as_the_standard_library_does() -> None:
    event = {"event": "hello", "name": "Zoë"}

    assert JsonLines()(event) == json.dumps(event)
