"""`jupyter sleeptime demo` end to end with the scripted model: it runs on a copy of the
quickstart in the folder it is given (the original stays as it was), says which cells it
skips and which idle-time task runs, in plain words, and points at its copy at the end."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_sleeptime import cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_demo_runs_on_a_copy_and_says_what_it_does(tmp_path):
    original = cli._quickstart()
    before = _digest(original)
    folder = tmp_path / "my demo"
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_sleeptime.cli",
            "demo",
            "--model",
            "sleeptime-scripted/demo",
            "--questions",
            "1",
            "--dir",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=280,
        env=env,
        cwd=tmp_path,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:] + out[-3000:]
    copy = folder / "quickstart.ipynb"
    assert copy.exists() and _digest(original) == before  # the original is untouched
    assert sorted(p.name for p in folder.iterdir()) == ["quickstart.ipynb"]  # no store, no log
    assert f"a copy of quickstart.ipynb: {copy}" in out
    assert "Ran 11 code cells (skipped 1 cell that only asks with `%ask`" in out
    # the thinking line: how long each phase shows depends on the machine, some always does
    assert any(f"] {doing}" in out for doing in ("about to start", "thinking", "finishing"))
    assert "c′" not in out and "waiting for idle" not in out
    assert "Notebook memory (what idle time wrote about the notebook):" in out
    assert "cd ~/'my demo' && jupyter lab" in out and str(copy) in out


def test_a_copy_already_there_is_kept(tmp_path):
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text("{}")
    mine = tmp_path / "demo" / "nb.ipynb"
    mine.parent.mkdir()
    mine.write_text('{"mine": true}')
    assert cli._demo_copy(notebook, tmp_path / "demo") == (mine, False)
    assert mine.read_text() == '{"mine": true}'
    fresh, new = cli._demo_copy(notebook, tmp_path / "other")
    assert new and fresh.read_text() == "{}"


def test_the_thinking_line_names_the_task_in_words():
    usage = {"sleep": {"calls": 2, "prompt_tokens": 1500}}
    state = {"usage": usage, "thinking": True, "pending": 2, "current_task": "explain_cells"}
    assert cli._thinking_line(state) == (
        "thinking: explaining cells (2 more tasks after this) · so far 2 model calls, "
        "1,500 prompt tokens"
    )
    state.update(thinking=False, pending=3, current_task=None)
    assert cli._thinking_line(state).startswith("about to start · ")
    state.update(pending=0)
    assert cli._thinking_line(state).startswith("finishing · ")
