"""The keyword rule: a secret-named thing (assigned name, keyword argument, dict or YAML
key, digest line, flag) followed by its value, also on the next line, in brackets or as a
row of a key/value table."""

from __future__ import annotations

import re

from .lexer import STR_GROUPS, call_args, tokens
from .names import grade_name, value_ok
from .prose import prose_span
from .python_source import tuple_spans
from .rules import ALNUM_UH
from .shapes import key_like, password_like
from .tables import html_column_spans, table_spans
from .urls import query_span
from .values import (
    CODE_WORDS,
    DOTTED_IDENT,
    NUMBER,
    Span,
    is_placeholder,
    is_wordy,
    looks_like_secret,
    mostly_words,
    word_set,
)

# --------------------------------------------------------------------------------------
# The keyword rule: names containing a secret-ish word, followed by a literal
# --------------------------------------------------------------------------------------

_KW_FIND = re.compile(
    r"pass|pw|secret|token|key|auth|cred|sig|salt|cookie|session|hmac|appid|private"
)
_NAME_CHARS = frozenset(ALNUM_UH | {"."})
_NAME_END = re.compile(r"[\w.\-]*")


def _run(pattern: re.Pattern[str], text: str, pos: int) -> str:
    """What a `*` pattern (it always matches, maybe empty) reads from `pos`."""
    found = pattern.match(text, pos)
    return found.group(0) if found else ""


# Anchored at the start of a name: name, optional closing quote/bracket (dict keys,
# subscripts), optional type annotation, separator, quoted or bare value.
_KW_TAIL = re.compile(
    r"""
    (?P<name>[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)
    (?P<close>\\?["'`]?\]?)
    (?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]{0,40}?(?=[ \t]+=[^=]))?  # annotation: x: str = …
    [ \t]*(?P<sep>:=|===?|!==?|=>|<-|=|:)[ \t]*
    (?:
        (?P<pre>[rRbBuU]{0,2})
        (?:
            "(?P<dq>[^"\r\n]{1,1024})"
          | '(?P<sq>[^'\r\n]{1,1024})'
          | `(?P<bq>[^`\r\n]{1,1024})`
          | \\"(?P<edq>(?:(?!\\").){1,1024})\\"
          | \\'(?P<esq>(?:(?!\\').){1,1024})\\'
        )
      | (?P<uv>[^\s'"`,;(){}\[\]<>\\]{1,512})
    )
    """,
    re.X,
)
_QUOTED_GROUPS = ("dq", "sq", "bq", "edq", "esq")
_FORM_NEXT = re.compile(r"&(?=[A-Za-z_][\w.\-]*=)")
_AFTER_NAME = frozenset("\\\"'`]:=!<")
_ROW_TAIL = re.compile(
    r"(?P<name>[A-Za-z_][\w.\-]*)[ \t]{2,}(?P<v>[^\s'\"]{1,1024})[ \t]*(?:\r?\n|$)"
)
# connection strings: ...;Password=p a s s;...  (value up to ';', a quote or end of line)
_CONN_VALUE = re.compile(r"[^;'\"\r\n]*")
_CONN_NAMES = word_set("password pwd passwd")
_LINE_PREFIX_ENV = ("", "export ", "!export ", "!")


