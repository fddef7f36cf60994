"""Where the model layer starts: LiteLLM itself, and the in-process providers it routes to.

Importing LiteLLM downloads a model price list unless `LITELLM_LOCAL_MODEL_COST_MAP` is set;
we set it to "True" here, once, when the first model client is made — and only if the user
has not set it (nothing in this package changes the environment when it is imported).

In-process providers (a LiteLLM `CustomLLM` behind a model-id prefix, such as the embedded
`sleeptime-local/…`) are found by that prefix among the entry points of the
`jupyter_sleeptime.providers` group (see pyproject.toml), so the engine names none of them.
"""

from __future__ import annotations

import logging
import os
import sys
from functools import cache
from importlib import metadata
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

COST_MAP_ENV = "LITELLM_LOCAL_MODEL_COST_MAP"
GROUP = "jupyter_sleeptime.providers"


# LiteLLM logs an INFO line for every call and prints help banners on errors: noise in the
# `jupyter lab` terminal. Quiet unless the host runs with debug logging (`quiet_logs(False)`).
THIRD_PARTY_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx")
_quiet = True


def quiet_logs(quiet: bool = True) -> None:
    """Third-party INFO logs off (the default) or left as their libraries set them."""
    global _quiet
    _quiet = quiet
    if "litellm" in sys.modules:
        _apply_quiet(sys.modules["litellm"])


def _apply_quiet(module: ModuleType) -> None:
    if not _quiet or os.environ.get("LITELLM_LOG"):  # the user chose LiteLLM's level
        return
    setattr(module, "suppress_debug_info", True)  # noqa: B010 - not in its type stubs
    for name in THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def litellm() -> ModuleType:
    """LiteLLM, imported without its network price-list download (unless asked for)."""
    os.environ.setdefault(COST_MAP_ENV, "True")
    import litellm as module

    _apply_quiet(module)
    return module


@cache
def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in metadata.entry_points(group=GROUP)}


def register(model: str) -> bool:
    """Register the in-process provider of this model id, if one is installed; True then."""
    prefix = model.split("/", 1)[0]
    entry = _entry_points().get(prefix)
    if entry is None:
        return False
    litellm()  # providers subclass LiteLLM's CustomLLM: import it the quiet way first
    entry.load()()
    return True
