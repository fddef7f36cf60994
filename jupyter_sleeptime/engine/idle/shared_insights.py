"""Shared insights (opt-in): an explanation or error diagnosis one user got is reused by the
other users of the same share scope whose cell is identical, so idle-time work on a course
notebook is done once for the class, not once per student.

What is shared is the model's text only, stored under a hash: of the model and the cell's
source and outputs for an explanation, and of the whole prompt besides for a diagnosis (its
prompt also holds variable values and related cells, so only an identical prompt may reuse
it). The text is stored encrypted with a key derived from that same content (not from the
stored hash): only a user who has the identical cell can read it, not someone reading the
database. A cell takes part only when nothing in it was redacted or hidden, checked with secret
redaction on even where this user turned it off. An explanation that names something from
another cell of its batch (which may differ between users) is not offered.

Users who run the same cell at the same time do the work once: the first claims it, the
others wait for its text (briefly; then they ask the model themselves).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..model.model_client import ModelClient
from ..redact import Redactor
from ..state.notebook_text import render_executions
from ..state.records import OUTPUT_TEXT_CAP, Execution
from ..state.store import Store, StoreError

log = logging.getLogger(__name__)

CLAIM_STALE_SECONDS = 300.0  # a claim this old was left behind (its server stopped)
WAIT_SECONDS = 20.0  # how long to wait for another user's claimed work
POLL_SECONDS = 0.5
EXPLAIN_OUTPUT_CAP = 600  # as the explain prompt renders a cell
DIAGNOSE_OUTPUT_CAP = 2500
# What could carry another cell's values: numbers, names with digits or underscores, and
# the words inside string literals (prose words are too common to tell anything).
DISTINCT = re.compile(r"\d[\d.,]*\d|\d|[A-Za-z_][A-Za-z0-9]*(?:_[A-Za-z0-9]*|\d[A-Za-z0-9_]*)+")
LITERAL = re.compile(r"(['\"])([^'\"\n]{1,200})\1")
WORD = re.compile(r"[A-Za-z0-9_]{3,}")


def _tokens(text: str) -> set[str]:
    return {t.lower() for t in DISTINCT.findall(text)}


def _revealing(text: str) -> set[str]:
    """Tokens of a cell that would tell its content: distinct tokens and literal words."""
    found = _tokens(text)
    for _, literal in LITERAL.findall(text):
        found |= {w.lower() for w in WORD.findall(literal)}
    return found


class SharedInsights:
    def __init__(self, store: Store, client: ModelClient, scope: str) -> None:
        self.store = store
        self.client = client
        self.scope = scope
        self.redactor = Redactor(enabled=True)
        self.reused = 0  # items taken from the scope (no model call)
        self.offered = 0

    # -- what may take part -------------------------------------------------------------------
    def clean(self, notebook: str, text: str) -> bool:
        """Nothing in `text` would be redacted or hidden on its way to a model."""
        if self.redactor.redact(text).count:
            return False
        sent = self.client.outgoing([{"role": "user", "content": text}], notebook)
        return sent[0]["content"] == text

    def _key(self, kind: str, *material: str) -> Key:
        """Where the text is stored (a hash of a hash of the content) and the key it is
        encrypted with (a different hash of the content itself)."""
        head = (kind, self.client.sleep_model)
        name = _hash("sleeptime-shared-name", *head, *(_hash("c", m) for m in material))
        return Key(name, bytes.fromhex(_hash("sleeptime-shared-text", *head, *material)))

    # -- explanations -------------------------------------------------------------------------
    async def explanations(self, notebook: str, cells: Sequence[Execution]) -> dict[str, str]:
        """Explanations the scope has (or is getting) for these cells, by cell hash; cells
        left out are this user's to explain."""
        keys = {
            ex.cell_hash(): self._key("explanation", _material(ex))
            for ex in cells
            if self.clean(notebook, render_executions([ex], EXPLAIN_OUTPUT_CAP))
        }
        found = await self._reuse("explanation", keys)
        self.reused += len(found)
        return found

    def offer_explanations(
        self, notebook: str, batch: Sequence[Execution], notes: dict[str, str]
    ) -> None:
        for ex in batch:
            key = self._key("explanation", _material(ex))
            text = notes.get(ex.cell_hash())
            own = render_executions([ex], EXPLAIN_OUTPUT_CAP)
            if text and self.clean(notebook, own) and not _speaks_of_others(text, ex, batch):
                self._put("explanation", key, text)
            else:
                self._unclaim("explanation", key)  # others need not wait for it

    # -- diagnoses ----------------------------------------------------------------------------
    async def diagnosis(self, notebook: str, failing: Execution, prompt: str) -> str | None:
        if not self._diagnosis_clean(notebook, failing, prompt):
            return None
        key = self._diagnosis_key(failing, prompt)
        text = (await self._reuse("diagnosis", {"it": key})).get("it")
        if text:
            self.reused += 1
        return text

    def offer_diagnosis(
        self, notebook: str, failing: Execution, prompt: str, text: str | None
    ) -> None:
        if not self._diagnosis_clean(notebook, failing, prompt):
            return
        key = self._diagnosis_key(failing, prompt)
        if text:
            self._put("diagnosis", key, text)
        else:
            self._unclaim("diagnosis", key)

    def _diagnosis_clean(self, notebook: str, failing: Execution, prompt: str) -> bool:
        return self.clean(notebook, render_executions([failing], DIAGNOSE_OUTPUT_CAP)) and (
            self.clean(notebook, prompt)
        )

    def _diagnosis_key(self, failing: Execution, prompt: str) -> Key:
        return self._key("diagnosis", _material(failing), prompt)

    # -- reuse, or claim the work -------------------------------------------------------------
    async def _reuse(self, kind: str, keys: dict[str, Key]) -> dict[str, str]:
        """Texts found for `keys` ({name: key}); keys nobody works on are claimed for this
        user; keys another user is working on are waited for, a while."""
        found: dict[str, str] = {}
        waiting: dict[str, Key] = {}
        for name, key in keys.items():
            text = self._get(kind, key)
            if text:
                found[name] = text
            elif not self._claim(kind, key):  # "" or claimed a moment ago: someone's on it
                waiting[name] = key
        deadline = time.monotonic() + WAIT_SECONDS
        while waiting and time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            for name, key in list(waiting.items()):
                text = self._get(kind, key)
                if text:
                    found[name] = text
                    del waiting[name]
                elif text is None:  # given up by its claimer: ours now
                    del waiting[name]
        return found

    # -- the shared table ---------------------------------------------------------------------
    # A failing shared table never stops thinking: the user's own model call still answers.
    def _get(self, kind: str, key: Key) -> str | None:
        try:
            stored = self.store.shared_insight(self.scope, kind, key.name)
        except StoreError as exc:
            log.warning("sleeptime: shared insights unavailable: %s", exc)
            return None
        return _open(stored, key.secret) if stored else stored

    def _claim(self, kind: str, key: Key) -> bool:
        try:
            return self.store.claim_shared(self.scope, kind, key.name, CLAIM_STALE_SECONDS)
        except StoreError as exc:
            log.warning("sleeptime: shared insights unavailable: %s", exc)
            return True

    def _unclaim(self, kind: str, key: Key) -> None:
        try:
            self.store.unclaim_shared(self.scope, kind, key.name)
        except StoreError as exc:
            log.warning("sleeptime: could not release a shared-insight claim: %s", exc)

    def _put(self, kind: str, key: Key, text: str) -> None:
        try:
            self.store.share_insight(self.scope, kind, key.name, _seal(text, key.secret))
            self.offered += 1
        except StoreError as exc:
            log.warning("sleeptime: could not offer a shared insight: %s", exc)