def keyword_spans(text: str, lower: str, sinks: list[tuple[str, str]]) -> list[Span]:
    spans: list[Span] = []
    done = 0
    n = len(text)
    for km in _KW_FIND.finditer(lower):
        p = km.start()
        if p < done:
            continue
        s = p
        while s > 0 and text[s - 1] in _NAME_CHARS:
            s -= 1
        e = p + len(_run(_NAME_END, text, p))
        done = e
        c = text[s]
        if not (c.isalpha() or c == "_"):
            continue  # --flag (flag rule), 3key, .attr
        if s > 0 and text[s - 1] in "?&":
            span = query_span(text, s)
            if span is not None:
                spans.append(span)
                done = max(done, span[1])
            continue
        j = e
        while j < n and text[j] in " \t":
            j += 1
        nxt = text[j : j + 1]
        # a separator: `name = …`, `"name": …`; a quote after a space is prose: PASSWORD 'x'
        sep_follows = nxt in _AFTER_NAME and not (
            (j > e and nxt in "`'\"") or (nxt == "\\" and text[j + 1 : j + 2] in ("\n", "\r"))
        )
        span = None
        if sep_follows or (j - e >= 2 and (s == 0 or text[s - 1] == "\n")):
            span, skip_to = _assignment_span(text, s, sinks)
            done = max(done, skip_to)
        if span is not None:
            spans.append(span)
            done = max(done, span[1])
        elif sep_follows:
            more = _pair_spans(text, s, e) or html_column_spans(text, s, e)
            more = more or _kw_fallback(text, s)
            if not more and nxt in "`'\"" and j == e:  # The `X-API-KEY` header must be …
                prose = prose_span(text, s, e, e + 1)
                more = [prose] if prose is not None else []
            spans.extend(more)
        else:
            column = table_spans(text, s, e)
            if column is not None:
                spans.extend(column)  # done stays: more secret columns on the header line
                continue
            prose = prose_span(text, s, e)
            if prose is not None:
                spans.append(prose)
                done = max(done, prose[1])
    return spans


# -- more places a secret-named thing is followed by its value --------------------------------

_PAIR_SEP = re.compile(r"[ \t]*,\s*")


def _literal_run(text: str, pos: int, limit: int = 600) -> list[tuple[int, int]]:
    """Consecutive string literals from `pos` ("a" "b" across lines, comments between)."""
    out: list[tuple[int, int]] = []
    for m in tokens(text, pos, min(len(text), pos + limit)):
        kind = m.lastgroup
        if kind in STR_GROUPS and "f" not in (m.group("pre") or "").lower():
            out.append(m.span(kind))
        else:
            break
    return out


def _pair_spans(text: str, s: int, e: int) -> list[Span]:
    """A secret-named string followed by a value in the same call:
    os.getenv("PGPASSWORD", "…"), conf.set("fs.s3a.secret.key", "…")."""
    q = text[s - 1 : s] if s else ""
    if q not in ("'", '"') or text[e : e + 1] != q:
        return []
    m = _PAIR_SEP.match(text, e + 1)
    if m is None:
        return []
    graded = grade_name(text[s:e].replace(".", "_"))
    lits = _literal_run(text, m.end())
    if graded is None or not lits:
        return []
    value = "".join(text[a:b] for a, b in lits)
    grade, kind = graded
    if kind == "password":
        ok = password_like(value)
    else:  # a weak name ("…Key…Request") in a list of names: only a generated value
        ok = key_like(value) and (grade == "strong" or looks_like_secret(value, 16))
    return [(a, b, kind) for a, b in lits] if ok else []


_KW_HEAD = re.compile(
    r"(?P<name>[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)[\"'`]?\]?[ \t]*(?P<sep>=(?!=)|:(?!:))"
    r"(?P<rest>[ \t]*(?:#[^\r\n]*)?(?:\r?\n|[(\[]))?"
)


