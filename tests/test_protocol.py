"""The wire contract (`jupyter_sleeptime/protocol.py`) against its fixtures in
tests/data/protocol/ (events.json, views.json, schema.json), which the labextension's Jest
specs read too."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyter_sleeptime import protocol

from . import wire_shapes

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


# -- builders ---------------------------------------------------------------------------------
def test_the_prompt_builder_writes_the_fixture_shapes():
    prepared = FIXTURE["events"]["prompt_prepared"]
    assert (
        protocol.prompt(
            source="anticipated",
            kind="error",
            messages=[],
            answer=prepared["answer"],
            matched=prepared["matched"],
        )
        == prepared
    )
    model = FIXTURE["events"]["prompt_model"]
    built = protocol.prompt(
        source="model",
        kind="error",
        messages=model["messages"],
        max_tokens=220,
        approx_tokens=640,
    )
    assert built == model


def test_ask_request_sends_only_the_flags_that_are_set():
    assert protocol.ask_request("What is df?") == {"question": "What is df?", "mode": "sleep"}
    body = protocol.ask_request("Why?", "baseline", fresh=True, dry_run=True, model="openai/x")
    assert body == {
        "question": "Why?",
        "mode": "baseline",
        "fresh": True,
        "dry_run": True,
        "model": "openai/x",
    }
    # what the server reads from it: the same request, its defaults filled in
    assert protocol.parse_ask_request(body) == {**body, "cold": False}


# -- reading a stream -------------------------------------------------------------------------
DONE = FIXTURE["events"]["done_model"]
TOKEN = FIXTURE["events"]["token"]


def _stream(*events: dict) -> bytes:
    return "".join(protocol.ndjson(e) for e in events).encode()


@pytest.mark.parametrize("size", [1, 3, 17, 10_000])
def test_the_reader_takes_chunks_of_any_size(size):
    data = _stream(TOKEN, TOKEN, DONE) + b"\n"
    reader = protocol.EventReader()
    events = [e for i in range(0, len(data), size) for e in reader.feed(data[i : i + size])]
    assert events == [TOKEN, TOKEN, DONE]
    assert reader.final == DONE and reader.end() == []


def test_the_reader_stops_at_the_final_event_and_at_a_malformed_line():
    reader = protocol.EventReader()
    assert reader.feed(_stream(DONE, TOKEN)) == [DONE]  # nothing after the final event
    events = list(protocol.read_events([_stream(TOKEN), b'{"type": "shrug"}\n', _stream(DONE)]))
    assert events[0] == TOKEN and len(events) == 2
    assert events[1] == protocol.error(
        "the server sent a malformed answer (unknown event type 'shrug')."
    )


def test_a_stream_that_ends_early_or_breaks_off_says_so():
    assert list(protocol.read_events([_stream(TOKEN)])) == [
        TOKEN,
        protocol.error("the server closed the answer stream early."),
    ]
    # a last line without its newline still counts
    assert list(protocol.read_events([_stream(TOKEN), json.dumps(DONE).encode()])) == [TOKEN, DONE]

    def broken():
        yield _stream(TOKEN)
        raise TimeoutError("timed out")

    assert list(protocol.read_events(broken())) == [
        TOKEN,
        protocol.error("the answer stream broke off (timed out)."),
    ]


# -- the types, for the labextension --------------------------------------------------------------
SCHEMA_PATH = Path(__file__).parent / "data" / "protocol" / "schema.json"
VIEWS = json.loads((SCHEMA_PATH.parent / "views.json").read_text(encoding="utf-8"))
VIEW_TYPES = {
    "status": protocol.StatusView,
    "kernel": protocol.KernelView,
    "settings": protocol.SettingsView,
}


def test_the_schema_fixture_lists_every_field_of_every_wire_type():
    """`types.ts` is checked against schema.json by Jest; schema.json against the TypedDicts
    here. Regenerate it with SLEEPTIME_UPDATE_FIXTURES=1 after changing a type."""
    current = {
        "_about": "Every field of every wire type of jupyter_sleeptime/protocol.py, by the "
        "labextension interface that mirrors it: written by tests/test_protocol.py "
        "(SLEEPTIME_UPDATE_FIXTURES=1), read by labextension/src/__tests__/protocol.spec.ts.",
        "types": wire_shapes.schema(),
        "tasks": protocol.TASKS,
    }
    if os.environ.get("SLEEPTIME_UPDATE_FIXTURES") == "1":
        SCHEMA_PATH.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
    saved = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert saved == current, (
        "tests/data/protocol/schema.json is stale: run this test with "
        "SLEEPTIME_UPDATE_FIXTURES=1, then update labextension/src/types.ts to match"
    )


@pytest.mark.parametrize("name", sorted(VIEW_TYPES))
def test_the_view_examples_follow_the_contract(name):
    assert wire_shapes.violations(VIEWS[name], VIEW_TYPES[name]) == []


@pytest.mark.parametrize("name", sorted(FIXTURE["events"]))
def test_the_event_examples_follow_their_types(name):
    event = FIXTURE["events"][name]
    typed = {
        "token": protocol.TokenEvent,
        "done": protocol.DoneEvent,
        "error": protocol.ErrorEvent,
        "prompt": protocol.PromptEvent,
    }[event["type"]]
    assert wire_shapes.violations(event, typed) == []


def test_the_view_check_finds_each_kind_of_drift():
    view = json.loads(json.dumps(VIEWS["status"]))
    view["kernels"][0]["queue"] = 3  # a field the contract does not declare
    del view["records_waiting"]  # a required field left out
    view["budget"]["exhausted"] = "no"  # a value of the wrong type
    view["store_error"] = None  # null where the contract allows it: fine
    assert sorted(wire_shapes.violations(view, protocol.StatusView)) == [
        "$.budget.exhausted: 'no' is not a bool",
        "$.kernels[0].queue: not declared in KernelSummary",
        "$.records_waiting: required by StatusView, missing",
    ]


def test_every_idle_time_task_has_words_for_the_user():
    from jupyter_sleeptime.engine.idle.thinker import PRIORITY

    assert set(protocol.TASKS) == set(PRIORITY)
    assert protocol.task_words("explain_cells") == "explaining cells"
    assert protocol.task_words("a_new_task") == "a_new_task"  # never blank
    assert protocol.task_words(None) == ""