@dataclass(frozen=True)
class Key:
    name: str  # the row's key in the shared table
    secret: bytes  # what its text is encrypted with


def _hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _material(ex: Execution) -> str:
    """The cell's content as its hash covers it: source, output types and texts."""
    parts = [ex.source]
    for out in ex.outputs:
        parts += [out.output_type, (out.text or out.evalue or "")[:OUTPUT_TEXT_CAP]]
    return "\0".join(parts)


def _stream(secret: bytes, size: int) -> bytes:
    blocks = (hashlib.sha256(secret + i.to_bytes(8, "big")).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def _seal(text: str, secret: bytes) -> str:
    """Encrypt: a SHA-256 keystream (each key seals one text only) and an HMAC tag."""
    data = text.encode()
    sealed = bytes(a ^ b for a, b in zip(data, _stream(secret, len(data)), strict=True))
    tag = hmac.new(secret, sealed, hashlib.sha256).digest()[:16]
    return base64.b64encode(tag + sealed).decode()


def _open(stored: str, secret: bytes) -> str | None:
    try:
        raw = base64.b64decode(stored, validate=True)
    except ValueError:
        return None
    tag, sealed = raw[:16], raw[16:]
    if not hmac.compare_digest(tag, hmac.new(secret, sealed, hashlib.sha256).digest()[:16]):
        return None  # not for this content
    return bytes(a ^ b for a, b in zip(sealed, _stream(secret, len(sealed)), strict=True)).decode()


def _speaks_of_others(text: str, ex: Execution, batch: Sequence[Execution]) -> bool:
    """The explanation names a value or name that is not in its own cell but in another
    cell of the batch."""
    own = render_executions([ex], EXPLAIN_OUTPUT_CAP)
    others: set[str] = set()
    for other in batch:
        if other is not ex:
            others |= _revealing(render_executions([other], EXPLAIN_OUTPUT_CAP))
    mentioned = _tokens(text) | {w.lower() for w in WORD.findall(text)}
    known = _tokens(own) | {w.lower() for w in WORD.findall(own)}
    return bool((mentioned - known) & others)
