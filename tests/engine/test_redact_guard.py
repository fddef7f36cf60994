"""Redaction fails closed and never fails a prompt: a pass that raises on one piece of a
prompt (a cell's source, its output, a markdown cell, a digest line) withholds that piece
and nothing else, and says so once in the log."""

from __future__ import annotations

import logging

import pandas as pd

from jupyter_sleeptime.engine.redact import PASSES, WITHHELD, Pass, Redactor

SECRET = "Kx9!mPq2vLw7"


def _boom(text: str, lower: str, found: list, sinks: list) -> None:
    """A pass with a bug that shows on some text only (as `_table_spans` had)."""
    if "BOOM" in text:
        raise StopIteration("no such column")


BOOM = Pass("test pass that breaks on BOOM", _boom)

PROMPT = (
    "In [1]:\nimport pandas as pd\n"
    "Out [1]:\nroute  BOOM\n"
    "In [2]:\ndb_password = '" + SECRET + "'\nprint('connected')\n"
    "Out [2]:\nconnected\n"
    "Markdown:\n## Results\nThe model scores 0.93.\n"
)


def test_a_failing_pass_withholds_only_the_piece_it_fails_on(caplog):
    redactor = Redactor(passes=(*PASSES, BOOM))
    with caplog.at_level(logging.ERROR):
        res = redactor.redact(PROMPT)
    assert "BOOM" not in res.text
    assert res.text.count(WITHHELD) == 1 and "withheld" in res.kinds
    assert "route" not in res.text  # the output went as a whole, its header stayed:
    assert f"Out [1]:\n{WITHHELD}" in res.text
    for kept in ("import pandas as pd", "print('connected')", "The model scores 0.93."):
        assert kept in res.text
    assert SECRET not in res.text and "[REDACTED:password]" in res.text  # the rest redacted
    failures = [r for r in caplog.records if "test pass that breaks on BOOM" in r.getMessage()]
    assert len(failures) == 1 and "StopIteration" in failures[0].getMessage()


def test_the_failure_is_logged_once(caplog):
    redactor = Redactor(passes=(*PASSES, Pass("another breaking pass", _boom)))
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            assert WITHHELD in redactor.redact(PROMPT).text
    assert sum("another breaking pass" in r.getMessage() for r in caplog.records) == 1


def test_a_digest_line_is_a_piece_of_its_own():
    digest = "df: DataFrame = 3 rows x 2 cols\nroute: str = 'BOOM'\nn: int = 3\n"
    res = Redactor(passes=(*PASSES, BOOM)).redact(digest)
    assert "df: DataFrame = 3 rows x 2 cols" in res.text and "n: int = 3" in res.text
    assert "route: str" not in res.text and WITHHELD in res.text


def test_a_pass_that_fails_everywhere_withholds_everything_and_raises_nothing():
    def broken(text: str, lower: str, found: list, sinks: list) -> None:
        raise IndexError("list index out of range")

    res = Redactor(passes=(Pass("broken", broken), *PASSES)).redact(PROMPT)
    assert SECRET not in res.text and "pandas" not in res.text
    assert res.text.replace(WITHHELD, "").strip() == ""  # nothing but placeholders


def test_messages_with_a_failing_piece_still_go_out():
    redactor = Redactor(passes=(*PASSES, BOOM))
    messages = [
        {"role": "system", "content": "You answer questions about a notebook."},
        {"role": "user", "content": [{"type": "text", "text": PROMPT}]},
    ]
    out, count = redactor.redact_messages(messages)
    text = out[1]["content"][0]["text"]
    assert out[0] == messages[0] and WITHHELD in text and "The model scores 0.93." in text
    assert count >= 2  # the password and the withheld piece


def test_a_pass_returning_spans_outside_the_text_is_ignored():
    def wild(text: str, lower: str, found: list, sinks: list) -> None:
        found.extend([(-5, 3, "x"), (len(text) - 1, len(text) + 10, "x"), (4, 2, "x")])

    text = "nothing secret here"
    assert Redactor(passes=(*PASSES, Pass("wild", wild))).redact(text).text == text


def test_frames_from_the_crash_report_are_read_and_kept():
    frame = pd.DataFrame({"route": ["/auth", "/key"], "ms": [12, 9]}).sort_values("ms")
    for text in (str(frame), frame.to_string(index=False), frame.to_html()):
        assert Redactor().redact(text).text == text
