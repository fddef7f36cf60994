"""The REST views (`GET status`, `GET kernels/{id}`): the engine's state as the contract in
DESIGN.md spells it. Built here, on the host side, so the engine only returns data."""

from __future__ import annotations

from typing import Any

from ..engine.core import SleeptimeEngine


def notebook_state(engine: SleeptimeEngine, notebook: str) -> dict[str, Any]:
    store, scope = engine.store, engine.scope
    executions = store.executions(notebook)
    digest = scope.digest(notebook)
    memory = store.memory(notebook)
    view = scope.view(notebook)
    version = store.state_version(notebook)
    enabled = scope.enabled(notebook)
    notes = store.cell_notes(ex.cell_hash() for ex in view)
    anticipated = store.insight(notebook, "anticipated")
    steps = store.insight(notebook, "next_steps")
    return {
        "state_version": version,
        "executions": [ex.to_public() for ex in executions],
        "digest": digest.to_public() if digest else {"variables": [], "took_ms": None},
        "memory": {
            "text": memory["text"] if memory else "",
            "version": memory["version"] if memory else 0,
            "fresh": bool(memory and memory["state_version"] == version),
        },
        "insights": {
            "cells": [
                {"execution_count": ex.execution_count, "explanation": notes[ex.cell_hash()]}
                for ex in view
                if ex.cell_hash() in notes
            ],
            "anticipated": engine.answerer.prepared_list(notebook) if enabled else [],
            "anticipated_fresh": bool(anticipated and anticipated[1] == version),
            "next_steps": [{"title": i["title"], "code": i["code"]} for i in _items(steps)],
            "errors": [
                {"execution_count": ex.execution_count, "diagnosis": diagnosis}
                for ex in view
                if ex.status == "error" and (diagnosis := store.diagnosis(ex.cell_hash()))
            ],
        },
        "usage": {k: v.to_public() for k, v in store.usage(notebook).items()},
        "facts": scope.facts(notebook).to_public() if enabled else None,
        "enabled": enabled,
        "pending": engine.scheduler.pending(notebook),
        "thinking": engine.scheduler.thinking(notebook),
        "last_run": store.last_run(notebook),
    }


def kernel_summary(engine: SleeptimeEngine, notebook: str) -> dict[str, Any]:
    state = engine.scheduler.states.get(notebook)
    return {
        "pending": engine.scheduler.pending(notebook),
        "last_run": engine.store.last_run(notebook),
        "thinking": engine.scheduler.thinking(notebook),
        "current_task": state.current_task if state else None,
        "paused": engine.paused(notebook),
        "last_error": state.last_error if state else None,
    }


def engine_status(engine: SleeptimeEngine) -> dict[str, Any]:
    client = engine.client
    return {
        "model": client.model,
        "sleep_model": client.sleep_model,
        "enabled": engine.scheduler.enabled,
        "usage": {k: v.to_public() for k, v in engine.store.usage().items()},
        "budget": client.budget_state(),
        "model_error": client.last_error,
        "store_error": engine.store_error,
        "records_waiting": engine.records_waiting(),
        "anticipated_hits": engine.anticipated_hits,
        "redacted": client.redacted_total,
    }


def _items(saved: tuple[Any, int] | None) -> list[dict[str, Any]]:
    if not saved or not isinstance(saved[0], dict):
        return []
    return list(saved[0].get("items", []))
