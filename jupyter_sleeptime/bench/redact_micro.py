"""Micro-benchmark `redact`: redaction time per 50,000 characters of real notebook text.

The text is what prompts carry: each code cell's source and its outputs (streams, text
results, error tracebacks) in the `In [n]:` / `Out [n]:` form, and markdown cells, for the
given notebooks. Notebooks saved without outputs are executed first (nbclient, errors
allowed), as a user would have run them. Every repeat uses a fresh redactor (nothing learnt)
on the whole text; the figure is scaled to 50,000 characters.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from ..engine.redact import Redactor
from ..engine.state.notebook_text import strip_ansi

PER_CHARS = 50_000


def _executed(nb: Any, path: Path) -> Any:
    code = [c for c in nb.cells if c.cell_type == "code"]
    if any(c.get("outputs") for c in code) or not code:
        return nb
    from nbclient import NotebookClient  # the bench extra; only for notebooks without outputs

    with tempfile.TemporaryDirectory() as cwd:
        client = NotebookClient(
            nb, timeout=300, allow_errors=True, resources={"metadata": {"path": cwd}}
        )
        client.execute()
    return nb


def _outputs(cell: Any) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(strip_ansi("\n".join(out.get("traceback", []))))
        else:
            data = out.get("data", {})
            parts.extend(str(data[k]) for k in ("text/plain", "text/html") if k in data)
    return "\n".join(parts)


def notebook_text(path: Path) -> str:
    """A notebook as prompts show it: sources, outputs and markdown, in order."""
    nb = _executed(nbformat.read(path, as_version=4), path)
    pieces = []
    for i, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "markdown":
            pieces.append(f"Markdown:\n{cell.source}")
        elif cell.cell_type == "code":
            pieces.append(f"In [{i}]:\n{cell.source}")
            outputs = _outputs(cell)
            if outputs:
                pieces.append(f"Out [{i}]:\n{outputs}")
    return "\n".join(pieces)


def redact_micro(notebooks: list[Path], repeats: int = 20) -> dict[str, Any]:
    texts = [notebook_text(p) for p in notebooks]
    text = "\n\n".join(texts)
    Redactor().redact(text)  # warm: compiled patterns, caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        Redactor().redact(text)
        times.append((time.perf_counter() - started) * 1000)
    scale = PER_CHARS / max(1, len(text))
    return {
        "notebooks": len(notebooks),
        "chars": len(text),
        "repeats": repeats,
        "median_ms_per_50k": statistics.median(times) * scale,
        "min_ms_per_50k": min(times) * scale,
        "p95_ms_per_50k": sorted(times)[int(0.95 * (len(times) - 1))] * scale,
    }
