"""Server tests whose model is a recording OpenAI-compatible endpoint on loopback: what
leaves the machine is what it received."""

from __future__ import annotations

from typing import Any

import pytest

from ..recording_model import Recorder


@pytest.fixture
def recorder(jp_asyncio_loop):
    rec = Recorder()
    yield rec
    rec.stop()


@pytest.fixture
def recording_config(recorder) -> dict[str, Any]:
    """SleeptimeApp traits for a server whose model is the recorder; thinking runs only
    when the test asks for it."""
    return {
        "model": "openai/recorder",
        "model_kwargs": {"api_base": recorder.api_base, "api_key": "test-key-for-loopback"},
        "idle_seconds": 600,
    }
