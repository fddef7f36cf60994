"""Prose, comments and markdown: a secret word, then a value shaped for it ("Dev key (do
not commit): …", "the password for the test db is …"); a generated-looking token in a
``#`` comment."""

from __future__ import annotations

import re

from .names import grade_name, value_ok
from .shapes import password_like, strongly_random
from .values import Span, is_placeholder, looks_like_secret

# -- prose: "Dev key (do not commit): …", "the password for the test db is …" ------------------

_PROSE_FILL = re.compile(r"[ \t]+(?:\([^()\r\n]{0,40}\)|[A-Za-z][\w'’\-]{0,24}|[—–-]{1,2})")
_PROSE_LINK = re.compile(r"[ \t]*(?::|=|->|→|=>|\b(?:is|was|are|be)\b)")
_PROSE_VALUE = re.compile(
    r"(?:[ \t]+[`'\"*]{0,2}|[ \t]*[`'\"]|(?<=\n))(?P<v>[^\s`'\"<>()\[\]{},;]{4,512})"
)
_PROSE_END = re.compile(r"[ \t]*(?:\*\*|`)?[ \t]*\r?\n")


def prose_span(text: str, s: int, e: int, pos: int | None = None) -> Span | None:
    graded = grade_name(text[s:e])
    if graded is None or text[s:e].lower() in ("pass", "pw"):
        return None  # "Pass `?x=1` to filter": a verb in prose
    grade, kind = graded
    pos = e if pos is None else pos
    for step in range(8):
        if step:  # "key X", "PASSWORD 'X'" right after the word; else after a link
            link = _PROSE_LINK.match(text, pos)
            if link is None:
                fill = _PROSE_FILL.match(text, pos)
                if fill is None:
                    nl = _PROSE_END.match(text, pos)  # a label line, the value below it
                    if nl is None:
                        return None
                    pos = nl.end()
                    line_end = text.find("\n", pos)
                    lone = text[pos : line_end if line_end >= 0 else len(text)].strip()
                    if " " in lone:
                        return None
                    return _prose_value(text, s, pos, grade, kind)
                pos = fill.end()
                continue
            pos = link.end()
        found = _prose_value(text, s, pos, grade, kind)
        if found is not None or step:
            return found
    return None


def _prose_value(text: str, s: int, pos: int, grade: str, kind: str) -> Span | None:
    m = _PROSE_VALUE.match(text, pos)
    if m is None:
        return None
    v = m.group("v").rstrip(".,:;!?*")
    if _HASH_WORDS.search(text, s, m.start("v")) or "[REDACTED:" in v or is_placeholder(v):
        return None
    if kind == "password":
        ok = password_like(v) or looks_like_secret(v, 8)
    elif grade == "strong":
        ok = looks_like_secret(v, 12) or password_like(v, 3)
    else:
        ok = looks_like_secret(v, 16)
    return (m.start("v"), m.start("v") + len(v), kind) if ok else None


# comments: a generated-looking token after "#"
_LONG_TOKEN = re.compile(r"(?<![\w+/=\-.~'\"])[A-Za-z0-9+/_\-.~]{20,512}={0,2}(?![\w'\"])")
_HASH_WORDS = re.compile(
    r"\b(?:sha(?:-?\d+)?|md5|hash(?:es|ed)?|checksum|digest|etag|fingerprint|uuid|revision|rev)\b",
    re.I,
)
_COMMIT = re.compile(r"\bcommit\b", re.I)  # a noun before a SHA; a verb in "do not commit"


_COMMENT = re.compile(r"#[^\r\n]{20,}")


def comment_spans(text: str, spans: list[Span]) -> None:
    for c in _COMMENT.finditer(text):
        if c.start() and text[c.start() - 1] not in " \t\n":
            continue  # issue#12, url#anchor
        line_start = text.rfind("\n", 0, c.start()) + 1
        code = text[line_start : c.start()]
        if len(code) > 400 or code.count('"') % 2 or code.count("'") % 2:
            continue  # the "#" is inside a string: "#ff00aa", or after too much code
        # a hash word anywhere before a token vetoes it: found once per comment, not per token
        words = [
            w.end()
            for w in (
                _HASH_WORDS.search(text, c.start(), c.end()),
                _COMMIT.search(text, c.start(), c.end()),
            )
            if w is not None
        ]
        veto_from = min(words, default=c.end() + 1)
        for m in _LONG_TOKEN.finditer(text, c.start(), c.end()):
            if m.start() >= veto_from:
                break
            if strongly_random(m.group()):
                spans.append((m.start(), m.end(), "secret"))


# -- HTML in markdown, read by its text nodes ---------------------------------------------------

_HTML_TAG = re.compile(
    r"</?(?:details|summary|code|pre|kbd|samp|tt|p|li|b|strong|em|i|br|dd|dt|dl|ul"
    r"|blockquote|mark|var|h[1-6])\b[^<>\n]{0,200}>",  # not div/table: DataFrame.to_html
    re.I,
)
_CLUSTER_GAP = 2000


def html_regions(text: str) -> list[tuple[int, int, str]]:
    """Stretches of HTML with their tags blanked out (same length, so offsets hold):
    `<summary>API token</summary><code>…</code>` reads as `API token` then the value."""
    if "</" not in text:
        return []
    out: list[tuple[int, int, str]] = []
    tags = list(_HTML_TAG.finditer(text))
    i = 0
    while i < len(tags):
        j = i
        while j + 1 < len(tags) and tags[j + 1].start() - tags[j].end() < _CLUSTER_GAP:
            j += 1
        a, b = tags[i].start(), tags[j].end()
        end = text.find("\n", b)
        b = len(text) if end < 0 else end
        chars = list(text[a:b])
        for t in tags[i : j + 1]:
            chars[t.start() - a : t.end() - a] = " " * (t.end() - t.start())
        out.append((a, b, "".join(chars)))
        i = j + 1
    return out


_CODE_NODE = re.compile(r"<(code|kbd|pre|samp|tt)\b[^<>\n]{0,200}>(?P<v>[^<>]{4,1024})</\1>", re.I)
_LABEL_WORD = re.compile(r"[A-Za-z][\w\-]*")


def html_code_spans(text: str, masked: str, a: int, found: list[Span]) -> None:
    """A `<code>` (kbd, pre) text node right after a secret-named label in another text node:
    `<summary>API token</summary><code>…</code>`. The element quotes the value."""
    for m in _CODE_NODE.finditer(text, a, a + len(masked)):
        value = m.group("v").strip()
        if not value or " " in value:
            continue
        label = masked[max(0, m.start() - a - 120) : m.start() - a].split()[-4:]
        for word in reversed(label):
            label_word = _LABEL_WORD.match(word)
            graded = grade_name(label_word.group() if label_word else "")
            if graded is not None:
                if value_ok(value, *graded, quoted=True):
                    s = m.start("v") + m.group("v").find(value)
                    found.append((s, s + len(value), graded[1]))
                break
