"""The REST views (`GET status`, `GET kernels/{id}`, `GET settings`): the engine's state in
the shapes `protocol.py` declares (`StatusView`, `KernelView`, `SettingsView`). Built here, on
the host side, so the engine only returns data. The engine's `to_public()` dicts are cast to
their declared shapes; tests/server/test_views_contract.py checks what a real server sends
against these declarations, field by field."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, TypeVar, cast

from ..engine.sleeptime_engine import SleeptimeEngine
from ..protocol import (
    Budget,
    CellNote,
    DigestView,
    ErrorNote,
    ExecutionView,
    FactsView,
    KernelSummary,
    KernelView,
    LastRun,
    NextStep,
    NotebookState,
    PreparedItem,
    SettingsView,
    StatusView,
    UsageTotals,
)


def kernel_view(
    engine: SleeptimeEngine, kernel_id: str, notebook: str, execution_state: str
) -> KernelView:
    return {
        "kernel_id": kernel_id,
        "path": _path(notebook),
        "execution_state": execution_state,
        **notebook_state(engine, notebook),
    }


def notebook_state(engine: SleeptimeEngine, notebook: str) -> NotebookState:
    store, scope, answerer = engine.store, engine.scope, engine.answerer
    executions = store.executions(notebook)
    digest = scope.digest(notebook)
    memory = store.memory(notebook)
    view = scope.view(notebook)
    version = store.state_version(notebook)
    enabled = scope.enabled(notebook)
    notes = store.cell_notes_shared(ex.cell_hash() for ex in view)  # (text, reused?)
    anticipated = store.insight(notebook, "anticipated")
    steps = store.insight(notebook, "next_steps")
    no_digest: DigestView = {"variables": [], "took_ms": None}
    return {
        "state_version": version,
        "executions": [cast(ExecutionView, ex.to_public()) for ex in executions],
        "digest": cast(DigestView, digest.to_public()) if digest else no_digest,
        "memory": {
            "text": memory["text"] if memory else "",
            "version": memory["version"] if memory else 0,
            "fresh": bool(memory and memory["state_version"] == version),
        },
        "insights": {
            "cells": [
                _shared(CellNote(execution_count=ex.execution_count, explanation=note[0]), note[1])
                for ex in view
                if (note := notes.get(ex.cell_hash()))
            ],
            "anticipated": cast(
                list[PreparedItem], answerer.prepared_list(notebook) if enabled else []
            ),
            "anticipated_fresh": bool(anticipated and anticipated[1] == version),
            "next_steps": saved_steps(steps),
            "errors": [
                _shared(ErrorNote(execution_count=ex.execution_count, diagnosis=found[0]), found[1])
                for ex in view
                if ex.status == "error" and (found := store.diagnosis_shared(ex.cell_hash()))
            ],
        },
        "usage": _usage(store.usage(notebook)),
        "facts": cast(FactsView, scope.facts(notebook).to_public()) if enabled else None,
        "enabled": enabled,
        "pending": engine.scheduler.pending(notebook),
        "thinking": engine.scheduler.thinking(notebook),
        "current_task": _current_task(engine, notebook),
        "last_run": cast(LastRun | None, store.last_run(notebook)),
    }


def kernel_summary(
    engine: SleeptimeEngine, kernel_id: str, notebook: str, execution_state: str
) -> KernelSummary:
    state = engine.scheduler.states.get(notebook)
    return {
        "kernel_id": kernel_id,
        "path": _path(notebook),
        "execution_state": execution_state,
        "pending": engine.scheduler.pending(notebook),
        "last_run": cast(LastRun | None, engine.store.last_run(notebook)),
        "thinking": engine.scheduler.thinking(notebook),
        "current_task": _current_task(engine, notebook),
        "paused": engine.paused(notebook),
        "last_error": state.last_error if state else None,
    }


def status(
    engine: SleeptimeEngine, version: str, kernels: Iterable[tuple[str, str, str]]
) -> StatusView:
    """`kernels`: (kernel id, notebook, execution state) of each running kernel."""
    client = engine.client
    return {
        "version": version,
        "kernels": [kernel_summary(engine, *kernel) for kernel in kernels],
        "at": time.time(),
        "model": client.model,
        "sleep_model": client.sleep_model,
        "enabled": engine.scheduler.enabled,
        "usage": _usage(engine.store.usage()),
        "budget": cast(Budget, client.budget_state()),
        "model_error": client.last_error,
        "store_error": engine.store_error,
        "records_waiting": engine.records_waiting(),
        "anticipated_hits": engine.anticipated_hits,
        "redacted": client.redacted_total,
    }


def settings(engine: SleeptimeEngine) -> SettingsView:
    return {
        "model": engine.client.model,
        "sleep_model": engine.client.sleep_model,
        "idle_seconds": engine.scheduler.idle_seconds,
        "enabled": engine.scheduler.enabled,
    }


def _current_task(engine: SleeptimeEngine, notebook: str) -> str | None:
    state = engine.scheduler.states.get(notebook)
    return state.current_task if state else None


def _path(notebook: str) -> str | None:
    return None if notebook.startswith("kernel:") else notebook


def _usage(usage: dict[str, Any]) -> UsageTotals:
    return cast(UsageTotals, {k: v.to_public() for k, v in usage.items()})


Note = TypeVar("Note", CellNote, ErrorNote)


def _shared(item: Note, shared: bool) -> Note:
    """An item reused from another user's run says so (`"shared": true`)."""
    if shared:
        item["shared"] = True
    return item


def saved_items(saved: tuple[Any, int] | None) -> list[dict[str, Any]]:
    """The items of a saved insight (`store.insight(...)`), or none."""
    if not saved or not isinstance(saved[0], dict):
        return []
    return list(saved[0].get("items", []))


def saved_steps(saved: tuple[Any, int] | None) -> list[NextStep]:
    """The next steps of a saved `next_steps` insight, as every view shows them."""
    return [{"title": i.get("title", ""), "code": i.get("code", "")} for i in saved_items(saved)]
