"""The sleep-time engine: plain asyncio, no Jupyter imports.

It records what a kernel ran, decides what to think about while the kernel is idle
(`scheduler`, `thinker`), and builds answers at query time (`answerer`). Every model
call goes through `llm.ModelClient`, the single LiteLLM boundary where secrets are
redacted and usage is recorded.
"""

import os

# LiteLLM fetches a price list from the network at import unless told otherwise.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from .core import EngineConfig, SleeptimeEngine

__all__ = ["EngineConfig", "SleeptimeEngine"]
