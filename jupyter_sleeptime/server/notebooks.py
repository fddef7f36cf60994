"""Read a notebook document for the engine (markdown, opt-out metadata, skipped cells):
from the live shared document when jupyter-collaboration runs, else the saved file through
the contents manager. A notebook that cannot be read keeps what the engine had."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


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