def _kw_fallback(text: str, s: int) -> list[Span]:
    """The value on the next line or inside brackets: `aws_secret_access_key=\\n "…"`,
    `api_key=("…" "…")`, `creds = ("svc", "…")`."""
    m = _KW_HEAD.match(text, s)
    if m is None or m.group("rest") is None:
        return []
    if m.group("sep") == ":" and text[m.end() - 1 : m.end()] not in ("(", "["):
        return []  # `class SessionConfig:` then a docstring is a block, not a value
    graded = grade_name(m.group("name"))
    if graded is None:
        return []
    grade, kind = graded
    pos = m.end()
    if text[pos - 1 : pos] in ("(", "["):
        items = call_args(text, pos - 1)
        values = [a.literal(text) for a in items]
        if len(items) == 1 and values[0] is not None:
            lits = [(a, b) for a, b, _ in items[0].lits]
        elif len(items) >= 2 and grade == "strong" and all(v is not None for v in values):
            out: list[Span] = []
            tuple_spans(text, items, out)
            return out
        else:
            return []
    else:
        lits = _literal_run(text, pos)
    value = "".join(text[a:b] for a, b in lits)
    if not lits or not value_ok(value, grade, kind, quoted=True):
        return []
    return [(a, b, kind) for a, b in lits]


def _row_span(text: str, s: int) -> tuple[int, int, str] | None:
    """'password    hunter2' on a line of its own: a pandas Series or key/value table."""
    if s and text[s - 1] != "\n":
        return None
    m = _ROW_TAIL.match(text, s)
    if m is None:
        return None
    graded = grade_name(m.group("name"))
    value = m.group("v")
    if graded is None or graded[0] != "strong" or not value_ok(value, *graded):
        return None
    if (value.isalpha() and value.islower()) or (DOTTED_IDENT.fullmatch(value) and "." in value):
        return None  # "password    required", "token    self.token"
    return m.start("v"), m.end("v"), graded[1]


def _assignment_span(
    text: str, s: int, sinks: list[tuple[str, str]]
) -> tuple[tuple[int, int, str] | None, int]:
    """(span or None, position to resume the keyword search from)."""
    m = _KW_TAIL.match(text, s)
    if m is None:
        return _row_span(text, s), s
    span = _assignment_value(text, s, m, sinks)
    # a rejected bare value is one run without spaces: nothing inside it is a new name
    return span, (m.end() if m.group("uv") is not None else s)


def _assignment_value(
    text: str, s: int, m: re.Match[str], sinks: list[tuple[str, str]]
) -> tuple[int, int, str] | None:
    name = m.group("name")
    graded = grade_name(name)
    if graded is None:
        return None
    grade, kind = graded
    sep = m.group("sep")
    for g in _QUOTED_GROUPS:
        if m.group(g) is not None:
            group, value = g, m.group(g)
            break
    else:
        group, value = "uv", m.group("uv")
    vs, ve = m.span(group)
    nxt = text[m.end() : m.end() + 1]
    if group == "uv" and (len(value) >= 512 or (sep == ":" and not text[vs - 1].isspace())):
        return None  # too long for a bare secret; "name:value" (URLs, ARNs, slices, user:pw)

    # connection strings: Server=x;Password=p w d;  (values may hold spaces)
    if (
        group == "uv"
        and sep == "="
        and name.lower() in _CONN_NAMES
        and (text[s - 1 : s] == ";" or text[s - 2 : s] == "; " or _conn_value_ends(text, vs))
    ):
        raw = _run(_CONN_VALUE, text, vs).rstrip()
        if (
            is_placeholder(raw)
            or raw in CODE_WORDS
            or "(" in raw
            or "[" in raw
            or ("." in raw and DOTTED_IDENT.fullmatch(raw))
        ):
            return None
        return vs, vs + len(raw), "password"

    if group == "uv":
        value = _FORM_NEXT.split(value, 1)[0]  # user=x&password=y&grant_type=…
        value = value.rstrip(".*:")  # prose punctuation: "password: abc12**."
        ve = vs + len(value)
        if not value or nxt in ("(", "["):
            return None  # a call or a subscript: getpass(), os.environ["X"]
        if NUMBER.fullmatch(value) and (
            kind != "password" or len(value) < 4 or not value.isdigit()
        ):
            return None
        if (
            DOTTED_IDENT.fullmatch(value)
            and not _env_line(text, m, s, name)
            and _variable_ref(value, text, grade, sep)
        ):
            if grade == "strong" and "." not in value:
                sinks.append((value, kind))  # password=pw: is pw bound to a literal?
            return None  # a bare identifier is a variable
        if sep == ":":
            if m.group("uv").endswith(":"):
                return None  # prose: "password: see below:"
            rest = text[ve : text.find("\n", ve) if "\n" in text[ve : ve + 200] else ve + 200]
            if len(re.findall(r"[A-Za-z]{2,}", rest)) >= 2 and not looks_like_secret(value, 8):
                return None  # docstring / prose: "client_secret: OAuth2 client secret"
            if grade == "strong" and value.isalpha() and is_wordy(value):
                return None  # "password: required"
    else:
        if nxt and (nxt.isalnum() or nxt in "\"'"):
            return None  # the closing quote was really an opening one
        if "r" in m.group("pre").lower() and (grade == "weak" or _REGEX_LIKE.search(value)):
            return None  # raw strings hold regexes and Windows paths
        if (
            value[:1].isspace()
            or value[:1] in ",);"
            or (" " in value and re.search(r"[,()=+|]", value))
        ):
            return None  # code or prose between two unrelated quotes
    if "[REDACTED:" in value or not value_ok(value, grade, kind, quoted=group != "uv"):
        return None
    return vs, ve, kind


