from __future__ import annotations

import pytest

from jupyter_sleeptime.engine import EngineConfig, SleeptimeEngine
from jupyter_sleeptime.engine.model import local_model

SCRIPTED = "sleeptime-scripted/test"


@pytest.fixture
def make_engine(tmp_path):
    engines: list[SleeptimeEngine] = []

    def make(**overrides) -> SleeptimeEngine:
        config = EngineConfig(
            store_path=str(tmp_path / "store.db"),
            model=SCRIPTED,
            idle_seconds=0.2,
            retry_base_seconds=0.2,
        )
        for key, value in overrides.items():
            setattr(config, key, value)
        engine = SleeptimeEngine(config)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        try:
            engine.close()
        except Exception:
            pass


@pytest.fixture
def fresh_prefix_states(monkeypatch):
    """Saved prefixes and their bound are process-wide: a test that sends a small `max_bytes`
    would otherwise leave that bound to the next test, which then keeps nothing."""
    monkeypatch.setattr(local_model, "_prefixes", local_model.PrefixStates())
