"""The model layer's start: LiteLLM's per-call INFO lines stay out of the user's terminal
unless the host logs at debug level or the user set LiteLLM's own level."""

from __future__ import annotations

import logging

import pytest

from jupyter_sleeptime.engine.model import providers


@pytest.fixture
def litellm_logger(monkeypatch):
    monkeypatch.delenv("LITELLM_LOG", raising=False)
    logger = logging.getLogger("LiteLLM")
    level = logger.level
    yield logger
    logger.setLevel(level)
    providers.quiet_logs(True)


def test_litellm_info_is_quiet_by_default(litellm_logger):
    litellm_logger.setLevel(logging.INFO)
    providers.quiet_logs(True)
    providers.litellm()
    assert not litellm_logger.isEnabledFor(logging.INFO)
    assert litellm_logger.isEnabledFor(logging.WARNING)


def test_debug_logging_keeps_litellm_as_it_is(litellm_logger):
    providers.quiet_logs(False)
    litellm_logger.setLevel(logging.INFO)
    providers.litellm()
    assert litellm_logger.isEnabledFor(logging.INFO)


def test_litellm_log_env_is_the_users_choice(litellm_logger, monkeypatch):
    monkeypatch.setenv("LITELLM_LOG", "INFO")
    litellm_logger.setLevel(logging.INFO)
    providers.quiet_logs(True)
    assert litellm_logger.isEnabledFor(logging.INFO)