_REGEX_LIKE = re.compile(r"\\[dwsbDWSB.]|\[[^\]]*\]|\(\?|^\^|\$$|[A-Za-z]:\\")


def _variable_ref(value: str, text: str, grade: str, sep: str) -> bool:
    """Is a bare identifier after a secret-like name code (a variable), not a literal?"""
    if "." in value:
        return True  # attribute access: self.http_pwd, res1.factor
    if not _variable_like(value):
        return False  # random-looking: ZSLRsBZfxxPwwCEY, a8f3k2…
    if grade == "weak" or not any(c.isdigit() for c in value):
        return True  # pw, token_value
    if sep == ":":
        return False  # YAML: "password: hunter2"
    # password = hunter2: a variable only if it is used elsewhere or reads like snake_case
    return text.count(value) >= 2 or bool(re.fullmatch(r"[a-z][a-z0-9]*_[a-z0-9_]+", value))


def _variable_like(value: str) -> bool:
    """A bare identifier that reads like a variable: tok, pw1, lp2bs_zpk_signature."""
    if value in CODE_WORDS:
        return True
    if not any(c.isdigit() for c in value):
        return is_wordy(value) or bool(re.fullmatch(r"[a-z_]+|[A-Z_]+", value))
    if is_wordy(value):
        return True
    if sum(c.isdigit() for c in value) <= 3 and is_wordy(re.sub(r"\d+", "", value)):
        return True  # PositionalIndexer2D, lp2bs_signature
    segments = [seg for seg in re.split(r"[_.]+", value) if seg]
    if len(segments) >= 2 and re.fullmatch(r"[a-z0-9_.]+", value):
        return any(len(seg) >= 3 and is_wordy(seg) for seg in segments)  # lp2bs_signature
    return len(segments) >= 2 and mostly_words(segments)


def _conn_value_ends(text: str, vs: int) -> bool:
    raw = _run(_CONN_VALUE, text, vs)
    return text[vs + len(raw) : vs + len(raw) + 1] == ";"


def _env_line(text: str, m: re.Match[str], s: int, name: str) -> bool:
    """NAME=value alone on a line (a .env file, a shell): there bare words are literals."""
    if not name.isupper() or m.group("sep") != "=" or text[m.end("name") : m.start("uv")] != "=":
        return False
    line_start = text.rfind("\n", 0, s) + 1
    if text[line_start:s] not in _LINE_PREFIX_ENV:
        return False
    if text[line_start:s] == "!":
        return True  # !PGPASSWORD=s3cret psql …
    line_end = text.find("\n", m.end())
    return not text[m.end() : line_end if line_end >= 0 else len(text)].strip()
