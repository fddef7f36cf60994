"""The wire contract (`jupyter_sleeptime/protocol.py`) against its fixture,
tests/data/protocol/events.json, which the labextension's Jest specs read too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_sleeptime import protocol

FIXTURE = json.loads(
    (Path(__file__).parent / "data" / "protocol" / "events.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", sorted(FIXTURE["events"]))
def test_every_example_event_parses_and_survives_a_round_trip(name):
    event = FIXTURE["events"][name]
    line = protocol.ndjson(event)
    assert line.endswith("\n") and "\n" not in line[:-1]
    parsed = protocol.parse_event(line)
    assert parsed == event
    assert protocol.is_final(parsed) is (event["type"] != "token")


def test_constructors_write_the_fixture_shapes():
    done = FIXTURE["events"]["done_prepared"]
    built = protocol.done(
        answer=done["answer"],
        source="anticipated",
        mode="sleep",
        model=None,
        kind="state",
        prompt_tokens=0,
        completion_tokens=0,
        cached_tokens=0,
        ttft_ms=0.412,
        latency_ms=0.409,
        matched=done["matched"],
        prepared_from="facts",
        similarity=0.87,
    )
    assert built == done
    assert protocol.error("x", reason="opted_out", latency_ms=3.21) == {
        "type": "error",
        "message": "x",
        "reason": "opted_out",
        "latency_ms": 3.2,
    }


@pytest.mark.parametrize("name", sorted(FIXTURE["requests"]))
def test_ask_requests_are_read_with_defaults(name):
    case = FIXTURE["requests"][name]
    assert protocol.parse_ask_request(case["body"]) == case["parsed"]


@pytest.mark.parametrize("name", sorted(FIXTURE["invalid_requests"]))
def test_invalid_ask_requests_say_what_is_wrong(name):
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.parse_ask_request(FIXTURE["invalid_requests"][name])
    assert str(err.value).startswith("'")  # names the field


@pytest.mark.parametrize("event", FIXTURE["invalid_events"])
def test_events_off_the_contract_are_refused(event):
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_event(event)


def test_routes_and_ask_cells():
    assert protocol.route("ask", "k-1") == "sleeptime/api/kernels/k-1/ask"
    assert protocol.route("status") == "sleeptime/api/status"
    assert protocol.is_ask_cell("%load_ext jupyter_sleeptime\n%ask What is df?")
    assert protocol.is_ask_cell("%%ask\nWhy?")
    assert not protocol.is_ask_cell("x = 1\n%ask What is x?")
