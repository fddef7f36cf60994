"""The engine's data model: what a kernel ran and what was thought about it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Outputs are kept for the model as text; caps keep one chatty cell from flooding a prompt.
OUTPUT_TEXT_CAP = 4000


@dataclass
class Output:
    """One output of an execution, reduced to what a model can read."""

    output_type: str  # stream | execute_result | display_data | error
    text: str = ""
    name: str | None = None  # stream name (stdout/stderr)
    mime_types: list[str] = field(default_factory=list)
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in asdict(self).items() if v not in (None, [], "") or k == "output_type"
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Output:
        fields: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__ if k in data}
        return cls(**fields)


@dataclass
class Execution:
    """One user execution, in the order the kernel ran it."""

    id: int
    notebook: str
    kernel_id: str
    msg_id: str
    execution_count: int | None
    source: str
    outputs: list[Output] = field(default_factory=list)
    status: str | None = None  # ok | error | None while running
    cell_id: str | None = None
    started: float | None = None
    ended: float | None = None

    @property
    def complete(self) -> bool:
        return self.status is not None

    @property
    def error(self) -> Output | None:
        return next((o for o in self.outputs if o.output_type == "error"), None)

    def cell_hash(self) -> str:
        """Identity of a cell's content: source + a digest of its outputs.

        Explanations are stored under this hash, so an unchanged cell is never re-explained,
        also across server restarts and re-executions."""
        digest = hashlib.sha256()
        digest.update(self.source.encode())
        for out in self.outputs:
            digest.update(b"\0")
            digest.update(out.output_type.encode())
            digest.update((out.text or out.evalue or "")[:OUTPUT_TEXT_CAP].encode())
        return digest.hexdigest()[:32]

    def to_public(self) -> dict[str, Any]:
        return {
            "execution_count": self.execution_count,
            "source": self.source,
            "status": self.status,
            "outputs": [o.to_dict() for o in self.outputs],
            "cell_id": self.cell_id,
            "started": self.started,
            "ended": self.ended,
        }


@dataclass
class Digest:
    """A bounded summary of the kernel's user namespace."""

    variables: list[dict[str, Any]]
    took_ms: float
    truncated: bool = False
    total: int = 0
    at: float = 0.0
    # What a silent kernel probe read about the names on a failing line: parameters of the
    # called functions, attributes and columns ({"train_test_split": {"params": [...]}}).
    probes: dict[str, Any] = field(default_factory=dict)
    # Type and size of the newest displayed results, by execution count ({"17": "…Series, len 1"}).
    results: dict[str, str] = field(default_factory=dict)

    def to_public(self) -> dict[str, Any]:
        public = {
            "variables": self.variables,
            "took_ms": self.took_ms,
            "truncated": self.truncated,
            "total": self.total,
            "at": self.at,
        }
        if self.probes:
            public["probes"] = self.probes
        if self.results:
            public["results"] = self.results
        return public


@dataclass
class Usage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_public(self) -> dict[str, int]:
        return asdict(self)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
