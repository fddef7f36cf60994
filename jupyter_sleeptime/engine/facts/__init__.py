"""Notebook facts: what can be computed exactly, while idle and without a model.

A small model reads well and computes badly, so everything that can be read off the
executions, the kernel digests and the document is computed here: where each name was set
and what it holds (`provenance`), error cards (`errors`), what each cell printed
(`sheet`), and the cells and markdown ranked for a question (`search`). The model then only
reads and phrases.
"""

from .errors import ErrorCard
from .provenance import NameFact
from .sheet import NotebookFacts, build_facts, probe_requests

__all__ = ["ErrorCard", "NameFact", "NotebookFacts", "build_facts", "probe_requests"]
