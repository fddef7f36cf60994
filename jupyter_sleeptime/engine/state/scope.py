"""What the engine may use of a notebook: the one place where its privacy settings apply.

Thinking and answering (every mode) read executions, digests, the document and the facts
only through `NotebookScope`, so an opted-out notebook is never sent and a cell tagged
`sleeptime-skip` never reaches a model — neither its source nor the names it binds; the
values of those names are hidden wherever else they appear (`hidden_values`, applied at
the model boundary).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ..facts import NotebookFacts, build_facts
from .document import Document, OptedOut, Policy, summary_literal
from .notebook_text import current_view
from .records import Digest, Execution
from .store import Store

log = logging.getLogger(__name__)


class NotebookScope:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.documents: dict[str, Document] = {}
        self._facts: dict[str, tuple[tuple, NotebookFacts]] = {}

    # -- the document and its policy --------------------------------------------------------
    def set_document(self, notebook: str, document: Document) -> None:
        self.documents[notebook] = document

    def set_policy(self, notebook: str, policy: Policy) -> None:
        """For hosts (and tests) that know the policy but not the document."""
        self.documents[notebook] = replace(self.document(notebook), policy=policy)

    def document(self, notebook: str) -> Document:
        return self.documents.get(notebook) or Document()

    def policy(self, notebook: str) -> Policy:
        return self.document(notebook).policy

    def enabled(self, notebook: str) -> bool:
        return self.policy(notebook).enabled

    def check(self, notebook: str) -> None:
        """Raise `OptedOut` (its message says how to opt back in) for an opted-out notebook."""
        if not self.enabled(notebook):
            raise OptedOut()

    def rename(self, old: str, new: str) -> None:
        if old in self.documents:
            self.documents[new] = self.documents.pop(old)
        self._facts.pop(old, None)

    # -- what may be shown ------------------------------------------------------------------
    def session(self, notebook: str) -> list[Execution]:
        """Complete executions of the newest kernel session, in order, minus skipped cells."""
        executions = [ex for ex in self.store.executions(notebook) if ex.complete]
        if executions:
            kernel = executions[-1].kernel_id
            executions = [ex for ex in executions if ex.kernel_id == kernel]
        policy = self.policy(notebook)
        return [ex for ex in executions if policy.allows(ex)]

    def view(self, notebook: str) -> list[Execution]:
        policy = self.policy(notebook)
        return [ex for ex in current_view(self.store.executions(notebook)) if policy.allows(ex)]

    def digest(self, notebook: str) -> Digest | None:
        return self._filtered(self.store.digest(notebook), notebook)

    def digest_log(self, notebook: str) -> list[tuple[int, Digest]]:
        out = []
        for after, digest in self.store.digest_log(notebook):
            filtered = self._filtered(digest, notebook)
            if filtered is not None:
                out.append((after, filtered))
        return out

    def _filtered(self, digest: Digest | None, notebook: str) -> Digest | None:
        policy = self.policy(notebook)
        if digest is None or not policy.skip_names:
            return digest
        kept = [v for v in digest.variables if policy.allows_name(str(v.get("name")))]
        return replace(digest, variables=kept)

    def hidden_values(self, notebook: str | None) -> set[str]:
        """Values that came from skipped cells: literals written there and what the names
        they bind held in any digest. The model boundary hides them everywhere."""
        if not notebook:
            return set()
        policy = self.policy(notebook)
        if not policy.skip_sources:
            return set()
        found = policy.hidden_literals()
        digests = [self.store.digest(notebook)] + [d for _, d in self.store.digest_log(notebook)]
        for digest in digests:
            for var in digest.variables if digest else []:
                if policy.allows_name(str(var.get("name"))):
                    continue
                value = summary_literal(str(var.get("summary") or ""))
                if value:
                    found.add(value)
        return found

    # -- facts --------------------------------------------------------------------------------
    def facts(self, notebook: str) -> NotebookFacts:
        """The fact sheet for the current state; rebuilt only when something it reads changed
        (a new execution, a new digest, another document)."""
        digest = self.digest(notebook)
        document = self.document(notebook)
        key = (
            self.store.state_version(notebook),
            digest.at if digest else 0.0,
            hash(document),
        )
        cached = self._facts.get(notebook)
        if cached and cached[0] == key:
            return cached[1]
        view = self.view(notebook)
        try:
            facts = build_facts(
                self.session(notebook), view, digest, self.digest_log(notebook), document
            )
        except Exception:  # a cell the analysis trips on must not stop thinking or answering
            log.exception("sleeptime: computing the facts of %s failed", notebook)
            facts = NotebookFacts({}, [], {}, view, document, digest, False)
        self._facts[notebook] = (key, facts)
        return facts


__all__ = ["NotebookScope", "OptedOut"]
