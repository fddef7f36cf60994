"""The sleep-time engine: plain asyncio, no Jupyter imports.

Four layers, one subpackage each, plus the exact facts and the redaction they all rely on:

- `model/` — every model call goes through `model.model_client.ModelClient`, the single LiteLLM
  boundary where secrets are redacted and usage is recorded; the embedded model, its weights,
  and the pause that makes background calls give way to user code and to questions;
- `idle/` — when to think (`scheduler`) and what to think while the kernel is idle
  (`thinker`), and insights shared across users;
- `answer/` — what a question asks, which prepared answer may serve it, and the one place
  that builds an answer (`answerer`);
- `state/` — records of what ran, the notebook document, what may be used of it, how it is
  shown as text, and the store;
- `facts/` — what can be computed exactly without a model; `redact/` — secrets withheld
  before any model call; `prompts/` — the prompt templates.

`SleeptimeEngine` (`sleeptime_engine.py`) is the one core object a host holds. Importing the
engine changes nothing in the environment: LiteLLM is imported (quietly, without its
price-list download) when the first model client starts — see `model/providers.py`.
"""

from .sleeptime_engine import EngineConfig, SleeptimeEngine

__all__ = ["EngineConfig", "SleeptimeEngine"]
