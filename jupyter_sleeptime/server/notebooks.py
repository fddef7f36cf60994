"""What the notebook document says about sleeptime: opt-out metadata and skipped cells.

Read from the live shared document when jupyter-collaboration runs, else from the saved
file through the contents manager. A notebook that cannot be read keeps the defaults."""

from __future__ import annotations

import logging
from typing import Any

from ..engine.thinker import Policy

log = logging.getLogger(__name__)

SKIP_TAG = "sleeptime-skip"


def policy_from_notebook(content: dict[str, Any]) -> Policy:
    metadata = content.get("metadata") or {}
    settings = metadata.get("sleeptime") or {}
    enabled = not (isinstance(settings, dict) and settings.get("enabled") is False)
    skipped = set()
    for cell in content.get("cells") or []:
        tags = (cell.get("metadata") or {}).get("tags") or []
        if SKIP_TAG in tags:
            source = cell.get("source") or ""
            skipped.add(("".join(source) if isinstance(source, list) else source).strip())
    return Policy(enabled=enabled, skip_sources=frozenset(skipped))


async def read_notebook(settings: dict[str, Any], path: str) -> dict[str, Any] | None:
    ydoc = settings.get("jupyter_server_ydoc")
    if ydoc is not None:
        try:
            document = await ydoc.get_document(
                path=path, content_type="notebook", file_format="json", copy=True
            )
            if document is not None:
                return document.get() if hasattr(document, "get") else document
        except Exception as exc:
            log.debug("sleeptime: no live document for %s: %s", path, exc)
    contents = settings.get("contents_manager")
    if contents is None:
        return None
    try:
        model = contents.get(path, content=True, type="notebook")
        if hasattr(model, "__await__"):
            model = await model
    except Exception as exc:
        log.debug("sleeptime: cannot read %s: %s", path, exc)
        return None
    content = model.get("content")
    return dict(content) if content is not None else None
