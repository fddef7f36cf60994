"""The sleep-time engine: plain asyncio, no Jupyter imports.

It records what a kernel ran, decides what to think about while the kernel is idle
(`scheduler`, `thinker`), and builds answers at query time (`answerer`). Every model
call goes through `llm.ModelClient`, the single LiteLLM boundary where secrets are
redacted and usage is recorded.

Importing it changes nothing in the environment: LiteLLM is imported (quietly, without its
price-list download) when the first model client starts — see `providers.py`.
"""

from .core import EngineConfig, SleeptimeEngine

__all__ = ["EngineConfig", "SleeptimeEngine"]
