"""The redactor: runs every pass over a text, keeps the first of overlapping spans, learns
the values it hid, and replaces them with ``[REDACTED:<kind>]``.

It never fails a prompt. A pass that raises on the whole text is run again piece by piece
(cells, outputs, markdown, digest lines; see :mod:`.pieces`); a piece it still raises on is
withheld: replaced by a placeholder that says so, logged once with the pass that broke."""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from collections.abc import Sequence

from .passes import PASSES, Pass, Sinks
from .pieces import pieces
from .values import MARKER, VALUE_TOKEN, RedactionResult, Span, is_wordy

log = logging.getLogger(__name__)

WITHHELD = "[WITHHELD: this part was not sent; it could not be checked for secrets]"
_logged: set[tuple[str, str]] = set()  # (pass, error type): each is logged once per process


def _log_once(name: str, exc: BaseException) -> None:
    key = (name, type(exc).__name__)
    if key in _logged:
        return
    _logged.add(key)
    log.error(
        "redaction pass %s failed (%s: %s); the part it could not read is withheld",
        name,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )


class _Spans:
    """Accepted, non-overlapping (start, end, kind) spans, first come first served."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.starts: list[int] = []
        self.items: list[tuple[int, int, str]] = []

    def add(self, start: int, end: int, kind: str) -> bool:
        if not 0 <= start < end <= self.length:
            return False
        i = bisect.bisect_left(self.starts, start)
        if i > 0 and self.items[i - 1][1] > start:
            return False
        if i < len(self.items) and self.items[i][0] < end:
            return False
        self.starts.insert(i, start)
        self.items.insert(i, (start, end, kind))
        return True


class _Guarded:
    """Runs passes over one text; a pass that raises is rerun piece by piece, and the pieces
    it still raises on are withheld."""

    def __init__(self, text: str, lower: str) -> None:
        self.text, self.lower = text, lower
        self.sinks: Sinks = []
        self.withheld: list[tuple[int, int]] = []
        self._pieces: list[tuple[int, int]] | None = None

    def run(self, p: Pass) -> list[Span]:
        found: list[Span] = []
        try:
            p.run(self.text, self.lower, found, self.sinks)
            return found
        except Exception as exc:
            _log_once(p.name, exc)
        if self._pieces is None:
            self._pieces = pieces(self.text)
        found = []
        for a, b in self._pieces:
            local: list[Span] = []
            try:
                p.run(self.text[a:b], self.lower[a:b], local, self.sinks)
            except Exception:
                self.withheld.append((a, b))
                continue
            found.extend((s + a, e + a, kind) for s, e, kind in local)
        return found


class Redactor:
    """Replace secrets in prompt text with ``[REDACTED:<kind>]``.

    ``extra_patterns`` are regular expressions (strings) for site-specific secrets; each
    match is replaced as ``[REDACTED:custom]``. If a pattern has a named group ``secret``,
    or else at least one capturing group, only that group (the first) is replaced, so
    ``r"ACME_KEY=(\\w+)"`` keeps ``ACME_KEY=``.

    Redaction never raises: a pass that fails on a piece of the text (a cell, an output, a
    markdown cell, a digest line) withholds that piece (``WITHHELD``, kind ``withheld``).
    """

    KNOWN_MIN_LENGTH = 8
    KNOWN_MAX = 5000
    KNOWN_OTHER_MAX = 64
    DIGEST_CUTS = (20, 40, 80)  # where introspect/digest.py cuts strings it shows

    def __init__(
        self,
        enabled: bool = True,
        extra_patterns: list[str] | None = None,
        passes: Sequence[Pass] = PASSES,
    ):
        self.enabled = enabled
        self.passes = tuple(passes)  # the passes run, in priority order
        # Values already found to be secrets (in this process only, never stored). A value
        # recognised once by its context is also hidden where it appears without one, e.g.
        # echoed in `NameError: name 'c9a5…' is not defined` or printed on its own.
        self._known: dict[str, str] = {}  # token-like values: found by one scan + set lookup
        self._known_word: dict[str, str] = {}  # no spaces, other punctuation: Tiger!506Rv
        self._known_other: dict[str, str] = {}  # values with spaces: str.find
        self.extra: list[re.Pattern[str]] = []
        for p in extra_patterns or []:
            try:
                self.extra.append(re.compile(p))
            except re.error as exc:
                raise ValueError(f"invalid redaction pattern {p!r}: {exc}") from exc

    # -- text ------------------------------------------------------------------------------
    def redact(self, text: str) -> RedactionResult:
        if not self.enabled or not text or not isinstance(text, str):
            return RedactionResult(text, 0, [])
        try:
            return self._redact(text)
        except Exception as exc:  # past the per-pass guard: nothing of this text is sent
            _log_once("redactor", exc)
            return RedactionResult(WITHHELD, 1, ["withheld"])

    def _redact(self, text: str) -> RedactionResult:
        lower = text.lower()
        if len(lower) != len(text):  # a few non-ASCII characters lower to two
            lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        spans = _Spans(len(text))
        guarded = _Guarded(text, lower)
        for p in self.passes:
            for start, end, kind in guarded.run(p):
                spans.add(start, end, kind)
        if self.extra:
            for start, end, kind in guarded.run(Pass("custom patterns", self._extra_spans)):
                spans.add(start, end, kind)
        self._learn(text, spans.items)
        for start, end, kind in guarded.run(Pass("learned values", self._known_spans)):
            spans.add(start, end, kind)
        items = spans.items
        if guarded.withheld:
            items = _withhold(items, guarded.withheld)
        if not items:
            return RedactionResult(text, 0, [])
        out, pos = [], 0
        for start, end, kind in items:
            out.append(text[pos:start])
            out.append(WITHHELD if kind == "withheld" else MARKER.format(kind=kind))
            pos = end
        out.append(text[pos:])
        kinds = sorted({k for _, _, k in items})
        return RedactionResult("".join(out), len(items), kinds)

    def _extra_spans(self, text: str, lower: str, found: list[Span], sinks: Sinks) -> None:
        for pat in self.extra:
            group: int | str = "secret" if "secret" in pat.groupindex else (1 if pat.groups else 0)
            for m in pat.finditer(text):
                if m.start(group) >= 0 and "[REDACTED:" not in m.group(group):
                    found.append((m.start(group), m.end(group), "custom"))

    def _known_spans(self, text: str, lower: str, found: list[Span], sinks: Sinks) -> None:
        """Values hidden before, wherever they appear again."""
        if self._known:
            for m in VALUE_TOKEN.finditer(text):
                kind = self._known.get(m.group())
                if kind is not None:
                    found.append((m.start(), m.end(), kind))
        if self._known_word:
            for m in _WORD_TOKEN.finditer(text):
                kind = self._known_word.get(m.group())
                if kind is not None:
                    found.append((m.start(), m.end(), kind))
        recent = itertools.islice(reversed(self._known_word.items()), self.KNOWN_OTHER_MAX)
        for value, kind in (*self._known_other.items(), *recent):  # inside other text too
            at = text.find(value)
            while at >= 0:
                found.append((at, at + len(value), kind))
                at = text.find(value, at + len(value))

    def _learn(self, text: str, items: list[tuple[int, int, str]]) -> None:
        for start, end, kind in items:
            value = text[start:end]
            if len(value) < self.KNOWN_MIN_LENGTH:
                continue
            if _IDENTIFIER_WORDS.fullmatch(value) and is_wordy(value):
                continue  # a name (cyberark, hashicorp_vault): spreading a wrong guess hurts
            if VALUE_TOKEN.fullmatch(value):
                table = self._known
            else:
                table = self._known_other if _SPACE.search(value) else self._known_word
            # the kernel digest shows long strings cut at 80 characters (items of a dict or
            # tuple at 40 or 20): a cut secret is still a secret
            cuts = [value[:n] for n in self.DIGEST_CUTS if len(value) > n]
            for v in (value, *cuts) if table is self._known else (value,):
                if v in table:
                    continue
                limit = self.KNOWN_OTHER_MAX if table is self._known_other else self.KNOWN_MAX
                if len(table) >= limit:
                    table.pop(next(iter(table)))  # forget the oldest
                table[v] = kind

    # -- LiteLLM messages -----------------------------------------------------------------------
    def redact_messages(self, messages: list[dict]) -> tuple[list[dict], int]:
        """Return a new list of messages with secrets redacted, and the number replaced.

        ``content`` may be a string or a list of parts (``{"type": "text", "text": …}``;
        other parts such as images are copied unchanged). Tool-call arguments are redacted
        too. The input list, its dicts and their parts are not modified.
        """
        out: list[dict] = []
        total = 0
        if self.enabled:  # learn from every part first, so a secret named in one part is
            for text in _message_texts(messages):  # also hidden where another shows it bare
                self.redact(text)
        for msg in messages:
            new = dict(msg)
            out.append(new)
            if not self.enabled:
                continue
            content = msg.get("content")
            if isinstance(content, str):
                r = self.redact(content)
                new["content"], total = r.text, total + r.count
            elif isinstance(content, list):
                parts = []
                for part in content:
                    if isinstance(part, dict):
                        part = dict(part)
                        if isinstance(part.get("text"), str):
                            r = self.redact(part["text"])
                            part["text"], total = r.text, total + r.count
                    elif isinstance(part, str):
                        r = self.redact(part)
                        part, total = r.text, total + r.count
                    parts.append(part)
                new["content"] = parts
            calls = msg.get("tool_calls")
            if isinstance(calls, list):
                new_calls = []
                for call in calls:
                    if isinstance(call, dict) and isinstance(call.get("function"), dict):
                        call = dict(call)
                        fn = dict(call["function"])
                        if isinstance(fn.get("arguments"), str):
                            r = self.redact(fn["arguments"])
                            fn["arguments"], total = r.text, total + r.count
                        call["function"] = fn
                    new_calls.append(call)
                new["tool_calls"] = new_calls
        return out, total


# one or two words as an identifier spells them: cyberark, github_copilot, SecretReader
_IDENTIFIER_WORDS = re.compile(r"[A-Za-z][a-z]*(?:[A-Z][a-z]+)?|[a-z]+[_.\-][a-z]+|[A-Z]+_[A-Z]+")

_SPACE = re.compile(r"\s")
# A learned value with punctuation (a password) as one word of text: between quotes, spaces,
# brackets, commas or "="
_WORD_TOKEN = re.compile(r"[^\s'\"`,;()\[\]{}<>|=]+")


def _message_texts(messages: list[dict]) -> list[str]:
    texts: list[str] = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif isinstance(part, str):
                    texts.append(part)
    return texts


def _withhold(items: list[Span], withheld: list[tuple[int, int]]) -> list[Span]:
    """Spans with each withheld piece in place of whatever was found inside it."""
    merged: list[list[int]] = []
    for a, b in sorted(withheld):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    keep = [(s, e, k) for s, e, k in items if not any(s < b and a < e for a, b in merged)]
    return sorted([*keep, *((a, b, "withheld") for a, b in merged)])
